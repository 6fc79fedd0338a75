package jwkshost

import (
	"net/url"
	"testing"

	"github.com/dcrconform/dcrconform/internal/pki"
)

// A long-lived bank caches key sets by URL. A later run's probes may land on a port an earlier
// run's host listened on (the OS reuses freed ports), so no probe URL may ever equal a key-set
// URL of another host: the paths carry a token of their own host. This reproduces a false
// alarm seen against `serve` at high parallelism: JWS-11/closed-port "registered" because its
// URL was the previous run's live JWKS URL, still in the bank's cache.
func TestProbeURLsNeverNameAnotherHostsKeySet(t *testing.T) {
	keys, err := pki.Generate()
	if err != nil {
		t.Fatal(err)
	}
	h1, err := Start("127.0.0.1:0", []byte(`{"keys":[]}`), keys.Server.TLSCertificate())
	if err != nil {
		t.Fatal(err)
	}
	live := h1.URL()
	h1.Close()
	h2, err := Start("127.0.0.1:0", []byte(`{"keys":[]}`), keys.Server.TLSCertificate())
	if err != nil {
		t.Fatal(err)
	}
	defer h2.Close()
	livePath := mustPath(t, live)
	for name, probe := range map[string]string{"closed": h2.ClosedURL(), "blackhole": h2.BlackholeURL(), "live": h2.URL()} {
		if mustPath(t, probe) == livePath {
			t.Errorf("%s URL %s has the path of another host's key set %s: on a reused port it would hit the bank's cache", name, probe, live)
		}
	}
}

func mustPath(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Path
}
