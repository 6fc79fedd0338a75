package client

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// Redacted replaces a secret value in recorded exchanges.
const Redacted = "[REDACTED]"

// Secrets are found by shape, wherever a bank puts them, not by a list of the places one bank
// used. What counts as a secret (documented in the README):
//
//   - header fields: Authorization, Proxy-Authorization, Cookie, Set-Cookie, any field whose
//     name contains "secret" or "password" or ends in "-token", "-api-key", "-apikey" or "-key";
//     the credentials of WWW-Authenticate and Proxy-Authenticate (every auth-param but realm,
//     scope, error, error_description and error_uri, and a token68);
//   - members of a JSON body at any depth and of any type whose name is a secret name (below),
//     also in a body with a byte-order mark, nested too deep to parse, or cut short;
//   - fields of a form-encoded body, and query and fragment parameters of any URL in a header
//     value (Location, Link, Content-Location, ...), named like secrets.
//
// Secret names: client_secret, password, any name containing "secret" or "password", any
// name that is "token" or ends in "_token" (access_token, refresh_token, id_token,
// registration_access_token), "code" and "authorization_code" (in forms and URLs only, where
// they are authorization codes), api keys, private_key, and the private members of a JWK (d,
// p, q, dp, dq, qi). Never redacted, because they are the evidence: the software statement, the
// request JWT, client_id, public keys, and names that merely mention a token
// (token_endpoint_auth_method, id_token_signed_response_alg).

// jwkPrivate are the private members of an RSA or EC JWK.
var jwkPrivate = map[string]bool{"d": true, "p": true, "q": true, "dp": true, "dq": true, "qi": true}

// secretName reports whether a JSON member name names a credential.
func secretName(name string) bool {
	n := strings.ToLower(name)
	switch {
	case jwkPrivate[n]:
		return true
	case strings.Contains(n, "secret"), strings.Contains(n, "password"), strings.Contains(n, "passwd"):
		return true
	case n == "token", strings.HasSuffix(n, "_token"), strings.HasSuffix(n, "-token"):
		return true
	case n == "authorization_code", n == "private_key", n == "api_key", n == "apikey", strings.HasSuffix(n, "_api_key"):
		return true
	}
	return false
}

// paramSecret reports whether a form or URL parameter names a credential: the JSON names, plus
// "code" (an authorization code in a redirect).
func paramSecret(name string) bool {
	return secretName(name) || strings.EqualFold(name, "code")
}

// secretHeader reports whether a header field carries a credential as its whole value.
func secretHeader(name string) bool {
	n := strings.ToLower(name)
	switch n {
	case "authorization", "proxy-authorization", "cookie", "set-cookie":
		return true
	}
	return strings.Contains(n, "secret") || strings.Contains(n, "password") || strings.HasSuffix(n, "-token") ||
		strings.HasSuffix(n, "-api-key") || strings.HasSuffix(n, "-apikey") || strings.HasSuffix(n, "-key")
}

// RedactHeader returns a copy of h with credentials masked: whole values of credential fields
// (the scheme of an Authorization value is kept), credentials inside challenges, and secret
// parameters of URLs in any value.
func RedactHeader(h http.Header) http.Header {
	out := h.Clone()
	if out == nil {
		return http.Header{}
	}
	for name, vs := range out {
		for i, v := range vs {
			switch lower := strings.ToLower(name); {
			case secretHeader(name):
				vs[i] = maskAuth(v)
			case lower == "www-authenticate" || lower == "proxy-authenticate":
				vs[i] = redactChallenge(v)
			default:
				vs[i] = redactURLs(v)
			}
		}
	}
	return out
}

// maskAuth keeps the scheme of an Authorization value ("Bearer") and drops the credential.
func maskAuth(v string) string {
	if i := strings.IndexByte(v, ' '); i > 0 && i < 32 {
		return v[:i] + " " + Redacted
	}
	return Redacted
}

// authParam is one name=value pair of a challenge; the value may be quoted.
var authParam = regexp.MustCompile(`([A-Za-z0-9_.!#$%&'*+^|~-]+)\s*=\s*("(?:[^"\\]|\\.)*"?|[^\s,]*)`)

// challengeKeep are the auth-params of a challenge that describe it rather than carry a
// credential (RFC 6750 3, RFC 9110 11.6.1).
var challengeKeep = map[string]bool{"realm": true, "scope": true, "error": true, "error_description": true, "error_uri": true,
	"charset": true, "algorithm": true, "qop": true, "stale": true}

// redactChallenge masks the credentials a WWW-Authenticate value may carry: every auth-param
// but the descriptive ones, and a token68 after the scheme.
func redactChallenge(v string) string {
	scheme, rest, ok := strings.Cut(strings.TrimSpace(v), " ")
	if !ok {
		return v
	}
	rest = strings.TrimSpace(rest)
	if rest != "" && !strings.Contains(strings.TrimRight(rest, "="), "=") {
		return scheme + " " + Redacted // a token68 ("Bearer abc.def"), which may end in "=" padding
	}
	return scheme + " " + authParam.ReplaceAllStringFunc(rest, func(m string) string {
		sub := authParam.FindStringSubmatch(m)
		if challengeKeep[strings.ToLower(sub[1])] {
			return m
		}
		return sub[1] + `="` + Redacted + `"`
	})
}

// urlLike finds URLs (absolute or a path with a query or fragment) in a header value.
var urlLike = regexp.MustCompile(`[^\s<>",;]*[?#][^\s<>",;]*`)

// redactURLs masks secret query and fragment parameters of the URLs in a header value.
func redactURLs(v string) string {
	if !strings.ContainsAny(v, "?#") {
		return v
	}
	return urlLike.ReplaceAllStringFunc(v, redactURL)
}

func redactURL(raw string) string {
	base, frag, hasFrag := strings.Cut(raw, "#")
	path, query, hasQuery := strings.Cut(base, "?")
	out := path
	if hasQuery {
		out += "?" + redactForm(query)
	}
	if hasFrag {
		out += "#" + redactForm(frag)
	}
	return out
}

// redactForm masks secret fields of an application/x-www-form-urlencoded string, keeping the
// rest byte for byte.
func redactForm(s string) string {
	parts := strings.Split(s, "&")
	for i, p := range parts {
		name, _, ok := strings.Cut(p, "=")
		if !ok {
			continue
		}
		if un, err := url.QueryUnescape(name); err == nil {
			name = un
		}
		if paramSecret(name) {
			parts[i] = p[:strings.IndexByte(p, '=')+1] + url.QueryEscape(Redacted)
		}
	}
	return strings.Join(parts, "&")
}

// bom is the UTF-8 byte-order mark some servers put before a JSON body.
var bom = []byte("\xef\xbb\xbf")

// RedactBody masks credentials in a response body: secret members anywhere in JSON (parsed
// when it parses, scanned token by token when it does not: a body cut at the recording cap,
// nested past the parser's depth limit, or carrying a byte-order mark), and secret fields of a
// form-encoded body. Anything else is kept as is: it is evidence of what the target sent.
func RedactBody(body []byte) []byte {
	trimmed := bytes.TrimSpace(bytes.TrimPrefix(bytes.TrimSpace(body), bom))
	if len(trimmed) == 0 {
		return body
	}
	if trimmed[0] == '{' || trimmed[0] == '[' {
		var v any
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		dec.UseNumber()
		if err := dec.Decode(&v); err == nil && !dec.More() {
			if !redactValue(v) {
				return body
			}
			if out, err := json.Marshal(v); err == nil {
				return out
			}
		}
		return redactJSONTokens(body)
	}
	if looksLikeForm(trimmed) {
		return []byte(redactForm(string(body)))
	}
	return body
}

// looksLikeForm reports a body of name=value pairs joined by "&", with no spaces or braces.
func looksLikeForm(b []byte) bool {
	return bytes.IndexByte(b, '=') > 0 && !bytes.ContainsAny(b, " \t\r\n{}<>")
}

func redactValue(v any) bool {
	changed := false
	switch t := v.(type) {
	case map[string]any:
		for k, val := range t {
			if secretName(k) {
				t[k] = Redacted
				changed = true
				continue
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

// redactJSONTokens masks the value of every secret member in JSON text that does not parse. It
// walks the text once, tracking strings: after a member name that names a secret and its colon,
// the value (a string, a number or literal, or a whole object or array, up to where the text
// ends) becomes "[REDACTED]". The rest is kept byte for byte.
func redactJSONTokens(b []byte) []byte {
	var out bytes.Buffer
	out.Grow(len(b))
	i := 0
	for i < len(b) {
		if b[i] != '"' {
			out.WriteByte(b[i])
			i++
			continue
		}
		end := stringEnd(b, i)
		name := b[i:end]
		out.Write(name)
		i = end
		j := i
		for j < len(b) && isSpace(b[j]) {
			j++
		}
		if j >= len(b) || b[j] != ':' {
			continue
		}
		var unq string
		if json.Unmarshal(name, &unq) != nil || !secretName(unq) {
			continue
		}
		j++
		for j < len(b) && isSpace(b[j]) {
			j++
		}
		out.Write(b[i:j])
		out.WriteString(`"` + Redacted + `"`)
		i = valueEnd(b, j)
	}
	return out.Bytes()
}

// stringEnd returns the index just past the JSON string starting at b[i] (or len(b) when it is
// cut short).
func stringEnd(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(b)
}

// valueEnd returns the index just past the JSON value starting at b[i]: a string, a balanced
// object or array, or a bare literal.
func valueEnd(b []byte, i int) int {
	if i >= len(b) {
		return i
	}
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				j = stringEnd(b, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return len(b)
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && !isSpace(b[j]) {
		j++
	}
	return j
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
