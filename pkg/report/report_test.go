package report_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"strings"
	"testing"

	"github.com/c4sctl/c4sctl/pkg/plan"
	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/providers/providertest"
	"github.com/c4sctl/c4sctl/pkg/report"
	"github.com/c4sctl/c4sctl/pkg/spec"
	"github.com/c4sctl/c4sctl/pkg/state"
	"github.com/zclconf/go-cty/cty"
)

type memClients struct{ m *providertest.Memory }

func (c memClients) Client(context.Context, string) (providers.Client, error) { return c.m, nil }

// driftReport: a in sync, b drifted from configuration (and its secret differs), c missing,
// d changed outside c4sctl since the last apply on an attribute the configuration does not diff.
func driftReport(t *testing.T) (*report.Report, *spec.Config) {
	t.Helper()
	m := providertest.NewMemory()
	m.Put("mem_setting", "a", map[string]cty.Value{"identity": cty.StringVal("a"), "value": cty.StringVal("a")})
	m.Put("mem_setting", "b", map[string]cty.Value{"identity": cty.StringVal("b"), "value": cty.StringVal("c"), "secret": cty.StringVal("live-s3cr3t")})
	m.Put("mem_setting", "d", map[string]cty.Value{"identity": cty.StringVal("d"), "value": cty.StringVal("c"), "enabled": cty.True})
	st := state.New()
	typ := m.Resources()[0].ImpliedType()
	if err := st.Set("mem_setting.d", "mem_setting", "mem", "d", providertest.Object(typ, map[string]cty.Value{"identity": cty.StringVal("d"), "value": cty.StringVal("c"), "enabled": cty.False, "id": cty.StringVal("d")}), nil); err != nil {
		t.Fatal(err)
	}
	src := `
resource "mem_setting" "a" {
  identity = "a"
  value    = "a"
}
resource "mem_setting" "b" {
  identity = "b"
  value    = "b"
  secret   = "config-s3cr3t"
}
resource "mem_setting" "c" {
  identity = "c"
  value    = "a"
}
resource "mem_setting" "d" {
  identity = "d"
  enabled  = true
}
data "mem_lookup" "l" {
  identity = "a"
}
`
	reg := providers.NewRegistry(m)
	cfg, diags := spec.LoadFiles("cfg", map[string][]byte{"main.c4s.hcl": []byte(src)}, reg)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	ev, diags := spec.NewEvaluator(cfg, spec.Inputs{})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	p := &plan.Planner{Config: cfg, Eval: ev, State: st, Registry: reg, Clients: memClients{m}, Options: plan.Options{RefreshOnly: true}}
	pl, diags := p.Plan(context.Background())
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	// d: the configuration wants enabled = true and it is; state recorded false, so it changed
	// outside c4sctl since the last apply.
	return report.FromPlan(pl, cfg, "c4sctl", "test", nil), cfg
}

func TestFromPlan(t *testing.T) {
	r, _ := driftReport(t)
	got := map[string]report.Status{}
	for _, res := range r.Resources {
		got[res.Address] = res.Status
	}
	want := map[string]report.Status{"mem_setting.a": report.InSync, "mem_setting.b": report.Drifted, "mem_setting.c": report.Missing, "mem_setting.d": report.Drifted}
	for a, s := range want {
		if got[a] != s {
			t.Errorf("%s: %s, want %s", a, got[a], s)
		}
	}
	if len(r.Resources) != 4 {
		t.Errorf("%d resources; data sources are not checked", len(r.Resources))
	}
	for _, res := range r.Resources {
		if res.Address == "mem_setting.b" {
			if res.File != "main.c4s.hcl" || res.Line != 6 {
				t.Errorf("b declared at %s:%d", res.File, res.Line)
			}
			var d []string
			for _, x := range res.Differences {
				d = append(d, x.Attribute+"="+x.Expected+"/"+x.Actual)
			}
			if got := strings.Join(d, ","); got != `value="b"/"c",secret=(sensitive value)/(sensitive value)` {
				t.Errorf("b differences %s", got)
			}
		}
		if res.Address == "mem_setting.d" && (len(res.Differences) != 1 || res.Differences[0].Kind != report.KindState || res.Differences[0].Expected != "false" || res.Differences[0].Actual != "true") {
			t.Errorf("d differences %+v", res.Differences)
		}
	}
}

func writeAll(t *testing.T, r *report.Report) map[string]string {
	t.Helper()
	out := map[string]string{}
	for kind, w := range report.Writers {
		var buf bytes.Buffer
		if err := w(&buf, r); err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		if strings.Contains(buf.String(), "s3cr3t") {
			t.Errorf("%s report holds a secret:\n%s", kind, buf.String())
		}
		out[kind] = buf.String()
	}
	return out
}

// The JUnit schema as CI reporters read it (Jenkins, GitLab, Azure DevOps).
type junitTestsuites struct {
	XMLName  xml.Name `xml:"testsuites"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Suites   []struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Cases    []struct {
			Name      string `xml:"name,attr"`
			Classname string `xml:"classname,attr"`
			Failure   *struct {
				Message string `xml:"message,attr"`
				Type    string `xml:"type,attr"`
				Body    string `xml:",chardata"`
			} `xml:"failure"`
			Skipped *struct{} `xml:"skipped"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func TestJUnit(t *testing.T) {
	r, _ := driftReport(t)
	var js junitTestsuites
	if err := xml.Unmarshal([]byte(writeAll(t, r)["junit"]), &js); err != nil {
		t.Fatal(err)
	}
	if js.Tests != 4 || js.Failures != 3 || len(js.Suites) != 1 || js.Suites[0].Name != "mem" || len(js.Suites[0].Cases) != 4 {
		t.Fatalf("junit %+v", js)
	}
	failing := map[string]string{}
	for _, c := range js.Suites[0].Cases {
		if c.Name == "" || c.Classname == "" {
			t.Errorf("case without name or classname: %+v", c)
		}
		if c.Failure != nil {
			failing[c.Name] = c.Failure.Message + "\n" + c.Failure.Body
		}
	}
	if len(failing) != 3 || failing["mem_setting.a"] != "" {
		t.Errorf("failing cases %v", failing)
	}
	if b := failing["mem_setting.b"]; !strings.Contains(b, `value (configuration): expected "b", actual "c"`) {
		t.Errorf("b failure: %s", b)
	}
}

func TestSARIF(t *testing.T) {
	r, _ := driftReport(t)
	var log map[string]any
	if err := json.Unmarshal([]byte(writeAll(t, r)["sarif"]), &log); err != nil {
		t.Fatal(err)
	}
	if log["$schema"] != report.SARIFSchema || log["version"] != "2.1.0" {
		t.Fatalf("$schema %v version %v", log["$schema"], log["version"])
	}
	runs, _ := log["runs"].([]any)
	if len(runs) != 1 {
		t.Fatalf("runs %v", log["runs"])
	}
	run := runs[0].(map[string]any)
	driver := run["tool"].(map[string]any)["driver"].(map[string]any)
	if driver["name"] != "c4sctl" || driver["version"] != "test" {
		t.Errorf("driver %v", driver)
	}
	ruleIDs := map[string]bool{}
	for _, x := range driver["rules"].([]any) {
		rule := x.(map[string]any)
		id, _ := rule["id"].(string)
		if id == "" {
			t.Errorf("rule without id: %v", rule)
		}
		ruleIDs[id] = true
	}
	results := run["results"].([]any)
	if len(results) != 3 {
		t.Fatalf("%d results, want one per drifted or missing resource (3)", len(results))
	}
	for _, x := range results {
		res := x.(map[string]any)
		id, _ := res["ruleId"].(string)
		if !ruleIDs[id] {
			t.Errorf("result ruleId %q is not a declared rule", id)
		}
		if lvl := res["level"]; lvl != "error" && lvl != "warning" && lvl != "note" && lvl != "none" {
			t.Errorf("level %v", lvl)
		}
		msg, _ := res["message"].(map[string]any)
		if text, _ := msg["text"].(string); text == "" {
			t.Errorf("result without message.text: %v", res)
		}
		locs, _ := res["locations"].([]any)
		if len(locs) == 0 {
			t.Fatalf("result without locations: %v", res)
		}
		phys := locs[0].(map[string]any)["physicalLocation"].(map[string]any)
		if uri := phys["artifactLocation"].(map[string]any)["uri"]; uri != "main.c4s.hcl" {
			t.Errorf("uri %v", uri)
		}
		if line := phys["region"].(map[string]any)["startLine"].(float64); line < 1 {
			t.Errorf("startLine %v", line)
		}
	}
}

func TestMarkdownAndJSON(t *testing.T) {
	r, _ := driftReport(t)
	out := writeAll(t, r)
	md := out["markdown"]
	for _, want := range []string{"## c4sctl drift report", "**Drift: 3 of 4", "| `mem_setting.a` | in sync |", "| `value` | configuration | `\"b\"` | `\"c\"` |", "| `enabled` | last apply | `false` | `true` |"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	var doc struct {
		HasDrift bool `json:"has_drift"`
		Summary  struct {
			Drifted, Missing, InSync int
		} `json:"summary"`
		Resources []report.Resource `json:"resources"`
	}
	if err := json.Unmarshal([]byte(out["json"]), &doc); err != nil {
		t.Fatal(err)
	}
	if !doc.HasDrift || doc.Summary.Drifted != 2 || doc.Summary.Missing != 1 || len(doc.Resources) != 4 {
		t.Errorf("json %+v", doc)
	}
}

func TestCleanReport(t *testing.T) {
	r := &report.Report{Tool: "c4sctl", Version: "test", Resources: []report.Resource{{Address: "x.y", Type: "x", Provider: "p", Status: report.InSync}}}
	if r.HasDrift() {
		t.Fatal("clean report has drift")
	}
	out := writeAll(t, r)
	var js junitTestsuites
	if err := xml.Unmarshal([]byte(out["junit"]), &js); err != nil || js.Failures != 0 || js.Tests != 1 {
		t.Errorf("junit %+v %v", js, err)
	}
	if !strings.Contains(out["sarif"], `"results": []`) {
		t.Errorf("sarif of a clean report must have an empty results array:\n%s", out["sarif"])
	}
}

// A resource in state whose target vanished (could not be read) and one whose prerequisite was
// never created (a misspelled group) are drift in every format: a failing JUnit case, a SARIF
// result, has_drift in JSON.
func TestUnreadableAndDeferredAreDrift(t *testing.T) {
	m := providertest.NewMemory()
	m.Put("mem_setting", "a", map[string]cty.Value{"identity": cty.StringVal("a"), "value": cty.StringVal("a")})
	m.Defer["lic"] = `group "sellers" does not exist in the tenant yet: create it (or fix the name) before licensing it`
	m.Defer["typo"] = `group "selers" does not exist in the tenant yet: create it (or fix the name) before licensing it`
	st := state.New()
	typ := m.Resources()[0].ImpliedType()
	if err := st.Set("mem_setting.lic", "mem_setting", "mem", "lic", providertest.Object(typ, map[string]cty.Value{"identity": cty.StringVal("lic"), "id": cty.StringVal("lic")}), nil); err != nil {
		t.Fatal(err)
	}
	src := `
resource "mem_setting" "a" {
  identity = "a"
  value    = "a"
}
resource "mem_setting" "lic" {
  identity = "lic"
}
resource "mem_setting" "typo" {
  identity = "typo"
}
`
	reg := providers.NewRegistry(m)
	cfg, diags := spec.LoadFiles("cfg", map[string][]byte{"main.c4s.hcl": []byte(src)}, reg)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	ev, _ := spec.NewEvaluator(cfg, spec.Inputs{})
	pl, diags := (&plan.Planner{Config: cfg, Eval: ev, State: st, Registry: reg, Clients: memClients{m}, Options: plan.Options{RefreshOnly: true}}).Plan(context.Background())
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	r := report.FromPlan(pl, cfg, "c4sctl", "test", nil)
	got := map[string]report.Status{}
	for _, res := range r.Resources {
		got[res.Address] = res.Status
	}
	if got["mem_setting.a"] != report.InSync || got["mem_setting.lic"] != report.Unreadable || got["mem_setting.typo"] != report.Deferred {
		t.Fatalf("statuses %v", got)
	}
	if !r.HasDrift() || !strings.Contains(r.Summary(), "1 could not be read, 1 deferred") {
		t.Errorf("has drift %v, summary %q", r.HasDrift(), r.Summary())
	}
	out := writeAll(t, r)

	var js junitTestsuites
	if err := xml.Unmarshal([]byte(out["junit"]), &js); err != nil {
		t.Fatal(err)
	}
	failing := map[string]string{}
	for _, c := range js.Suites[0].Cases {
		if c.Failure != nil {
			failing[c.Name] = c.Failure.Type + ": " + c.Failure.Message
		}
	}
	if len(failing) != 2 || !strings.Contains(failing["mem_setting.lic"], `unreadable: mem_setting.lic could not be read: it was deployed (id lic) and can no longer be read: group "sellers" no longer exists in the tenant`) ||
		!strings.HasPrefix(failing["mem_setting.typo"], "deferred: ") {
		t.Errorf("JUnit failures %v", failing)
	}

	var log struct {
		Runs []struct {
			Results []struct {
				RuleID  string                `json:"ruleId"`
				Message struct{ Text string } `json:"message"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(out["sarif"]), &log); err != nil {
		t.Fatal(err)
	}
	rules := map[string]bool{}
	for _, res := range log.Runs[0].Results {
		rules[res.RuleID] = true
	}
	if len(log.Runs[0].Results) != 2 || !rules[report.RuleUnreadable] || !rules[report.RuleDeferred] {
		t.Errorf("SARIF results %+v", log.Runs[0].Results)
	}

	var doc struct {
		HasDrift bool `json:"has_drift"`
		Summary  struct {
			Unreadable, Deferred int
		} `json:"summary"`
	}
	if err := json.Unmarshal([]byte(out["json"]), &doc); err != nil {
		t.Fatal(err)
	}
	if !doc.HasDrift || doc.Summary.Unreadable != 1 || doc.Summary.Deferred != 1 {
		t.Errorf("JSON report %+v", doc)
	}
}

// Sellers not covered are drift (exit 2) even when every resource is in sync: JUnit has a
// failing case and SARIF a result, so CI that reads only those files is not green.
func TestUncoveredSellersFailJUnitAndSARIF(t *testing.T) {
	r := &report.Report{Version: "test", Uncovered: 20}
	if !r.HasDrift() {
		t.Fatal("HasDrift false with uncovered sellers")
	}
	var j, s strings.Builder
	if err := report.WriteJUnit(&j, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(j.String(), `failures="1"`) || !strings.Contains(j.String(), "20 seller(s) are not covered") {
		t.Errorf("JUnit without a failure for uncovered sellers:\n%s", j.String())
	}
	if err := report.WriteSARIF(&s, r); err != nil {
		t.Fatal(err)
	}
	var log struct {
		Runs []struct {
			Tool struct {
				Driver struct{ Rules []struct{ ID string } }
			}
			Results []struct {
				RuleID    string `json:"ruleId"`
				RuleIndex int    `json:"ruleIndex"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(s.String()), &log); err != nil {
		t.Fatal(err)
	}
	res := log.Runs[0].Results
	if len(res) != 1 || res[0].RuleID != report.RuleUncovered || log.Runs[0].Tool.Driver.Rules[res[0].RuleIndex].ID != report.RuleUncovered {
		t.Errorf("SARIF results %+v", res)
	}
}
