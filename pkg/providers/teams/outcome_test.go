package teams_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/providers/providertest"
	"github.com/c4sctl/c4sctl/pkg/providers/teams"
	"github.com/c4sctl/c4sctl/pkg/sandbox"
	"github.com/c4sctl/c4sctl/pkg/sandbox/teamsapi"
	"github.com/zclconf/go-cty/cty"
)

// A create whose answer is lost (httpx.OutcomeUnknownError) is re-read, and sent again only when
// the object is not there: never twice, never lost.
func TestCreateWithLostAnswerIsMadeOnce(t *testing.T) {
	for _, tc := range []struct {
		name      string
		typ       string
		path      string // the create's path; lost answers are injected there
		processed bool   // the lost request was handled (the object exists) or not
		lose      int
	}{
		{"meeting policy, made", "teams_meeting_policy", "/Skype.Policy/configurations/TeamsMeetingPolicy", true, 1},
		{"meeting policy, not made", "teams_meeting_policy", "/Skype.Policy/configurations/TeamsMeetingPolicy", false, 2},
		{"setup policy, made", "teams_app_setup_policy", "/Skype.Policy/configurations/TeamsAppSetupPolicy", true, 1},
		{"group assignment, made", "teams_app_setup_policy", "/Skype.Policy/groupPolicyAssignments/", true, 1},
		{"group assignment, not made", "teams_app_setup_policy", "/Skype.Policy/groupPolicyAssignments/", false, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			svc := teamsapi.New()
			sb, err := sandbox.Start(sandbox.Options{}, svc)
			if err != nil {
				t.Fatal(err)
			}
			defer sb.Close()
			p := teams.New()
			c, err := p.Configure(ctx, providertest.ConfigValue(p, sb.URL, nil), providertest.HTTPXEnv(sb))
			if err != nil {
				t.Fatal(err)
			}
			s := map[string]cty.Type{}
			for _, r := range p.Resources() {
				s[r.Type] = r.ImpliedType()
			}
			set := map[string]cty.Value{"identity": cty.StringVal("Sellers"), "allow_transcription": cty.True}
			if tc.typ == "teams_app_setup_policy" {
				set = map[string]cty.Value{"identity": cty.StringVal("Sellers"),
					"groups": cty.ListVal([]cty.Value{cty.ObjectVal(map[string]cty.Value{"group_id": cty.StringVal("g1"), "rank": cty.NumberIntVal(1)})})}
			}
			planned := providertest.Object(s[tc.typ], set)
			method := "POST" // a named policy is created by POST to its collection
			if strings.Contains(tc.path, "groupPolicyAssignments") {
				method = "PUT" // an assignment by PUT to its own path
			}
			loser := providertest.LoseAnswers(sb, method, tc.path, tc.lose, tc.processed)
			resp, err := c.Apply(ctx, providers.ApplyRequest{Type: tc.typ, Action: providers.Create, Planned: planned})
			if err != nil {
				t.Fatalf("create with %d lost answer(s): %v", loser.Lost(), err)
			}
			if loser.Lost() != tc.lose {
				t.Fatalf("%d answers lost, want %d (the test did not exercise the path)", loser.Lost(), tc.lose)
			}
			if resp.ID == "" {
				t.Error("no id")
			}
			// The request log counts the requests that reached a handler: exactly one create.
			pattern := "POST /teams/Skype.Policy/configurations/{type}"
			if tc.path == "/Skype.Policy/groupPolicyAssignments" {
				pattern = "POST /teams/Skype.Policy/groupPolicyAssignments"
			}
			if n := sb.RequestLog().Count(pattern); n != 1 {
				t.Errorf("%s handled %d times, want 1 (counts %v)", pattern, n, sb.RequestLog().Counts())
			}
			var got string
			sb.View(func() {
				if tc.typ == "teams_meeting_policy" {
					got = fmt.Sprint(svc.MeetingPolicy("Sellers")["AllowTranscription"])
				} else {
					got = fmt.Sprint(len(svc.AppSetupPolicy("Sellers")) > 0, len(svc.GroupAssignments(teamsapi.AppSetupPolicyType)))
				}
			})
			want := "true"
			if tc.typ == "teams_app_setup_policy" {
				want = "true 1"
			}
			if got != want {
				t.Errorf("sandbox holds %q, want %q", got, want)
			}
		})
	}
}
