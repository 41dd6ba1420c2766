package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// pairs are two blocks of each resource type that the service treats as one object (spellings it
// accepts for the same object), and a connector rule acting on a DLP policy another block owns.
var pairs = []struct {
	typ, a, b string
}{
	{"teams_meeting_policy", `identity = "Global"`, `identity = " global"`},
	{"teams_meeting_policy", `identity = "AllOn"`, `identity = "Tag:allon"`},
	{"teams_app_setup_policy", `identity = "Global"`, `identity = "GLOBAL"`},
	{"salesforce_permission_set", `name = "Copilot_Users"`, `name = "copilot_users"`},
	{"salesforce_connected_app", `name = "Microsoft Power Platform"`, `name = "microsoft power platform"`},
	{"powerplatform_dlp_policy", `display_name = "Contoso tenant-wide baseline"`, `display_name = "CONTOSO tenant-wide baseline"`},
	{"powerplatform_dlp_connector_rule", `environment = "msdyn_viva"`, `environment = "MSDYN_VIVA"`},
	{"dataverse_environment_admins", "environment = \"msdyn_viva\"\n  principals = []", "environment = \"Msdyn_Viva\"\n  principals = []"},
	{"copilot_for_sales_settings", `environment = "msdyn_viva"`, `environment = "MSDYN_viva "`},
	{"m365_license_assignment", `group_name = "Sellers"`, `group_name = "sellers"`},
	{"m365_integrated_app", `display_name = "Copilot for Sales"`, `display_name = "copilot for sales"`},
}

// Every resource type refuses two blocks for one object at plan, naming both with file:line.
func TestTwoBlocksForOneObjectRefusedForEachType(t *testing.T) {
	dir := t.TempDir()
	if _, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "sandbox", "sign-in", "seller@contoso.example"); code != 0 {
		t.Fatalf("sign-in: %s", stderr) // creates msdyn_viva, so that the DLP rule can be read
	}
	var b strings.Builder
	line := 1
	type decl struct{ a, b string }
	var want []decl
	for i, p := range pairs {
		la := line
		fmt.Fprintf(&b, "resource %q \"a%d\" {\n  %s\n}\n", p.typ, i, p.a)
		line += 3 + strings.Count(p.a, "\n")
		lb := line
		fmt.Fprintf(&b, "resource %q \"b%d\" {\n  %s\n}\n", p.typ, i, p.b)
		line += 3 + strings.Count(p.b, "\n")
		want = append(want, decl{fmt.Sprintf("%s.a%d (main.c4s.hcl:%d)", p.typ, i, la), fmt.Sprintf("%s.b%d (main.c4s.hcl:%d)", p.typ, i, lb)})
	}
	// A rule edits the connector's group in every policy that applies to msdyn_viva, among them
	// the tenant-wide baseline, which this block owns whole.
	fmt.Fprintf(&b, "resource \"powerplatform_dlp_connector_rule\" \"rule\" {\n  environment = \"msdyn_viva\"\n  connector = \"shared_office365\"\n}\n")
	fmt.Fprintf(&b, "resource \"powerplatform_dlp_policy\" \"owned\" {\n  display_name = \"Contoso tenant-wide baseline\"\n}\n")
	writeFile(t, dir, "main.c4s.hcl", b.String())

	stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--no-color", "plan")
	if code != 1 {
		t.Fatalf("plan exit %d, want 1\n%s\n%s", code, stdout, stderr)
	}
	all := strings.Join(strings.Fields(stderr), " ") // diagnostics are wrapped to the terminal's width
	for i, w := range want {
		if !strings.Contains(all, w.a+" and "+w.b+" both stand for") {
			t.Errorf("%s: %s %q and %q are not refused as one object", pairs[i].typ, w.a, pairs[i].a, pairs[i].b)
		}
	}
	for _, w := range []string{`powerplatform_dlp_connector_rule.rule (main.c4s.hcl:`, `acts on DLP policy "Contoso tenant-wide baseline", which powerplatform_dlp_policy.owned (main.c4s.hcl:`} {
		if !strings.Contains(all, w) {
			t.Errorf("rule plus owned policy: diagnostics lack %q", w)
		}
	}
	if t.Failed() {
		t.Logf("stderr:\n%s", stderr)
	}
	if strings.Contains(stdout, "Plan:") {
		t.Errorf("a refused plan printed a summary:\n%s", stdout)
	}
}

const permsetV1 = `
provider "salesforce" {}

resource "salesforce_permission_set" "copilot" {
  name        = "Copilot_Rename_Test"
  api_enabled = true
  assignees   = ["seller001@contoso-sandbox.example"]
}
`

// Renaming a block: without moved, plan refuses ("looks like a move") instead of destroying the
// permission set and its assignments; with moved, plan and apply only move it in state.
func TestRenameWithoutAndWithMovedOnTheSandbox(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": permsetV1})
	if stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--no-color", "apply", "--auto-approve"); code != 0 {
		t.Fatalf("apply: %d\n%s\n%s", code, stdout, stderr)
	}
	renamed := strings.Replace(permsetV1, `"copilot"`, `"sellers"`, 1)
	writeFile(t, dir, "main.c4s.hcl", renamed)
	stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--no-color", "plan")
	if code != 1 || !strings.Contains(stderr, "Looks like a move") || !strings.Contains(stderr, "from = salesforce_permission_set.copilot") ||
		!strings.Contains(stderr, "c4sctl state rm salesforce_permission_set.copilot") {
		t.Fatalf("rename without moved: exit %d\n%s\n%s", code, stdout, stderr)
	}
	// apply refuses the same way: nothing destroyed.
	if _, _, code := runCLI(t, "--dir", dir, "--sandbox", "--no-color", "apply", "--auto-approve"); code != 1 {
		t.Fatalf("apply of a rename without moved: exit %d", code)
	}

	writeFile(t, dir, "main.c4s.hcl", renamed+`
moved {
  from = salesforce_permission_set.copilot
  to   = salesforce_permission_set.sellers
}
`)
	stdout, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "--no-color", "plan", "--detailed-exitcode")
	if code != 2 || !strings.Contains(stdout, "# salesforce_permission_set.copilot has moved to salesforce_permission_set.sellers") ||
		!strings.Contains(stdout, "Plan: 0 to add, 0 to change, 0 to destroy.\nAlso: 1 moved to a new address.") {
		t.Fatalf("rename with moved: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if stdout, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "--no-color", "apply", "--auto-approve"); code != 0 {
		t.Fatalf("apply with moved: %d\n%s\n%s", code, stdout, stderr)
	}
	if out, _, _ := runCLI(t, "--dir", dir, "state", "list"); strings.TrimSpace(out) != "salesforce_permission_set.sellers" {
		t.Errorf("state after the move: %q", out)
	}
	stdout, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "--no-color", "plan", "--detailed-exitcode")
	if code != 0 || !strings.Contains(stdout, "No changes (sandbox — not a real tenant).") {
		t.Fatalf("plan after the move: exit %d\n%s\n%s", code, stdout, stderr)
	}

	// state mv by hand does the same, and refuses an occupied or empty address.
	writeFile(t, dir, "main.c4s.hcl", permsetV1)
	if out, stderr, code := runCLI(t, "--dir", dir, "state", "mv", "salesforce_permission_set.sellers", "salesforce_permission_set.copilot"); code != 0 || !strings.Contains(out, "Successfully moved 1 object.") {
		t.Fatalf("state mv: %d %s %s", code, out, stderr)
	}
	if _, stderr, code := runCLI(t, "--dir", dir, "state", "mv", "salesforce_permission_set.sellers", "salesforce_permission_set.copilot"); code != 1 || !strings.Contains(stderr, "state holds no object at salesforce_permission_set.sellers") {
		t.Errorf("state mv of an empty address: %d %s", code, stderr)
	}
	if _, stderr, code := runCLI(t, "--dir", dir, "state", "mv", "salesforce_permission_set.copilot", "teams_meeting_policy.copilot"); code != 1 || !strings.Contains(stderr, "keeps its resource type") {
		t.Errorf("state mv to another type: %d %s", code, stderr)
	}
	stdout, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "--no-color", "plan", "--detailed-exitcode")
	if code != 0 || !strings.Contains(stdout, "No changes (sandbox — not a real tenant).") {
		t.Fatalf("plan after state mv: exit %d\n%s\n%s", code, stdout, stderr)
	}
}

// import looks the object up by the ID given: an ID naming no object, or another object than the
// configuration describes, is refused and nothing is written.
func TestImportByAWrongIDRefused(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": transcription})
	for _, tc := range []struct{ id, want string }{
		{"Tag:NoSuchPolicy", `no teams_meeting_policy`},
		{"Tag:AllOn", "names another object than the configuration describes"},
	} {
		_, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "import", "teams_meeting_policy.global", tc.id)
		if code != 1 || !strings.Contains(stderr, tc.want) || !strings.Contains(stderr, "nothing was imported") {
			t.Errorf("import %s: exit %d\n%s", tc.id, code, stderr)
		}
		if out, _, _ := runCLI(t, "--dir", dir, "state", "list"); strings.TrimSpace(out) != "" {
			t.Fatalf("a refused import wrote state: %q", out)
		}
	}
	stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "import", "teams_meeting_policy.global", "global")
	if code != 0 || !strings.Contains(stdout, "Import complete [id=Global]") {
		t.Fatalf("import of the right object in another spelling: exit %d\n%s\n%s", code, stdout, stderr)
	}
}

func writeFile(t *testing.T, dir, name, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Once step 5 is done, export writes the DLP policies and would write the connector rule that
// edits them: it leaves the rule out, so that the export never holds a pair plan refuses.
func TestExportNeverWritesARuleAndThePolicyItEdits(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": `
provider "powerplatform" {}

resource "powerplatform_dlp_connector_rule" "salesforce" {
  environment = "msdyn_viva"
  connector   = "shared_salesforce"
}
`})
	if _, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "sandbox", "sign-in", "seller@contoso.example"); code != 0 {
		t.Fatalf("sign-in: %s", stderr)
	}
	if stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--no-color", "apply", "--auto-approve"); code != 0 {
		t.Fatalf("apply of the rule: %d\n%s\n%s", code, stdout, stderr)
	}
	out := t.TempDir()
	stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "export", "--provider", "powerplatform", "--out", out)
	if code != 0 {
		t.Fatalf("export: %d\n%s\n%s", code, stdout, stderr)
	}
	hcl := readExport(t, out)
	if strings.Contains(hcl, `resource "powerplatform_dlp_connector_rule"`) || !strings.Contains(hcl, `resource "powerplatform_dlp_policy"`) ||
		!strings.Contains(strings.Join(strings.Fields(hcl), " "), "owns whole, and each apply would undo the other's changes") {
		t.Fatalf("export writes the rule beside the policies it edits:\n%s", hcl)
	}
	copyDir(t, filepath.Join(dir, ".c4sctl", "sandbox"), filepath.Join(out, ".c4sctl", "sandbox"))
	importThenNoChanges(t, out)
}

const literalName = `
provider "salesforce" {}

resource "salesforce_connected_app" "power_platform" {
  permitted_users = "admin_approved_preauthorized"
  permission_sets = ["Copilot_Literal_Users"]
}

resource "salesforce_permission_set" "copilot" {
  name        = "Copilot_Literal_Users"
  api_enabled = true
}
`

// The connected app names, by literal string, the permission set the same plan creates: 20 fresh
// applies each create the permission set before the app's policies name it, and plan suggests
// the reference.
func TestLiteralNameOrderedAcross20FreshApplies(t *testing.T) {
	for i := 0; i < 20; i++ {
		dir := writeConfig(t, map[string]string{"main.c4s.hcl": literalName})
		if _, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "sandbox", "salesforce", "install-app"); code != 0 {
			t.Fatalf("run %d: install-app: %s", i, stderr)
		}
		stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--no-color", "apply", "--auto-approve")
		if code != 0 {
			t.Fatalf("run %d: apply exit %d\n%s\n%s", i, code, stdout, stderr)
		}
		created := strings.Index(stdout, "salesforce_permission_set.copilot: Creation complete")
		started := strings.Index(stdout, "salesforce_connected_app.power_platform: Modifying...")
		if created < 0 || started < 0 || started < created {
			t.Fatalf("run %d: the connected app was changed before the permission set it names was created:\n%s", i, stdout)
		}
		if i == 0 && !strings.Contains(strings.Join(strings.Fields(stdout), " "), `permission_sets names permission set "Copilot_Literal_Users" by a literal string, and salesforce_permission_set.copilot creates it in this plan: apply creates it first. Write salesforce_permission_set.copilot.name there instead`) {
			t.Errorf("the plan does not suggest the reference:\n%s", stdout)
		}
	}
}

// import reads the object from the target it signs in to and writes it into state: a state that
// belongs to another target (here a real tenant, imported into with --sandbox) is refused naming
// both, and nothing is written; an import into this target's state records where it signed in.
func TestImportRefusesStateOfAnotherTarget(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": transcription})
	stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "import", "teams_meeting_policy.global", "Global")
	if code != 0 {
		t.Fatalf("import on the sandbox: exit %d\n%s\n%s", code, stdout, stderr)
	}
	path := filepath.Join(dir, ".c4sctl", "state.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"targets"`) {
		t.Fatalf("import did not record its target in state:\n%s", b)
	}
	// The same state, as if a real tenant's run had written it.
	real := strings.ReplaceAll(string(b), `"sandbox": "true"`, `"sandbox": "false"`)
	if real == string(b) {
		t.Fatalf("state does not say it is the sandbox's:\n%s", b)
	}
	if err := os.WriteFile(path, []byte(real), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, code := runCLI(t, "--dir", dir, "state", "rm", "teams_meeting_policy.global"); code != 0 {
		t.Fatal("state rm failed")
	}
	before, _ := os.ReadFile(path)
	_, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "import", "teams_meeting_policy.global", "Global")
	if code != 1 || !strings.Contains(stderr, "another target") || !strings.Contains(stderr, "sandbox: false, now true") {
		t.Fatalf("import into a real tenant's state with --sandbox: exit %d, want a refusal naming both\n%s", code, stderr)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Errorf("a refused import wrote state:\n%s", after)
	}
}
