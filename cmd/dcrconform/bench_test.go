package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dcrconform/dcrconform/internal/catalogue"
	"github.com/dcrconform/dcrconform/internal/jose"
	"github.com/dcrconform/dcrconform/internal/pki"
	"github.com/dcrconform/dcrconform/internal/profile"
	"github.com/dcrconform/dcrconform/internal/request"
)

// The speed benchmarks of `make bench`. They run the built binary as a child process, as users
// do, and read the child's resource usage: wall time, whole-process CPU (user + system) and
// peak resident memory. CPU is compared with a floor measured here, on the same machine: what
// one case cannot do without (one PS256 signature, one verification, one mutual-TLS handshake,
// both ends of it). Nothing is asserted about time; the numbers are reported.

// benchLatency is the slow bank's delay per answer.
const benchLatency = 300 * time.Millisecond

// BenchmarkSpeed reports, side by side: the floor; the full revolut catalogue against the
// embedded bank (JWKS timeout 300 ms, as the target is stated); and against a bank that delays
// every answer by 300 ms (serve --latency), at the default parallelism and at 32, with the
// critical path of the catalogue for that latency.
func BenchmarkSpeed(b *testing.B) {
	floor := measureFloor(b)
	items := len(catalogue.Default().Items(mustProfile(b, "revolut")))
	b.Run("floor", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			measureFloor(b)
		}
		b.ReportMetric(floor*1000, "floor-ms/item")
		b.ReportMetric(0, "ns/op")
	})
	b.Run("embedded-bank", func(b *testing.B) {
		benchRuns(b, items, floor, "run", "--jwks-timeout", "300ms")
	})
	bankDir := startSlowBank(b)
	for _, par := range []string{"8", "32"} {
		b.Run("bank-300ms/parallel-"+par, func(b *testing.B) {
			benchRuns(b, items, floor, "run", "--config", filepath.Join(bankDir, "target.yaml"), "--parallel", par)
			path, reqs := criticalPath(b)
			b.ReportMetric(path.Seconds(), "critical-path-s")
			b.Logf("critical path at %s a call: %s (the longest chain of dependent calls: %d, after the preflight's control registration; JWS-11/blackhole also waits out the bank's 2s JWKS timeout)",
				benchLatency, path, reqs)
		})
	}
}

// benchRuns runs the CLI b.N times with args (after one unmeasured run that makes the work
// directory's keys) and reports the means and the peak.
func benchRuns(b *testing.B, items int, floor float64, args ...string) {
	work := b.TempDir()
	args = append(args, "--quiet", "--reports", filepath.Join(work, "reports"), "--work-dir", filepath.Join(work, "keys"))
	child(b, work, args...)
	var wall, cpu time.Duration
	var peak int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w, c, rss := child(b, work, args...)
		wall, cpu = wall+w, cpu+c
		peak = max(peak, rss)
	}
	n := time.Duration(b.N)
	perItem := (cpu / n).Seconds() / float64(items)
	b.ReportMetric((wall / n).Seconds(), "wall-s/run")
	b.ReportMetric(perItem*1000, "cpu-ms/item")
	b.ReportMetric(floor*1000, "floor-ms/item")
	b.ReportMetric(perItem/floor, "ratio")
	b.ReportMetric(float64(peak)/(1<<20), "peak-MB")
	b.ReportMetric(0, "ns/op")
}

// child runs the binary once and returns its wall time, CPU time and peak resident set.
func child(b *testing.B, dir string, args ...string) (wall, cpu time.Duration, peak int64) {
	b.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	wall = time.Since(start)
	if err != nil {
		b.Fatalf("dcrconform %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return wall, cpu, ru.Maxrss << 10 // Linux reports kilobytes
}

// startSlowBank starts `dcrconform serve --latency 300ms` and returns its directory (with
// target.yaml); the bank stops when the benchmark ends.
func startSlowBank(b *testing.B) string {
	b.Helper()
	dir := b.TempDir()
	cmd := exec.Command(binary, "serve", "--latency", benchLatency.String(), "--dir", filepath.Join(dir, "bank"))
	cmd.Dir = dir
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	})
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if path, ok := strings.CutPrefix(sc.Text(), "target config: "); ok {
				ready <- filepath.Dir(path)
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	select {
	case d := <-ready:
		if !filepath.IsAbs(d) {
			d = filepath.Join(dir, d)
		}
		return d
	case <-time.After(time.Minute):
		b.Fatal("the slow bank did not start")
	}
	return ""
}

// criticalPath is the longest chain of calls that must follow one another in a run of the
// revolut catalogue, times the bank's latency: the preflight's control registration, then the
// longest path through the cases' After and Chain order, each case counting the calls it makes
// one after another (replays, lifecycle steps).
func criticalPath(b *testing.B) (time.Duration, int) {
	items := catalogue.Default().Items(mustProfile(b, "revolut"))
	calls := func(it catalogue.Item) int {
		switch {
		case len(it.Case.Calls) > 0:
			return len(it.Case.Calls)
		case it.Case.Sends > 1:
			return it.Case.Sends
		}
		return 1
	}
	end := make([]int, len(items))
	lastOfCase, lastOfChain := map[string]int{}, map[string]int{}
	longest := 0
	for i, it := range items {
		start := 0
		if it.Case.After != "" {
			start = lastOfCase[it.Case.After]
		}
		if ch := it.Case.Chain; ch != "" {
			start = max(start, lastOfChain[ch])
		}
		end[i] = start + calls(it)
		lastOfCase[it.Case.ID] = max(lastOfCase[it.Case.ID], end[i])
		if ch := it.Case.Chain; ch != "" {
			lastOfChain[ch] = end[i]
		}
		longest = max(longest, end[i])
	}
	n := 1 + longest
	blackhole := 2*benchLatency + 2*time.Second
	return max(time.Duration(n)*benchLatency, blackhole), n
}

var (
	floorOnce sync.Once
	floorSec  float64
)

// measureFloor measures, in this process, the CPU of what one case cannot avoid: a PS256
// signature of the happy-path request, its verification, and one mutual-TLS handshake over
// loopback with the run's kind of keys (an RSA-2048 client certificate, an ECDSA server), both
// ends counted, as both ends of a run against the embedded bank are in one process.
func measureFloor(b *testing.B) float64 {
	floorOnce.Do(func() {
		keys, err := pki.Generate()
		if err != nil {
			b.Fatal(err)
		}
		p := mustProfile(b, "revolut")
		id := &request.Identity{Profile: p, Endpoint: "https://127.0.0.1/register", Signing: keys.Signing,
			SSAMode: request.SSASelfSigned, JWKSURL: "https://127.0.0.1/jwks", Aud: "revolut", Iss: "tpp",
			SoftwareID: "tpp", ClientName: "tpp", RedirectURIs: []string{"https://tpp.example/cb"}, DN: pki.SubjectDN(keys.Transport.Cert)}
		ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{keys.Server.TLSCertificate()},
			ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: keys.CAPool(), MinVersion: tls.VersionTLS12})
		if err != nil {
			b.Fatal(err)
		}
		defer ln.Close()
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				c.(*tls.Conn).HandshakeContext(context.Background())
				c.Close()
			}
		}()
		clientCfg := &tls.Config{RootCAs: keys.CAPool(), Certificates: []tls.Certificate{keys.Transport.TLSCertificate()}, ServerName: "127.0.0.1"}
		one := func() {
			pr, err := request.NewDraft(id).Build()
			if err != nil {
				b.Fatal(err)
			}
			if _, _, err := jose.VerifyWith(pr.Token, &keys.Signing.Key.PublicKey, []string{"PS256"}); err != nil {
				b.Fatal(err)
			}
			c, err := tls.Dial("tcp", ln.Addr().String(), clientCfg)
			if err != nil {
				b.Fatal(err)
			}
			// Read until the server closes: its side of the handshake is then done too.
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			io.Copy(io.Discard, c)
			c.Close()
		}
		for range 20 {
			one() // warm up
		}
		const n = 200
		before := selfCPU()
		for range n {
			one()
		}
		floorSec = (selfCPU() - before).Seconds() / n
	})
	return floorSec
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func mustProfile(b *testing.B, name string) profile.Profile {
	p, err := profile.Get(name)
	if err != nil {
		b.Fatal(err)
	}
	return p
}
