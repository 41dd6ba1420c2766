package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const bannerPrefix = "c4sctl: SANDBOX ("

// Every run against the sandbox says so on stderr, once, naming how it was chosen; the drift
// reports it writes say sandbox: true and a clean check is not a real tenant's "No drift".
func TestSandboxRunsPrintABannerAndMarkTheirReports(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": transcription})
	if _, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "apply", "--auto-approve"); code != 0 {
		t.Fatalf("apply exit %d\n%s", code, stderr)
	}
	for _, tc := range []struct {
		name, env string
		args      []string
		via       string
	}{
		{"flag", "", []string{"--sandbox"}, "--sandbox"},
		{"env", "1", nil, "C4S_SANDBOX=1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("C4S_SANDBOX", tc.env)
			junit, sarif := filepath.Join(dir, "d.xml"), filepath.Join(dir, "d.sarif")
			args := append([]string{"--dir", dir, "--no-color"}, tc.args...)
			stdout, stderr, code := runCLI(t, append(args, "drift", "--report", "junit="+junit, "--report", "sarif="+sarif)...)
			if code != 0 {
				t.Fatalf("drift exit %d\n%s\n%s", code, stdout, stderr)
			}
			if n := strings.Count(stderr, bannerPrefix+tc.via+")"); n != 1 {
				t.Errorf("stderr has the banner %d times, want once naming %s:\n%s", n, tc.via, stderr)
			}
			if !strings.HasPrefix(stdout, "sandbox: true") || !strings.Contains(stdout, "No drift (sandbox — not a real tenant)") || strings.Contains(stdout, "No drift:") {
				t.Errorf("clean sandbox drift reads like a real tenant's:\n%s", stdout)
			}
			x, _ := os.ReadFile(junit)
			if !strings.Contains(string(x), `<property name="sandbox" value="true">`) || !strings.Contains(string(x), `name="c4sctl drift (sandbox: true)"`) {
				t.Errorf("junit report:\n%s", x)
			}
			var s struct {
				Runs []struct {
					Properties map[string]any `json:"properties"`
				} `json:"runs"`
			}
			b, _ := os.ReadFile(sarif)
			if err := json.Unmarshal(b, &s); err != nil || s.Runs[0].Properties["sandbox"] != true {
				t.Errorf("sarif report (%v):\n%s", err, b)
			}
		})
	}

	// preflight's checklist and verdict say so too (a nightly job may log only stdout).
	t.Setenv("C4S_SANDBOX", "1")
	stdout, _, _ := runCLI(t, "--dir", dir, "--no-color", "preflight")
	if !strings.HasPrefix(stdout, "sandbox: true") || strings.Contains(stdout, "Nothing blocks apply.") {
		t.Errorf("preflight against the sandbox reads like a real tenant's:\n%s", stdout)
	}

	// Not against the sandbox: no banner. validate talks to nothing.
	t.Setenv("C4S_SANDBOX", "")
	if _, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "validate"); code != 0 || strings.Contains(stderr, bannerPrefix) {
		t.Errorf("validate: exit %d, stderr:\n%s", code, stderr)
	}
}

// A configuration whose provider blocks point at a sandbox server (sandbox serve), without
// --sandbox, is recognised by the sandbox's tenant: banner, and the plan says sandbox: true.
func TestConfigPointedAtTheSandboxIsMarked(t *testing.T) {
	s := startStandalone(t, "banner-test-secret")
	t.Setenv("AZURE_CLIENT_SECRET", s.secret)
	t.Setenv("C4S_SANDBOX", "")
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": s.providerBlocks() + `
resource "teams_meeting_policy" "global" {
  identity            = "Global"
  allow_transcription = true
}
`})
	t.Setenv("C4S_VAR_client_secret", s.secret)
	stdout, stderr, code := runCLI(t, "--dir", dir, "plan", "--json")
	if code != 0 {
		t.Fatalf("plan exit %d\n%s", code, stderr)
	}
	if n := strings.Count(stderr, bannerPrefix+`provider "teams" signs in to the sandbox's tenant`); n != 1 {
		t.Errorf("banner %d times:\n%s", n, stderr)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil || doc["sandbox"] != true {
		t.Errorf("plan --json against a sandbox server: sandbox = %v (%v)", doc["sandbox"], err)
	}
}

func TestSandboxIdentity(t *testing.T) {
	for _, tc := range []struct {
		id   map[string]string
		want bool
	}{
		{map[string]string{"tenant_id": "7C4F5E2A-1B3D-4E6F-8A9B-0C1D2E3F4A5B"}, true},
		{map[string]string{"tenant_id": "contoso-sandbox.onmicrosoft.com"}, true},
		{map[string]string{"tenant_id": "72f988bf-86f1-41af-91ab-2d7cd011db47"}, false},
		{map[string]string{"org_id": "00D5g00000SBXORGAA"}, true},
		{map[string]string{"org_id": "00D5g00000SBXOR"}, true},
		{map[string]string{"org_id": "00D5g00000sbxor"}, false}, // org ids are case-sensitive
		{map[string]string{"org_id": "00D000000000001"}, false},
		{map[string]string{}, false},
	} {
		if got := sandboxIdentity("p", tc.id) != ""; got != tc.want {
			t.Errorf("sandboxIdentity(%v) = %v, want %v", tc.id, got, tc.want)
		}
	}
}
