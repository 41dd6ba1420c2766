package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/c4sctl/c4sctl/pkg/plan"
)

// JSONFormatVersion is the version of the drift report formats (docs/json-plan.md): the JSON
// report's format_version, and the c4sctl.report_format property of the JUnit and SARIF reports.
// 1.2 added sandbox; 1.3 the target (workspace, tenant_id, salesforce_org_id) and
// summary.uncovered; 1.4 last_apply, history_read and resources[].last_applied; 1.5 coverage
// (the seller coverage with its reconciliation).
const JSONFormatVersion = "1.5"

type jsonReport struct {
	FormatVersion string `json:"format_version"`
	Tool          string `json:"tool"`
	Version       string `json:"c4sctl_version"`
	Target
	Sandbox   bool        `json:"sandbox"`
	HasDrift  bool        `json:"has_drift"`
	Summary   jsonSummary `json:"summary"`
	Resources []Resource  `json:"resources"`
	Excluded  []string    `json:"excluded"`
	// LastApply: the newest apply in the workspace's history; null when none is recorded or
	// the history was not read (History false).
	LastApply *LastApply `json:"last_apply"`
	History   bool       `json:"history_read"`
	// Coverage is the seller coverage with its reconciliation (null when not computed), as in
	// plan --json.
	Coverage *plan.Coverage `json:"coverage"`
}

type jsonSummary struct {
	Resources  int `json:"resources"`
	InSync     int `json:"in_sync"`
	Drifted    int `json:"drifted"`
	Missing    int `json:"missing"`
	Unreadable int `json:"unreadable"`
	Deferred   int `json:"deferred"`
	Skipped    int `json:"skipped"`
	// Uncovered counts sellers lacking what Copilot for Sales needs (drift too).
	Uncovered int `json:"uncovered"`
}

// WriteJSON writes the report as one JSON document (see docs/json-plan.md, "Drift report").
func WriteJSON(w io.Writer, r *Report) error {
	out := jsonReport{FormatVersion: JSONFormatVersion, Tool: r.Tool, Version: r.Version, Target: r.Target, Sandbox: r.Sandbox, HasDrift: r.HasDrift(),
		Summary: jsonSummary{Resources: len(r.Resources), InSync: r.count(InSync), Drifted: r.count(Drifted), Missing: r.count(Missing),
			Unreadable: r.count(Unreadable), Deferred: r.count(Deferred), Skipped: r.count(Skipped), Uncovered: r.Uncovered},
		Resources: r.Resources, Excluded: r.Excluded, LastApply: r.LastApply, History: r.History, Coverage: r.Coverage}
	if out.Resources == nil {
		out.Resources = []Resource{}
	}
	if out.Excluded == nil {
		out.Excluded = []string{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// WriteMarkdown writes the report for people (a job summary or an issue).
func WriteMarkdown(w io.Writer, r *Report) error {
	var b strings.Builder
	if r.Sandbox {
		fmt.Fprintf(&b, "## c4sctl drift report (sandbox: true)\n\n> [!WARNING]\n> **sandbox: true** — this check ran against the c4sctl sandbox (an emulator), not a real tenant or org.\n\n")
	} else {
		fmt.Fprintf(&b, "## c4sctl drift report\n\n")
	}
	if t := r.Target.describe(); t != "" {
		fmt.Fprintf(&b, "%s\n\n", t)
	}
	if r.HasDrift() {
		fmt.Fprintf(&b, "**%s**\n\n", r.Summary())
	} else {
		fmt.Fprintf(&b, "%s\n\n", r.Summary())
	}
	if l := r.LastApplyLine(); l != "" {
		fmt.Fprintf(&b, "%s\n\n", cell(l))
	}
	if len(r.Excluded) > 0 {
		fmt.Fprintf(&b, "Excluded (not checked): %s\n\n", strings.Join(quoteAll(r.Excluded), ", "))
	}
	fmt.Fprintf(&b, "| Resource | Status |\n| --- | --- |\n")
	for _, res := range r.Resources {
		status := map[Status]string{InSync: "in sync", Drifted: "**drifted**", Missing: "**missing**", Unreadable: "**could not be read**", Deferred: "**deferred**", Skipped: "skipped"}[res.Status]
		if res.Reason != "" {
			status += ": " + cell(res.Reason)
		}
		fmt.Fprintf(&b, "| `%s` | %s |\n", res.Address, status)
	}
	for _, res := range r.Drifted() {
		fmt.Fprintf(&b, "\n### `%s`\n\n", res.Address)
		if res.File != "" {
			fmt.Fprintf(&b, "Declared in `%s` line %d.\n\n", res.File, res.Line)
		}
		if len(res.Differences) == 0 {
			fmt.Fprintf(&b, "%s\n", cell(res.Message()))
		} else {
			fmt.Fprintf(&b, "| Attribute | Compared with | Expected | Actual |\n| --- | --- | --- | --- |\n")
			for _, d := range res.Differences {
				with := "configuration"
				if d.Kind == KindState {
					with = "last apply"
				}
				fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", d.Attribute, with, code(d.Expected), code(d.Actual))
			}
		}
		switch c := res.LastApplied; {
		case !r.History:
		case c == nil:
			fmt.Fprintf(&b, "\nNo apply recorded that changed it.\n")
		default:
			fmt.Fprintf(&b, "\nLast changed by c4sctl: %s %s, %s.\n", c.Action, c.Result, cell(c.describe()))
			if c.ValuesOmitted {
				fmt.Fprintf(&b, "The record left the values out.\n")
			}
			if len(c.Attributes) > 0 {
				fmt.Fprintf(&b, "\n| Attribute | Before that apply | Set by that apply |\n| --- | --- | --- |\n")
				for _, a := range c.Attributes {
					fmt.Fprintf(&b, "| `%s` | %s | %s |\n", a.Attribute, code(a.Before), code(a.After))
				}
			}
		}
	}
	plan.MarkdownCoverage(&b, r.Coverage)
	_, err := io.WriteString(w, b.String())
	return err
}

// describe names the target for people: "Workspace `contoso`, tenant `…`, Salesforce org `…`.";
// empty when nothing is known.
func (t Target) describe() string {
	var parts []string
	if t.Workspace != "" {
		parts = append(parts, "workspace `"+t.Workspace+"`")
	}
	if t.TenantID != "" {
		parts = append(parts, "tenant `"+t.TenantID+"`")
	}
	if t.SalesforceOrgID != "" {
		parts = append(parts, "Salesforce org `"+t.SalesforceOrgID+"`")
	}
	if len(parts) == 0 {
		return ""
	}
	s := strings.Join(parts, ", ")
	return strings.ToUpper(s[:1]) + s[1:] + "."
}

func quoteAll(xs []string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = "`" + x + "`"
	}
	return out
}

// cell makes text safe in a table cell: inert Markdown on one line (plan.EscapeMarkdown).
func cell(s string) string { return plan.EscapeMarkdown(s) }

// code puts a value in an inline code span that survives backticks and pipes.
func code(s string) string {
	s = strings.ReplaceAll(strings.ReplaceAll(s, "\n", " "), "|", "\\|")
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	if len(fence) > 1 {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}
