package cli

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Each --sandbox run starts the in-process sandbox anew. Its base URL is stable per directory,
// so the URLs its data holds (msdyn_viva's Dataverse URL, created by the first sign-in) and the
// live objects a saved plan fingerprints are the same in the run that applies the plan: the plan
// is not STALE.
func TestSavedPlanAppliesOnTheSandboxAfterSignIn(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	b, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "examples", "quickstart", "main.c4s.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": string(b)})
	run := func(want []int, args ...string) string {
		t.Helper()
		stdout, stderr, code := runCLI(t, append([]string{"--dir", dir, "--sandbox", "--no-color"}, args...)...)
		for _, w := range want {
			if code == w {
				return stdout
			}
		}
		t.Fatalf("%v: exit %d\n%s\n%s", args, code, stdout, stderr)
		return ""
	}
	run([]int{0}, "sandbox", "sign-in", "seller@contoso-sandbox.onmicrosoft.com")
	pfile := filepath.Join(dir, "plan.bin")
	run([]int{0, 2}, "plan", "--out", pfile)
	out := run([]int{0, 4}, "apply", pfile)
	if strings.Contains(out, "STALE") || !strings.Contains(out, "Creation complete") {
		t.Fatalf("apply of the saved plan:\n%s", out)
	}
}

// welcome --send without a terminal sends without asking (CI); a second run mails nobody again;
// --resolve-unknown takes only sent or resend.
func TestWelcomeSendOnTheSandbox(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	b, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "examples", "quickstart", "main.c4s.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": string(b)})
	stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--no-color", "welcome", "--send", "--per-minute", "6000")
	if code != 0 || !strings.Contains(stdout, "Sent ") || strings.Contains(stdout, "Sent 0,") {
		t.Fatalf("welcome --send: exit %d\n%s\n%s", code, stdout, stderr)
	}
	stdout, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "--no-color", "welcome", "--send", "--per-minute", "6000")
	if code != 0 || !strings.Contains(stdout, "Sent 0,") {
		t.Fatalf("second welcome --send: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if _, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "welcome", "--resolve-unknown", "maybe"); code != 1 || !strings.Contains(stderr, "sent or resend") {
		t.Fatalf("--resolve-unknown maybe: exit %d\n%s", code, stderr)
	}
}
