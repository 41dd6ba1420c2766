package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/c4sctl/c4sctl/pkg/state"
)

const outputsConfig = transcription + `
variable "api_key" {
  type      = string
  sensitive = true
  default   = "s3cr3t-value-never-printed"
}

output "policy" { value = teams_meeting_policy.global.identity }
output "transcription" { value = teams_meeting_policy.global.allow_transcription }
output "both" { value = [teams_meeting_policy.global.identity, "x"] }
output "declared_secret" {
  value     = "plain"
  sensitive = true
}
output "derived" { value = "key:${var.api_key}" }
`

// apply then output: the values as applied are kept in state, printed as Terraform's `output`
// prints them, and neither sensitive output's value is printed or stored.
func TestOutputAfterApply(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": outputsConfig})
	if stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--no-color", "apply", "--auto-approve"); code != 0 {
		t.Fatalf("apply exit %d\n%s\n%s", code, stdout, stderr)
	}
	raw, err := os.ReadFile(filepath.Join(dir, ".c4sctl", "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "s3cr3t") || strings.Contains(string(raw), `"plain"`) {
		t.Fatalf("state holds a sensitive output's value:\n%s", raw)
	}

	stdout, stderr, code := runCLI(t, "--dir", dir, "output")
	want := "both = [\"Global\", \"x\"]\ndeclared_secret = <sensitive>\nderived = <sensitive>\npolicy = \"Global\"\ntranscription = true\n"
	if code != 0 || stdout != want {
		t.Fatalf("output: exit %d\n%s\nwant:\n%s\nstderr: %s", code, stdout, want, stderr)
	}

	stdout, _, code = runCLI(t, "--dir", dir, "output", "policy", "--raw")
	if code != 0 || stdout != "Global" {
		t.Errorf("output policy --raw: exit %d %q", code, stdout)
	}
	stdout, _, code = runCLI(t, "--dir", dir, "output", "transcription", "--raw")
	if code != 0 || stdout != "true" {
		t.Errorf("output transcription --raw: exit %d %q", code, stdout)
	}
	stdout, _, code = runCLI(t, "--dir", dir, "output", "policy")
	if code != 0 || stdout != "\"Global\"\n" {
		t.Errorf("output policy: exit %d %q", code, stdout)
	}
	_, stderr, code = runCLI(t, "--dir", dir, "output", "both", "--raw")
	if code != 1 || !strings.Contains(stderr, "--json") {
		t.Errorf("output both --raw (a tuple): exit %d %s", code, stderr)
	}
	stdout, stderr, code = runCLI(t, "--dir", dir, "output", "derived", "--raw")
	if code != 1 || strings.Contains(stdout+stderr, "s3cr3t") || !strings.Contains(stderr, "sensitive") {
		t.Errorf("output derived --raw: exit %d %q %s", code, stdout, stderr)
	}
	_, stderr, code = runCLI(t, "--dir", dir, "output", "nope")
	if code != 1 || !strings.Contains(stderr, `output "nope" not found`) {
		t.Errorf("output nope: exit %d %s", code, stderr)
	}
	stdout, _, code = runCLI(t, "--dir", dir, "output", "both", "--json")
	if code != 0 || stdout != "[\n  \"Global\",\n  \"x\"\n]\n" {
		t.Errorf("output both --json: exit %d %q", code, stdout)
	}

	stdout, stderr, code = runCLI(t, "--dir", dir, "output", "--json")
	if code != 0 {
		t.Fatalf("output --json: exit %d %s", code, stderr)
	}
	var doc map[string]map[string]any
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatalf("output --json is not JSON: %v\n%s", err, stdout)
	}
	if p := doc["policy"]; p["value"] != "Global" || p["type"] != "string" || p["sensitive"] != false {
		t.Errorf("policy: %v", p)
	}
	if tr := doc["transcription"]; tr["value"] != true || tr["type"] != "bool" {
		t.Errorf("transcription: %v", tr)
	}
	if b, _ := json.Marshal(doc["both"]["type"]); string(b) != `["tuple",["string","string"]]` {
		t.Errorf("both's type %s", b)
	}
	for _, name := range []string{"declared_secret", "derived"} {
		if _, has := doc[name]["value"]; has || doc[name]["sensitive"] != true {
			t.Errorf("%s: %v", name, doc[name])
		}
	}
}

// An output removed from the configuration leaves state at the next apply; a state without
// outputs (and one written before outputs were kept) prints Terraform's warning and exits 0.
func TestOutputNoneAndRemoved(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": transcription + `output "policy" { value = teams_meeting_policy.global.identity }` + "\n"})
	if stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "apply", "--auto-approve"); code != 0 {
		t.Fatalf("apply exit %d\n%s\n%s", code, stdout, stderr)
	}
	if stdout, _, _ := runCLI(t, "--dir", dir, "output"); stdout != "policy = \"Global\"\n" {
		t.Fatalf("output: %q", stdout)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.c4s.hcl"), []byte(transcription), 0o644); err != nil {
		t.Fatal(err)
	}
	if stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "apply", "--auto-approve"); code != 0 {
		t.Fatalf("second apply exit %d\n%s\n%s", code, stdout, stderr)
	}
	stdout, stderr, code := runCLI(t, "--dir", dir, "output")
	if code != 0 || stdout != "" || !strings.Contains(stderr, "No outputs found") {
		t.Fatalf("output without outputs: exit %d %q %s", code, stdout, stderr)
	}
	stdout, _, code = runCLI(t, "--dir", dir, "output", "--json")
	if code != 0 || strings.TrimSpace(stdout) != "{}" {
		t.Fatalf("output --json without outputs: exit %d %q", code, stdout)
	}
}

// A state file written before outputs were kept (no "outputs" key) still loads.
func TestStateWithoutOutputsLoads(t *testing.T) {
	old := `{"version": 1, "serial": 3, "lineage": "0a1b2c3d-0000-4000-8000-000000000000", "resources": []}`
	st, err := state.Decode("old.json", []byte(old))
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Outputs) != 0 {
		t.Fatalf("outputs %v", st.Outputs)
	}
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": transcription})
	if err := os.MkdirAll(filepath.Join(dir, ".c4sctl"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".c4sctl", "state.json"), []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := runCLI(t, "--dir", dir, "output"); code != 0 || !strings.Contains(stderr, "No outputs found") {
		t.Fatalf("exit %d %s", code, stderr)
	}
}
