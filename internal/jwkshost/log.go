package jwkshost

import (
	"io"
	"log"
)

// quietLog drops net/http's server log: TLS handshake noise from probes that abort on purpose
// (the reference bank timing out) would otherwise reach the user's console.
func quietLog() *log.Logger { return log.New(io.Discard, "", 0) }
