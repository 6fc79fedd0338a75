package evidence

import (
	"regexp"
	"strings"
	"testing"
	"time"

	junit "github.com/joshdk/go-junit"
)

// TestJUnitReadByThirdPartyParser reads the report with a third-party JUnit reader, so the file
// is checked the way CI systems read it rather than the way our own writer thinks it wrote it.
func TestJUnitReadByThirdPartyParser(t *testing.T) {
	data, err := JUnit(testMeta, testOutcomes())
	if err != nil {
		t.Fatalf("JUnit: %v", err)
	}
	suites, err := junit.Ingest(data)
	if err != nil {
		t.Fatalf("go-junit cannot read the report: %v", err)
	}

	var groups []string
	tests := map[string]junit.Test{}
	var total junit.Totals
	for _, s := range suites {
		groups = append(groups, s.Name)
		if s.Properties["profile"] != "obie-3.2" || s.Properties["target"] != testMeta.Target {
			t.Errorf("suite %s properties = %v", s.Name, s.Properties)
		}
		total.Tests += s.Totals.Tests
		total.Passed += s.Totals.Passed
		total.Failed += s.Totals.Failed
		total.Skipped += s.Totals.Skipped
		total.Error += s.Totals.Error
		for _, tc := range s.Tests {
			if _, dup := tests[tc.Name]; dup {
				t.Errorf("testcase name %q appears twice", tc.Name)
			}
			tests[tc.Name] = tc
		}
	}
	if got, want := strings.Join(groups, ","), "happy-path,request-jws,claims,ssa,http"; got != want {
		t.Errorf("suites in order %s, want %s", got, want)
	}
	// A SHOULD warning and an INFO observation are not failures, so they count as passed; the
	// properties below are what keep them from reading as plain passes.
	if total.Tests != 5 || total.Passed != 3 || total.Failed != 1 || total.Skipped != 1 || total.Error != 0 {
		t.Errorf("totals %+v, want 5 tests: 3 passed, 1 failed, 1 skipped", total)
	}

	wantProps := map[string]map[string]string{
		"HAPPY-01: A valid registration gives 201": {"id": "HAPPY-01", "level": "MUST", "spec_ref": "DCR 3.2 §5.1",
			"profile": "obie-3.2", "verdict": "pass", "expected": "201 with a client_id", "reason": "3 checks passed"},
		"JWS-11/blackhole: Unreachable JWKS gives 400 (server accepts and never answers)": {"id": "JWS-11/blackhole",
			"level": "MUST", "spec_ref": "DCR 3.2 §7.2", "verdict": "fail", "reason": "status: expected 400, got 201 " + hostileMarkup},
		"CLM-07: Unknown claims are ignored": {"id": "CLM-07", "level": "SHOULD", "verdict": "warn",
			"warning": "error: expected invalid_client_metadata, got none"},
		"SSA-03: SSA with a changed JWKS URL is rejected": {"id": "SSA-03", "verdict": "skipped",
			"reason": "needs capability mint-ssa, which this run does not have"},
		"HTTP-09: Replayed request": {"id": "HTTP-09", "level": "INFO", "verdict": "observed",
			"observation": "connection refused twice"},
	}
	for name, props := range wantProps {
		tc, ok := tests[name]
		if !ok {
			t.Errorf("no testcase named %q (have %v)", name, keys(tests))
			continue
		}
		for k, v := range props {
			if tc.Properties[k] != v {
				t.Errorf("%s: property %s = %q, want %q", name, k, tc.Properties[k], v)
			}
		}
	}

	fail := tests["JWS-11/blackhole: Unreachable JWKS gives 400 (server accepts and never answers)"]
	if fail.Status != junit.StatusFailed || fail.Error == nil {
		t.Fatalf("JWS-11/blackhole status %s, want failed with a message", fail.Status)
	}
	for _, want := range []string{"expected: 400 invalid_software_statement", "- status: expected 400, got 201", "(MUST, DCR 3.2 §7.2)"} {
		if !strings.Contains(fail.Error.Error(), want) {
			t.Errorf("failure text lacks %q:\n%s", want, fail.Error.Error())
		}
	}
	if skip := tests["SSA-03: SSA with a changed JWKS URL is rejected"]; skip.Status != junit.StatusSkipped ||
		skip.Message != "needs capability mint-ssa, which this run does not have" {
		t.Errorf("skipped case: status %s, message %q", skip.Status, skip.Message)
	}
	warn := tests["CLM-07: Unknown claims are ignored"]
	if warn.Status != junit.StatusPassed || !strings.Contains(warn.SystemOut, "WARNING (SHOULD): CLM-07 did not hold") {
		t.Errorf("SHOULD warning: status %s, system-out %q", warn.Status, warn.SystemOut)
	}
	if pass := tests["HAPPY-01: A valid registration gives 201"]; pass.Status != junit.StatusPassed || pass.SystemOut != "" {
		t.Errorf("passing case: status %s, system-out %q", pass.Status, pass.SystemOut)
	}
	for name := range tests {
		if strings.HasPrefix(name, "[") {
			t.Errorf("testcase %q carries a Ginkgo node-type prefix", name)
		}
	}

	if strings.Contains(string(data), hostileMarkup) {
		t.Error("hostile markup written unescaped")
	}
	// JUnit schemas type time as xs:decimal: no exponent, which Go's default float format uses for
	// the microsecond durations of fast cases.
	for _, m := range regexp.MustCompile(`time="([^"]*)"`).FindAllStringSubmatch(string(data), -1) {
		if !regexp.MustCompile(`^[0-9]+\.[0-9]+$`).MatchString(m[1]) {
			t.Errorf("time attribute %q is not a plain decimal", m[1])
		}
	}
	if d := tests["HAPPY-01: A valid registration gives 201"].Duration; d != 50*time.Millisecond {
		t.Errorf("HAPPY-01 duration read back as %v, want 50ms", d)
	}
}

func keys(m map[string]junit.Test) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
