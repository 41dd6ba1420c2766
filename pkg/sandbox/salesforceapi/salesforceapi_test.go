package salesforceapi

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/c4sctl/c4sctl/pkg/sandbox"
	"github.com/golang-jwt/jwt/v5"
)

func start(t *testing.T, opts sandbox.Options) (*sandbox.Server, *Service) {
	t.Helper()
	svc := New()
	sb, err := sandbox.Start(opts, svc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sb.Close() })
	return sb, svc
}

type answer struct {
	status int
	body   []byte
	header http.Header
}

func do(t *testing.T, sb *sandbox.Server, method, path, token, ctype, body string) answer {
	t.Helper()
	req, err := http.NewRequest(method, sb.URL+"/salesforce"+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := sb.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, b, resp.Header}
}

func login(t *testing.T, sb *sandbox.Server) string {
	t.Helper()
	a := do(t, sb, "POST", "/services/oauth2/token", "", "application/x-www-form-urlencoded",
		url.Values{"grant_type": {"client_credentials"}, "client_id": {ConsumerKey}, "client_secret": {ConsumerSecret}}.Encode())
	var body struct {
		AccessToken string `json:"access_token"`
		InstanceURL string `json:"instance_url"`
	}
	if a.status != 200 || json.Unmarshal(a.body, &body) != nil || body.AccessToken == "" || body.InstanceURL != sb.URL+"/salesforce" {
		t.Fatalf("login: %d %s", a.status, a.body)
	}
	return body.AccessToken
}

func sfErr(t *testing.T, a answer, status int, code string) string {
	t.Helper()
	var errs []struct {
		Message   string `json:"message"`
		ErrorCode string `json:"errorCode"`
	}
	if a.status != status || json.Unmarshal(a.body, &errs) != nil || len(errs) != 1 || errs[0].ErrorCode != code {
		t.Fatalf("want %d %s, got %d %s", status, code, a.status, a.body)
	}
	return errs[0].Message
}

func q(soql string) string { return "/services/data/v62.0/query?q=" + url.QueryEscape(soql) }

func TestSOQLParser(t *testing.T) {
	good := []string{
		"SELECT Id FROM User",
		"select Id, Profile.Name from User where IsActive = true and Profile.Name IN ('Standard User', 'Read Only') order by Username desc limit 5",
		"SELECT Id FROM User WHERE Username LIKE 'seller0%' AND Name != 'x'",
		"SELECT Id FROM PermissionSet WHERE Name = 'It\\'s' AND ProfileId = null",
		"SELECT Id FROM User WHERE Username NOT IN ('a')",
		"SELECT Id FROM User WHERE a = 1 OR b = 2 OR c = 3",
		"SELECT Id FROM User WHERE (a = 1 OR b = 2) AND c = 3",
		"SELECT Id FROM User WHERE NOT a = 1",
		"SELECT Id FROM User WHERE a = 1 AND (NOT b = 2)",
		"SELECT COUNT() FROM User WHERE IsActive = true",
	}
	for _, s := range good {
		if _, err := parseSOQL(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	bad := []string{"", "DELETE FROM User", "SELECT FROM User", "SELECT Id User", "SELECT COUNT(Id) FROM User", "SELECT COUNT(), Id FROM User", "SELECT Id FROM User WHERE a = 1 AND b = 2 OR c = 3",
		"SELECT Id FROM User WHERE NOT a = 1 AND b = 2", "SELECT Id FROM User WHERE (a = 1 OR b = 2", "SELECT Id FROM User WHERE a = 1 OR",
		"SELECT Id FROM User WHERE Name = 'open", "SELECT Id FROM User LIMIT x", "SELECT Id FROM User WHERE Id IN ('a' 'b')", "SELECT Id FROM User; DROP"}
	for _, s := range bad {
		_, err := parseSOQL(s)
		if se, ok := err.(*soqlError); !ok || se.code != "MALFORMED_QUERY" {
			t.Fatalf("%q: %v", s, err)
		}
	}
}

func TestRESTQueryErrorsAndPaging(t *testing.T) {
	sb, svc := start(t, sandbox.Options{})
	sfErr(t, do(t, sb, "GET", q("SELECT Id FROM User"), "", "", ""), 401, "INVALID_SESSION_ID")
	tok := login(t, sb)
	// Retired versions (7.0 to 30.0) are gone, versions after the current GA do not exist.
	sfErr(t, do(t, sb, "GET", "/services/data/v10.0/query?q=x", tok, "", ""), 410, "GONE")
	sfErr(t, do(t, sb, "GET", "/services/data/v30.0/query?q=x", tok, "", ""), 410, "GONE")
	sfErr(t, do(t, sb, "GET", fmt.Sprintf("/services/data/v%d.0/query?q=x", MaxAPIVersion+1), tok, "", ""), 404, "NOT_FOUND")
	sfErr(t, do(t, sb, "GET", "/services/data/vfoo/query?q=x", tok, "", ""), 404, "NOT_FOUND")
	for _, v := range []string{"v31.0", "v67.0"} {
		if a := do(t, sb, "GET", "/services/data/"+v+"/query?q="+url.QueryEscape("SELECT Id FROM Profile"), tok, "", ""); a.status != 200 {
			t.Fatalf("%s: %d %s", v, a.status, a.body)
		}
	}
	if m := sfErr(t, do(t, sb, "GET", q("SELECT Id FROM User WHERE IsActive = true AND Username = 'a' OR Username = 'b'"), tok, "", ""), 400, "MALFORMED_QUERY"); !strings.Contains(m, "parentheses") {
		t.Fatal(m)
	}
	sfErr(t, do(t, sb, "GET", q("SELECT Id FROM Widget__c"), tok, "", ""), 400, "INVALID_TYPE")
	if m := sfErr(t, do(t, sb, "GET", q("SELECT Profile.Nope FROM User"), tok, "", ""), 400, "INVALID_FIELD"); !strings.Contains(m, "'Nope' on entity 'Profile'") {
		t.Fatal(m)
	}
	a := do(t, sb, "GET", q("SELECT Id, Username, Profile.Name FROM User WHERE Username = 'seller001@contoso-sandbox.example'"), tok, "", "")
	var one struct {
		TotalSize int              `json:"totalSize"`
		Done      bool             `json:"done"`
		Records   []map[string]any `json:"records"`
	}
	if json.Unmarshal(a.body, &one) != nil || one.TotalSize != 1 || !one.Done {
		t.Fatalf("%s", a.body)
	}
	if p, _ := one.Records[0]["Profile"].(map[string]any); p["Name"] != ProfileStandardUser || p["attributes"] == nil {
		t.Fatalf("relationship %v", one.Records[0])
	}
	if !strings.HasPrefix(a.header.Get("Sforce-Limit-Info"), "api-usage=") {
		t.Fatalf("no Sforce-Limit-Info: %v", a.header)
	}
	if err := sb.Mutate(func() error { _, err := svc.AddUsers(2500, ProfileStandardUser); return err }); err != nil {
		t.Fatal(err)
	}
	total := 2 + SeededUsers + 2500
	var page struct {
		TotalSize int              `json:"totalSize"`
		Done      bool             `json:"done"`
		Next      string           `json:"nextRecordsUrl"`
		Records   []map[string]any `json:"records"`
	}
	a = do(t, sb, "GET", q("SELECT Id FROM User"), tok, "", "")
	if json.Unmarshal(a.body, &page) != nil || page.Done || len(page.Records) != PageSize || page.TotalSize != total || !strings.HasPrefix(page.Next, "/services/data/v62.0/query/") {
		t.Fatalf("first page: done %v, %d records, next %q", page.Done, len(page.Records), page.Next)
	}
	next := page.Next
	page.Next, page.TotalSize = "", 0
	a = do(t, sb, "GET", next, tok, "", "")
	// totalSize is the query's total on every page, not what is left.
	if json.Unmarshal(a.body, &page) != nil || !page.Done || len(page.Records) != total-PageSize || page.Next != "" || page.TotalSize != total {
		t.Fatalf("second page: done %v, %d records, totalSize %d (want %d)", page.Done, len(page.Records), page.TotalSize, total)
	}
	sfErr(t, do(t, sb, "GET", next, tok, "", ""), 400, "INVALID_QUERY_LOCATOR")
	// Tooling query serves setup objects only.
	if a := do(t, sb, "GET", "/services/data/v62.0/tooling/query?q="+url.QueryEscape("SELECT Id, Name FROM PermissionSet WHERE IsOwnedByProfile = false"), tok, "", ""); a.status != 200 || !strings.Contains(string(a.body), "Sales_Operations") {
		t.Fatalf("tooling: %d %s", a.status, a.body)
	}
	sfErr(t, do(t, sb, "GET", "/services/data/v62.0/tooling/query?q="+url.QueryEscape("SELECT Id FROM PermissionSetAssignment"), tok, "", ""), 400, "INVALID_TYPE")
	// Revoked and expired sessions.
	sb.Tokens.Revoke(tok)
	sfErr(t, do(t, sb, "GET", q("SELECT Id FROM Profile"), tok, "", ""), 401, "INVALID_SESSION_ID")
	sb.Tokens.SetTTL(time.Millisecond)
	short := login(t, sb)
	time.Sleep(5 * time.Millisecond)
	sfErr(t, do(t, sb, "GET", q("SELECT Id FROM Profile"), short, "", ""), 401, "INVALID_SESSION_ID")
	sb.Tokens.SetTTL(time.Hour)
	// The daily limit.
	tok = login(t, sb)
	_ = sb.Mutate(func() error { svc.SetAPILimit(99, 100); return nil })
	if a := do(t, sb, "GET", q("SELECT Id FROM Profile"), tok, "", ""); a.status != 200 || a.header.Get("Sforce-Limit-Info") != "api-usage=100/100" {
		t.Fatalf("last allowed request: %d %v", a.status, a.header)
	}
	sfErr(t, do(t, sb, "GET", q("SELECT Id FROM Profile"), tok, "", ""), 403, "REQUEST_LIMIT_EXCEEDED")
}

func TestOAuth(t *testing.T) {
	sb, _ := start(t, sandbox.Options{})
	form := func(v url.Values) answer {
		return do(t, sb, "POST", "/services/oauth2/token", "", "application/x-www-form-urlencoded", v.Encode())
	}
	oauthErr := func(a answer, code string) {
		t.Helper()
		var b struct {
			Error string `json:"error"`
		}
		if a.status != 400 || json.Unmarshal(a.body, &b) != nil || b.Error != code {
			t.Fatalf("want %s, got %d %s", code, a.status, a.body)
		}
	}
	oauthErr(form(url.Values{"grant_type": {"client_credentials"}, "client_id": {ConsumerKey}, "client_secret": {"x"}}), "invalid_client")
	oauthErr(form(url.Values{"grant_type": {"password"}}), "unsupported_grant_type")
	keyPEM, err := JWTPrivateKeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(keyPEM)
	key, err := x509.ParsePKCS1PrivateKey(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	// aud is a string as Salesforce documents it; an []string is sent as a JSON array.
	assertion := func(iss, sub string, aud any, exp time.Duration) string {
		s, err := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"iss": iss, "sub": sub, "aud": aud, "exp": jwt.NewNumericDate(time.Now().Add(exp))}).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	bearer := func(a string) answer {
		return form(url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {a}})
	}
	if a := bearer(assertion(ConsumerKey, AdminUser, sb.URL+"/salesforce", time.Minute)); a.status != 200 {
		t.Fatalf("jwt bearer: %d %s", a.status, a.body)
	}
	oauthErr(bearer(assertion(ConsumerKey, AdminUser, "https://evil.example", time.Minute)), "invalid_grant")
	// The right audience as a one-element array is refused as Salesforce refuses it.
	a := bearer(assertion(ConsumerKey, AdminUser, []string{sb.URL + "/salesforce"}, time.Minute))
	oauthErr(a, "invalid_grant")
	if !strings.Contains(string(a.body), `"audience is invalid"`) {
		t.Fatalf("array aud: %s", a.body)
	}
	oauthErr(bearer(assertion("someone-else", AdminUser, sb.URL+"/salesforce", time.Minute)), "invalid_grant")
	oauthErr(bearer(assertion(ConsumerKey, "ghost@x", sb.URL+"/salesforce", time.Minute)), "invalid_grant")
	oauthErr(bearer(assertion(ConsumerKey, AdminUser, sb.URL+"/salesforce", -time.Minute)), "invalid_grant")
	oauthErr(bearer("not.a.jwt"), "invalid_grant")
}

func TestCollections(t *testing.T) {
	sb, svc := start(t, sandbox.Options{})
	tok := login(t, sb)
	var psID, u1, u2 string
	sb.View(func() {
		psID = svc.Org().PermissionSet("Sales_Operations").ID
		u1, u2 = svc.Org().User("seller001@contoso-sandbox.example").ID, svc.Org().User("seller002@contoso-sandbox.example").ID
	})
	rec := func(u string) map[string]any {
		return map[string]any{"attributes": map[string]any{"type": "PermissionSetAssignment"}, "AssigneeId": u, "PermissionSetId": psID}
	}
	post := func(allOrNone bool, recs ...map[string]any) []saveResult {
		b, _ := json.Marshal(map[string]any{"allOrNone": allOrNone, "records": recs})
		a := do(t, sb, "POST", "/services/data/v62.0/composite/sobjects", tok, "application/json", string(b))
		var out []saveResult
		if a.status != 200 || json.Unmarshal(a.body, &out) != nil {
			t.Fatalf("%d %s", a.status, a.body)
		}
		return out
	}
	res := post(false, rec(u1), rec(u1), rec("005nope"))
	if !res[0].Success || res[1].Success || res[1].Errors[0].StatusCode != "DUPLICATE_VALUE" || res[2].Errors[0].StatusCode != "INVALID_CROSS_REFERENCE_KEY" {
		t.Fatalf("%+v", res)
	}
	firstID := *res[0].ID
	res = post(true, rec(u2), rec("005nope"))
	if res[0].Success || res[0].Errors[0].StatusCode != "ALL_OR_NONE_OPERATION_ROLLED_BACK" {
		t.Fatalf("allOrNone: %+v", res)
	}
	sb.View(func() {
		if n := len(svc.Org().AssignedUsernames("Sales_Operations")); n != 1 {
			t.Errorf("%d assignments after a rolled-back request", n)
		}
	})
	many := make([]map[string]any, 201)
	for i := range many {
		many[i] = rec(u2)
	}
	b, _ := json.Marshal(map[string]any{"records": many})
	sfErr(t, do(t, sb, "POST", "/services/data/v62.0/composite/sobjects", tok, "application/json", string(b)), 400, "EXCEEDED_ID_LIMIT")
	ids := strings.Repeat("0Pa,", 200) + "0Pa"
	sfErr(t, do(t, sb, "DELETE", "/services/data/v62.0/composite/sobjects?ids="+ids, tok, "", ""), 400, "EXCEEDED_ID_LIMIT")
	// Deleting a permission set that is assigned fails per record; the assignment row goes first.
	a := do(t, sb, "DELETE", "/services/data/v62.0/composite/sobjects?ids="+psID+","+firstID, tok, "", "")
	var del []saveResult
	if json.Unmarshal(a.body, &del) != nil || len(del) != 2 || del[0].Success || del[0].Errors[0].StatusCode != "DELETE_FAILED" || !del[1].Success {
		t.Fatalf("%s", a.body)
	}
	sfErr(t, do(t, sb, "POST", "/services/data/v62.0/sobjects/PermissionSet", tok, "application/json", `{"Name":"Bad Name","Label":"x"}`), 400, "INVALID_FIELD")
	sfErr(t, do(t, sb, "POST", "/services/data/v62.0/sobjects/PermissionSet", tok, "application/json", `{"Name":"Sales_Operations","Label":"x"}`), 400, "DUPLICATE_DEVELOPER_NAME")
	sfErr(t, do(t, sb, "POST", "/services/data/v62.0/sobjects/PermissionSet", tok, "application/json", `{"Name":"X1","Label":"x","PermissionsFly":true}`), 400, "INVALID_FIELD")
}

func soap(t *testing.T, sb *sandbox.Server, sid, body string) answer {
	t.Helper()
	env := `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Header><SessionHeader xmlns="http://soap.sforce.com/2006/04/metadata"><sessionId>` + sid + `</sessionId></SessionHeader></soapenv:Header><soapenv:Body>` + body + `</soapenv:Body></soapenv:Envelope>`
	return do(t, sb, "POST", "/services/Soap/m/62.0", "", "text/xml", env)
}

const readApp = `<readMetadata xmlns="http://soap.sforce.com/2006/04/metadata"><type>ConnectedApp</type><fullNames>Microsoft_Power_Platform</fullNames></readMetadata>`

func update(ip string) string {
	return `<updateMetadata xmlns="http://soap.sforce.com/2006/04/metadata"><metadata xsi:type="ConnectedApp"><fullName>Microsoft_Power_Platform</fullName><label>Microsoft Power Platform</label><oauthConfig><callbackUrl>https://x</callbackUrl><isAdminApproved>true</isAdminApproved></oauthConfig><oauthPolicy><ipRelaxation>` + ip + `</ipRelaxation><refreshTokenPolicy>infinite</refreshTokenPolicy></oauthPolicy><profileName>Standard User</profileName></metadata></updateMetadata>`
}

func TestMetadataSOAP(t *testing.T) {
	sb, svc := start(t, sandbox.Options{})
	a := soap(t, sb, "bogus", readApp)
	if a.status != 500 || !strings.Contains(string(a.body), "<faultcode>sf:INVALID_SESSION_ID</faultcode>") {
		t.Fatalf("%d %s", a.status, a.body)
	}
	tok := login(t, sb)
	if a := soap(t, sb, tok, readApp); a.status != 200 || !strings.Contains(string(a.body), `<records xsi:nil="true"/>`) {
		t.Fatalf("not installed: %s", a.body)
	}
	if a := soap(t, sb, tok, `<deploy/>`); a.status != 500 || !strings.Contains(string(a.body), "No operation available") {
		t.Fatalf("%s", a.body)
	}
	_ = sb.Mutate(func() error { return svc.InstallConnectedApp(PowerPlatformApp) })
	a = soap(t, sb, tok, readApp)
	for _, w := range []string{`<records xsi:type="ConnectedApp">`, "<isAdminApproved>false</isAdminApproved>", "<ipRelaxation>ENFORCE</ipRelaxation>", "<refreshTokenPolicy>infinite</refreshTokenPolicy>"} {
		if !strings.Contains(string(a.body), w) {
			t.Fatalf("installed app lacks %s: %s", w, a.body)
		}
	}
	if strings.Contains(string(a.body), "sessionPolicy") {
		t.Fatalf("a fresh install has no session timeout: %s", a.body)
	}
	if a := soap(t, sb, tok, update("SOMETIMES")); !strings.Contains(string(a.body), "<statusCode>FIELD_INTEGRITY_EXCEPTION</statusCode>") || !strings.Contains(string(a.body), "<success>false</success>") {
		t.Fatalf("%s", a.body)
	}
	if a := soap(t, sb, tok, update("BYPASS")); !strings.Contains(string(a.body), "<success>true</success>") {
		t.Fatalf("%s", a.body)
	}
	sb.View(func() {
		app := svc.Org().App(PowerPlatformApp)
		p, _ := svc.Org().AppAccess(PowerPlatformApp)
		if app.IPRelaxation != "BYPASS" || !app.IsAdminApproved || len(p) != 1 {
			t.Errorf("%+v %v", app, p)
		}
	})
	_ = sb.Mutate(func() error { return svc.LockPolicies(PowerPlatformApp, true) })
	if a := soap(t, sb, tok, update("ENFORCE")); !strings.Contains(string(a.body), "CANNOT_MODIFY_MANAGED_OBJECT") {
		t.Fatalf("%s", a.body)
	}
}

func TestPersistenceAndReset(t *testing.T) {
	dir := t.TempDir()
	svc := New()
	sb, err := sandbox.Start(sandbox.Options{Dir: dir}, svc)
	if err != nil {
		t.Fatal(err)
	}
	_ = sb.Mutate(func() error {
		if err := svc.InstallConnectedApp(PowerPlatformApp); err != nil {
			return err
		}
		return svc.SetPolicy(PowerPlatformApp, "ip_relaxation", "BYPASS")
	})
	if err := sb.Close(); err != nil {
		t.Fatal(err)
	}
	svc2 := New()
	sb2, err := sandbox.Start(sandbox.Options{Dir: dir}, svc2)
	if err != nil {
		t.Fatal(err)
	}
	defer sb2.Close()
	if app := svc2.Org().App(PowerPlatformApp); !app.Installed || app.IPRelaxation != "BYPASS" || len(svc2.Org().Users) != SeededUsers+2 {
		t.Fatalf("restored %+v", app)
	}
	sb2.Reset()
	if svc2.Org().App(PowerPlatformApp).Installed {
		t.Fatal("reset kept the install")
	}
	for _, bad := range [][2]string{{"ip_relaxation", "bypass"}, {"refresh_token_policy", "specific_lifetime:0:DAYS"}, {"session_timeout", "-1"}, {"colour", "red"}} {
		_ = svc2.InstallConnectedApp(PowerPlatformApp)
		if err := svc2.SetPolicy(PowerPlatformApp, bad[0], bad[1]); err == nil {
			t.Fatalf("SetPolicy %v accepted", bad)
		}
	}
}

// ObjectPermissions: created, queried, updated and deleted with the permission set, with the
// dependencies Salesforce enforces between the permissions.
func TestObjectPermissions(t *testing.T) {
	sb, _ := start(t, sandbox.Options{})
	tok := login(t, sb)
	const v = "/services/data/v62.0"
	a := do(t, sb, "POST", v+"/sobjects/PermissionSet", tok, "application/json", `{"Name":"Copilot_Users","Label":"Copilot Users"}`)
	var created struct{ ID string }
	if a.status != 201 || json.Unmarshal(a.body, &created) != nil || created.ID == "" {
		t.Fatalf("create permission set: %d %s", a.status, a.body)
	}
	ps := created.ID
	post := func(body string) answer {
		return do(t, sb, "POST", v+"/sobjects/ObjectPermissions", tok, "application/json", body)
	}
	for _, tt := range []struct{ body, code string }{
		{`{"ParentId":"` + ps + `","SobjectType":"Account","PermissionsEdit":true}`, "FIELD_INTEGRITY_EXCEPTION"},
		{`{"ParentId":"` + ps + `","SobjectType":"Account","PermissionsRead":true,"PermissionsDelete":true}`, "FIELD_INTEGRITY_EXCEPTION"},
		{`{"ParentId":"` + ps + `","SobjectType":"Nope","PermissionsRead":true}`, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"},
		{`{"ParentId":"0PS000000000000AAA","SobjectType":"Account","PermissionsRead":true}`, "INVALID_CROSS_REFERENCE_KEY"},
		{`{"ParentId":"` + ps + `","SobjectType":"Account","PermissionsFly":true}`, "INVALID_FIELD"},
	} {
		sfErr(t, post(tt.body), 400, tt.code)
	}
	a = post(`{"ParentId":"` + ps + `","SobjectType":"Account","PermissionsRead":true,"PermissionsCreate":true}`)
	if a.status != 201 || json.Unmarshal(a.body, &created) != nil {
		t.Fatalf("create: %d %s", a.status, a.body)
	}
	op := created.ID
	sfErr(t, post(`{"ParentId":"`+ps+`","SobjectType":"Account","PermissionsRead":true}`), 400, "DUPLICATE_VALUE")
	if a := post(`{"ParentId":"` + ps + `","SobjectType":"Invoice__c","PermissionsRead":true}`); a.status != 201 {
		t.Fatalf("a custom object: %d %s", a.status, a.body)
	}
	if a := post(`{"ParentId":"` + ps + `","SobjectType":"fsc__Balance_Sheet__c","PermissionsRead":true}`); a.status != 201 {
		t.Fatalf("a managed package's custom object: %d %s", a.status, a.body)
	}
	// allOrNone: a duplicate within the request fails it whole, and nothing is kept.
	a = do(t, sb, "POST", v+"/composite/sobjects", tok, "application/json", `{"allOrNone":true,"records":[`+
		`{"attributes":{"type":"ObjectPermissions"},"ParentId":"`+ps+`","SobjectType":"Lead","PermissionsRead":true},`+
		`{"attributes":{"type":"ObjectPermissions"},"ParentId":"`+ps+`","SobjectType":"Lead","PermissionsRead":true}]}`)
	var res []struct {
		Success bool
		Errors  []struct{ StatusCode string }
	}
	if a.status != 200 || json.Unmarshal(a.body, &res) != nil || len(res) != 2 || res[0].Success || res[1].Success ||
		res[0].Errors[0].StatusCode != "ALL_OR_NONE_OPERATION_ROLLED_BACK" || res[1].Errors[0].StatusCode != "DUPLICATE_VALUE" {
		t.Fatalf("allOrNone with a duplicate inside: %d %s", a.status, a.body)
	}
	if a := post(`{"ParentId":"` + ps + `","SobjectType":"Lead","PermissionsRead":true}`); a.status != 201 {
		t.Fatalf("Lead after the rolled back request: %d %s (the rollback kept a row)", a.status, a.body)
	}

	patch := func(body string) answer {
		return do(t, sb, "PATCH", v+"/sobjects/ObjectPermissions/"+op, tok, "application/json", body)
	}
	sfErr(t, patch(`{"PermissionsRead":false}`), 400, "FIELD_INTEGRITY_EXCEPTION") // Create needs Read
	sfErr(t, patch(`{"SobjectType":"Contact"}`), 400, "INVALID_FIELD_FOR_INSERT_UPDATE")
	if a := patch(`{"PermissionsEdit":true}`); a.status != 204 {
		t.Fatalf("update: %d %s", a.status, a.body)
	}
	q := func() []map[string]any {
		a := do(t, sb, "GET", v+"/query?q="+url.QueryEscape("SELECT Id, SobjectType, PermissionsRead, PermissionsCreate, PermissionsEdit, PermissionsDelete FROM ObjectPermissions WHERE ParentId = '"+ps+"'"), tok, "", "")
		var res struct{ Records []map[string]any }
		if a.status != 200 || json.Unmarshal(a.body, &res) != nil {
			t.Fatalf("query: %d %s", a.status, a.body)
		}
		return res.Records
	}
	recs := q()
	if len(recs) != 4 || recs[0]["SobjectType"] != "Account" || recs[0]["PermissionsRead"] != true || recs[0]["PermissionsCreate"] != true ||
		recs[0]["PermissionsEdit"] != true || recs[0]["PermissionsDelete"] != false {
		t.Fatalf("rows after the update: %v", recs)
	}
	if a := do(t, sb, "DELETE", v+"/sobjects/PermissionSet/"+ps, tok, "", ""); a.status != 204 {
		t.Fatalf("delete the permission set: %d %s", a.status, a.body)
	}
	if recs := q(); len(recs) != 0 {
		t.Fatalf("object permissions outlived their permission set: %v", recs)
	}
}

// WHERE with OR, NOT and parentheses selects what Salesforce would.
func TestSOQLBooleanExpressions(t *testing.T) {
	sb, _ := start(t, sandbox.Options{})
	tok := login(t, sb)
	count := func(where string) int {
		t.Helper()
		a := do(t, sb, "GET", q("SELECT Id FROM User WHERE "+where), tok, "", "")
		var res struct {
			TotalSize int `json:"totalSize"`
		}
		if a.status != 200 || json.Unmarshal(a.body, &res) != nil {
			t.Fatalf("%s: %d %s", where, a.status, a.body)
		}
		return res.TotalSize
	}
	all := count("Username != null")
	std := count("Profile.Name = 'Standard User'")
	admins := count("Profile.Name = 'System Administrator'")
	one := "Username = 'seller001@contoso-sandbox.example'"
	for _, tt := range []struct {
		where string
		want  int
	}{
		{"Profile.Name = 'Standard User' OR Profile.Name = 'System Administrator'", std + admins},
		{"NOT Profile.Name = 'Standard User'", all - std},
		{"(Profile.Name = 'Standard User' OR Profile.Name = 'System Administrator') AND " + one, 1},
		{"Profile.Name = 'System Administrator' AND (" + one + " OR IsActive = true)", admins},
		{"(" + one + ") AND (NOT " + one + ")", 0},
	} {
		if got := count(tt.where); got != tt.want {
			t.Errorf("%s: %d users, want %d", tt.where, got, tt.want)
		}
	}
	if std == 0 || admins == 0 || all <= std+admins-1 {
		t.Fatalf("seed: %d users, %d standard, %d admins", all, std, admins)
	}
}

// A request whose URI and headers exceed 16,384 bytes is refused with 431, one whose URI alone
// does with 414, with the HTML body Salesforce's front end answers; just under the limit passes.
func TestRequestHeadLimit(t *testing.T) {
	sb, _ := start(t, sandbox.Options{})
	tok := login(t, sb)
	path := func(n int) string {
		q := "SELECT Id FROM User WHERE Username = '"
		pad := n - len(q) - 1
		return "/services/data/v62.0/query?q=" + url.QueryEscape(q+strings.Repeat("a", pad)+"'")
	}
	ok := do(t, sb, "GET", path(8000), tok, "", "")
	if ok.status != 200 {
		t.Fatalf("8,000-byte query: %d %s", ok.status, ok.body)
	}
	// URI under the limit, headers over it (the session id is about 112 bytes, Host, User-Agent
	// and Accept-Encoding about 80 more).
	big := do(t, sb, "GET", path(16384-100), tok, "", "")
	if big.status != 431 || string(big.body) != "<h1>Bad Message 431</h1><pre>reason: Request Header Fields Too Large</pre>" {
		t.Fatalf("URI+headers over the limit: %d %s", big.status, big.body)
	}
	long := do(t, sb, "GET", path(16384), tok, "", "")
	if long.status != 414 || string(long.body) != "<h1>Bad Message 414</h1><pre>reason: URI Too Long</pre>" {
		t.Fatalf("URI over the limit: %d %s", long.status, long.body)
	}
}
