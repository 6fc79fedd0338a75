package refbank_test

import "testing"

// BenchmarkRegister measures one full happy-path registration over mTLS: building and signing the
// request, the bank's JWKS fetch and verification, and the response. It asserts the outcome only.
func BenchmarkRegister(b *testing.B) {
	for _, name := range []string{"revolut", "obie-3.2"} {
		b.Run(name, func(b *testing.B) {
			e := newEnv(b, name)
			b.ReportAllocs()
			for b.Loop() {
				if _, r := e.register(b, nil); r.err != nil || r.status != e.p.SuccessStatus {
					b.Fatalf("registration failed: %v", r)
				}
			}
		})
	}
}
