package salesforceapi

import (
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/c4sctl/c4sctl/pkg/sandbox"
	"github.com/golang-jwt/jwt/v5"
)

// The sign-in answers an opaque session id like a real org's ("00D" + the org id's 15
// characters, "!", a secret), not a JWT; a token of the sandbox's Microsoft identity endpoint is
// no Salesforce session.
func TestOpaqueSessionIDs(t *testing.T) {
	sb, _ := start(t, sandbox.Options{})
	tok := login(t, sb)
	if !regexp.MustCompile(`^00D[0-9A-Za-z]{12}![0-9A-Za-z._]{96}$`).MatchString(tok) || !strings.HasPrefix(tok, OrgID[:15]+"!") {
		t.Fatalf("session id %q is not shaped like a Salesforce session id", tok)
	}
	if _, _, err := jwt.NewParser().ParseUnverified(tok, jwt.MapClaims{}); err == nil {
		t.Fatal("the session id parses as a JWT")
	}
	if a := do(t, sb, "GET", q("SELECT Id FROM Profile"), tok, "", ""); a.status != 200 {
		t.Fatalf("query with the session: %d %s", a.status, a.body)
	}
	// A signed token for the same audience is refused, on REST and on the Metadata API.
	signed, _, err := sb.Tokens.Issue(sandbox.Claims{RegisteredClaims: jwt.RegisteredClaims{Audience: jwt.ClaimStrings{Audience}}})
	if err != nil {
		t.Fatal(err)
	}
	sfErr(t, do(t, sb, "GET", q("SELECT Id FROM Profile"), signed, "", ""), 401, "INVALID_SESSION_ID")
	if a := soap(t, sb, signed, `<readMetadata xmlns="http://soap.sforce.com/2006/04/metadata"><type>ConnectedApp</type><fullNames>x</fullNames></readMetadata>`); !strings.Contains(string(a.body), "INVALID_SESSION_ID") {
		t.Fatalf("Metadata API with a signed token: %d %s", a.status, a.body)
	}
	// Two sign-ins get two sessions.
	if tok2 := login(t, sb); tok2 == tok {
		t.Fatal("two sign-ins answered the same session id")
	}
}

// Unknown paths, methods and sObjects answer Salesforce's JSON error body; GET /services/data/
// lists the versions served, up to the current GA.
func TestUnknownResourcesAndVersions(t *testing.T) {
	sb, _ := start(t, sandbox.Options{})
	tok := login(t, sb)
	sfErr(t, do(t, sb, "GET", "/services/data/v62.0/nothing/here", tok, "", ""), 404, "NOT_FOUND")
	sfErr(t, do(t, sb, "GET", "/no/such/path", "", "", ""), 404, "NOT_FOUND")
	if m := sfErr(t, do(t, sb, "PUT", "/services/data/v62.0/sobjects/PermissionSet/0PS000000000001", tok, "application/json", "{}"), 405, "METHOD_NOT_ALLOWED"); !strings.Contains(m, "PATCH") || !strings.Contains(m, "'PUT'") {
		t.Fatalf("405 message: %s", m)
	}
	for _, path := range []string{"/services/data/v62.0/sobjects/Widget/describe", "/services/data/v62.0/sobjects/Widget", "/services/data/v62.0/sobjects/Widget/001000000000001"} {
		sfErr(t, do(t, sb, "GET", path, tok, "", ""), 404, "NOT_FOUND")
	}
	sfErr(t, do(t, sb, "POST", "/services/data/v62.0/sobjects/Widget", tok, "application/json", `{"Name":"x"}`), 404, "NOT_FOUND")
	sfErr(t, do(t, sb, "PATCH", "/services/data/v62.0/sobjects/Widget/001000000000001", tok, "application/json", `{"Name":"x"}`), 404, "NOT_FOUND")
	sfErr(t, do(t, sb, "DELETE", "/services/data/v62.0/sobjects/Widget/001000000000001", tok, "", ""), 404, "NOT_FOUND")

	a := do(t, sb, "GET", "/services/data/", "", "", "")
	var versions []struct{ Label, URL, Version string }
	if a.status != 200 || json.Unmarshal(a.body, &versions) != nil || len(versions) != MaxAPIVersion-MinAPIVersion+1 {
		t.Fatalf("versions: %d %s", a.status, a.body)
	}
	last := versions[len(versions)-1]
	if last.Version != "67.0" || last.URL != "/services/data/v67.0" || last.Label != "Summer '26" || versions[0].Version != "31.0" || versions[0].Label != "Summer '14" {
		t.Fatalf("versions: first %+v, last %+v", versions[0], last)
	}
}

// Ids in their 15-character form are taken wherever 18-character ones are: SOQL conditions on id
// fields, record paths, collection deletes; records answer the 18-character form.
func TestFifteenCharacterIDs(t *testing.T) {
	sb, svc := start(t, sandbox.Options{})
	tok := login(t, sb)
	user := svc.Org().User("seller001@contoso-sandbox.example")
	ps := svc.Org().PermissionSet("Sales_Operations")
	if user == nil || ps == nil || len(user.ID) != 18 || len(ps.ID) != 18 {
		t.Fatal("seed changed")
	}
	var res struct {
		TotalSize int              `json:"totalSize"`
		Records   []map[string]any `json:"records"`
	}
	a := do(t, sb, "GET", q("SELECT Id, Username FROM User WHERE Id = '"+user.ID[:15]+"'"), tok, "", "")
	if json.Unmarshal(a.body, &res) != nil || res.TotalSize != 1 || res.Records[0]["Id"] != user.ID {
		t.Fatalf("Id = 15 characters: %s", a.body)
	}
	a = do(t, sb, "GET", q("SELECT Id FROM User WHERE Id IN ('"+user.ID[:15]+"', 'nope') AND ProfileId = '"+user.ProfileID[:15]+"'"), tok, "", "")
	if json.Unmarshal(a.body, &res) != nil || res.TotalSize != 1 {
		t.Fatalf("IN and a reference field with 15 characters: %s", a.body)
	}
	if a := do(t, sb, "GET", "/services/data/v62.0/sobjects/User/"+user.ID[:15], tok, "", ""); a.status != 200 || !strings.Contains(string(a.body), user.ID) {
		t.Fatalf("record by 15-character id: %d %s", a.status, a.body)
	}
	if a := do(t, sb, "PATCH", "/services/data/v62.0/sobjects/PermissionSet/"+ps.ID[:15], tok, "application/json", `{"Label":"Sales Ops"}`); a.status != 204 || ps.Label != "Sales Ops" {
		t.Fatalf("update by 15-character id: %d %s", a.status, a.body)
	}
	// An assignment created with 15-character ids stores and answers the 18-character ones.
	body := `{"allOrNone":false,"records":[{"attributes":{"type":"PermissionSetAssignment"},"AssigneeId":"` + user.ID[:15] + `","PermissionSetId":"` + ps.ID[:15] + `"}]}`
	a = do(t, sb, "POST", "/services/data/v62.0/composite/sobjects", tok, "application/json", body)
	var saved []struct {
		ID      string `json:"id"`
		Success bool   `json:"success"`
	}
	if json.Unmarshal(a.body, &saved) != nil || len(saved) != 1 || !saved[0].Success {
		t.Fatalf("create with 15-character ids: %s", a.body)
	}
	if got := svc.Org().AssignedUsernames("Sales_Operations"); len(got) == 0 {
		t.Fatal("no assignment stored")
	}
	a = do(t, sb, "DELETE", "/services/data/v62.0/composite/sobjects?allOrNone=false&ids="+saved[0].ID[:15], tok, "", "")
	if json.Unmarshal(a.body, &saved) != nil || len(saved) != 1 || !saved[0].Success {
		t.Fatalf("delete by 15-character id: %s", a.body)
	}
}

// Failed collection results carry "fields": [] (never null), rolled-back ones included.
func TestCollectionErrorsCarryFields(t *testing.T) {
	sb, _ := start(t, sandbox.Options{})
	tok := login(t, sb)
	body := `{"allOrNone":true,"records":[{"attributes":{"type":"PermissionSet"},"Name":"Good_One","Label":"Good"},{"attributes":{"type":"PermissionSetAssignment"},"AssigneeId":"005000000000000AAA","PermissionSetId":"0PS000000000000AAA"}]}`
	a := do(t, sb, "POST", "/services/data/v62.0/composite/sobjects", tok, "application/json", body)
	var res []struct {
		Success bool `json:"success"`
		Errors  []struct {
			StatusCode string    `json:"statusCode"`
			Fields     *[]string `json:"fields"`
		} `json:"errors"`
	}
	if json.Unmarshal(a.body, &res) != nil || len(res) != 2 || res[0].Success || res[1].Success {
		t.Fatalf("%s", a.body)
	}
	for i, r := range res {
		if len(r.Errors) != 1 || r.Errors[0].Fields == nil {
			t.Fatalf("result %d has no fields array: %s", i, a.body)
		}
	}
	if res[0].Errors[0].StatusCode != "ALL_OR_NONE_OPERATION_ROLLED_BACK" || strings.Contains(string(a.body), `"fields":null`) {
		t.Fatalf("%s", a.body)
	}
}

// SELECT COUNT() answers the number of rows in totalSize and no records.
func TestSOQLCount(t *testing.T) {
	sb, svc := start(t, sandbox.Options{})
	tok := login(t, sb)
	active := 0
	for _, u := range svc.Org().Users {
		if u.IsActive {
			active++
		}
	}
	a := do(t, sb, "GET", q("SELECT COUNT() FROM User WHERE IsActive = true"), tok, "", "")
	var res struct {
		TotalSize int   `json:"totalSize"`
		Done      bool  `json:"done"`
		Records   []any `json:"records"`
	}
	if json.Unmarshal(a.body, &res) != nil || res.TotalSize != active || active < 100 || !res.Done || res.Records == nil || len(res.Records) != 0 {
		t.Fatalf("COUNT(): %d active users, answer %s", active, a.body)
	}
	sfErr(t, do(t, sb, "GET", q("SELECT COUNT() FROM Widget"), tok, "", ""), 400, "INVALID_TYPE")
}

// describeGlobal lists the objects c4sctl uses; describe gives their fields.
func TestDescribe(t *testing.T) {
	sb, _ := start(t, sandbox.Options{})
	tok := login(t, sb)
	a := do(t, sb, "GET", "/services/data/v62.0/sobjects/", tok, "", "")
	var global struct {
		Encoding     string `json:"encoding"`
		MaxBatchSize int    `json:"maxBatchSize"`
		SObjects     []struct {
			Name       string            `json:"name"`
			KeyPrefix  string            `json:"keyPrefix"`
			Queryable  bool              `json:"queryable"`
			Createable bool              `json:"createable"`
			URLs       map[string]string `json:"urls"`
		} `json:"sobjects"`
	}
	if a.status != 200 || json.Unmarshal(a.body, &global) != nil || global.Encoding != "UTF-8" || global.MaxBatchSize != 200 {
		t.Fatalf("describeGlobal: %d %s", a.status, a.body)
	}
	names := map[string]bool{}
	for _, o := range global.SObjects {
		names[o.Name] = true
		// Objects with ids have a three-character key prefix; UserPermissionAccess has no ids.
		if o.URLs["describe"] != "/services/data/v62.0/sobjects/"+o.Name+"/describe" || (len(o.KeyPrefix) != 3) != (o.Name == "UserPermissionAccess") {
			t.Fatalf("%s: %+v", o.Name, o)
		}
		if o.Name == "PermissionSetAssignment" && (!o.Queryable || !o.Createable) {
			t.Fatalf("%+v", o)
		}
	}
	for _, n := range []string{"User", "Profile", "PermissionSet", "PermissionSetAssignment", "SetupEntityAccess", "ObjectPermissions", "ConnectedApplication", "Account", "Opportunity"} {
		if !names[n] {
			t.Errorf("describeGlobal lacks %s", n)
		}
	}
	a = do(t, sb, "GET", "/services/data/v62.0/sobjects/permissionsetassignment/describe", tok, "", "")
	var d struct {
		Name   string `json:"name"`
		Fields []struct {
			Name             string   `json:"name"`
			Type             string   `json:"type"`
			ReferenceTo      []string `json:"referenceTo"`
			RelationshipName *string  `json:"relationshipName"`
		} `json:"fields"`
	}
	if a.status != 200 || json.Unmarshal(a.body, &d) != nil || d.Name != "PermissionSetAssignment" {
		t.Fatalf("describe: %d %s", a.status, a.body)
	}
	types := map[string]string{}
	for _, f := range d.Fields {
		types[f.Name] = f.Type
		if f.Name == "AssigneeId" && (len(f.ReferenceTo) != 1 || f.ReferenceTo[0] != "User" || f.RelationshipName == nil || *f.RelationshipName != "Assignee") {
			t.Fatalf("AssigneeId: %+v", f)
		}
	}
	if types["Id"] != "id" || types["AssigneeId"] != "reference" {
		t.Fatalf("field types %v", types)
	}
	a = do(t, sb, "GET", "/services/data/v62.0/sobjects/User", tok, "", "")
	if a.status != 200 || !strings.Contains(string(a.body), `"objectDescribe"`) || !strings.Contains(string(a.body), `"recentItems":[]`) {
		t.Fatalf("basic information: %d %s", a.status, a.body)
	}
}

// sObject Collections retrieve (GET with ids and fields, POST with a body) and update
// (allOrNone undoes every change when one record fails).
func TestCollectionsRetrieveAndUpdate(t *testing.T) {
	sb, svc := start(t, sandbox.Options{})
	tok := login(t, sb)
	u1, u2 := svc.Org().User("seller001@contoso-sandbox.example"), svc.Org().User("seller002@contoso-sandbox.example")
	a := do(t, sb, "GET", "/services/data/v62.0/composite/sobjects/User?ids="+u1.ID+",005000000000000AAA,"+u2.ID[:15]+"&fields=Id,Username", tok, "", "")
	var recs []map[string]any
	if a.status != 200 || json.Unmarshal(a.body, &recs) != nil || len(recs) != 3 || recs[0]["Username"] != u1.Username || recs[1] != nil || recs[2]["Id"] != u2.ID {
		t.Fatalf("retrieve: %d %s", a.status, a.body)
	}
	a = do(t, sb, "POST", "/services/data/v62.0/composite/sobjects/User", tok, "application/json", `{"ids":["`+u2.ID+`"],"fields":["Username"]}`)
	if a.status != 200 || json.Unmarshal(a.body, &recs) != nil || len(recs) != 1 || recs[0]["Username"] != u2.Username {
		t.Fatalf("retrieve (POST): %d %s", a.status, a.body)
	}
	sfErr(t, do(t, sb, "GET", "/services/data/v62.0/composite/sobjects/User?ids="+u1.ID, tok, "", ""), 400, "MISSING_ARGUMENT")
	sfErr(t, do(t, sb, "GET", "/services/data/v62.0/composite/sobjects/User?ids="+u1.ID+"&fields=Nope", tok, "", ""), 400, "INVALID_FIELD")
	sfErr(t, do(t, sb, "GET", "/services/data/v62.0/composite/sobjects/Widget?ids="+u1.ID+"&fields=Id", tok, "", ""), 404, "NOT_FOUND")
	ids := make([]string, 201)
	for i := range ids {
		ids[i] = u1.ID
	}
	sfErr(t, do(t, sb, "GET", "/services/data/v62.0/composite/sobjects/User?fields=Id&ids="+url.QueryEscape(strings.Join(ids, ",")), tok, "", ""), 400, "EXCEEDED_ID_LIMIT")

	ps := svc.Org().PermissionSet("Sales_Operations")
	before := ps.Label
	bad := `{"allOrNone":true,"records":[{"attributes":{"type":"PermissionSet"},"id":"` + ps.ID + `","Label":"Changed"},{"attributes":{"type":"PermissionSet"},"id":"` + ps.ID + `","Nope":1}]}`
	a = do(t, sb, "PATCH", "/services/data/v62.0/composite/sobjects", tok, "application/json", bad)
	if a.status != 200 || ps.Label != before || !strings.Contains(string(a.body), "ALL_OR_NONE_OPERATION_ROLLED_BACK") || !strings.Contains(string(a.body), "INVALID_FIELD") {
		t.Fatalf("allOrNone update with a bad record: label %q, %s", ps.Label, a.body)
	}
	good := `{"allOrNone":false,"records":[{"attributes":{"type":"PermissionSet"},"id":"` + ps.ID[:15] + `","Label":"Changed"},{"attributes":{"type":"PermissionSet"},"id":"0PS000000000000AAA","Label":"x"}]}`
	a = do(t, sb, "PATCH", "/services/data/v62.0/composite/sobjects", tok, "application/json", good)
	var res []struct {
		Success bool `json:"success"`
		Errors  []struct {
			StatusCode string `json:"statusCode"`
		} `json:"errors"`
	}
	if json.Unmarshal(a.body, &res) != nil || len(res) != 2 || !res[0].Success || res[1].Success || res[1].Errors[0].StatusCode != "ENTITY_IS_DELETED" || ps.Label != "Changed" {
		t.Fatalf("update: label %q, %s", ps.Label, a.body)
	}
}
