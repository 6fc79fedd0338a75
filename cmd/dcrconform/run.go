package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/spf13/cobra"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/dcrconform/dcrconform/internal/catalogue"
	"github.com/dcrconform/dcrconform/internal/engine"
	"github.com/dcrconform/dcrconform/internal/evidence"
	"github.com/dcrconform/dcrconform/internal/harness"
	"github.com/dcrconform/dcrconform/internal/printable"
	"github.com/dcrconform/dcrconform/internal/safefile"
	"github.com/dcrconform/dcrconform/suites/register"
)

// runOptions are the flags of `dcrconform run`.
type runOptions struct {
	config, profile, labelFilter, reports, workDir, evidenceKey, output string
	strict, failFast, quiet, verbose                                    bool
	jwksTimeout, timeout, preflightTimeout                              time.Duration
	parallel                                                            int
	rate                                                                float64
	cases, faults                                                       []string
}

func newRunCmd(stdout, stderr io.Writer, code *int) *cobra.Command {
	o := &runOptions{}
	c := &cobra.Command{
		Use:   "run",
		Short: "Run the conformance catalogue against a target (by default the embedded reference bank)",
		Long: `Run the catalogue against the target a config describes, or, with no --config, against the
embedded reference bank on loopback. Before any case a preflight checks the setup (certificates,
the bank's server certificate, the published JWKS, a control registration); the reports go to
--reports: junit.xml, report.json, report.html and a signed evidence bundle.

Exit codes: 0 every selected MUST case passed; 1 a MUST case failed (or a SHOULD case, with
--strict); 2 the run could not be made; 3 MUST cases skipped or inconclusive; 4 interrupted or past
the run deadline (reports written, marked INCOMPLETE).`,
		Example: `  dcrconform run
  dcrconform run --config target.yaml --cases 'jws-*' --strict
  dcrconform run --config target.yaml --output json > summary.json
  dcrconform run --label-filter 'level:MUST && group:request-jws'`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error { *code = cmdRun(o, stdout, stderr); return nil },
	}
	f := c.Flags()
	f.StringVar(&o.config, "config", "", "target config (YAML); none runs against the embedded reference bank")
	profileFlag(f, &o.profile, "")
	f.StringSliceVar(&o.cases, "cases", nil, "case IDs or globs to run, case-insensitive, e.g. 'JWS-*' (repeatable, comma-separated)")
	f.StringVar(&o.labelFilter, "label-filter", "", "Ginkgo label filter, e.g. 'level:MUST && group:request-jws'")
	f.BoolVar(&o.strict, "strict", false, "fail the run on failed SHOULD cases")
	f.BoolVar(&o.failFast, "fail-fast", false, "stop after the first failed case; the rest are reported as not run")
	f.StringVar(&o.reports, "reports", "reports", "directory for the reports and evidence bundles")
	f.StringVar(&o.workDir, "work-dir", ".dcrconform", "directory for the run's private keys (kept outside reports)")
	f.BoolVar(&o.quiet, "quiet", false, "print only failed and inconclusive cases and the summary")
	f.BoolVar(&o.verbose, "verbose", false, "also print Ginkgo's own report")
	f.StringVar(&o.output, "output", "text", "text, or json: the manifest as a machine-readable summary on stdout (progress lines go to stderr)")
	jwksTimeoutFlag(f, &o.jwksTimeout)
	faultFlag(f, &o.faults)
	f.DurationVar(&o.timeout, "timeout", 0, "deadline for the whole run (default: 2m plus the request timeout per selected case); cases not run by then are NOT RUN, exit 4")
	f.DurationVar(&o.preflightTimeout, "preflight-timeout", harness.DefaultPreflightTimeout, "bound on each preflight step (TLS handshake, JWKS fetch, control registration)")
	f.IntVar(&o.parallel, "parallel", engine.DefaultParallel, "cases in flight at once; 1 runs them one after another (reports are in catalogue order either way)")
	f.Float64Var(&o.rate, "rate", 0, "at most this many requests a second across the run, for a bank that throttles (0: no limit)")
	evidenceKeyFlag(f, &o.evidenceKey)
	return c
}

func cmdRun(o *runOptions, stdout, stderr io.Writer) int {
	if o.output != "text" && o.output != "json" {
		return fail(stderr, "--output %q: want text or json", o.output)
	}
	// With --output json, stdout carries the summary alone; everything else goes to stderr.
	summary := stdout
	if o.output == "json" {
		stdout = stderr
	}
	evidenceKey, releaseKey, err := resolveEvidenceKey(o.evidenceKey)
	if err != nil {
		return fail(stderr, "%v", err)
	}
	defer releaseKey()
	if o.parallel < 1 {
		return fail(stderr, "--parallel %d: must be at least 1", o.parallel)
	}
	if o.rate < 0 || math.IsNaN(o.rate) || math.IsInf(o.rate, 0) {
		return fail(stderr, "--rate %v: must be a number of requests a second, 0 for no limit", o.rate)
	}
	// Everything under the reports directory is shared (CI artefacts, the bundle a certifier
	// receives), so a private key there would leak.
	for flagName, path := range map[string]string{"--work-dir": o.workDir, "--evidence-key": evidenceKey} {
		if path != "" && inside(o.reports, path) {
			return fail(stderr, "%s %s is inside the reports directory %s; private keys must stay out of reports", flagName, path, o.reports)
		}
	}
	// A bad evidence key is found now, not after every case has run.
	if p := evidenceKey; p != "" {
		if err := safefile.Check(p, safefile.MaxPEM); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fail(stderr, "--evidence-key %s: %s", p, safefile.Reason(err))
		}
	}
	cat := catalogue.Default()
	if err := cat.Validate(); err != nil {
		return fail(stderr, "%v", err)
	}

	// From here on an interrupt or the deadline ends the run with its reports written. The
	// first signal cancels the run; a second exits at once.
	ctx, stop := interruptible(stderr)
	defer stop()

	run, err := harness.Prepare(ctx, harness.Options{
		ConfigPath: o.config, Profile: o.profile, WorkDir: o.workDir, Strict: o.strict,
		Faults: o.faults, JWKSTimeout: o.jwksTimeout, Rate: o.rate,
	})
	if err != nil {
		return fail(stderr, "%v", err)
	}
	defer run.Close()
	all := cat.Items(run.Profile)
	items, err := catalogue.Select(all, o.cases)
	if err != nil {
		return fail(stderr, "%v", err)
	}
	if items, err = filterLabels(items, o.labelFilter); err != nil {
		return fail(stderr, "%v", err)
	}
	sel := evidence.Selection{Profile: run.Profile.Name, ProfileSource: "default", ConfigProfile: run.ConfigProfile,
		Cases: o.cases, LabelFilter: o.labelFilter, Strict: o.strict, FailFast: o.failFast, Selected: len(items), Catalogue: len(all)}
	switch {
	case o.profile != "":
		sel.ProfileSource = "--profile"
		if run.ConfigProfile != "" && run.ConfigProfile != o.profile {
			fmt.Fprintf(stderr, "dcrconform: warning: --profile %s overrides the config's profile %s\n", o.profile, run.ConfigProfile)
		}
	case o.config != "":
		sel.ProfileSource = "config"
	}
	meta := evidence.Meta{Tool: "dcrconform", Version: toolVersion(), Target: run.Target, Profile: run.Profile.Name,
		Embedded: run.Embedded, Started: time.Now(), Strict: o.strict, Selection: sel}
	release, err := lockReports(o.reports)
	if err != nil {
		return fail(stderr, "reports: %v", err)
	}
	defer release()
	// A previous run's reports must never look like this run's: replace them with a marker that
	// reads as an error until this run's own are written.
	if err := markInProgress(o.reports, meta, "the run started and has not finished (or was killed)"); err != nil {
		return fail(stderr, "reports: %v", err)
	}

	notes, err := run.Preflight(ctx, o.preflightTimeout)
	if err != nil && ctx.Err() == nil {
		markInProgress(o.reports, meta, "the run could not be made: "+err.Error())
		return fail(stderr, "%v", err)
	}
	for _, n := range notes {
		fmt.Fprintf(stderr, "dcrconform: warning: %s\n", n)
	}

	timeout := o.timeout
	if timeout <= 0 {
		timeout = 2*time.Minute + time.Duration(len(items))*run.RequestTimeout
	}
	deadline := time.Now().Add(timeout)
	runCtx, cancel := context.WithDeadlineCause(ctx, deadline, fmt.Errorf("the run deadline of %s was reached", timeout))
	defer cancel()
	if !o.quiet {
		where := run.Target
		if run.Embedded {
			where += " (embedded reference bank)"
		}
		fmt.Fprintf(stdout, "dcrconform %s: %d of %d cases, profile %s, target %s\n", meta.Version, len(items), len(all), run.Profile.Name, where)
		if len(run.Effective) > 0 {
			fmt.Fprintln(stdout, "effective configuration (file, then ${NAME}, then DCRCONFORM_* variables, then flags):")
			for _, l := range run.Effective {
				fmt.Fprintln(stdout, "  "+printable.String(l, 300))
			}
		}
	}
	budget := &evidence.Budget{}
	res := register.Run(runCtx, run.Env, items, register.RunOptions{Verbose: o.verbose, Deadline: deadline,
		Engine: engine.Options{FailFast: o.failFast, Parallel: o.parallel}, Record: budget.Take,
		Progress: func(out engine.Outcome) {
			if !o.quiet || out.Verdict == engine.Fail || out.Verdict == engine.Inconclusive {
				fmt.Fprintln(stdout, progressLine(out))
			}
		}})
	// Every client the run registered is deleted, also after failures and interrupts, under a
	// context of its own: a real sandbox must not fill up with test clients.
	cctx, ccancel := context.WithTimeout(context.Background(), cleanupTimeout)
	cleanup := run.Env.CleanupParallel(cctx, o.parallel)
	ccancel()
	meta.Cleanup = &cleanup
	if !o.quiet || len(cleanup.Left) > 0 {
		fmt.Fprintf(stdout, "cleanup: %d registered clients deleted", len(cleanup.Deleted))
		if len(cleanup.Left) > 0 {
			fmt.Fprintf(stdout, "; %d left behind on the target:", len(cleanup.Left))
			for _, l := range cleanup.Left {
				fmt.Fprintf(stdout, "\n  %s: %s", printable.String(l.ClientID, 80), printable.String(l.Reason, 300))
			}
		}
		fmt.Fprintln(stdout)
	}
	meta.Finished = time.Now()
	for _, o := range res.Outcomes {
		if o.Verdict == engine.NotRun {
			meta.Stopped = stoppedReason(runCtx, o)
			break
		}
	}
	meta.ExitCode = engine.ExitCode(res.Outcomes)
	meta.Result = engine.ResultWord(meta.ExitCode, len(items), len(all))
	if meta.Stopped != "" && meta.ExitCode != engine.ExitIncomplete {
		meta.Result += "; INCOMPLETE: " + meta.Stopped
	}
	meta.ConfigFingerprint = run.Fingerprint()
	meta.KeyPaths = evidence.KeyPaths(run.Files)
	bundleDir, err := writeReports(o.reports, o.workDir, evidenceKey, meta, res)
	if err != nil {
		markInProgress(o.reports, meta, "the reports could not be written: "+err.Error())
		return fail(stderr, "%v", err)
	}
	fmt.Fprintf(stdout, "%s: %s in %s\n", meta.Result, engine.Count(res.Outcomes), meta.Finished.Sub(meta.Started).Round(time.Millisecond))
	if meta.Stopped != "" {
		fmt.Fprintf(stdout, "INCOMPLETE: %s; the cases not run are marked so in every report\n", meta.Stopped)
	}
	fmt.Fprintf(stdout, "reports: %s (junit.xml, report.json, report.html)\nevidence bundle: %s (check with: dcrconform verify %s)\n",
		o.reports, bundleDir, bundleDir)
	if o.output == "json" {
		// The manifest is the machine-readable summary: result, exit code, selection, counts,
		// each case's verdict and the bundle's files.
		data, err := os.ReadFile(filepath.Join(bundleDir, evidence.ManifestFile))
		if err != nil {
			return fail(stderr, "read the manifest for --output json: %v", err)
		}
		summary.Write(data)
	}
	return meta.ExitCode
}

// cleanupTimeout bounds the deletion of the run's clients at its end.
const cleanupTimeout = time.Minute

// interruptible returns a context that the first SIGINT or SIGTERM cancels (the run then ends
// with its reports written, exit 4); a second signal exits at once.
func interruptible(stderr io.Writer) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case s := <-sig:
			fmt.Fprintf(stderr, "\ndcrconform: %v: stopping; the cases judged so far are being written to the reports (signal again to exit at once, without them)\n", s)
			cancel(fmt.Errorf("interrupted by %v", s))
		case <-done:
			return
		}
		select {
		case s := <-sig:
			fmt.Fprintf(stderr, "dcrconform: %v again: exiting now; the reports of this run are not written\n", s)
			os.Exit(engine.ExitIncomplete)
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(sig)
		close(done)
		cancel(nil)
	}
}

// stoppedReason says why the run ended before o ran.
func stoppedReason(ctx context.Context, o engine.Outcome) string {
	if cause := context.Cause(ctx); cause != nil {
		return cause.Error()
	}
	return strings.TrimPrefix(o.Reason, "not run: ")
}

// markInProgress replaces the top-level reports of an earlier run: junit.xml becomes one
// errored testcase saying why this run has no results (yet), and report.json and report.html
// are removed. CI that publishes junit.xml then shows an error, never an old green run.
func markInProgress(dir string, meta evidence.Meta, why string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, name := range []string{"report.json", "report.html"} {
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	data, err := evidence.PlaceholderJUnit(meta, why)
	if err != nil {
		return err
	}
	return writeAtomic(filepath.Join(dir, "junit.xml"), data)
}

// writeAtomic writes a file whole or not at all: a reader (CI) never sees half a report.
func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// writeReports writes the signed evidence bundle into reports/<run-id>/, then junit.xml,
// report.json and report.html into the reports directory. The bundle goes first so that the
// top-level files, copies of the latest run's for CI, never name a bundle that is not there.
func writeReports(dir, workDir, keyPath string, meta evidence.Meta, res register.Result) (string, error) {
	runID := meta.Started.UTC().Format("20060102T150405.000Z")
	render := map[string]func() ([]byte, error){
		"junit.xml":   func() ([]byte, error) { return evidence.JUnit(meta, res.Outcomes) },
		"report.json": func() ([]byte, error) { return evidence.GinkgoJSON(res.Report) },
		"report.html": func() ([]byte, error) { return evidence.HTML(meta, res.Outcomes) },
	}
	// The three renderings are independent and each a sizeable share of a run's CPU: side by
	// side they take the time of the longest.
	type rendered struct {
		name string
		data []byte
		err  error
	}
	results := make(chan rendered, len(render))
	for name, fn := range render {
		go func() {
			data, err := fn()
			results <- rendered{name, data, err}
		}()
	}
	files := map[string][]byte{}
	var renderErr error
	for range render {
		r := <-results
		if r.err != nil && renderErr == nil {
			renderErr = fmt.Errorf("render %s: %v", r.name, r.err)
		}
		files[r.name] = r.data
	}
	if renderErr != nil {
		return "", renderErr
	}
	if keyPath == "" {
		keyPath = filepath.Join(workDir, "evidence-key.pem")
	}
	signer, err := evidence.LoadOrCreateEvidenceKey(keyPath)
	if err != nil {
		return "", err
	}
	bundle := filepath.Join(dir, runID)
	if err := evidence.WriteBundle(bundle, meta, res.Outcomes, files, signer); err != nil {
		return "", fmt.Errorf("evidence bundle: %v", err)
	}
	// junit.xml last: until it is replaced, the in-progress marker stands.
	for _, name := range []string{"report.json", "report.html", "junit.xml"} {
		if err := writeAtomic(filepath.Join(dir, name), files[name]); err != nil {
			return "", fmt.Errorf("write %s: %v", name, err)
		}
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

// progressLine is one case on the console. Every value that came from the target (the reason
// quotes the bank's codes, the answer its words) passes through printable first.
func progressLine(o engine.Outcome) string {
	line := fmt.Sprintf("  %-4s %-22s %-6s %s (%s)", o.Verdict.Word(), o.ID, o.Level, o.Title, o.Duration.Round(time.Millisecond))
	if o.Verdict == engine.Pass {
		return line
	}
	line += "\n         " + printable.String(o.Reason, 400)
	switch o.Verdict {
	case engine.Fail, engine.Warn, engine.Inconclusive:
		line += "\n         expected: " + o.Expected
		if o.Answer != "" {
			line += "\n         the bank answered: " + printable.String(o.Answer, 400)
		}
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
