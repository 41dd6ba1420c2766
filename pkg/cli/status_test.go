package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/c4sctl/c4sctl/examples"
	"github.com/c4sctl/c4sctl/pkg/sandbox/graphapi"
	"github.com/c4sctl/c4sctl/pkg/status"
)

func statusJSON(t *testing.T, args ...string) (*status.Report, int, string) {
	t.Helper()
	stdout, stderr, code := runCLI(t, append(args, "status", "--json")...)
	var r status.Report
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("status --json: exit %d, not JSON (%v)\n%s\n%s", code, err, stdout, stderr)
	}
	return &r, code, stderr
}

func stepStates(r *status.Report) map[int]status.State {
	out := map[int]status.State{}
	for _, s := range r.Steps {
		out[s.Number] = s.Status
	}
	return out
}

func clockOf(r *status.Report, id string) *status.Clock {
	for _, s := range r.Steps {
		for i := range s.Clocks {
			if s.Clocks[i].ID == id {
				return &s.Clocks[i]
			}
		}
	}
	return nil
}

// fileSnapshot reads every file under dir (name -> content), to show a command wrote nothing.
func fileSnapshot(t *testing.T, dir string, skip ...string) map[string]string {
	t.Helper()
	out := map[string]string{}
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		for _, s := range skip {
			if strings.Contains(p, s) {
				return nil
			}
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out[p] = string(b)
		return nil
	})
	return out
}

// Issue 16's "Done when": status on a fresh sandbox lists every step as not done; after the
// demo's steps (make demo, then welcome --send --ready-only) every step is done, with the clocks.
func TestStatusFreshSandboxThenDemo(t *testing.T) {
	// Without a configuration: the built-in quickstart, against a fresh sandbox.
	empty := t.TempDir()
	r, code, stderr := statusJSON(t, "--dir", empty, "--sandbox")
	if code != 2 || !r.Builtin || r.Status != status.NotDone {
		t.Fatalf("fresh sandbox, no configuration: exit %d, builtin %v, status %q\n%s", code, r.Builtin, r.Status, stderr)
	}
	for n, st := range stepStates(r) {
		if st != status.NotDone {
			t.Errorf("fresh sandbox: step %d is %q, want not done", n, st)
		}
	}
	if len(r.Steps) != 10 || r.Sellers == nil || r.Sellers.Total != 200 || r.Sellers.Ready != 0 {
		t.Fatalf("fresh sandbox: %d steps, sellers %+v", len(r.Steps), r.Sellers)
	}
	if c := clockOf(r, "outlook_addin"); c == nil || c.Since != nil {
		t.Errorf("fresh sandbox: the add-in was never deployed, yet its clock is %+v", c)
	}
	if _, err := os.Stat(filepath.Join(empty, ".c4sctl", "state.json")); err == nil {
		t.Errorf("status wrote a state file")
	}

	// The demo, in a directory holding the quickstart.
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": string(examples.Quickstart)})
	run := func(want int, args ...string) string {
		t.Helper()
		stdout, stderr, code := runCLI(t, append([]string{"--dir", dir, "--sandbox", "--no-color"}, args...)...)
		if code != want {
			t.Fatalf("%v: exit %d, want %d\n%s%s", args, code, want, stdout, stderr)
		}
		return stdout
	}
	r, code, _ = statusJSON(t, "--dir", dir, "--sandbox")
	if code != 2 || r.Builtin {
		t.Fatalf("before apply: exit %d builtin %v", code, r.Builtin)
	}
	for n, st := range stepStates(r) {
		if st != status.NotDone {
			t.Errorf("before apply: step %d is %q, want not done", n, st)
		}
	}
	started := time.Now().UTC().Add(-time.Second)
	run(4, "apply", "--auto-approve")
	run(0, "sandbox", "salesforce", "install-app")
	run(0, "sandbox", "sign-in", "seller@contoso-sandbox.onmicrosoft.com")
	run(0, "sandbox", "dataverse", "add-app-user")
	run(0, "apply", "--auto-approve")
	run(0, "plan", "--detailed-exitcode")

	// The welcome is not done; the welcome record says nobody was mailed. The seeded org holds
	// 7 sellers back by their Salesforce users (the reconciliation plan warns about): steps 4
	// and 6 are not done, and each seller is named with the checks they fail.
	r, code, _ = statusJSON(t, "--dir", dir, "--sandbox")
	if code != 2 || stepStates(r)[9] != status.NotDone || stepStates(r)[3] != status.Done || stepStates(r)[4] != status.NotDone || stepStates(r)[6] != status.NotDone {
		t.Fatalf("after apply, before welcome: exit %d, steps %v", code, stepStates(r))
	}
	wantFailed := map[string]string{
		"user00013": "salesforce_user",
		"user00097": "salesforce_active salesforce_permission_set salesforce_api_enabled",
		"user00194": "salesforce_active salesforce_permission_set salesforce_api_enabled",
		"user00050": "salesforce_permission_set salesforce_api_enabled salesforce_connected_app",
		"user00100": "salesforce_permission_set salesforce_api_enabled salesforce_connected_app",
		"user00150": "salesforce_permission_set salesforce_api_enabled salesforce_connected_app",
		"user00200": "salesforce_permission_set salesforce_api_enabled salesforce_connected_app",
	}
	if r.Sellers.Ready != 193 || r.Sellers.Total != 200 {
		t.Fatalf("after apply: %d of %d sellers ready, want 193 of 200", r.Sellers.Ready, r.Sellers.Total)
	}
	for _, x := range r.Sellers.List {
		name, _, _ := strings.Cut(x.UPN, "@")
		want, held := wantFailed[name]
		got := strings.Join(x.Failed, " ")
		got = strings.TrimSpace(strings.ReplaceAll(got, "welcomed", ""))
		if x.Ready == held || got != want {
			t.Errorf("after apply: %s ready %v, fails %q, want %q", x.UPN, x.Ready, got, want)
		}
		if held && name != "user00013" && x.SalesforceUser != "seller"+name[len(name)-3:]+"@contoso-sandbox.example" {
			t.Errorf("%s: Salesforce user %q", x.UPN, x.SalesforceUser)
		}
	}
	before := fileSnapshot(t, dir, "sandbox")
	out := run(0, "welcome", "--send", "--ready-only", "--per-minute", "100000")
	for _, want := range []string{"Sent 193, failed 0.", "Skipped 7 seller(s) not ready", "1: no Salesforce user matched"} {
		if !strings.Contains(out, want) {
			t.Fatalf("welcome --ready-only with 7 sellers held back by Salesforce lacks %q:\n%s", want, out)
		}
	}
	human := run(2, "status")
	for _, want := range []string{"Not ready: 3 step(s) not done, 7 seller(s) not ready.", "1 seller: NOT ready: no Salesforce user matched; not welcomed yet, e.g. user00013@",
		"(Salesforce user seller097@contoso-sandbox.example)", "To fix: salesforce_active (2 sellers): in Salesforce, Setup > Users > Edit > Active"} {
		if !strings.Contains(human, want) {
			t.Errorf("human status lacks %q:\n%s", want, human)
		}
	}
	if strings.Contains(human, "Ready (") || strings.Contains(human, "\nReady:") {
		t.Errorf("status says Ready with 7 sellers not ready:\n%s", human)
	}
	if md := run(2, "status", "--format", "markdown"); !strings.Contains(md, "To fix:") || !strings.Contains(md, "- salesforce_user (1 seller): in Salesforce") {
		t.Errorf("markdown status lacks the fixes:\n%s", md)
	}

	// The admin fixes the 7 users in Setup (as make demo does); the next apply assigns them the
	// permission set, and the next welcome mails them.
	run(0, "sandbox", "salesforce", "edit-user", "seller013@contoso-sandbox.example", "--federation-id", "user00013@contoso-sandbox.onmicrosoft.com")
	for _, u := range []string{"097", "194"} {
		run(0, "sandbox", "salesforce", "edit-user", "seller"+u+"@contoso-sandbox.example", "--active=true")
	}
	for _, u := range []string{"050", "100", "150", "200"} {
		run(0, "sandbox", "salesforce", "edit-user", "seller"+u+"@contoso-sandbox.example", "--profile", "Standard User")
	}
	run(0, "apply", "--auto-approve")
	out = run(0, "welcome", "--send", "--ready-only", "--per-minute", "100000")
	if !strings.Contains(out, "Sent 7, failed 0.") || strings.Contains(out, "Skipped") {
		t.Fatalf("welcome --ready-only after the fixes:\n%s", out)
	}
	before = fileSnapshot(t, dir, "sandbox")

	r, code, stderr = statusJSON(t, "--dir", dir, "--sandbox")
	if code != 0 || r.Status != status.Done || !r.Sandbox {
		t.Fatalf("after the demo: exit %d, status %q, steps %v\n%s", code, r.Status, stepStates(r), stderr)
	}
	for n, st := range stepStates(r) {
		if st != status.Done {
			t.Errorf("after the demo: step %d is %q", n, st)
		}
	}
	for _, id := range []string{"outlook_addin", "teams_app_pinned"} {
		c := clockOf(r, id)
		if c == nil || c.Since == nil || c.Since.Before(started) || !c.Waiting || c.ElapsedHours == nil || *c.ElapsedHours > 1 {
			t.Errorf("clock %s after the demo: %+v (want a time since %s, waiting)", id, c, started)
		}
	}
	if c := clockOf(r, "teams_app_pinned"); c != nil && c.WithinHours != 48 {
		t.Errorf("pinned clock: within %d hours, want 48", c.WithinHours)
	}
	if c := clockOf(r, "outlook_addin"); c != nil && c.WithinHours != 24 {
		t.Errorf("add-in clock: within %d hours, want 24", c.WithinHours)
	}
	if len(r.Sellers.List) != 200 || r.Sellers.List[0].Welcomed == nil {
		t.Errorf("JSON sellers: %d listed, first %+v", len(r.Sellers.List), r.Sellers.List[0])
	}

	// Read-only: status changed no file (state, history, welcome record, lock).
	after := fileSnapshot(t, dir, "sandbox")
	for _, f := range []string{"state.json", "state.json.history.jsonl"} {
		p := filepath.Join(dir, ".c4sctl", f)
		if before[p] == "" || before[p] != after[p] {
			t.Errorf("%s changed across welcome and status (or is empty)", f)
		}
	}
	snap := fileSnapshot(t, dir)
	human = run(0, "status")
	md := run(0, "status", "--format", "markdown")
	if got := fileSnapshot(t, dir); len(got) != len(snap) {
		t.Errorf("status created or removed files: %d before, %d after", len(snap), len(got))
	} else {
		for p, b := range snap {
			if !strings.HasSuffix(p, "data.json") && got[p] != b {
				t.Errorf("status changed %s", p)
			}
		}
	}
	for _, want := range []string{"Outlook add-in deployed", "it can take up to 24 hours to show, about 2", "Teams app installed and pinned", "up to 48 hours", "Ready (sandbox — not a real tenant): every step is done, 200 of 200 seller(s) ready.", "sandbox: true"} {
		if !strings.Contains(human, want) {
			t.Errorf("human status lacks %q:\n%s", want, human)
		}
	}
	if !strings.Contains(md, "| 9 | ✅ done | Welcome the sellers |") || !strings.Contains(md, "**Ready (sandbox — not a real tenant): every step is done") || !strings.Contains(md, "**sandbox: true**") {
		t.Errorf("markdown status:\n%s", md)
	}
}

// status takes no lock: it runs while an apply holds the state's.
func TestStatusRunsWhileTheStateIsLocked(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": string(examples.Quickstart)})
	g := &Globals{Dir: dir}
	b, err := g.Backend()
	if err != nil {
		t.Fatal(err)
	}
	unlock, err := b.Lock("apply", "test")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "status")
	if code != 2 || !strings.Contains(stdout, "Not ready:") {
		t.Fatalf("status under another run's lock: exit %d\n%s%s", code, stdout, stderr)
	}
}

const readyOnlyAddin = `
resource "m365_integrated_app" "copilot_for_sales" {
  users = ["user00001@contoso-sandbox.onmicrosoft.com", "user00002@contoso-sandbox.onmicrosoft.com", "user00003@contoso-sandbox.onmicrosoft.com"]
}
`

// welcome --send --ready-only mails only the sellers status finds ready, and says how many were
// skipped and why; a later run mails the others once they are ready.
func TestWelcomeReadyOnlySkipsSellersNotReady(t *testing.T) {
	cfg := strings.Replace(string(examples.Quickstart), `resource "m365_integrated_app" "copilot_for_sales" {
  groups = ["Sellers"]
}`, readyOnlyAddin, 1)
	if cfg == string(examples.Quickstart) {
		t.Fatal("the quickstart's integrated app block changed: update this test")
	}
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": cfg})
	run := func(want int, args ...string) string {
		t.Helper()
		stdout, stderr, code := runCLI(t, append([]string{"--dir", dir, "--sandbox", "--no-color"}, args...)...)
		if code != want {
			t.Fatalf("%v: exit %d, want %d\n%s%s", args, code, want, stdout, stderr)
		}
		return stdout
	}
	run(4, "apply", "--auto-approve")
	run(0, "sandbox", "salesforce", "install-app") // else the connected app check is not made and no seller is ready
	out := run(0, "welcome", "--send", "--ready-only", "--per-minute", "100000")
	for _, want := range []string{"Sent 3, failed 0.", "Skipped 197 seller(s) not ready", "190: Outlook add-in not deployed to them", "or they may not use it, no Salesforce user matched"} {
		if !strings.Contains(out, want) {
			t.Errorf("welcome --ready-only lacks %q:\n%s", want, out)
		}
	}
	r, code, _ := statusJSON(t, "--dir", dir, "--sandbox")
	if code != 2 || r.Sellers.Ready != 3 {
		t.Fatalf("status: exit %d, %d ready", code, r.Sellers.Ready)
	}
	welcomed := 0
	for _, s := range r.Sellers.List {
		if s.Welcomed != nil {
			welcomed++
			if !s.Ready {
				t.Errorf("%s was welcomed but is not ready", s.UPN)
			}
		}
	}
	if welcomed != 3 {
		t.Errorf("%d sellers welcomed, want 3", welcomed)
	}
	// Deployed to everyone, the others are ready and the next run mails them.
	writeFile(t, dir, "main.c4s.hcl", string(examples.Quickstart))
	run(4, "apply", "--auto-approve") // the connected app and msdyn_viva are still pending
	out = run(0, "welcome", "--send", "--ready-only", "--per-minute", "100000")
	// The 7 sellers the seeded org holds back by their Salesforce users are skipped.
	if !strings.Contains(out, "3 mailed before, 190 to mail") || !strings.Contains(out, "Sent 190, failed 0.") || !strings.Contains(out, "Skipped 7 seller(s) not ready") {
		t.Errorf("second welcome --ready-only:\n%s", out)
	}
}

// A clock takes the latest time its sources know, names the source, and says "unknown" (with
// why) when none knows one; the history's attribute filter keeps applies that changed something
// else out of the pinned-app clock.
func TestStatusClockSources(t *testing.T) {
	t1 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	t2 := t1.Add(2 * time.Hour)
	hist := []applied{
		{addr: "teams_app_setup_policy.global", typ: "teams_app_setup_policy", at: t1, attrs: []string{"pinned_app_bar_apps"}},
		{addr: "teams_app_setup_policy.global", typ: "teams_app_setup_policy", at: t2, attrs: []string{"description"}},
		{addr: "m365_integrated_app.a", typ: "m365_integrated_app", at: t2},
	}
	if got := lastApplied(hist, "teams_app_setup_policy", "app_preset_list", "pinned_app_bar_apps"); got == nil || !got.Equal(t1) {
		t.Errorf("pinned: %v, want %v (the later apply changed only the description)", got, t1)
	}
	if got := lastApplied(hist, "m365_integrated_app"); got == nil || !got.Equal(t2) {
		t.Errorf("add-in: %v", got)
	}
	if got := lastApplied(hist, "teams_meeting_policy"); got != nil {
		t.Errorf("no apply of the type: %v", got)
	}
	c := clockFrom(status.Clock{ID: "x"}, map[string]*time.Time{"the apply history": &t1, "the service": &t2})
	if c.Since == nil || !c.Since.Equal(t2) || c.Source != "the service" {
		t.Errorf("latest source: %+v", c)
	}
	c = clockFrom(status.Clock{ID: "x"}, map[string]*time.Time{"the apply history": nil})
	if c.Since != nil || !strings.Contains(c.Source, "no apply in the history changed it") {
		t.Errorf("unknown clock: %+v", c)
	}
}

// The people, not only the objects: with the Global policies as declared, an admin assigns by
// hand AllOff to Sellers and a setup policy without the app. The resources still match, but
// steps 2 and 3 are not done, no seller is ready, welcome --ready-only mails nobody and says why,
// and the pinned-app clock comes from the group assignment's createdTime.
func TestStatusSellersOnPoliciesAssignedByHand(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": string(examples.Quickstart)})
	run := func(want int, args ...string) string {
		t.Helper()
		stdout, stderr, code := runCLI(t, append([]string{"--dir", dir, "--sandbox", "--no-color"}, args...)...)
		if code != want {
			t.Fatalf("%v: exit %d, want %d\n%s%s", args, code, want, stdout, stderr)
		}
		return stdout
	}
	run(4, "apply", "--auto-approve")
	run(0, "sandbox", "salesforce", "install-app") // else the connected app check is not made and no seller is ready
	assigned := time.Now().UTC().Add(-time.Second)
	run(0, "sandbox", "teams", "assign", "TeamsMeetingPolicy", "AllOff", "--group", "Sellers", "--rank", "1")
	run(0, "sandbox", "teams", "assign", "TeamsAppSetupPolicy", "FirstlineWorker", "--group", "Sellers", "--rank", "1")

	r, code, _ := statusJSON(t, "--dir", dir, "--sandbox")
	if code != 2 || r.Sellers.Ready != 0 {
		t.Fatalf("exit %d, %d ready", code, r.Sellers.Ready)
	}
	for _, n := range []int{2, 3} {
		st := r.Steps[n]
		var resource, sellers status.State
		for _, c := range st.Checks {
			switch {
			case strings.HasPrefix(c.ID, "resource:"):
				resource = c.Status
			case strings.HasPrefix(c.ID, "sellers:"):
				sellers = c.Status
			}
		}
		if st.Status != status.NotDone || resource != status.Done || sellers != status.NotDone {
			t.Errorf("step %d: %q (resource %q, sellers %q), want not done with the resource done", n, st.Status, resource, sellers)
		}
	}
	c := clockOf(r, "teams_app_pinned")
	if c == nil || c.Since == nil || c.Since.Before(assigned) || c.Source != "the Teams group policy assignment's createdTime" {
		t.Errorf("pinned clock: %+v", c)
	}
	out := run(0, "welcome", "--send", "--ready-only", "--per-minute", "100000")
	for _, want := range []string{"0 to mail", "Skipped 200 seller(s) not ready", "193: their Teams app setup policy does not install the app, or they may not use it, transcription (or Copilot) off in their Teams meeting policy\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("welcome --ready-only lacks %q:\n%s", want, out)
		}
	}
}

// The app blocked by an admin (Teams admin center > Manage apps > Block): plan fails naming it,
// and status counted every seller ready ("Ready: every step is done") while welcome --ready-only
// mailed them all. The sellers whose setup policy installs an app they may not use are not ready.
func TestStatusSellersWithTheAppBlocked(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": string(examples.Quickstart)})
	run := func(want int, args ...string) string {
		t.Helper()
		stdout, stderr, code := runCLI(t, append([]string{"--dir", dir, "--sandbox", "--no-color"}, args...)...)
		if code != want {
			t.Fatalf("%v: exit %d, want %d\n%s%s", args, code, want, stdout, stderr)
		}
		return stdout
	}
	run(4, "apply", "--auto-approve")
	run(0, "sandbox", "salesforce", "install-app") // else the connected app check is not made and no seller is ready
	r, _, _ := statusJSON(t, "--dir", dir, "--sandbox")
	// 7 sellers are held back by their Salesforce users in the seeded org.
	if r.Sellers.Ready != 193 {
		t.Fatalf("before the block: %d ready, want 193", r.Sellers.Ready)
	}
	run(0, "sandbox", "teams", "block-app")
	r, code, _ := statusJSON(t, "--dir", dir, "--sandbox")
	if code != 2 || r.Sellers.Ready != 0 {
		t.Fatalf("app blocked: exit %d, %d ready, want 2 and 0", code, r.Sellers.Ready)
	}
	found := false
	for _, c := range r.Sellers.Checks {
		if c.ID == "teams_app" {
			found = true
			if c.Status != status.NotDone || c.Failed != 200 || !strings.Contains(c.Detail, "the app is blocked by an admin") {
				t.Errorf("teams_app check: %+v", c)
			}
		}
	}
	if !found {
		t.Fatal("no teams_app check")
	}
	out := run(0, "welcome", "--send", "--ready-only", "--per-minute", "100000")
	if !strings.Contains(out, "0 to mail") || !strings.Contains(out, "Skipped 200 seller(s) not ready") {
		t.Errorf("welcome --ready-only with the app blocked:\n%s", out)
	}
}

// status checks each seller's Salesforce user with the reconciliation's few reads, never one
// request per seller: for 200 sellers, one COUNT() of the org's users, one query of the users, one
// of the permission set assignments (docs/status.md, "Sellers").
func TestStatusSalesforceReadsAreFew(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": string(examples.Quickstart)})
	stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--no-color", "--log-level", "debug", "status", "--json")
	if code != 2 {
		t.Fatalf("status: exit %d\n%s", code, stderr)
	}
	var r status.Report
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatal(err)
	}
	// Before any apply no Salesforce user holds the permission set: every matched seller fails
	// it, and seller 13 has no Salesforce user.
	failed := map[string]int{}
	for _, c := range r.Sellers.Checks {
		failed[c.ID] = c.Failed
	}
	if failed["salesforce_permission_set"] != 199 || failed["salesforce_user"] != 1 {
		t.Errorf("Salesforce checks before apply: %v", failed)
	}
	// Seller 13, without a Salesforce user, passes none of the checks of "their Salesforce user":
	// it was counted as passing them ("1 of 200 seller(s): their Salesforce user holds the
	// permission set").
	for _, c := range r.Sellers.Checks {
		switch c.ID {
		case "salesforce_permission_set", "salesforce_api_enabled":
			if c.Passed != 0 || c.NotApplicable != 1 || c.Status != status.NotDone {
				t.Errorf("%s before apply: %d passed, %d not applicable, %s; want 0, 1, not done", c.ID, c.Passed, c.NotApplicable, c.Status)
			}
		case "salesforce_active":
			if c.Passed != 197 || c.Failed != 2 || c.NotApplicable != 1 {
				t.Errorf("%s before apply: %d passed, %d failed, %d not applicable; want 197, 2, 1", c.ID, c.Passed, c.Failed, c.NotApplicable)
			}
		}
	}
	for _, st := range r.Steps {
		for _, c := range st.Checks {
			if c.ID == "sellers:salesforce_permission_set" && !strings.HasPrefix(c.Detail, "0 of 200 seller(s)") {
				t.Errorf("step %d: %s", st.Number, c.Detail)
			}
		}
	}
	count := func(sub string) int {
		n := 0
		for _, l := range strings.Split(stderr, "\n") {
			if strings.Contains(l, `msg="http request"`) && strings.Contains(l, "/salesforce/services/") && strings.Contains(l, sub) {
				n++
			}
		}
		return n
	}
	all := count("")
	users := count("SELECT+Id%2C+Username%2C+Email%2C+FederationIdentifier")
	counts := count("SELECT+COUNT%28%29+FROM+User")
	assignments := count("PermissionSet.PermissionsApiEnabled+FROM+PermissionSetAssignment")
	if users != 1 || counts != 1 || assignments != 1 {
		t.Errorf("reconciliation reads: %d user queries, %d counts, %d assignment queries; want 1 each", users, counts, assignments)
	}
	t.Logf("%d Salesforce requests in all (the plan's refresh included)", all)
	if all == 0 || all > 25 {
		t.Errorf("status sent %d Salesforce requests for 200 sellers", all)
	}
}

// --ready-only means known to be ready. With Salesforce down (every request 500, its token
// endpoint included) the sellers' Salesforce checks cannot be made: before, they held nobody
// back and welcome mailed all 200, the seller without a Salesforce user and the inactive ones
// included, and status... Now no seller is ready: status counts 0, welcome mails nobody, skips the
// 200 as not checked and says what the admin can do. With Salesforce back, the 193 ready sellers
// are mailed and the 7 held back by their Salesforce users are still skipped.
func TestWelcomeReadyOnlySkipsSellersNotChecked(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": string(examples.Quickstart)})
	run := func(want int, args ...string) (string, string) {
		t.Helper()
		stdout, stderr, code := runCLI(t, append([]string{"--dir", dir, "--sandbox", "--no-color"}, args...)...)
		if code != want {
			t.Fatalf("%v: exit %d, want %d\n%s%s", args, code, want, stdout, stderr)
		}
		return stdout, stderr
	}
	run(4, "apply", "--auto-approve")
	run(0, "sandbox", "salesforce", "install-app") // the connected app's check is made
	t.Setenv("C4S_SANDBOX_FAULTS", "down=salesforce")

	r, code, _ := statusJSON(t, "--dir", dir, "--sandbox")
	if code != 2 || r.Sellers == nil || r.Sellers.Ready != 0 {
		t.Fatalf("status with Salesforce down: exit %d, sellers %+v, want 2 and 0 ready", code, r.Sellers)
	}
	for _, s := range r.Sellers.List {
		if s.Ready || len(s.NotChecked) == 0 || s.NotChecked[0] != checkSFUser {
			t.Fatalf("%s: ready %v, not checked %q", s.UPN, s.Ready, s.NotChecked)
		}
	}
	out, errOut := run(0, "welcome", "--send", "--ready-only", "--per-minute", "100000")
	for _, want := range []string{"0 to mail", "Skipped 200 seller(s) not ready", "200: not checked: the Salesforce provider could not be configured: ", "failed: 500", "Sent 0, failed 0."} {
		if !strings.Contains(out, want) {
			t.Errorf("welcome --ready-only with Salesforce down lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "no seller is known to be ready, so none is mailed") || !strings.Contains(errOut, "send deliberately without --ready-only") {
		t.Errorf("no warning saying what the admin can do:\n%s", errOut)
	}

	t.Setenv("C4S_SANDBOX_FAULTS", "")
	out, _ = run(0, "welcome", "--send", "--ready-only", "--per-minute", "100000")
	if !strings.Contains(out, "0 mailed before, 193 to mail") || !strings.Contains(out, "Sent 193, failed 0.") || !strings.Contains(out, "Skipped 7 seller(s) not ready") {
		t.Errorf("welcome --ready-only with Salesforce back:\n%s", out)
	}
}

// Without Graph's per-user effective policies (userConfigurations 403: no
// TeamsUserConfiguration.Read.All), the policies were computed from the group assignments alone:
// a seller's direct AllOff was unseen and status said every seller was ready, welcome
// --ready-only mailing them. The Teams checks are now not made, with the reason and what to do,
// so nobody is ready until the effective policies can be read again.
func TestStatusTeamsChecksNotMadeWithoutUserConfigurations(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": string(examples.Quickstart)})
	run := func(want int, args ...string) string {
		t.Helper()
		stdout, stderr, code := runCLI(t, append([]string{"--dir", dir, "--sandbox", "--no-color"}, args...)...)
		if code != want {
			t.Fatalf("%v: exit %d, want %d\n%s%s", args, code, want, stdout, stderr)
		}
		return stdout
	}
	run(4, "apply", "--auto-approve")
	run(0, "sandbox", "salesforce", "install-app") // the connected app's check is made
	run(0, "sandbox", "teams", "user-configurations", "off")
	upn := graphapi.UserUPN(5)
	run(0, "sandbox", "teams", "assign", "TeamsMeetingPolicy", "AllOff", "--user", upn)

	r, code, _ := statusJSON(t, "--dir", dir, "--sandbox")
	if code != 2 || r.Sellers == nil || r.Sellers.Ready != 0 {
		t.Fatalf("status without userConfigurations: exit %d, want 2 and 0 sellers ready (sellers nil: %v)", code, r.Sellers == nil)
	}
	for _, s := range r.Sellers.List {
		nc := strings.Join(s.NotChecked, ",")
		if s.Ready || !strings.Contains(nc, checkTranscription) || !strings.Contains(nc, checkTeamsApp) {
			t.Fatalf("%s: ready %v, not checked %q, want transcription and teams_app not checked", s.UPN, s.Ready, s.NotChecked)
		}
	}
	out := run(2, "status")
	if strings.Contains(out, "Ready") || !strings.Contains(out, fallbackNotChecked) || !strings.Contains(out, "403") {
		t.Errorf("status without userConfigurations:\n%s", out)
	}
	out = run(0, "welcome", "--send", "--ready-only", "--per-minute", "100000")
	if !strings.Contains(out, "0 to mail") || !strings.Contains(out, "Skipped 200 seller(s) not ready") || !strings.Contains(out, "Sent 0, failed 0.") {
		t.Errorf("welcome --ready-only without userConfigurations:\n%s", out)
	}

	// With the effective policies readable again, the direct assignment is seen.
	run(0, "sandbox", "teams", "user-configurations", "on")
	r, _, _ = statusJSON(t, "--dir", dir, "--sandbox")
	if r.Sellers.Ready == 0 {
		t.Fatalf("status with userConfigurations: no seller ready")
	}
	for _, s := range r.Sellers.List {
		if strings.EqualFold(s.UPN, upn) && (s.Ready || !strings.Contains(strings.Join(s.Failed, ","), checkTranscription)) {
			t.Errorf("%s with a direct AllOff: ready %v, failed %q", s.UPN, s.Ready, s.Failed)
		}
	}
}
