// Package safefile reads the files a user points the harness at (a target config and the keys,
// certificates and SSA it names) and the files of an evidence bundle someone else wrote, without
// letting any of them crash, hang or exhaust the process. A path is checked before a byte is
// read: only a regular file of at most the caller's limit is opened, so /dev/zero, a FIFO, a
// socket, a directory or a sparse 8 GiB file is refused with one line. A file is opened
// non-blocking, so a path swapped for a FIFO after the check cannot block the open, and read
// through a limit one byte past the cap, so a file that grows while it is read is refused too.
//
// Every cap lives here, in one place, so the limits the tool enforces are documented together.
package safefile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// The caps. Each is far above what a genuine file of its kind holds and far below what would
// hurt the process: the largest is read whole into memory, the bundle caps only bound how long
// hashing may take.
const (
	// MaxConfig bounds a target config: a page of YAML, a few KiB.
	MaxConfig = 1 << 20 // 1 MiB
	// MaxPEM bounds a PEM file: a certificate, a private key or a CA bundle. The public
	// Mozilla CA bundle is about 0.25 MiB.
	MaxPEM = 4 << 20 // 4 MiB
	// MaxSSA bounds a supplied software statement, a JWT of a few KiB.
	MaxSSA = 1 << 20 // 1 MiB
	// MaxJWK bounds a single public JWK (a 16384-bit RSA key is about 3 KiB) or a PEM PUBLIC
	// KEY given to verify.
	MaxJWK = 64 << 10 // 64 KiB
	// MaxManifest bounds an evidence bundle's manifest.json; a full run's is a few hundred KiB.
	MaxManifest = 16 << 20 // 16 MiB
	// MaxManifestJWS bounds manifest.jws, the compact JWS whose payload is the manifest: its
	// base64url form is 4/3 of MaxManifest, plus header and signature.
	MaxManifestJWS = 32 << 20 // 32 MiB
	// MaxBundleFile bounds each file of an evidence bundle that verify hashes; a full run's
	// largest, report.json, is a few MiB. Files are hashed as a stream, so this bounds time (a
	// second or two per file), not memory.
	MaxBundleFile = 256 << 20 // 256 MiB
	// MaxBundleTotal bounds the bytes verify hashes across a whole bundle; a full run's bundle
	// is under 10 MiB.
	MaxBundleTotal = 1 << 30 // 1 GiB
	// MaxBundleEntries bounds the directory entries verify walks in a bundle.
	MaxBundleEntries = 100_000
)

// Errors a refused file is reported with, wrapped in an *fs.PathError naming the file; test with
// errors.Is.
var (
	// ErrNotRegular reports a directory, a device, a FIFO, a socket or another non-regular file.
	ErrNotRegular = errors.New("not a regular file")
	// ErrTooLarge reports a file over the caller's limit, or one that grew past it while read.
	ErrTooLarge = errors.New("over the size limit")
	// ErrSymlink reports a symbolic link where links are not followed (inside an evidence bundle).
	ErrSymlink = errors.New("a symbolic link, which is not followed here")
	// ErrChanged reports a path that was replaced between the check and the open.
	ErrChanged = errors.New("replaced while being opened")
)

// kindError says what a refused file is, and unwraps to the sentinel the caller tests for.
type kindError struct {
	msg      string
	sentinel error
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.sentinel }

// ReadFile reads the regular file at path, following symbolic links (a Kubernetes secret is
// mounted as a chain of links), when it holds at most max bytes. Anything else is an error
// naming the path and the reason, before the file is read.
func ReadFile(path string, max int64) ([]byte, error) {
	f, _, err := open(path, max)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readAll(f, path, max)
}

// Check reports whether path, following symbolic links, is a regular file of at most max bytes,
// without opening it: for validating a config before anything named in it is read.
func Check(path string, max int64) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	return check(path, st, max)
}

// OpenInRoot opens name inside root, which never resolves outside root's directory whatever
// links the tree holds, refusing a name that is itself a symbolic link or is not a regular file
// of at most max bytes.
func OpenInRoot(root *os.Root, name string, max int64) (*os.File, fs.FileInfo, error) {
	st, err := root.Lstat(name)
	if err != nil {
		return nil, nil, err
	}
	if err := check(name, st, max); err != nil {
		return nil, nil, err
	}
	// os.Root follows a link that stays inside it, so a name swapped for a link after the
	// Lstat would be followed: the identity check below catches that.
	f, err := root.OpenFile(name, os.O_RDONLY|openFlags, 0)
	if err != nil {
		return nil, nil, err
	}
	return recheck(f, name, st, max)
}

// ReadFileInRoot reads name inside root with the checks of OpenInRoot.
func ReadFileInRoot(root *os.Root, name string, max int64) ([]byte, error) {
	f, _, err := OpenInRoot(root, name, max)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readAll(f, name, max)
}

// OpenDirInRoot opens the directory name inside root for listing. It opens without blocking, so
// a name swapped for a FIFO after the caller saw a directory there is refused, not waited on.
func OpenDirInRoot(root *os.Root, name string) (*os.File, error) {
	f, err := root.OpenFile(name, os.O_RDONLY|openFlags, 0)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err == nil && !st.IsDir() {
		err = &fs.PathError{Op: "open", Path: name, Err: errors.New(Kind(st.Mode()) + ", not a directory")}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

func open(path string, max int64) (*os.File, fs.FileInfo, error) {
	// Stat before open: opening a FIFO for reading blocks until a writer comes, and opening a
	// device can have effects of its own.
	st, err := os.Stat(path)
	if err != nil {
		return nil, nil, err
	}
	if err := check(path, st, max); err != nil {
		return nil, nil, err
	}
	f, err := os.OpenFile(path, os.O_RDONLY|openFlags, 0)
	if err != nil {
		return nil, nil, err
	}
	return recheck(f, path, st, max)
}

// recheck checks the opened file itself, since the path may have been replaced after the stat.
func recheck(f *os.File, path string, before fs.FileInfo, max int64) (*os.File, fs.FileInfo, error) {
	st, err := f.Stat()
	if err == nil {
		err = check(path, st, max)
	}
	if err == nil && !os.SameFile(before, st) {
		err = &fs.PathError{Op: "open", Path: path, Err: ErrChanged}
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, st, nil
}

// check refuses anything but a regular file of at most max bytes.
func check(path string, st fs.FileInfo, max int64) error {
	mode := st.Mode()
	if !mode.IsRegular() {
		sentinel := ErrNotRegular
		if mode&fs.ModeSymlink != 0 {
			sentinel = ErrSymlink
		}
		return &fs.PathError{Op: "open", Path: path, Err: &kindError{Kind(mode) + ", not a regular file", sentinel}}
	}
	if st.Size() > max {
		return &fs.PathError{Op: "open", Path: path, Err: &kindError{
			fmt.Sprintf("%s, over the %s limit", Size(st.Size()), Size(max)), ErrTooLarge}}
	}
	return nil
}

// readAll reads at most max bytes, one more to tell a file that grew past the limit.
func readAll(r io.Reader, path string, max int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: path, Err: err}
	}
	if int64(len(data)) > max {
		return nil, &fs.PathError{Op: "read", Path: path, Err: &kindError{
			fmt.Sprintf("grew past the %s limit while being read", Size(max)), ErrTooLarge}}
	}
	return data, nil
}

// Kind names a file mode for a message: "a directory", "a FIFO (named pipe)", and so on.
func Kind(mode fs.FileMode) string {
	switch {
	case mode.IsRegular():
		return "a regular file"
	case mode.IsDir():
		return "a directory"
	case mode&fs.ModeSymlink != 0:
		return "a symbolic link"
	case mode&fs.ModeNamedPipe != 0:
		return "a FIFO (named pipe)"
	case mode&fs.ModeSocket != 0:
		return "a socket"
	case mode&fs.ModeCharDevice != 0:
		return "a character device"
	case mode&fs.ModeDevice != 0:
		return "a block device"
	default:
		return "an irregular file"
	}
}

// Size writes a byte count for a message: "512 bytes", "16 MiB", "8.0 GiB (8589934592 bytes)".
func Size(n int64) string {
	const (
		kib = 1 << 10
		mib = 1 << 20
		gib = 1 << 30
	)
	switch {
	case n < kib:
		return fmt.Sprintf("%d bytes", n)
	case n%gib == 0:
		return fmt.Sprintf("%d GiB", n/gib)
	case n%mib == 0:
		return fmt.Sprintf("%d MiB", n/mib)
	case n%kib == 0:
		return fmt.Sprintf("%d KiB", n/kib)
	case n >= gib:
		return fmt.Sprintf("%.1f GiB (%d bytes)", float64(n)/gib, n)
	case n >= mib:
		return fmt.Sprintf("%.1f MiB (%d bytes)", float64(n)/mib, n)
	default:
		return fmt.Sprintf("%.1f KiB (%d bytes)", float64(n)/kib, n)
	}
}

// Reason is the part of a safefile (or os) error after the path, for a caller whose message
// already names the file.
func Reason(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
