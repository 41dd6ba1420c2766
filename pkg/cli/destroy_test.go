package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

const destroyConfig = transcription + `
resource "teams_meeting_policy" "sellers" {
  identity            = "Sellers"
  allow_transcription = true
}

output "sellers" { value = teams_meeting_policy.sellers.identity }
`

// destroy deletes what can be deleted (the Sellers policy is gone from the sandbox: the next plan
// creates it again), stops managing the Global policy (removed from state, left as it is), and
// is planned by plan --destroy without changing anything.
func TestDestroyThroughTheSandbox(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": destroyConfig})
	if stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--no-color", "apply", "--auto-approve"); code != 0 {
		t.Fatalf("apply exit %d\n%s\n%s", code, stdout, stderr)
	}

	stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--no-color", "plan", "--destroy", "--detailed-exitcode")
	if code != 2 {
		t.Fatalf("plan --destroy exit %d, want 2\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{
		"# teams_meeting_policy.sellers will be destroyed",
		"teams_meeting_policy.global",
		"the Global meeting policy cannot be deleted; c4sctl stops managing it",
		"0 to add, 0 to change, 1 to destroy.",
		"1 to stop managing",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("plan --destroy lacks %q:\n%s", want, stdout)
		}
	}
	if out, _, _ := runCLI(t, "--dir", dir, "state", "list"); out != "teams_meeting_policy.global\nteams_meeting_policy.sellers\n" {
		t.Fatalf("plan --destroy changed state: %q", out)
	}

	_, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "destroy")
	if code != 1 || !strings.Contains(stderr, "destroy needs approval") {
		t.Fatalf("destroy without --auto-approve and no terminal: exit %d %s", code, stderr)
	}
	if out, _, _ := runCLI(t, "--dir", dir, "state", "list"); !strings.Contains(out, "sellers") {
		t.Fatalf("unapproved destroy changed state: %q", out)
	}

	stdout, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "--no-color", "destroy", "--auto-approve")
	if code != 0 || !strings.Contains(stdout, "Destroy complete! Resources: 1 destroyed. 1 removed from state and left as they are") {
		t.Fatalf("destroy exit %d\n%s\n%s", code, stdout, stderr)
	}
	if out, _, _ := runCLI(t, "--dir", dir, "state", "list"); out != "" {
		t.Fatalf("state after destroy: %q", out)
	}
	if _, stderr, _ := runCLI(t, "--dir", dir, "output"); !strings.Contains(stderr, "No outputs found") {
		t.Errorf("outputs remain after destroy: %s", stderr)
	}

	// The Sellers policy is gone from the sandbox, the Global one is still there (adopted again).
	stdout, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "--no-color", "plan")
	if code != 0 || !strings.Contains(stdout, "# teams_meeting_policy.sellers will be created") || strings.Contains(stdout, "# teams_meeting_policy.global will be created") {
		t.Fatalf("plan after destroy: exit %d\n%s\n%s", code, stdout, stderr)
	}

	stdout, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "--no-color", "destroy")
	if code != 0 || !strings.Contains(stdout, "No objects need to be destroyed") {
		t.Fatalf("destroy of an empty state: exit %d\n%s\n%s", code, stdout, stderr)
	}
	_, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "plan", "--destroy", "--target", "teams_meeting_policy.sellers")
	if code != 1 || !strings.Contains(stderr, "destroy cannot be combined with --target") {
		t.Errorf("plan --destroy --target: exit %d %s", code, stderr)
	}
}

// A saved destroy plan applies as a destroy (the plan file keeps the mode).
func TestSavedDestroyPlanApplies(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": destroyConfig})
	if stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "apply", "--auto-approve"); code != 0 {
		t.Fatalf("apply exit %d\n%s\n%s", code, stdout, stderr)
	}
	pf := filepath.Join(dir, "destroy.plan")
	if stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "plan", "--destroy", "--out", pf); code != 0 {
		t.Fatalf("plan --destroy --out exit %d\n%s\n%s", code, stdout, stderr)
	}
	stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--no-color", "apply", pf)
	if code != 0 || !strings.Contains(stdout, "Destroy complete! Resources: 1 destroyed.") {
		t.Fatalf("apply of the saved destroy plan: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if out, _, _ := runCLI(t, "--dir", dir, "state", "list"); out != "" {
		t.Fatalf("state after the saved destroy: %q", out)
	}
}
