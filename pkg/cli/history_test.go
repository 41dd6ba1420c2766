package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/c4sctl/c4sctl/pkg/apply"
	"github.com/c4sctl/c4sctl/pkg/plan"
	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/sandbox/teamsapi"
	"github.com/c4sctl/c4sctl/pkg/state"
)

// Each apply appends a record next to the state; history lists them, and with ADDR shows what
// each apply set on that resource.
func TestHistoryRecordsEachApply(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": transcription})
	if stdout, _, _ := runCLI(t, "--dir", dir, "history"); !strings.Contains(stdout, "No applies recorded yet.") {
		t.Errorf("history before any apply:\n%s", stdout)
	}
	if stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--no-color", "apply", "--auto-approve"); code != 0 {
		t.Fatalf("apply: exit %d\n%s%s", code, stdout, stderr)
	}
	// No changes: nothing to record.
	if stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--no-color", "apply", "--auto-approve"); code != 0 {
		t.Fatalf("second apply: exit %d\n%s%s", code, stdout, stderr)
	}
	off := strings.Replace(transcription, "allow_transcription = true", "allow_transcription = false", 1)
	if err := os.WriteFile(filepath.Join(dir, "main.c4s.hcl"), []byte(off), 0o644); err != nil {
		t.Fatal(err)
	}
	if stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--no-color", "apply", "--auto-approve"); code != 0 {
		t.Fatalf("third apply: exit %d\n%s%s", code, stdout, stderr)
	}

	stdout, stderr, code := runCLI(t, "--dir", dir, "history")
	if code != 0 {
		t.Fatalf("history: exit %d\n%s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	var heads []string
	for _, l := range lines {
		if !strings.HasPrefix(l, " ") {
			heads = append(heads, l)
		}
	}
	if len(heads) != 2 {
		t.Fatalf("history lists %d applies, want 2:\n%s", len(heads), stdout)
	}
	for _, want := range []string{"apply by ", "(sandbox), workspace default, serial 1: complete, 1 change(s), plan sha256:",
		"update   teams_meeting_policy.global: applied"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("history lacks %q:\n%s", want, stdout)
		}
	}
	stdout, _, _ = runCLI(t, "--dir", dir, "history", "teams_meeting_policy.global")
	if !strings.Contains(stdout, "allow_transcription: false -> true") || !strings.Contains(stdout, "allow_transcription: true -> false") {
		t.Errorf("history ADDR does not show what each apply set:\n%s", stdout)
	}
	if stdout, _, _ := runCLI(t, "--dir", dir, "history", "teams_meeting_policy.other"); !strings.Contains(stdout, "No recorded apply changed teams_meeting_policy.other") {
		t.Errorf("history of an address never applied:\n%s", stdout)
	}
	stdout, _, _ = runCLI(t, "--dir", dir, "history", "--json")
	var rec historyRecord
	if err := json.Unmarshal([]byte(strings.Split(stdout, "\n")[0]), &rec); err != nil || rec.Serial != 1 || len(rec.PlanHash) != len("sha256:")+64 || rec.Changes[0].Result != "applied" {
		t.Errorf("first record %+v (%v)", rec, err)
	}
}

// --lock-timeout waits for another run's lock and takes it once released; shorter than the
// holder's run, it gives up naming the holder.
func TestLockTimeoutWaitsForTheHolder(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": transcription})
	g := &Globals{Dir: dir}
	b, err := g.Backend()
	if err != nil {
		t.Fatal(err)
	}
	unlock, err := b.Lock("apply", "test")
	if err != nil {
		t.Fatal(err)
	}
	_, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--no-color", "--lock-timeout", "300ms", "plan")
	if code != 1 || !strings.Contains(stderr, "gave up waiting for the state lock after 300ms") || !strings.Contains(stderr, "Operation: apply") {
		t.Fatalf("plan with a short --lock-timeout: exit %d\n%s", code, stderr)
	}
	released := make(chan struct{})
	go func() {
		time.Sleep(500 * time.Millisecond)
		_ = unlock()
		close(released)
	}()
	stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--no-color", "--lock-timeout", "30s", "plan")
	<-released
	if code != 0 || !strings.Contains(stdout, "allow_transcription") {
		t.Fatalf("plan waiting for the lock: exit %d\n%s%s", code, stdout, stderr)
	}
}

// Drift says when the last apply was and who ran it, and for a drifted resource what the newest
// apply that changed it set (before and after), in its output and in the json and markdown
// reports; before any apply it says none is recorded.
func TestDriftSaysWhatTheLastApplySet(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": transcription})
	js, md := filepath.Join(dir, "drift.json"), filepath.Join(dir, "drift.md")
	stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--no-color", "drift", "--report", "json="+js, "--report", "markdown="+md)
	if code != 2 || !strings.Contains(stdout, "Last apply: no apply recorded") || !strings.Contains(stdout, "no apply recorded that changed it") {
		t.Fatalf("drift before any apply: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if b, _ := os.ReadFile(md); !strings.Contains(string(b), "Last apply: no apply recorded") || !strings.Contains(string(b), "No apply recorded that changed it.") {
		t.Errorf("markdown before any apply:\n%s", b)
	}
	var rep struct {
		History   bool `json:"history_read"`
		LastApply *struct {
			Time    time.Time `json:"time"`
			Who     string    `json:"who"`
			Outcome string    `json:"outcome"`
		} `json:"last_apply"`
		Resources []struct {
			Address     string `json:"address"`
			LastApplied *struct {
				Time       time.Time `json:"time"`
				Who        string    `json:"who"`
				Action     string    `json:"action"`
				Attributes []struct {
					Attribute, Before, After string
				} `json:"attributes"`
			} `json:"last_applied"`
		} `json:"resources"`
	}
	if b, err := os.ReadFile(js); err != nil || json.Unmarshal(b, &rep) != nil || !rep.History || rep.LastApply != nil || rep.Resources[0].LastApplied != nil {
		t.Errorf("json before any apply: %v\n%s", err, b)
	}

	before := time.Now().UTC().Truncate(time.Second)
	if stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--no-color", "apply", "--auto-approve"); code != 0 {
		t.Fatalf("apply: exit %d\n%s%s", code, stdout, stderr)
	}
	changeSandbox(t, dir, func(s *teamsapi.Service) error {
		return s.SetMeetingPolicyField("Global", "AllowTranscription", false)
	})
	stdout, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "--no-color", "drift", "--report", "json="+js, "--report", "markdown="+md)
	if code != 2 || !strings.Contains(stdout, "teams_meeting_policy.global has drifted") || !strings.Contains(stdout, "last changed by c4sctl: update applied, ") ||
		!strings.Contains(stdout, "allow_transcription: false -> true") || !strings.Contains(stdout, "\nLast apply: ") || strings.Contains(stdout, "no apply recorded") {
		t.Fatalf("drift after apply and an outside change: exit %d\n%s\n%s", code, stdout, stderr)
	}
	rep.LastApply, rep.Resources = nil, nil
	b, err := os.ReadFile(js)
	if err != nil || json.Unmarshal(b, &rep) != nil || rep.LastApply == nil || rep.LastApply.Who == "" || rep.LastApply.Outcome != "complete" || rep.LastApply.Time.Before(before) {
		t.Fatalf("json last_apply: %v\n%s", err, b)
	}
	la := rep.Resources[0].LastApplied
	if la == nil || la.Action != "update" || !la.Time.Equal(rep.LastApply.Time) || len(la.Attributes) != 1 ||
		la.Attributes[0].Attribute != "allow_transcription" || la.Attributes[0].Before != "false" || la.Attributes[0].After != "true" {
		t.Errorf("json last_applied:\n%s", b)
	}
	if b, _ := os.ReadFile(md); !strings.Contains(string(b), "Last apply: "+rep.LastApply.Time.Format(time.RFC3339)+" by ") ||
		!strings.Contains(string(b), "| `allow_transcription` | `false` | `true` |") {
		t.Errorf("markdown after apply:\n%s", b)
	}
}

// A failed change's error goes into the history record as apply prints it: a provider's text
// that quotes a sensitive variable's value is redacted there too (the record is kept beside the
// state, in the storage container with the azurerm backend).
func TestHistoryRecordRedactsSensitiveValuesInErrors(t *testing.T) {
	const canary = "CANARY-history-3f9a1c"
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": `
variable "note" {
  type      = string
  sensitive = true
}
resource "teams_meeting_policy" "global" {
  identity            = "Global"
  description         = var.note
  allow_transcription = true
}
`})
	g := &Globals{Dir: dir, Vars: []string{"note=" + canary}, Stdout: io.Discard, Stderr: io.Discard}
	if _, err := g.LoadConfig(); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Evaluator(); err != nil {
		t.Fatal(err)
	}
	s := &session{g: g, state: state.New()}
	pl := &plan.Plan{Changes: []*plan.ResourceChange{{Addr: "teams_meeting_policy.global", Type: "teams_meeting_policy", Provider: "teams", Action: providers.Update, ID: "Global"}}}
	res := &apply.Result{Failed: []string{"teams_meeting_policy.global"},
		Errors: map[string]error{"teams_meeting_policy.global": errors.New(`PATCH policy: 400 Bad Request: Description "` + canary + `" is too long`)}}
	rec, err := s.historyRecord(pl, res, nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(rec), canary) {
		t.Errorf("the history record holds the sensitive value:\n%s", rec)
	}
	if !strings.Contains(string(rec), "is too long") {
		t.Errorf("the history record lost the error:\n%s", rec)
	}
}

// failingWrites is a local store whose state writes fail (a lock broken mid-run, a storage
// outage) while its history still takes records.
type failingWrites struct{ *state.LocalStore }

type failingWrite struct{ *state.Local }

func (f failingWrites) Workspace(name string) (state.Backend, error) {
	b, err := f.LocalStore.Workspace(name)
	if err != nil {
		return nil, err
	}
	return failingWrite{b.(*state.Local)}, nil
}

func (failingWrite) Write(*state.State) error {
	return errors.New("this run's lock was broken (force-unlock) or expired: not writing")
}

// An apply whose state could not be saved made its changes in the tenant all the same: the
// history records them, with the outcome failed and why the state was not saved.
func TestHistoryRecordsAnApplyWhoseStateWasNotSaved(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": transcription})
	g := &Globals{Dir: dir, Sandbox: true, NoColor: true}
	g.store = failingWrites{&state.LocalStore{Dir: g.StateDir()}}
	stdout, stderr, code := runCLIWith(t, g, "--dir", dir, "--sandbox", "--no-color", "apply", "--auto-approve")
	if code != 1 || !strings.Contains(stderr, "state could not be saved") {
		t.Fatalf("apply with failing state writes: exit %d, want 1\n%s%s", code, stdout, stderr)
	}
	stdout, stderr, code = runCLI(t, "--dir", dir, "history")
	if code != 0 || !strings.Contains(stdout, ": failed, 1 change(s)") || !strings.Contains(stdout, "teams_meeting_policy.global: applied") ||
		!strings.Contains(stdout, "the state could not be saved (this run's lock was broken") {
		t.Errorf("history after an apply whose state was not saved: exit %d\n%s%s", code, stdout, stderr)
	}
}

// An apply that never reached its end (killed) wrote no record; force-unlock of its lock adds
// one, naming it, so that the history still shows that apply happened. Other locks (a plan's)
// are not recorded.
func TestForceUnlockOfAnApplyIsRecorded(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": transcription})
	b, err := (&state.LocalStore{Dir: filepath.Join(dir, ".c4sctl")}).Workspace(state.DefaultWorkspace)
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range []string{"plan", "apply"} {
		if _, err := b.Lock(op, "test"); err != nil {
			t.Fatal(err)
		}
		_, stderr, _ := runCLI(t, "--dir", dir, "plan")
		m := lockIDLine.FindStringSubmatch(stderr)
		if m == nil {
			t.Fatalf("no lock id in:\n%s", stderr)
		}
		if stdout, stderr, code := runCLI(t, "--dir", dir, "force-unlock", m[1]); code != 0 {
			t.Fatalf("force-unlock: exit %d\n%s%s", code, stdout, stderr)
		}
	}
	stdout, _, _ := runCLI(t, "--dir", dir, "history")
	if strings.Count(stdout, "force-unlock by ") != 1 || !strings.Contains(stdout, fmt.Sprintf("removed the lock of the apply by %s", state.NewLockInfo("x", "y").Who)) ||
		!strings.Contains(stdout, fmt.Sprintf("(pid %d)", os.Getpid())) || !strings.Contains(stdout, "never finished") {
		t.Errorf("history after force-unlock of a plan's, then an apply's lock:\n%s", stdout)
	}
	if stdout, _, _ := runCLI(t, "--dir", dir, "history", "teams_meeting_policy.global"); !strings.Contains(stdout, "No recorded apply changed") {
		t.Errorf("history ADDR lists the force-unlock:\n%s", stdout)
	}
}
