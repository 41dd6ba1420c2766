package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

const validateNoValues = `
variable "secret" {
  type      = string
  sensitive = true
}
variable "tenant" { type = string }
variable "transcription" { type = %s }
provider "teams" {
  tenant_id     = var.tenant
  client_secret = var.secret
}
resource "teams_meeting_policy" "global" {
  identity            = "Global"
  allow_transcription = var.transcription
}
`

// validate needs neither variable values nor credentials: a variable without default or value
// is an unknown value of its declared type, so a CI step validates without secrets, and a type
// error is still caught. plan still asks for the values.
func TestValidateWithoutVariableValues(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": strings.Replace(validateNoValues, "%s", "bool", 1)})
	stdout, stderr, code := runCLI(t, "--dir", dir, "--no-color", "validate")
	if code != 0 || !strings.Contains(stdout, "Success!") {
		t.Fatalf("validate without values: exit %d\n%s\n%s", code, stdout, stderr)
	}
	_, stderr, code = runCLI(t, "--dir", dir, "--no-color", "plan")
	if code == 0 || !strings.Contains(stderr, "No value for required variable") {
		t.Errorf("plan without values: exit %d, want the missing variables named\n%s", code, stderr)
	}

	dir = writeConfig(t, map[string]string{"main.c4s.hcl": strings.Replace(validateNoValues, "%s", "number", 1)})
	_, stderr, code = runCLI(t, "--dir", dir, "--no-color", "validate")
	if code != 1 || !strings.Contains(stderr, "bool required, but have number") || !strings.Contains(stderr, "main.c4s.hcl line") {
		t.Errorf("validate of a number variable in a bool attribute: exit %d\n%s", code, stderr)
	}
}

// validate --json prints Terraform's validate -json document: valid, counts, and each
// diagnostic with its range (file, 1-based line and column, byte offset); exit 1 on errors.
func TestValidateJSON(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": strings.Replace(validateNoValues, "%s", "number", 1)})
	stdout, stderr, code := runCLI(t, "--dir", dir, "validate", "--json")
	var doc jsonDiagnostics
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatalf("validate --json: %v\n%s\n%s", err, stdout, stderr)
	}
	if code != 1 || doc.Valid || doc.ErrorCount != 1 || len(doc.Diagnostics) != 1 || stderr != "" {
		t.Fatalf("validate --json of an invalid configuration: exit %d, %+v, stderr %q", code, doc, stderr)
	}
	d := doc.Diagnostics[0]
	src := strings.Replace(validateNoValues, "%s", "number", 1)
	line := 1 + strings.Count(src[:strings.Index(src, "var.transcription")], "\n")
	if d.Severity != "error" || !strings.Contains(d.Detail, "bool required") || d.Range == nil ||
		!strings.HasSuffix(d.Range.Filename, "main.c4s.hcl") || d.Range.Start.Line != line ||
		src[d.Range.Start.Byte:d.Range.End.Byte] != "var.transcription" {
		t.Errorf("diagnostic %+v (range %+v), want the error at line %d on var.transcription", d, d.Range, line)
	}

	dir = writeConfig(t, map[string]string{"main.c4s.hcl": strings.Replace(validateNoValues, "%s", "bool", 1)})
	stdout, _, code = runCLI(t, "--dir", dir, "validate", "--json")
	doc = jsonDiagnostics{}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil || code != 0 || !doc.Valid || doc.ErrorCount != 0 || doc.Diagnostics == nil || doc.FormatVersion != "1.0" {
		t.Errorf("validate --json of a valid configuration: exit %d, %v, %s", code, err, stdout)
	}
}

// plan --json that fails before a plan exists prints the diagnostics as JSON on stdout
// (configuration errors with their range, other errors as a diagnostic without range).
func TestPlanJSONDiagnosticsOnFailure(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": strings.Replace(validateNoValues, "%s", "bool", 1)})
	stdout, stderr, code := runCLI(t, "--dir", dir, "plan", "--json")
	var doc jsonDiagnostics
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatalf("plan --json: %v\n%s\n%s", err, stdout, stderr)
	}
	if code != 1 || doc.Valid || doc.ErrorCount != 3 {
		t.Fatalf("plan --json without variable values: exit %d, %+v", code, doc)
	}
	for _, d := range doc.Diagnostics {
		if d.Summary != "No value for required variable" || d.Range == nil || d.Range.Start.Line == 0 {
			t.Errorf("diagnostic %+v", d)
		}
	}
	dir = writeConfig(t, map[string]string{"main.c4s.hcl": "provider \"teams\" {}\n"})
	stdout, _, code = runCLI(t, "--dir", dir, "plan", "--json", "--target", "nosuch.thing")
	doc = jsonDiagnostics{}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil || code != 1 || doc.ErrorCount != 1 || doc.Diagnostics[0].Range != nil || doc.Diagnostics[0].Summary == "" {
		t.Errorf("plan --json with a bad --target: exit %d, %v, %s", code, err, stdout)
	}
}
