package plan

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/schema"
	"github.com/zclconf/go-cty/cty"
)

const (
	appID = "b1b0c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d"
	envID = "0f3c2b1a-0000-4000-8000-00000000e7e1"
)

var (
	appSchema = &schema.Resource{Type: "x_app", Provider: "x", DataSource: true, Attributes: []*schema.Attribute{
		{Name: "id", Type: cty.String, Computed: true}, {Name: "display_name", Type: cty.String, Optional: true}}}
	pinSchema = &schema.Resource{Type: "x_policy", Provider: "x", Attributes: []*schema.Attribute{
		{Name: "identity", Type: cty.String, Required: true}, {Name: "apps", Type: cty.Set(cty.String), Optional: true},
		{Name: "pins", Type: cty.List(cty.Object(map[string]cty.Type{"id": cty.String, "order": cty.Number})), Optional: true}}}
)

func labelledPlan() *Plan {
	app := cty.ObjectVal(map[string]cty.Value{"id": cty.StringVal(appID), "display_name": cty.StringVal("Copilot for Sales")})
	env := cty.ObjectVal(map[string]cty.Value{"id": cty.StringVal(strings.ToUpper(envID)), "display_name": cty.StringVal("Sales (msdyn_viva)")})
	short := cty.ObjectVal(map[string]cty.Value{"id": cty.StringVal("abc"), "display_name": cty.StringVal("Too short")})
	pin := func(id string, o int64) cty.Value {
		return cty.ObjectVal(map[string]cty.Value{"id": cty.StringVal(id), "order": cty.NumberIntVal(o)})
	}
	before := cty.ObjectVal(map[string]cty.Value{"identity": cty.StringVal("Global"), "apps": cty.SetValEmpty(cty.String), "pins": cty.ListValEmpty(pin("", 0).Type())})
	after := cty.ObjectVal(map[string]cty.Value{"identity": cty.StringVal("Global"), "apps": cty.SetVal([]cty.Value{cty.StringVal(appID)}), "pins": cty.ListVal([]cty.Value{pin(appID, 3)})})
	p := &Plan{Changes: []*ResourceChange{
		{Addr: "data.x_app.copilot", Type: "x_app", Provider: "x", Data: true, Action: providers.Read, Before: app, After: app, Schema: appSchema},
		{Addr: "data.x_app.env", Type: "x_app", Provider: "x", Data: true, Action: providers.Read, Before: env, After: env, Schema: appSchema},
		{Addr: "data.x_app.short", Type: "x_app", Provider: "x", Data: true, Action: providers.Read, Before: short, After: short, Schema: appSchema},
		{Addr: "x_policy.global", Type: "x_policy", Provider: "x", Action: providers.Update, ID: "Global", Before: before, After: after, Config: after, Prior: cty.NilVal, Schema: pinSchema,
			Changes: []AttrChange{{Name: "apps", Before: before.GetAttr("apps"), After: after.GetAttr("apps")}, {Name: "pins", Before: before.GetAttr("pins"), After: after.GetAttr("pins")}},
			Notes:   []string{"pinned after apply: 1. " + appID + ", 2. " + envID}},
	}}
	p.setLabels(collectLabels(p.Changes))
	return p
}

// Ids a data source of the same plan read with a display name are shown with that name, in the
// human plan, its notes, the Markdown and a saved plan rebuilt from JSON; short ids never.
func TestPlansShowNamesBesideIDs(t *testing.T) {
	p := labelledPlan()
	if len(p.Labels) != 2 || p.Labels[envID] != "Sales (msdyn_viva)" {
		t.Fatalf("labels %v", p.Labels)
	}
	var human, md bytes.Buffer
	Render(&human, p, Colors{})
	RenderMarkdown(&md, p, MarkdownOptions{})
	for _, want := range []string{
		`+ "` + appID + `" (Copilot for Sales),`,                                      // a set element added
		`[{ id = "` + appID + `" (Copilot for Sales), order = 3 }]`,                   // the whole list after apply
		"1. " + appID + " (Copilot for Sales), 2. " + envID + " (Sales (msdyn_viva))", // a note
	} {
		if !strings.Contains(human.String(), want) {
			t.Errorf("human plan lacks %q:\n%s", want, human.String())
		}
	}
	if !strings.Contains(md.String(), `"`+appID+`" (Copilot for Sales)`) {
		t.Errorf("markdown lacks the name:\n%s", md.String())
	}
	doc, err := ToJSON(p, JSONOptions{C4sctlVersion: "test"})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(doc)
	var back JSONPlan
	if err := json.Unmarshal(raw, &back); err != nil || back.Labels[appID] != "Copilot for Sales" {
		t.Fatalf("JSON labels %v (%v)", back.Labels, err)
	}
	schemas := func(typ string, data bool) *schema.Resource {
		if data {
			return appSchema
		}
		return pinSchema
	}
	shown, err := FromJSON(&back, schemas)
	if err != nil {
		t.Fatal(err)
	}
	var again bytes.Buffer
	Render(&again, shown, Colors{})
	if again.String() != human.String() {
		t.Errorf("show renders differently:\n%s\nwant:\n%s", again.String(), human.String())
	}
}

func TestLabelTextNamesEachIDOnce(t *testing.T) {
	l := map[string]string{appID: "Copilot for Sales"}
	for in, want := range map[string]string{
		"app " + strings.ToUpper(appID) + " pinned":    "app " + strings.ToUpper(appID) + " (Copilot for Sales) pinned",
		"app " + appID + " (Copilot for Sales) pinned": "app " + appID + " (Copilot for Sales) pinned",
		appID + "," + appID:                            appID + " (Copilot for Sales)," + appID + " (Copilot for Sales)",
		"nothing to name":                              "nothing to name",
	} {
		if got := labelText(in, l); got != want {
			t.Errorf("labelText(%q) = %q, want %q", in, got, want)
		}
	}
}
