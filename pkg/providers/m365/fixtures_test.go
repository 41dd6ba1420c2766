package m365

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
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
