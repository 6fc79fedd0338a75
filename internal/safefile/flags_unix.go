//go:build unix

package safefile

import "syscall"

// openFlags holds O_NONBLOCK so that a path swapped for a FIFO after the check cannot block the
// open; regular files ignore it.
const openFlags = syscall.O_NONBLOCK
