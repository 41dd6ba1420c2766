package cli

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/c4sctl/c4sctl/pkg/sandbox/powerplatformapi"
)

// The quickstart with enforce = true against the sandbox: before the admin adds c4sctl's app to
// msdyn_viva, plan is a manual action with the admin-centre steps; after `sandbox dataverse
// add-app-user`, plan lists Microsoft's service accounts as kept and never plans to remove one.
func TestQuickstartEnforceKeepsMicrosoftServiceAccounts(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	b, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "examples", "quickstart", "main.c4s.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	hcl := strings.Replace(string(b), "enforce = false", "enforce = true", 1)
	if hcl == string(b) {
		t.Fatal("the quickstart no longer says enforce = false")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.c4s.hcl"), []byte(hcl), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) string {
		t.Helper()
		stdout, stderr, code := runCLI(t, append([]string{"--dir", dir, "--sandbox", "--no-color"}, args...)...)
		if code != 0 && code != 2 {
			t.Fatalf("%v: exit %d\n%s\n%s", args, code, stdout, stderr)
		}
		return stdout
	}
	run("sandbox", "sign-in", "seller@contoso-sandbox.onmicrosoft.com")
	out := run("plan")
	if !strings.Contains(out, "Environments > msdyn_viva > Settings > Users + permissions > Application users > New app user") || !strings.Contains(out, "0x80072560") {
		t.Fatalf("plan before the app user is added lacks the manual action:\n%s", out)
	}
	run("sandbox", "dataverse", "add-app-user")
	out = run("plan")
	if !strings.Contains(out, "Microsoft service accounts: kept") {
		t.Errorf("plan does not list the service accounts apart:\n%s", out)
	}
	for _, sa := range powerplatformapi.MicrosoftServiceAccounts {
		for _, line := range strings.Split(out, "\n") {
			if strings.Contains(line, sa.DomainName) && (strings.Contains(line, "removes System Administrator from") || strings.Contains(line, "- \"")) {
				t.Errorf("plan would remove %s: %s", sa.DomainName, line)
			}
		}
	}
}
