//go:build unix

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// lockFile is held by a run for as long as it writes to its reports directory.
const lockFile = ".dcrconform.lock"

// lockReports takes the reports directory for this run, so two runs never mix their reports:
// a second run at the same time exits 2 naming the first. The lock is the kernel's (flock), so
// a run that dies releases it.
func lockReports(dir string) (release func(), err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder := make([]byte, 32)
		n, _ := f.ReadAt(holder, 0)
		f.Close()
		who := "another dcrconform run"
		if pid, perr := strconv.Atoi(strings.TrimSpace(string(holder[:n]))); perr == nil {
			who += fmt.Sprintf(" (pid %d)", pid)
		}
		return nil, fmt.Errorf("%s is writing to %s; wait for it to end, or give this run its own --reports directory", who, dir)
	}
	f.Truncate(0)
	f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
