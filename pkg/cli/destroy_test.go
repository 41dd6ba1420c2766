package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclwrite"
)

const destroyConfig = transcription + `
resource "teams_meeting_policy" "sellers" {
  identity            = "Sellers"
  allow_transcription = true
}

output "sellers" { value = teams_meeting_policy.sellers.identity }
`

// destroy deletes what can be deleted (the Sellers policy is gone from the sandbox: the next plan
// creates it again), stops managing the Global policy (removed from state, left as it is), and
// is planned by plan --destroy without changing anything.
func TestDestroyThroughTheSandbox(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": destroyConfig})
	if stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--no-color", "apply", "--auto-approve"); code != 0 {
		t.Fatalf("apply exit %d\n%s\n%s", code, stdout, stderr)
	}

	stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--no-color", "plan", "--destroy", "--detailed-exitcode")
	if code != 2 {
		t.Fatalf("plan --destroy exit %d, want 2\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{
		"# teams_meeting_policy.sellers will be destroyed",
		"teams_meeting_policy.global",
		"the Global meeting policy cannot be deleted; c4sctl stops managing it",
		"0 to add, 0 to change, 1 to destroy.",
		"1 to stop managing",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("plan --destroy lacks %q:\n%s", want, stdout)
		}
	}
	if out, _, _ := runCLI(t, "--dir", dir, "state", "list"); out != "teams_meeting_policy.global\nteams_meeting_policy.sellers\n" {
		t.Fatalf("plan --destroy changed state: %q", out)
	}

	_, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "destroy")
	if code != 1 || !strings.Contains(stderr, "destroy needs approval") {
		t.Fatalf("destroy without --auto-approve and no terminal: exit %d %s", code, stderr)
	}
	if out, _, _ := runCLI(t, "--dir", dir, "state", "list"); !strings.Contains(out, "sellers") {
		t.Fatalf("unapproved destroy changed state: %q", out)
	}

	stdout, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "--no-color", "destroy", "--auto-approve")
	if code != 0 || !strings.Contains(stdout, "Destroy complete! Resources: 1 destroyed. 1 removed from state and left as they are") {
		t.Fatalf("destroy exit %d\n%s\n%s", code, stdout, stderr)
	}
	if out, _, _ := runCLI(t, "--dir", dir, "state", "list"); out != "" {
		t.Fatalf("state after destroy: %q", out)
	}
	if _, stderr, _ := runCLI(t, "--dir", dir, "output"); !strings.Contains(stderr, "No outputs found") {
		t.Errorf("outputs remain after destroy: %s", stderr)
	}

	// The Sellers policy is gone from the sandbox, the Global one is still there (adopted again).
	stdout, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "--no-color", "plan")
	if code != 0 || !strings.Contains(stdout, "# teams_meeting_policy.sellers will be created") || strings.Contains(stdout, "# teams_meeting_policy.global will be created") {
		t.Fatalf("plan after destroy: exit %d\n%s\n%s", code, stdout, stderr)
	}

	stdout, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "--no-color", "destroy")
	if code != 0 || !strings.Contains(stdout, "No objects need to be destroyed") {
		t.Fatalf("destroy of an empty state: exit %d\n%s\n%s", code, stdout, stderr)
	}
	_, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "plan", "--destroy", "--target", "teams_meeting_policy.sellers")
	if code != 1 || !strings.Contains(stderr, "destroy cannot be combined with --target") {
		t.Errorf("plan --destroy --target: exit %d %s", code, stderr)
	}
}

// A saved destroy plan applies as a destroy (the plan file keeps the mode).
func TestSavedDestroyPlanApplies(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": destroyConfig})
	if stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "apply", "--auto-approve"); code != 0 {
		t.Fatalf("apply exit %d\n%s\n%s", code, stdout, stderr)
	}
	pf := filepath.Join(dir, "destroy.plan")
	if stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "plan", "--destroy", "--out", pf); code != 0 {
		t.Fatalf("plan --destroy --out exit %d\n%s\n%s", code, stdout, stderr)
	}
	stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--no-color", "apply", pf)
	if code != 0 || !strings.Contains(stdout, "Destroy complete! Resources: 1 destroyed.") {
		t.Fatalf("apply of the saved destroy plan: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if out, _, _ := runCLI(t, "--dir", dir, "state", "list"); out != "" {
		t.Fatalf("state after the saved destroy: %q", out)
	}
}

// allTypesPolicy adds the one resource type the quickstart lacks. Not applied to msdyn_viva,
// where the quickstart's connector rule edits every policy (plan refuses a rule and a policy
// block that would both manage one policy).
const allTypesPolicy = `
resource "powerplatform_dlp_policy" "other" {
  display_name        = "c4sctl orphan test"
  environment_type    = "ExceptEnvironments"
  environments        = ["msdyn_viva"]
  business_connectors = ["shared_salesforce", "shared_office365"]
}
`

// deployFullQuickstart applies the quickstart (with allTypesPolicy) to an in-process sandbox in
// a fresh directory, doing the guide's manual steps in between as `make demo` does, until plan
// is clean: every block has its object in state. The seed holds Copilot for Sales settings of
// two Salesforce orgs and more than one Dataverse environment, so an object located by defaults
// rather than by what state recorded is ambiguous.
func deployFullQuickstart(t *testing.T) (dir, hcl string) {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	b, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "examples", "quickstart", "main.c4s.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	dir = writeConfig(t, map[string]string{"main.c4s.hcl": string(b)})
	run := func(ok []int, args ...string) {
		t.Helper()
		stdout, stderr, code := runCLI(t, append([]string{"--dir", dir, "--sandbox", "--no-color"}, args...)...)
		if !slices.Contains(ok, code) {
			t.Fatalf("%v: exit %d, want %v\n%s\n%s", args, code, ok, stdout, stderr)
		}
	}
	run([]int{0, 4}, "apply", "--auto-approve")
	run([]int{0}, "sandbox", "salesforce", "install-app")
	run([]int{0}, "sandbox", "sign-in", "seller@contoso-sandbox.onmicrosoft.com")
	run([]int{0}, "sandbox", "dataverse", "add-app-user")
	// The policy names msdyn_viva, which the seller's sign-in has just created.
	hcl = string(b) + allTypesPolicy
	if err := os.WriteFile(filepath.Join(dir, "main.c4s.hcl"), []byte(hcl), 0o644); err != nil {
		t.Fatal(err)
	}
	run([]int{0}, "apply", "--auto-approve")
	run([]int{0}, "plan", "--detailed-exitcode")
	return dir, hcl
}

// copyDeployment copies a deployed directory (configuration, state, the sandbox's data) so that
// each case starts from the same deployment without applying it again.
func copyDeployment(t *testing.T, from string) string {
	t.Helper()
	to := t.TempDir()
	if err := os.CopyFS(to, os.DirFS(from)); err != nil {
		t.Fatal(err)
	}
	_ = os.Remove(filepath.Join(to, ".c4sctl", "sandbox", "lock"))
	return to
}

// withoutBlocks removes the resource blocks at addrs from an HCL file.
func withoutBlocks(t *testing.T, src string, addrs ...string) string {
	t.Helper()
	f, diags := hclwrite.ParseConfig([]byte(src), "main.c4s.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	for _, a := range addrs {
		typ, name, _ := strings.Cut(a, ".")
		blk := f.Body().FirstMatchingBlock("resource", []string{typ, name})
		if blk == nil {
			t.Fatalf("no block %s", a)
		}
		f.Body().RemoveBlock(blk)
	}
	return string(f.Bytes())
}

// An orphan (an object in state whose block is gone) is read from what state recorded about it,
// for every resource type: with its block removed from the deployed quickstart, plan reads it
// (never "could not be read") and plans what the type's rule says: destroyed, or, for objects
// that cannot be deleted, no longer managed. Every registered resource type is in the table.
func TestOrphanOfEveryTypeIsReadFromState(t *testing.T) {
	if testing.Short() {
		t.Skip("deploys the whole quickstart")
	}
	const (
		destroyed = "will be destroyed"
		forgotten = "will no longer be managed"
	)
	cases := []struct {
		remove []string          // the blocks removed: the address and its dependents
		want   map[string]string // each one's planned action
	}{
		{[]string{"teams_meeting_policy.global"}, map[string]string{"teams_meeting_policy.global": forgotten}},
		{[]string{"teams_app_setup_policy.global"}, map[string]string{"teams_app_setup_policy.global": forgotten}},
		{[]string{"powerplatform_dlp_connector_rule.salesforce"}, map[string]string{"powerplatform_dlp_connector_rule.salesforce": forgotten}},
		{[]string{"powerplatform_dlp_policy.other"}, map[string]string{"powerplatform_dlp_policy.other": destroyed}},
		{[]string{"dataverse_environment_admins.viva"}, map[string]string{"dataverse_environment_admins.viva": forgotten}},
		{[]string{"copilot_for_sales_settings.viva"}, map[string]string{"copilot_for_sales_settings.viva": forgotten}},
		{[]string{"salesforce_connected_app.power_platform"}, map[string]string{"salesforce_connected_app.power_platform": forgotten}},
		{[]string{"salesforce_permission_set.copilot", "salesforce_connected_app.power_platform"}, map[string]string{"salesforce_permission_set.copilot": destroyed, "salesforce_connected_app.power_platform": forgotten}},
		{[]string{"m365_license_assignment.sellers"}, map[string]string{"m365_license_assignment.sellers": destroyed}},
		{[]string{"m365_integrated_app.copilot_for_sales"}, map[string]string{"m365_integrated_app.copilot_for_sales": destroyed}},
	}
	covered := map[string]bool{}
	for _, c := range cases {
		for a := range c.want {
			covered[strings.SplitN(a, ".", 2)[0]] = true
		}
	}
	for _, typ := range providers.NewRegistry(builtinProviders()...).ResourceTypes() {
		if !strings.HasPrefix(typ, "data.") && !covered[typ] {
			t.Errorf("resource type %s has no case: add its block to the deployment and a case here", typ)
		}
	}

	deployed, src := deployFullQuickstart(t)
	for _, c := range cases {
		t.Run(c.remove[0], func(t *testing.T) {
			dir := copyDeployment(t, deployed)
			if err := os.WriteFile(filepath.Join(dir, "main.c4s.hcl"), []byte(withoutBlocks(t, src, c.remove...)), 0o644); err != nil {
				t.Fatal(err)
			}
			stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--no-color", "plan", "--detailed-exitcode")
			if code != 2 || strings.Contains(stdout+stderr, "could not be read") || strings.Contains(stderr, "Error") {
				t.Fatalf("plan exit %d, want 2 without errors\n%s\n%s", code, stdout, stderr)
			}
			var changes []string
			for _, l := range strings.Split(stdout, "\n") {
				if strings.HasPrefix(l, "  # ") && strings.Contains(l, " will ") { // not a no-op's warnings
					changes = append(changes, strings.TrimPrefix(l, "  # "))
				}
			}
			var want []string
			for a, w := range c.want {
				want = append(want, a+" "+w)
			}
			slices.Sort(want)
			slices.Sort(changes)
			if !slices.Equal(changes, want) {
				t.Fatalf("planned %q, want %q\n%s", changes, want, stdout)
			}
		})
	}
}

// destroy of the whole deployed quickstart (every resource type, two Salesforce orgs' Copilot
// for Sales settings in msdyn_viva) completes: every object is read from what state recorded,
// deleted or no longer managed, exit 0; a plan --destroy afterwards has nothing to do.
func TestDestroyFullQuickstart(t *testing.T) {
	if testing.Short() {
		t.Skip("deploys the whole quickstart")
	}
	dir, _ := deployFullQuickstart(t)
	stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--no-color", "destroy", "--auto-approve")
	if code != 0 || !strings.Contains(stdout, "Destroy complete! Resources: 4 destroyed. 6 removed from state and left as they are") || strings.Contains(stdout+stderr, "could not be read") {
		t.Fatalf("destroy exit %d, want 0 and Destroy complete\n%s\n%s", code, stdout, stderr)
	}
	if out, _, _ := runCLI(t, "--dir", dir, "state", "list"); out != "" {
		t.Fatalf("state after destroy: %q", out)
	}
	stdout, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "--no-color", "plan", "--destroy", "--detailed-exitcode")
	if code != 0 || !strings.Contains(stdout, "No objects need to be destroyed") {
		t.Fatalf("plan --destroy after destroy: exit %d, want 0 and nothing to do\n%s\n%s", code, stdout, stderr)
	}
}

// destroy's verdict counts an object that no longer existed (the connected app the guide has the
// admin install by hand, never installed) apart from those left in place: "left as they are
// (they cannot be deleted)" is untrue of it.
func TestDestroyCountsObjectsAlreadyGoneApart(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	b, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "examples", "quickstart", "main.c4s.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": string(b)})
	if stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--no-color", "apply", "--auto-approve"); code != ExitApplyPending {
		t.Fatalf("apply exit %d, want %d (the connected app is a manual step)\n%s\n%s", code, ExitApplyPending, stdout, stderr)
	}
	stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--no-color", "destroy", "--auto-approve")
	if code != 0 || !strings.Contains(stdout, "Destroy complete! Resources: 3 destroyed. 3 removed from state and left as they are (they cannot be deleted). 1 removed from state (they no longer existed).") {
		t.Fatalf("destroy exit %d\n%s\n%s", code, stdout, stderr)
	}
}

// An orphan whose recorded attributes do not say its target (state edited by hand, or written
// before the target was recorded) is still read by its id, as before orphans were read from
// state: a licence assignment whose state lacks group_id and group_name plans its destroy, not
// "could not be read".
func TestOrphanLicenceWithoutTargetInStateIsReadByID(t *testing.T) {
	if testing.Short() {
		t.Skip("deploys the whole quickstart")
	}
	deployed, src := deployFullQuickstart(t)
	dir := copyDeployment(t, deployed)
	path := filepath.Join(dir, ".c4sctl", "state.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var st map[string]any
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	for _, r := range st["resources"].([]any) {
		if r := r.(map[string]any); r["type"] == "m365_license_assignment" {
			attrs := r["attributes"].(map[string]any)
			delete(attrs, "group_id")
			delete(attrs, "group_name")
		}
	}
	if b, err = json.Marshal(st); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.c4s.hcl"), []byte(withoutBlocks(t, src, "m365_license_assignment.sellers")), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--no-color", "plan", "--detailed-exitcode")
	if code != 2 || strings.Contains(stdout+stderr, "could not be read") || !strings.Contains(stdout, "m365_license_assignment.sellers will be destroyed") {
		t.Fatalf("plan exit %d, want 2 destroying the licence assignment\n%s\n%s", code, stdout, stderr)
	}
	if stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--no-color", "apply", "--auto-approve"); code != 0 {
		t.Fatalf("apply exit %d\n%s\n%s", code, stdout, stderr)
	}
}
