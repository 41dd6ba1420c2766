package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// shellWords splits a line as a POSIX shell does for the quoting shellQuote writes.
func shellWords(t *testing.T, line string) []string {
	t.Helper()
	var words []string
	var cur strings.Builder
	in, any := false, false
	for _, r := range line {
		switch {
		case r == '\'':
			in, any = !in, true
		case r == ' ' && !in:
			if any {
				words = append(words, cur.String())
			}
			cur.Reset()
			any = false
		default:
			cur.WriteRune(r)
			any = true
		}
	}
	if in {
		t.Fatalf("unbalanced quote in %q", line)
	}
	if any {
		words = append(words, cur.String())
	}
	return words
}

func TestShellArg(t *testing.T) {
	for in, want := range map[string]string{
		"plan": "plan", "/tmp/a b/p.bin": "'/tmp/a b/p.bin'", "it's": `'it'\''s'`, "": "''", "note=two words": "'note=two words'",
	} {
		if got := shellArg(in); got != want {
			t.Errorf("shellArg(%q) = %q, want %q", in, got, want)
		}
		if in != "" && in != "it's" {
			if w := shellWords(t, "c4sctl "+shellArg(in)); len(w) != 2 || w[1] != in {
				t.Errorf("%q does not paste back: %q", in, w)
			}
		}
	}
}

// The command plan --out prints to apply the saved plan keeps the flags the plan needs (--dir,
// --sandbox, --var-file, a non-sensitive --var) and no sensitive value; pasted, it applies.
func TestSavedPlanHintIsCopyPasteCorrect(t *testing.T) {
	dir := writeConfig(t, map[string]string{
		"main.c4s.hcl": `
variable "note" { type = string }
variable "token" {
  type      = string
  sensitive = true
}
variable "from_file" { type = string }
provider "teams" {}
resource "teams_meeting_policy" "global" {
  identity            = "Global"
  allow_transcription = true
  description         = "${var.note} ${var.from_file} ${length(var.token)}"
}
`,
		"vars.hcl": `from_file = "ff"` + "\n",
	})
	varFile := filepath.Join(dir, "vars.hcl")
	out := filepath.Join(t.TempDir(), "my plan.bin")
	stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--var-file", varFile, "--var", "note=two words", "--var", "token=hush-s3cr3t", "plan", "--out", out)
	if code != 0 {
		t.Fatalf("plan exit %d\n%s", code, stderr)
	}
	if strings.Contains(stdout, "s3cr3t") {
		t.Fatalf("the hint shows a sensitive value:\n%s", stdout)
	}
	m := regexp.MustCompile(`(?m)^  (c4sctl .*)$`).FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("no command printed:\n%s", stdout)
	}
	words := shellWords(t, m[1])
	want := []string{"c4sctl", "--dir", dir, "--sandbox", "--var-file", varFile, "--var", "note=two words", "apply", out}
	if strings.Join(words, "\x00") != strings.Join(want, "\x00") {
		t.Fatalf("hint %q, want the words %q", m[1], want)
	}
	if !strings.Contains(stdout, "add --var for token with the same value") {
		t.Errorf("the hint does not say the sensitive --var was left out:\n%s", stdout)
	}
	// Pasted, with the secret added back as the note says, it applies the plan.
	stdout, stderr, code = runCLI(t, append(words[1:len(words)-2], "--var", "token=hush-s3cr3t", "apply", out)...)
	if code != 0 || !strings.Contains(stdout, "Apply complete!") {
		t.Fatalf("the pasted hint: exit %d\n%s\n%s", code, stdout, stderr)
	}
}

// The real tenant's manual steps never mention sandbox commands; a --sandbox run's steps name
// the sandbox command that does the same, with its flags.
func TestManualStepsMentionTheSandboxOnlyOnSandboxRuns(t *testing.T) {
	const app = `
provider "salesforce" {}
resource "salesforce_connected_app" "copilot" {
  name = "Microsoft Power Platform"
}
`
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": app})
	stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--no-color", "plan")
	want := "In the sandbox, this does the same: c4sctl --dir " + shellArg(dir) + " --sandbox sandbox salesforce install-app"
	if code != 0 || !strings.Contains(stdout, want) {
		t.Fatalf("sandbox plan: exit %d, want the step %q\n%s\n%s", code, want, stdout, stderr)
	}

	s := startStandalone(t, "hint-test-secret")
	t.Setenv("SF_CLIENT_SECRET", s.secret)
	t.Setenv("AZURE_CLIENT_SECRET", s.secret)
	t.Setenv("C4S_VAR_client_secret", s.secret)
	real := writeConfig(t, map[string]string{"main.c4s.hcl": s.providerBlocks() + `
resource "salesforce_connected_app" "copilot" {
  name = "Microsoft Power Platform"
}
`})
	stdout, stderr, code = runCLI(t, "--dir", real, "--no-color", "plan")
	if code != 0 || !strings.Contains(stdout, "Connected Apps OAuth Usage") {
		t.Fatalf("plan against a server (no --sandbox): exit %d\n%s\n%s", code, stdout, stderr)
	}
	if strings.Contains(stdout, "install-app") || strings.Contains(stdout, "In the sandbox") {
		t.Errorf("the steps of a run without --sandbox mention a sandbox command:\n%s", stdout)
	}
	if _, err := os.Stat(filepath.Join(real, ".c4sctl", "sandbox")); err == nil {
		t.Errorf("a run without --sandbox started the in-process sandbox")
	}
}
