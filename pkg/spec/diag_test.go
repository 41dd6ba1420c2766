package spec

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// render is what the CLI prints for diags, without color.
func render(t *testing.T, diags hcl.Diagnostics, sources map[string][]byte) string {
	t.Helper()
	var b bytes.Buffer
	if err := WriteDiagnostics(&b, diags, sources, 100, false); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// golden compares got with testdata/NAME, or rewrites it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./pkg/spec -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("diagnostics differ from %s (-update to accept):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

const okBase = `
variable "tenant" { type = string }
provider "teams" { tenant_id = var.tenant }
data "teams_app" "copilot" { display_name = "Copilot" }
resource "teams_meeting_policy" "global" { allow_transcription = true }
`

// TestLoadDiagnostics checks each kind of static mistake: the summary it must produce (so a
// wrong kind of diagnostic fails even under -update) and the full rendering (golden).
func TestLoadDiagnostics(t *testing.T) {
	cases := []struct {
		name    string
		src     string
		summary string
		detail  string // substring of some diagnostic's detail
	}{
		{"unknown_block", `resourc "teams_meeting_policy" "x" {}`, "Unsupported block type", `Did you mean "resource"?`},
		{"top_level_attribute", `name = "x"`, "Unsupported argument", ""},
		{"unknown_attribute", `resource "teams_meeting_policy" "x" { allow_transcripton = true }`, "Unsupported argument", `Did you mean "allow_transcription"?`},
		{"unknown_resource_type", `resource "teams_meeting_polcy" "x" {}`, "Unknown resource type", `Did you mean "teams_meeting_policy"?`},
		{"unknown_data_source", `data "teams_ap" "x" {}`, "Unknown data source", `Did you mean "teams_app"?`},
		{"unknown_provider", `provider "team" { tenant_id = "t" }`, "Unknown provider", `Did you mean "teams"?`},
		{"wrong_type", `resource "teams_meeting_policy" "x" { allow_transcription = "maybe" }`, "Incorrect attribute value type", "a bool is required"},
		{"wrong_type_nested", `resource "teams_app_setup_policy" "x" {
  identity    = "Sales"
  pinned_apps = [{ id = "a", order = "first" }]
}`, "Incorrect attribute value type", "[0].order"},
		{"enum", `resource "teams_app_setup_policy" "x" {
  identity = "Sales"
  channels = ["web", "tablet"]
}`, "Invalid value for channels", `"tablet" is not an allowed value for channels; allowed values are "web", "desktop" and "mobile"`},
		{"provider_enum", `provider "teams" {
  tenant_id = "t"
  cloud     = "china"
}`, "Invalid value for cloud", `allowed values are "public" and "gcc"`},
		{"validate_func", `resource "teams_app_setup_policy" "x" {
  identity = "Sales"
  duration = "30"
}`, "Invalid value for duration", "number of days"},
		{"missing_required", `resource "teams_app_setup_policy" "x" {
  channels = ["web"]
}`, "Missing required argument", `"identity" is required by teams_app_setup_policy`},
		{"missing_required_provider", `provider "teams" {}`, "Missing required argument", `"tenant_id"`},
		{"computed_set", `resource "teams_meeting_policy" "x" { description = "d" }`, "Read-only attribute", "computed by the provider"},
		{"duplicate_resource", `resource "teams_meeting_policy" "x" {}
resource "teams_meeting_policy" "x" {}`, "Duplicate resource", "already declared at main.c4s.hcl:1"},
		{"duplicate_variable", `variable "a" {}
variable "a" {}`, "Duplicate variable", "already declared"},
		{"duplicate_provider", `provider "salesforce" {}
provider "salesforce" {}`, "Duplicate provider configuration", "already configured"},
		{"duplicate_output", `output "a" { value = 1 }
output "a" { value = 2 }`, "Duplicate output", "already declared"},
		{"duplicate_local", `locals { a = 1 }
locals { a = 2 }`, "Duplicate local value", "already defined"},
		{"undeclared_var", `variable "tenant_id" { type = string }
provider "teams" { tenant_id = var.tenantid }`, "Reference to undeclared input variable", `Did you mean "tenant_id"?`},
		{"undeclared_local", `locals { app_id = "x" }
output "o" { value = local.appid }`, "Reference to undeclared local value", `Did you mean "app_id"?`},
		{"undeclared_resource", `resource "teams_meeting_policy" "global" {}
output "o" { value = teams_meeting_policy.globl.identity }`, "Reference to undeclared resource", `Did you mean "teams_meeting_policy.global"?`},
		{"undeclared_data", `data "teams_app" "copilot" {}
output "o" { value = data.teams_app.copilt.id }`, "Reference to undeclared resource", `Did you mean "data.teams_app.copilot"?`},
		{"unknown_reference_attribute", `data "teams_app" "copilot" {}
output "o" { value = data.teams_app.copilot.display_nam }`, "Unsupported attribute", `teams_app has no attribute named "display_nam". Did you mean "display_name"?`},
		{"nested_reference_attribute", `resource "teams_app_setup_policy" "x" { identity = "a" }
output "o" { value = teams_app_setup_policy.x.pinned_apps[0].ordr }`, "Unsupported attribute", `no attribute named "ordr"; its attributes are id, order. Did you mean "order"?`},
		{"nested_reference_index", `resource "teams_app_setup_policy" "x" { identity = "a" }
output "o" { value = teams_app_setup_policy.x.identity[0] }`, "Invalid index", ""},
		{"bare_word", `resource "teams_app_setup_policy" "x" { identity = Sales }`, "Invalid reference", "strings must be quoted"},
		{"unsupported_root", `output "o" { value = count.index }`, "Invalid reference", `"count" references are not supported`},
		{"bad_depends_on", `resource "teams_meeting_policy" "x" { depends_on = ["teams_meeting_policy.y"] }`, "Invalid depends_on reference", "resource addresses"},
		{"depends_on_attribute", `data "teams_app" "a" {}
resource "teams_meeting_policy" "x" { depends_on = [data.teams_app.a.id] }`, "Invalid depends_on reference", "without attributes"},
		{"depends_on_undeclared", `resource "teams_meeting_policy" "x" { depends_on = [data.teams_app.a] }`, "Reference to undeclared resource", "depends_on names data.teams_app.a"},
		{"ignore_changes_unknown", `resource "teams_meeting_policy" "x" {
  lifecycle { ignore_changes = [allow_transcriptions] }
}`, "Unsupported attribute", `Did you mean "allow_transcription"?`},
		{"lifecycle_in_data", `data "teams_app" "a" {
  lifecycle { prevent_destroy = true }
}`, "Unsupported block type", ""},
		{"prevent_destroy_type", `resource "teams_meeting_policy" "x" {
  lifecycle { prevent_destroy = "yes please" }
}`, "Invalid prevent_destroy", "true or false"},
		{"resource_cycle", `resource "teams_meeting_policy" "a" { identity = teams_meeting_policy.b.identity }
resource "teams_meeting_policy" "b" { depends_on = [teams_meeting_policy.a] }`, "Dependency cycle", "teams_meeting_policy.a -> teams_meeting_policy.b -> teams_meeting_policy.a"},
		{"cycle_through_local", `locals { id = teams_meeting_policy.a.identity }
resource "teams_meeting_policy" "a" { identity = local.id }`, "Dependency cycle", "teams_meeting_policy.a -> teams_meeting_policy.a"},
		{"local_cycle", `locals {
  a = local.b
  b = local.a
}`, "Dependency cycle", "local.a -> local.b -> local.a"},
		{"provider_references_resource", `resource "teams_meeting_policy" "a" {}
provider "teams" { tenant_id = teams_meeting_policy.a.identity }`, "Invalid provider configuration reference", "not to resources"},
		{"provider_local_resource", `resource "teams_meeting_policy" "a" {}
locals { t = teams_meeting_policy.a.identity }
provider "teams" { tenant_id = local.t }`, "Invalid provider configuration reference", "local.t depends on teams_meeting_policy.a"},
		{"variable_bad_type", `variable "a" { type = strin }`, "Invalid type specification", ""},
		{"variable_bad_default", `variable "a" {
  type    = number
  default = "many"
}`, "Invalid default value for variable", "a number is required"},
		{"variable_default_reference", `variable "a" { default = var.b }`, "Variables not allowed", ""},
		{"validation_other_var", `variable "a" {
  validation {
    condition     = var.b != ""
    error_message = "no"
  }
}`, "Invalid reference in variable validation", "only to the variable itself"},
		{"invalid_name", `resource "teams_meeting_policy" "my policy" {}`, "Invalid name", "not a valid name"},
		{"syntax_error", `resource "teams_meeting_policy" "x" {`, "Unclosed configuration block", ""},
		{"enum_through_local", `locals { chans = ["web", "fax"] }
resource "teams_app_setup_policy" "x" {
  identity = "x"
  channels = local.chans
}`, "Invalid value for channels", `"fax" is not an allowed value`},
		{"unknown_function_in_local", `locals { a = lowercase("X") }`, "Call to unknown function", ""},
		{"unknown_function_in_output", `output "a" { value = jsonencod({}) }`, "Call to unknown function", `Did you mean "jsonencode"?`},
		{"function_error", `resource "teams_app_setup_policy" "x" { identity = upper(1, 2) }`, "Too many function arguments", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string][]byte{"main.c4s.hcl": []byte(tc.src + "\n")}
			cfg, diags := LoadFiles("cfg", files, testSchemas())
			if !diags.HasErrors() {
				t.Fatalf("no error diagnostics")
			}
			found := false
			for _, d := range diags {
				if d.Summary == tc.summary && strings.Contains(d.Detail, tc.detail) {
					found = true
				}
				if d.Subject == nil {
					t.Errorf("diagnostic %q has no range", d.Summary)
				}
			}
			got := render(t, diags, cfg.Sources)
			if !found {
				t.Errorf("want a diagnostic %q with detail containing %q, got:\n%s", tc.summary, tc.detail, got)
			}
			golden(t, "diags/"+tc.name+".txt", got)
		})
	}
	orphans(t, "diags", len(cases))
}

// orphans fails when dir holds golden files no case writes (a renamed or removed case).
func orphans(t *testing.T, dir string, n int) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join("testdata", dir))
	if err == nil && len(entries) != n {
		t.Errorf("testdata/%s has %d files for %d cases: remove the stale ones", dir, len(entries), n)
	}
}

func TestLoadDiagnosticsSorted(t *testing.T) {
	src := `resource "teams_app_setup_policy" "x" {
  b1 = 1
  b2 = 2
  b3 = 3
  b4 = 4
  identity = 1
}
resource "teams_meeting_policy" "y" { c = 1 }
`
	for i := 0; i < 20; i++ {
		_, diags := LoadFiles("cfg", map[string][]byte{"b.c4s.hcl": []byte(src), "a.c4s.hcl": []byte(src)}, testSchemas())
		var got []string
		for _, d := range diags {
			got = append(got, d.Subject.String())
		}
		for j := 1; j < len(got); j++ {
			if diags[j-1].Subject.Filename == diags[j].Subject.Filename && diags[j-1].Subject.Start.Byte > diags[j].Subject.Start.Byte ||
				diags[j-1].Subject.Filename > diags[j].Subject.Filename {
				t.Fatalf("not in position order: %v", got)
			}
		}
	}
}

// TestValidConfigHasNoDiagnostics guards against false positives on a typical configuration.
func TestValidConfigHasNoDiagnostics(t *testing.T) {
	src := okBase + `
variable "channels" {
  type    = set(string)
  default = ["web"]
}
locals {
  pinned = [{ id = data.teams_app.copilot.id, order = 1 }]
}
resource "teams_app_setup_policy" "sales" {
  identity    = upper("sales")
  pinned_apps = local.pinned
  channels    = var.channels
  depends_on  = [teams_meeting_policy.global]
  lifecycle {
    prevent_destroy = true
    ignore_changes  = [channels, "duration"]
  }
}
output "app" { value = data.teams_app.copilot.id }
`
	cfg, diags := LoadFiles("cfg", map[string][]byte{"main.c4s.hcl": []byte(src)}, testSchemas())
	if len(diags) > 0 {
		t.Fatal(render(t, diags, cfg.Sources))
	}
}
