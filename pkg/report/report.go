// Package report writes drift reports (`c4sctl drift --report KIND=FILE`) in formats CI systems
// read: JUnit XML, SARIF 2.1.0, Markdown and JSON. A Report is built from a refresh-only plan;
// values in it are already masked where sensitive, so writers never see a secret.
package report

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/c4sctl/c4sctl/pkg/plan"
	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/spec"
	"github.com/zclconf/go-cty/cty"
)

// Status of one resource in a drift report.
type Status string

const (
	// InSync: the live object matches the configuration and the last apply.
	InSync Status = "in_sync"
	// Drifted: the live object differs from the configuration or from state.
	Drifted Status = "drifted"
	// Missing: the object does not exist.
	Missing Status = "missing"
	// Unreadable: the resource is in state (it was deployed), and it, or the object it acts on,
	// can no longer be read (an environment deleted, a group renamed): drift.
	Unreadable Status = "unreadable"
	// Deferred: the resource cannot be checked because a prerequisite was never created (a
	// misspelled group, an environment not created yet): not deployed, so not in sync.
	Deferred Status = "deferred"
	// Skipped: not compared with the configuration (removed from it; plan shows what happens).
	Skipped Status = "skipped"
)

// Kinds of attribute difference.
const (
	// KindConfiguration: the live value differs from the configured one (apply would change it).
	KindConfiguration = "configuration"
	// KindState: the live value changed outside c4sctl since the last apply.
	KindState = "state"
)

// Report is the result of a drift check.
type Report struct {
	Tool, Version string
	// Target names what was checked, so that reports from many tenants can be merged
	// (c4sctl report merge).
	Target    Target
	Resources []Resource
	Excluded  []string
	// Uncovered counts sellers lacking what Copilot for Sales needs (plan.Coverage): drift too.
	Uncovered int
	// Sandbox: the check ran against the c4sctl sandbox (plan.Plan.Sandbox), not a real tenant
	// and org. Every format says so where its readers look, and a clean result is never the
	// plain "No drift" of a real tenant.
	Sandbox bool
	// History tells whether the workspace's apply history was read (the backend keeps one);
	// LastApply is its newest record, nil when no apply is recorded.
	History   bool
	LastApply *LastApply
	// Coverage is the plan's seller coverage (nil when not computed); its reconciliation's
	// findings are warnings and do not count as drift.
	Coverage *plan.Coverage
}

// Target identifies the run a report comes from: the workspace (one per tenant in a fleet) and
// the Microsoft Entra tenant and Salesforce org its providers signed in to (empty when no provider
// of that kind is configured). Whether it ran against the sandbox is Report.Sandbox.
type Target struct {
	Workspace       string `json:"workspace"`
	TenantID        string `json:"tenant_id"`
	SalesforceOrgID string `json:"salesforce_org_id"`
}

// LastApply is an apply recorded in the workspace's history (`c4sctl history`).
type LastApply struct {
	Time     time.Time `json:"time"`
	Who      string    `json:"who"`
	Host     string    `json:"host,omitempty"`
	Outcome  string    `json:"outcome"` // complete, pending, failed
	PlanHash string    `json:"plan_hash,omitempty"`
}

// AppliedChange is what the newest recorded apply that changed a resource set on it.
type AppliedChange struct {
	LastApply
	Action string `json:"action"` // create, update, delete, ...
	Result string `json:"result"` // applied, partial
	// Attributes are the attributes it set, before and after in HCL-like JSON syntax;
	// "(sensitive value)" for sensitive ones. Empty with ValuesOmitted when the record left
	// values out (a record too large).
	Attributes    []AppliedAttribute `json:"attributes"`
	ValuesOmitted bool               `json:"values_omitted,omitempty"`
}

// AppliedAttribute is one attribute an apply set.
type AppliedAttribute struct {
	Attribute string `json:"attribute"`
	Before    string `json:"before"`
	After     string `json:"after"`
}

// LastApplyLine says when the last apply was and who ran it, or that none is recorded.
func (r *Report) LastApplyLine() string {
	switch {
	case !r.History:
		return ""
	case r.LastApply == nil:
		return "Last apply: no apply recorded in this workspace's history."
	}
	return "Last apply: " + r.LastApply.describe() + "."
}

func (a *LastApply) describe() string {
	who := a.Who
	if a.Host != "" {
		who += " on " + a.Host
	}
	s := fmt.Sprintf("%s by %s (%s", a.Time.UTC().Format(time.RFC3339), who, a.Outcome)
	if a.PlanHash != "" {
		h := a.PlanHash
		if len(h) > len("sha256:")+12 {
			h = h[:len("sha256:")+12]
		}
		s += ", plan " + h
	}
	return s + ")"
}

// AppliedLines describes what the newest recorded apply that changed the resource set on it, one
// line per attribute after a heading; "" without history.
func (r *Report) AppliedLines(res Resource) []string {
	if !r.History {
		return nil
	}
	c := res.LastApplied
	if c == nil {
		return []string{"no apply recorded that changed it"}
	}
	out := []string{fmt.Sprintf("last changed by c4sctl: %s %s, %s", c.Action, c.Result, c.describe())}
	if c.ValuesOmitted {
		out = append(out, "  (the record left the values out)")
	}
	for _, a := range c.Attributes {
		out = append(out, fmt.Sprintf("  %s: %s -> %s", a.Attribute, a.Before, a.After))
	}
	return out
}

// Resource is one managed resource's check.
type Resource struct {
	Address  string `json:"address"`
	Type     string `json:"type"`
	Provider string `json:"provider"`
	Status   Status `json:"status"`
	// Reason says why a resource was not checked (unreadable, deferred, skipped).
	Reason string `json:"reason,omitempty"`
	// File and Line locate the resource block (File as the configuration names it).
	File        string       `json:"file,omitempty"`
	Line        int          `json:"line,omitempty"`
	Differences []Difference `json:"differences"`
	// LastApplied is what the newest recorded apply that changed this resource set on it; only
	// for failing resources, nil when history has none.
	LastApplied *AppliedChange `json:"last_applied,omitempty"`
}

// Difference is one attribute whose live value is not the expected one. Expected and Actual are
// in HCL syntax, "(sensitive value)" for sensitive attributes.
type Difference struct {
	Attribute string `json:"attribute"`
	Kind      string `json:"kind"` // KindConfiguration or KindState
	Expected  string `json:"expected"`
	Actual    string `json:"actual"`
}

// Failing tells whether the resource counts as drift: anything but in sync with the
// configuration, apart from resources removed from it.
func (r *Resource) Failing() bool {
	switch r.Status {
	case Drifted, Missing, Unreadable, Deferred:
		return true
	}
	return false
}

// Drifted lists the failing resources.
func (r *Report) Drifted() []Resource {
	var out []Resource
	for _, res := range r.Resources {
		if res.Failing() {
			out = append(out, res)
		}
	}
	return out
}

// HasDrift tells whether any resource drifted (the exit code 2 case).
func (r *Report) HasDrift() bool { return len(r.Drifted()) > 0 || r.Uncovered > 0 }

// FromPlan builds a report from a refresh-only plan: for each managed resource, the attributes
// whose live value differs from the configuration (rc.Changes) and from the last apply (rc.Drift).
// cfg, when given, locates each resource's block.
func FromPlan(p *plan.Plan, cfg *spec.Config, tool, version string, excluded []string) *Report {
	r := &Report{Tool: tool, Version: version, Excluded: excluded, Sandbox: p.Sandbox}
	if p.Coverage != nil {
		r.Uncovered, r.Coverage = p.Coverage.Uncovered, p.Coverage
	}
	for _, rc := range p.Changes {
		if rc.Data {
			continue
		}
		res := Resource{Address: rc.Addr, Type: rc.Type, Provider: rc.Provider, Status: InSync, Differences: []Difference{}}
		if cfg != nil {
			if decl := cfg.Resources[rc.Addr]; decl != nil {
				res.File, res.Line = decl.DeclRange.Filename, decl.DeclRange.Start.Line
			}
		}
		switch {
		case rc.Action == providers.Deferred && rc.CouldNotRead:
			res.Status, res.Reason = Unreadable, rc.Reason
		case rc.Action == providers.Deferred:
			res.Status, res.Reason = Deferred, rc.Reason
		case rc.Config == cty.NilVal || rc.Config.IsNull():
			// Only in state (removed from configuration): not a drift of the configuration.
			if rc.Before.IsNull() {
				res.Status, res.Reason = Skipped, "removed from the configuration, and the object no longer exists"
			} else {
				res.Status, res.Reason = Skipped, "removed from the configuration; c4sctl plan shows what happens to it"
			}
		case rc.Before.IsNull():
			res.Status = Missing
			for _, ch := range rc.Changes {
				res.Differences = append(res.Differences, Difference{Attribute: ch.Name, Kind: KindConfiguration, Expected: show(rc, ch.Name, ch.After), Actual: "(object does not exist)"})
			}
		default:
			for _, ch := range rc.Changes {
				res.Differences = append(res.Differences, Difference{Attribute: ch.Name, Kind: KindConfiguration, Expected: show(rc, ch.Name, ch.After), Actual: show(rc, ch.Name, ch.Before)})
			}
			inConfig := map[string]bool{}
			for _, ch := range rc.Changes {
				inConfig[ch.Name] = true
			}
			for _, d := range rc.Drift {
				if inConfig[d.Name] {
					continue // already reported against the configuration
				}
				res.Differences = append(res.Differences, Difference{Attribute: d.Name, Kind: KindState, Expected: show(rc, d.Name, d.Before), Actual: show(rc, d.Name, d.After)})
			}
			if len(res.Differences) > 0 {
				res.Status = Drifted
			}
		}
		r.Resources = append(r.Resources, res)
	}
	sort.SliceStable(r.Resources, func(i, j int) bool { return r.Resources[i].Address < r.Resources[j].Address })
	return r
}

func show(rc *plan.ResourceChange, name string, v cty.Value) string {
	if rc.IsSensitive(name) {
		return plan.SensitiveValue
	}
	return plan.FormatValue(v)
}

// Summary is a one-line count, e.g. "2 of 5 resources drifted".
func (r *Report) Summary() string {
	n := len(r.Drifted())
	if n == 0 && r.Uncovered > 0 {
		return fmt.Sprintf("Not in sync: %d resource(s) match the configuration, but %d seller(s) are not covered.", r.count(InSync), r.Uncovered)
	}
	if n == 0 && r.Sandbox {
		return fmt.Sprintf("No drift (sandbox — not a real tenant): %d resource(s) in the c4sctl sandbox match the configuration.", r.count(InSync))
	}
	if n == 0 {
		return fmt.Sprintf("No drift: %d resource(s) match the configuration.", r.count(InSync))
	}
	line := fmt.Sprintf("Drift: %d of %d resource(s) differ from the configuration or the last apply", n, len(r.Resources))
	var not []string
	if k := r.count(Unreadable); k > 0 {
		not = append(not, fmt.Sprintf("%d could not be read", k))
	}
	if k := r.count(Deferred); k > 0 {
		not = append(not, fmt.Sprintf("%d deferred", k))
	}
	if len(not) > 0 {
		line += " (" + strings.Join(not, ", ") + ")"
	}
	if r.Uncovered > 0 {
		line += fmt.Sprintf("; %d seller(s) are not covered", r.Uncovered)
	}
	return line + "."
}

func (r *Report) count(s Status) int {
	n := 0
	for _, res := range r.Resources {
		if res.Status == s {
			n++
		}
	}
	return n
}

// Message describes a failing resource in one paragraph.
func (res *Resource) Message() string {
	switch res.Status {
	case Missing:
		return fmt.Sprintf("%s does not exist.", res.Address)
	case Unreadable:
		return fmt.Sprintf("%s could not be read: %s.", res.Address, strings.TrimSuffix(res.Reason, "."))
	case Deferred:
		return fmt.Sprintf("%s cannot be checked, so it is not deployed: %s.", res.Address, strings.TrimSuffix(res.Reason, "."))
	}
	var parts []string
	for _, d := range res.Differences {
		parts = append(parts, d.String())
	}
	return fmt.Sprintf("%s differs: %s.", res.Address, strings.Join(parts, "; "))
}

func (d Difference) String() string {
	if d.Kind == KindState {
		return fmt.Sprintf("%s changed outside c4sctl since the last apply: was %s, is %s", d.Attribute, d.Expected, d.Actual)
	}
	return fmt.Sprintf("%s is %s, configuration wants %s", d.Attribute, d.Actual, d.Expected)
}

// Writer writes one report format.
type Writer func(io.Writer, *Report) error

// Writers maps each --report kind to its writer.
var Writers = map[string]Writer{
	"junit":    WriteJUnit,
	"sarif":    WriteSARIF,
	"markdown": WriteMarkdown,
	"json":     WriteJSON,
}

// Kinds lists the report kinds, sorted.
func Kinds() []string {
	var out []string
	for k := range Writers {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
