package plan_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/c4sctl/c4sctl/pkg/plan"
	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/providers/providertest"
	"github.com/c4sctl/c4sctl/pkg/spec"
	"github.com/zclconf/go-cty/cty"
)

// recording is the memory provider with every read request kept.
type recording struct {
	*providertest.Memory
	mu    sync.Mutex
	reads map[string]providers.ReadRequest // by ID
}

func (r *recording) Read(ctx context.Context, req providers.ReadRequest) (providers.ReadResponse, error) {
	r.mu.Lock()
	r.reads[req.ID] = req
	r.mu.Unlock()
	return r.Memory.Read(ctx, req)
}

type recordingClients struct{ r *recording }

func (c recordingClients) Client(context.Context, string) (providers.Client, error) { return c.r, nil }

// An orphan is read with what state recorded about it (Prior) and a null configuration, as
// Terraform reads a resource whose block is gone; a resource still configured is read with its
// configuration and, being in state, its prior value too. Plain and destroy plans alike.
func TestOrphanIsReadWithItsPriorState(t *testing.T) {
	for _, destroy := range []bool{false, true} {
		m := providertest.NewMemory()
		m.Put("mem_setting", "gone", map[string]cty.Value{"identity": cty.StringVal("gone"), "value": cty.StringVal("b")})
		m.Put("mem_setting", "kept", map[string]cty.Value{"identity": cty.StringVal("kept"), "value": cty.StringVal("a")})
		st := stateOf(t, m, "mem_setting.gone=gone", "mem_setting.kept=kept")
		rec := &recording{Memory: m, reads: map[string]providers.ReadRequest{}}
		reg := providers.NewRegistry(m)
		cfg, diags := spec.LoadFiles("cfg", map[string][]byte{"main.c4s.hcl": []byte(`
resource "mem_setting" "kept" {
  identity = "kept"
  value    = "a"
}
`)}, reg)
		if diags.HasErrors() {
			t.Fatal(diags.Error())
		}
		ev, diags := spec.NewEvaluator(cfg, spec.Inputs{})
		if diags.HasErrors() {
			t.Fatal(diags.Error())
		}
		p := &plan.Planner{Config: cfg, Eval: ev, State: st, Registry: reg, Clients: recordingClients{rec}, Options: plan.Options{Destroy: destroy}}
		pl, diags := p.Plan(context.Background())
		if diags.HasErrors() {
			t.Fatal(diags.Error())
		}
		if rc := pl.Change("mem_setting.gone"); rc == nil || rc.Action != providers.Delete {
			t.Fatalf("destroy=%v: orphan planned %+v, want delete", destroy, rc)
		}
		got := rec.reads["gone"]
		want, _ := st.Get("mem_setting.gone").Value(m.Resources()[0].ImpliedType())
		if got.Prior == cty.NilVal || !got.Prior.RawEquals(want) {
			t.Errorf("destroy=%v: the orphan was read with Prior %#v, want the state's value %#v", destroy, got.Prior, want)
		}
		if got.Config == cty.NilVal || !got.Config.IsNull() {
			t.Errorf("destroy=%v: the orphan was read with Config %#v, want null", destroy, got.Config)
		}
		if kept := rec.reads["kept"]; !destroy && (kept.Prior == cty.NilVal || kept.Prior.IsNull() || kept.Config.IsNull()) {
			t.Errorf("the configured resource in state was read with Prior %#v and Config %#v, want both", kept.Prior, kept.Config)
		}
	}
}

// locating reads an orphan as the real providers do through Dispatch: by what state recorded
// (the prior value as the configuration), not by the id.
type locating struct{ *providertest.Memory }

func (l locating) Read(ctx context.Context, req providers.ReadRequest) (providers.ReadResponse, error) {
	if req.Config == cty.NilVal || req.Config.IsNull() {
		req.Config, req.ID = req.Locator(), ""
	}
	return l.Memory.Read(ctx, req)
}

type locatingClients struct{ l locating }

func (c locatingClients) Client(context.Context, string) (providers.Client, error) { return c.l, nil }

// An orphan whose recorded attributes locate another object than the id state holds (state
// edited by hand, or from another tenant or org) is neither destroyed nor forgotten: the plan
// would show one object while the delete goes to the other. Apply leaves both alone.
func TestOrphanLocatingAnotherObjectIsNotDestroyed(t *testing.T) {
	for _, destroy := range []bool{false, true} {
		m := providertest.NewMemory()
		m.Put("mem_setting", "gone", map[string]cty.Value{"identity": cty.StringVal("other"), "value": cty.StringVal("b")})
		st := stateOf(t, m, "mem_setting.gone=gone")
		m.Put("mem_setting", "other", map[string]cty.Value{"identity": cty.StringVal("other"), "value": cty.StringVal("c")})
		reg := providers.NewRegistry(m)
		cfg, diags := spec.LoadFiles("cfg", map[string][]byte{"main.c4s.hcl": []byte(``)}, reg)
		if diags.HasErrors() {
			t.Fatal(diags.Error())
		}
		ev, diags := spec.NewEvaluator(cfg, spec.Inputs{})
		if diags.HasErrors() {
			t.Fatal(diags.Error())
		}
		p := &plan.Planner{Config: cfg, Eval: ev, State: st, Registry: reg, Clients: locatingClients{locating{m}}, Options: plan.Options{Destroy: destroy}}
		pl, diags := p.Plan(context.Background())
		if diags.HasErrors() {
			t.Fatal(diags.Error())
		}
		rc := pl.Change("mem_setting.gone")
		if rc == nil || rc.Action != providers.Deferred || !rc.CouldNotRead || !strings.Contains(rc.Reason, "id gone") || !strings.Contains(rc.Reason, "id other") {
			t.Fatalf("destroy=%v: orphan locating another object planned %+v, want could not read naming both ids", destroy, rc)
		}
		if n := pl.Summary().ToApply(); n != 0 {
			t.Errorf("destroy=%v: %d changes to apply, want none", destroy, n)
		}
	}
}
