package plan_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/c4sctl/c4sctl/pkg/plan"
	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/providers/providertest"
	"github.com/c4sctl/c4sctl/pkg/spec"
	"github.com/c4sctl/c4sctl/pkg/state"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// planDiags plans src and returns its diagnostics (load and plan), failing when there are none.
func planDiags(t *testing.T, src string, mem *providertest.Memory, st *state.State) hcl.Diagnostics {
	t.Helper()
	reg := providers.NewRegistry(mem)
	cfg, diags := spec.LoadFiles("cfg", map[string][]byte{"main.c4s.hcl": []byte(src)}, reg)
	if diags.HasErrors() {
		return diags
	}
	ev, d := spec.NewEvaluator(cfg, spec.Inputs{})
	if d.HasErrors() {
		t.Fatalf("eval: %s", d.Error())
	}
	if st == nil {
		st = state.New()
	}
	pl, diags := (&plan.Planner{Config: cfg, Eval: ev, State: st, Registry: reg, Clients: memClients{mem}}).Plan(context.Background())
	if !diags.HasErrors() {
		t.Fatalf("plan succeeded, want an error; changes: %v", pl.Addresses())
	}
	if pl != nil {
		t.Errorf("a refused plan must not be returned")
	}
	return diags
}

func diagText(diags hcl.Diagnostics) string {
	var b strings.Builder
	for _, d := range diags {
		b.WriteString(d.Summary + ": " + d.Detail + "\n")
		if d.Subject != nil {
			b.WriteString("  at " + d.Subject.String() + "\n")
		}
	}
	return b.String()
}

func wantAll(t *testing.T, text string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(text, p) {
			t.Errorf("missing %q in:\n%s", p, text)
		}
	}
}

// Two blocks that name one object, spelled as the service treats as the same (case, space),
// are refused at plan with both addresses and where they are declared.
func TestTwoAddressesOneObjectInConfiguration(t *testing.T) {
	for _, tc := range []struct{ name, a, b string }{{"same", "Sales", "Sales"}, {"case", "Sales", "sALES"}, {"space", "Sales", " sales "}} {
		t.Run(tc.name, func(t *testing.T) {
			m := providertest.NewMemory()
			src := `resource "mem_setting" "one" {
  identity = "` + tc.a + `"
}

resource "mem_setting" "two" {
  identity = "` + tc.b + `"
}`
			text := diagText(planDiags(t, src, m, nil))
			wantAll(t, text, "Two resources for one object", "mem_setting.one (main.c4s.hcl:1)", "mem_setting.two (main.c4s.hcl:5)")
			if len(m.IDs("mem_setting")) != 0 {
				t.Errorf("plan created something: %v", m.IDs("mem_setting"))
			}
		})
	}
	// Two different objects are fine.
	m := providertest.NewMemory()
	planFor(t, `resource "mem_setting" "one" {
  identity = "Sales"
}
resource "mem_setting" "two" {
  identity = "Service"
}`, m, nil, plan.Options{})
}

// A resource acting on part of an object that another resource owns whole (a DLP connector
// rule inside a policy a powerplatform_dlp_policy manages) is refused; two parts are not.
func TestPartAndWholeOwnerRefused(t *testing.T) {
	m := providertest.NewMemory()
	text := diagText(planDiags(t, `resource "mem_setting" "policy" {
  identity = "Baseline"
}
resource "mem_part" "rule" {
  identity = "rule"
  of       = "baseline"
}`, m, nil))
	wantAll(t, text, "mem_part.rule (main.c4s.hcl:4) acts on mem_setting", "which mem_setting.policy (main.c4s.hcl:1) manages whole")

	planFor(t, `resource "mem_part" "one" {
  identity = "one"
  of       = "Baseline"
}
resource "mem_part" "two" {
  identity = "two"
  of       = "baseline"
}`, m, nil, plan.Options{})
}

// State holding one object under two addresses is refused too.
func TestTwoAddressesOneObjectInState(t *testing.T) {
	m := providertest.NewMemory()
	m.Put("mem_setting", "a", map[string]cty.Value{"identity": cty.StringVal("a")})
	st := stateOf(t, m, "mem_setting.x=a", "mem_setting.y=a")
	text := diagText(planDiags(t, ``, m, st))
	wantAll(t, text, "Two addresses in state for one object", "mem_setting.x", "mem_setting.y")
}

// An object that exists but that state does not hold is imported, visibly: "will be imported",
// counted apart, marked in JSON; nothing is adopted by plan itself.
func TestAdoptionShownInPlan(t *testing.T) {
	m := providertest.NewMemory()
	m.Put("mem_setting", "a", map[string]cty.Value{"identity": cty.StringVal("a"), "value": cty.StringVal("b")})
	pl := planFor(t, `resource "mem_setting" "a" {
  identity = "a"
  value    = "b"
}
resource "mem_setting" "n" {
  identity = "n"
}`, m, nil, plan.Options{})
	a := pl.Change("mem_setting.a")
	if !a.Importing || a.Action != providers.NoOp || a.ID != "a" {
		t.Fatalf("mem_setting.a: importing %v action %s id %q; want an import of a with no other change", a.Importing, a.Action, a.ID)
	}
	if pl.Change("mem_setting.n").Importing {
		t.Errorf("an object to create is not an import")
	}
	if s := pl.Summary(); s.Import != 1 || s.Add != 1 || !pl.HasChanges() {
		t.Errorf("summary %+v has changes %v; want 1 to import, 1 to add", s, pl.HasChanges())
	}
	var buf bytes.Buffer
	plan.Render(&buf, pl, plan.Colors{})
	wantAll(t, buf.String(), "# mem_setting.a will be imported", `id       = "a"`, "Plan: 1 to import, 1 to add, 0 to change, 0 to destroy.")
	doc, err := plan.ToJSON(pl, plan.JSONOptions{})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(doc)
	wantAll(t, string(raw), `"importing":{"id":"a"}`, `"import":1`)
	back, err := plan.FromJSON(doc, providers.NewRegistry(m).ResourceSchema)
	if err != nil {
		t.Fatal(err)
	}
	if !back.Change("mem_setting.a").Importing {
		t.Errorf("importing lost in the JSON round trip")
	}

	// Once state holds it, the same configuration has no changes.
	pl = planFor(t, `resource "mem_setting" "a" {
  identity = "a"
  value    = "b"
}`, m, stateOf(t, m, "mem_setting.a=a"), plan.Options{})
	if pl.HasChanges() || pl.Change("mem_setting.a").Importing {
		t.Errorf("a held object is planned as %+v", pl.Summary())
	}
}

const renamed = `resource "mem_setting" "sellers" {
  identity = "copilot"
  value    = "a"
}
`

// Renaming a block without a moved block: the old address would destroy what the new one finds.
// Plan refuses and says which declarations resolve it.
func TestRenameWithoutMovedLooksLikeMove(t *testing.T) {
	m := providertest.NewMemory()
	m.Put("mem_setting", "copilot", map[string]cty.Value{"identity": cty.StringVal("copilot"), "value": cty.StringVal("a")})
	st := stateOf(t, m, "mem_setting.copilot=copilot")
	text := diagText(planDiags(t, renamed, m, st))
	wantAll(t, text, "Looks like a move", "mem_setting.copilot is no longer in the configuration", "mem_setting.sellers (main.c4s.hcl:1)",
		"from = mem_setting.copilot", "to   = mem_setting.sellers", "c4sctl state rm mem_setting.copilot")

	// After `state rm` of the old address, the new one imports it.
	st.Remove("mem_setting.copilot")
	pl := planFor(t, renamed, m, st, plan.Options{})
	if c := pl.Change("mem_setting.sellers"); !c.Importing || pl.Summary().Destroy != 0 {
		t.Errorf("after state rm: %+v", pl.Summary())
	}
}

// With a moved block, the object is planned under its new address: no destroy, no create.
func TestRenameWithMoved(t *testing.T) {
	m := providertest.NewMemory()
	m.Put("mem_setting", "copilot", map[string]cty.Value{"identity": cty.StringVal("copilot"), "value": cty.StringVal("a")})
	st := stateOf(t, m, "mem_setting.copilot=copilot")
	pl := planFor(t, renamed+`
moved {
  from = mem_setting.copilot
  to   = mem_setting.sellers
}`, m, st, plan.Options{})
	c := pl.Change("mem_setting.sellers")
	if c == nil || c.PrevAddr != "mem_setting.copilot" || c.Action != providers.NoOp || c.Importing {
		t.Fatalf("mem_setting.sellers: %+v", c)
	}
	if pl.Change("mem_setting.copilot") != nil {
		t.Errorf("the old address is still planned")
	}
	if s := pl.Summary(); s.Destroy != 0 || s.Add != 0 || s.Moved != 1 {
		t.Errorf("summary %+v", s)
	}
	if st.Get("mem_setting.copilot") == nil || st.Get("mem_setting.sellers") != nil {
		t.Errorf("plan changed the state it was given")
	}
	var buf bytes.Buffer
	plan.Render(&buf, pl, plan.Colors{})
	wantAll(t, buf.String(), "# mem_setting.copilot has moved to mem_setting.sellers", "Plan: 0 to add, 0 to change, 0 to destroy.\nAlso: 1 moved to a new address.")
	doc, err := plan.ToJSON(pl, plan.JSONOptions{})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(doc)
	wantAll(t, string(raw), `"previous_address":"mem_setting.copilot"`)
}

// Moves chain: a -> b -> c moves a's object to c.
func TestMovedChain(t *testing.T) {
	m := providertest.NewMemory()
	m.Put("mem_setting", "x", map[string]cty.Value{"identity": cty.StringVal("x")})
	pl := planFor(t, `resource "mem_setting" "c" {
  identity = "x"
}
moved {
  from = mem_setting.a
  to   = mem_setting.b
}
moved {
  from = mem_setting.b
  to   = mem_setting.c
}`, m, stateOf(t, m, "mem_setting.a=x"), plan.Options{})
	if c := pl.Change("mem_setting.c"); c.PrevAddr != "mem_setting.a" || c.Importing {
		t.Errorf("mem_setting.c: prev %q importing %v", c.PrevAddr, c.Importing)
	}
}

func TestMovedRefused(t *testing.T) {
	m := providertest.NewMemory()
	m.Put("mem_setting", "x", map[string]cty.Value{"identity": cty.StringVal("x")})
	m.Put("mem_setting", "y", map[string]cty.Value{"identity": cty.StringVal("y")})
	for _, tc := range []struct {
		name, src string
		st        []string
		want      []string
	}{
		{"cycle", `moved {
  from = mem_setting.a
  to   = mem_setting.b
}
moved {
  from = mem_setting.b
  to   = mem_setting.a
}`, nil, []string{"Cyclic dependency in move statements", "mem_setting.a -> mem_setting.b", "mem_setting.b -> mem_setting.a"}},
		{"occupied", `resource "mem_setting" "b" {
  identity = "y"
}
moved {
  from = mem_setting.a
  to   = mem_setting.b
}`, []string{"mem_setting.a=x", "mem_setting.b=y"}, []string{"Move onto an occupied address", "state already holds an object there (id y)", "main.c4s.hcl:4"}},
		{"still declared", `resource "mem_setting" "a" {
  identity = "x"
}
resource "mem_setting" "b" {
  identity = "y"
}
moved {
  from = mem_setting.a
  to   = mem_setting.b
}`, nil, []string{"Moved object still exists", "still declared at main.c4s.hcl:1"}},
		{"other type", `moved {
  from = mem_setting.a
  to   = mem_singleton.b
}`, nil, []string{"Move to another resource type"}},
		{"ambiguous", `moved {
  from = mem_setting.a
  to   = mem_setting.b
}
moved {
  from = mem_setting.a
  to   = mem_setting.c
}`, nil, []string{"Ambiguous move statements"}},
		{"data source", `moved {
  from = data.mem_lookup.a
  to   = data.mem_lookup.b
}`, nil, []string{"Invalid moved address"}},
		{"quoted", `moved {
  from = "mem_setting.a"
  to   = mem_setting.b
}`, nil, []string{"Invalid moved address"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var st *state.State
			if tc.st != nil {
				st = stateOf(t, m, tc.st...)
			}
			wantAll(t, diagText(planDiags(t, tc.src, m, st)), tc.want...)
		})
	}
}

// A destroy shows what goes by name and settings, not just an id.
func TestDestroyShowsNameAndSettings(t *testing.T) {
	m := providertest.NewMemory()
	m.Put("mem_setting", "copilot", map[string]cty.Value{"identity": cty.StringVal("copilot"), "value": cty.StringVal("a"), "secret": cty.StringVal("s3cr3t")})
	pl := planFor(t, ``, m, stateOf(t, m, "mem_setting.copilot=copilot"), plan.Options{})
	var buf bytes.Buffer
	plan.Render(&buf, pl, plan.Colors{})
	wantAll(t, buf.String(), "# mem_setting.copilot will be destroyed", `- id       = "copilot"`, `- identity = "copilot"`, `- value    = "a"`, `- secret   = (sensitive value)`)
	if strings.Contains(buf.String(), "s3cr3t") {
		t.Errorf("a destroy shows a secret:\n%s", buf.String())
	}
	buf.Reset()
	plan.RenderMarkdown(&buf, pl, plan.MarkdownOptions{})
	wantAll(t, buf.String(), `-   identity = "copilot"`, `-   value    = "a"`)
}

// A literal name of an object the same plan creates orders the two and suggests the reference.
func TestLiteralNameOrdersAndSuggests(t *testing.T) {
	m := providertest.NewMemory()
	pl := planFor(t, `resource "mem_setting" "app" {
  identity = "app"
  needs    = ["Perms"]
}
resource "mem_setting" "perms" {
  identity = "perms"
}`, m, nil, plan.Options{})
	app := pl.Change("mem_setting.app")
	if strings.Join(app.DependsOn, ",") != "mem_setting.perms" {
		t.Fatalf("mem_setting.app depends on %v, want mem_setting.perms", app.DependsOn)
	}
	wantAll(t, strings.Join(app.Notes, "\n"), `needs names mem_setting "Perms" by a literal string`, "mem_setting.perms creates it", "Write mem_setting.perms.identity")

	// An object that exists already needs no order; a reference needs no suggestion.
	m.Put("mem_setting", "perms", map[string]cty.Value{"identity": cty.StringVal("perms")})
	pl = planFor(t, `resource "mem_setting" "app" {
  identity = "app"
  needs    = ["Perms"]
}
resource "mem_setting" "perms" {
  identity = "perms"
}`, m, stateOf(t, m, "mem_setting.perms=perms"), plan.Options{})
	if app := pl.Change("mem_setting.app"); len(app.DependsOn) != 0 || len(app.Notes) != 0 {
		t.Errorf("existing object: depends on %v, notes %v", app.DependsOn, app.Notes)
	}
	m = providertest.NewMemory()
	pl = planFor(t, `resource "mem_setting" "app" {
  identity = "app"
  needs    = [mem_setting.perms.identity]
}
resource "mem_setting" "perms" {
  identity = "perms"
}`, m, nil, plan.Options{})
	if app := pl.Change("mem_setting.app"); strings.Join(app.DependsOn, ",") != "mem_setting.perms" || len(app.Notes) != 0 {
		t.Errorf("reference: depends on %v, notes %v", app.DependsOn, app.Notes)
	}
}

// The resource naming an object by literal string is also planned after the resource that
// declares it (an adapter may check at plan time that the object exists or is being created).
func TestLiteralNamePlannedAfterItsTarget(t *testing.T) {
	for i := 0; i < 20; i++ {
		var mu sync.Mutex
		done := map[string]bool{}
		bad := false
		opts := plan.Options{Progress: func(addr string, finished bool) {
			mu.Lock()
			defer mu.Unlock()
			if finished {
				done[addr] = true
			} else if addr == "mem_setting.app" && !done["mem_setting.perms"] {
				bad = true
			}
		}}
		planFor(t, `resource "mem_setting" "app" {
  identity = "app"
  needs    = ["perms"]
}
resource "mem_setting" "perms" {
  identity = "perms"
}`, providertest.NewMemory(), nil, opts)
		if bad {
			t.Fatalf("run %d: mem_setting.app was planned before mem_setting.perms finished", i)
		}
	}
}
