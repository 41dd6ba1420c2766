package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/c4sctl/c4sctl/internal/filemode"
)

// runCLI runs c4sctl in-process with the given arguments; stdin is empty (not a terminal).
func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(context.Background(), args, strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), code
}

// runCLIWith is runCLI with g's other fields (such as extra providers) kept.
func runCLIWith(t *testing.T, g *Globals, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	g.Stdin, g.Stdout, g.Stderr, g.Getenv = strings.NewReader(""), &out, &errb, os.Getenv
	code = run(context.Background(), g, args)
	return out.String(), errb.String(), code
}

func writeConfig(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const transcription = `
provider "teams" {}

resource "teams_meeting_policy" "global" {
  identity            = "Global"
  allow_transcription = true
}
`

func TestMalformedConfigurationNamesFileAndLine(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": "resource \"teams_meeting_policy\" \"global\" {\n  identity = \"Global\"\n  allow_transcripton = true\n}\n"})
	_, stderr, code := runCLI(t, "--dir", dir, "validate")
	if code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", code, stderr)
	}
	for _, want := range []string{"main.c4s.hcl line 3", "allow_transcripton", `Did you mean "allow_transcription"?`} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}

func TestPlanApplyPlanConvergesThroughTheSandbox(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": transcription})
	stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--no-color", "plan", "--detailed-exitcode")
	if code != 2 {
		t.Fatalf("first plan exit %d, want 2 (changes)\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "allow_transcription = false -> true") || !strings.Contains(stdout, "# teams_meeting_policy.global will be updated in-place\n  # (imported from \"Global\")") || !strings.Contains(stdout, "Plan: 1 to import, 0 to add, 1 to change, 0 to destroy.") {
		t.Errorf("plan output:\n%s", stdout)
	}

	_, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "apply")
	if code != 1 || !strings.Contains(stderr, "--auto-approve") {
		t.Fatalf("apply without a terminal nor --auto-approve: exit %d, stderr %s", code, stderr)
	}

	stdout, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "--no-color", "apply", "--auto-approve")
	if code != 0 || !strings.Contains(stdout, "Apply complete! Resources: 1 imported, 0 added, 1 changed, 0 destroyed.") {
		t.Fatalf("apply exit %d\n%s\n%s", code, stdout, stderr)
	}
	stdout, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "--no-color", "plan", "--detailed-exitcode")
	if code != 0 || !strings.Contains(stdout, "No changes (sandbox — not a real tenant).") {
		t.Fatalf("second plan exit %d, want 0 with No changes.\n%s\n%s", code, stdout, stderr)
	}

	info, err := os.Stat(filepath.Join(dir, ".c4sctl", "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	if filemode.Enforced && info.Mode().Perm() != 0o600 {
		t.Errorf("state mode %v, want 0600", info.Mode().Perm())
	}
	stdout, _, _ = runCLI(t, "--dir", dir, "state", "list")
	if strings.TrimSpace(stdout) != "teams_meeting_policy.global" {
		t.Errorf("state list: %q", stdout)
	}
}

func TestSecondRunFailsWhileTheLockIsHeld(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": transcription})
	g := &Globals{Dir: dir}
	b, err := g.Backend()
	if err != nil {
		t.Fatal(err)
	}
	unlock, err := b.Lock("apply", "test")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	_, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "apply", "--auto-approve")
	if code != 1 || !strings.Contains(stderr, "locked by another c4sctl run") || !strings.Contains(stderr, "Operation: apply") {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
}

func TestChangeByHandShowsAsDrift(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": transcription})
	if _, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "apply", "--auto-approve"); code != 0 {
		t.Fatalf("apply: %d %s", code, stderr)
	}
	if _, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "sandbox", "teams", "set", "TeamsMeetingPolicy", "Global", "AllowTranscription", "false"); code != 0 {
		t.Fatalf("sandbox teams set: %d %s", code, stderr)
	}
	stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--no-color", "plan", "--detailed-exitcode")
	if code != 2 {
		t.Fatalf("plan after a change by hand: exit %d, want 2\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{"teams_meeting_policy.global has changed outside c4sctl", "allow_transcription: true -> false", "allow_transcription = false -> true"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("plan lacks %q:\n%s", want, stdout)
		}
	}
}
