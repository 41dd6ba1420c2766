package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/c4sctl/c4sctl/pkg/sandbox"
	"github.com/c4sctl/c4sctl/pkg/sandbox/graphapi"
)

const coverageBase = `
provider "teams" {}
provider "microsoft365" {}

resource "m365_license_assignment" "sellers" {
  group_name = "Sellers"
}

resource "teams_meeting_policy" "global" {
  identity            = "Global"
  allow_transcription = true
}
`

const coverageSellersPolicy = `
resource "teams_meeting_policy" "sellers" {
  identity            = "Sellers"
  allow_transcription = true
  groups              = [{ group_id = "` + graphapi.SellersGroupID + `", rank = 1 }]
}
`

// Issue 16's first "Done when": an admin assigns AllOff to Sellers by hand; plan and drift are
// not green and name the sellers' policy; a named meeting policy for Sellers fixes it.
func TestSellerCoverageAfterAnAssignmentByHand(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": coverageBase})
	if _, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "apply", "--auto-approve"); code != 0 {
		t.Fatalf("apply: %d %s", code, stderr)
	}
	stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--no-color", "plan", "--detailed-exitcode")
	if code != 0 || !strings.Contains(stdout, "200 seller(s), 0 not covered") || !strings.Contains(stdout, "No changes (sandbox — not a real tenant).") {
		t.Fatalf("plan after apply: exit %d\n%s%s", code, stdout, stderr)
	}

	stdout, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "sandbox", "teams", "assign", "TeamsMeetingPolicy", "AllOff", "--group", "Sellers", "--rank", "1")
	if code != 0 || !strings.Contains(stdout, "AllOff assigned to group Sellers") || !strings.Contains(stdout, "rank 1") {
		t.Fatalf("sandbox teams assign: %d\n%s%s", code, stdout, stderr)
	}
	stdout, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "--no-color", "plan", "--detailed-exitcode")
	if code != 2 {
		t.Fatalf("plan with sellers on AllOff: exit %d, want 2\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{"200 seller(s), 200 not covered", "200 NOT covered: meeting policy AllOff through group Sellers (rank 1) (transcription OFF)", "200 seller(s) not covered"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("plan lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "No changes.") {
		t.Errorf("plan says No changes with uncovered sellers:\n%s", stdout)
	}
	stdout, _, code = runCLI(t, "--dir", dir, "--sandbox", "--no-color", "drift")
	if code != 2 || !strings.Contains(stdout, "200 NOT covered: meeting policy AllOff") || strings.Contains(stdout, "No drift") {
		t.Fatalf("drift with sellers on AllOff: exit %d\n%s", code, stdout)
	}

	// The fix: a named meeting policy for Sellers, at rank 1 (it takes the group from AllOff).
	dir2 := dir
	writeFile(t, dir2, "main.c4s.hcl", coverageBase+coverageSellersPolicy)
	if stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "apply", "--auto-approve"); code != 0 {
		t.Fatalf("apply the Sellers policy: %d\n%s%s", code, stdout, stderr)
	}
	stdout, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "--no-color", "plan", "--detailed-exitcode")
	if code != 0 || !strings.Contains(stdout, "200 covered: meeting policy Sellers through group Sellers (rank 1) (transcription on)") || !strings.Contains(stdout, "No changes (sandbox — not a real tenant).") {
		t.Fatalf("plan after the fix: exit %d\n%s%s", code, stdout, stderr)
	}
	if _, _, code := runCLI(t, "--dir", dir, "--sandbox", "drift"); code != 0 {
		t.Fatalf("drift after the fix: exit %d", code)
	}
}

const coverageApp = `
resource "teams_app_setup_policy" "global" {
  identity        = "Global"
  app_preset_list = ["` + graphapi.SalesAppID + `"]
}

resource "m365_integrated_app" "c4s" {
  groups = ["Sellers"]
}
`

// Issue 16's second "Done when": with the app blocked for sellers (Teams admin center > Manage
// apps > Block), plan fails with the reason and the admin-centre steps; unblocked, it is clean.
func TestPlanFailsWhenTheAppIsBlockedForSellers(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": coverageBase + coverageApp})
	if stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "apply", "--auto-approve"); code != 0 {
		t.Fatalf("apply: %d\n%s%s", code, stdout, stderr)
	}
	stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--no-color", "plan", "--detailed-exitcode")
	if code != 0 || !strings.Contains(stdout, "200 seller(s), 0 not covered") || !strings.Contains(stdout, "installs the Copilot for Sales app") {
		t.Fatalf("plan after apply: exit %d\n%s%s", code, stdout, stderr)
	}
	stdout, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "sandbox", "teams", "block-app")
	if code != 0 || !strings.Contains(stdout, "blocked") {
		t.Fatalf("sandbox teams block-app: %d\n%s%s", code, stdout, stderr)
	}
	stdout, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "--no-color", "plan", "--detailed-exitcode")
	if code != 1 {
		t.Fatalf("plan with the app blocked: exit %d, want 1\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{"for 200 seller(s) of \"Sellers\"", "the app is blocked by an admin", "Teams admin center > Teams apps > Manage apps", "Allow (unblock the app)"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("plan error lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stdout, "No changes.") {
		t.Errorf("plan says No changes with the app blocked:\n%s", stdout)
	}
	// Sellers are in the group it is available to: unblocking is the only step.
	if strings.Contains(stderr, "Edit availability") {
		t.Errorf("plan asks to change an availability that already includes the sellers:\n%s", stderr)
	}
	if _, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "sandbox", "teams", "block-app", "--unblock"); code != 0 {
		t.Fatalf("unblock: %d %s", code, stderr)
	}
	// Available to no one but Sellers' availability is managed here: not covered, not an error.
	if _, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "sandbox", "teams", "block-app", "--unblock", "--available-to", "none"); code != 0 {
		t.Fatalf("available to none: %d %s", code, stderr)
	}
	stdout, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "--no-color", "plan", "--detailed-exitcode")
	if code != 2 || !strings.Contains(stdout, "200 seller(s), 200 not covered") || !strings.Contains(stdout, "available to no one") {
		t.Fatalf("plan with the app available to no one: exit %d\n%s%s", code, stdout, stderr)
	}
	// The note promises the m365_integrated_app change in this plan: the plan carries it (the
	// groups the package still lists are available to no one), and apply makes sellers covered.
	if !strings.Contains(stdout, "m365_integrated_app.c4s will be updated") {
		t.Errorf("plan counts the sellers as not covered until the m365_integrated_app change is applied, but has no such change:\n%s", stdout)
	}
	stdout, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "--no-color", "apply", "--auto-approve")
	if code != 0 || strings.Contains(stdout, "No changes") {
		t.Fatalf("apply with the app available to no one: exit %d\n%s%s", code, stdout, stderr)
	}
	stdout, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "--no-color", "plan", "--detailed-exitcode")
	if code != 0 || !strings.Contains(stdout, "200 seller(s), 0 not covered") {
		t.Fatalf("plan after applying the availability: exit %d\n%s%s", code, stdout, stderr)
	}
}

// A seller's direct assignment (Grant-CsTeamsMeetingPolicy) wins over the group's: Graph's
// per-user effective policies show it, and plan names it; without them (403), coverage is
// computed from the group assignments and the plan says that direct assignments are not seen.
func TestSellerCoverageSeesDirectAssignmentsThroughGraph(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": coverageBase})
	if _, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "apply", "--auto-approve"); code != 0 {
		t.Fatalf("apply: %d %s", code, stderr)
	}
	upn := graphapi.UserUPN(7)
	if _, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "sandbox", "teams", "assign", "TeamsMeetingPolicy", "AllOff", "--user", upn); code != 0 {
		t.Fatalf("assign --user: %d %s", code, stderr)
	}
	stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--no-color", "plan", "--detailed-exitcode")
	if code != 2 {
		t.Fatalf("plan with a direct AllOff: exit %d, want 2\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{"200 seller(s), 1 not covered", "1 NOT covered: meeting policy AllOff assigned directly (transcription OFF)", "e.g. " + upn, "199 covered", "read from Microsoft Graph GET /v1.0/admin/teams/userConfigurations"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("plan lacks %q:\n%s", want, stdout)
		}
	}
	if _, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "sandbox", "teams", "user-configurations", "off"); code != 0 {
		t.Fatalf("user-configurations off: %d %s", code, stderr)
	}
	stdout, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "--no-color", "plan")
	if code != 0 || !strings.Contains(stdout, "computed from the tenant's group policy assignments") || !strings.Contains(stdout, "403") || !strings.Contains(stdout, "direct user assignments are not seen") {
		t.Fatalf("plan without Graph's user configurations: exit %d\n%s%s", code, stdout, stderr)
	}
}

// The quickstart's form: app_preset_list names the app through data.teams_app, whose id the
// configuration alone leaves unknown. Seller coverage took the app id from the configuration
// evaluated without the plan's data sources, never checked the app, and said "No changes" with
// the sellers on a setup policy without it, or with the app blocked for them.
const coverageAppFromDataSource = `
data "teams_app" "copilot_for_sales" {}

resource "teams_app_setup_policy" "global" {
  identity        = "Global"
  app_preset_list = [data.teams_app.copilot_for_sales.id]
}

resource "m365_integrated_app" "c4s" {
  groups = ["Sellers"]
}
`

func TestSellerCoverageChecksTheAppNamedByADataSource(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": coverageBase + coverageAppFromDataSource})
	if stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "apply", "--auto-approve"); code != 0 {
		t.Fatalf("apply: %d\n%s%s", code, stdout, stderr)
	}
	stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--no-color", "plan", "--detailed-exitcode")
	if code != 0 || !strings.Contains(stdout, "200 seller(s), 0 not covered") || !strings.Contains(stdout, "installs the Copilot for Sales app") {
		t.Fatalf("plan after apply: exit %d\n%s%s", code, stdout, stderr)
	}
	if _, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "sandbox", "teams", "assign", "TeamsAppSetupPolicy", "FirstlineWorker", "--group", "Sellers", "--rank", "1"); code != 0 {
		t.Fatalf("sandbox teams assign: %d %s", code, stderr)
	}
	stdout, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "--no-color", "plan", "--detailed-exitcode")
	if code != 2 || !strings.Contains(stdout, "200 seller(s), 200 not covered") || !strings.Contains(stdout, "does NOT install the Copilot for Sales app") {
		t.Fatalf("plan with Sellers on a setup policy without the app: exit %d, want 2\n%s%s", code, stdout, stderr)
	}
	if stdout, _, code := runCLI(t, "--dir", dir, "--sandbox", "--no-color", "drift"); code != 2 || strings.Contains(stdout, "No drift") {
		t.Fatalf("drift with Sellers on a setup policy without the app: exit %d\n%s", code, stdout)
	}

	dir = writeConfig(t, map[string]string{"main.c4s.hcl": coverageBase + coverageAppFromDataSource})
	if stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "apply", "--auto-approve"); code != 0 {
		t.Fatalf("apply: %d\n%s%s", code, stdout, stderr)
	}
	if _, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "sandbox", "teams", "block-app"); code != 0 {
		t.Fatalf("block-app: %d %s", code, stderr)
	}
	stdout, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "--no-color", "plan", "--detailed-exitcode")
	if code != 1 || !strings.Contains(stderr, "the app is blocked by an admin") || strings.Contains(stdout, "No changes") {
		t.Fatalf("plan with the app blocked: exit %d, want 1\n%s%s", code, stdout, stderr)
	}
}

// The app is available to the Sellers group (m365_integrated_app groups = ["Sellers"]): the app
// availability check takes the sellers as that group's members instead of reading its member
// pages again (21 pages for 20,000 sellers). Plan reads them twice: the licence assignment's
// read and the coverage's.
func TestAppAvailabilityDoesNotReadTheSellersAgain(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": coverageBase + coverageAppFromDataSource})
	if stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "apply", "--auto-approve"); code != 0 {
		t.Fatalf("apply: %d\n%s%s", code, stdout, stderr)
	}
	stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--no-color", "--log-level", "debug", "plan", "--detailed-exitcode")
	if code != 0 || !strings.Contains(stdout, "availableTo some") {
		t.Fatalf("plan: exit %d\n%s%s", code, stdout, stderr)
	}
	// The licence assignment and the coverage read them, once each or once together (m365
	// shares a member read under way: 2 or 1 depending on timing); the app check adds none.
	if n := strings.Count(stderr, "/groups/"+graphapi.SellersGroupID+"/members"); n < 1 || n > 2 {
		t.Errorf("the Sellers' members were read %d times, want 1 or 2 (the licence assignment and the coverage, shared when they overlap)", n)
	}
}

// sandbox teams assign --user refuses a user the tenant does not have (a typo assigned a policy
// to nobody and printed "assigned directly", as Grant-CsTeamsMeetingPolicy would not).
func TestSandboxAssignRefusesAnUnknownUser(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": coverageBase})
	stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "sandbox", "teams", "assign", "TeamsMeetingPolicy", "AllOff", "--user", "nobody@contoso-sandbox.onmicrosoft.com")
	if code == 0 || !strings.Contains(stderr, `no user "nobody@contoso-sandbox.onmicrosoft.com"`) {
		t.Fatalf("assign to an unknown user: exit %d\n%s%s", code, stdout, stderr)
	}
	upn := strings.ToUpper(graphapi.UserUPN(7))
	if _, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "sandbox", "teams", "assign", "TeamsMeetingPolicy", "AllOff", "--user", upn); code != 0 {
		t.Fatalf("assign to %s: exit %d %s", upn, code, stderr)
	}
}

// sandbox teams assign --group matches a display name without case, as an admin types it; two
// groups whose names differ only in case are ambiguous, an error naming both; --rank 0 is refused
// (Teams ranks start at 1), and --rank left out ranks the assignment last.
func TestSandboxAssignGroupNameAndRank(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": coverageBase})
	assign := func(args ...string) (string, string, int) {
		return runCLI(t, append([]string{"--dir", dir, "--sandbox", "--no-color", "sandbox", "teams", "assign"}, args...)...)
	}
	stdout, stderr, code := assign("TeamsMeetingPolicy", "AllOff", "--group", "sellers", "--rank", "1")
	if code != 0 || !strings.Contains(stdout, "("+graphapi.SellersGroupID+") at rank 1") {
		t.Fatalf("--group sellers: exit %d\n%s%s", code, stdout, stderr)
	}
	if _, stderr, code := assign("TeamsAppSetupPolicy", "FirstlineWorker", "--group", "Sellers", "--rank", "0"); code == 0 || !strings.Contains(stderr, "--rank 0: a rank is a whole number from 1") {
		t.Errorf("--rank 0: exit %d %s", code, stderr)
	}
	if _, stderr, code := assign("TeamsMeetingPolicy", "AllOff", "--user", graphapi.UserUPN(3), "--rank", "2"); code == 0 || !strings.Contains(stderr, "--rank applies to group assignments only") {
		t.Errorf("--rank with --user: exit %d %s", code, stderr)
	}

	// A second group, "SELLERS": the name is ambiguous, the object id is not.
	const otherID = "5e11e125-0000-4000-8000-00000000c0de"
	const emeaID = "5e11e125-0000-4000-8000-00000000e3ea"
	svcs := newSandboxServices()
	var gs *graphapi.Service
	for _, s := range svcs {
		if x, ok := s.(*graphapi.Service); ok {
			gs = x
		}
	}
	sb, err := sandbox.Start(sandbox.Options{Dir: filepath.Join(dir, ".c4sctl", "sandbox")}, svcs...)
	if err != nil {
		t.Fatal(err)
	}
	if err := sb.Mutate(func() error {
		gs.Tenant().Groups = append(gs.Tenant().Groups, &graphapi.Group{ID: otherID, DisplayName: "SELLERS", Members: []string{}},
			&graphapi.Group{ID: emeaID, DisplayName: "Sales (EMEA)", Members: []string{}})
		gs.Reindex()
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := sb.Close(); err != nil {
		t.Fatal(err)
	}
	_, stderr, code = assign("TeamsAppSetupPolicy", "FirstlineWorker", "--group", "Sellers")
	if code == 0 || !strings.Contains(stderr, `2 sandbox groups are named "Sellers", compared without case`) ||
		!strings.Contains(stderr, graphapi.SellersGroupID) || !strings.Contains(stderr, otherID) || !strings.Contains(stderr, "give the object id") {
		t.Errorf("ambiguous --group Sellers: exit %d %s", code, stderr)
	}
	stdout, stderr, code = assign("TeamsAppSetupPolicy", "FirstlineWorker", "--group", otherID)
	if code != 0 || !strings.Contains(stdout, "("+otherID+") at rank 1") {
		t.Errorf("--group by object id: exit %d\n%s%s", code, stdout, stderr)
	}
	// No --rank: last, after the assignment above.
	stdout, stderr, code = assign("TeamsAppSetupPolicy", "FirstlineWorker", "--group", graphapi.SellersGroupID)
	if code != 0 || !strings.Contains(stdout, "("+graphapi.SellersGroupID+") at rank 2") {
		t.Errorf("no --rank: exit %d\n%s%s", code, stdout, stderr)
	}
	// A display name holding " (": the group's own id, not a piece of the name.
	stdout, stderr, code = assign("TeamsMeetingPolicy", "AllOn", "--group", "sales (emea)")
	if code != 0 || !strings.Contains(stdout, "group sales (emea) ("+emeaID+") at rank ") {
		t.Errorf("--group \"sales (emea)\": exit %d\n%s%s", code, stdout, stderr)
	}
}

// apply shows the plan plan shows: with a seller not covered it never says "No changes" (plan
// does not), and with the app blocked for sellers it fails as plan does, changing nothing.
func TestApplyShowsSellerCoverageAsPlanDoes(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": coverageBase + coverageApp})
	if stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "apply", "--auto-approve"); code != 0 {
		t.Fatalf("apply: %d\n%s%s", code, stdout, stderr)
	}
	if _, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "sandbox", "teams", "assign", "TeamsMeetingPolicy", "AllOff", "--user", "user00005@contoso-sandbox.onmicrosoft.com"); code != 0 {
		t.Fatalf("assign: %d %s", code, stderr)
	}
	stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--no-color", "apply", "--auto-approve")
	if code != 0 || strings.Contains(stdout, "No changes") || !strings.Contains(stdout, "1 NOT covered: meeting policy AllOff assigned directly") {
		t.Fatalf("apply with a seller on AllOff: exit %d\n%s%s", code, stdout, stderr)
	}
	if _, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "sandbox", "teams", "block-app"); code != 0 {
		t.Fatalf("block-app: %d %s", code, stderr)
	}
	stdout, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "--no-color", "apply", "--auto-approve")
	if code != 1 || strings.Contains(stdout, "Apply complete!") || !strings.Contains(stderr, "the app is blocked by an admin") {
		t.Fatalf("apply with the app blocked: exit %d\n%s%s", code, stdout, stderr)
	}
}

// The licence is part of what a seller gets: sellers without it (Graph's assignedLicenses) are
// not covered, counted once beside the Teams policies, and the heading says how many hold it.
// The coverage said "200 seller(s), 0 not covered" while no seller held the licence.
func TestSellerCoverageCountsTheLicence(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": coverageBase})
	if stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "apply", "--auto-approve", "--target", "teams_meeting_policy.global"); code != 0 {
		t.Fatalf("apply the meeting policy alone: %d\n%s%s", code, stdout, stderr)
	}
	stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--no-color", "plan", "--detailed-exitcode")
	if code != 2 {
		t.Fatalf("plan: exit %d, want 2\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{"200 seller(s), 200 not covered; 0 licensed", "200 NOT covered: no Microsoft_365_Copilot licence"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("plan lacks %q:\n%s", want, stdout)
		}
	}
	if _, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "apply", "--auto-approve"); code != 0 {
		t.Fatalf("apply: %d %s", code, stderr)
	}
	stdout, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "--no-color", "plan", "--detailed-exitcode")
	if code != 0 || !strings.Contains(stdout, "200 seller(s), 0 not covered; 200 licensed") || strings.Contains(stdout, "licence (assignedLicenses") {
		t.Fatalf("plan with every seller licensed: exit %d\n%s%s", code, stdout, stderr)
	}
}

// apply PLAN_FILE shows the seller coverage too: with nothing to change and a seller not
// covered, it never says "No changes".
func TestApplySavedPlanShowsSellerCoverage(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": coverageBase})
	if stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "apply", "--auto-approve"); code != 0 {
		t.Fatalf("apply: %d\n%s%s", code, stdout, stderr)
	}
	if _, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "sandbox", "teams", "assign", "TeamsMeetingPolicy", "AllOff", "--user", "user00005@contoso-sandbox.onmicrosoft.com"); code != 0 {
		t.Fatalf("assign: %d %s", code, stderr)
	}
	planFile := filepath.Join(dir, "plan.bin")
	if stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "plan", "--out", planFile); code != 0 {
		t.Fatalf("plan --out: %d\n%s%s", code, stdout, stderr)
	}
	stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--no-color", "apply", planFile)
	if code != 0 || strings.Contains(stdout, "No changes") || !strings.Contains(stdout, "1 NOT covered: meeting policy AllOff assigned directly") {
		t.Fatalf("apply PLAN_FILE with a seller on AllOff: exit %d\n%s%s", code, stdout, stderr)
	}
}
