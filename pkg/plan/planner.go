package plan

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/c4sctl/c4sctl/pkg/graph"
	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/schema"
	"github.com/c4sctl/c4sctl/pkg/spec"
	"github.com/c4sctl/c4sctl/pkg/state"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Clients gives the configured client of a provider, configuring it on first use.
type Clients interface {
	Client(ctx context.Context, provider string) (providers.Client, error)
}

// Options tune a plan.
type Options struct {
	// Concurrency bounds the reads in flight (default 8).
	Concurrency int
	// Targets restricts planning to these addresses and what they depend on.
	Targets []string
	// Exclude leaves these addresses out of the plan, with every resource that depends on them
	// (see Excluded). It applies after Targets.
	Exclude []string
	// RefreshOnly records drift without planning changes.
	RefreshOnly bool
	// Destroy plans the removal of every object in state, as if every resource block had been
	// removed from the configuration (`plan --destroy`, `destroy`): the same orphan planning,
	// so an object that cannot be deleted (a singleton, the Global policies) is removed from
	// state and left as it is ("stop managing"). Not combined with Targets or Exclude.
	Destroy bool
	// Progress, when set, is told when each resource starts and ends its refresh.
	Progress func(addr string, done bool)
}

// Planner makes plans.
type Planner struct {
	Config   *spec.Config
	Eval     *spec.Evaluator
	State    *state.State
	Registry *providers.Registry
	Clients  Clients
	Options  Options

	// st is State after the configuration's moved blocks; prev maps a moved object's address to
	// its address in State.
	st   *state.State
	prev map[string]string
}

// Plan refreshes every resource and computes its change.
//
// Texts that come from providers (errors, warnings, notes, reasons) quote the configuration they
// were given; the values of sensitive variables are replaced in them (spec.Redact).
func (p *Planner) Plan(ctx context.Context) (*Plan, hcl.Diagnostics) {
	pl, diags := p.plan(ctx)
	diags = DedupeCauses(diags)
	secrets := p.Eval.SensitiveStrings()
	if len(secrets) == 0 {
		return pl, diags
	}
	for _, d := range diags {
		d.Summary, d.Detail = spec.Redact(d.Summary, secrets), spec.Redact(d.Detail, secrets)
	}
	if pl != nil {
		for _, rc := range pl.Changes {
			rc.Reason = spec.Redact(rc.Reason, secrets)
			for i := range rc.Warnings {
				rc.Warnings[i] = spec.Redact(rc.Warnings[i], secrets)
			}
			for i := range rc.Notes {
				rc.Notes[i] = spec.Redact(rc.Notes[i], secrets)
			}
			if m := rc.Manual; m != nil {
				m.Summary = spec.Redact(m.Summary, secrets)
				for i := range m.Steps {
					m.Steps[i] = spec.Redact(m.Steps[i], secrets)
				}
			}
		}
	}
	return pl, diags
}

func (p *Planner) plan(ctx context.Context) (*Plan, hcl.Diagnostics) {
	order, diags := p.Config.Order()
	if diags.HasErrors() {
		return nil, diags
	}
	var mdiags hcl.Diagnostics
	p.st, p.prev, mdiags = moveState(p.Config, p.State)
	diags = append(diags, mdiags...)
	if diags.HasErrors() {
		return nil, diags
	}
	order, tdiags := p.selectTargets(order)
	diags = append(diags, tdiags...)
	if diags.HasErrors() {
		return nil, diags
	}
	if p.Options.Destroy {
		// Nothing is planned from the configuration: every object in state is an orphan.
		order = nil
	}

	var mu sync.Mutex
	known := map[string]cty.Value{}
	changes := map[string]*ResourceChange{}
	var nodeDiags hcl.Diagnostics

	// A resource naming by literal string an object another one declares is planned after it
	// too: an adapter may check at plan time that the named object exists or is being created.
	literal := p.literalDeps(order)
	deps := func(addr string) []string {
		return append(append([]string(nil), p.Config.Dependencies(addr)...), literal[addr]...)
	}
	res := graph.Walk(ctx, order, deps, p.concurrency(), func(ctx context.Context, addr string) error {
		if p.Options.Progress != nil {
			p.Options.Progress(addr, false)
			defer p.Options.Progress(addr, true)
		}
		mu.Lock()
		snapshot := make(map[string]cty.Value, len(known))
		for k, v := range known {
			snapshot[k] = v
		}
		var waitingOn string
		for _, d := range deps(addr) {
			if c := changes[d]; c != nil && c.Action == providers.Deferred {
				waitingOn = d
			}
		}
		mu.Unlock()

		rc, d := p.planResource(ctx, p.Config.Resources[addr], snapshot, waitingOn)
		mu.Lock()
		defer mu.Unlock()
		nodeDiags = append(nodeDiags, d...)
		if rc == nil {
			return fmt.Errorf("%s could not be planned", addr)
		}
		changes[addr] = rc
		// Attributes a sensitive value flowed into stay sensitive in what reads them (outputs).
		known[addr] = spec.MarkSensitiveAttrs(knownValue(rc), rc.Sensitive)
		return nil
	})
	diags = append(diags, nodeDiags...)
	for _, addr := range order {
		if res.Status[addr] == graph.Skipped && res.Errors[addr] != nil && ctx.Err() == nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Not planned", Detail: fmt.Sprintf("%s: %v", addr, res.Errors[addr])})
		}
	}
	if ctx.Err() != nil {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Planning interrupted", Detail: ctx.Err().Error()})
	}
	if diags.HasErrors() {
		return nil, diags
	}

	pl := &Plan{RefreshOnly: p.Options.RefreshOnly, Destroy: p.Options.Destroy}
	for _, addr := range order {
		if c := changes[addr]; c != nil {
			pl.Changes = append(pl.Changes, c)
		}
	}
	orphans, odiags := p.planOrphans(ctx)
	diags = append(diags, odiags...)
	pl.Changes = append(orphans, pl.Changes...) // deletions first: they free names the creates may need
	if diags.HasErrors() {
		return nil, diags
	}
	diags = append(diags, p.checkIdentities(pl.Changes)...)
	if diags.HasErrors() {
		return nil, diags
	}
	labels := collectLabels(pl.Changes)
	p.nameUnlabelled(ctx, pl.Changes, labels)
	pl.setLabels(labels)
	if !p.Options.RefreshOnly {
		orderLiteralNames(pl.Changes, func(addr string) bool { return p.Config.Resources[addr] != nil })
	}

	if p.Options.Destroy {
		return pl, diags // a destroyed configuration has no outputs
	}
	outs, odiags := p.Eval.Outputs(known)
	diags = append(diags, odiags...)
	if len(outs) > 0 {
		pl.Outputs = map[string]OutputValue{}
		for k, v := range outs {
			pl.Outputs[k] = OutputValue{Value: v.Value, Sensitive: v.Sensitive}
		}
	}
	return pl, diags
}

func (p *Planner) concurrency() int {
	if p.Options.Concurrency > 0 {
		return p.Options.Concurrency
	}
	return 8
}

// knownValue is what references to the resource see during planning.
func knownValue(rc *ResourceChange) cty.Value {
	switch rc.Action {
	case providers.Deferred:
		return cty.UnknownVal(rc.Schema.ImpliedType())
	case providers.Read:
		return rc.Before
	}
	if rc.After == cty.NilVal || rc.After.IsNull() {
		return cty.UnknownVal(rc.Schema.ImpliedType())
	}
	return rc.After
}

func (p *Planner) selectTargets(order []string) ([]string, hcl.Diagnostics) {
	if len(p.Options.Targets) == 0 && len(p.Options.Exclude) == 0 {
		return order, nil
	}
	var diags hcl.Diagnostics
	want := map[string]bool{}
	if len(p.Options.Targets) == 0 {
		for _, a := range order {
			want[a] = true
		}
	}
	var add func(string)
	add = func(a string) {
		if want[a] {
			return
		}
		want[a] = true
		for _, d := range p.Config.Dependencies(a) {
			add(d)
		}
	}
	for _, t := range p.Options.Targets {
		if _, ok := p.Config.Resources[t]; !ok {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unknown target", Detail: fmt.Sprintf("--target %s names no resource in the configuration; `c4sctl state list` and the configuration's resource blocks list the addresses.", t)})
			continue
		}
		add(t)
	}
	for _, e := range p.Options.Exclude {
		if _, ok := p.Config.Resources[e]; !ok && p.st.Get(e) == nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unknown exclude", Detail: fmt.Sprintf("--exclude %s names no resource in the configuration or state; `c4sctl state list` and the configuration's resource blocks list the addresses.", e)})
		}
	}
	for _, a := range Excluded(p.Config, p.Options.Exclude) {
		delete(want, a)
	}
	var out []string
	for _, a := range order {
		if want[a] {
			out = append(out, a)
		}
	}
	return out, diags
}

func errDiag(addr, summary string, err error) hcl.Diagnostics {
	return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: summary, Detail: fmt.Sprintf("%s: %v", addr, err)}}
}

func (p *Planner) planResource(ctx context.Context, r *spec.Resource, known map[string]cty.Value, waitingOn string) (*ResourceChange, hcl.Diagnostics) {
	addr := r.Addr()
	rc := &ResourceChange{Addr: addr, Type: r.Type, Provider: r.Schema.Provider, Data: r.Mode == spec.DataResource, Schema: r.Schema, DependsOn: p.Config.Dependencies(addr), Prior: cty.NilVal}
	config, sens, diags := p.Eval.ResourceConfig(r, known)
	if diags.HasErrors() {
		return nil, diags
	}
	rc.Config = config
	rc.Sensitive = sens
	if waitingOn != "" {
		rc.Action = providers.Deferred
		rc.Reason = fmt.Sprintf("waits for %s, which cannot be planned", waitingOn)
		rc.Before, rc.After = cty.NullVal(r.Schema.ImpliedType()), cty.NullVal(r.Schema.ImpliedType())
		return rc, diags
	}
	var id string
	if sr := p.st.Get(addr); sr != nil && !rc.Data {
		id = sr.ID
		prior, err := sr.Value(r.Schema.ImpliedType())
		if err != nil {
			return nil, append(diags, errDiag(addr, "Invalid state", err)...)
		}
		rc.Prior = prior
		if sr.Partial != "" {
			rc.Notes = append(rc.Notes, "the last apply made this change only in part ("+sr.Partial+"); this plan shows what remains")
		}
		rc.PrevAddr = p.prev[addr]
	}
	client, err := p.Clients.Client(ctx, rc.Provider)
	if err != nil {
		if ctx.Err() != nil {
			return nil, append(diags, providerErrDiag(rc.Provider, addr, fmt.Sprintf("Provider %q is not usable", rc.Provider), err)...)
		}
		readFailed(rc, r.Schema, fmt.Sprintf("provider %q is not usable", rc.Provider), err)
		return rc, diags
	}
	live, err := client.Read(ctx, providers.ReadRequest{Type: r.Type, ID: id, Config: config, Prior: rc.Prior})
	if err != nil {
		if ctx.Err() != nil {
			return nil, append(diags, providerErrDiag(rc.Provider, addr, "Cannot read the live object", err)...)
		}
		readFailed(rc, r.Schema, "reading it failed", err)
		return rc, diags
	}
	rc.Warnings = append(rc.Warnings, live.Warnings...)
	rc.readLabels = live.Labels
	rc.unnamed = live.Unnamed
	if live.Deferred != "" {
		rc.Action = providers.Deferred
		rc.Reason = live.Deferred
		if rc.Prior != cty.NilVal {
			rc.CouldNotRead = true
			rc.Reason = couldNotReadReason(id, live.Deferred)
		}
		rc.Before, rc.After = cty.NullVal(r.Schema.ImpliedType()), cty.NullVal(r.Schema.ImpliedType())
		return rc, diags
	}
	before := live.Value
	if before == cty.NilVal {
		before = cty.NullVal(r.Schema.ImpliedType())
	}
	rc.Before = before
	rc.ID = live.ID
	// An object found by its natural key that state does not hold is adopted only through a
	// reviewed plan: "will be imported", counted apart (Terraform's import-block wording). A
	// value without an id (a connected app not installed in the org yet: what the org shows of
	// it, and a manual step) is no object to adopt: it is not "imported from """, and a saved
	// plan that said so could not be read back by show.
	rc.Importing = !rc.Data && rc.Prior == cty.NilVal && !before.IsNull() && live.ID != "" && !p.Options.RefreshOnly

	if rc.Data {
		rc.Action = providers.Read
		if before.IsNull() {
			return nil, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Data source found nothing", Detail: fmt.Sprintf("%s: no object matches the data block's arguments.", addr), Subject: r.DeclRange.Ptr()})
		}
		rc.After = before
		return rc, diags
	}

	managed := Managed(r.Schema, config, r.IgnoreChanges)
	if rc.Prior != cty.NilVal && !before.IsNull() {
		rc.Drift = filterSensitive(rc, driftDiff(r.Schema, liveManaged(r.Schema, managed), rc.Prior, before, config))
	}
	switch {
	case before.IsNull():
		if r.Schema.Singleton {
			return nil, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Object not found", Detail: fmt.Sprintf("%s is a tenant singleton that should always exist, but the provider did not find it. Check the identity in the configuration and the account's permissions.", addr), Subject: r.DeclRange.Ptr()})
		}
		rc.Action = providers.Create
		rc.After = Planned(r.Schema, before, config, managed)
		rc.Changes = Diff(managed, before, rc.After)
	default:
		rc.After = Planned(r.Schema, before, config, managed)
		rc.Changes = Diff(managed, before, rc.After)
		rc.Action = providers.NoOp
		if len(rc.Changes) > 0 {
			rc.Action = providers.Update
		}
	}
	if p.Options.RefreshOnly {
		return rc, diags
	}
	if cp, ok := client.(providers.ChangePlanner); ok {
		resp, err := cp.PlanChange(ctx, providers.PlanRequest{Type: r.Type, ID: rc.ID, Action: rc.Action, Config: config, Prior: before, Planned: rc.After})
		if err != nil {
			return nil, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Change refused", Detail: fmt.Sprintf("%s: %v", addr, err), Subject: r.DeclRange.Ptr()})
		}
		applyRefinement(rc, resp)
	}
	if r.PreventDestroy && rc.Action == providers.Delete {
		return nil, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Instance cannot be destroyed", Detail: fmt.Sprintf("%s has lifecycle.prevent_destroy = true, but the plan would destroy it. Remove prevent_destroy if destroying it is intended.", addr), Subject: r.DeclRange.Ptr()})
	}
	return rc, diags
}

func applyRefinement(rc *ResourceChange, resp providers.PlanResponse) {
	if resp.Action != "" {
		rc.Action = resp.Action
	}
	rc.Manual = resp.Manual
	rc.Warnings = append(rc.Warnings, resp.Warnings...)
	rc.Notes = append(rc.Notes, resp.Notes...)
}

// filterSensitive keeps sensitive attributes in the list but never compares what it cannot see.
// driftDiff is what changed outside c4sctl since the last apply: the managed attributes whose
// state and live values differ to the service. A provider reads live values in the current
// configuration's terms (`description = ""` as "", a name in the configuration's case), while
// state holds them in the terms of the configuration last applied: a value that only moved from
// "" to null or changed case is no change made outside c4sctl. Nor is an element of a Subset
// attribute that the configuration no longer names: Read no longer reports it.
func driftDiff(s *schema.Resource, managed []string, prior, live, config cty.Value) []AttrChange {
	var out []AttrChange
	for _, c := range Diff(managed, prior, live) {
		a := s.Attribute(c.Name)
		if a != nil && a.Subset && !config.IsNull() && config.Type().HasAttribute(c.Name) {
			c.Before = Within(a, c.Before, config.GetAttr(c.Name))
		}
		if !SameToService(a, c.Before, c.After) {
			out = append(out, c)
		}
	}
	return out
}

func filterSensitive(rc *ResourceChange, cs []AttrChange) []AttrChange {
	out := cs[:0]
	for _, c := range cs {
		if rc.IsSensitive(c.Name) {
			continue // sensitive values are not stored in state, so a difference means nothing
		}
		out = append(out, c)
	}
	return out
}

// planOrphans plans resources that are in state but no longer in configuration: deleted, or,
// for objects that cannot be deleted, forgotten.
func (p *Planner) planOrphans(ctx context.Context) ([]*ResourceChange, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	var out []*ResourceChange
	if p.Options.RefreshOnly || len(p.Options.Targets) > 0 {
		return nil, nil
	}
	excluded := map[string]bool{}
	for _, e := range p.Options.Exclude {
		excluded[e] = true
	}
	// Destroy deletes dependents before what they depend on (Terraform's destroy order): the
	// reverse of the configuration's dependencies, among the objects in state.
	dependents := map[string][]string{}
	if p.Options.Destroy {
		for _, addr := range p.st.Addresses() {
			for _, d := range p.Config.Dependencies(addr) {
				if p.st.Get(d) != nil {
					dependents[d] = append(dependents[d], addr)
				}
			}
		}
	}
	for _, addr := range p.st.Addresses() {
		if _, ok := p.Config.Resources[addr]; (ok && !p.Options.Destroy) || excluded[addr] {
			continue
		}
		sr := p.st.Get(addr)
		s := p.Registry.ResourceSchema(sr.Type, false)
		if s == nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unknown resource type in state", Detail: fmt.Sprintf("%s has type %q, which this c4sctl does not know. Use a c4sctl that knows it, or `c4sctl state rm %s` to forget it.", addr, sr.Type, addr)})
			continue
		}
		prior, err := sr.Value(s.ImpliedType())
		if err != nil {
			diags = append(diags, errDiag(addr, "Invalid state", err)...)
			continue
		}
		rc := &ResourceChange{Addr: addr, Type: sr.Type, Provider: s.Provider, Schema: s, ID: sr.ID, Prior: prior, Config: cty.NullVal(s.ImpliedType()), After: cty.NullVal(s.ImpliedType()), Sensitive: sr.Sensitive, PrevAddr: p.prev[addr], DependsOn: dependents[addr]}
		client, err := p.Clients.Client(ctx, s.Provider)
		if err != nil && ctx.Err() == nil {
			readFailed(rc, s, fmt.Sprintf("provider %q is not usable", s.Provider), err)
			rc.Reason += orphanNote(addr)
			out = append(out, rc)
			continue
		} else if err != nil {
			diags = append(diags, providerErrDiag(s.Provider, addr, fmt.Sprintf("Provider %q is not usable", s.Provider), err)...)
			continue
		}
		live, err := client.Read(ctx, providers.ReadRequest{Type: sr.Type, ID: sr.ID, Config: cty.NullVal(s.ImpliedType()), Prior: prior})
		if err != nil && ctx.Err() == nil {
			readFailed(rc, s, "reading it failed", err)
			rc.Reason += orphanNote(addr)
			out = append(out, rc)
			continue
		} else if err != nil {
			diags = append(diags, providerErrDiag(s.Provider, addr, "Cannot read the live object", err)...)
			continue
		}
		rc.Before = live.Value
		if rc.Before == cty.NilVal {
			rc.Before = cty.NullVal(s.ImpliedType())
		}
		switch {
		case live.ID != "" && sr.ID != "" && !sameObjectID(live.ID, sr.ID):
			// The orphan is located by what state recorded (Prior), and that found another
			// object than the id state holds (state edited by hand or from another tenant or
			// org, an object deleted and another made under its name): neither delete nor
			// forget it, since the delete is sent for the id state holds while the plan would
			// show the other object.
			rc.Action, rc.CouldNotRead = providers.Deferred, true
			rc.Before = cty.NullVal(s.ImpliedType())
			rc.Reason = fmt.Sprintf("state holds id %s, but what state recorded about it now locates another object (id %s): it is neither destroyed nor forgotten; check the state (`c4sctl state show %s`), or `c4sctl state rm %s` forgets it", sr.ID, live.ID, addr, addr)
		case live.Deferred != "":
			// Whether the object still exists is unknown: neither delete nor forget it blindly.
			rc.Action, rc.CouldNotRead = providers.Deferred, true
			rc.Reason = couldNotReadReason(sr.ID, live.Deferred) + orphanNote(addr)
		case live.ID == "" || rc.Before.IsNull():
			rc.Action = providers.Forget
			rc.Notes = append(rc.Notes, NoteGone)
		case s.Singleton:
			rc.Action = providers.Forget
			rc.Notes = append(rc.Notes, "this object cannot be deleted; c4sctl stops managing it and leaves it as it is")
		default:
			rc.Action = providers.Delete
			if cp, ok := client.(providers.ChangePlanner); ok {
				resp, err := cp.PlanChange(ctx, providers.PlanRequest{Type: sr.Type, ID: sr.ID, Action: providers.Delete, Config: rc.Config, Prior: rc.Before, Planned: rc.After})
				if err != nil {
					diags = append(diags, errDiag(addr, "Change refused", err)...)
					continue
				}
				applyRefinement(rc, resp)
			}
		}
		out = append(out, rc)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Addr < out[j].Addr })
	return out, diags
}

// sameObjectID says whether two ids name one object: the services compare ids without case
// (Teams identities, GUIDs, Salesforce's 18-character ids) and a Salesforce id may come in its
// 15-character form.
func sameObjectID(a, b string) bool {
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	if strings.EqualFold(a, b) {
		return true
	}
	if len(a) > len(b) {
		a, b = b, a
	}
	return len(a) == 15 && len(b) == 18 && b[:15] == a
}

// NoteGone is the note of an orphan forgotten because its object no longer exists (apply and
// destroy count it apart from the objects left in place).
const NoteGone = "the object no longer exists; it is removed from state"

// orphanNote ends the reason of an object removed from the configuration that could not be read.
func orphanNote(addr string) string {
	return fmt.Sprintf("; it was removed from the configuration: once its target is back, plan destroys it, or `c4sctl state rm %s` forgets it", addr)
}

// readFailed marks a resource whose provider failed to read it (the API answered an error, could
// not be reached, or the provider could not sign in) as not read: not planned, never in sync.
// The rest of the plan goes on, so that one provider's outage leaves the other providers' results
// and drift's report files (issue 15); the verdict stays red (Plan.ReadFailures). An interrupted
// run (the context cancelled) stays an error instead.
func readFailed(rc *ResourceChange, s *schema.Resource, what string, err error) {
	rc.Action, rc.CouldNotRead, rc.ReadError = providers.Deferred, true, true
	rc.Reason = fmt.Sprintf("%s: %v", what, err)
	if c := causeOf(rc.Provider, err); c != nil {
		rc.Cause = c.Root
	}
	rc.Before, rc.After = cty.NullVal(s.ImpliedType()), cty.NullVal(s.ImpliedType())
}

// couldNotReadReason says why an object in state could not be read. Providers word a missing
// prerequisite for objects not created yet ("does not exist yet"); for an object c4sctl deployed
// the prerequisite did exist, so "yet" would tell the admin to wait for something that was
// deleted or renamed.
func couldNotReadReason(id, deferred string) string {
	what := "it was deployed"
	if id != "" {
		what = fmt.Sprintf("it was deployed (id %s)", id)
	}
	return fmt.Sprintf("%s and can no longer be read: %s", what, noLongerYet.ReplaceAllString(deferred, "${1}no longer exists${2}"))
}

var noLongerYet = regexp.MustCompile(`(^|\s)does not exist( in the [a-z]+)? yet`)

// Describe is a one-line description of an action for progress and summaries.
func Describe(a providers.Action) string {
	switch a {
	case providers.Create:
		return "will be created"
	case providers.Update:
		return "will be updated in-place"
	case providers.Delete:
		return "will be destroyed"
	case providers.Manual:
		return "needs a manual change"
	case providers.Forget:
		return "will no longer be managed"
	case providers.Deferred:
		return "cannot be planned yet"
	case providers.Read:
		return "will be read"
	}
	return strings.ReplaceAll(string(a), "-", " ")
}
