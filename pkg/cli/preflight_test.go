package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// preflight covers the four services of the quickstart (Graph and Teams, the Power Platform admin
// API, the Dataverse application user, the Salesforce user's permissions), and its verdict follows
// msdyn_viva: not checked before the first sign-in (never "Nothing blocks apply"), blocking until
// the app is an application user, clean after.
func TestPreflightCoversFourServicesAndSaysWhatItDidNotCheck(t *testing.T) {
	main, err := os.ReadFile(filepath.Join(repoRoot(t), "examples", "quickstart", "main.c4s.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": string(main)})
	run := func(args ...string) (string, int) {
		t.Helper()
		stdout, stderr, code := runCLI(t, append([]string{"--dir", dir, "--sandbox", "--no-color"}, args...)...)
		return stdout + stderr, code
	}
	out, code := run("preflight")
	for _, want := range []string{
		"[ok]          Teams Administrator: held",
		"[ok]          Power Platform admin API: answers the app",
		"[not checked] Dataverse application user in msdyn_viva: not checked: msdyn_viva does not exist yet",
		"[ok]          Salesforce Manage Profiles and Permission Sets: held",
		"Nothing checked blocks apply, but 1 item(s) were not checked",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("before step 7: lacks %q:\n%s", want, out)
		}
	}
	if code != 0 || strings.Contains(out, "Nothing blocks apply") {
		t.Errorf("before step 7: exit %d\n%s", code, out)
	}
	if _, code := run("sandbox", "sign-in", "seller@contoso-sandbox.onmicrosoft.com"); code != 0 {
		t.Fatal("sign-in failed")
	}
	out, code = run("preflight")
	if code != 1 || !strings.Contains(out, "[MISSING]     Dataverse application user in msdyn_viva: missing") || !strings.Contains(out, "1 item(s) block apply") {
		t.Errorf("after step 7: exit %d\n%s", code, out)
	}
	if _, code := run("sandbox", "dataverse", "add-app-user"); code != 0 {
		t.Fatal("add-app-user failed")
	}
	out, code = run("bootstrap", "--check") // bootstrap --check is preflight
	if code == 0 {
		t.Errorf("bootstrap --check with --sandbox: exit 0, want a refusal (it sets up a real tenant)")
	}
	out, code = run("preflight")
	if code != 0 || !strings.Contains(out, "[ok]          Dataverse application user in msdyn_viva") || !strings.Contains(out, "Nothing blocks apply (sandbox — not a real tenant).") || strings.Contains(out, "not checked") {
		t.Errorf("with the application user: exit %d\n%s", code, out)
	}
}

// An outage is no verdict: with one service answering 500 to everything (its token endpoint
// included), preflight shows that service's lines as not checked with the reason, never as
// MISSING or ok, and its verdict is never "Nothing blocks apply".
func TestPreflightOutageIsNotCheckedNeverMissing(t *testing.T) {
	main, err := os.ReadFile(filepath.Join(repoRoot(t), "examples", "quickstart", "main.c4s.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ down, want string }{
		{"salesforce", `[not checked] provider "salesforce": not checked: the sign-in got no usable answer`},
		{"graph", "[not checked] licences: not checked: the tenant's subscriptions could not be read"},
		{"graph", "[not checked] Teams Administrator: not checked"},
		{"bap", "[not checked] Power Platform admin API: could not be checked"},
	} {
		t.Run(tc.down, func(t *testing.T) {
			dir := writeConfig(t, map[string]string{"main.c4s.hcl": string(main)})
			t.Setenv("C4S_SANDBOX_FAULTS", "down="+tc.down)
			stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--no-color", "preflight")
			out := stdout + stderr
			if !strings.Contains(out, tc.want) || !strings.Contains(out, "500") {
				t.Errorf("lacks %q with its reason (500):\n%s", tc.want, out)
			}
			if strings.Contains(out, "[MISSING]") || code != 0 {
				t.Errorf("an outage of %s reads as missing (exit %d):\n%s", tc.down, code, out)
			}
			if strings.Contains(out, "Nothing blocks apply") || !strings.Contains(out, "were not checked") {
				t.Errorf("verdict does not count what was not checked:\n%s", out)
			}
		})
	}
}
