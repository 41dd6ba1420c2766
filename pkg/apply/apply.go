// Package apply carries out a plan: it walks the plan's dependency graph (independent changes in
// parallel), makes each change through its provider, re-reads the object to check that the
// change stuck, and records each completed change in state at once.
package apply

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/c4sctl/c4sctl/pkg/graph"
	"github.com/c4sctl/c4sctl/pkg/plan"
	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/spec"
	"github.com/c4sctl/c4sctl/pkg/state"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// StateWriter persists state (state.Local in the CLI).
type StateWriter interface {
	Write(*state.State) error
}

// Event reports progress on one change.
type Event struct {
	Addr    string
	Action  providers.Action
	Done    bool
	Err     error
	ID      string
	Elapsed time.Duration
	// Still marks a change that is still running, StillEvery after it started and every
	// StillEvery since; Progress is its provider's last report, if any.
	Still    bool
	Progress *providers.Progress
}

// DefaultStillEvery is how often a running change is reported (Terraform's cadence).
const DefaultStillEvery = 10 * time.Second

// Applier applies a plan.
type Applier struct {
	Plan    *plan.Plan
	Config  *spec.Config
	Eval    *spec.Evaluator
	State   *state.State
	Backend StateWriter
	Clients plan.Clients
	// Concurrency bounds the changes in flight (default 4).
	Concurrency int
	Progress    func(Event)
	// StillEvery is how often a change still running is reported through Progress (default
	// DefaultStillEvery).
	StillEvery time.Duration
}

// Result says what happened to each planned change. Every address the plan holds, apart from
// no-ops and data sources, is in exactly one of the lists.
type Result struct {
	Applied []string // made (create, update, delete, forget)
	Failed  []string // attempted and not made
	// Partial changes were made in part: the provider answered with the object and an error
	// (created, but its members could not be set). State holds what was made, marked partial.
	Partial []string
	Skipped []string // not attempted: a dependency failed, or the run was interrupted
	Manual  []string // left for the admin to make by hand (pending)
	// Deferred could not be planned (a prerequisite does not exist, or an object in state can no
	// longer be read): nothing was attempted for them.
	Deferred []string
	// Imported are the existing objects adopted into state (the plan's "will be imported"); they
	// are also in Applied when something else changed, and may be in Manual.
	Imported []string
	Errors   map[string]error
	Notes    map[string][]string
}

// OK tells whether nothing failed: every change was made, or left for a person or for later.
func (r *Result) OK() bool { return len(r.Failed) == 0 && len(r.Partial) == 0 && len(r.Skipped) == 0 }

// Complete tells whether everything planned was made: the one case for "Apply complete!".
func (r *Result) Complete() bool { return r.OK() && len(r.Manual) == 0 && len(r.Deferred) == 0 }

// PartialError is a change the provider made in part: it returned the object's identity and an
// error. Apply records the object as re-read in state, marked partial, and reports the error.
type PartialError struct {
	ID  string
	Err error
}

func (e *PartialError) Error() string { return fmt.Sprintf("partly applied: %v", e.Err) }
func (e *PartialError) Unwrap() error { return e.Err }

// reportWhileRunning reports the change every StillEvery until the returned func is called.
func (a *Applier) reportWhileRunning(addr string, action providers.Action, start time.Time, last *atomic.Pointer[providers.Progress]) (stop func()) {
	every := a.StillEvery
	if every <= 0 {
		every = DefaultStillEvery
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				a.Progress(Event{Addr: addr, Action: action, Still: true, Elapsed: time.Since(start), Progress: last.Load()})
			}
		}
	}()
	return func() {
		close(done)
		<-finished // no report after the change's own Done event
	}
}

// Apply carries out the plan. It returns an error only when state could not be written; change
// failures are in the Result, and independent changes still run.
func (a *Applier) Apply(ctx context.Context) (*Result, error) {
	res := &Result{Errors: map[string]error{}, Notes: map[string][]string{}}
	if a.Plan.RefreshOnly {
		return res, a.refreshOnly()
	}
	byAddr := map[string]*plan.ResourceChange{}
	var nodes []string
	for _, rc := range a.Plan.Changes {
		byAddr[rc.Addr] = rc
		nodes = append(nodes, rc.Addr)
	}
	var mu sync.Mutex // guards known, State, res and serialises state writes
	known := map[string]cty.Value{}
	for _, rc := range a.Plan.Changes {
		switch rc.Action {
		case providers.Read, providers.NoOp, providers.Manual:
			known[rc.Addr] = spec.MarkSensitiveAttrs(rc.Before, rc.Sensitive)
		}
	}
	var stateErr error
	record := func(fn func()) {
		mu.Lock()
		defer mu.Unlock()
		fn()
		if err := a.Backend.Write(a.State); err != nil && stateErr == nil {
			stateErr = err
		}
	}
	conc := a.Concurrency
	if conc <= 0 {
		conc = 4
	}
	// Cancelling ctx (an interrupt) stops new changes from starting, but a change already sent
	// runs to its end, so that what the tenant holds is known and recorded in state.
	work := context.WithoutCancel(ctx)
	walk := graph.Walk(ctx, nodes, func(n string) []string { return byAddr[n].DependsOn }, conc, func(_ context.Context, addr string) error {
		rc := byAddr[addr]
		mu.Lock()
		if stateErr != nil {
			mu.Unlock()
			return fmt.Errorf("not attempted: state could not be saved")
		}
		snapshot := make(map[string]cty.Value, len(known))
		for k, v := range known {
			snapshot[k] = v
		}
		mu.Unlock()
		start := time.Now()
		cctx, stop := work, func() {}
		if isChange(rc.Action) && a.Progress != nil {
			a.Progress(Event{Addr: addr, Action: rc.Action})
			var last atomic.Pointer[providers.Progress]
			cctx = providers.WithProgress(work, func(p providers.Progress) { last.Store(&p) })
			stop = a.reportWhileRunning(addr, rc.Action, start, &last)
		}
		var after cty.Value
		var id string
		var notes []string
		err := graph.Guard(func() (err error) {
			after, id, notes, err = a.applyOne(cctx, rc, snapshot)
			return err
		})
		stop()
		if isChange(rc.Action) && a.Progress != nil {
			a.Progress(Event{Addr: addr, Action: rc.Action, Done: true, Err: err, ID: id, Elapsed: time.Since(start)})
		}
		var partial *PartialError
		if errors.As(err, &partial) {
			// What was made is recorded, so that the next plan diffs against it rather than
			// creating the object a second time.
			record(func() {
				if setErr := a.State.Set(addr, rc.Type, rc.Provider, id, after, sensitiveNames(rc)); setErr != nil && stateErr == nil {
					stateErr = setErr
				}
				a.State.MarkPartial(addr, partial.Err.Error())
			})
		}
		if err != nil {
			return err
		}
		record(func() {
			if len(notes) > 0 {
				res.Notes[addr] = append(res.Notes[addr], notes...)
			}
			// A moved block's move is recorded with the object's first change at its new address.
			if rc.PrevAddr != "" && a.State.Get(rc.PrevAddr) != nil && a.State.Get(addr) == nil {
				if err := a.State.Move(rc.PrevAddr, addr); err != nil && stateErr == nil {
					stateErr = err
				}
			}
			switch rc.Action {
			case providers.Delete, providers.Forget:
				a.State.Remove(addr)
			case providers.Read, providers.Deferred:
			default:
				if err := a.State.Set(addr, rc.Type, rc.Provider, id, after, sensitiveNames(rc)); err != nil && stateErr == nil {
					stateErr = err
				}
				known[addr] = spec.MarkSensitiveAttrs(after, rc.Sensitive)
			}
		})
		return nil
	})
	if stateErr == nil {
		before, _ := json.Marshal(a.State.Outputs)
		a.recordOutputs(known)
		if after, _ := json.Marshal(a.State.Outputs); string(after) != string(before) {
			record(func() {})
		}
	}
	for _, addr := range nodes {
		rc := byAddr[addr]
		switch walk.Status[addr] {
		case graph.Done:
			if rc.Importing {
				res.Imported = append(res.Imported, addr)
			}
			switch {
			case rc.Action == providers.Manual:
				res.Manual = append(res.Manual, addr)
			case isChange(rc.Action):
				res.Applied = append(res.Applied, addr)
			case rc.Action == providers.Deferred:
				res.Deferred = append(res.Deferred, addr)
			}
		case graph.Failed:
			var partial *PartialError
			if errors.As(walk.Errors[addr], &partial) {
				res.Partial = append(res.Partial, addr)
			} else {
				res.Failed = append(res.Failed, addr)
			}
			res.Errors[addr] = walk.Errors[addr]
		case graph.Skipped:
			switch {
			case rc.Action == providers.Deferred:
				res.Deferred = append(res.Deferred, addr)
			case isChange(rc.Action) || rc.Action == providers.Manual:
				res.Skipped = append(res.Skipped, addr)
			}
		}
	}
	for _, xs := range [][]string{res.Applied, res.Failed, res.Partial, res.Skipped, res.Manual, res.Deferred, res.Imported} {
		sort.Strings(xs)
	}
	return res, stateErr
}

// recordOutputs keeps the configuration's outputs in state, evaluated with the values as applied.
// An output that cannot be evaluated now (it reads a change that failed or was not attempted)
// keeps its last stored value; an output no longer in the configuration is dropped, as
// Terraform does.
func (a *Applier) recordOutputs(known map[string]cty.Value) {
	if a.Eval == nil || a.Config == nil {
		return
	}
	if a.Plan.Destroy {
		// Terraform's destroy leaves no outputs: what they described is gone.
		a.State.Outputs = nil
		return
	}
	outs, _ := a.Eval.Outputs(known)
	for name := range a.State.Outputs {
		if _, ok := a.Config.Outputs[name]; !ok {
			delete(a.State.Outputs, name)
		}
	}
	for name, ov := range outs {
		if ov.Value == cty.NilVal || !ov.Value.IsWhollyKnown() {
			continue
		}
		// A value that cannot be encoded keeps the last stored one, as an unknown does.
		_ = a.State.SetOutput(name, ov.Value, ov.Sensitive)
	}
}

func isChange(a providers.Action) bool {
	switch a {
	case providers.Create, providers.Update, providers.Delete, providers.Forget:
		return true
	}
	return false
}

func sensitiveNames(rc *plan.ResourceChange) []string {
	out := append([]string(nil), rc.Sensitive...)
	if rc.Schema != nil {
		out = append(out, rc.Schema.SensitivePaths()...)
	}
	return out
}

// applyOne makes one change and returns the object's value and identity afterwards.
func (a *Applier) applyOne(ctx context.Context, rc *plan.ResourceChange, known map[string]cty.Value) (cty.Value, string, []string, error) {
	switch rc.Action {
	case providers.Read, providers.NoOp, providers.Manual:
		return rc.Before, rc.ID, nil, nil
	case providers.Deferred:
		return cty.NilVal, "", nil, nil
	case providers.Forget:
		return cty.NilVal, "", nil, nil
	}
	client, err := a.Clients.Client(ctx, rc.Provider)
	if err != nil {
		return cty.NilVal, "", nil, err
	}
	if rc.Action == providers.Delete {
		resp, err := client.Apply(ctx, providers.ApplyRequest{Type: rc.Type, Action: providers.Delete, ID: rc.ID, Prior: rc.Before, Planned: rc.After})
		if err != nil {
			return cty.NilVal, "", nil, err
		}
		// Read back as the orphan it now is: located by what state recorded (or, from a saved
		// plan without it, what plan read), so that it is this object that is checked gone.
		prior := rc.Prior
		if prior == cty.NilVal || prior.IsNull() {
			prior = rc.Before
		}
		live, err := client.Read(ctx, providers.ReadRequest{Type: rc.Type, ID: rc.ID, Config: cty.NullVal(rc.Schema.ImpliedType()), Prior: prior})
		if err != nil {
			return cty.NilVal, "", nil, fmt.Errorf("deleted, but re-reading it failed: %w", err)
		}
		if live.ID != "" {
			return cty.NilVal, "", nil, fmt.Errorf("the provider reported the delete as done, but the object %s still exists", rc.ID)
		}
		return cty.NilVal, "", resp.Notes, nil
	}

	// Values that depended on unapplied changes are known now: evaluate the configuration again.
	r := a.Config.Resources[rc.Addr]
	config := rc.Config
	if r != nil && !rc.After.IsWhollyKnown() {
		c, _, diags := a.Eval.ResourceConfig(r, known)
		if diags.HasErrors() {
			return cty.NilVal, "", nil, fmt.Errorf("evaluate configuration: %s", diags.Error())
		}
		config = c
	}
	var ignore []string
	if r != nil {
		ignore = r.IgnoreChanges
	}
	managed := plan.Managed(rc.Schema, config, ignore)
	planned := unknownAsNull(plan.Planned(rc.Schema, rc.Before, config, managed))
	if !planned.IsWhollyKnown() {
		return cty.NilVal, "", nil, fmt.Errorf("some values are still unknown after their dependencies were applied")
	}
	resp, err := client.Apply(ctx, providers.ApplyRequest{Type: rc.Type, Action: rc.Action, ID: rc.ID, Prior: rc.Before, Planned: planned})
	if err != nil && resp.ID != "" {
		// Made in part (created, then setting its members failed): the object exists. Read it
		// back so that state holds what was made and the next plan shows only the rest.
		live, rerr := client.Read(ctx, providers.ReadRequest{Type: rc.Type, ID: resp.ID, Config: config})
		if rerr != nil || live.ID == "" || live.Value.IsNull() {
			return cty.NilVal, "", nil, fmt.Errorf("%w (the provider answered with object %s, but it cannot be read back)", err, resp.ID)
		}
		return live.Value, live.ID, resp.Notes, &PartialError{ID: live.ID, Err: err}
	}
	if err != nil {
		return cty.NilVal, "", nil, err
	}
	id := resp.ID
	if id == "" {
		id = rc.ID
	}
	live, err := client.Read(ctx, providers.ReadRequest{Type: rc.Type, ID: id, Config: config})
	if err != nil {
		return cty.NilVal, id, nil, fmt.Errorf("changed, but re-reading it failed: %w", err)
	}
	if live.ID == "" || live.Value.IsNull() {
		return cty.NilVal, id, nil, fmt.Errorf("the provider reported the change as done, but the object cannot be found afterwards")
	}
	if diff := plan.Diff(managed, live.Value, planned); len(diff) > 0 {
		d := diff[0]
		show := func(v cty.Value) string {
			if a := rc.Schema.Attribute(d.Name); a != nil && a.Sensitive {
				return "(sensitive value)"
			}
			return plan.FormatValue(v)
		}
		return cty.NilVal, live.ID, nil, fmt.Errorf("the change did not stick: after apply, %s is %s but %s was set (%d attribute(s) differ). Another process may be changing it, or the API ignored the value; run plan again to see the live state", d.Name, show(d.Before), show(d.After), len(diff))
	}
	return live.Value, live.ID, resp.Notes, nil
}

// refreshOnly records the live values of every object in state without changing anything.
func (a *Applier) refreshOnly() error {
	for _, rc := range a.Plan.Changes {
		if rc.Data || rc.Action == providers.Deferred || rc.Before == cty.NilVal || rc.Before.IsNull() {
			continue
		}
		if a.State.Get(rc.Addr) == nil {
			continue
		}
		if err := a.State.Set(rc.Addr, rc.Type, rc.Provider, rc.ID, rc.Before, sensitiveNames(rc)); err != nil {
			return err
		}
	}
	// Outputs follow the live values, as Terraform's refresh-only apply updates them.
	known := map[string]cty.Value{}
	for _, rc := range a.Plan.Changes {
		if rc.Before != cty.NilVal && !rc.Before.IsNull() {
			known[rc.Addr] = spec.MarkSensitiveAttrs(rc.Before, rc.Sensitive)
		}
	}
	a.recordOutputs(known)
	return a.Backend.Write(a.State)
}

// unknownAsNull turns values left unknown (computed attributes of an object being created) into
// nulls: the provider sees "not set" and the API chooses.
func unknownAsNull(v cty.Value) cty.Value {
	out, _ := cty.Transform(v, func(_ cty.Path, v cty.Value) (cty.Value, error) {
		if !v.IsKnown() {
			return cty.NullVal(v.Type()), nil
		}
		return v, nil
	})
	if out == cty.NilVal {
		return v
	}
	if conv, err := convert.Convert(out, v.Type()); err == nil {
		return conv
	}
	return out
}
