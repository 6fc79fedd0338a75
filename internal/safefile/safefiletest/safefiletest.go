//go:build unix

// Package safefiletest makes the hostile inputs that the tool's file readers must refuse
// promptly, for the tests of every package that reads a file a user or a bank hands it.
package safefiletest

import (
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// HangBound is how long Bounded waits before it calls a read hung. It is generous on purpose:
// it only tells a hang (a blocked FIFO, an endless device) from a refusal, and is no timing
// assertion.
const HangBound = 30 * time.Second

// SparseSize is the apparent size of the sparse file Inputs makes: 8 GiB that cost no disk.
const SparseSize = 8 << 30

// Inputs makes in dir one path of each kind a hostile input can be and returns them by a short
// name: links to /dev/zero and /dev/urandom (an endless file), a FIFO with no writer (a read
// that never returns), a sparse 8 GiB file, a directory and a Unix socket. A kind the system
// cannot make here is left out, with the reason logged.
func Inputs(t testing.TB, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, dev := range []string{"/dev/zero", "/dev/urandom"} {
		if _, err := os.Stat(dev); err != nil {
			t.Logf("no %s here: %v", dev, err)
			continue
		}
		p := filepath.Join(dir, "link-to-"+filepath.Base(dev))
		if err := os.Symlink(dev, p); err != nil {
			t.Fatal(err)
		}
		out["symlink to "+dev] = p
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Logf("no FIFO here: %v", err)
	} else {
		out["FIFO"] = fifo
	}
	out["sparse 8 GiB file"] = Sparse(t, filepath.Join(dir, "sparse-8g"), SparseSize)
	sub := filepath.Join(dir, "a-directory")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	out["directory"] = sub
	// A socket file outlives its listener when unlinking on close is off. The name is short:
	// socket paths are limited to about 100 bytes.
	if sock, err := os.MkdirTemp("", "sock"); err == nil {
		t.Cleanup(func() { os.RemoveAll(sock) })
		p := filepath.Join(sock, "s")
		if l, err := net.ListenUnix("unix", &net.UnixAddr{Name: p, Net: "unix"}); err != nil {
			t.Logf("no Unix socket here: %v", err)
		} else {
			l.SetUnlinkOnClose(false)
			l.Close()
			out["socket"] = p
		}
	}
	return out
}

// Sparse makes a file of the given apparent size that takes no disk (os.Truncate leaves a hole).
func Sparse(t testing.TB, path string, size int64) string {
	t.Helper()
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, size); err != nil {
		t.Fatal(err)
	}
	return path
}

// Bounded runs fn and returns how long it took, failing the test if fn has not returned within
// HangBound (fn is then left blocked; the test fails anyway). fn runs on another goroutine, so
// it may report with t.Error but must not call t.Fatal.
func Bounded(t testing.TB, what string, fn func()) time.Duration {
	t.Helper()
	start := time.Now()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	select {
	case <-done:
		return time.Since(start)
	case <-time.After(HangBound):
		t.Fatalf("%s: no answer within %s: a hang", what, HangBound)
		return 0
	}
}
