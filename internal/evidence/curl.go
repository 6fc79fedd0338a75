package evidence

import (
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/dcrconform/dcrconform/internal/client"
	"github.com/dcrconform/dcrconform/internal/request"
)

// KeyPaths are the files of a run's trust anchors and client credentials, by path only. Evidence
// names these paths so a certifier can repeat a call; it never reads or copies the files. Its
// fields are those of harness.Files, so a run's files convert to it directly.
type KeyPaths struct {
	CACert, TransportCert, TransportKey, UntrustedCert, UntrustedKey string
}

// LoopbackNote is the comment Curl adds when the call went to a loopback server of the run.
const LoopbackNote = "# note: the target was a loopback server of this run and no longer exists"

// curlSkipHeaders are set by curl itself from the command line and the body file.
var curlSkipHeaders = map[string]bool{"Content-Length": true, "Host": true}

// Curl renders a curl command that repeats the exchange's request: method, URL, the CA bundle,
// the client certificate the call presented (none, the transport pair or the untrusted pair),
// every recorded header and the body read from bodyFile. Every argument is shell-quoted. Comment
// lines above the command say what cannot be repeated as recorded: a loopback target of the run,
// a header whose value was redacted, a certificate path that was not given.
func Curl(ex *client.Exchange, keys KeyPaths, bodyFile string) string {
	if ex == nil {
		return ""
	}
	r := ex.Request
	var notes []string
	if isLoopbackURL(r.URL) {
		notes = append(notes, LoopbackNote)
	}
	method := r.Method
	if method == "" {
		method = http.MethodPost
	}
	args := []string{"curl", "-sS", "-X", shellQuote(method)}
	if strings.HasPrefix(r.URL, "-") {
		args = append(args, "--url")
	}
	args = append(args, shellQuote(r.URL))
	if keys.CACert != "" {
		args = append(args, "--cacert", shellQuote(keys.CACert))
	} else {
		notes = append(notes, "# note: no CA bundle path was given; curl verifies the server with its default roots")
	}
	var cert, key, which string
	var tlsArgs []string
	switch r.Cert {
	case string(request.CertNone):
	case string(request.CertUntrusted):
		cert, key, which = keys.UntrustedCert, keys.UntrustedKey, "untrusted"
	case string(request.CertForged):
		notes = append(notes, "# note: the call presented a self-signed certificate made during the run with the transport certificate's subject; its key was not kept, so this command presents no client certificate")
	case string(request.CertLegacyTLS): // the transport certificate over TLS 1.0 or 1.1 only
		cert, key, which = keys.TransportCert, keys.TransportKey, "transport"
		tlsArgs = []string{"--tlsv1.0", "--tls-max", "1.1"}
	case string(request.CertTransport), "":
		cert, key, which = keys.TransportCert, keys.TransportKey, "transport"
	default:
		cert, key, which = keys.TransportCert, keys.TransportKey, "transport"
		notes = append(notes, "# note: the call presented a client certificate of kind "+commentSafe(r.Cert)+"; this command presents the transport certificate instead")
	}
	args = append(args, tlsArgs...)
	if which != "" {
		if cert != "" && key != "" {
			args = append(args, "--cert", shellQuote(cert), "--key", shellQuote(key))
		} else {
			notes = append(notes, "# note: the call presented the "+which+" client certificate, whose paths were not given; add --cert and --key")
		}
	}
	names := make([]string, 0, len(r.Header))
	for name := range r.Header {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if curlSkipHeaders[http.CanonicalHeaderKey(name)] {
			continue
		}
		for _, v := range r.Header[name] {
			if strings.Contains(v, client.Redacted) {
				notes = append(notes, "# note: the value of header "+commentSafe(name)+" was redacted when recorded; supply it")
			}
			args = append(args, "-H", shellQuote(name+": "+v))
		}
	}
	if bodyFile != "" && (r.Body != "" || method != http.MethodGet) {
		args = append(args, "--data-binary", shellQuote("@"+bodyFile))
	}
	var b strings.Builder
	for _, n := range dedupe(notes) {
		b.WriteString(n)
		b.WriteByte('\n')
	}
	b.WriteString(strings.Join(args, " "))
	b.WriteByte('\n')
	return b.String()
}

// shellQuote quotes s for a POSIX shell: bare when it is made only of characters no shell treats
// specially, in single quotes otherwise (a single quote inside becomes '\”).
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool { return !shellSafe(r) }) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func shellSafe(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	}
	return strings.ContainsRune("-_./:@%+,=", r)
}

// commentSafe keeps untrusted text on one comment line: control characters would end the comment
// and start a command.
func commentSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == 0x2028 || r == 0x2029 || r == 0x85 {
			return '?'
		}
		return r
	}, s)
}

func dedupe(list []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range list {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// isLoopbackURL reports whether the URL's host is this machine: localhost (or a name under
// .localhost) or a loopback IP address.
func isLoopbackURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	if i := strings.IndexByte(host, '%'); i >= 0 { // IPv6 zone
		host = host[:i]
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
