package teams_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/c4sctl/c4sctl/pkg/sandbox/teamsapi"

	"github.com/c4sctl/c4sctl/pkg/providers/teams"
)

func TestEffectivePolicyPrecedence(t *testing.T) {
	groups := []teams.GroupAssignment{
		{GroupID: "Contractors", PolicyName: "AllOff", Rank: 1},
		{GroupID: "sellers", PolicyName: "Tag:Sellers", Rank: 2},
		{GroupID: "all", PolicyName: "AllOn", Rank: 3},
	}
	in := func(ids ...string) func(string) bool {
		return func(g string) bool {
			for _, id := range ids {
				if strings.ToLower(id) == g {
					return true
				}
			}
			return false
		}
	}
	for _, tc := range []struct {
		name, direct string
		member       func(string) bool
		want         teams.Effective
	}{
		{"no assignment: Global", "", in(), teams.Effective{Policy: "Global", Via: teams.ViaGlobal}},
		{"one group", "", in("all"), teams.Effective{Policy: "AllOn", Via: teams.ViaGroup, GroupID: "all", Rank: 3}},
		{"lowest rank number wins", "", in("all", "sellers"), teams.Effective{Policy: "Sellers", Via: teams.ViaGroup, GroupID: "sellers", Rank: 2}},
		{"rank 1 wins, group ids case-insensitive", "", in("sellers", "contractors", "all"), teams.Effective{Policy: "AllOff", Via: teams.ViaGroup, GroupID: "Contractors", Rank: 1}},
		{"direct wins over every group", "Tag:Kiosk", in("contractors"), teams.Effective{Policy: "Kiosk", Via: teams.ViaDirect}},
		{"direct Global is no direct assignment", "Global", in("sellers"), teams.Effective{Policy: "Sellers", Via: teams.ViaGroup, GroupID: "sellers", Rank: 2}},
	} {
		if got := teams.EffectivePolicy(tc.direct, tc.member, groups); got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}
	// Order of the list does not matter.
	rev := []teams.GroupAssignment{groups[2], groups[1], groups[0]}
	if got := teams.EffectivePolicy("", in("all", "contractors"), rev); got.Policy != "AllOff" {
		t.Errorf("reversed list: %+v", got)
	}
}

// Coverage reads the assignments of both types and the policies in use, never one request per
// seller, and groups sellers by outcome.
func TestCoverageGroupsSellersByOutcome(t *testing.T) {
	h := newHarness(t)
	if err := h.svc.AssignGroup("contractors", teamsapi.MeetingPolicyType, "AllOff", 1); err != nil {
		t.Fatal(err)
	}
	if err := h.svc.SetMeetingPolicyField("AllOn", "AllowTranscription", true); err != nil {
		t.Fatal(err)
	}
	var sellers []teams.Seller
	for i := 0; i < 50; i++ {
		sellers = append(sellers, teams.Seller{ID: "u" + string(rune('a'+i%26)) + strings.Repeat("x", i/26), UPN: "s@x"})
	}
	members := map[string][]string{"contractors": {sellers[0].ID, sellers[1].ID}, teamsapi.SeedGroupID: {sellers[1].ID, sellers[2].ID}}
	calls := 0
	c := h.c.(*teams.Client)
	res, err := c.Coverage(context.Background(), teams.CoverageInput{Sellers: sellers, Members: func(_ context.Context, g string) ([]string, bool, error) {
		calls++
		ids, ok := members[g]
		return ids, ok, nil
	}, AppID: c4s})
	if err != nil {
		t.Fatal(err)
	}
	// teams.Seller 0 and 1: AllOff (rank 1 beats AllOn at rank 2 for seller 1); seller 2: AllOn;
	// the other 47: Global (transcription off in the seed). No setup policy has the app.
	if res.Sellers != 50 || res.Uncovered() != 50 || len(res.Groups) != 3 {
		t.Fatalf("coverage %+v", res)
	}
	got := map[string]int{}
	for _, g := range res.Groups {
		got[g.Meeting.Policy] = g.Sellers
		if g.AppInstalled || g.Setup.Policy != "Global" {
			t.Errorf("setup %+v", g)
		}
		if (g.Meeting.Policy == "AllOn") != g.Transcription {
			t.Errorf("transcription of %s: %v", g.Meeting.Policy, g.Transcription)
		}
	}
	if got["AllOff"] != 2 || got["AllOn"] != 1 || got["Global"] != 47 {
		t.Fatalf("by policy %v", got)
	}
	// Each seller's own outcome (status and welcome --ready-only read it per seller).
	if len(res.SellerGroup) != len(sellers) {
		t.Fatalf("SellerGroup has %d entries for %d sellers", len(res.SellerGroup), len(sellers))
	}
	for i, want := range map[int]string{0: "AllOff", 1: "AllOff", 2: "AllOn", 3: "Global", 49: "Global"} {
		g := res.Groups[res.SellerGroup[i]]
		if g.Meeting.Policy != want {
			t.Errorf("seller %d gets %s, want %s", i, g.Meeting.Policy, want)
		}
		if want == "AllOff" && (g.Meeting.Created == "" || g.Meeting.Via != teams.ViaGroup) {
			t.Errorf("seller %d: the group assignment's createdTime was not kept: %+v", i, g.Meeting)
		}
	}
	if calls != 2 || res.GroupsRead != 2 {
		t.Errorf("%d member reads, want 2 (one per assigned group)", calls)
	}
	// 2 assignment lists + 3 meeting policies + 1 setup policy, whatever the number of sellers.
	if res.Requests != 6 {
		t.Errorf("%d Teams requests, want 6", res.Requests)
	}
	// LoadSellers (the sellers listed while the Teams reads run) gives the same coverage; its
	// error is the coverage's.
	lazy, err := c.Coverage(context.Background(), teams.CoverageInput{LoadSellers: func(context.Context) ([]teams.Seller, error) { return sellers, nil },
		Members: func(_ context.Context, g string) ([]string, bool, error) { ids, ok := members[g]; return ids, ok, nil }, AppID: c4s})
	if err != nil || fmt.Sprint(lazy) != fmt.Sprint(res) {
		t.Fatalf("with LoadSellers: %v\n%+v\nwant %+v", err, lazy, res)
	}
	if _, err := c.Coverage(context.Background(), teams.CoverageInput{LoadSellers: func(context.Context) ([]teams.Seller, error) { return nil, fmt.Errorf("members: boom") },
		Members: func(_ context.Context, g string) ([]string, bool, error) { ids, ok := members[g]; return ids, ok, nil }, AppID: c4s}); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("LoadSellers failing: %v", err)
	}
}

// A seller whose meeting policy has transcription on but Copilot "Disabled" is not covered;
// "EnabledWithTranscript" (the default) is.
func TestCoverageCopilotOffIsNotCovered(t *testing.T) {
	h := newHarness(t)
	if err := h.svc.AssignGroup("sellers", teamsapi.MeetingPolicyType, "AllOn", 1); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]any{"AllowTranscription": true, "Copilot": "Disabled"} {
		if err := h.svc.SetMeetingPolicyField("AllOn", k, v); err != nil {
			t.Fatal(err)
		}
	}
	sellers := []teams.Seller{{ID: "u1", UPN: "a@x"}, {ID: "u2", UPN: "b@x"}}
	in := teams.CoverageInput{Sellers: sellers, Members: func(_ context.Context, g string) ([]string, bool, error) {
		return []string{"u1", "u2"}, true, nil
	}}
	c := h.c.(*teams.Client)
	res, err := c.Coverage(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if res.Uncovered() != 2 || len(res.Groups) != 1 || !res.Groups[0].Transcription || res.Groups[0].Copilot != "Disabled" {
		t.Fatalf("coverage with Copilot off: %+v", res)
	}
	if err := h.svc.SetMeetingPolicyField("AllOn", "Copilot", "EnabledWithTranscript"); err != nil {
		t.Fatal(err)
	}
	if res, err = c.Coverage(context.Background(), in); err != nil || res.Uncovered() != 0 {
		t.Fatalf("coverage with Copilot on: %v %+v", err, res)
	}
}

// With Graph's effective policies, a direct assignment is seen, a group one gets its rank from
// the assignment list, a seller Graph does not list is computed from the group members, and the
// members are read only for that case.
func TestCoverageFromGraphUserPolicies(t *testing.T) {
	h := newHarness(t)
	if err := h.svc.AssignGroup("sellers", teamsapi.MeetingPolicyType, "AllOn", 1); err != nil {
		t.Fatal(err)
	}
	if err := h.svc.SetMeetingPolicyField("AllOn", "AllowTranscription", true); err != nil {
		t.Fatal(err)
	}
	sellers := []teams.Seller{{ID: "U1", UPN: "a@x"}, {ID: "u2", UPN: "b@x"}, {ID: "u3", UPN: "c@x"}}
	calls := 0
	in := teams.CoverageInput{Sellers: sellers, Members: func(_ context.Context, g string) ([]string, bool, error) {
		calls++
		return []string{"u1", "u2", "u3"}, true, nil
	}, UserPolicies: map[string][]teams.UserPolicy{
		"u1": {{PolicyType: "TeamsMeetingPolicy", Name: "AllOff", AssignmentType: "direct"}},
		"u2": {{PolicyType: "TeamsMeetingPolicy", Name: "AllOn", AssignmentType: "group", GroupID: "SELLERS"}},
	}}
	c := h.c.(*teams.Client)
	res, err := c.Coverage(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	// Two assigned groups (the seed's and "sellers"), read once each for u3 only.
	if res.Source != teams.SourceGraph || res.NotInGraph != 1 || calls != 2 {
		t.Fatalf("source %s, %d not in Graph, %d member reads", res.Source, res.NotInGraph, calls)
	}
	by := map[string]teams.CoverageGroup{}
	for _, g := range res.Groups {
		k := g.Meeting.Policy + "/" + string(g.Meeting.Via)
		prev := by[k]
		g.Sellers += prev.Sellers
		by[k] = g
	}
	if g := by["AllOff/direct"]; g.Sellers != 1 || g.Transcription {
		t.Errorf("direct AllOff: %+v", g)
	}
	if g := by["AllOn/group"]; g.Sellers != 2 || g.Meeting.Rank != 1 || !g.Transcription {
		t.Errorf("AllOn through the group (Graph's u2 and computed u3): %+v", g)
	}
	in.UserPolicies["u3"] = []teams.UserPolicy{}
	calls = 0
	if res, err = c.Coverage(context.Background(), in); err != nil || calls != 0 || res.NotInGraph != 0 {
		t.Fatalf("every seller from Graph: %v, %d member reads", err, calls)
	}
	for _, g := range res.Groups {
		if g.Meeting.Policy == "Global" && g.Sellers != 1 {
			t.Errorf("u3 (no entry: Global): %+v", g)
		}
	}
}

// The policies in use are read beside each other (they come at the end of the plan's longest
// chain of requests), each once; a failing read is the coverage's error, naming the policy.
func TestCoverageReadsThePoliciesInUseBesideEachOther(t *testing.T) {
	h := newHarness(t)
	if err := h.svc.AssignGroup("contractors", teamsapi.MeetingPolicyType, "AllOff", 1); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	inFlight, most, reads := 0, 0, map[string]int{}
	refuse := ""
	all := make(chan struct{})
	h.sb.Use(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodGet || !strings.Contains(r.URL.Path, "/configuration/") {
				next.ServeHTTP(w, r)
				return
			}
			mu.Lock()
			reads[r.URL.Path]++
			inFlight++
			most = max(most, inFlight)
			if inFlight == 4 {
				close(all)
			}
			bad := refuse != "" && strings.HasSuffix(r.URL.Path, "/"+refuse)
			together := all
			mu.Unlock()
			// Hold each read until the four are in flight together (or give up after a while:
			// read one after the other, they never are, and most stays 1).
			select {
			case <-together:
			case <-time.After(3 * time.Second):
			}
			mu.Lock()
			inFlight--
			mu.Unlock()
			if bad {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusForbidden)
				_, _ = w.Write([]byte(`{"errors":[{"code":"Forbidden","message":"refused by the test"}]}`))
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	var sellers []teams.Seller
	for i := 0; i < 30; i++ {
		sellers = append(sellers, teams.Seller{ID: fmt.Sprintf("u%d", i), UPN: "s@x"})
	}
	members := map[string][]string{"contractors": {"u0", "u1"}, teamsapi.SeedGroupID: {"u1", "u2"}}
	in := teams.CoverageInput{Sellers: sellers, AppID: c4s, Members: func(_ context.Context, g string) ([]string, bool, error) {
		ids, ok := members[g]
		return ids, ok, nil
	}}
	c := h.c.(*teams.Client)
	// In use: meeting policies AllOff, AllOn and Global, setup policy Global: four reads.
	res, err := c.Coverage(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if most != 4 || len(reads) != 4 || res.Requests != 6 {
		t.Fatalf("%d policy reads in flight at most, reads %v, %d requests: want the 4 policies in use read together, each once (6 requests with the 2 lists)", most, reads, res.Requests)
	}
	for p, n := range reads {
		if n != 1 {
			t.Errorf("%s read %d times", p, n)
		}
	}
	mu.Lock()
	all, inFlight, refuse = make(chan struct{}), 0, "AllOn"
	mu.Unlock()
	if _, err := c.Coverage(context.Background(), in); err == nil || !strings.Contains(err.Error(), `read meeting policy "AllOn"`) || !strings.Contains(err.Error(), "refused by the test") {
		t.Fatalf("a refused policy read: %v", err)
	}
}
