package salesforceapi

import (
	"encoding/json"
	"testing"

	"github.com/c4sctl/c4sctl/pkg/sandbox"
)

// UserPermissionAccess answers one row, for the session's user: its profile and assigned
// permission sets together; it is read-only, has no Id, and refuses a field it does not have.
func TestUserPermissionAccessIsTheSessionUsers(t *testing.T) {
	sb, svc := start(t, sandbox.Options{})
	tok := login(t, sb) // client credentials: the integration user (System Administrator)
	read := func() map[string]any {
		t.Helper()
		a := do(t, sb, "GET", q("SELECT PermissionsViewSetup, PermissionsManageProfilesPermissionsets, PermissionsAssignPermissionSets FROM UserPermissionAccess"), tok, "", "")
		var body struct {
			TotalSize int              `json:"totalSize"`
			Records   []map[string]any `json:"records"`
		}
		if a.status != 200 || json.Unmarshal(a.body, &body) != nil || body.TotalSize != 1 || len(body.Records) != 1 {
			t.Fatalf("%d %s", a.status, a.body)
		}
		return body.Records[0]
	}
	rec := read()
	if rec["PermissionsViewSetup"] != true || rec["PermissionsAssignPermissionSets"] != true || rec["PermissionsManageProfilesPermissionsets"] != true {
		t.Fatalf("System Administrator: %v", rec)
	}
	if attrs, _ := rec["attributes"].(map[string]any); attrs["type"] != "UserPermissionAccess" || attrs["url"] != nil {
		t.Errorf("attributes %v", rec["attributes"])
	}

	// Move the integration user to Standard User: the permissions go, except what an assigned
	// permission set grants.
	_ = sb.Mutate(func() error {
		u := svc.org.User(IntegrationUser)
		u.ProfileID = svc.org.Profile(ProfileStandardUser).ID
		ps := svc.org.PermissionSets[len(svc.org.PermissionSets)-1] // Sales_Operations: View Setup
		svc.org.Assignments = append(svc.org.Assignments, &Assignment{ID: svc.org.nextID("0Pa"), AssigneeID: u.ID, PermissionSetID: ps.ID})
		return nil
	})
	rec = read()
	if rec["PermissionsViewSetup"] != true || rec["PermissionsAssignPermissionSets"] != false || rec["PermissionsManageProfilesPermissionsets"] != false {
		t.Fatalf("Standard User with Sales_Operations: %v", rec)
	}

	a := do(t, sb, "GET", q("SELECT Id FROM UserPermissionAccess"), tok, "", "")
	sfErr(t, a, 400, "INVALID_FIELD")
	a = do(t, sb, "POST", "/services/data/v62.0/sobjects/UserPermissionAccess", tok, "application/json", `{"PermissionsViewSetup":true}`)
	if a.status < 400 {
		t.Errorf("create accepted: %d %s", a.status, a.body)
	}
}
