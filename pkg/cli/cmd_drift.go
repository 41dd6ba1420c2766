package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/c4sctl/c4sctl/pkg/plan"
	"github.com/c4sctl/c4sctl/pkg/report"
	"github.com/c4sctl/c4sctl/pkg/state"
	"github.com/spf13/cobra"
)

type reportSpec struct{ kind, path string }

func parseReports(specs []string) ([]reportSpec, error) {
	var out []reportSpec
	for _, s := range specs {
		kind, path, ok := strings.Cut(s, "=")
		if !ok || path == "" {
			return nil, fmt.Errorf("--report %q: write KIND=FILE, KIND one of %s", s, strings.Join(report.Kinds(), ", "))
		}
		if report.Writers[kind] == nil {
			return nil, fmt.Errorf("--report %s: unknown kind %q; use %s", s, kind, strings.Join(report.Kinds(), ", "))
		}
		out = append(out, reportSpec{kind: kind, path: path})
	}
	return out, nil
}

func newDriftCmd(g *Globals) *cobra.Command {
	var f planFlags
	var reports []string
	cmd := &cobra.Command{
		Use:   "drift",
		Short: "Check that the live tenant and org still match the configuration",
		Long: `drift reads every declared resource (a refresh-only plan: nothing is changed, state is not
written) and reports, per resource, the attributes whose live value differs from the configuration
or changed outside c4sctl since the last apply, with the expected and the actual value (sensitive
values masked). A resource that cannot be checked is not in sync: one in state that can no
longer be read (it, or the object it acts on, was deleted or renamed) and one whose prerequisite
does not exist both count as drift.

--report KIND=FILE (repeatable) also writes the result as junit (JUnit XML, one test case per
resource), sarif (SARIF 2.1.0, one result per drifted resource), markdown or json.

A provider that fails to read (an API error, a failed sign-in) makes its resources "could not be
read", with the error; the other providers' resources are checked and the report files written.

The output, and the json and markdown reports, say when the last apply recorded in the
workspace's history was (` + "`c4sctl history`" + `) and, for each resource not in sync, what the
newest recorded apply that changed it set (before and after); "no apply recorded" when none is.

Exit codes: 0 no drift, 2 drift (including resources that could not be read, whatever the
reason, or are deferred), 1 error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			specs, err := parseReports(reports)
			if err != nil {
				return err
			}
			f.refreshOnly = true
			s, err := openSession(g, "drift")
			if err != nil {
				return err
			}
			defer s.close()
			coverage, stopCoverage := startCoverage(cmd.Context(), g) // its reads run beside the refresh
			pl, err := s.plan(cmd.Context(), &f)
			if err != nil {
				stopCoverage()
				return err
			}
			if err := withCoverage(g, pl, coverage); err != nil {
				return err
			}
			excluded := plan.Excluded(g.config, f.exclude)
			rep := report.FromPlan(pl, g.config, "c4sctl", Version, excluded)
			relativizeFiles(rep)
			if rep.Target, err = reportTarget(g); err != nil {
				return err
			}
			addHistory(g, s.backend, rep)
			for _, sp := range specs {
				var buf bytes.Buffer
				if err := report.Writers[sp.kind](&buf, rep); err != nil {
					return fmt.Errorf("%s report: %w", sp.kind, err)
				}
				if err := state.WriteFileAtomic(sp.path, buf.Bytes()); err != nil {
					return fmt.Errorf("write %s report: %w", sp.kind, err)
				}
			}
			writeDriftText(g, rep, pl.Coverage)
			if rep.HasDrift() {
				return &exitError{code: 2}
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&f.targets, "target", nil, "check only this resource `ADDR` and what it depends on (repeatable)")
	cmd.Flags().StringArrayVar(&f.exclude, "exclude", nil, "leave this resource `ADDR`, and every resource depending on it, out (repeatable)")
	cmd.Flags().IntVar(&f.concurrency, "parallelism", 8, "how many resources are read at once")
	cmd.Flags().StringArrayVar(&reports, "report", nil, "also write a report, `KIND=FILE`: junit, sarif, markdown or json (repeatable)")
	return cmd
}

// reportTarget names what this drift run checked: the workspace, the Microsoft Entra tenant and
// the Salesforce org its providers signed in to (see Globals.Targets); whether it ran against
// the sandbox is the plan's (report.Report.Sandbox). Providers of one configuration sign in to one tenant (a run
// signing in elsewhere than the state records is refused), so the first tenant_id, by provider
// name, is the tenant.
func reportTarget(g *Globals) (report.Target, error) {
	ws, err := g.CurrentWorkspace()
	if err != nil {
		return report.Target{}, err
	}
	t := report.Target{Workspace: ws}
	ids := g.Targets()
	names := make([]string, 0, len(ids))
	for n := range ids {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if t.TenantID == "" {
			t.TenantID = ids[n]["tenant_id"]
		}
		if t.SalesforceOrgID == "" {
			t.SalesforceOrgID = ids[n]["org_id"]
		}
	}
	return t, nil
}

// relativizeFiles makes resource file paths relative to the working directory (the repository
// root in CI), as SARIF consumers expect.
func relativizeFiles(rep *report.Report) {
	wd, err := os.Getwd()
	if err != nil {
		return
	}
	for i := range rep.Resources {
		f := rep.Resources[i].File
		if f == "" || !filepath.IsAbs(f) {
			continue
		}
		if rel, err := filepath.Rel(wd, f); err == nil && !strings.HasPrefix(rel, "..") {
			rep.Resources[i].File = rel
		}
	}
}

func writeDriftText(g *Globals, rep *report.Report, cov *plan.Coverage) {
	c := g.colors(g.Stdout)
	if rep.Sandbox {
		fmt.Fprintf(g.Stdout, "%ssandbox: true — checked against the c4sctl sandbox (an emulator), not a real tenant or org%s\n", c.Yellow, c.Reset)
	}
	for _, res := range rep.Resources {
		switch res.Status {
		case report.Drifted, report.Missing:
			fmt.Fprintf(g.Stdout, "\n  %s# %s%s %s\n", c.Bold, res.Address, c.Reset, map[report.Status]string{report.Drifted: "has drifted", report.Missing: "does not exist"}[res.Status])
			diffs := append([]report.Difference(nil), res.Differences...)
			sort.SliceStable(diffs, func(i, j int) bool { return diffs[i].Kind < diffs[j].Kind })
			for _, d := range diffs {
				fmt.Fprintf(g.Stdout, "    %s~%s %s\n", c.Yellow, c.Reset, d.String())
			}
			writeApplied(g, rep, res)
		case report.Unreadable:
			fmt.Fprintf(g.Stdout, "\n  %s# %s%s could not be read: %s\n", c.Bold, res.Address, c.Reset, res.Reason)
			writeApplied(g, rep, res)
		case report.Deferred:
			fmt.Fprintf(g.Stdout, "\n  %s# %s%s cannot be checked (not deployed): %s\n", c.Bold, res.Address, c.Reset, res.Reason)
		case report.Skipped:
			fmt.Fprintf(g.Stdout, "\n  # %s was not checked: %s\n", res.Address, res.Reason)
		}
	}
	plan.RenderCoverage(g.Stdout, cov, c)
	if l := rep.LastApplyLine(); l != "" {
		fmt.Fprintf(g.Stdout, "\n%s\n", l)
	}
	col := c.Green
	if rep.HasDrift() {
		col = c.Yellow
	}
	fmt.Fprintf(g.Stdout, "\n%s%s%s\n", col, rep.Summary(), c.Reset)
	writeExcluded(g.Stdout, rep.Excluded)
}

// writeApplied prints under a failing resource what the newest recorded apply that changed it set.
func writeApplied(g *Globals, rep *report.Report, res report.Resource) {
	for _, l := range rep.AppliedLines(res) {
		fmt.Fprintf(g.Stdout, "    %s\n", l)
	}
}
