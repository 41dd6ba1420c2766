package graphapi_test

import (
	"net/http"
	"testing"

	"github.com/c4sctl/c4sctl/pkg/sandbox"
	"github.com/c4sctl/c4sctl/pkg/sandbox/graphapi"
	"github.com/c4sctl/c4sctl/pkg/sandbox/teamsapi"
	"github.com/golang-jwt/jwt/v5"
)

// Graph's Teams user configurations report what the Teams service of the same sandbox assigns:
// a direct assignment over the group's, the group of the best rank, nothing for Global; paged;
// 403 when turned off (as without TeamsUserConfiguration.Read.All).
func TestUserConfigurationsEffectivePolicies(t *testing.T) {
	svc, ts := graphapi.New(), teamsapi.New()
	sb, err := sandbox.Start(sandbox.Options{}, svc, ts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sb.Close() })
	tok, _, err := sb.Tokens.Issue(sandbox.Claims{TenantID: sandbox.TenantID, AppID: sandbox.ClientID, ObjectID: sandbox.AppObjectID, Roles: graphapi.GraphRoles,
		RegisteredClaims: jwt.RegisteredClaims{Audience: jwt.ClaimStrings{graphapi.Audience}}})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t, sb, svc, tok}
	if err := ts.AssignGroup(graphapi.SellersGroupID, teamsapi.MeetingPolicyType, "Kiosk", 1); err != nil {
		t.Fatal(err)
	}
	if err := ts.AssignUser(graphapi.UserUPN(2), teamsapi.MeetingPolicyType, "AllOff"); err != nil {
		t.Fatal(err)
	}
	meeting := func(u map[string]any) (name, how, group string) {
		for _, a := range u["effectivePolicyAssignments"].([]any) {
			a := a.(map[string]any)
			if a["policyType"] == teamsapi.MeetingPolicyType {
				pa := a["policyAssignment"].(map[string]any)
				g, _ := pa["groupId"].(string)
				return pa["displayName"].(string), pa["assignmentType"].(string), g
			}
		}
		return "", "", ""
	}
	code, page := e.call("GET", "/v1.0/admin/teams/userConfigurations?$select=id,effectivePolicyAssignments&$top=3", nil)
	if code != http.StatusOK || page["@odata.nextLink"] == nil {
		t.Fatalf("list: %d %v", code, page)
	}
	users := page["value"].([]any)
	if len(users) != 3 {
		t.Fatalf("%d users on a page of 3", len(users))
	}
	got := []string{}
	for _, u := range users {
		n, how, g := meeting(u.(map[string]any))
		got = append(got, n+"/"+how+"/"+g)
	}
	// Users 1..3 are sellers (seed): 2 has a direct AllOff.
	want := []string{"Kiosk/group/" + graphapi.SellersGroupID, "AllOff/direct/", "Kiosk/group/" + graphapi.SellersGroupID}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("user %d: %s, want %s", i+1, got[i], want[i])
		}
	}
	if _, ok := users[0].(map[string]any)["userPrincipalName"]; ok {
		t.Error("$select=id,effectivePolicyAssignments answered userPrincipalName")
	}
	// A user outside any assigned group gets Global: no meeting policy entry.
	code, one := e.call("GET", "/v1.0/admin/teams/userConfigurations/"+graphapi.UserID(1999), nil)
	if v, _ := one["value"].(map[string]any); code != http.StatusOK || v == nil {
		t.Fatalf("get: %d %v", code, one)
	} else if n, _, _ := meeting(v); n != "" {
		t.Errorf("user 1999 has meeting policy %q, want none (Global)", n)
	}
	if code, _ := e.call("GET", "/v1.0/admin/teams/userConfigurations?$top=1000", nil); code != http.StatusBadRequest {
		t.Errorf("$top=1000: %d", code)
	}
	sb.Mutate(func() error { svc.SetUserConfigurationsAvailable(false); return nil })
	if code, body := e.call("GET", "/v1.0/admin/teams/userConfigurations", nil); code != http.StatusForbidden || errCode(body) != "Authorization_RequestDenied" {
		t.Errorf("off: %d %v", code, body)
	}
}
