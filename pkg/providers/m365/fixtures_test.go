package m365

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"
)

// A members page as Graph documents it decodes into the adapter's users: the selected fields by
// Graph's names, the nested group left out by its @odata.type, a null usage location kept as
// absent. A decoder reading other names (e.g. "licenses", "upn") fails here.
func TestFixtureGroupMembersPage(t *testing.T) {
	b, err := os.ReadFile("testdata/group_members_page.json")
	if err != nil {
		t.Fatal(err)
	}
	var page struct {
		Next  string    `json:"@odata.nextLink"`
		Value []rawUser `json:"value"`
	}
	if err := json.Unmarshal(b, &page); err != nil {
		t.Fatal(err)
	}
	if page.Next == "" || len(page.Value) != 3 {
		t.Fatalf("page: next %q, %d items", page.Next, len(page.Value))
	}
	var users []rawUser
	for _, u := range page.Value {
		if isUserMember(u) {
			users = append(users, u)
		}
	}
	if len(users) != 2 {
		t.Fatalf("%d users, want 2 (the nested group is not one)", len(users))
	}
	adele, alex := users[0], users[1]
	if adele.UPN != "AdeleV@contoso.com" || adele.Loc == nil || *adele.Loc != "US" || len(adele.Licenses) != 1 ||
		adele.Licenses[0].SkuID != "639dec6b-bb19-468b-871c-c5c441c4b0cb" || adele.Licenses[0].DisabledPlans == nil {
		t.Errorf("Adele decoded as %+v", adele)
	}
	if alex.Loc != nil || len(alex.Licenses) != 0 || alex.Name != "Alex Wilber" {
		t.Errorf("Alex decoded as %+v", alex)
	}
}

// Graph's error body as Learn documents it gives the error its code and message.
func TestFixtureGraphErrorBody(t *testing.T) {
	b, err := os.ReadFile("testdata/error_bad_request.json")
	if err != nil {
		t.Fatal(err)
	}
	e := graphErr("GET", "/v1.0/users", 400, "", b)
	if e.Code != "Request_UnsupportedQuery" || e.Message != "Unsupported or invalid query filter clause specified for property 'userType' of resource 'User'." {
		t.Errorf("decoded code %q message %q", e.Code, e.Message)
	}
	if s := e.Error(); !strings.Contains(s, "400 Bad Request (Request_UnsupportedQuery: Unsupported or invalid") {
		t.Errorf("message %q", s)
	}
}

// A Copilot package detail's availability: "some" with a group (ids in any case) and a user.
// A decoder that read "availableTo" as a Boolean, or the access list from acquireUsersAndGroups
// (the deployment, not who may use it), fails here.
func TestFixtureCopilotPackageAvailability(t *testing.T) {
	raw, err := os.ReadFile("testdata/copilot_package_detail_some.json")
	if err != nil {
		t.Fatal(err)
	}
	a, err := DecodeAppAvailability(raw)
	if err != nil {
		t.Fatal(err)
	}
	if a.IsBlocked || a.AvailableTo != "some" || len(a.Groups) != 1 || len(a.Users) != 1 ||
		!a.Groups["0e5c8a1b-7d3f-4b2a-9c6e-1f2a3b4c5d6e"] || !a.Users["5b2d7f1a-8c4e-4d3b-a1f9-6e0c2b7d4a81"] {
		t.Fatalf("decoded %+v", a)
	}
	if _, err := DecodeAppAvailability([]byte(`{"id":"P_x","availableTo":"everyone"}`)); err == nil {
		t.Error("availableTo everyone (not a Graph value) accepted")
	}
}

// Learn's newer copilotPackage revision spells availableTo allowedForAll / allowedForSome /
// allowedForNone and deployedTo acquiredFor...: read as all / some / none, not as an unknown
// availability (which made every seller not covered) nor as "not everyone".
func TestFixtureCopilotPackageAgent365Spelling(t *testing.T) {
	raw, err := os.ReadFile("testdata/copilot_package_detail_agent365.json")
	if err != nil {
		t.Fatal(err)
	}
	a, err := DecodeAppAvailability(raw)
	if err != nil {
		t.Fatal(err)
	}
	if a.AvailableTo != "some" || !a.Groups["0e5c8a1b-7d3f-4b2a-9c6e-1f2a3b4c5d6e"] || !a.Users["5b2d7f1a-8c4e-4d3b-a1f9-6e0c2b7d4a81"] {
		t.Fatalf("decoded %+v", a)
	}
	var p pkgDetail
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatal(err)
	}
	if p.DeployedTo != "some" {
		t.Errorf("deployedTo acquiredForSome read as %q", p.DeployedTo)
	}
	for in, want := range map[string]string{"allowedForAll": "all", "ALLOWEDFORNONE": "none", "all": "all", "unknownFutureValue": "unknownFutureValue"} {
		var q pkgDetail
		if err := json.Unmarshal([]byte(`{"id":"P_x","availableTo":"`+in+`","deployedTo":"acquiredForAll"}`), &q); err != nil {
			t.Fatal(err)
		}
		if q.AvailableTo != want || q.DeployedTo != "all" {
			t.Errorf("availableTo %s read as %q (deployedTo %q)", in, q.AvailableTo, q.DeployedTo)
		}
		d, err := deploymentOf(&q)
		if err == nil && d.Everyone != (want == "all") {
			t.Errorf("availableTo %s: everyone = %v", in, d.Everyone)
		}
	}
}

// A copilotPackageDetail as Learn documents it decodes into the deployment `c4sctl status`
// reads: who it is deployed to and lastModifiedDateTime (the add-in clock's source).
func TestFixtureCopilotPackageDetail(t *testing.T) {
	b, err := os.ReadFile("testdata/copilot_package_detail.json")
	if err != nil {
		t.Fatal(err)
	}
	var p pkgDetail
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	d, err := deploymentOf(&p)
	if err != nil {
		t.Fatal(err)
	}
	if d.Everyone || len(d.GroupIDs) != 1 || d.GroupIDs[0] != "b320e1e1-5a2e-44d4-9c72-9d5c7f25c2f3" || len(d.UserIDs) != 1 {
		t.Errorf("deployment %+v", d)
	}
	if want := time.Date(2026, 10, 14, 9, 32, 11, 123456700, time.UTC); !d.LastModified.Equal(want) {
		t.Errorf("lastModifiedDateTime decoded as %v, want %v", d.LastModified, want)
	}
}

// Learn's userConfigurations page: the direct meeting policy and the group calling policy are
// read from policyAssignment (a decoder reading "policyName", "type" or the assignment on the
// outer object fails here).
func TestFixtureTeamsUserConfigurationsPage(t *testing.T) {
	raw, err := os.ReadFile("testdata/teams_user_configurations_page.json")
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeUserConfigurationsPage(raw)
	if err != nil {
		t.Fatal(err)
	}
	ps := got["5c802b19-3600-83f1-1767-7b9edc7f38ab"]
	if len(got) != 1 || len(ps) != 2 {
		t.Fatalf("decoded %+v", got)
	}
	want := []UserPolicy{{"TeamsCallingPolicy", "AllOn", "group", "75ae6229-35fe-4b01-ae7f-7c50439d239c"}, {"TeamsMeetingPolicy", "CustomPolicy", "direct", ""}}
	for i := range want {
		if ps[i] != want[i] {
			t.Errorf("assignment %d: %+v, want %+v", i, ps[i], want[i])
		}
	}
	if _, err := DecodeUserConfigurationsPage([]byte(`{"value":[{"id":"u","effectivePolicyAssignments":[{"policyType":"TeamsMeetingPolicy","policyAssignment":{"displayName":"X","assignmentType":"inherited"}}]}]}`)); err == nil {
		t.Error("assignment type inherited accepted")
	}
	// The Teams service's own spelling (Get-CsOnlineUser prints Direct) is read as Graph's.
	got, err = DecodeUserConfigurationsPage([]byte(`{"value":[{"id":"U","effectivePolicyAssignments":[{"policyType":"TeamsMeetingPolicy","policyAssignment":{"displayName":"X","assignmentType":"Direct"}}]}]}`))
	if err != nil || len(got["u"]) != 1 || got["u"][0].AssignmentType != "direct" {
		t.Errorf("assignment type Direct: %v %+v", err, got)
	}
}
