package cli

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/providers/providertest"
)

const licenseFor = `
provider "microsoft365" {}

resource "m365_license_assignment" "sellers" {
  group_name = "%s"
}
`

// A licence resource whose group is misspelled, or was deployed and then lost its group, is not
// clean: plan --detailed-exitcode and drift exit 2, name it, and the JUnit report fails it.
func TestLicenceWithoutItsGroupIsNotClean(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": strings.Replace(licenseFor, "%s", "Sellers", 1)})
	if stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--no-color", "apply", "--auto-approve"); code != 0 {
		t.Fatalf("apply: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--no-color", "plan", "--detailed-exitcode"); code != 0 {
		t.Fatalf("plan after apply: exit %d\n%s\n%s", code, stdout, stderr)
	}

	// The group is misspelled after the licence was deployed: the resource in state can no
	// longer be read. Not "does not exist yet", not "No changes".
	if err := os.WriteFile(filepath.Join(dir, "main.c4s.hcl"), []byte(strings.Replace(licenseFor, "%s", "Selers", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--no-color", "plan", "--detailed-exitcode")
	if code != 2 || strings.Contains(stdout, "No changes") || !strings.Contains(stdout, "# m365_license_assignment.sellers could not be read:") ||
		!strings.Contains(stdout, `group "Selers" no longer exists`) || strings.Contains(stdout, "yet") || !strings.Contains(stdout, "1 could not be read") {
		t.Errorf("plan: exit %d, want 2 naming the resource\n%s\n%s", code, stdout, stderr)
	}
	junit := filepath.Join(dir, "drift.xml")
	stdout, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "--no-color", "drift", "--report", "junit="+junit)
	if code != 2 || strings.Contains(stdout, "No drift") || !strings.Contains(stdout, "m365_license_assignment.sellers could not be read") {
		t.Errorf("drift: exit %d, want 2\n%s\n%s", code, stdout, stderr)
	}
	raw, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	var js junitTestsuites
	if err := xml.Unmarshal(raw, &js); err != nil {
		t.Fatal(err)
	}
	if js.Failures != 1 || !strings.Contains(string(raw), `<testcase name="m365_license_assignment.sellers"`) || !strings.Contains(string(raw), `type="unreadable"`) {
		t.Errorf("JUnit report:\n%s", raw)
	}
	// apply changes nothing and says it is not complete.
	stdout, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "--no-color", "apply", "--auto-approve")
	if code != ExitApplyPending || strings.Contains(stdout, "Apply complete!") || !strings.Contains(stdout, "1 could not be read") {
		t.Errorf("apply: exit %d, want %d\n%s\n%s", code, ExitApplyPending, stdout, stderr)
	}

	// Never deployed (fresh state): deferred, still not clean.
	if err := os.RemoveAll(filepath.Join(dir, ".c4sctl", "state.json")); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "--no-color", "drift")
	if code != 2 || !strings.Contains(stdout, "m365_license_assignment.sellers cannot be checked") {
		t.Errorf("drift of a misspelled group never deployed: exit %d, want 2\n%s\n%s", code, stdout, stderr)
	}
}

type junitTestsuites struct {
	XMLName  xml.Name `xml:"testsuites"`
	Failures int      `xml:"failures,attr"`
}

// validate refuses a configuration that says one thing twice, each with its file and line: a
// connector in two groups of one DLP policy, a key repeated in a map, the same app pinned twice.
func TestValidateRefusesWhatIsSaidTwice(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": `provider "teams" {}
provider "powerplatform" {}
provider "salesforce" {}

resource "teams_app_setup_policy" "global" {
  pinned_app_bar_apps = [
    { id = "a5bb5c3f-2b4a-4c5a-8b8e-000000000001", order = 1 },
    { id = "A5BB5C3F-2b4a-4c5a-8b8e-000000000001", order = 2 },
  ]
  app_preset_list = ["b1b0c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d", "B1B0C2D3-E4F5-4A6B-8C7D-9E0F1A2B3C4D"]
}

resource "powerplatform_dlp_policy" "p" {
  display_name        = "Sales"
  business_connectors = ["shared_salesforce", "shared_office365"]
  blocked_connectors  = ["Shared_Salesforce"]
}

resource "salesforce_permission_set" "ps" {
  name  = "Copilot"
  label = "Copilot"
  object_permissions = {
    Account = ["read"]
    Account = ["read", "edit"]
  }
  assignees = ["seller1@contoso.com", "Seller1@Contoso.com"]
}
`})
	_, stderr, code := runCLI(t, "--dir", dir, "--no-color", "validate")
	if code != 1 {
		t.Fatalf("validate exit %d, want 1\n%s", code, stderr)
	}
	for _, want := range []string{
		"main.c4s.hcl line 6", `app "A5BB5C3F-2b4a-4c5a-8b8e-000000000001" is pinned twice`,
		"main.c4s.hcl line 16", `Connector "Shared_Salesforce" is in both business_connectors and blocked_connectors`,
		"main.c4s.hcl line 24", `The key "Account" is set twice in this map (first on line 23)`,
		// Spellings the service treats as one: Teams app ids and Salesforce usernames ignore case.
		"main.c4s.hcl line 10", `App "B1B0C2D3-E4F5-4A6B-8C7D-9E0F1A2B3C4D" is named twice in app_preset_list`,
		"main.c4s.hcl line 26", `"seller1@contoso.com" and "Seller1@Contoso.com" in assignees are one value`,
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("validate output lacks %q:\n%s", want, stderr)
		}
	}
}

// A provider that panics during apply fails that resource alone: the CLI reports the panic as
// its error, saves the changes made beside it, and releases the state lock.
func TestPanicInProviderSavesStateAndReleasesTheLock(t *testing.T) {
	mem := providertest.NewMemory()
	mem.PanicApply["boom"] = true
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": `
resource "mem_setting" "boom" {
  identity = "boom"
}
resource "mem_setting" "fine" {
  identity = "fine"
}
`})
	stdout, stderr, code := runCLIWith(t, &Globals{extraProviders: []providers.Provider{mem}}, "--dir", dir, "--no-color", "apply", "--auto-approve")
	if code != 1 || !strings.Contains(stderr, "mem_setting.boom: internal error (panic in") || !strings.Contains(stdout, "1 made, 1 failed") || strings.Contains(stdout, "Apply complete!") {
		t.Fatalf("apply: exit %d\n%s\n%s", code, stdout, stderr)
	}
	list, _, _ := runCLIWith(t, &Globals{extraProviders: []providers.Provider{mem}}, "--dir", dir, "state", "list")
	if strings.TrimSpace(list) != "mem_setting.fine" {
		t.Errorf("state holds %q, want the change made beside the panic", list)
	}
	g := &Globals{Dir: dir, extraProviders: []providers.Provider{mem}}
	b, err := g.Backend()
	if err != nil {
		t.Fatal(err)
	}
	unlock, err := b.Lock("test", "test")
	if err != nil {
		t.Fatalf("the lock was not released: %v", err)
	}
	_ = unlock()
}

const appFor = `
provider "microsoft365" {}

resource "m365_integrated_app" "copilot_for_sales" {
  groups = ["%s"]
}
`

// The same for the Outlook add-in's deployment: a group of its configuration that is not in the
// tenant (renamed, deleted, misspelled) makes it "could not be read" once deployed, deferred
// before; it does not stop plan and drift with an error that checks nothing else and writes no
// report.
func TestIntegratedAppWithoutItsGroupIsNotClean(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": strings.Replace(appFor, "%s", "Sellers", 1) + strings.Replace(licenseFor, "%s", "Sellers", 1)[len("\nprovider \"microsoft365\" {}\n"):]})
	if stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--no-color", "apply", "--auto-approve"); code != 0 {
		t.Fatalf("apply: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.c4s.hcl"), []byte(strings.Replace(appFor, "%s", "Selers", 1)+strings.Replace(licenseFor, "%s", "Sellers", 1)[len("\nprovider \"microsoft365\" {}\n"):]), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--no-color", "plan", "--detailed-exitcode")
	if code != 2 || strings.Contains(stdout, "No changes") || !strings.Contains(stdout, "# m365_integrated_app.copilot_for_sales could not be read:") ||
		!strings.Contains(stdout, `group "Selers" no longer exists`) || !strings.Contains(stdout, "1 could not be read") {
		t.Errorf("plan: exit %d, want 2 naming the resource\n%s\n%s", code, stdout, stderr)
	}
	junit := filepath.Join(dir, "drift.xml")
	stdout, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "--no-color", "drift", "--report", "junit="+junit)
	if code != 2 || !strings.Contains(stdout, "m365_integrated_app.copilot_for_sales could not be read") || !strings.Contains(stdout, "1 of 2 resource(s)") {
		t.Errorf("drift: exit %d, want 2 with the licence still checked\n%s\n%s", code, stdout, stderr)
	}
	raw, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	var js junitTestsuites
	if err := xml.Unmarshal(raw, &js); err != nil {
		t.Fatal(err)
	}
	if js.Failures != 1 || !strings.Contains(string(raw), `<testcase name="m365_integrated_app.copilot_for_sales"`) || !strings.Contains(string(raw), `type="unreadable"`) {
		t.Errorf("JUnit report:\n%s", raw)
	}
	// Never deployed: deferred, still not clean.
	if err := os.RemoveAll(filepath.Join(dir, ".c4sctl", "state.json")); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "--no-color", "plan", "--detailed-exitcode")
	if code != 2 || !strings.Contains(stdout, `group "Selers" does not exist in the tenant yet`) {
		t.Errorf("plan of a misspelled group never deployed: exit %d, want 2\n%s\n%s", code, stdout, stderr)
	}
}

// The quickstart on a fresh sandbox, the README's first GitOps steps: the connected app is not
// installed yet (a manual step, with no id): nothing is adopted for it, so the plan neither says
// "imported from """ nor counts it as an import, and `show` reads the saved plan back (it refused
// "importing names id """).
func TestQuickstartSavedPlanShowsWithoutAnEmptyImport(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	b, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "examples", "quickstart", "main.c4s.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": string(b)})
	planFile := filepath.Join(dir, "plan.bin")
	stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--no-color", "plan", "--out", planFile)
	if code != 0 || strings.Contains(stdout, `imported from ""`) || !strings.Contains(stdout, "Plan: 3 to import,") {
		t.Fatalf("plan: exit %d\n%s\n%s", code, stdout, stderr)
	}
	stdout, stderr, code = runCLI(t, "--dir", dir, "--no-color", "show", planFile)
	if code != 0 || !strings.Contains(stdout, "salesforce_connected_app.power_platform needs a manual change") {
		t.Fatalf("show: exit %d\n%s\n%s", code, stdout, stderr)
	}
	stdout, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "--no-color", "apply", planFile)
	if code != ExitApplyPending || !strings.Contains(stdout, "3 imported") || strings.Contains(stdout, "imported:          powerplatform_dlp_connector_rule.salesforce, salesforce_connected_app") {
		t.Fatalf("apply: exit %d\n%s\n%s", code, stdout, stderr)
	}
}

// Renaming a permission set (its name attribute, same address) that the connected app names by
// reference: plan let the app name the new name (the rename makes it exist as a create does; it
// refused "the org has no permission set"), and apply renames the set (PermissionSet.Name is
// updateable; the update left Name out and failed "the change did not stick").
func TestPermissionSetRenameWithTheConnectedApp(t *testing.T) {
	const cfg = `
provider "salesforce" {}

resource "salesforce_permission_set" "copilot" {
  name        = "%s"
  api_enabled = true
}

resource "salesforce_connected_app" "power_platform" {
  name            = "Microsoft Power Platform"
  permission_sets = [salesforce_permission_set.copilot.name]
}
`
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": strings.Replace(cfg, "%s", "Copilot_for_Sales_Users", 1)})
	if stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--no-color", "sandbox", "salesforce", "install-app"); code != 0 {
		t.Fatalf("install-app: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--no-color", "apply", "--auto-approve"); code != 0 {
		t.Fatalf("apply: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.c4s.hcl"), []byte(strings.Replace(cfg, "%s", "Copilot_Sellers", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--no-color", "apply", "--auto-approve")
	if code != 0 || !strings.Contains(stdout, "0 added, 2 changed, 0 destroyed") {
		t.Fatalf("apply of the rename: exit %d\n%s\n%s", code, stdout, stderr)
	}
	stdout, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "--no-color", "drift")
	if code != 0 || !strings.Contains(stdout, "No drift") {
		t.Fatalf("drift after the rename: exit %d\n%s\n%s", code, stdout, stderr)
	}
}
