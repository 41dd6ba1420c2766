// Package plan refreshes the live state of every declared resource through its provider, diffs
// it against the configuration and the last-applied state, and holds the ordered actions that
// apply will carry out.
package plan

import (
	"fmt"
	"sort"
	"strings"

	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/schema"
	"github.com/zclconf/go-cty/cty"
)

// Plan is the result of planning: one change per resource address, in apply order
// (dependencies first).
type Plan struct {
	Changes []*ResourceChange
	// RefreshOnly plans record drift and make no change.
	RefreshOnly bool
	// Destroy plans remove every object in state (Options.Destroy).
	Destroy bool
	// Outputs are the configuration's outputs as far as they are known at plan time.
	Outputs map[string]OutputValue
	// Coverage is what the sellers actually get (nil when not computed): sellers not covered
	// make the plan not clean, like a resource that could not be planned.
	Coverage *Coverage
	// Labels name ids the plan shows (lowercased id -> display name; see collectLabels): a
	// labelled id reads "b1b0..." (Copilot for Sales) in every rendering.
	Labels map[string]string
	// Sandbox marks a plan made against the c4sctl sandbox (the emulator), not a real tenant and
	// org: every rendering says so, so that a sandbox result is never read as a real one.
	Sandbox bool
}

// SandboxNote is the one line every rendering of a sandbox plan or report carries.
const SandboxNote = "sandbox: true — planned against the c4sctl sandbox (an emulator), not a real tenant or org"

// Coverage is the seller coverage: which Teams policies the members of the seller group get,
// and how their Salesforce users compare (Reconciliation). JSON: docs/json-plan.md.
type Coverage struct {
	Group     string `json:"group"`     // the seller group as the configuration names it
	Sellers   int    `json:"sellers"`   // members of the group
	Teams     bool   `json:"teams"`     // the Teams policies were computed (Lines, Uncovered)
	Uncovered int    `json:"uncovered"` // sellers who lack the licence, transcription or the Copilot for Sales app
	// Licensed is how many sellers hold the licence (when the Teams policies were computed and
	// the licence's SKU could be read; nil otherwise).
	Licensed *int     `json:"licensed,omitempty"`
	Lines    []string `json:"lines"` // one per group of sellers with the same outcome, human-readable
	Notes    []string `json:"notes"` // how it was computed, and what it could not see
	// Reconciliation is the Entra-Salesforce comparison (nil when the configuration manages no
	// Salesforce permission set). Its findings are warnings: they never make a plan unclean.
	Reconciliation *Reconciliation `json:"reconciliation,omitempty"`
}

// licensedNote is the coverage heading's licence count ("; 200 licensed"), "" when not read.
func (c *Coverage) licensedNote() string {
	if c.Licensed == nil {
		return ""
	}
	return fmt.Sprintf("; %d licensed", *c.Licensed)
}

// Reconciliation compares the licensed sellers with the Salesforce users they sign in as. Lists
// are complete and sorted; the human and Markdown renderings show counts and the first names.
type Reconciliation struct {
	PermissionSet string         `json:"permission_set"`          // API name of the sellers' permission set
	ConnectedApp  string         `json:"connected_app,omitempty"` // the app checked ("" when none is declared)
	MatchBy       []string       `json:"match_by"`                // rules, in order (federation_id, email)
	Licensed      int            `json:"licensed"`                // sellers holding the licence
	Matched       int            `json:"matched"`                 // licensed sellers with a Salesforce user
	MatchedBy     map[string]int `json:"matched_by"`              // matches per rule
	Ready         int            `json:"ready"`                   // matched and passing every check
	Missing       []string       `json:"missing"`                 // licensed sellers without a Salesforce user
	Inactive      []SellerUser   `json:"inactive"`
	NoPermSet     []SellerUser   `json:"no_permission_set"`
	NoAPI         []SellerUser   `json:"no_api_enabled"`
	NotAllowed    []SellerUser   `json:"not_allowed_by_app"`
	Unlicensed    []string       `json:"unlicensed"` // Salesforce usernames holding the set, matching no licensed seller
	// AppChecked: not_allowed_by_app was computed (the connected app is declared and installed).
	AppChecked bool     `json:"app_checked"`
	Notes      []string `json:"notes"`
}

// SellerUser is a seller (user principal name) and their Salesforce user (username).
type SellerUser struct {
	Seller   string `json:"seller"`
	Username string `json:"username"`
}

// ShowNames is how many names the human and Markdown renderings show per finding.
const ShowNames = 5

// Warnings are the reconciliation's findings, one line each: a count and the first names.
func (r *Reconciliation) Warnings() []string {
	if r == nil {
		return nil
	}
	var out []string
	first := func(xs []string) string {
		if len(xs) <= ShowNames {
			return strings.Join(xs, ", ")
		}
		return fmt.Sprintf("%s and %d more", strings.Join(xs[:ShowNames], ", "), len(xs)-ShowNames)
	}
	pairs := func(ps []SellerUser) string {
		xs := make([]string, len(ps))
		for i, p := range ps {
			xs[i] = p.Seller + " (" + p.Username + ")"
		}
		return first(xs)
	}
	if n := len(r.Missing); n > 0 {
		out = append(out, fmt.Sprintf("%d licensed seller(s) have no Salesforce user (matched by %s): %s", n, strings.Join(r.MatchBy, ", then "), first(r.Missing)))
	}
	for _, f := range []struct {
		l    []SellerUser
		what string
	}{
		{r.Inactive, "an inactive Salesforce user"},
		{r.NoPermSet, "a Salesforce user without the permission set " + r.PermissionSet},
		{r.NoAPI, "a Salesforce user without API Enabled (neither profile nor permission set)"},
		{r.NotAllowed, fmt.Sprintf("a Salesforce user the connected app %q does not let through (no admin-approved profile or permission set)", r.ConnectedApp)},
	} {
		if len(f.l) > 0 {
			out = append(out, fmt.Sprintf("%d licensed seller(s) have %s: %s", len(f.l), f.what, pairs(f.l)))
		}
	}
	if n := len(r.Unlicensed); n > 0 {
		out = append(out, fmt.Sprintf("%d Salesforce user(s) hold the permission set %s but match no licensed seller: %s", n, r.PermissionSet, first(r.Unlicensed)))
	}
	return out
}

// OutputValue is an output's planned value.
type OutputValue struct {
	Value     cty.Value
	Sensitive bool
}

// ResourceChange is the planned change of one resource.
type ResourceChange struct {
	Addr     string
	Type     string
	Provider string
	Data     bool // a data source (Action is Read)
	Action   providers.Action
	ID       string

	// Importing marks an object that exists but that state does not hold under this address: it
	// was found by its natural key, and apply adopts it (records it in state) after review, as
	// Terraform's import blocks do. Action stays what the diff says (no-op or update).
	Importing bool
	// PrevAddr is the address state held the object under before a moved block (or a chain of
	// them) moved it here; "" when it was not moved. Apply records the move in state.
	PrevAddr string

	// Before is the live value (null when the object does not exist). After is the value it will
	// have (unknown parts are known only after apply; null for delete). Config is the evaluated
	// configuration. Prior is the last-applied value from state (cty.NilVal when not in state).
	Before, After, Config, Prior cty.Value

	// Changes are the managed attributes that differ between Before and After.
	Changes []AttrChange
	// Drift are the managed attributes that differ between Prior (state) and Before (live):
	// changed outside c4sctl since the last apply.
	Drift []AttrChange

	// Sensitive lists attribute names whose values are masked everywhere.
	Sensitive []string
	// DependsOn are the addresses this resource waits for.
	DependsOn []string

	Manual *providers.ManualAction
	Reason string // why the change is deferred
	// CouldNotRead marks a deferred resource that state holds: it was deployed, and now it, or
	// the object it acts on, can no longer be read (an environment deleted, a group renamed).
	// Unlike a prerequisite not created yet, this is never "not yet": it is drift.
	CouldNotRead bool
	// ReadError marks a CouldNotRead resource whose read failed: the provider answered an error
	// or could not sign in (Reason has the error). The object may well be in sync; nobody knows.
	ReadError bool
	// Cause is the innermost error of a failed read (ReadError), without the wrappers that
	// name the request: a wrong client secret fails every resource of a provider with the same
	// Cause, and the error is printed once per provider and cause (SameCause).
	Cause    string `json:"-"`
	Warnings []string
	Notes    []string

	Schema *schema.Resource `json:"-"`

	labels map[string]string // the plan's Labels, for renderings
	// readLabels are the names its read learned (providers.ReadResponse.Labels).
	readLabels map[string]string
	// unnamed are the ids its read could not name (providers.ReadResponse.Unnamed), by kind.
	unnamed map[string][]string
}

// AttrChange is one attribute's before and after.
type AttrChange struct {
	Name          string
	Before, After cty.Value
}

// IsSensitive tells whether the attribute's value must be masked.
func (rc *ResourceChange) IsSensitive(name string) bool {
	for _, s := range rc.Sensitive {
		if s == name {
			return true
		}
	}
	if rc.Schema != nil {
		if a := rc.Schema.Attribute(name); a != nil && a.Sensitive {
			return true
		}
	}
	return false
}

// Summary counts changes by kind; each resource is counted once.
type Summary struct {
	Add     int // created
	Import  int // found by natural key and adopted into state (see the plan's import marks)
	Change  int // updated in place
	Destroy int // deleted
	Forget  int // removed from state, left as they are
	Manual  int // changes the admin makes by hand
	// Deferred cannot be planned yet: a prerequisite was never created (never in state).
	Deferred int
	// CouldNotRead are in state, but they or their target can no longer be read, or their
	// provider failed to read them (ResourceChange.ReadError).
	CouldNotRead int
	// Moved are objects a moved block moves to a new address (counted on top of the above).
	Moved int
	// Drifted changed outside c4sctl since the last apply (counted on top of the above).
	Drifted int
	// Uncovered sellers lack what Copilot for Sales needs (see Plan.Coverage): never clean.
	Uncovered int
}

// ToApply counts what apply would do or ask a person to do.
func (s Summary) ToApply() int {
	return s.Add + s.Import + s.Change + s.Destroy + s.Forget + s.Manual + s.Moved
}

// Unplanned counts the resources that could not be planned: never clean.
func (s Summary) Unplanned() int { return s.Deferred + s.CouldNotRead }

// ReadFailures lists the addresses whose provider failed to read them (ResourceChange.ReadError),
// sorted as the plan is.
func (p *Plan) ReadFailures() []string {
	var out []string
	for _, c := range p.Changes {
		if c.ReadError {
			out = append(out, c.Addr)
		}
	}
	return out
}

// notClean counts what keeps a plan from being clean besides the changes to apply.
func (s Summary) notClean() int { return s.Unplanned() + s.Uncovered }

// Summary counts the plan's changes.
func (p *Plan) Summary() Summary {
	var s Summary
	if p.Coverage != nil {
		s.Uncovered = p.Coverage.Uncovered
	}
	for _, c := range p.Changes {
		if len(c.Drift) > 0 {
			s.Drifted++
		}
		if c.Action == providers.Deferred {
			// Counted in refresh-only plans too: a resource that cannot be read is not in sync.
			if c.CouldNotRead {
				s.CouldNotRead++
			} else {
				s.Deferred++
			}
			continue
		}
		if p.RefreshOnly {
			continue
		}
		if c.Importing {
			s.Import++
		}
		if c.PrevAddr != "" {
			s.Moved++
		}
		switch c.Action {
		case providers.Create:
			s.Add++
		case providers.Update:
			s.Change++
		case providers.Delete:
			s.Destroy++
		case providers.Manual:
			s.Manual++
		case providers.Forget:
			s.Forget++
		}
	}
	return s
}

// HasChanges tells whether the plan is not clean (the --detailed-exitcode 2 case): apply would
// change something or ask for a manual change, or some resource could not be planned (deferred,
// or in state and no longer readable). "No changes" is printed only when it is false. A
// refresh-only plan is not clean when anything drifted or could not be planned.
func (p *Plan) HasChanges() bool {
	s := p.Summary()
	if p.RefreshOnly {
		return s.Drifted > 0 || s.notClean() > 0
	}
	return s.ToApply()+s.notClean() > 0
}

// Change returns the change for addr or nil.
func (p *Plan) Change(addr string) *ResourceChange {
	for _, c := range p.Changes {
		if c.Addr == addr {
			return c
		}
	}
	return nil
}

// Addresses lists the plan's addresses, sorted.
func (p *Plan) Addresses() []string {
	out := make([]string, 0, len(p.Changes))
	for _, c := range p.Changes {
		out = append(out, c.Addr)
	}
	sort.Strings(out)
	return out
}

// SameCause maps each resource whose provider failed to read it (ReadError) with the same
// provider and Cause as an earlier one in p.Changes to the address of that first one, so that
// renderings print the error once per provider and cause and name the others (sameCauseAs, as
// DedupeCauses for diagnostics). A failure without a Cause is grouped by its Reason.
func (p *Plan) SameCause() map[string]string {
	same := sameCauseAs(p.Changes, func(rc *ResourceChange) *Cause {
		switch {
		case !rc.ReadError:
			return nil
		case rc.Cause == "":
			return &Cause{Provider: rc.Provider, Root: "reason: " + rc.Reason}
		}
		return &Cause{Provider: rc.Provider, Root: rc.Cause}
	})
	out := map[string]string{}
	for i, f := range same {
		out[p.Changes[i].Addr] = p.Changes[f].Addr
	}
	return out
}
