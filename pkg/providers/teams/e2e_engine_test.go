//go:build e2e

// End-to-end through the real engine (spec, plan, apply, state): go test -tags e2e.
// Behind a tag while the engine packages are not committed.

package teams_test

import (
	"context"
	"testing"

	"github.com/c4sctl/c4sctl/pkg/apply"
	"github.com/c4sctl/c4sctl/pkg/plan"
	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/providers/providertest"
	"github.com/c4sctl/c4sctl/pkg/providers/teams"
	"github.com/c4sctl/c4sctl/pkg/sandbox/teamsapi"
	"github.com/c4sctl/c4sctl/pkg/spec"
	"github.com/c4sctl/c4sctl/pkg/state"
)

type oneClient struct{ c providers.Client }

func (o oneClient) Client(context.Context, string) (providers.Client, error) { return o.c, nil }

type nopWriter struct{}

func (nopWriter) Write(*state.State) error { return nil }

func TestE2ELocal(t *testing.T) {
	svc := teamsapi.New()
	c, _ := providertest.Start(t, teams.New(), svc)
	reg := providers.NewRegistry(teams.New())
	src := `
resource "teams_meeting_policy" "global" {
  allow_transcription = true
}
resource "teams_app_setup_policy" "global" {
  app_preset_list     = ["` + c4s + `"]
  pinned_app_bar_apps = [{ id = "` + c4s + `", order = 3 }]
}
resource "teams_app_setup_policy" "sellers" {
  identity            = "Copilot for Sales"
  app_preset_list     = ["` + c4s + `"]
  pinned_app_bar_apps = [{ id = "` + c4s + `", order = 1 }]
  groups              = [{ group_id = "g1", rank = 1 }]
}
`
	st := state.New()
	run := func() *plan.Plan {
		cfg, diags := spec.LoadFiles("cfg", map[string][]byte{"main.c4s.hcl": []byte(src)}, reg)
		if diags.HasErrors() {
			t.Fatalf("load: %s", diags.Error())
		}
		ev, diags := spec.NewEvaluator(cfg, spec.Inputs{})
		if diags.HasErrors() {
			t.Fatalf("eval: %s", diags.Error())
		}
		p := &plan.Planner{Config: cfg, Eval: ev, State: st, Registry: reg, Clients: oneClient{c}}
		pl, diags := p.Plan(context.Background())
		if diags.HasErrors() {
			t.Fatalf("plan: %s", diags.Error())
		}
		for _, ch := range pl.Changes {
			t.Logf("%s %s %v warn=%v notes=%v", ch.Addr, ch.Action, ch.Changes, ch.Warnings, ch.Notes)
		}
		a := &apply.Applier{Plan: pl, Config: cfg, Eval: ev, State: st, Backend: nopWriter{}, Clients: oneClient{c}}
		res, err := a.Apply(context.Background())
		if err != nil || !res.OK() {
			t.Fatalf("apply: %v %+v", err, res)
		}
		return pl
	}
	run()
	pl := run()
	for _, ch := range pl.Changes {
		if ch.Action != providers.NoOp {
			t.Errorf("second run: %s %s %v", ch.Addr, ch.Action, ch.Changes)
		}
	}
	if got := pinOrder(svc.AppSetupPolicy("Global")); got != "Activity1 Chat2 C4S3 Teams4 Calendar5 Calling6 OneDrive7" {
		t.Errorf("pins %s", got)
	}
	if g := svc.GroupAssignments("TeamsAppSetupPolicy"); len(g) != 1 || g[0].GroupID != "g1" || g[0].PolicyName != "Copilot for Sales" {
		t.Errorf("groups %v", g)
	}
	src = `resource "teams_meeting_policy" "global" {
  allow_transcription = true
}`
	pl = run()
	want := map[string]providers.Action{"teams_app_setup_policy.global": providers.Forget, "teams_app_setup_policy.sellers": providers.Delete, "teams_meeting_policy.global": providers.NoOp}
	for _, ch := range pl.Changes {
		if want[ch.Addr] != ch.Action {
			t.Errorf("third run: %s %s, want %s", ch.Addr, ch.Action, want[ch.Addr])
		}
	}
	if svc.AppSetupPolicy("Copilot for Sales") != nil || len(svc.GroupAssignments("TeamsAppSetupPolicy")) != 0 {
		t.Error("named policy or its groups left behind")
	}
	if got := pinOrder(svc.AppSetupPolicy("Global")); got != "Activity1 Chat2 C4S3 Teams4 Calendar5 Calling6 OneDrive7" {
		t.Errorf("forgotten Global changed: %s", got)
	}
	if a := st.Addresses(); len(a) != 1 || a[0] != "teams_meeting_policy.global" {
		t.Errorf("state %v", a)
	}
}
