package apply_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/zclconf/go-cty/cty"
)

// A moved block's move is recorded in state by apply; the object is neither destroyed nor
// created again.
func TestApplyRecordsMove(t *testing.T) {
	r := newRun(t)
	planAndApply(t, `resource "mem_setting" "copilot" {
  identity = "copilot"
  value    = "a"
}`, r)
	if r.err != nil || !r.res.OK() {
		t.Fatalf("first apply: %v %+v", r.err, r.res)
	}
	r.mem.Calls = map[string]int{}
	planAndApply(t, `resource "mem_setting" "sellers" {
  identity = "copilot"
  value    = "b"
}
moved {
  from = mem_setting.copilot
  to   = mem_setting.sellers
}`, r)
	if r.err != nil || !r.res.OK() {
		t.Fatalf("apply with moved: %v %+v", r.err, r.res)
	}
	if r.mem.Calls["apply:delete"] != 0 || r.mem.Calls["apply:create"] != 0 || r.mem.Calls["apply:update"] != 1 {
		t.Errorf("calls %v; want one update, no delete or create", r.mem.Calls)
	}
	saved, err := r.backend.local.Load()
	if err != nil {
		t.Fatal(err)
	}
	if saved.Get("mem_setting.copilot") != nil || saved.Get("mem_setting.sellers") == nil || saved.Get("mem_setting.sellers").ID != "copilot" {
		t.Errorf("state after the move: %v", saved.Addresses())
	}
}

// An import is recorded in state by apply and reported apart.
func TestApplyImports(t *testing.T) {
	r := newRun(t)
	r.mem.Put("mem_setting", "a", map[string]cty.Value{"identity": cty.StringVal("a"), "value": cty.StringVal("b")})
	planAndApply(t, `resource "mem_setting" "a" {
  identity = "a"
  value    = "b"
}`, r)
	if r.err != nil || !r.res.OK() || len(r.res.Imported) != 1 || r.res.Imported[0] != "mem_setting.a" || len(r.res.Applied) != 0 {
		t.Fatalf("apply: %v %+v", r.err, r.res)
	}
	if sr := r.st.Get("mem_setting.a"); sr == nil || sr.ID != "a" {
		t.Errorf("state: %+v", sr)
	}
}

// A resource naming, by literal string, an object the same plan creates is applied after it:
// 20 fresh applies, each with the two changes free to run in parallel otherwise.
func TestLiteralNameOrderedAcrossFreshApplies(t *testing.T) {
	for i := 0; i < 20; i++ {
		r := newRun(t)
		var mu sync.Mutex
		created := map[string]bool{}
		bad := ""
		r.mem.BeforeApply = func(_ context.Context, req providers.ApplyRequest) {
			id := req.Planned.GetAttr("identity").AsString()
			if id == "app" {
				time.Sleep(time.Millisecond) // give a wrongly parallel perms a chance to finish first
				mu.Lock()
				if !created["perms"] {
					bad = "app applied before the permission set it names was created"
				}
				mu.Unlock()
				return
			}
			time.Sleep(2 * time.Millisecond)
			mu.Lock()
			created[id] = true
			mu.Unlock()
		}
		planAndApply(t, `resource "mem_setting" "app" {
  identity = "app"
  needs    = ["perms"]
}
resource "mem_setting" "perms" {
  identity = "perms"
}`, r)
		if r.err != nil || !r.res.OK() {
			t.Fatalf("run %d: %v %+v", i, r.err, r.res)
		}
		if bad != "" {
			t.Fatalf("run %d: %s", i, bad)
		}
	}
}
