package spec

import (
	"testing"

	"github.com/zclconf/go-cty/cty"
)

// TestOddInputs runs odd but plausible configurations through the whole API, even after
// errors, as the CLI might; each must give an error (or none) without panicking.
func TestOddInputs(t *testing.T) {
	cases := []struct {
		src     string
		wantErr bool
	}{
		{`output "x" { value = teams_meeting_policy }`, true},
		{`output "x" { value = data }`, true},
		{`output "x" { value = var }`, true},
		{`output "x" { value = local }`, true},
		{`output "x" { value = data.teams_app }`, true},
		{`output "x" { value = data.teams_app.a["id"] }
data "teams_app" "a" {}`, false},
		{`output "x" { value = data.teams_app.a[0] }
data "teams_app" "a" {}`, true},
		{`resource "teams_meeting_policy" "x" { depends_on = data.teams_app.a }`, true},
		{`resource "teams_meeting_policy" "x" {
  lifecycle { ignore_changes = "identity" }
}`, true},
		{`resource "teams_meeting_policy" "x" {
  lifecycle {}
  lifecycle {}
}`, true},
		{`resource "teams_app_setup_policy" "x" {
  identity = "x"
  channels = null
}`, false},
		{`resource "teams_app_setup_policy" "x" { identity = null }`, true},
		{`variable "x" {
  type    = list(any)
  default = [1, "a"]
}`, false},
		{`variable "x" {
  type = object({ a = optional(string, "d") })
  validation {
    condition     = var.x.a != "" ? true : null
    error_message = 1
  }
}`, false},
		{`locals { a = local.a }
resource "teams_meeting_policy" "x" { identity = local.a }
provider "teams" { tenant_id = local.a }`, true},
		{`resource "teams_meeting_policy" "x" { identity = teams_meeting_policy.x.identity }`, true},
		{`resource "teams_meeting_policy" "x" { identity = [for p in teams_app_setup_policy.y.pinned_apps : p.id][0] }
resource "teams_app_setup_policy" "y" { identity = "y" }`, false},
		{`output "x" { value = { for k, v in var.m : k => upper(v) } }
variable "m" {
  type    = map(string)
  default = { a = "b" }
}`, false},
		{"\xff\xfe", true},
		{`resource "teams_meeting_policy" "x" { identity = "${"` + "\n", true},
	}
	for i, tc := range cases {
		cfg, diags := LoadFiles("cfg", map[string][]byte{"main.c4s.hcl": []byte(tc.src)}, testSchemas())
		if diags.HasErrors() != tc.wantErr {
			t.Errorf("case %d: errors = %v, want %v:\n%s", i, diags.HasErrors(), tc.wantErr, render(t, diags, cfg.Sources))
		}
		cfg.Order()
		ev, _ := NewEvaluator(cfg, Inputs{Vars: []string{"x=[1]"}})
		known := map[string]cty.Value{}
		for addr, r := range cfg.Resources {
			v, _, _ := ev.ResourceConfig(r, known)
			known[addr] = v
		}
		// Values of the wrong shape from a confused caller.
		known["data.teams_app.a"] = cty.StringVal("oops")
		known["teams_app_setup_policy.y"] = cty.NullVal(cty.DynamicPseudoType)
		for _, r := range cfg.Resources {
			ev.ResourceConfig(r, known)
		}
		for name, p := range testSchemas().providers {
			ev.ProviderConfig(name, p)
		}
		ev.Outputs(known)
	}
}
