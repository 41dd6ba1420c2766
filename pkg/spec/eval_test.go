package spec

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

func load(t *testing.T, src string) *Config {
	t.Helper()
	cfg, diags := LoadFiles("cfg", map[string][]byte{"main.c4s.hcl": []byte(src)}, testSchemas())
	if diags.HasErrors() {
		t.Fatal(render(t, diags, cfg.Sources))
	}
	return cfg
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestVariablePrecedence(t *testing.T) {
	cfg := load(t, `
variable "a" { default = "default" }
variable "b" { default = "default" }
variable "c" { default = "default" }
variable "d" { default = "default" }
variable "e" { default = "default" }
`)
	dir := t.TempDir()
	f1 := writeFile(t, dir, "one.c4svars", `
c = "file1"
d = "file1"
e = "file1"
`)
	f2 := writeFile(t, dir, "two.c4svars", `d = "file2"`)
	ev, diags := NewEvaluator(cfg, Inputs{
		Env:      []string{"C4S_VAR_b=env", "C4S_VAR_c=env", "C4S_VAR_d=env", "C4S_VAR_e=env", "PATH=/bin"},
		VarFiles: []string{f1, f2},
		Vars:     []string{"e=flag1", "e=flag2"},
	})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	want := map[string]string{"a": "default", "b": "env", "c": "file1", "d": "file2", "e": "flag2"}
	for name, w := range want {
		if got := ev.vars[name]; !got.RawEquals(cty.StringVal(w)) {
			t.Errorf("var.%s = %#v, want %q", name, got, w)
		}
	}
}

func TestVariableConversion(t *testing.T) {
	cfg := load(t, `
variable "n" { type = number }
variable "l" { type = list(string) }
variable "s" { type = string }
variable "o" {
  type = object({ name = string, size = optional(number, 3) })
}
variable "m" {
  type    = map(string)
  default = {}
}
`)
	dir := t.TempDir()
	f := writeFile(t, dir, "v.json", `{"o": {"name": "x"}}`)
	ev, diags := NewEvaluator(cfg, Inputs{
		Env:      []string{"C4S_VAR_n=42"},
		VarFiles: []string{f},
		Vars:     []string{`l=["a", "b"]`, `s=[not parsed]`},
	})
	if diags.HasErrors() {
		t.Fatal(render(t, diags, cfg.Sources))
	}
	checks := map[string]cty.Value{
		"n": cty.NumberIntVal(42),
		"l": cty.ListVal([]cty.Value{cty.StringVal("a"), cty.StringVal("b")}),
		"s": cty.StringVal("[not parsed]"),
		"o": cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal("x"), "size": cty.NumberIntVal(3)}),
		"m": cty.MapValEmpty(cty.String),
	}
	for name, want := range checks {
		if got := ev.vars[name]; !got.RawEquals(want) {
			t.Errorf("var.%s = %#v, want %#v", name, got, want)
		}
	}
}

// TestInputDiagnostics covers mistakes in values given from outside; rendered with the
// var files' and flags' sources, which NewEvaluator adds to cfg.Sources.
func TestInputDiagnostics(t *testing.T) {
	src := `
variable "tenant" { type = string }
variable "count_of" {
  type    = number
  default = 1
}
variable "region" {
  type    = string
  default = "emea"
  validation {
    condition     = contains(["emea", "amer"], var.region)
    error_message = "region must be emea or amer."
  }
}
`
	dir := t.TempDir()
	cases := []struct {
		name    string
		in      Inputs
		summary string
		detail  string
	}{
		{"missing_required", Inputs{}, "No value for required variable", `"tenant" has no default value`},
		{"bad_var_syntax", Inputs{Vars: []string{"tenant=t", "region"}}, "Invalid --var option", "expected name=value"},
		{"undeclared_var_flag", Inputs{Vars: []string{"tenant=t", "regoin=x"}}, "Value for undeclared variable", `Did you mean "region"?`},
		{"undeclared_var_file", Inputs{Vars: []string{"tenant=t"}, VarFiles: []string{writeFile(t, dir, "u.c4svars", "regio = \"x\"\n")}}, "Value for undeclared variable", `Did you mean "region"?`},
		{"var_file_syntax", Inputs{Vars: []string{"tenant=t"}, VarFiles: []string{writeFile(t, dir, "s.c4svars", "region = \n")}}, "Invalid expression", ""},
		{"var_file_missing", Inputs{Vars: []string{"tenant=t"}, VarFiles: []string{filepath.Join(dir, "nope.c4svars")}}, "Failed to read variables file", "nope.c4svars"},
		{"var_file_reference", Inputs{Vars: []string{"tenant=t"}, VarFiles: []string{writeFile(t, dir, "r.c4svars", "region = var.x\n")}}, "Variables not allowed", ""},
		{"wrong_type_flag", Inputs{Vars: []string{"tenant=t", "count_of=many"}}, "Invalid value for input variable", "not a valid number"},
		{"wrong_type_file", Inputs{Vars: []string{"tenant=t"}, VarFiles: []string{writeFile(t, dir, "w.c4svars", "count_of = [1]\n")}}, "Invalid value for input variable", "number required"},
		{"validation", Inputs{Vars: []string{"tenant=t", "region=apac"}}, "Invalid value for variable", "region must be emea or amer."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := load(t, src)
			_, diags := NewEvaluator(cfg, tc.in)
			found := false
			for _, d := range diags {
				if d.Summary == tc.summary && strings.Contains(d.Detail, tc.detail) {
					found = true
				}
			}
			got := strings.ReplaceAll(render(t, diags, cfg.Sources), dir, "DIR")
			if !found {
				t.Fatalf("want %q with %q, got:\n%s", tc.summary, tc.detail, got)
			}
			golden(t, "inputs/"+tc.name+".txt", got)
		})
	}
	orphans(t, "inputs", len(cases))
}

func TestUndeclaredEnvIgnored(t *testing.T) {
	cfg := load(t, `variable "a" { default = "x" }`)
	if _, diags := NewEvaluator(cfg, Inputs{Env: []string{"C4S_VAR_b=1", "C4S_VAR_=2", "C4S_VARa"}}); len(diags) > 0 {
		t.Fatal(diags)
	}
}

func TestValidationRangeIsCondition(t *testing.T) {
	cfg := load(t, `
variable "n" {
  type = number
  validation {
    condition     = var.n > 0
    error_message = "n must be positive, got ${var.n}."
  }
}`)
	_, diags := NewEvaluator(cfg, Inputs{Vars: []string{"n=-1"}})
	if len(diags) != 1 || diags[0].Subject == nil || diags[0].Subject.Start.Line != 5 || !strings.HasPrefix(diags[0].Detail, "n must be positive, got -1.") {
		t.Fatalf("got %v", diags)
	}
	if _, diags := NewEvaluator(cfg, Inputs{Vars: []string{"n=1"}}); len(diags) > 0 {
		t.Fatalf("valid value rejected: %v", diags)
	}
}

const evalSrc = `
variable "secret" {
  type      = string
  sensitive = true
}
variable "tenant" {
  type    = string
  default = "contoso"
}
variable "channel" {
  type    = string
  default = "web"
}
locals {
  app    = data.teams_app.copilot.id
  pinned = [{ id = local.app, order = 1 }]
  token  = upper(var.secret)
}
provider "teams" {
  tenant_id     = var.tenant
  client_secret = local.token
}
data "teams_app" "copilot" { display_name = "Copilot for Sales" }
resource "teams_meeting_policy" "global" {}
resource "teams_app_setup_policy" "sales" {
  identity    = "Sales-${teams_meeting_policy.global.identity}"
  pinned_apps = local.pinned
  channels    = [var.channel]
  secret      = local.token
}
output "app"    { value = data.teams_app.copilot.id }
output "token"  { value = "t-${var.secret}" }
output "tenant" {
  value     = var.tenant
  sensitive = true
}
output "plain"  { value = length(var.secret) > 0 }
`

func evaluator(t *testing.T, in Inputs) (*Config, *Evaluator) {
	t.Helper()
	cfg := load(t, evalSrc)
	ev, diags := NewEvaluator(cfg, in)
	if diags.HasErrors() {
		t.Fatal(render(t, diags, cfg.Sources))
	}
	return cfg, ev
}

func TestResourceConfig(t *testing.T) {
	cfg, ev := evaluator(t, Inputs{Vars: []string{"secret=s3cr3t"}})
	known := map[string]cty.Value{
		"data.teams_app.copilot": cty.ObjectVal(map[string]cty.Value{"display_name": cty.StringVal("Copilot for Sales"), "id": cty.StringVal("app-1")}),
		"teams_meeting_policy.global": cty.ObjectVal(map[string]cty.Value{
			"identity": cty.StringVal("Global"), "allow_transcription": cty.NullVal(cty.Bool), "description": cty.UnknownVal(cty.String)}),
	}
	r := cfg.Resources["teams_app_setup_policy.sales"]
	v, sens, diags := ev.ResourceConfig(r, known)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	want := cty.ObjectVal(map[string]cty.Value{
		"identity": cty.StringVal("Sales-Global"),
		"pinned_apps": cty.ListVal([]cty.Value{cty.ObjectVal(map[string]cty.Value{
			"id": cty.StringVal("app-1"), "order": cty.NumberIntVal(1)})}),
		"channels": cty.SetVal([]cty.Value{cty.StringVal("web")}),
		"secret":   cty.StringVal("S3CR3T"),
		"duration": cty.NullVal(cty.String),
	})
	if !v.RawEquals(want) {
		t.Errorf("got %#v\nwant %#v", v, want)
	}
	if !v.Type().Equals(r.Schema.ImpliedType()) {
		t.Errorf("type %#v is not the schema's", v.Type())
	}
	if !reflect.DeepEqual(sens, []string{"secret"}) {
		t.Errorf("sensitive = %v, want [secret]", sens)
	}

	// Defaults for absent attributes; absent optional attributes without a default are null.
	v, _, diags = ev.ResourceConfig(cfg.Resources["teams_meeting_policy.global"], nil)
	if diags.HasErrors() || !v.GetAttr("identity").RawEquals(cty.StringVal("Global")) || !v.GetAttr("allow_transcription").IsNull() {
		t.Errorf("got %#v %v", v, diags)
	}

	// Unknown or missing dependencies give unknown values, never errors.
	v, _, diags = ev.ResourceConfig(r, map[string]cty.Value{"data.teams_app.copilot": cty.DynamicVal})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if v.GetAttr("identity").IsKnown() || v.GetAttr("pinned_apps").IsWhollyKnown() || !v.GetAttr("channels").IsKnown() {
		t.Errorf("got %#v", v)
	}
	if !v.Type().Equals(r.Schema.ImpliedType()) {
		t.Errorf("type %#v is not the schema's", v.Type())
	}
}

func TestResourceConfigRuntimeChecks(t *testing.T) {
	cfg, ev := evaluator(t, Inputs{Vars: []string{"secret=x", "channel=fax"}})
	_, _, diags := ev.ResourceConfig(cfg.Resources["teams_app_setup_policy.sales"], nil)
	if len(diags) != 1 || diags[0].Summary != "Invalid value for channels" || !strings.Contains(diags[0].Detail, `"fax" is not an allowed value`) || diags[0].Subject.Start.Line != 28 {
		t.Fatalf("got %v", diags)
	}
}

func TestProviderConfig(t *testing.T) {
	cfg, ev := evaluator(t, Inputs{Vars: []string{"secret=pw"}})
	s := testSchemas()
	v, diags := ev.ProviderConfig("teams", s.providers["teams"])
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	want := cty.ObjectVal(map[string]cty.Value{"tenant_id": cty.StringVal("contoso"), "client_secret": cty.StringVal("PW"), "cloud": cty.StringVal("public")})
	if !v.RawEquals(want) {
		t.Errorf("got %#v", v)
	}
	// No block: nulls (and defaults).
	v, diags = ev.ProviderConfig("salesforce", s.providers["salesforce"])
	if diags.HasErrors() || !v.RawEquals(cty.ObjectVal(map[string]cty.Value{"instance_url": cty.NullVal(cty.String)})) {
		t.Errorf("got %#v %v", v, diags)
	}
	// No block but a required attribute: no error (the engine may supply it), defaults kept.
	delete(cfg.Providers, "teams")
	v, diags = ev.ProviderConfig("teams", s.providers["teams"])
	if len(diags) > 0 || !v.GetAttr("cloud").RawEquals(cty.StringVal("public")) || !v.GetAttr("client_secret").IsNull() || !v.GetAttr("tenant_id").IsNull() {
		t.Errorf("got %#v %v", v, diags)
	}
}

func TestOutputs(t *testing.T) {
	_, ev := evaluator(t, Inputs{Vars: []string{"secret=pw"}})
	out, diags := ev.Outputs(map[string]cty.Value{
		"data.teams_app.copilot": cty.ObjectVal(map[string]cty.Value{"display_name": cty.StringVal("x"), "id": cty.StringVal("app-1")}),
	})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	want := map[string]OutputValue{
		"app":    {Value: cty.StringVal("app-1")},
		"token":  {Value: cty.StringVal("t-pw"), Sensitive: true},
		"tenant": {Value: cty.StringVal("contoso"), Sensitive: true},
		"plain":  {Value: cty.True, Sensitive: true},
	}
	for name, w := range want {
		got, ok := out[name]
		if !ok || !got.Value.RawEquals(w.Value) || got.Sensitive != w.Sensitive {
			t.Errorf("output %s = %#v, want %#v", name, got, w)
		}
	}
	if len(out) != len(want) {
		t.Errorf("got %d outputs", len(out))
	}
}

func TestDependencies(t *testing.T) {
	cfg := load(t, evalSrc+`
resource "teams_meeting_policy" "other" {
  depends_on = [teams_app_setup_policy.sales, teams_app_setup_policy.sales]
}`)
	cases := map[string][]string{
		"teams_app_setup_policy.sales": {"data.teams_app.copilot", "teams_meeting_policy.global"},
		"teams_meeting_policy.other":   {"teams_app_setup_policy.sales"},
		"teams_meeting_policy.global":  {},
		"data.teams_app.copilot":       {},
		"nope.nope":                    {},
	}
	for addr, want := range cases {
		if got := cfg.Dependencies(addr); len(got)+len(want) > 0 && !reflect.DeepEqual(got, want) {
			t.Errorf("Dependencies(%s) = %v, want %v", addr, got, want)
		}
	}
	order, diags := cfg.Order()
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	wantOrder := []string{"data.teams_app.copilot", "teams_meeting_policy.global", "teams_app_setup_policy.sales", "teams_meeting_policy.other"}
	if !reflect.DeepEqual(order, wantOrder) {
		t.Errorf("Order = %v, want %v", order, wantOrder)
	}
}

func TestOrderTiesByAddress(t *testing.T) {
	cfg := load(t, `
resource "teams_meeting_policy" "c" {}
resource "teams_meeting_policy" "a" { depends_on = [teams_meeting_policy.d] }
resource "teams_meeting_policy" "d" {}
resource "teams_meeting_policy" "b" {}
`)
	order, _ := cfg.Order()
	want := []string{"teams_meeting_policy.b", "teams_meeting_policy.c", "teams_meeting_policy.d", "teams_meeting_policy.a"}
	if !reflect.DeepEqual(order, want) {
		t.Errorf("Order = %v, want %v", order, want)
	}
}

func TestOrderCycleNamesAddresses(t *testing.T) {
	// Load reports the cycle too; Order is what the engine calls.
	cfg, _ := LoadFiles("cfg", map[string][]byte{"main.c4s.hcl": []byte(`
resource "teams_meeting_policy" "z" {}
resource "teams_meeting_policy" "c" { depends_on = [teams_meeting_policy.b, teams_meeting_policy.z] }
resource "teams_meeting_policy" "b" { depends_on = [teams_meeting_policy.a] }
resource "teams_meeting_policy" "a" { depends_on = [teams_meeting_policy.c] }
`)}, testSchemas())
	order, diags := cfg.Order()
	if order != nil || len(diags) != 1 {
		t.Fatalf("order %v, diags %v", order, diags)
	}
	d := diags[0]
	if !strings.Contains(d.Detail, "teams_meeting_policy.a -> teams_meeting_policy.c -> teams_meeting_policy.b -> teams_meeting_policy.a") ||
		d.Subject == nil || d.Subject.Start.Line != 5 {
		t.Errorf("got %s at %v", d.Detail, d.Subject)
	}
}

func TestLoadDir(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "b.c4s.hcl", `resource "teams_meeting_policy" "b" {}`)
	writeFile(t, dir, "a.c4s.hcl", `resource "teams_meeting_policy" "b" {}`)
	writeFile(t, dir, "ignored.hcl", `this is not parsed`)
	cfg, diags := Load(dir, testSchemas())
	if len(diags) != 1 || diags[0].Summary != "Duplicate resource" || diags[0].Subject.Filename != filepath.Join(dir, "b.c4s.hcl") {
		t.Fatalf("files not read in name order: %v", diags)
	}
	if len(cfg.Sources) != 2 {
		t.Errorf("sources %v", cfg.Sources)
	}
	_, diags = Load(t.TempDir(), testSchemas())
	if !diags.HasErrors() || diags[0].Summary != "No configuration files" {
		t.Errorf("empty dir: %v", diags)
	}
	_, diags = Load(filepath.Join(dir, "missing"), testSchemas())
	if !diags.HasErrors() {
		t.Error("missing dir accepted")
	}
}

func TestDecode(t *testing.T) {
	cfg := load(t, `
variable "n" {
  type        = number
  default     = 2
  description = "how many"
  sensitive   = true
  validation {
    condition     = var.n > 0
    error_message = "positive"
  }
}
resource "teams_meeting_policy" "global" {
  allow_transcription = true
  depends_on          = [data.teams_app.a]
  lifecycle {
    prevent_destroy = true
    ignore_changes  = [allow_transcription, "identity"]
  }
}
resource "teams_meeting_policy" "all" {
  lifecycle { ignore_changes = all }
}
data "teams_app" "a" {}
output "o" {
  value       = var.n
  description = "n"
  sensitive   = true
}
`)
	v := cfg.Variables["n"]
	if v.Type != cty.Number || !v.Default.RawEquals(cty.NumberIntVal(2)) || v.Description != "how many" || !v.Sensitive || len(v.Validations) != 1 {
		t.Errorf("variable %#v", v)
	}
	r := cfg.Resources["teams_meeting_policy.global"]
	if r.Mode != ManagedResource || r.Name != "global" || !r.PreventDestroy ||
		!reflect.DeepEqual(r.IgnoreChanges, []string{"allow_transcription", "identity"}) ||
		!reflect.DeepEqual(r.DependsOn, []string{"data.teams_app.a"}) {
		t.Errorf("resource %#v", r)
	}
	// Config must not expose the meta-arguments.
	attrs, diags := r.Config.JustAttributes()
	if diags.HasErrors() || len(attrs) != 1 || attrs["allow_transcription"] == nil {
		t.Errorf("Config attributes %v %v", attrs, diags)
	}
	if got := cfg.Resources["teams_meeting_policy.all"].IgnoreChanges; len(got) != 3 {
		t.Errorf("ignore_changes = all gave %v", got)
	}
	if d := cfg.Resources["data.teams_app.a"]; d == nil || d.Mode != DataResource || d.Addr() != "data.teams_app.a" {
		t.Errorf("data %#v", d)
	}
	if o := cfg.Outputs["o"]; o.Description != "n" || !o.Sensitive {
		t.Errorf("output %#v", o)
	}
	if v.DeclRange.Start.Line != 2 || v.DeclRange.Filename != "main.c4s.hcl" {
		t.Errorf("range %v", v.DeclRange)
	}
}

func TestParseAddr(t *testing.T) {
	cases := []struct {
		in         string
		mode       Mode
		typ, name  string
		shouldFail bool
	}{
		{"teams_app.x", ManagedResource, "teams_app", "x", false},
		{"data.teams_app.x", DataResource, "teams_app", "x", false},
		{"teams_app", 0, "", "", true},
		{"data.teams_app", 0, "", "", true},
		{"a.b.c", 0, "", "", true},
		{"a.1b", 0, "", "", true},
		{"", 0, "", "", true},
	}
	for _, c := range cases {
		m, typ, name, err := ParseAddr(c.in)
		if (err != nil) != c.shouldFail || m != c.mode || typ != c.typ || name != c.name {
			t.Errorf("ParseAddr(%q) = %v %q %q %v", c.in, m, typ, name, err)
		}
	}
}

func TestFormat(t *testing.T) {
	out, diags := Format("x.c4s.hcl", []byte("resource \"a\" \"b\" {\nx=1\n  long_name = 2\n}\n"))
	if diags.HasErrors() || string(out) != "resource \"a\" \"b\" {\n  x         = 1\n  long_name = 2\n}\n" {
		t.Errorf("got %q %v", out, diags)
	}
	if _, diags := Format("x.c4s.hcl", []byte("resource {")); !diags.HasErrors() || diags[0].Subject.Filename != "x.c4s.hcl" {
		t.Errorf("syntax error not reported: %v", diags)
	}
}

func TestWriteDiagnosticsColor(t *testing.T) {
	d := hcl.Diagnostics{errorf(&hcl.Range{Filename: "gone.c4s.hcl", Start: hcl.Pos{Line: 1, Column: 1}, End: hcl.Pos{Line: 1, Column: 2, Byte: 1}}, "Boom", "detail")}
	var b strings.Builder
	if err := WriteDiagnostics(&b, d, nil, 80, true); err != nil || !strings.Contains(b.String(), "\x1b[") || !strings.Contains(b.String(), "source code not available") {
		t.Errorf("got %q %v", b.String(), err)
	}
}

func TestSensitiveResourceAttributeFlagsOutput(t *testing.T) {
	cfg := load(t, `
resource "teams_app_setup_policy" "x" { identity = "x" }
resource "teams_meeting_policy" "y" { identity = teams_app_setup_policy.x.secret }
output "secret" { value = teams_app_setup_policy.x.secret }
output "identity" { value = teams_app_setup_policy.x.identity }
`)
	ev, diags := NewEvaluator(cfg, Inputs{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	x := cty.ObjectVal(map[string]cty.Value{
		"identity": cty.StringVal("x"), "pinned_apps": cty.NullVal(cty.List(cty.Object(map[string]cty.Type{"id": cty.String, "order": cty.Number}))),
		"channels": cty.NullVal(cty.Set(cty.String)), "secret": cty.StringVal("pw"), "duration": cty.NullVal(cty.String),
	})
	known := map[string]cty.Value{"teams_app_setup_policy.x": x}
	out, diags := ev.Outputs(known)
	if diags.HasErrors() || !out["secret"].Sensitive || out["identity"].Sensitive || !out["secret"].Value.RawEquals(cty.StringVal("pw")) {
		t.Errorf("got %#v %v", out, diags)
	}
	_, sens, diags := ev.ResourceConfig(cfg.Resources["teams_meeting_policy.y"], known)
	if diags.HasErrors() || !reflect.DeepEqual(sens, []string{"identity"}) {
		t.Errorf("sensitive %v %v", sens, diags)
	}
}

func TestSensitiveValidationMessageHidden(t *testing.T) {
	cfg := load(t, `
variable "pw" {
  sensitive = true
  validation {
    condition     = length(var.pw) > 8
    error_message = "too short: ${var.pw}"
  }
}`)
	_, diags := NewEvaluator(cfg, Inputs{Vars: []string{"pw=hunter2"}})
	if len(diags) != 1 || strings.Contains(diags[0].Detail, "hunter2") || !strings.Contains(diags[0].Detail, "not shown") {
		t.Errorf("got %v", diags)
	}
}

func TestSensitiveValuesNotInDiagnostics(t *testing.T) {
	cfg := load(t, `
variable "chan" {
  type      = string
  sensitive = true
}
variable "n" {
  type      = number
  sensitive = true
}
resource "teams_app_setup_policy" "x" {
  identity = "x"
  channels = [var.chan]
  duration = var.chan
}`)
	ev, diags := NewEvaluator(cfg, Inputs{Vars: []string{"chan=topsecret", "n=hunter2"}})
	_, _, d := ev.ResourceConfig(cfg.Resources["teams_app_setup_policy.x"], nil)
	diags = append(diags, d...)
	out := render(t, diags, cfg.Sources)
	if len(diags) != 3 || strings.Contains(out, "topsecret") || strings.Contains(out, "hunter2") {
		t.Errorf("got %d diagnostics:\n%s", len(diags), out)
	}
}

// A var file with a mistake next to a sensitive variable's line: the diagnostic names file:line
// but shows no snippet of that file, so the secret is not printed.
func TestVarFileSettingASensitiveVariableIsNotShown(t *testing.T) {
	cfg := load(t, `
variable "client_secret" {
  type      = string
  sensitive = true
}
variable "n" {
  type = number
}`)
	dir := t.TempDir()
	for _, body := range []string{
		"client_secret = \"CANARY-varfile-1\"\nn = \"not a number\"\n",
		"client_secret = \"CANARY-varfile-1\n",                      // unterminated: a syntax error on the secret's line
		"{\"n\": \"x\", \"client_secret\": \"CANARY-varfile-1\" \n", // JSON-ish, broken
	} {
		path := writeFile(t, dir, "secrets.c4svars", body)
		_, diags := NewEvaluator(cfg, Inputs{VarFiles: []string{path}})
		if !diags.HasErrors() {
			t.Fatalf("%q: no error", body)
		}
		out := render(t, diags, cfg.Sources)
		if strings.Contains(out, "CANARY-varfile") || !strings.Contains(out, "secrets.c4svars") {
			t.Errorf("%q: the secret is shown or the file is not named:\n%s", body, out)
		}
		delete(cfg.Sources, path)
	}
}

// tonumber and tobool quote the string they cannot convert; with a sensitive argument they must not.
func TestConversionFunctionsHideSensitiveArguments(t *testing.T) {
	cfg := load(t, `
variable "pin" {
  type      = string
  sensitive = true
}
resource "teams_app_setup_policy" "x" {
  identity = "x"
  duration = tostring(tonumber(var.pin) + 1)
}
resource "teams_app_setup_policy" "y" {
  identity = "y"
  duration = tobool(var.pin) ? "a" : "b"
}
resource "teams_app_setup_policy" "z" {
  identity = "z"
  duration = jsondecode(var.pin)
}`)
	ev, diags := NewEvaluator(cfg, Inputs{Vars: []string{"pin=CANARY-pin-77"}})
	for _, addr := range []string{"teams_app_setup_policy.x", "teams_app_setup_policy.y", "teams_app_setup_policy.z"} {
		_, _, d := ev.ResourceConfig(cfg.Resources[addr], nil)
		diags = append(diags, d...)
	}
	out := render(t, diags, cfg.Sources)
	// jsondecode's own error names the first character it could not read ('C').
	if len(diags) < 3 || strings.Contains(out, "CANARY-pin") || strings.Contains(out, "'C'") || !strings.Contains(out, "sensitive") {
		t.Errorf("got %d diagnostics:\n%s", len(diags), out)
	}
	// Not sensitive: the message still helps.
	cfg = load(t, `
variable "pin" { type = string }
resource "teams_app_setup_policy" "x" {
  identity = "x"
  duration = tostring(tonumber(var.pin) + 1)
}`)
	ev, _ = NewEvaluator(cfg, Inputs{Vars: []string{"pin=abc"}})
	_, _, d := ev.ResourceConfig(cfg.Resources["teams_app_setup_policy.x"], nil)
	if out := render(t, d, cfg.Sources); !strings.Contains(out, `"abc"`) {
		t.Errorf("a plain value's conversion error lost its text:\n%s", out)
	}
}
