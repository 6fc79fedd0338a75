package refbank

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/dcrconform/dcrconform/internal/profile"
	"github.com/dcrconform/dcrconform/internal/uuid"
)

// OBIE error codes the bank uses in OBErrorResponse1 bodies.
const (
	obFieldInvalid       = "UK.OBIE.Field.Invalid"
	obFieldMissing       = "UK.OBIE.Field.Missing"
	obFieldExpected      = "UK.OBIE.Field.Expected"
	obHeaderInvalid      = "UK.OBIE.Header.Invalid"
	obSignatureInvalid   = "UK.OBIE.Signature.Invalid"
	obSignatureMalformed = "UK.OBIE.Signature.Malformed"
	obSignatureMissing   = "UK.OBIE.Signature.Missing"
	obUnsupported        = "UK.OBIE.Unsupported"
	obUnauthorized       = "UK.OBIE.Unauthorized"
)

// rejection is why a request was refused, in both error vocabularies: the RFC 7591 code the OBIE
// profiles answer with, and the OBIE ErrorCode Revolut's OBErrorResponse1 carries.
type rejection struct {
	status int
	rfc    string // RFC 7591 error code
	ob     string // OBIE ErrorCode
	msg    string
}

func (r *rejection) Error() string { return r.msg }

func reject(rfc, ob, format string, args ...any) *rejection {
	return &rejection{status: http.StatusBadRequest, rfc: rfc, ob: ob, msg: fmt.Sprintf(format, args...)}
}

func badMetadata(ob, format string, args ...any) *rejection {
	return reject(profile.ErrInvalidClientMetadata, ob, format, args...)
}

func badRedirect(format string, args ...any) *rejection {
	return reject(profile.ErrInvalidRedirectURI, obFieldInvalid, format, args...)
}

func badSSA(ob, format string, args ...any) *rejection {
	return reject(profile.ErrInvalidSoftwareStatement, ob, format, args...)
}

// crashed is the 500 of a bank whose code failed on input it was never meant to see.
func crashed() *rejection {
	return &rejection{status: http.StatusInternalServerError, rfc: "server_error", ob: "UK.OBIE.UnexpectedError", msg: "internal error"}
}

var statusText = map[int]string{
	400: "400 Bad Request", 401: "401 Unauthorized", 403: "403 Forbidden", 405: "405 Method Not Allowed",
	413: "413 Payload Too Large", 415: "415 Unsupported Media Type", 500: "500 Internal Server Error",
}

// writeError writes the rejection in the profile's error format, or in the other one when the
// wrong-error-format fault is on.
func (s *Server) writeError(w http.ResponseWriter, r *rejection) {
	format := s.cfg.Profile.ErrorFormat
	if s.fault(FaultWrongErrorFormat) {
		if format == profile.RFC7591 {
			format = profile.OBErrorResponse1
		} else {
			format = profile.RFC7591
		}
	}
	var body any
	if format == profile.RFC7591 {
		body = map[string]any{"error": r.rfc, "error_description": truncate(r.msg, 500)}
	} else {
		code := statusText[r.status]
		if code == "" {
			code = fmt.Sprintf("%d", r.status)
		}
		body = map[string]any{
			"Code":    code,
			"Id":      uuid.NewV4(),
			"Message": "The registration request was rejected",
			"Errors":  []any{map[string]any{"ErrorCode": r.ob, "Message": truncate(r.msg, 500)}},
		}
	}
	writeJSON(w, r.status, body)
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	b, err := json.Marshal(body)
	if err != nil {
		http.Error(w, "encode response", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
