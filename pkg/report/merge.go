package report

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"sort"
	"strings"
)

// FleetFormatVersion is the version of the merged JSON fleet report (docs/fleet.md).
const FleetFormatVersion = "1.0"

// Fleet is drift across many tenants: one TenantResult per target, from the reports of
// per-tenant drift runs (c4sctl report merge).
type Fleet struct {
	// Tenants are the tenants counted, sorted by workspace.
	Tenants []*TenantResult
	// SandboxRuns are reports of runs against the sandbox, listed but never counted: a sandbox's
	// "no drift" says nothing about a customer's tenant (MergeOptions.IncludeSandbox counts them).
	SandboxRuns []*TenantResult
}

// TenantResult is one tenant's outcome.
type TenantResult struct {
	Target Target
	// Sandbox: its report comes from a run against the c4sctl sandbox.
	Sandbox bool
	// Run is the report read for it (the richest when several formats of one run were given:
	// JSON, then JUnit, then SARIF); nil when the tenant failed without a report.
	Run *Run
	// Files are every report read for the tenant.
	Files []string
	// Failed says why the tenant could not be checked; empty when it was.
	Failed string
}

// Outcome of a tenant: "failed", "drifted" or "in_sync".
func (t *TenantResult) Outcome() string {
	switch {
	case t.Failed != "":
		return "failed"
	case t.Run.HasDrift():
		return "drifted"
	}
	return "in_sync"
}

// MergeOptions tunes Merge.
type MergeOptions struct {
	// Expect lists the workspaces that must have a report: one without is a failed tenant (its
	// drift run errored, or never ran), and a report of a workspace not listed is an error.
	Expect []string
	// IncludeSandbox counts sandbox runs as tenants (demos and tests); they stay marked sandbox.
	IncludeSandbox bool
}

// Merge groups runs by target. Several reports of one target are one tenant when they are
// different formats of the same result (drift writes JSON, JUnit and SARIF of one run); two
// reports of one format, or reports that disagree on drift, are an error naming both files.
func Merge(runs []*Run, opt MergeOptions) (*Fleet, error) {
	rank := map[string]int{"json": 0, "junit": 1, "sarif": 2}
	byKey := map[string]*TenantResult{}
	formats := map[string]map[string]string{}
	var order []string
	for _, r := range runs {
		k := r.key()
		t := byKey[k]
		if t == nil {
			t = &TenantResult{Target: r.Target, Sandbox: r.Sandbox, Run: r}
			byKey[k], formats[k] = t, map[string]string{}
			order = append(order, k)
		} else {
			if prev, ok := formats[k][r.Format]; ok {
				return nil, fmt.Errorf("%s and %s are both %s reports of %s: give one report per tenant and format", prev, r.File, r.Format, r.Target.label())
			}
			if r.HasDrift() != t.Run.HasDrift() || r.Uncovered != t.Run.Uncovered || len(r.Failing()) != len(t.Run.Failing()) {
				return nil, fmt.Errorf("%s and %s both report %s but disagree on its drift: they come from different drift runs", t.Run.File, r.File, r.Target.label())
			}
			if rank[r.Format] < rank[t.Run.Format] {
				t.Run = r
			}
		}
		formats[k][r.Format] = r.File
		t.Files = append(t.Files, r.File)
	}
	f := &Fleet{}
	seen := map[string]bool{}
	for _, k := range order {
		t := byKey[k]
		if t.Run.AllResources && len(t.Run.Resources) == 0 {
			// "No drift" over nothing is no verdict on the tenant.
			t.Failed = "its drift report lists no resources: nothing was checked (an empty configuration, or the wrong --dir)"
		}
		if t.Sandbox && !opt.IncludeSandbox {
			f.SandboxRuns = append(f.SandboxRuns, t)
			continue
		}
		if seen[t.Target.Workspace] && len(opt.Expect) > 0 {
			return nil, fmt.Errorf("%s: workspace %q has reports of two different targets (tenant or org); each tenant needs its own workspace", t.Files[0], t.Target.Workspace)
		}
		seen[t.Target.Workspace] = true
		f.Tenants = append(f.Tenants, t)
	}
	if len(opt.Expect) > 0 {
		want := map[string]bool{}
		for _, w := range opt.Expect {
			want[w] = true
		}
		for _, t := range f.Tenants {
			if !want[t.Target.Workspace] {
				return nil, fmt.Errorf("%s: workspace %q is not in the list of tenants expected", t.Files[0], t.Target.Workspace)
			}
		}
		sandboxOnly := map[string]bool{}
		for _, t := range f.SandboxRuns {
			sandboxOnly[t.Target.Workspace] = true
		}
		for _, w := range opt.Expect {
			if seen[w] {
				continue
			}
			why := "no drift report: its drift run failed (could not sign in, read state or reach the tenant) or did not run"
			if sandboxOnly[w] {
				why = "only a sandbox run's report: the real tenant was not checked"
			}
			seen[w] = true
			f.Tenants = append(f.Tenants, &TenantResult{Target: Target{Workspace: w}, Failed: why})
		}
	}
	sortTenants := func(ts []*TenantResult) {
		sort.SliceStable(ts, func(i, j int) bool { return ts[i].Target.label() < ts[j].Target.label() })
	}
	sortTenants(f.Tenants)
	sortTenants(f.SandboxRuns)
	return f, nil
}

// label names a target in one line: the workspace, with the tenant and org when known.
func (t Target) label() string {
	s := t.Workspace
	if s == "" {
		s = "(no workspace)"
	}
	var ids []string
	if t.TenantID != "" {
		ids = append(ids, "tenant "+t.TenantID)
	}
	if t.SalesforceOrgID != "" {
		ids = append(ids, "org "+t.SalesforceOrgID)
	}
	if len(ids) > 0 {
		s += " (" + strings.Join(ids, ", ") + ")"
	}
	return s
}

// Counts of a fleet's tenants.
type FleetCounts struct {
	Tenants   int `json:"tenants"`
	Checked   int `json:"checked"`
	InSync    int `json:"in_sync"`
	Drifted   int `json:"drifted"`
	Failed    int `json:"failed"`
	Uncovered int `json:"uncovered_sellers"`
	// SandboxRuns are not counted in the others.
	SandboxRuns int `json:"sandbox_runs"`
}

// Counts counts the tenants by outcome.
func (f *Fleet) Counts() FleetCounts {
	c := FleetCounts{Tenants: len(f.Tenants), SandboxRuns: len(f.SandboxRuns)}
	for _, t := range f.Tenants {
		switch t.Outcome() {
		case "failed":
			c.Failed++
			continue
		case "drifted":
			c.Drifted++
		default:
			c.InSync++
		}
		c.Checked++
		c.Uncovered += t.Run.Uncovered
	}
	return c
}

// Green tells whether every tenant was checked and is in sync, and at least one real tenant was:
// a merge of sandbox runs alone, or of nothing, is not a green fleet.
func (f *Fleet) Green() bool {
	c := f.Counts()
	return c.Tenants > 0 && c.Drifted == 0 && c.Failed == 0
}

// Summary is the fleet's verdict in one sentence.
func (f *Fleet) Summary() string {
	c := f.Counts()
	if c.Tenants == 0 {
		if c.SandboxRuns > 0 {
			return fmt.Sprintf("No tenant checked: the %d report(s) are sandbox runs, which do not count as tenants.", c.SandboxRuns)
		}
		return "No tenant checked."
	}
	if f.Green() {
		return fmt.Sprintf("No drift: all %d tenant(s) match the configuration.", c.Tenants)
	}
	s := fmt.Sprintf("Drift in %d of %d tenant(s)", c.Drifted, c.Tenants)
	if c.Failed > 0 {
		s += fmt.Sprintf("; %d tenant(s) could not be checked", c.Failed)
	}
	if c.Uncovered > 0 {
		s += fmt.Sprintf("; %d seller(s) not covered", c.Uncovered)
	}
	return s + "."
}

// FleetWriters maps each `report merge --format` to its writer.
var FleetWriters = map[string]func(io.Writer, *Fleet) error{
	"markdown": WriteFleetMarkdown,
	"json":     WriteFleetJSON,
	"junit":    WriteFleetJUnit,
	"sarif":    WriteFleetSARIF,
}

// WriteFleetMarkdown writes the fleet report for people (a job summary): the counts, one row per
// tenant, then the drifted resources of each drifted tenant and why each failed one failed.
func WriteFleetMarkdown(w io.Writer, f *Fleet) error {
	var b strings.Builder
	c := f.Counts()
	fmt.Fprintf(&b, "## c4sctl fleet drift report\n\n")
	if f.Green() {
		fmt.Fprintf(&b, "%s\n\n", f.Summary())
	} else {
		fmt.Fprintf(&b, "**%s**\n\n", f.Summary())
	}
	fmt.Fprintf(&b, "| Tenants | Checked | In sync | Drifted | Failed | Sellers not covered |\n| --- | --- | --- | --- | --- | --- |\n")
	fmt.Fprintf(&b, "| %d | %d | %d | %d | %d | %d |\n\n", c.Tenants, c.Checked, c.InSync, c.Drifted, c.Failed, c.Uncovered)
	if len(f.Tenants) > 0 {
		fmt.Fprintf(&b, "| Workspace | Tenant | Salesforce org | Status | Resources | Failing | Sellers not covered |\n| --- | --- | --- | --- | --- | --- | --- |\n")
		for _, t := range f.Tenants {
			fmt.Fprintf(&b, "| %s |\n", strings.Join(markdownRow(t), " | "))
		}
	}
	for _, t := range f.Tenants {
		switch t.Outcome() {
		case "drifted":
			fmt.Fprintf(&b, "\n### `%s`: drifted\n\n", t.Target.Workspace)
			for _, res := range t.Run.Failing() {
				fmt.Fprintf(&b, "- `%s` (%s): %s\n", res.Address, res.Status, cell(res.Message))
			}
			if t.Run.Uncovered > 0 {
				fmt.Fprintf(&b, "- %d seller(s) are not covered: see the Seller coverage section of `c4sctl plan`\n", t.Run.Uncovered)
			}
		case "failed":
			fmt.Fprintf(&b, "\n### `%s`: not checked\n\n%s\n", t.Target.Workspace, cell(t.Failed))
		}
	}
	if len(f.SandboxRuns) > 0 {
		fmt.Fprintf(&b, "\n### Sandbox runs (not counted as tenants)\n\n")
		for _, t := range f.SandboxRuns {
			v := "no drift"
			if t.Run.HasDrift() {
				v = "drift"
			}
			fmt.Fprintf(&b, "- `%s`: %s (%s)\n", t.Target.Workspace, v, cell(strings.Join(t.Files, ", ")))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func markdownRow(t *TenantResult) []string {
	orEmpty := func(s string) string {
		if s == "" {
			return ""
		}
		return "`" + s + "`"
	}
	row := []string{"`" + t.Target.Workspace + "`", orEmpty(t.Target.TenantID), orEmpty(t.Target.SalesforceOrgID)}
	if t.Failed != "" {
		return append(row, "**failed**", "", "", "")
	}
	status := map[string]string{"drifted": "**drifted**", "in_sync": "in sync"}[t.Outcome()]
	if t.Sandbox {
		status += " (sandbox)"
	}
	resources := "?"
	if t.Run.AllResources {
		resources = fmt.Sprint(len(t.Run.Resources))
	}
	return append(row, status, resources, fmt.Sprint(len(t.Run.Failing())), fmt.Sprint(t.Run.Uncovered))
}

type fleetJSON struct {
	FormatVersion string       `json:"format_version"`
	Tool          string       `json:"tool"`
	Green         bool         `json:"green"`
	Summary       FleetCounts  `json:"summary"`
	Tenants       []tenantJSON `json:"tenants"`
	SandboxRuns   []tenantJSON `json:"sandbox_runs"`
}

type tenantJSON struct {
	Target
	Sandbox bool     `json:"sandbox"`
	Outcome string   `json:"outcome"`
	Failed  string   `json:"failed,omitempty"`
	Files   []string `json:"files"`
	// Resources is null when unknown (only a SARIF report, which lists failing resources only).
	Resources *int          `json:"resources"`
	Failing   []RunResource `json:"failing"`
	Uncovered int           `json:"uncovered_sellers"`
}

func tenantDoc(t *TenantResult) tenantJSON {
	d := tenantJSON{Target: t.Target, Sandbox: t.Sandbox, Outcome: t.Outcome(), Failed: t.Failed, Files: t.Files, Failing: []RunResource{}}
	if d.Files == nil {
		d.Files = []string{}
	}
	if t.Run != nil {
		if t.Run.AllResources {
			n := len(t.Run.Resources)
			d.Resources = &n
		}
		if fl := t.Run.Failing(); fl != nil {
			d.Failing = fl
		}
		d.Uncovered = t.Run.Uncovered
	}
	return d
}

// WriteFleetJSON writes the fleet report as one JSON document (docs/fleet.md).
func WriteFleetJSON(w io.Writer, f *Fleet) error {
	doc := fleetJSON{FormatVersion: FleetFormatVersion, Tool: "c4sctl", Green: f.Green(), Summary: f.Counts(), Tenants: []tenantJSON{}, SandboxRuns: []tenantJSON{}}
	for _, t := range f.Tenants {
		doc.Tenants = append(doc.Tenants, tenantDoc(t))
	}
	for _, t := range f.SandboxRuns {
		doc.SandboxRuns = append(doc.SandboxRuns, tenantDoc(t))
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// WriteFleetJUnit writes one <testsuite> per tenant (named by its workspace) with one case per
// resource; a failed tenant is one case with an <error>, sellers not covered one failing case.
// Sandbox runs not counted are a suite of skipped cases.
func WriteFleetJUnit(w io.Writer, f *Fleet) error {
	out := junitSuites{Name: "c4sctl fleet drift", Time: "0"}
	add := func(t *TenantResult, skip bool) {
		s := junitSuite{Name: t.Target.Workspace, Time: "0", Properties: []junitProperty{{JUnitPropWorkspace, t.Target.Workspace},
			{JUnitPropTenant, t.Target.TenantID}, {JUnitPropOrg, t.Target.SalesforceOrgID}}}
		if t.Sandbox {
			s.Name += " (sandbox)"
			s.Properties = append(s.Properties, junitProperty{JUnitPropSandbox, "true"})
		}
		class := t.Target.Workspace
		if t.Failed != "" {
			s.Cases = append(s.Cases, junitCase{Name: "drift run", Classname: class, Time: "0", Error: &junitFailure{Message: t.Failed, Type: "failed"}})
			s.Errors++
		} else {
			for _, res := range t.Run.Resources {
				c := junitCase{Name: res.Address, Classname: class + "." + res.Provider + "." + res.Type, Time: "0"}
				switch {
				case skip:
					c.Skipped = &junitSkipped{Message: "sandbox run, not counted as a tenant"}
				case (&Resource{Status: res.Status}).Failing():
					c.Failure = &junitFailure{Message: res.Message, Type: string(res.Status)}
					s.Failures++
				case res.Status == Skipped:
					c.Skipped = &junitSkipped{Message: res.Message}
				}
				if c.Skipped != nil {
					s.Skipped++
				}
				s.Cases = append(s.Cases, c)
			}
			if t.Run.Uncovered > 0 && !skip {
				s.Cases = append(s.Cases, junitCase{Name: "seller coverage", Classname: class + ".coverage", Time: "0",
					Failure: &junitFailure{Message: fmt.Sprintf("%d seller(s) are not covered", t.Run.Uncovered), Type: "uncovered"}})
				s.Failures++
			}
		}
		s.Tests = len(s.Cases)
		out.Tests += s.Tests
		out.Failures += s.Failures
		out.Errors += s.Errors
		out.Skipped += s.Skipped
		out.Suites = append(out.Suites, s)
	}
	for _, t := range f.Tenants {
		add(t, false)
	}
	for _, t := range f.SandboxRuns {
		add(t, true)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// WriteFleetSARIF writes one SARIF run (GitHub code scanning refuses several runs of one tool and
// category in one file) with a result per failing resource of each counted tenant, located at the
// logical location WORKSPACE/ADDRESS, a c4sctl/uncovered result per tenant with sellers not
// covered, and a c4sctl/not-checked result per failed tenant. Sandbox runs are left out.
func WriteFleetSARIF(w io.Writer, f *Fleet) error {
	var buf strings.Builder
	if err := WriteSARIF(&buf, &Report{}); err != nil {
		return err
	}
	var log sarifLog
	if err := json.Unmarshal([]byte(buf.String()), &log); err != nil {
		return err
	}
	run := &log.Runs[0]
	run.Properties = map[string]any{SARIFPropFormat: JSONFormatVersion}
	rules := map[string]int{}
	for i, r := range run.Tool.Driver.Rules {
		rules[r.ID] = i
	}
	notChecked := sarifRule{ID: "c4sctl/not-checked", Name: "TenantNotChecked",
		ShortDescription:     sarifText{"A tenant's drift run failed"},
		FullDescription:      sarifText{"The tenant has no drift report: its drift run could not sign in, read state or reach the tenant, or did not run."},
		Help:                 sarifText{"Read the log of the tenant's drift job."},
		DefaultConfiguration: map[string]any{"level": "error"}}
	rules[notChecked.ID] = len(run.Tool.Driver.Rules)
	run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, notChecked)
	ruleOf := map[Status]string{Drifted: RuleDrift, Missing: RuleMissing, Unreadable: RuleUnreadable, Deferred: RuleDeferred}
	result := func(t *TenantResult, rule, name, msg string, props map[string]any) {
		props["workspace"], props["tenant_id"], props["salesforce_org_id"], props["sandbox"] = t.Target.Workspace, t.Target.TenantID, t.Target.SalesforceOrgID, t.Sandbox
		note := ""
		if t.Sandbox {
			note = SARIFSandboxNote
		}
		run.Results = append(run.Results, sarifResult{RuleID: rule, RuleIndex: rules[rule], Level: "error",
			Message:             sarifText{fmt.Sprintf("%s%s: %s", note, t.Target.Workspace, msg)},
			Locations:           []sarifLocation{{LogicalLocations: []sarifLogical{{FullyQualifiedName: t.Target.Workspace + "/" + name, Kind: "resource"}}}},
			PartialFingerprints: map[string]string{"c4sctlAddress/v1": t.Target.Workspace + "/" + name},
			Properties:          props})
	}
	for _, t := range f.Tenants {
		if t.Failed != "" {
			result(t, notChecked.ID, "drift run", t.Failed, map[string]any{})
			continue
		}
		for _, res := range t.Run.Failing() {
			result(t, ruleOf[res.Status], res.Address, res.Message, map[string]any{"address": res.Address, "provider": res.Provider, "type": res.Type})
		}
		if t.Run.Uncovered > 0 {
			result(t, RuleUncovered, "seller coverage", fmt.Sprintf("%d seller(s) are not covered", t.Run.Uncovered), map[string]any{"uncovered": t.Run.Uncovered})
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(log)
}
