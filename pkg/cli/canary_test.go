package cli

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/c4sctl/c4sctl/internal/filemode"
	"github.com/c4sctl/c4sctl/pkg/sandbox"
	"github.com/c4sctl/c4sctl/pkg/sandbox/salesforceapi"
	"github.com/c4sctl/c4sctl/pkg/sandbox/teamsapi"
)

func canaryValue(t *testing.T, kind string) string {
	t.Helper()
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "CANARY-5f2c-" + kind + "-" + hex.EncodeToString(b)
}

// TestCanarySecretsNeverLeak signs in to every provider with a canary secret (the Microsoft app's
// client secret from AZURE_CLIENT_SECRET and from a sensitive variable, the Salesforce consumer
// secret from SF_CLIENT_SECRET) and sets a resource attribute from another sensitive variable;
// then runs plan (human, JSON, Markdown, saved), show, apply of the saved plan, drift with every
// report, export, state show and a failing sign-in, all with --log-level debug. Neither canary
// may appear in any output, plan file, report, state file or the sandbox's request log. (The
// attribute's canary is the live value of that attribute, so export, which writes live values,
// may hold it; the credential canary may not.)
func TestCanarySecretsNeverLeak(t *testing.T) {
	t.Parallel() // waits on the sandbox and the binary, not the CPU
	bin := c4sctlBinary(t)
	secret := canaryValue(t, "secret")
	attr := canaryValue(t, "attr")
	s := startStandalone(t, secret)
	s.doManualSteps(t)

	dir := t.TempDir()
	config := s.providerBlocks() + quickstartResources(t) + `
variable "sales_policy_note" {
  type      = string
  sensitive = true
}

resource "teams_meeting_policy" "sales" {
  identity            = "CanarySales"
  description         = var.sales_policy_note
  allow_transcription = true
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.c4s.hcl"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	env := s.cliEnv("C4S_VAR_sales_policy_note=" + attr)
	out := filepath.Join(t.TempDir(), "out")
	exportDir := filepath.Join(t.TempDir(), "export")
	if err := os.MkdirAll(out, 0o700); err != nil {
		t.Fatal(err)
	}
	planFile := filepath.Join(out, "plan.bin")

	var outputs []string
	run := func(wantCodes []int, args ...string) string {
		t.Helper()
		full := append([]string{"--dir", dir, "--no-color", "--log-level", "debug"}, args...)
		stdout, stderr, code := runBin(t, bin, env, full...)
		outputs = append(outputs, fmt.Sprintf("c4sctl %s\n--- stdout\n%s\n--- stderr\n%s", strings.Join(args, " "), stdout, stderr))
		ok := false
		for _, c := range wantCodes {
			ok = ok || c == code
		}
		if !ok {
			t.Fatalf("c4sctl %s: exit %d, want %v\n%s\n%s", strings.Join(args, " "), code, wantCodes, stdout, stderr)
		}
		return stdout + stderr
	}
	logged := run([]int{2}, "plan", "--detailed-exitcode", "--out", planFile)
	if !strings.Contains(logged, "http request") {
		t.Fatalf("--log-level debug logged no HTTP request, so the test checks nothing:\n%s", logged)
	}
	run([]int{0}, "plan", "--json")
	run([]int{0}, "plan", "--format", "markdown")
	run([]int{0}, "show", planFile)
	run([]int{0}, "show", "--json", planFile)
	run([]int{0}, "apply", planFile)
	run([]int{0}, "plan", "--detailed-exitcode")
	run([]int{0}, "plan", "--json")
	run([]int{0}, "state", "show", "teams_meeting_policy.sales")
	// status and welcome read the same providers (and Salesforce for the reconciliation).
	run([]int{0, 2}, "status")
	run([]int{0, 2}, "status", "--json")
	run([]int{0, 2}, "status", "--format", "markdown")
	run([]int{0}, "welcome")
	run([]int{0}, "welcome", "--ready-only")
	if _, _, code := runBin(t, bin, env, "--dir", dir, "drift", "--help"); code == 0 {
		run([]int{0, 2}, "drift", "--report", "junit="+filepath.Join(out, "drift.xml"), "--report", "sarif="+filepath.Join(out, "drift.sarif"),
			"--report", "markdown="+filepath.Join(out, "drift.md"), "--report", "json="+filepath.Join(out, "drift.json"))
	} else {
		t.Log("c4sctl drift does not exist in this build; drift not checked")
	}
	exported := false
	if _, _, code := runBin(t, bin, env, "--dir", dir, "export", "--help"); code == 0 {
		run([]int{0}, "export", "--out", exportDir)
		exported = true
	} else {
		t.Log("c4sctl export does not exist in this build; export not checked")
	}
	// The attribute's canary really was applied (so every output above handled it).
	var live any
	s.sb.View(func() { live = s.sb.Service("teams").(*teamsapi.Service).MeetingPolicy("CanarySales")["Description"] })
	if live != attr {
		t.Fatalf("the sensitive variable did not reach the sandbox: description %v", live != nil)
	}
	// A failing sign-in: the secret is refused; errors and logs still never show it.
	s.sb.Apps().Get(sandbox.ClientID).Secret = "rotated-" + secret[len(secret)-4:]
	s.sb.Service("salesforce").(*salesforceapi.Service).Secret = "rotated-" + secret[len(secret)-4:]
	if msg := run([]int{1}, "plan"); !strings.Contains(msg, "Error") {
		t.Errorf("plan with a refused secret printed no error:\n%s", msg)
	}

	check := func(where, text string, canaries ...string) {
		t.Helper()
		for _, c := range canaries {
			if i := strings.Index(text, c); i >= 0 {
				lo, hi := max(0, i-200), min(len(text), i+len(c)+80)
				t.Errorf("%s holds the canary %s:\n…%s…", where, c[:len("CANARY-5f2c-")+6], strings.ReplaceAll(text[lo:hi], c, "<CANARY>"))
			}
		}
	}
	for _, o := range outputs {
		check("output of "+strings.SplitN(o, "\n", 2)[0], o, secret, attr)
	}
	files := 0
	for _, root := range []string{dir, out, exportDir} {
		_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || path == filepath.Join(dir, "main.c4s.hcl") {
				return nil
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Error(err)
				return nil
			}
			files++
			if root == exportDir {
				check("exported file "+path, string(b), secret)
			} else {
				check("file "+path, string(b), secret, attr)
			}
			return nil
		})
	}
	for _, name := range []string{filepath.Join(dir, ".c4sctl", "state.json"), planFile} {
		st, err := os.Stat(name)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if filemode.Enforced && st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600 (it describes the tenant)", name, st.Mode().Perm())
		}
	}
	check("the sandbox request log", fmt.Sprint(s.sb.RequestLog().Counts()), secret, attr)
	if exported {
		t.Logf("checked %d command outputs and %d files (state, plan, reports, export)", len(outputs), files)
	}
}
