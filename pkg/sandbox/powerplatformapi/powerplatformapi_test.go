package powerplatformapi

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/c4sctl/c4sctl/pkg/sandbox"
)

func startSB(t *testing.T, dir string) (*sandbox.Server, *API) {
	t.Helper()
	bap := NewBAP()
	sb, err := sandbox.Start(sandbox.Options{Dir: dir}, bap, NewDataverse())
	if err != nil {
		t.Fatal(err)
	}
	return sb, bap.API()
}

func token(t *testing.T, sb *sandbox.Server, scope string) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {sandbox.ClientID}, "client_secret": {sandbox.ClientSecret}, "scope": {scope}}
	resp, err := sb.Client().PostForm(sb.URL+"/"+sandbox.TenantID+"/oauth2/v2.0/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.AccessToken == "" {
		t.Fatalf("token: %v", err)
	}
	return out.AccessToken
}

func call(t *testing.T, sb *sandbox.Server, method, u, tok, body string, hdr map[string]string) (int, http.Header, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, u, strings.NewReader(body))
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := sb.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return resp.StatusCode, resp.Header, out
}

func errCode(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	return str(e["code"])
}

func TestPersistenceKeepsSignIn(t *testing.T) {
	dir := t.TempDir()
	sb, api := startSB(t, dir)
	if err := sb.Mutate(func() error {
		if err := api.SignIn("seller@" + sandbox.TenantDomain); err != nil {
			return err
		}
		return api.AddAppUser(VivaUniqueName, sandbox.ClientID)
	}); err != nil {
		t.Fatal(err)
	}
	_ = sb.Mutate(func() error { return api.SetConnectorGroup(TenantWidePolicyID, "shared_salesforce", "General") })
	if err := sb.Close(); err != nil {
		t.Fatal(err)
	}
	sb2, api2 := startSB(t, dir)
	defer sb2.Close()
	if api2.Org(VivaUniqueName) == nil || api2.Tenant().Environment(VivaUniqueName) == nil {
		t.Fatal("msdyn_viva was not restored")
	}
	if g := ConnectorGroup(api2.Tenant().Policy(TenantWidePolicyID), "shared_salesforce"); g != "General" {
		t.Errorf("restored policy has shared_salesforce in %s", g)
	}
	// The dataverse service serves the restored org (it shares the bap service's tenant).
	tok := token(t, sb2, sb2.URL+"/dataverse/msdyn_viva/.default")
	st, _, body := call(t, sb2, "GET", sb2.URL+"/dataverse/msdyn_viva/api/data/v9.2/WhoAmI", tok, "", nil)
	if st != 200 || str(body["UserId"]) == "" {
		t.Errorf("WhoAmI after restore: %d %v", st, body)
	}
	sb2.Reset()
	if api2.Org(VivaUniqueName) != nil {
		t.Error("reset kept msdyn_viva")
	}
}

func TestBAPValidationAndAuth(t *testing.T) {
	sb, _ := startSB(t, "")
	defer sb.Close()
	base := sb.URL + "/bap/providers/PowerPlatform.Governance/v2/policies/" + TenantWidePolicyID
	st, _, body := call(t, sb, "GET", base, "", "", nil)
	if st != 401 || errCode(body) != "MissingAuthenticationToken" {
		t.Errorf("no token: %d %v", st, body)
	}
	wrong := token(t, sb, "https://graph.microsoft.com/.default")
	if st, _, body = call(t, sb, "GET", base, wrong, "", nil); st != 401 || errCode(body) != "InvalidAuthenticationTokenAudience" {
		t.Errorf("wrong audience: %d %v", st, body)
	}
	tok := token(t, sb, BAPAudience+"/.default")
	st, _, p := call(t, sb, "GET", base, tok, "", nil)
	if st != 200 {
		t.Fatalf("get: %d", st)
	}
	// A connector in two groups is refused.
	for _, k := range []string{"etag", "createdBy", "createdTime", "lastModifiedBy", "lastModifiedTime", "isLegacySchemaVersion"} {
		delete(def(p), k)
	}
	groups := def(p)["connectorGroups"].([]any)
	g0 := groups[0].(map[string]any)
	g0["connectors"] = append(g0["connectors"].([]any), connectorJSON("shared_salesforce"))
	b, _ := json.Marshal(p)
	if st, _, body = call(t, sb, "PATCH", base, tok, string(b), nil); st != 400 || !strings.Contains(str(body["error"].(map[string]any)["message"]), "both") {
		t.Errorf("duplicate connector: %d %v", st, body)
	}
	for _, bad := range []string{"", "[]", `{"policyDefinition":{"displayName":"x","defaultConnectorsClassification":"Nope","environmentType":"AllEnvironments"}}`,
		`{"policyDefinition":{"displayName":"x","defaultConnectorsClassification":"General","environmentType":"OnlyEnvironments","environments":[]}}`} {
		if st, _, body = call(t, sb, "PATCH", base, tok, bad, nil); st != 400 || errCode(body) != "InvalidPolicy" {
			t.Errorf("bad body %q: %d %v", bad, st, body)
		}
	}
	if st, _, _ = call(t, sb, "GET", sb.URL+"/bap/providers/Microsoft.BusinessAppPlatform/scopes/admin/environments", tok, "", nil); st != 400 {
		t.Errorf("environments without api-version: %d", st)
	}
}

func TestDataversePagingAndErrors(t *testing.T) {
	sb, api := startSB(t, "")
	defer sb.Close()
	dv := sb.URL + "/dataverse/msdyn_viva/api/data/v9.2/"
	tok := token(t, sb, sb.URL+"/dataverse/msdyn_viva/.default")
	if st, _, body := call(t, sb, "GET", dv+"WhoAmI", tok, "", nil); st != 404 || errCode(body) == "" {
		t.Errorf("before sign-in the org must not exist: %d %v", st, body)
	}
	// After the first sign-in, c4sctl's app is not an application user yet: 403 with Dataverse's
	// "not a member of the organization" error.
	_ = sb.Mutate(func() error { return api.SignIn("s@x.com") })
	if st, _, body := call(t, sb, "GET", dv+"WhoAmI", tok, "", nil); st != 403 || errCode(body) != "0x80072560" ||
		str(body["error"].(map[string]any)["message"]) != "The user is not a member of the organization." {
		t.Errorf("before the app user is added: %d %v", st, body)
	}
	_ = sb.Mutate(func() error {
		if err := api.AddAppUser(VivaUniqueName, sandbox.ClientID); err != nil {
			return err
		}
		return api.AddUsers(VivaUniqueName, "u", 25, BasicUserTemplateID)
	})
	st, hdr, _ := call(t, sb, "GET", dv+"systemusers", "", "", nil)
	if st != 401 || !strings.Contains(hdr.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("no token: %d %v", st, hdr)
	}
	next := dv + "systemusers?$select=systemuserid,domainname"
	seen := 0
	for pages := 0; next != ""; pages++ {
		if pages > 10 {
			t.Fatal("paging does not end")
		}
		st, hdr, body := call(t, sb, "GET", next, tok, "", map[string]string{"Prefer": "odata.maxpagesize=10"})
		if st != 200 || hdr.Get("Preference-Applied") != "odata.maxpagesize=10" {
			t.Fatalf("page: %d %v", st, hdr)
		}
		seen += len(body["value"].([]any))
		next = str(body["@odata.nextLink"])
	}
	if seen != 34 { // 5 Microsoft service accounts, 2 admins, the seller, the app, 25 users
		t.Errorf("%d users over all pages, want 34", seen)
	}
	for _, c := range []struct{ path, code string }{
		{"systemusers?$select=nosuchcolumn", "0x80060888"},
		{"systemusers?$skiptoken=zzz", "0x80040203"},
		{"systemusers?$filter=" + url.QueryEscape("fullname eq 'x'"), "0x80060888"},
		{"nosuchset", "0x8006088a"},
	} {
		if st, _, body := call(t, sb, "GET", dv+c.path, tok, "", nil); st/100 != 4 || errCode(body) != c.code {
			t.Errorf("%s: %d %v, want code %s", c.path, st, body, c.code)
		}
	}
	// Associate needs a role reference.
	var uid string
	sb.View(func() {
		for _, u := range api.Org(VivaUniqueName).Users {
			if u.DomainName == "s@x.com" {
				uid = u.ID
			}
		}
	})
	if st, _, body := call(t, sb, "POST", dv+"systemusers("+uid+")/systemuserroles_association/$ref", tok, `{"@odata.id":"x"}`, nil); st != 400 {
		t.Errorf("bad $ref: %d %v", st, body)
	}
	sa := api.Org(VivaUniqueName).roleByTemplate(SystemAdministratorTemplateID).ID
	if st, _, _ := call(t, sb, "POST", dv+"systemusers("+uid+")/systemuserroles_association/$ref", tok, `{"@odata.id":"`+dv+`roles(`+sa+`)"}`, nil); st != 204 {
		t.Errorf("associate: %d", st)
	}
	if n := len(api.Holders(VivaUniqueName)); n != 9 {
		t.Errorf("%d holders after associate, want 9 (5 service accounts, 2 admins, the app, the seller)", n)
	}
	// Throttling.
	api.Throttle(1, 0)
	if st, hdr, body := call(t, sb, "GET", dv+"WhoAmI", tok, "", nil); st != 429 || hdr.Get("Retry-After") != "0" || errCode(body) != "0x80072322" {
		t.Errorf("throttle: %d %v %v", st, hdr, body)
	}
}

// The DLP API answers connectors with their display name in `name` and refuses what the service
// refuses: unknown connector ids and types, environments named by display name, broken custom
// connector rules and read-only fields sent back.
func TestDLPPolicyShapeAndRefusals(t *testing.T) {
	sb, _ := startSB(t, t.TempDir())
	defer sb.Close()
	base := sb.URL + "/bap" + policyPath + "/" + TenantWidePolicyID
	tok := token(t, sb, BAPAudience+"/.default")
	st, _, p := call(t, sb, "GET", base, tok, "", nil)
	if st != 200 {
		t.Fatalf("get: %d", st)
	}
	blocked := def(p)["connectorGroups"].([]any)[2].(map[string]any)["connectors"].([]any)[0].(map[string]any)
	if blocked["id"] != SalesforceConnectorID || blocked["name"] != "Salesforce" || blocked["type"] != "Microsoft.PowerApps/apis" {
		t.Fatalf("connector JSON %v: want the id, the display name in name, and the type", blocked)
	}
	writable := func() map[string]any {
		_, _, p := call(t, sb, "GET", base, tok, "", nil)
		for _, k := range []string{"etag", "createdBy", "createdTime", "lastModifiedBy", "lastModifiedTime", "isLegacySchemaVersion"} {
			delete(def(p), k)
		}
		return p
	}
	firstConnector := func(p map[string]any) map[string]any {
		return def(p)["connectorGroups"].([]any)[0].(map[string]any)["connectors"].([]any)[0].(map[string]any)
	}
	cases := map[string]func(p map[string]any){
		"read-only etag": func(p map[string]any) { def(p)["etag"] = "x" },
		"read-only createdBy": func(p map[string]any) {
			def(p)["createdBy"] = map[string]any{"displayName": "admin"}
		},
		"unknown connector": func(p map[string]any) {
			firstConnector(p)["id"] = "/providers/Microsoft.PowerApps/apis/shared_nosuchthing"
		},
		"connector by name": func(p map[string]any) { firstConnector(p)["id"] = "/providers/Microsoft.PowerApps/apis/SharePoint" },
		"unknown type":      func(p map[string]any) { firstConnector(p)["type"] = "Microsoft.PowerApps/connectors" },
		"missing type":      func(p map[string]any) { delete(firstConnector(p), "type") },
		"environment by display": func(p map[string]any) {
			def(p)["environmentType"] = "ExceptEnvironments"
			def(p)["environments"] = []any{map[string]any{"name": "Sales Operations"}}
		},
		"custom rule class": func(p map[string]any) {
			p["customConnectorUrlPatternsDefinition"] = map[string]any{"rules": []any{map[string]any{"order": 1, "customConnectorRuleClassification": "Business", "pattern": "*"}}}
		},
		"custom rules without *": func(p map[string]any) {
			p["customConnectorUrlPatternsDefinition"] = map[string]any{"rules": []any{map[string]any{"order": 1, "customConnectorRuleClassification": "Blocked", "pattern": "https://*.contoso.com"}}}
		},
		"custom rule order gap": func(p map[string]any) {
			p["customConnectorUrlPatternsDefinition"] = map[string]any{"rules": []any{map[string]any{"order": 2, "customConnectorRuleClassification": "Ignore", "pattern": "*"}}}
		},
		"custom rule no pattern": func(p map[string]any) {
			p["customConnectorUrlPatternsDefinition"] = map[string]any{"rules": []any{map[string]any{"order": 1, "customConnectorRuleClassification": "Ignore", "pattern": ""}}}
		},
		"unknown environmentType": func(p map[string]any) { def(p)["environmentType"] = "SomeEnvironments" },
	}
	for name, mutate := range cases {
		p := writable()
		mutate(p)
		b, _ := json.Marshal(p)
		if st, _, body := call(t, sb, "PATCH", base, tok, string(b), nil); st != 400 || errCode(body) != "InvalidPolicy" {
			t.Errorf("%s: %d %v, want 400 InvalidPolicy", name, st, body)
		}
	}
	// The same body, well formed, with a connector sent as the TF provider sends it (name = API
	// name, and the empty createdBy/lastModifiedBy objects its DTO always serializes) is accepted
	// and answered with the display name.
	p = writable()
	def(p)["createdBy"] = map[string]any{"displayName": ""}
	def(p)["lastModifiedBy"] = map[string]any{"displayName": ""}
	firstConnector(p)["id"] = SalesforceConnectorID
	firstConnector(p)["name"] = "shared_salesforce"
	def(p)["connectorGroups"].([]any)[2].(map[string]any)["connectors"] = []any{}
	p["customConnectorUrlPatternsDefinition"] = map[string]any{"rules": []any{
		map[string]any{"order": 1, "customConnectorRuleClassification": "Confidential", "pattern": "https://*.contoso.com"},
		map[string]any{"order": 2, "customConnectorRuleClassification": "Ignore", "pattern": "*"}}}
	b, _ := json.Marshal(p)
	st, _, out := call(t, sb, "PATCH", base, tok, string(b), nil)
	if st != 200 {
		t.Fatalf("valid PATCH: %d %v", st, out)
	}
	if got := firstConnector(out)["name"]; got != "Salesforce" {
		t.Errorf("answered connector name %v, want the display name Salesforce", got)
	}
}

// The policy list pages with nextLink; following it yields every policy once.
func TestPolicyListPages(t *testing.T) {
	sb, api := startSB(t, t.TempDir())
	defer sb.Close()
	_ = sb.Mutate(func() error {
		for _, n := range []string{"a", "b", "c"} {
			api.PutPolicy(api.NewPolicy("p-"+n, "P "+n, "AllEnvironments", nil, "General"))
		}
		return nil
	})
	tok := token(t, sb, BAPAudience+"/.default")
	next, seen := sb.URL+"/bap"+policyPath, map[string]bool{}
	for pages := 0; next != ""; pages++ {
		if pages > 10 {
			t.Fatal("the list does not end")
		}
		st, _, body := call(t, sb, "GET", next, tok, "", nil)
		if st != 200 {
			t.Fatalf("list: %d %v", st, body)
		}
		for _, v := range body["value"].([]any) {
			n := str(def(v.(map[string]any))["name"])
			if seen[n] {
				t.Errorf("policy %s twice", n)
			}
			seen[n] = true
		}
		next, _ = body["nextLink"].(string)
	}
	if len(seen) != 5 {
		t.Errorf("%d policies over all pages, want 5", len(seen))
	}
}
