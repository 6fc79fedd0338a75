//go:build !unix

package safefile

// openFlags adds nothing where there is no non-blocking open: the stat before the open and the
// check of the opened file still refuse what is not a regular file.
const openFlags = 0
