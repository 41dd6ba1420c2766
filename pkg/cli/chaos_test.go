package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/c4sctl/c4sctl/pkg/sandbox/faults"
	"github.com/c4sctl/c4sctl/pkg/sandbox/graphapi"
	"github.com/c4sctl/c4sctl/pkg/state"
)

// retriedAttempt matches the HTTP layer's debug record of an attempt after the first.
var retriedAttempt = regexp.MustCompile(`(?m)msg="http request".* attempt=([2-9]|\d\d)\b`)

// chaosExtras adds objects that apply creates (named Teams policies, a group assignment, a DLP
// policy) to the quickstart, so that lost answers to creates are exercised on every provider
// that creates something.
const chaosExtras = `
resource "teams_meeting_policy" "sales" {
  identity            = "ChaosSales"
  description         = "created under injected faults"
  allow_transcription = true
}

resource "teams_meeting_policy" "support" {
  identity            = "ChaosSupport"
  allow_transcription = true
}

resource "teams_app_setup_policy" "sellers" {
  identity        = "ChaosSellers"
  app_preset_list = [data.teams_app.copilot_for_sales.id]
  groups          = [{ group_id = "0c4a0f00-0000-4000-8000-00000000c4a0", rank = 1 }]
}

# Not applied to msdyn_viva: there the quickstart's connector rule edits every policy, and plan
# refuses a rule and a policy block that would both manage one policy.
resource "powerplatform_dlp_policy" "chaos" {
  display_name        = "c4sctl chaos"
  environment_type    = "ExceptEnvironments"
  environments        = ["msdyn_viva"]
  business_connectors = ["shared_salesforce", "shared_office365"]
}
`

// TestChaosApplyConvergesWithoutDuplicates applies the quickstart (plus a few creates) against a
// sandbox that answers 20% of API requests with a fault: 429 with Retry-After, 503, a connection
// dropped before the request is handled, or one dropped after it was handled (the client cannot
// know whether its create happened). Apply is repeated until it succeeds; then plan shows no
// change, no object was created twice and every change is in the sandbox.
func TestChaosApplyConvergesWithoutDuplicates(t *testing.T) {
	t.Parallel() // waits on the sandbox and the binary, not the CPU
	bin := c4sctlBinary(t)
	s := startStandalone(t, "chaos-test-secret")
	s.doManualSteps(t)
	inj := faults.Install(s.sb, faults.Options{FaultRate: 0.2, Seed: 20261129, RetryAfter: 20 * time.Millisecond})

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.c4s.hcl"), []byte(s.providerBlocks()+quickstartResources(t)+chaosExtras), 0o600); err != nil {
		t.Fatal(err)
	}
	env := s.cliEnv()
	const maxRuns = 5
	runs, retries := 0, 0
	for {
		runs++
		stdout, stderr, code := runBin(t, bin, env, "--dir", dir, "--no-color", "--log-level", "debug", "apply", "--auto-approve")
		retries += len(retriedAttempt.FindAllString(stderr, -1))
		if code == 0 {
			break
		}
		if code != 1 {
			t.Fatalf("apply run %d: exit %d\n%s\n%s", runs, code, stdout, stderr)
		}
		t.Logf("apply run %d did not finish (exit 1); running it again:\n%s", runs, lastLines(stderr, 12))
		if runs == maxRuns {
			t.Fatalf("apply did not converge in %d runs under 20%% faults; last run:\n%s\n%s", maxRuns, stdout, stderr)
		}
	}
	// The convergence check reads without faults: it checks what the faulted applies left, and a
	// read that ran out of retries under faults would rightly say "could not be read" (exit 2)
	// whatever apply did. (Under make test this plan has failed so, with one Salesforce query
	// reset 6 to 7 times in a row (HTTP/2 INTERNAL_ERROR, the drop faults), far more often than
	// independent 10% drops explain: not explained yet.)
	inj.StopFaults()
	stdout, stderr, code := runBin(t, bin, env, "--dir", dir, "--no-color", "plan", "--detailed-exitcode")
	if code != 0 {
		t.Fatalf("plan after apply converged: exit %d, want 0 (no changes)\n%s\n%s", code, stdout, stderr)
	}
	st, err := (&state.Local{Path: filepath.Join(dir, ".c4sctl", "state.json")}).Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Resources) < 10 {
		t.Errorf("state holds %d resources after convergence: %v", len(st.Resources), st.Addresses())
	}

	c := inj.Counters()
	log := s.sb.RequestLog()
	t.Logf("%d apply run(s); %d requests reached the sandbox, %d faults injected %v, %d retries by the HTTP layer; request log: %d handled",
		runs, c.Requests, c.TotalFaults(), c.Faults, retries, log.Total())
	if c.TotalFaults() < 10 || c.Faults[faults.DropAfter] == 0 {
		t.Fatalf("too few faults injected to test anything: %v", c.Faults)
	}

	// No duplicate: each object exists once, and each create reached the sandbox's handler
	// exactly once (a create whose answer was lost is found by the re-read, never sent again).
	// Requests that set a value (PUT, whole-body PATCH, assignLicense) may be replayed instead; a
	// group assignment is such a PUT, and checkChaosData finds it exactly once.
	checkChaosData(t, s)
	for route, want := range map[string]int{
		"POST /teams/Skype.Policy/configurations/{type}":           3, // ChaosSales, ChaosSupport, ChaosSellers
		"POST /bap/providers/PowerPlatform.Governance/v2/policies": 1,
		"POST /salesforce/services/data/{v}/sobjects/{type}":       1, // the permission set
	} {
		if got := log.Count(route); got != want {
			t.Errorf("%s reached the sandbox %d time(s), want %d: a create was sent again after it was made", route, got, want)
		}
	}
}

// checkChaosData reads the sandbox's data: one object of each name, every change made.
func checkChaosData(t *testing.T, s *standalone) {
	t.Helper()
	dump := map[string]json.RawMessage{}
	s.sb.View(func() {
		for _, svc := range s.sb.Services() {
			b, err := svc.MarshalState()
			if err != nil {
				t.Errorf("%s: %v", svc.Name(), err)
				continue
			}
			dump[svc.Name()] = b
		}
	})

	var teams struct {
		Policies map[string][]map[string]any `json:"policies"`
		Groups   []map[string]any            `json:"groupPolicyAssignments"`
	}
	mustJSON(t, dump["teams"], &teams)
	count := func(typ, identity string) int {
		n := 0
		for _, p := range teams.Policies[typ] {
			if id, _ := p["Identity"].(string); strings.EqualFold(id, "Tag:"+identity) || strings.EqualFold(id, identity) {
				n++
			}
		}
		return n
	}
	for _, p := range []struct{ typ, id string }{{"TeamsMeetingPolicy", "ChaosSales"}, {"TeamsMeetingPolicy", "ChaosSupport"}, {"TeamsAppSetupPolicy", "ChaosSellers"}} {
		if n := count(p.typ, p.id); n != 1 {
			t.Errorf("%s %s exists %d times in the sandbox, want 1", p.typ, p.id, n)
		}
	}
	for _, p := range teams.Policies["TeamsMeetingPolicy"] {
		if p["Identity"] == "Global" && p["AllowTranscription"] != true {
			t.Errorf("Global meeting policy: AllowTranscription = %v, want true (lost change)", p["AllowTranscription"])
		}
	}
	assigned := 0
	for _, g := range teams.Groups {
		if g["groupId"] == "0c4a0f00-0000-4000-8000-00000000c4a0" {
			assigned++
			if name, _ := g["policyName"].(string); !strings.EqualFold(strings.TrimPrefix(name, "Tag:"), "ChaosSellers") {
				t.Errorf("group assignment names %v, want ChaosSellers", g["policyName"])
			}
		}
	}
	if assigned != 1 {
		t.Errorf("the group has %d app setup policy assignments, want 1", assigned)
	}

	// The Sellers group holds the Copilot licence once; the add-in is available to it.
	var graph struct {
		Groups []struct {
			ID       string `json:"id"`
			Licenses []struct {
				SkuID string `json:"skuId"`
			} `json:"licenses"`
		} `json:"groups"`
		Packages []struct {
			AvailableTo string `json:"availableTo"`
			Allowed     []struct {
				ResourceID string `json:"resourceId"`
			} `json:"allowedUsersAndGroups"`
		} `json:"packages"`
	}
	mustJSON(t, dump["graph"], &graph)
	licensed, available := 0, 0
	for _, g := range graph.Groups {
		if g.ID != graphapi.SellersGroupID {
			continue
		}
		for _, l := range g.Licenses {
			if l.SkuID == graphapi.CopilotSkuID {
				licensed++
			}
		}
	}
	for _, p := range graph.Packages {
		for _, a := range p.Allowed {
			if a.ResourceID == graphapi.SellersGroupID && p.AvailableTo == "some" {
				available++
			}
		}
	}
	if licensed != 1 || available != 1 {
		t.Errorf("Sellers holds the Copilot licence %d times (want 1) and the add-in %d times (want 1)", licensed, available)
	}

	var pp struct {
		Policies []map[string]any `json:"policies"`
	}
	mustJSON(t, dump["bap"], &pp)
	dlp := 0
	for _, p := range pp.Policies {
		d, _ := p["policyDefinition"].(map[string]any)
		if d != nil && d["displayName"] == "c4sctl chaos" {
			dlp++
		}
	}
	if dlp != 1 {
		t.Errorf("DLP policy \"c4sctl chaos\" exists %d times, want 1", dlp)
	}

	var sf struct {
		PermissionSets []struct{ ID, Name string }                    `json:"permissionSets"`
		Users          []map[string]any                               `json:"users"`
		Profiles       []map[string]any                               `json:"profiles"`
		Assignments    []struct{ AssigneeID, PermissionSetID string } `json:"assignments"`
	}
	mustJSON(t, dump["salesforce"], &sf)
	psID, n := "", 0
	for _, ps := range sf.PermissionSets {
		if ps.Name == "Copilot_for_Sales_Users" {
			psID = ps.ID
			n++
		}
	}
	if n != 1 {
		t.Fatalf("permission set Copilot_for_Sales_Users exists %d times, want 1", n)
	}
	standard := ""
	for _, p := range sf.Profiles {
		if p["name"] == "Standard User" {
			standard, _ = p["id"].(string)
		}
	}
	perUser := map[string]int{}
	for _, a := range sf.Assignments {
		if a.PermissionSetID == psID {
			perUser[a.AssigneeID]++
		}
	}
	want := 0
	for _, u := range sf.Users {
		if u["profileId"] != standard || u["isActive"] != true {
			continue
		}
		want++
		id, _ := u["id"].(string)
		if perUser[id] != 1 {
			t.Errorf("user %s has the permission set %d times, want 1", id, perUser[id])
		}
	}
	if want == 0 || len(perUser) != want {
		t.Errorf("%d users hold the permission set, want the %d active Standard Users", len(perUser), want)
	}
}

func mustJSON(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decode sandbox data: %v", err)
	}
}

// lastLines returns the last n lines of s that are not debug log records.
func lastLines(s string, n int) string {
	var lines []string
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		if !strings.HasPrefix(l, "time=") {
			lines = append(lines, l)
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
