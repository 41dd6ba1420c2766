package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/c4sctl/c4sctl/pkg/sandbox"
	"github.com/c4sctl/c4sctl/pkg/sandbox/salesforceapi"
)

// changeSalesforce starts the configuration's sandbox between two CLI runs, lets fn change the
// Salesforce org, and saves the data again.
func changeSalesforce(t *testing.T, dir string, fn func(*salesforceapi.Service) error) {
	t.Helper()
	svcs := newSandboxServices()
	var sf *salesforceapi.Service
	for _, s := range svcs {
		if x, ok := s.(*salesforceapi.Service); ok {
			sf = x
		}
	}
	if sf == nil {
		t.Fatal("no salesforce sandbox service")
	}
	sb, err := sandbox.Start(sandbox.Options{Dir: filepath.Join(dir, ".c4sctl", "sandbox")}, svcs...)
	if err != nil {
		t.Fatal(err)
	}
	if err := sb.Mutate(func() error { return fn(sf) }); err != nil {
		sb.Close()
		t.Fatal(err)
	}
	if err := sb.Close(); err != nil {
		t.Fatal(err)
	}
}

// usernames76 are n usernames of 76 characters.
func usernames76(n int) []string {
	out := make([]string, n)
	for i := range out {
		u := fmt.Sprintf("copilot.seller.%04d@", i)
		domain := "emea-north.field-sales.contoso-sandbox.example"
		out[i] = u + strings.Repeat("x", 76-len(u)-len(domain)-1) + "." + domain
	}
	return out
}

func hclList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = fmt.Sprintf("    %q,", x)
	}
	return "[\n" + strings.Join(q, "\n") + "\n  ]"
}

// Issue 12: 250 assignees with 76-character usernames plan, apply and export against a sandbox
// that refuses requests over Salesforce's 16,384-byte limit, and description = "" converges.
func TestSalesforceLongUsernamesPlanApplyExport(t *testing.T) {
	names := usernames76(250)
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": `
provider "salesforce" {}

resource "salesforce_permission_set" "copilot" {
  name        = "Copilot_Long_Usernames"
  description = ""
  api_enabled = true
  assignees   = ` + hclList(names) + `
}
`})
	changeSalesforce(t, dir, func(s *salesforceapi.Service) error {
		return s.AddNamedUsers(names, salesforceapi.ProfileStandardUser)
	})
	stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--no-color", "plan", "--detailed-exitcode")
	if code != 2 || !strings.Contains(stdout, "Plan: 1 to add, 0 to change, 0 to destroy.") {
		t.Fatalf("plan exit %d\n%s\n%s", code, stdout, stderr)
	}
	stdout, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "--no-color", "apply", "--auto-approve")
	if code != 0 || !strings.Contains(stdout, "Apply complete! Resources: 1 added, 0 changed, 0 destroyed.") {
		t.Fatalf("apply exit %d\n%s\n%s", code, stdout, stderr)
	}
	stdout, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "--no-color", "plan", "--detailed-exitcode")
	if code != 0 || !strings.Contains(stdout, "No changes (sandbox — not a real tenant).") {
		t.Fatalf("second plan exit %d, want 0 with No changes.\n%s\n%s", code, stdout, stderr)
	}
	out := filepath.Join(t.TempDir(), "exported")
	stdout, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "export", "--out", out)
	if code != 0 {
		t.Fatalf("export exit %d\n%s\n%s", code, stdout, stderr)
	}
	b, err := os.ReadFile(filepath.Join(out, "salesforce.c4s.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{names[0], names[249]} {
		if !strings.Contains(string(b), n) {
			t.Fatalf("the export lacks %s", n)
		}
	}
}

// Issue 12: an object typo fails at plan with the file and line; an English profile name in an
// org whose API user reads German fails at plan naming the profiles as that user reads them; a
// new permission set whose filter matches nobody fails at plan.
func TestSalesforcePlanTimeChecks(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": `provider "salesforce" {}

resource "salesforce_permission_set" "typo" {
  name               = "Copilot_Typo"
  object_permissions = { Opportunty = ["read"] }
}
`})
	stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--no-color", "plan")
	// Messages are wrapped to the terminal's width.
	flat := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	if code != 1 || !strings.Contains(stderr, "main.c4s.hcl line 3") || !strings.Contains(flat(stderr), `no object "Opportunty" (did you mean "Opportunity"?)`) {
		t.Fatalf("typo: exit %d\n%s\n%s", code, stdout, stderr)
	}

	dir = writeConfig(t, map[string]string{"main.c4s.hcl": `provider "salesforce" {}

resource "salesforce_connected_app" "power_platform" {
  permitted_users = "admin_approved_preauthorized"
  profiles        = ["Standard User"]
}
`})
	// As an admin would try it: through the sandbox commands.
	for _, args := range [][]string{{"set-language", "de"}, {"install-app"}} {
		if _, stderr, code := runCLI(t, append([]string{"--dir", dir, "--sandbox", "sandbox", "salesforce"}, args...)...); code != 0 {
			t.Fatalf("sandbox salesforce %v: exit %d %s", args, code, stderr)
		}
	}
	stdout, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "--no-color", "plan")
	if code != 1 || !strings.Contains(stderr, "main.c4s.hcl line 3") || !strings.Contains(flat(stderr), `no profile "Standard User"`) || !strings.Contains(flat(stderr), `"Standardbenutzer" (00e`) {
		t.Fatalf("English profile in a German org: exit %d\n%s\n%s", code, stdout, stderr)
	}
	// The same org, the Id of Standard User: plans.
	m := regexp.MustCompile(`"Standardbenutzer" \((00e\w+)\)`).FindStringSubmatch(flat(stderr))
	if m == nil {
		t.Fatalf("no id in %s", stderr)
	}
	id := m[1]
	if err := os.WriteFile(filepath.Join(dir, "main.c4s.hcl"), []byte(`provider "salesforce" {}

resource "salesforce_connected_app" "power_platform" {
  permitted_users = "admin_approved_preauthorized"
  profiles        = ["`+id+`"]
}

resource "salesforce_permission_set" "sellers" {
  name            = "Copilot_Sellers"
  api_enabled     = true
  assignee_filter = "Profile.Name = 'Standard User'"
}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	// A new set whose filter matches nobody is refused at its line: created, it would go to no
	// seller while apply said "Apply complete!".
	stdout, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "--no-color", "plan", "--detailed-exitcode")
	if code != 1 || !strings.Contains(flat(stdout+stderr), `assignee_filter "Profile.Name = 'Standard User'" matches 0 users`) ||
		!strings.Contains(flat(stderr), "would be assigned to nobody") || !strings.Contains(stderr, "main.c4s.hcl line 8") {
		t.Fatalf("profile by Id and a filter matching nobody: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if _, _, code := runCLI(t, "--dir", dir, "--sandbox", "apply", "--auto-approve"); code != 1 {
		t.Fatalf("apply with a new set whose filter matches nobody: exit %d, want 1", code)
	}
}

// Issue 12: a permission set created before a later step failed (an assignee that is not a user
// of the org: plan warns, apply fails after the create) is recorded in state and counted as
// partly applied, not "0 changes made"; the next plan updates it instead of creating it again.
func TestSalesforceHalfDoneCreateIsRecorded(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": `provider "salesforce" {}

resource "salesforce_permission_set" "half" {
  name        = "Copilot_Half_Done"
  api_enabled = true
  assignees   = ["seller001@contoso-sandbox.example", "ghost@contoso-sandbox.example"]
}
`})
	flat := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--no-color", "apply", "--auto-approve")
	if code == 0 || !strings.Contains(flat(stdout+stderr), "1 partly applied") || !strings.Contains(flat(stdout+stderr), "permission set Copilot_Half_Done was created") {
		t.Fatalf("apply exit %d\n%s\n%s", code, stdout, stderr)
	}
	stdout, _, _ = runCLI(t, "--dir", dir, "state", "list")
	if !strings.Contains(stdout, "salesforce_permission_set.half") {
		t.Fatalf("state list: %q", stdout)
	}
	stdout, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "--no-color", "plan")
	if strings.Contains(stdout, "1 to add") {
		t.Fatalf("the half-made set is planned for creation again: exit %d\n%s\n%s", code, stdout, stderr)
	}
}

// Values the service treats as one are no change made outside c4sctl: after `description = ""`
// and names in another case were applied, a configuration that sets a description and respells
// the names plans the description only, and reports nothing changed outside c4sctl (the state
// holds "" and the old spelling, the org null and its own).
func TestSalesforceRespelledConfigurationIsNoOutsideChange(t *testing.T) {
	cfg := func(desc, object, profile string) string {
		return `provider "salesforce" {}

resource "salesforce_permission_set" "copilot" {
  name               = "Copilot_Respelled"
  description        = "` + desc + `"
  api_enabled        = true
  object_permissions = { ` + object + ` = ["read"] }
}

resource "salesforce_connected_app" "power_platform" {
  permitted_users = "admin_approved_preauthorized"
  profiles        = ["` + profile + `"]
  permission_sets = ["copilot_respelled"]
  depends_on      = [salesforce_permission_set.copilot]
}
`
	}
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": cfg("", "account", "standard user")})
	if _, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "sandbox", "salesforce", "install-app"); code != 0 {
		t.Fatalf("install-app: exit %d %s", code, stderr)
	}
	stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--no-color", "apply", "--auto-approve")
	if code != 0 {
		t.Fatalf("apply exit %d\n%s\n%s", code, stdout, stderr)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.c4s.hcl"), []byte(cfg("Sellers", "Account", "Standard User")), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "--no-color", "plan", "--detailed-exitcode")
	if code != 2 || strings.Contains(stdout, "changed outside") || !strings.Contains(stdout, `description = null -> "Sellers"`) || !strings.Contains(stdout, "Plan: 0 to add, 1 to change, 0 to destroy.") {
		t.Fatalf("plan exit %d, want the description only and nothing changed outside c4sctl\n%s\n%s", code, stdout, stderr)
	}
}

// A permission set's name in another case plans no change and never fails "did not stick"
// (apply sent no Name, so the live name stayed in Salesforce's spelling); a new name renames it.
func TestSalesforcePermissionSetNameCaseAndRename(t *testing.T) {
	cfg := func(name string) string {
		return `provider "salesforce" {}

resource "salesforce_permission_set" "copilot" {
  name        = "` + name + `"
  api_enabled = true
}
`
	}
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": cfg("Copilot_Named")})
	if stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--no-color", "apply", "--auto-approve"); code != 0 {
		t.Fatalf("apply exit %d\n%s\n%s", code, stdout, stderr)
	}
	write := func(name string) {
		if err := os.WriteFile(filepath.Join(dir, "main.c4s.hcl"), []byte(cfg(name)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("copilot_named")
	stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--no-color", "apply", "--auto-approve")
	if code != 0 || strings.Contains(stdout+stderr, "did not stick") || strings.Contains(stdout, "changed outside") {
		t.Fatalf("the name in another case: apply exit %d\n%s\n%s", code, stdout, stderr)
	}
	stdout, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "--no-color", "plan", "--detailed-exitcode")
	if code != 0 || !strings.Contains(stdout, "No changes (sandbox — not a real tenant).") {
		t.Fatalf("the name in another case: plan exit %d, want No changes\n%s\n%s", code, stdout, stderr)
	}
	// A new name renames the set (TestPermissionSetRenameWithTheConnectedApp covers it with the
	// connected app).
	write("Copilot_Renamed")
	stdout, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "--no-color", "apply", "--auto-approve")
	if code != 0 || !strings.Contains(stdout, "0 added, 1 changed, 0 destroyed") {
		t.Fatalf("a new name: apply exit %d\n%s\n%s", code, stdout, stderr)
	}
	stdout, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "--no-color", "plan", "--detailed-exitcode")
	if code != 0 || !strings.Contains(stdout, "No changes (sandbox — not a real tenant).") {
		t.Fatalf("after the rename: plan exit %d, want No changes\n%s\n%s", code, stdout, stderr)
	}
}
