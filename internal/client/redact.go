package client

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
)

// Redacted replaces a secret value in recorded exchanges.
const Redacted = "[REDACTED]"

// secretHeaders are never recorded with their values.
var secretHeaders = []string{"Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie"}

// secretFields are JSON members whose values are credentials (RFC 7591 client_secret, RFC 7592
// registration_access_token, OAuth tokens and codes).
var secretFields = map[string]bool{
	"client_secret": true, "registration_access_token": true, "access_token": true,
	"refresh_token": true, "id_token": true, "authorization_code": true,
	"private_key": true, "d": true, "p": true, "q": true, "dp": true, "dq": true, "qi": true,
}

// RedactHeader returns a copy of h with credential headers masked.
func RedactHeader(h http.Header) http.Header {
	out := h.Clone()
	if out == nil {
		return http.Header{}
	}
	for _, name := range secretHeaders {
		if vs := out.Values(name); len(vs) > 0 {
			masked := make([]string, len(vs))
			for i, v := range vs {
				masked[i] = maskAuth(v)
			}
			out[http.CanonicalHeaderKey(name)] = masked
		}
	}
	return out
}

// maskAuth keeps the scheme of an Authorization value ("Bearer") and drops the credential.
func maskAuth(v string) string {
	if i := strings.IndexByte(v, ' '); i > 0 {
		return v[:i] + " " + Redacted
	}
	return Redacted
}

// RedactBody masks secret members anywhere in a JSON body. A body that is not JSON is kept as is:
// it cannot hold a named secret member, and it is evidence of what the target sent.
func RedactBody(body []byte) []byte {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || (trimmed[0] != '{' && trimmed[0] != '[') {
		return body
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return body
	}
	if !redactValue(v) {
		return body
	}
	out, err := json.Marshal(v)
	if err != nil {
		return body
	}
	return out
}

func redactValue(v any) bool {
	changed := false
	switch t := v.(type) {
	case map[string]any:
		for k, val := range t {
			if secretFields[strings.ToLower(k)] {
				if _, isObj := val.(map[string]any); !isObj {
					t[k] = Redacted
					changed = true
					continue
				}
			}
			if redactValue(val) {
				changed = true
			}
		}
	case []any:
		for _, val := range t {
			if redactValue(val) {
				changed = true
			}
		}
	}
	return changed
}
