// Package uuid makes random UUIDv4 strings. It is a leaf package so that both sides of a run, the
// harness that builds requests (jti) and the reference bank that answers them (client IDs,
// error Ids), can use it without the bank depending on anything of the harness.
package uuid

import (
	"crypto/rand"
	"fmt"
)

// NewV4 returns a random UUIDv4 in its 36-character text form, the form OBIE requires for jti.
func NewV4() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
