package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/c4sctl/c4sctl/pkg/apply"
	"github.com/c4sctl/c4sctl/pkg/plan"
	"github.com/c4sctl/c4sctl/pkg/planfile"
	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/spec"
	"github.com/c4sctl/c4sctl/pkg/state"
	"github.com/hashicorp/hcl/v2"
	"github.com/spf13/cobra"
	"github.com/zclconf/go-cty/cty"
	"golang.org/x/term"
)

type planFlags struct {
	detailedExitcode bool
	targets          []string
	exclude          []string
	refreshOnly      bool
	// destroy plans the removal of everything in state (`plan --destroy`, `destroy`).
	destroy     bool
	concurrency int
	// quiet turns the refresh progress off (machine-readable output).
	quiet bool
}

func (f *planFlags) register(cmd *cobra.Command, withExitcode bool) {
	if withExitcode {
		cmd.Flags().BoolVar(&f.detailedExitcode, "detailed-exitcode", false, "exit 0 when there are no changes, 2 when there are, 1 on error")
	}
	cmd.Flags().StringArrayVar(&f.targets, "target", nil, "plan only this resource address and what it depends on (repeatable)")
	cmd.Flags().StringArrayVar(&f.exclude, "exclude", nil, "leave this resource `ADDR`, and every resource depending on it, out of the plan (repeatable)")
	cmd.Flags().BoolVar(&f.refreshOnly, "refresh-only", false, "only compare live objects with state and configuration; change nothing")
	cmd.Flags().IntVar(&f.concurrency, "parallelism", 8, "how many resources are read or changed at once")
}

// session is what plan and apply share: the loaded configuration, the locked state.
type session struct {
	g       *Globals
	backend state.Backend
	state   *state.State
	unlock  func() error
}

func openSession(g *Globals, op string) (*session, error) {
	if _, err := g.LoadConfig(); err != nil {
		return nil, err
	}
	if _, err := g.Evaluator(); err != nil {
		return nil, err
	}
	b, st, unlock, err := g.lockedState(op)
	if err != nil {
		return nil, err
	}
	if g.Sandbox {
		if _, err := g.SandboxServer(); err != nil {
			_ = unlock()
			return nil, err
		}
	}
	return &session{g: g, backend: b, state: st, unlock: unlock}, nil
}

func (s *session) close() error {
	if s.unlock == nil {
		return nil
	}
	err := s.unlock()
	s.unlock = nil
	return err
}

func (s *session) plan(ctx context.Context, f *planFlags) (*plan.Plan, error) {
	pl, _, err := s.planDiags(ctx, f)
	return pl, err
}

// planDiags plans and also returns the (warning) diagnostics, for machine-readable output.
func (s *session) planDiags(ctx context.Context, f *planFlags) (*plan.Plan, hcl.Diagnostics, error) {
	g := s.g
	if f.destroy && (len(f.targets) > 0 || len(f.exclude) > 0 || f.refreshOnly) {
		return nil, nil, fmt.Errorf("destroy cannot be combined with --target, --exclude or --refresh-only: it removes everything in state (destroying part of it is not implemented)")
	}
	opts := plan.Options{Concurrency: f.concurrency, Targets: f.targets, Exclude: f.exclude, RefreshOnly: f.refreshOnly, Destroy: f.destroy}
	var rp *readProgress
	if !f.quiet {
		rp = g.readProgress()
		opts.Progress = rp.event
		t := time.NewTicker(ReadProgressInterval)
		defer t.Stop()
		rp.run(t.C)
	}
	p := &plan.Planner{Config: g.config, Eval: g.eval, State: s.state, Registry: g.Registry(), Clients: g, Options: opts}
	pl, diags := p.Plan(ctx)
	if rp != nil {
		rp.finish()
	}
	if err := g.printDiags(diags); err != nil {
		return nil, diags, err
	}
	pl.Sandbox = g.SandboxRun()
	g.sandboxSteps(pl)
	if err := s.checkStateTarget(); err != nil {
		return nil, diags, err
	}
	// A provider that failed to read (an outage, a revoked consent) leaves its resources "could
	// not be read" and the other providers' results standing: said here, in the plan and in
	// drift's reports, and the exit code is never a success's.
	// One error per provider and reason, naming the other resources it stopped (a wrong secret
	// fails every resource of its provider alike; plan.DedupeCauses does the same for diagnostics).
	secrets := g.eval.SensitiveStrings()
	same := pl.SameCause()
	stopped := map[string][]string{}
	for _, rc := range pl.Changes {
		if rc.ReadError {
			rc.Reason = spec.Redact(rc.Reason, secrets)
			if first, ok := same[rc.Addr]; ok {
				stopped[first] = append(stopped[first], rc.Addr)
			}
		}
	}
	for _, rc := range pl.Changes {
		if _, ok := same[rc.Addr]; !rc.ReadError || ok {
			continue
		}
		fmt.Fprintf(g.Stderr, "\nError: %s could not be read: %s\n", rc.Addr, rc.Reason)
		if more := stopped[rc.Addr]; len(more) > 0 {
			fmt.Fprintf(g.Stderr, "  The same error stopped: %s\n", strings.Join(more, ", "))
		}
	}
	return pl, diags, nil
}

// startCoverage starts the seller coverage's reads (startSellerCoverage), to run beside the
// plan's refresh. wait takes the finished plan (the app id comes from it) and returns the
// coverage; an error starting it is wait's, so that withCoverage treats it as any other. stop
// cancels the reads and waits for them to end (the plan failed).
func startCoverage(ctx context.Context, g *Globals) (wait func(pl *plan.Plan) (*plan.Coverage, error), stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	started, err := startSellerCoverage(ctx, g)
	if err != nil {
		started = func(*plan.Plan) (*plan.Coverage, error) { return nil, err }
	}
	wait = func(pl *plan.Plan) (*plan.Coverage, error) {
		defer cancel()
		return started(pl)
	}
	return wait, func() { cancel(); _, _ = started(nil) }
}

// withCoverage adds the seller coverage (startCoverage's wait) to the plan. When it cannot be
// measured because a provider is failing, and the plan already says that provider's resources
// could not be read, the run goes on without it (the verdict is red anyway); otherwise its
// error ends the run.
func withCoverage(g *Globals, pl *plan.Plan, coverage func(*plan.Plan) (*plan.Coverage, error)) error {
	cov, err := coverage(pl)
	if err != nil {
		if len(pl.ReadFailures()) == 0 {
			return err
		}
		root := plan.RootCause(err)
		for _, rc := range pl.Changes {
			// coverage reads through the microsoft365 and teams providers only
			if rc.ReadError && rc.Cause != "" && rc.Cause == root && (rc.Provider == "microsoft365" || rc.Provider == "teams") {
				fmt.Fprintf(g.Stderr, "\nWarning: seller coverage not measured: the same error as %s (above)\n", rc.Addr)
				return nil
			}
		}
		fmt.Fprintf(g.Stderr, "\nWarning: seller coverage not measured: %s\n", spec.Redact(err.Error(), g.eval.SensitiveStrings()))
		return nil
	}
	pl.Coverage = cov
	return nil
}

// readFailuresError is plan's and apply's error when a provider failed to read resources (they
// are listed on stderr above).
func readFailuresError(pl *plan.Plan) error {
	if n := len(pl.ReadFailures()); n > 0 {
		return &exitError{code: 1, err: fmt.Errorf("%d resource(s) could not be read because their provider failed (see above): this run is incomplete", n)}
	}
	return nil
}

// checkStateTarget refuses a run whose providers signed in somewhere else than the runs that
// wrote the state (another tenant, org, instance, endpoint, client, or sandbox against real):
// that state describes other objects. Providers the state does not know yet are accepted.
func (s *session) checkStateTarget() error {
	if len(s.state.Targets) == 0 {
		return nil
	}
	saved := map[string]providers.Identity{}
	cur := map[string]providers.Identity{}
	for name, id := range s.g.Targets() {
		if st, ok := s.state.Targets[name]; ok {
			saved[name] = st
			cur[name] = id
		}
	}
	if d := planfile.TargetMismatch(saved, cur); len(d) > 0 {
		return fmt.Errorf("the state %s was written against another target than this run signed in to, and nothing was changed:\n  - %s\nRun against the target the state belongs to, or use another workspace or directory (a state describes one tenant and org)", s.backend.String(), strings.Join(d, "\n  - "))
	}
	return nil
}

// recordTargets writes into state where this run's providers signed in.
func (s *session) recordTargets() {
	if s.state.Targets == nil {
		s.state.Targets = map[string]map[string]string{}
	}
	for name, id := range s.g.Targets() {
		s.state.Targets[name] = id
	}
}

// writeExcluded tells which resources --exclude left out of the plan.
func writeExcluded(w io.Writer, excluded []string) {
	if len(excluded) > 0 {
		fmt.Fprintf(w, "\nExcluded from this plan (--exclude, with what depends on it): %s\n", strings.Join(excluded, ", "))
	}
}

func newPlanCmd(g *Globals) *cobra.Command {
	var f planFlags
	var out, format string
	var jsonOut bool
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Show what apply would change",
		Long: `plan reads the live state of every declared resource, compares it with the configuration and
the last-applied state, and prints the changes apply would make. Changes made outside c4sctl since
the last apply are shown first.

--out FILE saves the plan; ` + "`c4sctl apply FILE`" + ` then makes exactly those changes, and refuses if the
configuration or the live objects changed since. --format json (or --json) prints one JSON document
(docs/json-plan.md); --format markdown prints a pull-request comment.

A provider that fails to read (an API error, a failed sign-in) makes its resources "could not be
read", with the error; the rest is planned. That exits 1 once the plan is printed (2 with
--detailed-exitcode).

Exit codes: 0 success, 1 error; with --detailed-exitcode, 2 when the plan is not clean: there are
changes, manual actions, deferred resources, or resources that could not be read.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cmd.Flags().Changed("out") && strings.TrimSpace(out) == "" {
				// -out=$PLAN with PLAN unset: no plan would be saved, and the pipeline's
				// apply step would find none.
				return fmt.Errorf("--out needs a file name (it was given an empty one)")
			}
			format, err := outputFormat(format, jsonOut)
			if err != nil {
				return err
			}
			f.quiet = format != "human"
			// written: the plan is on stdout, so a later error (read failures, exit code 2)
			// adds no second document.
			written := false
			run := func() error {
				s, err := openSession(g, "plan")
				if err != nil {
					return err
				}
				defer s.close()
				// The seller coverage's reads run beside the refresh (a destroy plan has none).
				var coverage func(*plan.Plan) (*plan.Coverage, error)
				stopCoverage := func() {}
				if !f.destroy {
					coverage, stopCoverage = startCoverage(cmd.Context(), g)
				}
				pl, diags, err := s.planDiags(cmd.Context(), &f)
				if err != nil {
					stopCoverage()
					return err
				}
				if coverage != nil {
					if err := withCoverage(g, pl, coverage); err != nil {
						return err
					}
				}
				excluded := plan.Excluded(g.config, f.exclude)
				if out != "" {
					if err := s.savePlan(out, pl, &f, excluded, diags); err != nil {
						return err
					}
				}
				if err := writePlan(g, g.Stdout, format, pl, Version, f.targets, excluded, diags); err != nil {
					return err
				}
				written = true
				if out != "" {
					w := g.Stdout
					if format != "human" {
						w = g.Stderr
					}
					fmt.Fprintf(w, "\nSaved the plan to: %s\n\nTo make exactly these changes, run:\n  %s\n%s", out, g.command("apply", out), g.commandNote())
				}
				if f.detailedExitcode && pl.HasChanges() {
					return &exitError{code: 2}
				}
				return readFailuresError(pl)
			}
			if format != "json" {
				return run()
			}
			// A plan that fails before it is printed prints its diagnostics as JSON (the shape
			// of validate --json), so a pipeline parses stdout as JSON either way.
			g.diagJSON = true
			err = run()
			if err == nil || written {
				return err
			}
			if werr := writeJSONDiagnostics(g.Stdout, g.jsonDiags, err); werr != nil {
				return werr
			}
			return &exitError{code: ExitCode(err)}
		},
	}
	f.register(cmd, true)
	cmd.Flags().BoolVar(&f.destroy, "destroy", false, "plan the removal of every object in state, as `c4sctl destroy` would (objects that cannot be deleted are only removed from state)")
	cmd.Flags().StringVar(&out, "out", "", "save the plan to `FILE`, for c4sctl apply FILE (no secret is written to it)")
	cmd.Flags().StringVar(&format, "format", "", "output format: human, json or markdown (default human)")
	cmd.Flags().BoolVar(&jsonOut, "json", false, "print the plan as one JSON document (same as --format json)")
	return cmd
}

// outputFormat resolves --format and --json.
func outputFormat(format string, jsonOut bool) (string, error) {
	if jsonOut {
		if format != "" && format != "json" {
			return "", fmt.Errorf("--json and --format %s disagree: use one of them", format)
		}
		return "json", nil
	}
	switch format {
	case "":
		return "human", nil
	case "human", "json", "markdown":
		return format, nil
	}
	return "", fmt.Errorf("--format %q: use human, json or markdown", format)
}

// writePlan prints a plan in the given format.
func writePlan(g *Globals, w io.Writer, format string, pl *plan.Plan, version string, targets, excluded []string, diags hcl.Diagnostics) error {
	switch format {
	case "json":
		doc, err := plan.ToJSON(pl, plan.JSONOptions{C4sctlVersion: version, Targets: targets, Excluded: excluded, Diagnostics: diags})
		if err != nil {
			return fmt.Errorf("encode the plan as JSON: %w", err)
		}
		return writeJSONDoc(w, doc)
	case "markdown":
		plan.RenderMarkdown(w, pl, plan.MarkdownOptions{Excluded: excluded})
		return nil
	}
	plan.Render(w, pl, g.colors(w))
	writeExcluded(w, excluded)
	return nil
}

func writeJSONDoc(w io.Writer, doc any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// savePlan writes the plan file: the plan, the configuration's hash and the fingerprints of the
// live objects it was planned from.
func (s *session) savePlan(path string, pl *plan.Plan, f *planFlags, excluded []string, diags hcl.Diagnostics) error {
	g := s.g
	ch, err := g.configHash("")
	if err != nil {
		return err
	}
	doc, err := plan.ToJSON(pl, plan.JSONOptions{C4sctlVersion: Version, Targets: f.targets, Excluded: excluded, Diagnostics: diags})
	if err != nil {
		return fmt.Errorf("encode the plan: %w", err)
	}
	pf := &planfile.File{FormatVersion: planfile.FormatVersion, C4sctlVersion: Version, CreatedAt: time.Now().UTC().Truncate(time.Second),
		Sandbox: g.Sandbox, Config: ch,
		Options:      planfile.Options{Targets: nonNilStrings(f.targets), Exclude: nonNilStrings(f.exclude), RefreshOnly: f.refreshOnly, Destroy: f.destroy},
		Fingerprints: planfile.Fingerprints(pl), Plan: doc, Target: g.Targets()}
	return planfile.Write(path, pf)
}

func nonNilStrings(xs []string) []string {
	if xs == nil {
		return []string{}
	}
	return xs
}

// configHash hashes the configuration files and the resolved variable inputs, with the given
// salt (a saved plan's) or a new one ("").
func (g *Globals) configHash(salt string) (planfile.ConfigHash, error) {
	vars, err := g.resolvedVariables()
	if err != nil {
		return planfile.ConfigHash{}, err
	}
	return planfile.HashConfig(g.config.Sources, spec.FileSuffix, vars, salt)
}

// resolvedVariables returns every input variable as the plan saw it.
func (g *Globals) resolvedVariables() (map[string]planfile.Variable, error) {
	ev, err := g.Evaluator()
	if err != nil {
		return nil, err
	}
	out := map[string]planfile.Variable{}
	for name, v := range ev.Variables() {
		out[name] = planfile.Variable{Value: v.Value, Sensitive: v.Sensitive}
	}
	return out, nil
}

func newApplyCmd(g *Globals) *cobra.Command {
	var f planFlags
	var autoApprove bool
	cmd := &cobra.Command{
		Use:   "apply [PLAN_FILE]",
		Short: "Make the changes a plan shows",
		Long: `apply plans, shows the plan and, once approved, makes the changes. Each completed change is
recorded in state at once; a failing change does not stop independent ones.

Approval: type "yes" at the prompt, or pass --auto-approve. Without a terminal, --auto-approve is
required.

apply PLAN_FILE makes exactly the changes saved by ` + "`c4sctl plan --out PLAN_FILE`" + `, without asking
(the saved plan is the approval). It reads the live objects again first and refuses when the
configuration, its variables or any object the plan touches changed since the plan was saved.

apply ends with what happened to each change: made, failed, partly applied, not attempted, manual
(pending), deferred, could not be read. "Apply complete!" only when everything planned was made.
Exit codes: 0 complete; 1 a change failed, was partly applied or was not attempted (or another
error); 4 every change c4sctl could make was made, but manual actions, deferred resources or
resources that could not be read remain.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				for _, name := range []string{"target", "exclude", "refresh-only"} {
					if cmd.Flags().Changed(name) {
						return fmt.Errorf("--%s cannot be used with a saved plan: the plan file already fixes what is planned; make a new plan with `%s`", name, g.command("plan", "--"+name, "...", "--out", args[0]))
					}
				}
				return applySaved(cmd.Context(), g, args[0], &f)
			}
			return planAndApply(cmd.Context(), g, "apply", &f, autoApprove, applyPrompt)
		},
	}
	f.register(cmd, false)
	cmd.Flags().BoolVar(&autoApprove, "auto-approve", false, "apply without asking for confirmation")
	return cmd
}

// applySaved applies a saved plan: it checks that the file belongs to this configuration and
// c4sctl, plans again with the saved options, refuses when anything the plan touches changed
// since (a stale plan), and otherwise applies without asking.
func applySaved(ctx context.Context, g *Globals, path string, f *planFlags) error {
	pf, err := planfile.Read(path)
	if err != nil {
		return err
	}
	if pf.C4sctlVersion != Version {
		return fmt.Errorf("plan file %s was made by c4sctl %s, and this is c4sctl %s: apply it with c4sctl %s, or make a new plan with this one (`%s`)", path, pf.C4sctlVersion, Version, pf.C4sctlVersion, g.command("plan", "--out", path))
	}
	if pf.Sandbox != g.Sandbox {
		where := map[bool]string{true: "the sandbox", false: "the real tenant and org"}
		return fmt.Errorf("plan file %s was made against %s, but this run targets %s: make a new plan for %s", path, where[pf.Sandbox], where[g.Sandbox], where[g.Sandbox])
	}
	s, err := openSession(g, "apply")
	if err != nil {
		return err
	}
	defer s.close()
	cur, err := g.configHash(pf.Config.Salt)
	if err != nil {
		return err
	}
	if cur.Hash != pf.Config.Hash {
		return &exitError{code: ExitStalePlan, err: fmt.Errorf("the saved plan %s is STALE: it was made from another configuration (%s), and nothing was applied: make a new plan with `%s` and review it", path, strings.Join(pf.Config.Differences(cur), "; "), g.command("plan", "--out", path))}
	}
	f.targets, f.exclude, f.refreshOnly, f.destroy = pf.Options.Targets, pf.Options.Exclude, pf.Options.RefreshOnly, pf.Options.Destroy
	fmt.Fprintf(g.Stdout, "Applying the plan saved in %s at %s; reading the live objects again first.\n", path, pf.CreatedAt.Format(time.RFC3339))
	// The plan shown is the one plan shows, seller coverage included (as apply without a file).
	var coverage func(*plan.Plan) (*plan.Coverage, error)
	stopCoverage := func() {}
	if !f.destroy {
		coverage, stopCoverage = startCoverage(ctx, g)
	}
	fresh, diags, err := s.planDiags(ctx, f)
	if err != nil {
		stopCoverage()
		return err
	}
	// What the saved plan is compared with is the plan of the resources alone.
	covered := func() error {
		if coverage == nil {
			return nil
		}
		c := coverage
		coverage = nil
		return withCoverage(g, fresh, c)
	}
	defer func() {
		if coverage != nil {
			stopCoverage()
		}
	}()
	doc, err := plan.ToJSON(fresh, plan.JSONOptions{C4sctlVersion: Version, Diagnostics: diags})
	if err != nil {
		return err
	}
	if pf.Target == nil {
		return fmt.Errorf("plan file %s records no target (tenant and org), so c4sctl cannot tell where it may be applied, and nothing was applied: make a new plan with `%s`", path, g.command("plan", "--out", path))
	}
	if d := planfile.TargetMismatch(pf.Target, g.Targets()); len(d) > 0 {
		return fmt.Errorf("plan file %s was made against another target than this run signed in to, and nothing was applied:\n  - %s\nApply it where it was planned, or make a new plan here (`%s`) and review it", path, strings.Join(d, "\n  - "), g.command("plan", "--out", path))
	}
	if stale := planfile.Stale(pf, doc, planfile.Fingerprints(fresh)); len(stale) > 0 {
		return &exitError{code: ExitStalePlan, err: fmt.Errorf("the saved plan %s is STALE: things changed since it was made, and nothing was applied:\n  - %s\nMake a new plan (`%s`), review it and apply that", path, strings.Join(stale, "\n  - "), g.command("plan", "--out", path))}
	}
	if err := covered(); err != nil {
		return err
	}
	plan.Render(g.Stdout, fresh, g.colors(g.Stdout))
	writeExcluded(g.Stdout, plan.Excluded(g.config, f.exclude))
	return s.apply(ctx, fresh, f)
}

// confirm asks for "yes" on a terminal.
const applyPrompt = "\nDo you want to perform these actions?\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: "

// planAndApply is apply's and destroy's run (op names it): plan, show the plan, ask for "yes"
// with prompt unless autoApprove, then apply. With nothing to change it still applies, so that
// state records the live values and the next plan measures drift from now.
func planAndApply(ctx context.Context, g *Globals, op string, f *planFlags, autoApprove bool, prompt string) error {
	s, err := openSession(g, op)
	if err != nil {
		return err
	}
	defer s.close()
	// apply shows the plan that plan shows, seller coverage included: without it, apply said
	// "No changes. The tenant and org match the configuration." where plan said that sellers
	// were not covered, and went on where plan fails (the app blocked for sellers).
	var coverage func(*plan.Plan) (*plan.Coverage, error)
	stopCoverage := func() {}
	if !f.destroy {
		coverage, stopCoverage = startCoverage(ctx, g)
	}
	pl, err := s.plan(ctx, f)
	if err != nil {
		stopCoverage()
		return err
	}
	if coverage != nil {
		if err := withCoverage(g, pl, coverage); err != nil {
			return err
		}
	}
	plan.Render(g.Stdout, pl, g.colors(g.Stdout))
	writeExcluded(g.Stdout, plan.Excluded(g.config, f.exclude))
	if (pl.Summary().ToApply() == 0 && !pl.RefreshOnly) || autoApprove {
		return s.apply(ctx, pl, f)
	}
	ok, err := g.confirmWith(op, prompt)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%s cancelled: nothing was changed", op)
	}
	return s.apply(ctx, pl, f)
}

// confirmWith asks for "yes" on a terminal with the given prompt; cmd names the command in the
// error without one.
func (g *Globals) confirmWith(cmd, prompt string) (bool, error) {
	in, ok := g.Stdin.(*os.File)
	if !ok || !term.IsTerminal(int(in.Fd())) {
		return false, fmt.Errorf("%s needs approval, and standard input is not a terminal: review the plan and run again with --auto-approve", cmd)
	}
	fmt.Fprint(g.Stdout, prompt)
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && line == "" {
		return false, nil
	}
	return strings.TrimSpace(line) == "yes", nil
}

func (s *session) apply(ctx context.Context, pl *plan.Plan, f *planFlags) error {
	g := s.g
	verb := map[providers.Action][3]string{
		providers.Create: {"Creating...", "Creation complete", "Still creating..."},
		providers.Update: {"Modifying...", "Modifications complete", "Still modifying..."},
		providers.Delete: {"Destroying...", "Destruction complete", "Still destroying..."},
		providers.Forget: {"Forgetting...", "Removed from state", "Still forgetting..."},
	}
	s.recordTargets()
	var mu sync.Mutex
	a := &apply.Applier{Plan: pl, Config: g.config, Eval: g.eval, State: s.state, Backend: s.backend, Clients: g, Concurrency: f.concurrency,
		Progress: func(e apply.Event) {
			mu.Lock()
			defer mu.Unlock()
			v := verb[e.Action]
			switch {
			case e.Still:
				how := fmt.Sprintf("%s elapsed", e.Elapsed.Round(time.Second))
				if p := e.Progress; p != nil && p.Total > 0 {
					how += fmt.Sprintf("; %s of %s %s", thousands(p.Done), thousands(p.Total), p.Unit)
				}
				fmt.Fprintf(g.Stdout, "%s: %s [%s]\n", e.Addr, v[2], how)
			case !e.Done:
				fmt.Fprintf(g.Stdout, "%s: %s\n", e.Addr, v[0])
			case e.Err != nil:
				fmt.Fprintf(g.Stdout, "%s: failed after %s\n", e.Addr, e.Elapsed.Round(time.Second))
			default:
				id := ""
				if e.ID != "" {
					id = fmt.Sprintf(" [id=%s]", e.ID)
				}
				fmt.Fprintf(g.Stdout, "%s: %s after %s%s\n", e.Addr, v[1], e.Elapsed.Round(time.Second), id)
			}
		}}
	res, err := a.Apply(ctx)
	if err != nil {
		// The changes made before the state stopped saving (a lock broken by force-unlock, a
		// storage outage) are in the tenant but not in state: the history still records them.
		if res != nil && !pl.RefreshOnly {
			s.appendHistory(pl, res, err)
		}
		return fmt.Errorf("state could not be saved: %w; the changes listed above were made, run plan to see where things stand", err)
	}
	if !pl.RefreshOnly {
		s.appendHistory(pl, res, nil)
	}
	if pl.RefreshOnly {
		fmt.Fprintf(g.Stdout, "\nApply complete! State refreshed from the live objects; nothing was changed.\n")
		return nil
	}
	var failed []string
	failed = append(append(failed, res.Failed...), res.Partial...)
	sort.Strings(failed)
	// Provider texts quote the configuration they were given: no sensitive variable's value.
	secrets := g.eval.SensitiveStrings()
	for _, addr := range failed {
		fmt.Fprintf(g.Stderr, "\nError: %s: %s\n", addr, spec.Redact(fmt.Sprint(res.Errors[addr]), secrets))
	}
	for addr, notes := range res.Notes {
		for _, n := range notes {
			fmt.Fprintf(g.Stdout, "Note: %s: %s\n", addr, spec.Redact(n, secrets))
		}
	}
	writeApplyOutcome(g.Stdout, pl, res)
	switch {
	case !res.OK():
		return &exitError{code: 1}
	case len(pl.ReadFailures()) > 0:
		return readFailuresError(pl)
	case !res.Complete():
		return &exitError{code: ExitApplyPending}
	}
	return nil
}

// ExitApplyPending is apply's exit code when every change c4sctl could make was made, but work
// remains that it cannot do now: manual actions for the admin, or resources deferred or not
// readable. (3 is fmt --check's.)
const ExitApplyPending = 4

// writeApplyOutcome tells what happened to each planned change. "Apply complete!" only when
// everything planned was made.
func writeApplyOutcome(w io.Writer, pl *plan.Plan, res *apply.Result) {
	if res.Complete() {
		var add, change, destroy int
		for _, addr := range res.Applied {
			switch pl.Change(addr).Action {
			case providers.Create:
				add++
			case providers.Update:
				change++
			case providers.Delete:
				destroy++
			}
		}
		if pl.Destroy {
			// Terraform's "Destroy complete! Resources: N destroyed."; the objects that cannot
			// be deleted are counted apart, since they still exist.
			// The objects already gone are counted apart from those left in place: "left as
			// they are (they cannot be deleted)" is untrue of an object that no longer exists.
			var kept, gone int
			for _, rc := range pl.Changes {
				if rc.Action != providers.Forget || rc.Data {
					continue
				}
				if rc.Before == cty.NilVal || rc.Before.IsNull() || slices.Contains(rc.Notes, plan.NoteGone) {
					gone++
				} else {
					kept++
				}
			}
			forgot := ""
			if kept > 0 {
				forgot = fmt.Sprintf(" %d removed from state and left as they are (they cannot be deleted).", kept)
			}
			if gone > 0 {
				forgot += fmt.Sprintf(" %d removed from state (they no longer existed).", gone)
			}
			fmt.Fprintf(w, "\nDestroy complete! Resources: %d destroyed.%s\n", destroy, forgot)
			return
		}
		imported := ""
		if len(res.Imported) > 0 {
			imported = fmt.Sprintf("%d imported, ", len(res.Imported)) // Terraform's wording
		}
		fmt.Fprintf(w, "\nApply complete! Resources: %s%d added, %d changed, %d destroyed.\n", imported, add, change, destroy)
		return
	}
	var deferred, unreadable, readErrors []string
	for _, addr := range res.Deferred {
		if rc := pl.Change(addr); rc != nil && rc.ReadError {
			readErrors = append(readErrors, addr)
		} else if rc != nil && rc.CouldNotRead {
			unreadable = append(unreadable, addr)
		} else {
			deferred = append(deferred, addr)
		}
	}
	rows := []struct {
		what  string
		addrs []string
	}{
		{"made", res.Applied},
		{"imported", res.Imported},
		{"failed", res.Failed},
		{"partly applied", res.Partial},
		{"not attempted", res.Skipped},
		{"manual (pending)", res.Manual},
		{"deferred", deferred},
		{"could not be read", unreadable},
		{"read failed", readErrors},
	}
	var counts []string
	for _, r := range rows {
		if len(r.addrs) > 0 || r.what == "made" {
			counts = append(counts, fmt.Sprintf("%d %s", len(r.addrs), r.what))
		}
	}
	head := "Apply incomplete"
	if res.OK() {
		head = "Applied, but not complete"
	}
	fmt.Fprintf(w, "\n%s: %s.\n", head, strings.Join(counts, ", "))
	for _, r := range rows[1:] {
		if len(r.addrs) > 0 {
			fmt.Fprintf(w, "  %-18s %s\n", r.what+":", strings.Join(r.addrs, ", "))
		}
	}
	if len(res.Failed)+len(res.Partial)+len(res.Skipped) > 0 {
		fmt.Fprintf(w, "Run apply again after fixing the errors: completed changes are in state and will not be made twice.\n")
	}
	if len(res.Manual) > 0 {
		fmt.Fprintf(w, "Make the manual changes (steps above), then run plan again.\n")
	}
	if len(deferred) > 0 {
		fmt.Fprintf(w, "Deferred resources wait for a prerequisite (reasons above): apply again once it exists.\n")
	}
	if len(readErrors) > 0 {
		fmt.Fprintf(w, "Their provider failed to read some resources (errors above), so they were left as they are: apply again once it answers.\n")
	}
	if len(unreadable) > 0 {
		fmt.Fprintf(w, "Resources that could not be read were deployed, and they or their target are gone (reasons above): restore them, fix the configuration, or `c4sctl state rm` them.\n")
	}
}

// thousands writes n with thousands separators: 20000 -> "20,000".
func thousands(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		return "-" + s
	}
	return s
}
