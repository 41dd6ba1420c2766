package plan_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/c4sctl/c4sctl/pkg/plan"
	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/providers/providertest"
	"github.com/c4sctl/c4sctl/pkg/schema"
	"github.com/c4sctl/c4sctl/pkg/state"
	"github.com/zclconf/go-cty/cty"
)

// richPlan has every kind of entry the machine-readable and Markdown outputs show: an update with
// a set and a sensitive attribute, a create with an unknown id, an object deleted from
// configuration, drift against state, a manual action, a warning, a note, a deferred resource and
// outputs (one sensitive).
func richPlan(t *testing.T) *plan.Plan {
	t.Helper()
	m := providertest.NewMemory()
	m.Put("mem_setting", "a", map[string]cty.Value{"identity": cty.StringVal("a"), "value": cty.StringVal("c"), "tags": cty.SetVal([]cty.Value{cty.StringVal("old"), cty.StringVal("keep")}), "secret": cty.StringVal("s3cr3t-live")})
	m.Put("mem_setting", "gone", map[string]cty.Value{"identity": cty.StringVal("gone")})
	st := state.New()
	typ := m.Resources()[0].ImpliedType()
	applied := providertest.Object(typ, map[string]cty.Value{"identity": cty.StringVal("a"), "value": cty.StringVal("a"), "tags": cty.SetVal([]cty.Value{cty.StringVal("old"), cty.StringVal("keep")}), "id": cty.StringVal("a")})
	if err := st.Set("mem_setting.a", "mem_setting", "mem", "a", applied, []string{"secret"}); err != nil {
		t.Fatal(err)
	}
	if err := st.Set("mem_setting.gone", "mem_setting", "mem", "gone", providertest.Object(typ, map[string]cty.Value{"identity": cty.StringVal("gone"), "id": cty.StringVal("gone")}), nil); err != nil {
		t.Fatal(err)
	}
	src := `
variable "token" {
  type      = string
  default   = "tok-s3cr3t"
  sensitive = true
}
resource "mem_setting" "a" {
  identity = "a"
  value    = "b"
  tags     = ["keep", "new"]
  secret   = "s3cr3t-config"
}
resource "mem_setting" "n" {
  identity = "n"
  enabled  = true
}
resource "mem_singleton" "g" {
  value = "wanted"
}
output "n_id" {
  value = mem_setting.n.id
}
output "a_value" {
  value = mem_setting.a.value
}
output "token" {
  value     = var.token
  sensitive = true
}
`
	pl := planFor(t, src, m, st, plan.Options{})
	g := pl.Change("mem_singleton.g")
	g.Action = providers.Manual
	g.Manual = &providers.ManualAction{Summary: "set the value in the admin centre", Steps: []string{"Open the admin centre", "Set Value to <wanted>"}}
	pl.Change("mem_setting.n").Warnings = []string{"nobody can use it yet"}
	pl.Change("mem_setting.a").Notes = []string{"takes an hour to reach users"}
	pl.Changes = append(pl.Changes, &plan.ResourceChange{Addr: "mem_setting.later", Type: "mem_setting", Provider: "mem", Action: providers.Deferred,
		Reason: "waits for mem_setting.n", Schema: m.Resources()[0], Before: cty.NullVal(typ), After: cty.NullVal(typ), Config: cty.NullVal(typ), Prior: cty.NilVal, DependsOn: []string{"mem_setting.n"}})
	pl.Coverage = &plan.Coverage{Group: "Sellers", Sellers: 8, Teams: true, Uncovered: 1,
		Lines: []string{"7 covered: meeting policy Global as the org-wide default (transcription on)", "1 NOT covered: meeting policy AllOff through group Contractors (rank 1) (transcription OFF)"},
		Notes: []string{"assignments reach users within up to 24 hours"},
		Reconciliation: &plan.Reconciliation{PermissionSet: "Copilot_for_Sales_Users", ConnectedApp: "Microsoft Power Platform", MatchBy: []string{"federation_id", "email"},
			Licensed: 7, Matched: 6, MatchedBy: map[string]int{"federation_id": 5, "email": 1}, Ready: 5, Missing: []string{"a@contoso.example"},
			Inactive: []plan.SellerUser{{Seller: "b@contoso.example", Username: "b@contoso.example.crm"}}, NoPermSet: []plan.SellerUser{}, NoAPI: []plan.SellerUser{}, NotAllowed: []plan.SellerUser{},
			Unlicensed: []string{"u1@contoso.example.crm", "u2@contoso.example.crm", "u3@contoso.example.crm", "u4@contoso.example.crm", "u5@contoso.example.crm", "u6@contoso.example.crm"},
			Notes:      []string{"these are warnings"}}}
	return pl
}

func TestJSONGolden(t *testing.T) {
	pl := richPlan(t)
	doc, err := plan.ToJSON(pl, plan.JSONOptions{C4sctlVersion: "test", Excluded: []string{"mem_setting.x"}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(out, []byte("s3cr3t")) {
		t.Fatalf("JSON plan holds a sensitive value:\n%s", out)
	}
	golden(t, "plan.json", string(out)+"\n")

	// The document answers the questions a pipeline asks without knowing c4sctl.
	var generic map[string]any
	if err := json.Unmarshal(out, &generic); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"format_version", "c4sctl_version", "resource_changes", "resource_drift", "manual_actions", "deferred", "warnings", "notes", "output_changes", "diagnostics"} {
		if _, ok := generic[k]; !ok {
			t.Errorf("document lacks %q", k)
		}
	}
	a := findChange(t, doc, "mem_setting.a")
	if a.Action != "update" || !a.BeforeSensitive["secret"] || !a.AfterSensitive["secret"] {
		t.Errorf("mem_setting.a: action %s, before_sensitive %v, after_sensitive %v", a.Action, a.BeforeSensitive, a.AfterSensitive)
	}
	n := findChange(t, doc, "mem_setting.n")
	if n.Action != "create" || !n.AfterUnknown["id"] || string(n.Before) != "null" {
		t.Errorf("mem_setting.n: action %s, after_unknown %v, before %s", n.Action, n.AfterUnknown, n.Before)
	}
	if len(doc.ResourceDrift) != 1 || doc.ResourceDrift[0].Address != "mem_setting.a" || doc.ResourceDrift[0].Changed[0].Name != "value" {
		t.Errorf("resource_drift %+v", doc.ResourceDrift)
	}
	if o := doc.OutputChanges["token"]; !o.Sensitive || string(o.After) != "null" {
		t.Errorf("sensitive output %+v", o)
	}
	if o := doc.OutputChanges["n_id"]; !o.AfterUnknown {
		t.Errorf("unknown output %+v", o)
	}
}

func findChange(t *testing.T, doc *plan.JSONPlan, addr string) plan.JSONResourceChange {
	t.Helper()
	for _, c := range doc.ResourceChanges {
		if c.Address == addr {
			return c
		}
	}
	t.Fatalf("no resource change for %s", addr)
	return plan.JSONResourceChange{}
}

// A plan rebuilt from its document renders exactly like the original (what `show FILE` prints).
func TestJSONRoundTripRendersTheSame(t *testing.T) {
	pl := richPlan(t)
	doc, err := plan.ToJSON(pl, plan.JSONOptions{C4sctlVersion: "test"})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(doc)
	var back plan.JSONPlan
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	reg := providers.NewRegistry(providertest.NewMemory())
	rebuilt, err := plan.FromJSON(&back, reg.ResourceSchema)
	if err != nil {
		t.Fatal(err)
	}
	var want, got bytes.Buffer
	plan.Render(&want, pl, plan.Colors{})
	plan.Render(&got, rebuilt, plan.Colors{})
	if want.String() != got.String() {
		t.Errorf("rebuilt plan renders differently;\ngot:\n%s\nwant:\n%s", got.String(), want.String())
	}
	want.Reset()
	got.Reset()
	plan.RenderMarkdown(&want, pl, plan.MarkdownOptions{})
	plan.RenderMarkdown(&got, rebuilt, plan.MarkdownOptions{})
	if want.String() != got.String() {
		t.Errorf("rebuilt plan renders different Markdown;\ngot:\n%s\nwant:\n%s", got.String(), want.String())
	}
}

func TestFromJSONRejectsBadDocuments(t *testing.T) {
	reg := providers.NewRegistry(providertest.NewMemory())
	for name, doc := range map[string]*plan.JSONPlan{
		"unknown type":   {ResourceChanges: []plan.JSONResourceChange{{Address: "x.y", Type: "nope", Action: "create"}}},
		"unknown action": {ResourceChanges: []plan.JSONResourceChange{{Address: "mem_setting.a", Type: "mem_setting", Action: "explode"}}},
		"duplicate":      {ResourceChanges: []plan.JSONResourceChange{{Address: "mem_setting.a", Type: "mem_setting", Action: "create"}, {Address: "mem_setting.a", Type: "mem_setting", Action: "create"}}},
		"bad value":      {ResourceChanges: []plan.JSONResourceChange{{Address: "mem_setting.a", Type: "mem_setting", Action: "create", After: json.RawMessage(`{"enabled":"maybe"}`)}}},
		"orphan warning": {Warnings: []plan.JSONMessage{{Address: "mem_setting.z", Message: "w"}}},
	} {
		if _, err := plan.FromJSON(doc, reg.ResourceSchema); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestMarkdownGolden(t *testing.T) {
	pl := richPlan(t)
	var buf bytes.Buffer
	plan.RenderMarkdown(&buf, pl, plan.MarkdownOptions{Excluded: []string{"mem_setting.x"}})
	out := buf.String()
	if strings.Contains(out, "s3cr3t") {
		t.Fatalf("Markdown shows a sensitive value:\n%s", out)
	}
	for _, want := range []string{"**Plan:** 1 to import, 1 to add, 1 to change, 1 to destroy.", "<details><summary><b>mem</b>", "```diff", "> [!IMPORTANT]", "> [!WARNING]", "Changed outside c4sctl", "(sensitive value)", "Set Value to &lt;wanted&gt;"} {
		if !strings.Contains(out, want) {
			t.Errorf("Markdown lacks %q", want)
		}
	}
	if strings.Count(out, "<details>") != strings.Count(out, "</details>") {
		t.Errorf("unbalanced <details>:\n%s", out)
	}
	golden(t, "plan.md", out)

	buf.Reset()
	m := providertest.NewMemory()
	plan.RenderMarkdown(&buf, planFor(t, `resource "mem_singleton" "g" {
value = "initial"
}`, m, stateOf(t, m, "mem_singleton.g=Global"), plan.Options{}), plan.MarkdownOptions{})
	golden(t, "plan_no_changes.md", buf.String())
}

func TestMarkdownFenceSurvivesBackticks(t *testing.T) {
	m := providertest.NewMemory()
	m.Put("mem_singleton", "Global", map[string]cty.Value{"identity": cty.StringVal("Global"), "value": cty.StringVal("```\n</details>")})
	pl := planFor(t, `resource "mem_singleton" "g" {
value = "x"
}`, m, nil, plan.Options{})
	var buf bytes.Buffer
	plan.RenderMarkdown(&buf, pl, plan.MarkdownOptions{})
	if !strings.Contains(buf.String(), "````diff") {
		t.Errorf("a value holding ``` must get a longer fence:\n%s", buf.String())
	}
}

func TestExclude(t *testing.T) {
	m := providertest.NewMemory()
	src := `
resource "mem_setting" "a" {
  identity = "a"
}
resource "mem_setting" "b" {
  identity   = "b"
  depends_on = [mem_setting.a]
}
resource "mem_setting" "c" {
  identity = "c"
  value    = mem_setting.b.value
}
resource "mem_setting" "d" {
  identity = "d"
}`
	pl := planFor(t, src, m, nil, plan.Options{Exclude: []string{"mem_setting.a"}})
	if got := strings.Join(pl.Addresses(), ","); got != "mem_setting.d" {
		t.Fatalf("plan excluding a has %s; b and c depend on a and must be left out too", got)
	}
	pl = planFor(t, src, m, nil, plan.Options{Exclude: []string{"mem_setting.c"}})
	if got := strings.Join(pl.Addresses(), ","); got != "mem_setting.a,mem_setting.b,mem_setting.d" {
		t.Fatalf("plan excluding c has %s", got)
	}
	pl = planFor(t, src, m, nil, plan.Options{Targets: []string{"mem_setting.c"}, Exclude: []string{"mem_setting.d"}})
	if got := strings.Join(pl.Addresses(), ","); got != "mem_setting.a,mem_setting.b,mem_setting.c" {
		t.Fatalf("targets with exclude: %s", got)
	}
}

func TestExcludeKeepsOrphanInState(t *testing.T) {
	m := providertest.NewMemory()
	m.Put("mem_setting", "gone", map[string]cty.Value{"identity": cty.StringVal("gone")})
	st := state.New()
	if err := st.Set("mem_setting.gone", "mem_setting", "mem", "gone", providertest.Object(m.Resources()[0].ImpliedType(), map[string]cty.Value{"identity": cty.StringVal("gone")}), nil); err != nil {
		t.Fatal(err)
	}
	pl := planFor(t, `resource "mem_setting" "a" {
identity = "a"
}`, m, st, plan.Options{Exclude: []string{"mem_setting.gone"}})
	if pl.Change("mem_setting.gone") != nil {
		t.Fatalf("excluded orphan was planned: %v", pl.Addresses())
	}
}

func TestFromJSONRefusesHugeNumbers(t *testing.T) {
	s := &schema.Resource{Type: "num_thing", Provider: "num", Attributes: []*schema.Attribute{{Name: "n", Type: cty.Number, Optional: true}}}
	lookup := func(typ string, _ bool) *schema.Resource { return s }
	doc := &plan.JSONPlan{ResourceChanges: []plan.JSONResourceChange{{Address: "num_thing.a", Type: "num_thing", Action: "create", After: json.RawMessage(`{"n":1e999999999}`)}}}
	if _, err := plan.FromJSON(doc, lookup); err == nil || !strings.Contains(err.Error(), "out of range") {
		t.Fatalf("err %v", err)
	}
	doc.ResourceChanges[0].After = json.RawMessage(`{"n":250}`)
	pl, err := plan.FromJSON(doc, lookup)
	if err != nil || plan.FormatValue(pl.Changes[0].After.GetAttr("n")) != "250" {
		t.Fatalf("ordinary number: %v", err)
	}
}

// A DLP policy named by a tenant admin with a Markdown payload, quoted in a warning, a note, a
// manual step and a deferral reason: the pull-request comment shows it as inert text.
func TestMarkdownTenantTextIsInert(t *testing.T) {
	const payload = "Sales [click me](https://evil.example/x) ![p](http://evil.example/p.png) <img src=x onerror=alert(1)> @octocat www.evil.example **bold** `code` | cell\n> [!WARNING]\n# heading"
	pl := richPlan(t)
	for _, rc := range pl.Changes {
		rc.Notes = append(rc.Notes, "policy "+payload+" is in place")
		rc.Warnings = append(rc.Warnings, "policy "+payload)
		if rc.Manual != nil {
			rc.Manual.Steps = append(rc.Manual.Steps, "open "+payload)
		}
		if rc.Reason != "" {
			rc.Reason += " " + payload
		}
	}
	var buf bytes.Buffer
	plan.RenderMarkdown(&buf, pl, plan.MarkdownOptions{Title: "plan for " + payload})
	out := buf.String()
	for _, bad := range []string{"](", "![", "<img", "https://", "http://", "@octocat", "www.evil", "**bold**", "`code`", "\n# heading", "\n> [!WARNING]\n# heading"} {
		if strings.Contains(out, bad) {
			t.Errorf("the comment holds %q live:\n%s", bad, out)
		}
	}
	if !strings.Contains(out, "Sales \\[click me\\]") {
		t.Errorf("the text itself is lost:\n%s", out)
	}
}
