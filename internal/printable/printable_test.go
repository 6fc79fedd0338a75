package printable

import (
	"strings"
	"testing"
)

func TestString(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain text", "plain text"},
		{"\x1b[2J\x1b]0;pwned\x07", `\x1b[2J\x1b]0;pwned\x07`},
		{"line1\nline2\r\t", `line1\nline2\r\t`},
		{"bidi \u202e reversed", `bidi \u202e reversed`},
		{"c1 \u009b", `c1 \u009b`},
		{"bad \xff utf8", `bad \xff utf8`},
		{"héllo", "héllo"},
	} {
		if got := String(tc.in, 0); got != tc.want {
			t.Errorf("String(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	long := strings.Repeat("a", 500)
	got := String(long, 200)
	if !strings.HasPrefix(got, strings.Repeat("a", 200)+"…") || strings.Count(got, "a") != 200 {
		t.Errorf("cut: %q", got)
	}
	if !strings.Contains(got, "300 more bytes") {
		t.Errorf("cut not noted: %q", got)
	}
}
