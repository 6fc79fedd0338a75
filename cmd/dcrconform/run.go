package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/dcrconform/dcrconform/internal/catalogue"
	"github.com/dcrconform/dcrconform/internal/engine"
	"github.com/dcrconform/dcrconform/internal/evidence"
	"github.com/dcrconform/dcrconform/internal/harness"
	"github.com/dcrconform/dcrconform/suites/register"
)

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func cmdRun(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		configPath  = fs.String("config", "", "target config (YAML); none runs against the embedded reference bank")
		profileName = fs.String("profile", "", "profile: revolut (default), obie-3.1, obie-3.2, obie-3.3")
		labelFilter = fs.String("label-filter", "", "Ginkgo label filter, e.g. 'level:MUST && group:request-jws'")
		strict      = fs.Bool("strict", false, "fail the run on failed SHOULD cases")
		reportsDir  = fs.String("reports", "reports", "directory for junit.xml and report.json")
		workDir     = fs.String("work-dir", ".dcrconform", "directory for the run's private keys (kept outside reports)")
		quiet       = fs.Bool("quiet", false, "print only the summary")
		verbose     = fs.Bool("verbose", false, "also print Ginkgo's own report")
		jwksTimeout = fs.Duration("jwks-timeout", 2*time.Second, "embedded reference bank: JWKS fetch timeout")
		evidenceKey = fs.String("evidence-key", "", "PEM key that signs the evidence manifest (default: WORK-DIR/evidence-key.pem, created if absent)")
		cases       listFlag
		faults      listFlag
	)
	fs.Var(&cases, "cases", "case IDs or globs to run, e.g. 'JWS-*' (repeatable, comma-separated)")
	fs.Var(&faults, "fault", "embedded reference bank: switch on a fault (repeatable; see serve --list-faults)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		return fail(stderr, "run takes no arguments (got %q)", fs.Arg(0))
	}
	// Everything under the reports directory is shared (CI artefacts, the bundle a certifier
	// receives), so a private key there would leak.
	for flagName, path := range map[string]string{"--work-dir": *workDir, "--evidence-key": *evidenceKey} {
		if path != "" && inside(*reportsDir, path) {
			return fail(stderr, "%s %s is inside the reports directory %s; private keys must stay out of reports", flagName, path, *reportsDir)
		}
	}
	cat := catalogue.Default()
	if err := cat.Validate(); err != nil {
		return fail(stderr, "%v", err)
	}
	run, err := harness.Prepare(context.Background(), harness.Options{
		ConfigPath: *configPath, Profile: *profileName, WorkDir: *workDir, Strict: *strict,
		Faults: faults, JWKSTimeout: *jwksTimeout,
	})
	if err != nil {
		return fail(stderr, "%v", err)
	}
	defer run.Close()
	items, err := catalogue.Select(cat.Items(run.Profile), cases)
	if err != nil {
		return fail(stderr, "%v", err)
	}
	if items, err = filterLabels(items, *labelFilter); err != nil {
		return fail(stderr, "%v", err)
	}
	meta := evidence.Meta{Tool: "dcrconform", Version: toolVersion(), Target: run.Target, Profile: run.Profile.Name,
		Embedded: run.Embedded, Started: time.Now(), Strict: *strict}
	if !*quiet {
		where := run.Target
		if run.Embedded {
			where += " (embedded reference bank)"
		}
		fmt.Fprintf(stdout, "dcrconform %s: %d cases, profile %s, target %s\n", meta.Version, len(items), run.Profile.Name, where)
	}
	res := register.Run(run.Env, items, register.RunOptions{Verbose: *verbose, Progress: func(o engine.Outcome) {
		if !*quiet {
			fmt.Fprintln(stdout, progressLine(o))
		}
	}})
	meta.Finished = time.Now()
	if len(res.Outcomes) != len(items) {
		return fail(stderr, "the run ended early: %d of %d cases ran", len(res.Outcomes), len(items))
	}
	meta.ConfigFingerprint = run.Fingerprint()
	meta.KeyPaths = evidence.KeyPaths(run.Files)
	bundleDir, err := writeReports(*reportsDir, *workDir, *evidenceKey, meta, res)
	if err != nil {
		return fail(stderr, "%v", err)
	}
	code := engine.ExitCode(res.Outcomes)
	fmt.Fprintf(stdout, "%s: %s in %s\nreports: %s (junit.xml, report.json, report.html)\nevidence bundle: %s (check with: dcrconform verify %s)\n",
		engine.ResultWord(code), engine.Count(res.Outcomes), meta.Finished.Sub(meta.Started).Round(time.Millisecond),
		*reportsDir, bundleDir, bundleDir)
	return code
}

// writeReports writes junit.xml, report.json and report.html into the reports directory and the
// signed evidence bundle into reports/<run-id>/. The top-level files are copies of the latest
// run's, for CI; the bundle is what a certifier receives.
func writeReports(dir, workDir, keyPath string, meta evidence.Meta, res register.Result) (string, error) {
	runID := meta.Started.UTC().Format("20060102T150405.000Z")
	render := map[string]func() ([]byte, error){
		"junit.xml":   func() ([]byte, error) { return evidence.JUnit(meta, res.Outcomes) },
		"report.json": func() ([]byte, error) { return evidence.GinkgoJSON(res.Report) },
		"report.html": func() ([]byte, error) { return evidence.HTML(meta, res.Outcomes) },
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	files := map[string][]byte{}
	for name, fn := range render {
		data, err := fn()
		if err != nil {
			return "", fmt.Errorf("render %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return "", fmt.Errorf("write %s: %v", name, err)
		}
		files[name] = data
	}
	if keyPath == "" {
		keyPath = filepath.Join(workDir, "evidence-key.pem")
	}
	signer, err := evidence.LoadOrCreateEvidenceKey(keyPath)
	if err != nil {
		return "", fmt.Errorf("evidence key: %v", err)
	}
	bundle := filepath.Join(dir, runID)
	if err := evidence.WriteBundle(bundle, meta, res.Outcomes, files, signer); err != nil {
		return "", fmt.Errorf("evidence bundle: %v", err)
	}
	return bundle, nil
}

// inside reports whether path is dir or lies under it.
func inside(dir, path string) bool {
	d, err1 := filepath.Abs(dir)
	p, err2 := filepath.Abs(path)
	if err1 != nil || err2 != nil {
		return false
	}
	rel, err := filepath.Rel(d, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

func progressLine(o engine.Outcome) string {
	line := fmt.Sprintf("  %-4s %-22s %-6s %s (%s)", o.Verdict.Word(), o.ID, o.Level, o.Title, o.Duration.Round(time.Millisecond))
	if o.Verdict != engine.Pass {
		line += "\n         " + o.Reason
	}
	return line
}

// filterLabels applies a Ginkgo label filter before any spec is declared, so a malformed filter
// or one that selects nothing is a clear exit 2 instead of Ginkgo's os.Exit.
func filterLabels(items []catalogue.Item, filter string) ([]catalogue.Item, error) {
	if strings.TrimSpace(filter) == "" {
		return items, nil
	}
	match, err := types.ParseLabelFilter(filter)
	if err != nil {
		return nil, fmt.Errorf("label filter %q: %v", filter, oneLine(err.Error()))
	}
	var out []catalogue.Item
	for _, it := range items {
		if match(it.Labels()) {
			out = append(out, it)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("label filter %q selects no case", filter)
	}
	return out, nil
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
