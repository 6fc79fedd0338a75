package client

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/dcrconform/dcrconform/internal/request"
)

// The transport-certificate client keeps its connection between calls, and an exchange on the
// reused connection records what that connection's handshake saw; the probe clients make a
// fresh handshake for every call, since their cases test the handshake itself.
func TestTransportConnectionsAreReusedAndRecorded(t *testing.T) {
	k := keys(t)
	var mu sync.Mutex
	conns := 0
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusCreated) }))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			mu.Lock()
			conns++
			mu.Unlock()
		}
	}
	srv.TLS = &tls.Config{ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: k.CAPool(), Certificates: []tls.Certificate{k.Server.TLSCertificate()}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	c := newClient(t, k.CAPool(), 10*time.Second)
	newConns := func() int {
		mu.Lock()
		defer mu.Unlock()
		n := conns
		conns = 0
		return n
	}
	for i := 0; i < 3; i++ {
		ex := c.Do(context.Background(), post(srv.URL, request.CertTransport))
		if ex.Response == nil || ex.Response.Status != http.StatusCreated {
			t.Fatalf("call %d: %+v", i, ex)
		}
		if ex.TLSVersion != "TLS 1.3" || !ex.CertRequested {
			t.Errorf("call %d: version %q, certificate requested %v", i, ex.TLSVersion, ex.CertRequested)
		}
	}
	if n := newConns(); n != 1 {
		t.Errorf("three transport calls opened %d connections, want 1", n)
	}
	for i := 0; i < 2; i++ {
		if ex := c.Do(context.Background(), post(srv.URL, request.CertNone)); ex.Response == nil || !ex.CertRequested {
			t.Fatalf("probe call %d: %+v", i, ex)
		}
	}
	if n := newConns(); n != 2 {
		t.Errorf("two probe calls opened %d connections, want 2 (a fresh handshake each)", n)
	}
}
