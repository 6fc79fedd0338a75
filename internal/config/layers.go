package config

import (
	"fmt"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// EnvPrefix starts every variable that overrides a config field: DCRCONFORM_ followed by the
// field's YAML path in capitals with "." as "_" (target.registration_endpoint is
// DCRCONFORM_TARGET_REGISTRATION_ENDPOINT). A list field takes its items comma-separated.
const EnvPrefix = "DCRCONFORM_"

// Field is one leaf field of the config file: its YAML path, its variable, and its Go kind.
type Field struct {
	Path string
	Env  string
	Kind string // "string", "bool" or "list"
	idx  []int
}

// Fields lists every leaf field of the config file in declaration order: the loader's own list,
// which docs/CONFIG.md must document in full (a test checks it).
func Fields() []Field {
	var out []Field
	walkFields(reflect.TypeOf(File{}), "", nil, &out)
	return out
}

func walkFields(t reflect.Type, prefix string, idx []int, out *[]Field) {
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		name := strings.Split(sf.Tag.Get("yaml"), ",")[0]
		if name == "" || name == "-" {
			continue
		}
		path := name
		if prefix != "" {
			path = prefix + "." + name
		}
		at := append(append([]int{}, idx...), i)
		ft := sf.Type
		if ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Struct {
			ft = ft.Elem()
		}
		switch {
		case ft.Kind() == reflect.Struct:
			walkFields(ft, path, at, out)
		case ft.Kind() == reflect.Slice:
			*out = append(*out, Field{Path: path, Env: envName(path), Kind: "list", idx: at})
		case ft.Kind() == reflect.Bool || (ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Bool):
			*out = append(*out, Field{Path: path, Env: envName(path), Kind: "bool", idx: at})
		default:
			*out = append(*out, Field{Path: path, Env: envName(path), Kind: "string", idx: at})
		}
	}
}

func envName(path string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(path, ".", "_"))
}

// applyEnv sets every field whose variable is set, after the file and before the flags: the
// documented order is file, then environment, then flags. lookup is os.LookupEnv in use.
func applyEnv(f *File, lookup func(string) (string, bool)) []string {
	var problems []string
	root := reflect.ValueOf(f).Elem()
	for _, fd := range Fields() {
		v, ok := lookup(fd.Env)
		if !ok {
			continue
		}
		target := fieldByIndex(root, fd.idx)
		switch fd.Kind {
		case "list":
			var items []string
			for _, it := range strings.Split(v, ",") {
				if it = strings.TrimSpace(it); it != "" {
					items = append(items, it)
				}
			}
			target.Set(reflect.ValueOf(items))
		case "bool":
			b, err := strconv.ParseBool(strings.TrimSpace(v))
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s: %q is not true or false", fd.Env, v))
				continue
			}
			if target.Kind() == reflect.Pointer {
				target.Set(reflect.ValueOf(&b))
			} else {
				target.SetBool(b)
			}
		default:
			target.SetString(v)
		}
	}
	return problems
}

// fieldByIndex walks to a field, allocating the pointer structs on the way (jwks.host).
func fieldByIndex(v reflect.Value, idx []int) reflect.Value {
	for i, x := range idx {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v
}

// varRef is a ${NAME} reference in a scalar value.
var varRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// substitute replaces ${NAME} in every scalar value of the document with the variable's value;
// a reference to an unset variable is a problem named by its field. Keys are never substituted,
// and a value is substituted once (a variable's value is not searched for references again).
func substitute(n *yaml.Node, path string, lookup func(string) (string, bool)) []string {
	var problems []string
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			problems = append(problems, substitute(c, path, lookup)...)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			problems = append(problems, substitute(n.Content[i+1], join(path, n.Content[i].Value), lookup)...)
		}
	case yaml.ScalarNode:
		n.Value = varRef.ReplaceAllStringFunc(n.Value, func(m string) string {
			name := varRef.FindStringSubmatch(m)[1]
			v, ok := lookup(name)
			if !ok {
				problems = append(problems, fmt.Sprintf("%s: variable %s is not set", path, name))
				return m
			}
			if strings.Contains(v, "\n") {
				problems = append(problems, fmt.Sprintf("%s: variable %s holds several lines; PEM content goes in a file field as env:%s, never into YAML", path, name, name))
				return m
			}
			return v
		})
	}
	return problems
}

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// unknownFields names every key of the document that is not a config field, by its full path,
// with the nearest field as a suggestion: a typo must not read as a struct dump.
func unknownFields(n *yaml.Node) []string {
	known := map[string]bool{}
	parents := map[string]bool{}
	for _, f := range Fields() {
		known[f.Path] = true
		parts := strings.Split(f.Path, ".")
		for i := 1; i < len(parts); i++ {
			parents[strings.Join(parts[:i], ".")] = true
		}
	}
	var problems []string
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				p := join(path, n.Content[i].Value)
				switch {
				case parents[p]:
					walk(n.Content[i+1], p)
				case known[p]:
				default:
					msg := fmt.Sprintf("%s (line %d) is not a config field", p, n.Content[i].Line)
					if near := nearest(p, known, parents); near != "" {
						msg += " (did you mean " + near + "?)"
					}
					problems = append(problems, msg)
				}
			}
		}
	}
	walk(n, "")
	return problems
}

// nearest is the known path closest to p by edit distance, when it is close enough to be a typo.
func nearest(p string, sets ...map[string]bool) string {
	var all []string
	for _, s := range sets {
		for k := range s {
			all = append(all, k)
		}
	}
	sort.Strings(all)
	best, bestD := "", len(p)/3+2
	for _, k := range all {
		if d := editDistance(p, k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// PEMFromEnv turns a file field's value into a path: "env:NAME" (in the file or a variable)
// names a variable holding the PEM (or JWK) content itself, and a value that is the content
// ("-----BEGIN ...", as a CI secret variable holds it) is taken as is. The content is written to
// a private file (0600) in dir, which the caller removes when the run ends. Anything else is a
// path and is returned unchanged.
func PEMFromEnv(field, value, dir string, lookup func(string) (string, bool)) (string, string, error) {
	content := ""
	switch {
	case strings.HasPrefix(value, "env:"):
		name := strings.TrimPrefix(value, "env:")
		v, ok := lookup(name)
		if !ok || strings.TrimSpace(v) == "" {
			return "", "", fmt.Errorf("%s: variable %s (named by env:%s) is not set", field, name, name)
		}
		content = v
	case strings.HasPrefix(strings.TrimSpace(value), "-----BEGIN"):
		content = value
	default:
		return value, "", nil
	}
	if dir == "" {
		d, err := os.MkdirTemp("", "dcrconform-secrets-")
		if err != nil {
			return "", "", err
		}
		dir = d
	}
	path := dir + string(os.PathSeparator) + strings.NewReplacer(".", "-", "/", "-").Replace(field) + ".pem"
	if err := os.WriteFile(path, []byte(strings.TrimSpace(content)+"\n"), 0o600); err != nil {
		return "", dir, err
	}
	return path, dir, nil
}

// Effective lists the configuration a run uses, one "field: value" line each, after every layer
// (file, ${NAME}, DCRCONFORM_* variables, flags). It holds no secret: key material is named by its
// file, and a file written from a variable is shown as such, never by its content.
func (c *Config) Effective() []string {
	file := func(p string) string {
		switch {
		case p == "":
			return "(none)"
		case c.SecretDir != "" && strings.HasPrefix(p, c.SecretDir):
			return "(from a variable)"
		}
		return p
	}
	jwks := c.JWKSURL
	if c.JWKSHost {
		jwks = "served by the harness on " + c.JWKSListen
	}
	onOff := func(b bool) string {
		if b {
			return "offered"
		}
		return "not offered"
	}
	return []string{
		"profile: " + c.Profile.Name,
		"target.registration_endpoint: " + c.RegistrationEndpoint,
		"target.ca_bundle: " + file(c.CABundle),
		"transport.cert: " + file(c.TransportCert),
		"transport.key: " + file(c.TransportKey),
		"transport.untrusted_cert: " + file(c.UntrustedCert),
		"signing.key: " + file(c.SigningKey),
		"signing.kid: " + c.SigningKid,
		"ssa.mode: " + c.SSAMode,
		"jwks: " + jwks,
		"claims.aud: " + c.Aud + ", claims.iss: " + c.Iss,
		"claims.redirect_uris: " + strings.Join(c.RedirectURIs, ", "),
		"timeouts.request: " + c.RequestTimeout.String(),
		fmt.Sprintf("management: token endpoint %s; token %s, get %s, put %s, delete %s", c.TokenEndpoint,
			onOff(c.OffersToken), onOff(c.OffersGet), onOff(c.OffersPut), onOff(c.OffersDelete)),
	}
}
