package apply_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/c4sctl/c4sctl/pkg/apply"
	"github.com/c4sctl/c4sctl/pkg/plan"
	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/providers/providertest"
	"github.com/c4sctl/c4sctl/pkg/spec"
	"github.com/c4sctl/c4sctl/pkg/state"
	"github.com/zclconf/go-cty/cty"
)

type memClients struct{ m *providertest.Memory }

func (c memClients) Client(context.Context, string) (providers.Client, error) { return c.m, nil }

// countingBackend records every state write, to check that each change is saved at once.
type countingBackend struct {
	local  *state.Local
	writes int
	fail   bool
}

func (b *countingBackend) Write(s *state.State) error {
	b.writes++
	if b.fail {
		return errors.New("disk full")
	}
	return b.local.Write(s)
}

type run struct {
	mem        *providertest.Memory
	backend    *countingBackend
	st         *state.State
	res        *apply.Result
	err        error
	progress   func(apply.Event) // optional
	stillEvery time.Duration
}

func planAndApply(t *testing.T, src string, r *run) {
	t.Helper()
	reg := providers.NewRegistry(r.mem)
	cfg, diags := spec.LoadFiles("cfg", map[string][]byte{"main.c4s.hcl": []byte(src)}, reg)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	ev, diags := spec.NewEvaluator(cfg, spec.Inputs{})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if r.st == nil {
		r.st = state.New()
	}
	pl, diags := (&plan.Planner{Config: cfg, Eval: ev, State: r.st, Registry: reg, Clients: memClients{r.mem}}).Plan(context.Background())
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	a := &apply.Applier{Plan: pl, Config: cfg, Eval: ev, State: r.st, Backend: r.backend, Clients: memClients{r.mem}, Progress: r.progress, StillEvery: r.stillEvery}
	r.res, r.err = a.Apply(context.Background())
}

const chain = `
resource "mem_setting" "a" {
  identity = "a"
  value    = "a"
}
resource "mem_setting" "b" {
  identity = "b"
  value    = mem_setting.a.id == "a" ? "b" : "c"
}
resource "mem_setting" "solo" {
  identity = "solo"
  enabled  = true
}
`

func newRun(t *testing.T) *run {
	return &run{mem: providertest.NewMemory(), backend: &countingBackend{local: &state.Local{Path: filepath.Join(t.TempDir(), "state.json")}}}
}

func TestApplyConvergesAndRecordsEachChange(t *testing.T) {
	r := newRun(t)
	planAndApply(t, chain, r)
	if r.err != nil || !r.res.OK() {
		t.Fatalf("apply: %v %+v", r.err, r.res)
	}
	if got := strings.Join(r.res.Applied, ","); got != "mem_setting.a,mem_setting.b,mem_setting.solo" {
		t.Errorf("applied %s", got)
	}
	// b's value depended on a's computed id: known only once a was created.
	if v := r.mem.Get("mem_setting", "b").GetAttr("value").AsString(); v != "b" {
		t.Errorf("b.value = %q, want b (evaluated after a was created)", v)
	}
	if r.backend.writes < 3 {
		t.Errorf("state written %d times; want once per change", r.backend.writes)
	}
	saved, err := r.backend.local.Load()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(saved.Addresses(), ","); got != "mem_setting.a,mem_setting.b,mem_setting.solo" {
		t.Errorf("state has %s", got)
	}
	// Second run: nothing to do.
	r.st = saved
	before := r.mem.Calls["apply:create"] + r.mem.Calls["apply:update"]
	planAndApply(t, chain, r)
	if after := r.mem.Calls["apply:create"] + r.mem.Calls["apply:update"]; after != before {
		t.Errorf("second apply made %d changes; want none", after-before)
	}
}

func TestApplyFailureSkipsDependentsOnly(t *testing.T) {
	r := newRun(t)
	r.mem.FailApply["a"] = true
	planAndApply(t, chain, r)
	if r.err != nil {
		t.Fatal(r.err)
	}
	if strings.Join(r.res.Failed, ",") != "mem_setting.a" || strings.Join(r.res.Skipped, ",") != "mem_setting.b" || strings.Join(r.res.Applied, ",") != "mem_setting.solo" {
		t.Fatalf("failed %v skipped %v applied %v", r.res.Failed, r.res.Skipped, r.res.Applied)
	}
	if r.st.Get("mem_setting.solo") == nil || r.st.Get("mem_setting.a") != nil {
		t.Errorf("state should hold solo only: %v", r.st.Addresses())
	}
	// Fix the failure: apply again converges without recreating solo.
	delete(r.mem.FailApply, "a")
	creates := r.mem.Calls["apply:create"]
	planAndApply(t, chain, r)
	if !r.res.OK() || r.mem.Calls["apply:create"]-creates != 2 {
		t.Fatalf("re-apply: %+v, %d creates (want 2: a and b)", r.res, r.mem.Calls["apply:create"]-creates)
	}
}

func TestApplyDetectsChangesThatDoNotStick(t *testing.T) {
	r := newRun(t)
	r.mem.Put("mem_setting", "a", map[string]cty.Value{"identity": cty.StringVal("a"), "value": cty.StringVal("c")})
	r.mem.Unstick["a"] = true
	planAndApply(t, `resource "mem_setting" "a" {
identity = "a"
value = "a"
}`, r)
	err := r.res.Errors["mem_setting.a"]
	if err == nil || !strings.Contains(err.Error(), "did not stick") || !strings.Contains(err.Error(), `value is "c"`) {
		t.Fatalf("error %v; want a 'did not stick' error naming the attribute", err)
	}
}

func TestApplyStopsWhenStateCannotBeSaved(t *testing.T) {
	r := newRun(t)
	r.backend.fail = true
	planAndApply(t, chain, r)
	if r.err == nil {
		t.Fatal("no error although state could not be written")
	}
	// a and solo may already be in flight together; b starts only after a's state write failed,
	// so it must not be attempted.
	if r.mem.Get("mem_setting", "b") != cty.NilVal {
		t.Errorf("kept changing the tenant after state failed to save: applied %v", r.res.Applied)
	}
}

func TestApplyNeverStoresSensitiveValues(t *testing.T) {
	r := newRun(t)
	planAndApply(t, `resource "mem_setting" "a" {
identity = "a"
secret = "canary-7f3a"
}`, r)
	if !r.res.OK() {
		t.Fatal(r.res.Errors)
	}
	raw := string(r.st.Get("mem_setting.a").Attributes)
	if strings.Contains(raw, "canary-7f3a") {
		t.Fatalf("state holds the secret: %s", raw)
	}
	_ = cty.NilVal
}

// A long change is reported while it runs, with the last progress its provider reported, and
// never after it is done.
func TestApplyReportsLongChangesWhileTheyRun(t *testing.T) {
	r := newRun(t)
	r.mem.BeforeApply = func(ctx context.Context, req providers.ApplyRequest) {
		if req.Planned.GetAttr("identity").AsString() != "solo" {
			return
		}
		providers.ReportProgress(ctx, providers.Progress{Done: 200, Total: 1000, Unit: "users"})
		time.Sleep(150 * time.Millisecond)
	}
	var mu sync.Mutex
	var events []apply.Event
	r.progress = func(e apply.Event) { mu.Lock(); events = append(events, e); mu.Unlock() }
	r.stillEvery = 30 * time.Millisecond
	planAndApply(t, chain, r)
	if r.err != nil || !r.res.OK() {
		t.Fatalf("apply: %v %+v", r.err, r.res)
	}
	mu.Lock()
	defer mu.Unlock()
	still, done := 0, map[string]bool{}
	for _, e := range events {
		switch {
		case e.Done:
			done[e.Addr] = true
		case e.Still:
			if done[e.Addr] {
				t.Fatalf("reported as still running after it was done: %+v", e)
			}
			if e.Addr != "mem_setting.solo" {
				continue // a quick change may be slow on a loaded machine
			}
			if e.Progress == nil || e.Progress.Done != 200 || e.Progress.Total != 1000 || e.Progress.Unit != "users" {
				t.Fatalf("still running without the provider's progress: %+v", e)
			}
			still++
		}
	}
	if still < 2 || !done["mem_setting.solo"] {
		t.Fatalf("%d still-running reports (want at least 2 over 150 ms at 30 ms), done %v", still, done)
	}
}

// A provider that panics during apply fails that change alone: the panic is its error, the
// changes independent of it are made and saved, and Apply returns normally (the CLI then
// releases the lock).
func TestApplyPanicInProviderIsThatResourcesError(t *testing.T) {
	r := newRun(t)
	r.mem.PanicApply["a"] = true
	planAndApply(t, chain, r)
	if r.err != nil {
		t.Fatal(r.err)
	}
	if strings.Join(r.res.Failed, ",") != "mem_setting.a" || strings.Join(r.res.Skipped, ",") != "mem_setting.b" || strings.Join(r.res.Applied, ",") != "mem_setting.solo" {
		t.Fatalf("failed %v skipped %v applied %v", r.res.Failed, r.res.Skipped, r.res.Applied)
	}
	if msg := r.res.Errors["mem_setting.a"].Error(); !strings.Contains(msg, "panic") || !strings.Contains(msg, "nil map") || !strings.Contains(msg, "memory.go:") {
		t.Errorf("error %q should say it was a panic, what and where", msg)
	}
	saved, err := r.backend.local.Load()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(saved.Addresses(), ","); got != "mem_setting.solo" {
		t.Errorf("saved state holds %q, want the change made beside the panic", got)
	}
}

// A provider Apply that answers with the object and an error made the change in part: state
// holds the object as made, marked partial, the result counts it apart from failures, and the
// next plan creates nothing twice.
func TestApplyPartlyMadeIsRecordedAndCounted(t *testing.T) {
	r := newRun(t)
	r.mem.PartialApply["solo"] = true
	planAndApply(t, chain, r)
	if r.err != nil {
		t.Fatal(r.err)
	}
	if strings.Join(r.res.Partial, ",") != "mem_setting.solo" || len(r.res.Failed) != 0 || r.res.OK() || r.res.Complete() {
		t.Fatalf("partial %v failed %v ok %v", r.res.Partial, r.res.Failed, r.res.OK())
	}
	sr := r.st.Get("mem_setting.solo")
	if sr == nil || sr.ID != "solo" || !strings.Contains(sr.Partial, "setting its members failed") {
		t.Fatalf("state entry %+v: want the object, marked partial with the error", sr)
	}
	delete(r.mem.PartialApply, "solo")
	creates := r.mem.Calls["apply:create"]
	planAndApply(t, chain, r)
	if r.mem.Calls["apply:create"] != creates || !r.res.Complete() {
		t.Fatalf("second apply made %d creates, result %+v: want none (solo is in state)", r.mem.Calls["apply:create"]-creates, r.res)
	}
	if sr := r.st.Get("mem_setting.solo"); sr.Partial != "" {
		t.Errorf("partial mark kept after a clean apply: %q", sr.Partial)
	}
}

// Every planned change ends in one outcome list; "complete" only when all were made.
func TestApplyOutcomeOfEachChange(t *testing.T) {
	r := newRun(t)
	r.mem.Defer["d"] = "group \"sellers\" does not exist in the tenant yet"
	planAndApply(t, chain+`
resource "mem_setting" "d" {
  identity = "d"
}
resource "mem_setting" "after_d" {
  identity = "e"
  value    = mem_setting.d.value
}
`, r)
	if r.err != nil {
		t.Fatal(r.err)
	}
	if got := strings.Join(r.res.Applied, ","); got != "mem_setting.a,mem_setting.b,mem_setting.solo" {
		t.Errorf("applied %s", got)
	}
	if got := strings.Join(r.res.Deferred, ","); got != "mem_setting.after_d,mem_setting.d" {
		t.Errorf("deferred %s", got)
	}
	if !r.res.OK() || r.res.Complete() {
		t.Errorf("ok %v complete %v: want OK (nothing failed) but not complete (two deferred)", r.res.OK(), r.res.Complete())
	}
}
