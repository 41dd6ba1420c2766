package plan_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/c4sctl/c4sctl/pkg/plan"
	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/providers/providertest"
	"github.com/c4sctl/c4sctl/pkg/schema"
	"github.com/c4sctl/c4sctl/pkg/spec"
	"github.com/c4sctl/c4sctl/pkg/state"
	"github.com/zclconf/go-cty/cty"
)

var update = flag.Bool("update", false, "rewrite golden files")

type memClients struct{ m *providertest.Memory }

func (c memClients) Client(context.Context, string) (providers.Client, error) { return c.m, nil }

// planFor decodes src and plans it against mem and st.
func planFor(t *testing.T, src string, mem *providertest.Memory, st *state.State, opts plan.Options) *plan.Plan {
	t.Helper()
	reg := providers.NewRegistry(mem)
	cfg, diags := spec.LoadFiles("cfg", map[string][]byte{"main.c4s.hcl": []byte(src)}, reg)
	if diags.HasErrors() {
		t.Fatalf("load: %s", diags.Error())
	}
	ev, diags := spec.NewEvaluator(cfg, spec.Inputs{})
	if diags.HasErrors() {
		t.Fatalf("eval: %s", diags.Error())
	}
	if st == nil {
		st = state.New()
	}
	p := &plan.Planner{Config: cfg, Eval: ev, State: st, Registry: reg, Clients: memClients{mem}, Options: opts}
	pl, diags := p.Plan(context.Background())
	if diags.HasErrors() {
		t.Fatalf("plan: %s", diags.Error())
	}
	return pl
}

func TestPlanActions(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		setup   func(m *providertest.Memory)
		want    map[string]providers.Action
		changed map[string][]string
	}{
		{
			name: "create",
			src: `resource "mem_setting" "a" {
identity = "a"
value = "b"
}`,
			want: map[string]providers.Action{"mem_setting.a": providers.Create},
		},
		{
			name: "update only managed attributes",
			src: `resource "mem_setting" "a" {
identity = "a"
value = "b"
}`,
			setup: func(m *providertest.Memory) {
				m.Put("mem_setting", "a", map[string]cty.Value{"identity": cty.StringVal("a"), "value": cty.StringVal("a"), "enabled": cty.True})
			},
			want:    map[string]providers.Action{"mem_setting.a": providers.Update},
			changed: map[string][]string{"mem_setting.a": {"value"}},
		},
		{
			name: "no-op when live matches; unmanaged attributes ignored",
			src: `resource "mem_setting" "a" {
identity = "a"
value = "b"
}`,
			setup: func(m *providertest.Memory) {
				m.Put("mem_setting", "a", map[string]cty.Value{"identity": cty.StringVal("a"), "value": cty.StringVal("b"), "enabled": cty.False})
			},
			want: map[string]providers.Action{"mem_setting.a": providers.NoOp},
		},
		{
			name: "set order does not matter",
			src: `resource "mem_setting" "a" {
identity = "a"
tags = ["y", "x"]
}`,
			setup: func(m *providertest.Memory) {
				m.Put("mem_setting", "a", map[string]cty.Value{"identity": cty.StringVal("a"), "tags": cty.SetVal([]cty.Value{cty.StringVal("x"), cty.StringVal("y")})})
			},
			want: map[string]providers.Action{"mem_setting.a": providers.NoOp},
		},
		{
			name: "ignore_changes",
			src: `resource "mem_setting" "a" {
identity = "a"
value = "b"
lifecycle { ignore_changes = [value] }
}`,
			setup: func(m *providertest.Memory) {
				m.Put("mem_setting", "a", map[string]cty.Value{"identity": cty.StringVal("a"), "value": cty.StringVal("c")})
			},
			want: map[string]providers.Action{"mem_setting.a": providers.NoOp},
		},
		{
			name: "singleton updates",
			src: `resource "mem_singleton" "g" {
value = "wanted"
}`,
			want:    map[string]providers.Action{"mem_singleton.g": providers.Update},
			changed: map[string][]string{"mem_singleton.g": {"value"}},
		},
		{
			name: "data source feeds a resource",
			src: `
data "mem_lookup" "src" {
  identity = "src"
}
resource "mem_setting" "a" {
  identity = "a"
  value    = data.mem_lookup.src.value
}`,
			setup: func(m *providertest.Memory) {
				m.Put("mem_setting", "src", map[string]cty.Value{"identity": cty.StringVal("src"), "value": cty.StringVal("c")})
			},
			want: map[string]providers.Action{"data.mem_lookup.src": providers.Read, "mem_setting.a": providers.Create},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := providertest.NewMemory()
			if tt.setup != nil {
				tt.setup(m)
			}
			pl := planFor(t, tt.src, m, nil, plan.Options{})
			for addr, want := range tt.want {
				c := pl.Change(addr)
				if c == nil {
					t.Fatalf("no change for %s", addr)
				}
				if c.Action != want {
					t.Errorf("%s: action %s, want %s", addr, c.Action, want)
				}
			}
			for addr, names := range tt.changed {
				var got []string
				for _, ch := range pl.Change(addr).Changes {
					got = append(got, ch.Name)
				}
				if strings.Join(got, ",") != strings.Join(names, ",") {
					t.Errorf("%s: changed %v, want %v", addr, got, names)
				}
			}
			if m.Calls["apply:create"]+m.Calls["apply:update"] != 0 {
				t.Error("planning changed something")
			}
		})
	}
}

func TestPlanUnknownUntilApply(t *testing.T) {
	m := providertest.NewMemory()
	pl := planFor(t, `
resource "mem_setting" "a" {
  identity = "a"
}
resource "mem_setting" "b" {
  identity = "b"
  value    = mem_setting.a.id == "" ? "a" : "b"
}`, m, nil, plan.Options{})
	b := pl.Change("mem_setting.b")
	if b.After.GetAttr("value").IsKnown() {
		t.Fatalf("value depending on a computed id of an object to create should be unknown, got %#v", b.After.GetAttr("value"))
	}
	if pl.Changes[0].Addr != "mem_setting.a" {
		t.Errorf("order %v: dependency not first", pl.Addresses())
	}
}

func TestPlanDriftAgainstState(t *testing.T) {
	m := providertest.NewMemory()
	m.Put("mem_setting", "a", map[string]cty.Value{"identity": cty.StringVal("a"), "value": cty.StringVal("c")})
	st := state.New()
	applied := providertest.Object(m.Resources()[0].ImpliedType(), map[string]cty.Value{"identity": cty.StringVal("a"), "value": cty.StringVal("b"), "id": cty.StringVal("a")})
	if err := st.Set("mem_setting.a", "mem_setting", "mem", "a", applied, nil); err != nil {
		t.Fatal(err)
	}
	pl := planFor(t, `resource "mem_setting" "a" {
identity = "a"
value = "b"
}`, m, st, plan.Options{})
	c := pl.Change("mem_setting.a")
	if len(c.Drift) != 1 || c.Drift[0].Name != "value" || c.Drift[0].Before.AsString() != "b" || c.Drift[0].After.AsString() != "c" {
		t.Fatalf("drift %+v, want value b -> c", c.Drift)
	}
	if c.Action != providers.Update {
		t.Errorf("action %s, want update (to undo the drift)", c.Action)
	}
}

func TestPlanOrphans(t *testing.T) {
	m := providertest.NewMemory()
	m.Put("mem_setting", "gone", map[string]cty.Value{"identity": cty.StringVal("gone")})
	st := state.New()
	typ := m.Resources()[0].ImpliedType()
	for _, x := range []struct{ addr, typ, id string }{{"mem_setting.gone", "mem_setting", "gone"}, {"mem_setting.vanished", "mem_setting", "vanished"}, {"mem_singleton.g", "mem_singleton", "Global"}} {
		v := providertest.Object(typ, map[string]cty.Value{"identity": cty.StringVal(x.id)})
		if x.typ == "mem_singleton" {
			v = providertest.Object(m.Resources()[1].ImpliedType(), map[string]cty.Value{"identity": cty.StringVal(x.id)})
		}
		if err := st.Set(x.addr, x.typ, "mem", x.id, v, nil); err != nil {
			t.Fatal(err)
		}
	}
	pl := planFor(t, ``, m, st, plan.Options{})
	want := map[string]providers.Action{"mem_setting.gone": providers.Delete, "mem_setting.vanished": providers.Forget, "mem_singleton.g": providers.Forget}
	for addr, a := range want {
		if c := pl.Change(addr); c == nil || c.Action != a {
			t.Errorf("%s: %+v, want %s", addr, c, a)
		}
	}
}

func TestPlanTargets(t *testing.T) {
	m := providertest.NewMemory()
	pl := planFor(t, `
resource "mem_setting" "a" {
  identity = "a"
}
resource "mem_setting" "b" {
  identity   = "b"
  depends_on = [mem_setting.a]
}
resource "mem_setting" "c" {
  identity = "c"
}`, m, nil, plan.Options{Targets: []string{"mem_setting.b"}})
	if got := strings.Join(pl.Addresses(), ","); got != "mem_setting.a,mem_setting.b" {
		t.Fatalf("targeted plan has %s", got)
	}
}

func TestRenderGolden(t *testing.T) {
	m := providertest.NewMemory()
	set := func(xs ...string) cty.Value {
		vs := make([]cty.Value, len(xs))
		for i, x := range xs {
			vs[i] = cty.StringVal(x)
		}
		return cty.SetVal(vs)
	}
	m.Put("mem_setting", "a", map[string]cty.Value{"identity": cty.StringVal("a"), "value": cty.StringVal("a"), "tags": set("old", "keep"), "secret": cty.StringVal("s3cr3t-live"),
		"grants": cty.MapVal(map[string]cty.Value{"Account": set("read"), "Case": set("read"), "Lead": set("read")})})
	src := `
resource "mem_setting" "a" {
  identity = "a"
  value    = "b"
  tags     = ["keep", "new"]
  secret   = "s3cr3t-config"
  grants = {
    Account     = ["read", "edit"]
    Lead        = ["read"]
    Opportunity = ["read"]
  }
}
resource "mem_setting" "n" {
  identity = "n"
  enabled  = true
  grants = {
    Account   = ["read"]
    "My key" = ["read"]
  }
}
resource "mem_singleton" "g" {
  value = "initial"
}
`
	pl := planFor(t, src, m, nil, plan.Options{})
	var buf bytes.Buffer
	plan.Render(&buf, pl, plan.Colors{})
	out := buf.String()
	if strings.Contains(out, "s3cr3t") {
		t.Fatalf("rendered plan shows a sensitive value:\n%s", out)
	}
	golden(t, "render_update_create.txt", out)

	buf.Reset()
	pl = planFor(t, `resource "mem_singleton" "g" {
value = "initial"
}`, m, stateOf(t, m, "mem_singleton.g=Global"), plan.Options{})
	plan.Render(&buf, pl, plan.Colors{})
	golden(t, "render_no_changes.txt", buf.String())
}

// stateOf records live objects of m in a new state, as an apply would have: each pair is
// "ADDR=ID", the object of ADDR's type with that id.
func stateOf(t *testing.T, m *providertest.Memory, pairs ...string) *state.State {
	t.Helper()
	st := state.New()
	for _, p := range pairs {
		addr, id, _ := strings.Cut(p, "=")
		typ, _, _ := strings.Cut(addr, ".")
		v := m.Get(typ, id)
		if v == cty.NilVal {
			t.Fatalf("stateOf: no %s %q in the memory provider", typ, id)
		}
		if err := st.Set(addr, typ, "mem", id, v, nil); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./pkg/plan -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file; got:\n%s\nwant:\n%s", name, got, want)
	}
}

// deployedViva is msdyn_viva's settings as applied: in state, and then its environment deleted.
func deployedViva(t *testing.T, m *providertest.Memory) *state.State {
	t.Helper()
	st := state.New()
	v := providertest.Object(m.Resources()[0].ImpliedType(), map[string]cty.Value{"identity": cty.StringVal("viva"), "value": cty.StringVal("a"), "id": cty.StringVal("viva")})
	if err := st.Set("mem_setting.viva", "mem_setting", "mem", "viva", v, nil); err != nil {
		t.Fatal(err)
	}
	m.Defer["viva"] = "environment msdyn_viva does not exist yet: it is created by the first seller's sign-in"
	return st
}

const vivaConfig = `resource "mem_setting" "viva" {
identity = "viva"
value = "a"
}
`

// A deferral of a resource that state holds is "could not be read", never "not created yet",
// and never "No changes".
func TestPlanDeferredAfterExistingIsNotClean(t *testing.T) {
	m := providertest.NewMemory()
	st := deployedViva(t, m)
	pl := planFor(t, vivaConfig, m, st, plan.Options{})
	c := pl.Change("mem_setting.viva")
	if c.Action != providers.Deferred || !c.CouldNotRead {
		t.Fatalf("%s could-not-read %v, want deferred and could not read", c.Action, c.CouldNotRead)
	}
	if strings.Contains(c.Reason, "yet") || !strings.Contains(c.Reason, "msdyn_viva no longer exists") || !strings.Contains(c.Reason, "id viva") {
		t.Errorf("reason %q: want the environment named as gone, the id, and no 'yet'", c.Reason)
	}
	s := pl.Summary()
	if s.CouldNotRead != 1 || s.Deferred != 0 || !pl.HasChanges() {
		t.Errorf("summary %+v has changes %v: want 1 could not read, not clean", s, pl.HasChanges())
	}
	var buf bytes.Buffer
	plan.Render(&buf, pl, plan.Colors{})
	out := buf.String()
	if strings.Contains(out, "No changes") || !strings.Contains(out, "# mem_setting.viva could not be read:") || !strings.Contains(out, "1 could not be read") {
		t.Errorf("rendered plan:\n%s", out)
	}
	// The same environment never created (nothing in state): "not created yet" is right, and
	// still not clean.
	fresh := planFor(t, vivaConfig, m, nil, plan.Options{})
	c = fresh.Change("mem_setting.viva")
	if c.CouldNotRead || !strings.Contains(c.Reason, "does not exist yet") || fresh.Summary().Deferred != 1 || !fresh.HasChanges() {
		t.Errorf("never deployed: could-not-read %v reason %q summary %+v", c.CouldNotRead, c.Reason, fresh.Summary())
	}
	buf.Reset()
	plan.Render(&buf, fresh, plan.Colors{})
	if strings.Contains(buf.String(), "No changes") {
		t.Errorf("deferred plan says No changes:\n%s", buf.String())
	}
}

// Refresh-only (drift) plans count resources that cannot be read as not in sync.
func TestRefreshOnlyCouldNotReadIsNotClean(t *testing.T) {
	m := providertest.NewMemory()
	st := deployedViva(t, m)
	pl := planFor(t, vivaConfig, m, st, plan.Options{RefreshOnly: true})
	if !pl.HasChanges() || pl.Summary().CouldNotRead != 1 {
		t.Fatalf("refresh-only: has changes %v summary %+v", pl.HasChanges(), pl.Summary())
	}
	var buf bytes.Buffer
	plan.Render(&buf, pl, plan.Colors{})
	if strings.Contains(buf.String(), "No drift") {
		t.Errorf("says No drift:\n%s", buf.String())
	}
	doc, err := plan.ToJSON(pl, plan.JSONOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !doc.Summary.HasChanges || doc.Summary.CouldNotRead != 1 || len(doc.Deferred) != 1 || !doc.Deferred[0].CouldNotRead {
		t.Errorf("JSON summary %+v deferred %+v", doc.Summary, doc.Deferred)
	}
}

// An object removed from the configuration whose target cannot be read is neither destroyed
// nor forgotten blindly.
func TestPlanOrphanThatCannotBeReadIsKept(t *testing.T) {
	m := providertest.NewMemory()
	st := deployedViva(t, m)
	pl := planFor(t, ``, m, st, plan.Options{})
	c := pl.Change("mem_setting.viva")
	if c.Action != providers.Deferred || !c.CouldNotRead || !strings.Contains(c.Reason, "state rm mem_setting.viva") {
		t.Fatalf("%s %v %q", c.Action, c.CouldNotRead, c.Reason)
	}
}

// A sensitive variable sets a resource attribute that is not sensitive in the schema; an output
// reads that attribute: the output is sensitive, and plan --json (and show --json, which renders
// the saved document) leaves its value out.
func TestOutputOfAnAttributeASensitiveValueSetIsSensitive(t *testing.T) {
	pl := planFor(t, `
variable "choice" {
  type      = string
  sensitive = true
  default   = "c"
}
resource "mem_setting" "a" {
  identity = "a"
  value    = var.choice
}
output "chosen" { value = mem_setting.a.value }
output "name" { value = mem_setting.a.identity }
`, providertest.NewMemory(), nil, plan.Options{})
	if !pl.Outputs["chosen"].Sensitive || pl.Outputs["name"].Sensitive {
		t.Fatalf("outputs %+v: want chosen sensitive, name not", pl.Outputs)
	}
	doc, err := plan.ToJSON(pl, plan.JSONOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if o := doc.OutputChanges["chosen"]; !o.Sensitive || string(o.After) != "null" {
		t.Errorf("JSON output %+v (after %s): want sensitive and no value", o, o.After)
	}
	if o := doc.OutputChanges["name"]; string(o.After) != `"a"` {
		t.Errorf("JSON output name after %s, want \"a\"", o.After)
	}
}

// quoting is a provider whose reads warn, quoting the configuration's identity, as adapters
// quote an assignee_filter or a name they could not resolve.
type quoting struct{ *providertest.Memory }

func (q quoting) Read(ctx context.Context, req providers.ReadRequest) (providers.ReadResponse, error) {
	resp, err := q.Memory.Read(ctx, req)
	if !req.Config.IsNull() {
		if v := req.Config.GetAttr("identity"); !v.IsNull() && v.IsKnown() {
			resp.Warnings = append(resp.Warnings, fmt.Sprintf("no user matches %q", v.AsString()))
		}
	}
	return resp, err
}

type quotingClients struct{ q quoting }

func (c quotingClients) Client(context.Context, string) (providers.Client, error) { return c.q, nil }

// A provider's warning quotes a value a sensitive variable set: the plan (human and JSON) shows
// it redacted.
func TestProviderTextsHideSensitiveValues(t *testing.T) {
	mem := providertest.NewMemory()
	reg := providers.NewRegistry(mem)
	cfg, diags := spec.LoadFiles("cfg", map[string][]byte{"main.c4s.hcl": []byte(`
variable "filter" {
  type      = string
  sensitive = true
}
resource "mem_setting" "a" {
  identity = var.filter
}
`)}, reg)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	ev, diags := spec.NewEvaluator(cfg, spec.Inputs{Vars: []string{`filter=Profile.Name = 'CANARY-filter'`}})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	p := &plan.Planner{Config: cfg, Eval: ev, State: state.New(), Registry: reg, Clients: quotingClients{quoting{mem}}}
	pl, diags := p.Plan(context.Background())
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	doc, err := plan.ToJSON(pl, plan.JSONOptions{})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(doc)
	var human strings.Builder
	plan.Render(&human, pl, plan.Colors{})
	all := string(raw) + human.String()
	if strings.Contains(all, "CANARY-filter") || !strings.Contains(all, "no user matches") {
		t.Errorf("the sensitive value is in a provider text, or the text is gone:\n%s\n%s", raw, human.String())
	}
}

// echoMemory is the memory provider with mem_setting's `enabled` marked Echo: a setting of how
// c4sctl manages the object, which Read returns from the configuration.
type echoMemory struct{ *providertest.Memory }

func (m echoMemory) Resources() []*schema.Resource {
	var out []*schema.Resource
	for _, r := range m.Memory.Resources() {
		if r.Type == "mem_setting" {
			c := *r
			c.Attributes = nil
			for _, a := range r.Attributes {
				if a.Name == "enabled" {
					e := *a
					e.Echo = true
					a = &e
				}
				c.Attributes = append(c.Attributes, a)
			}
			r = &c
		}
		out = append(out, r)
	}
	return out
}

type echoClients struct{ m echoMemory }

func (c echoClients) Client(context.Context, string) (providers.Client, error) { return c.m, nil }

// An Echo attribute changed in the configuration since the last apply is no drift: it never
// changed outside c4sctl (dataverse_environment_admins.enforce, teams_app_setup_policy.exclusive).
// A real attribute changed outside still is.
func TestPlanEchoAttributeIsNoDrift(t *testing.T) {
	mem := providertest.NewMemory()
	m := echoMemory{mem}
	// Live: value changed outside (b -> c); enabled reads as configured (false), state has true.
	mem.Put("mem_setting", "a", map[string]cty.Value{"identity": cty.StringVal("a"), "value": cty.StringVal("c"), "enabled": cty.False})
	st := state.New()
	applied := providertest.Object(mem.Resources()[0].ImpliedType(), map[string]cty.Value{"identity": cty.StringVal("a"), "value": cty.StringVal("b"), "enabled": cty.True, "id": cty.StringVal("a")})
	if err := st.Set("mem_setting.a", "mem_setting", "mem", "a", applied, nil); err != nil {
		t.Fatal(err)
	}
	reg := providers.NewRegistry(m)
	cfg, diags := spec.LoadFiles("cfg", map[string][]byte{"main.c4s.hcl": []byte(`resource "mem_setting" "a" {
identity = "a"
value    = "c"
enabled  = false
}`)}, reg)
	if diags.HasErrors() {
		t.Fatalf("load: %s", diags.Error())
	}
	ev, diags := spec.NewEvaluator(cfg, spec.Inputs{})
	if diags.HasErrors() {
		t.Fatalf("eval: %s", diags.Error())
	}
	p := &plan.Planner{Config: cfg, Eval: ev, State: st, Registry: reg, Clients: echoClients{m}, Options: plan.Options{RefreshOnly: true}}
	pl, diags := p.Plan(context.Background())
	if diags.HasErrors() {
		t.Fatalf("plan: %s", diags.Error())
	}
	c := pl.Change("mem_setting.a")
	var names []string
	for _, d := range c.Drift {
		names = append(names, d.Name)
	}
	if strings.Join(names, ",") != "value" {
		t.Fatalf("drift %v, want only value (enabled is Echo: changed in the configuration, not outside)", names)
	}
}
