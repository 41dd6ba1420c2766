package plan_test

import (
	"testing"

	"github.com/c4sctl/c4sctl/pkg/plan"
	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/providers/providertest"
	"github.com/c4sctl/c4sctl/pkg/state"
	"github.com/zclconf/go-cty/cty"
)

// A destroy plan is the orphan plan of every object in state: deletable objects are deleted,
// dependents first (a waits for b, which reads it), the singleton is only forgotten, nothing is
// created from the configuration (mem_setting.c is declared but not in state), no outputs.
func TestDestroyPlan(t *testing.T) {
	m := providertest.NewMemory()
	st := state.New()
	for _, id := range []string{"a", "b"} {
		m.Put("mem_setting", id, map[string]cty.Value{"identity": cty.StringVal(id), "value": cty.StringVal("a")})
		v := providertest.Object(m.Resources()[0].ImpliedType(), map[string]cty.Value{"identity": cty.StringVal(id), "value": cty.StringVal("a"), "id": cty.StringVal(id)})
		if err := st.Set("mem_setting."+id, "mem_setting", "mem", id, v, nil); err != nil {
			t.Fatal(err)
		}
	}
	m.Put("mem_singleton", "Global", map[string]cty.Value{"identity": cty.StringVal("Global"), "value": cty.StringVal("x")})
	g := providertest.Object(m.Resources()[1].ImpliedType(), map[string]cty.Value{"identity": cty.StringVal("Global"), "value": cty.StringVal("x")})
	if err := st.Set("mem_singleton.g", "mem_singleton", "mem", "Global", g, nil); err != nil {
		t.Fatal(err)
	}
	src := `
resource "mem_setting" "a" {
  identity = "a"
  value    = "a"
}
resource "mem_setting" "b" {
  identity = "b"
  value    = mem_setting.a.value
}
resource "mem_setting" "c" {
  identity = "c"
}
resource "mem_singleton" "g" {
  value = "x"
}
output "b" { value = mem_setting.b.value }
`
	pl := planFor(t, src, m, st, plan.Options{Destroy: true})
	want := map[string]providers.Action{"mem_setting.a": providers.Delete, "mem_setting.b": providers.Delete, "mem_singleton.g": providers.Forget}
	if len(pl.Changes) != len(want) {
		t.Fatalf("%d changes, want %d", len(pl.Changes), len(want))
	}
	for _, rc := range pl.Changes {
		if rc.Action != want[rc.Addr] {
			t.Errorf("%s: %s, want %s", rc.Addr, rc.Action, want[rc.Addr])
		}
	}
	if a := pl.Change("mem_setting.a"); len(a.DependsOn) != 1 || a.DependsOn[0] != "mem_setting.b" {
		t.Errorf("mem_setting.a waits for %v, want [mem_setting.b] (dependents are destroyed first)", a.DependsOn)
	}
	if !pl.Destroy || pl.Outputs != nil {
		t.Errorf("destroy %v outputs %v", pl.Destroy, pl.Outputs)
	}
	if s := pl.Summary(); s.Destroy != 2 || s.Forget != 1 || s.Add != 0 {
		t.Errorf("summary %+v", s)
	}
	// Without Destroy the same state and configuration change nothing of a, b or g.
	if rc := planFor(t, src, m, st, plan.Options{}).Change("mem_setting.a"); rc.Action == providers.Delete {
		t.Errorf("a normal plan deletes mem_setting.a")
	}
}
