// Package evidence writes a run's reports: JUnit for CI, Ginkgo's JSON, and (with the bundle)
// the files a certifier receives. It only reads outcomes; it never re-runs anything.
package evidence

import (
	"encoding/xml"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dcrconform/dcrconform/internal/catalogue"
	"github.com/dcrconform/dcrconform/internal/engine"
)

// Meta describes the run for report headers.
type Meta struct {
	Tool     string
	Version  string
	Target   string
	Profile  string
	Embedded bool
	Started  time.Time
	Finished time.Time
	Strict   bool
	// ConfigFingerprint is the SHA-256 of the effective config with secrets removed, as the caller
	// computed it; the bundle manifest records it as given.
	ConfigFingerprint string
	// KeyPaths are the paths (never contents) of the run's certificates and keys, for the curl
	// commands of the HTML report; the zero value leaves the flags out with a note.
	KeyPaths KeyPaths
	// Selection records what was asked of the run: the profile and where it came from, the case
	// patterns, the label filter, and how many of the profile's cases were selected.
	Selection Selection
	// Stopped, when set, says why the run ended before every case ran (an interrupt, the run
	// deadline, --fail-fast); the reports are then marked INCOMPLETE.
	Stopped string
	// ExitCode and Result are the run's result as the CLI computed it; a Meta without Result
	// has them computed from the outcomes (see Outcome).
	ExitCode int
	Result   string
	// Cleanup is what the end-of-run cleanup did with the clients the run registered; nil when
	// none ran.
	Cleanup *engine.CleanupResult
}

// Selection is the part of a run's evidence that says what was run: a report of a selection
// must never read as a verdict on the whole profile.
type Selection struct {
	// Profile is the profile run; ProfileSource where it came from: "config", "--profile"
	// (overriding the config's, named in ConfigProfile) or "default".
	Profile       string `json:"profile"`
	ProfileSource string `json:"profile_source"`
	ConfigProfile string `json:"config_profile,omitempty"`
	// Cases are the --cases patterns; LabelFilter the --label-filter expression.
	Cases       []string `json:"cases,omitempty"`
	LabelFilter string   `json:"label_filter,omitempty"`
	Strict      bool     `json:"strict"`
	FailFast    bool     `json:"fail_fast,omitempty"`
	// Selected is how many items ran; Catalogue how many the profile's catalogue holds.
	Selected  int `json:"selected"`
	Catalogue int `json:"catalogue"`
}

// Complete reports whether the run ran its profile's whole catalogue.
func (s Selection) Complete() bool { return s.Catalogue == 0 || s.Selected >= s.Catalogue }

// Outcome returns the run's exit code and result word: as the CLI set them, else computed from
// the outcomes and the selection.
func (m Meta) Outcome(outs []engine.Outcome) (int, string) {
	if m.Result != "" {
		return m.ExitCode, m.Result
	}
	code := engine.ExitCode(outs)
	of := m.Selection.Catalogue
	if of == 0 {
		of = len(outs)
	}
	return code, engine.ResultWord(code, len(outs), of)
}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     seconds      `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       seconds         `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
}

// seconds is a JUnit time attribute. It is written in fixed notation because the common JUnit
// schemas type it as xs:decimal, which has no exponent: Go's default "2.4e-05" breaks strict readers.
type seconds float64

// MarshalXMLAttr writes the duration with millisecond-and-below precision and no exponent.
func (s seconds) MarshalXMLAttr(name xml.Name) (xml.Attr, error) {
	return xml.Attr{Name: name, Value: strconv.FormatFloat(float64(s), 'f', 6, 64)}, nil
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string  `xml:"name,attr"`
	Classname string  `xml:"classname,attr"`
	Time      seconds `xml:"time,attr"`
	// Attrs repeat Properties as testcase attributes. Consumers differ: Jenkins and pytest-style
	// readers take a testcase's <properties>, while others (go-junit among them) only keep the
	// testcase's attributes, and would otherwise lose the level and spec reference.
	Attrs      []xml.Attr      `xml:",any,attr"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Failure    *junitFailure   `xml:"failure,omitempty"`
	Error      *junitFailure   `xml:"error,omitempty"`
	Skipped    *junitSkipped   `xml:"skipped,omitempty"`
	SystemOut  string          `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Body    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

// groupOrder fixes the order of test suites in the file.
var groupOrder = catalogue.Groups

// JUnit renders one testcase per outcome, named "ID: title" and grouped into one testsuite per
// case group. Failed MUST cases are failures; skipped cases carry their reason; SHOULD warnings
// are visible as a property and a system-out line instead of hiding as plain passes.
func JUnit(meta Meta, outs []engine.Outcome) ([]byte, error) {
	byGroup := map[string][]engine.Outcome{}
	for _, o := range outs {
		byGroup[o.Group] = append(byGroup[o.Group], o)
	}
	groups := append([]string{}, groupOrder...)
	for g := range byGroup {
		if !slices.Contains(groups, g) {
			groups = append(groups, g)
		}
	}
	doc := junitSuites{Name: fmt.Sprintf("dcrconform %s (%s)", meta.Profile, meta.Target)}
	_, result := meta.Outcome(outs)
	if meta.Stopped != "" {
		doc.Name += " INCOMPLETE"
	}
	props := []junitProperty{{"profile", meta.Profile}, {"target", meta.Target}, {"tool_version", meta.Version},
		{"result", result}, {"profile_source", meta.Selection.ProfileSource},
		{"cases", strings.Join(meta.Selection.Cases, ",")}, {"label_filter", meta.Selection.LabelFilter},
		{"strict", strconv.FormatBool(meta.Strict)},
		{"selected", fmt.Sprintf("%d of %d", len(outs), max(meta.Selection.Catalogue, len(outs)))}}
	if meta.Stopped != "" {
		props = append(props, junitProperty{"incomplete", meta.Stopped})
	}
	if c := meta.Cleanup; c != nil {
		props = append(props, junitProperty{"clients_deleted", strconv.Itoa(len(c.Deleted))})
		var left []string
		for _, l := range c.Left {
			left = append(left, l.ClientID)
		}
		props = append(props, junitProperty{"clients_left", strings.Join(left, ",")})
	}
	for _, g := range groups {
		list := byGroup[g]
		if len(list) == 0 {
			continue
		}
		sort.SliceStable(list, func(i, j int) bool { return list[i].ID < list[j].ID })
		s := junitSuite{Name: g, Timestamp: meta.Started.UTC().Format(time.RFC3339), Properties: props}
		for _, o := range list {
			s.Cases = append(s.Cases, junitTestcase(o))
			s.Tests++
			s.Time += seconds(o.Duration.Seconds())
			switch o.Verdict {
			case engine.Fail:
				s.Failures++
			case engine.Inconclusive:
				s.Errors++
			case engine.Skipped, engine.NotRun, engine.NotApplicable:
				s.Skipped++
			}
		}
		doc.Suites = append(doc.Suites, s)
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Errors += s.Errors
		doc.Skipped += s.Skipped
		doc.Time += s.Time
	}
	data, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), append(data, '\n')...), nil
}

func junitTestcase(o engine.Outcome) junitCase {
	c := junitCase{
		Name: o.ID + ": " + o.Title, Classname: "dcrconform." + o.Group, Time: seconds(o.Duration.Seconds()),
		Properties: []junitProperty{
			{"id", o.ID}, {"level", string(o.Level)}, {"spec_ref", o.Ref}, {"profile", o.Profile},
			{"verdict", string(o.Verdict)}, {"expected", o.Expected}, {"reason", o.Reason},
		},
	}
	if o.Observation != "" {
		c.Properties = append(c.Properties, junitProperty{"observation", o.Observation})
	}
	if o.Answer != "" {
		c.Properties = append(c.Properties, junitProperty{"answer", o.Answer})
	}
	switch o.Verdict {
	case engine.Fail:
		c.Failure = &junitFailure{Message: message(o), Type: string(o.Level), Body: failureText(o)}
	case engine.Inconclusive:
		// An error, not a failure: the run could not tell whether the bank holds this case.
		c.Error = &junitFailure{Message: "inconclusive: " + message(o), Type: "inconclusive", Body: failureText(o)}
	case engine.Skipped, engine.NotRun, engine.NotApplicable:
		c.Skipped = &junitSkipped{Message: o.Reason}
	case engine.Warn:
		c.Properties = append(c.Properties, junitProperty{"warning", o.Reason})
		c.SystemOut = "WARNING (SHOULD): " + o.ID + " did not hold: " + message(o)
	}
	for _, p := range c.Properties {
		c.Attrs = append(c.Attrs, xml.Attr{Name: xml.Name{Local: p.Name}, Value: p.Value})
	}
	return c
}

// message is a case's one-line reason with what the bank answered beside it.
func message(o engine.Outcome) string {
	if o.Answer == "" {
		return o.Reason
	}
	return o.Reason + "; the bank answered: " + o.Answer
}

// failureText reads as a person would say it: which check, expected, actual.
func failureText(o engine.Outcome) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s (%s, %s)\n", o.ID, o.Title, o.Level, o.Ref)
	fmt.Fprintf(&b, "expected: %s\n", o.Expected)
	if o.Answer != "" {
		fmt.Fprintf(&b, "the bank answered: %s\n", o.Answer)
	}
	if o.Verdict == engine.Inconclusive {
		fmt.Fprintf(&b, "inconclusive: %s\n", o.Reason)
	}
	for _, c := range o.Checks {
		if !c.OK {
			fmt.Fprintf(&b, "- %s: expected %s, got %s\n", c.Name, c.Expected, c.Actual)
		}
	}
	if o.Observation != "" {
		fmt.Fprintf(&b, "observed: %s\n", o.Observation)
	}
	return b.String()
}

// PlaceholderJUnit is the junit.xml that stands while a run has no results of its own: one
// errored testcase saying why. It replaces an earlier run's file at the start of a run, so CI
// never publishes an old green report as the current one.
func PlaceholderJUnit(meta Meta, why string) ([]byte, error) {
	c := junitCase{Name: "dcrconform run: no results", Classname: "dcrconform.run",
		Error: &junitFailure{Message: why, Type: "incomplete", Body: fmt.Sprintf("target %s, profile %s, started %s\n%s\n",
			meta.Target, meta.Profile, meta.Started.UTC().Format(time.RFC3339), why)}}
	doc := junitSuites{Name: fmt.Sprintf("dcrconform %s (%s) NO RESULTS", meta.Profile, meta.Target), Tests: 1, Errors: 1,
		Suites: []junitSuite{{Name: "run", Tests: 1, Errors: 1, Timestamp: meta.Started.UTC().Format(time.RFC3339), Cases: []junitCase{c}}}}
	data, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), append(data, '\n')...), nil
}
