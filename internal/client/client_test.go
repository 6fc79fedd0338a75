package client

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/dcrconform/dcrconform/internal/pki"
	"github.com/dcrconform/dcrconform/internal/request"
)

var testKeys *pki.Set

func keys(t *testing.T) *pki.Set {
	t.Helper()
	if testKeys == nil {
		k, err := pki.Generate()
		if err != nil {
			t.Fatal(err)
		}
		testKeys = k
	}
	return testKeys
}

func newClient(t *testing.T, roots *x509.CertPool, timeout time.Duration) *Client {
	k := keys(t)
	return New(Options{Roots: roots, Transport: k.Transport.TLSCertificate(), Timeout: timeout})
}

func post(url string, cert request.Cert) *request.Prepared {
	return &request.Prepared{Method: "POST", URL: url, Header: http.Header{"Content-Type": {"application/jwt"}}, Body: []byte("x.y.z"), Cert: cert}
}

// tlsServer starts a loopback TLS server with the test PKI's server certificate.
func tlsServer(t *testing.T, cfg *tls.Config, h http.Handler) *httptest.Server {
	t.Helper()
	k := keys(t)
	srv := httptest.NewUnstartedServer(h)
	cfg.Certificates = []tls.Certificate{k.Server.TLSCertificate()}
	srv.TLS = cfg
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// rawTLS accepts TLS connections (TLS 1.2, no client certificate asked) and hands each to do.
func rawTLS(t *testing.T, do func(c *tls.Conn)) string {
	t.Helper()
	k := keys(t)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{k.Server.TLSCertificate()}, MaxVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				tc := c.(*tls.Conn)
				if tc.Handshake() != nil {
					return
				}
				c.SetReadDeadline(time.Now().Add(5 * time.Second))
				buf := make([]byte, 4096)
				c.Read(buf)
				do(tc)
			}()
		}
	}()
	return "https://" + ln.Addr().String() + "/register"
}

// Every way a call can get no response is classified by kind, so the judgement never reads
// error text.
func TestFailureKinds(t *testing.T) {
	k := keys(t)
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) })
	mtls := tlsServer(t, &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: k.CAPool()}, ok)
	mtls12 := tlsServer(t, &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: k.CAPool(), MaxVersion: tls.VersionTLS12}, ok)
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	closedURL := "https://" + closed.Addr().String() + "/register"
	closed.Close()
	silent, _ := net.Listen("tcp", "127.0.0.1:0")
	t.Cleanup(func() { silent.Close() })
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	garbage := rawTLS(t, func(c *tls.Conn) { c.Write([]byte("\x00\x00\x12\x04\x00\x00\x00\x00\x00")) })
	reset := rawTLS(t, func(c *tls.Conn) { c.NetConn().(*net.TCPConn).SetLinger(0) })

	for name, tc := range map[string]struct {
		c    *Client
		p    *request.Prepared
		ctx  func() context.Context
		want Failure
	}{
		"no certificate, TLS 1.3":  {newClient(t, k.CAPool(), 5*time.Second), post(mtls.URL, request.CertNone), nil, TLSAlert},
		"no certificate, TLS 1.2":  {newClient(t, k.CAPool(), 5*time.Second), post(mtls12.URL, request.CertNone), nil, TLSAlert},
		"server not trusted by us": {newClient(t, x509.NewCertPool(), 5*time.Second), post(mtls.URL, request.CertTransport), nil, ServerCertUntrusted},
		"connection refused":       {newClient(t, k.CAPool(), 5*time.Second), post(closedURL, request.CertTransport), nil, ConnRefused},
		"silent":                   {newClient(t, k.CAPool(), 300*time.Millisecond), post("https://"+silent.Addr().String()+"/register", request.CertTransport), nil, Timeout},
		"garbage after handshake":  {newClient(t, k.CAPool(), 5*time.Second), post(garbage, request.CertNone), nil, Protocol},
		"reset after handshake":    {newClient(t, k.CAPool(), 5*time.Second), post(reset, request.CertNone), nil, Reset},
		"no such certificate":      {newClient(t, k.CAPool(), 5*time.Second), post(mtls.URL, request.CertUntrusted), nil, NotSent},
		"cancelled by the run": {newClient(t, k.CAPool(), 5*time.Second), post("https://"+silent.Addr().String()+"/register", request.CertTransport), func() context.Context {
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			t.Cleanup(cancel)
			return ctx
		}, Canceled},
	} {
		ctx := context.Background()
		if tc.ctx != nil {
			ctx = tc.ctx()
		}
		ex := tc.c.Do(ctx, tc.p)
		if ex.Response != nil || ex.Failure != tc.want {
			t.Errorf("%s: failure %q (%s), want %q", name, ex.Failure, ex.Error, tc.want)
		}
	}
	// The TLS 1.3 refusal arrives after our side of the handshake: the server asked for a
	// certificate, which is recorded.
	ex := newClient(t, k.CAPool(), 5*time.Second).Do(context.Background(), post(mtls.URL, request.CertNone))
	if !ex.CertRequested {
		t.Error("the server's certificate request was not recorded")
	}
}

func TestRecordingCaps(t *testing.T) {
	k := keys(t)
	var handler http.HandlerFunc
	srv := tlsServer(t, &tls.Config{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler(w, r) }))
	c := newClient(t, k.CAPool(), 10*time.Second)
	do := func(h http.HandlerFunc) *Exchange {
		handler = h
		return c.Do(context.Background(), post(srv.URL+"/register", request.CertNone))
	}

	ex := do(func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i < 200; i++ {
			w.Header().Add(fmt.Sprintf("X-F-%03d", i), strings.Repeat("v", 3000))
		}
		w.WriteHeader(400)
	})
	n := 0
	for k, vs := range ex.Response.Header {
		for _, v := range vs {
			n += len(k) + len(v)
			if len(v) > MaxHeaderValue+64 {
				t.Errorf("header value of %d bytes kept", len(v))
			}
		}
	}
	if len(ex.Response.Header) > MaxHeaderFields || n > MaxHeaderBytes+MaxHeaderValue+64 || ex.Response.HeaderNote == "" {
		t.Errorf("headers: %d fields, %d bytes, note %q", len(ex.Response.Header), n, ex.Response.HeaderNote)
	}

	ex = do(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Big", strings.Repeat("h", 2<<20))
		w.WriteHeader(200)
	})
	if ex.Failure != TooLarge {
		t.Errorf("2 MiB of headers: failure %q (%s)", ex.Failure, ex.Error)
	}

	var bomb bytes.Buffer
	zw := gzip.NewWriter(&bomb)
	zw.Write(make([]byte, 16<<20))
	zw.Close()
	ex = do(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		w.WriteHeader(400)
		w.Write(bomb.Bytes())
	})
	r := ex.Response
	if r.ContentEncoding != "gzip" || !r.Decoded || len(r.Body) > MaxBody || r.BodyBytes != bomb.Len() || !strings.Contains(r.BodyNote, "inflates past") {
		t.Errorf("gzip bomb: encoding %q decoded %v, body %d bytes, as received %d, note %q", r.ContentEncoding, r.Decoded, len(r.Body), r.BodyBytes, r.BodyNote)
	}

	bin := bytes.Repeat([]byte{0xff, 0x00, 0x01}, 100<<10)
	ex = do(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(400); w.Write(bin) })
	r = ex.Response
	if r.Text() != "" || r.BodyBase64 == "" || len(r.BodyBase64) > MaxBinaryExcerpt*4/3+4 || !r.Truncated {
		t.Errorf("binary: text %d bytes, base64 %d bytes, truncated %v", len(r.Text()), len(r.BodyBase64), r.Truncated)
	}

	ex = do(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000")
		w.WriteHeader(400)
		io.WriteString(w, `{"error":"inv`)
		hj, _ := w.(http.Hijacker)
		conn, _, _ := hj.Hijack()
		conn.Close()
	})
	if ex.Response == nil || ex.Response.Status != 400 || ex.Error == "" {
		t.Errorf("read error after the status: response %v, error %q", ex.Response != nil, ex.Error)
	}
}
