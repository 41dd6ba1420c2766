package salesforce

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/c4sctl/c4sctl/pkg/sandbox/salesforceapi"
	"github.com/zclconf/go-cty/cty"
)

// entraSellers are the sandbox tenant's Sellers (users 1..n), licensed except those listed.
func entraSellers(n int, unlicensed ...int) []EntraSeller {
	skip := map[int]bool{}
	for _, i := range unlicensed {
		skip[i] = true
	}
	out := make([]EntraSeller, n)
	for i := range out {
		upn := salesforceapi.SellerFederationID(i + 1)
		out[i] = EntraSeller{UPN: upn, Mail: upn, Licensed: !skip[i+1]}
	}
	return out
}

func upn(i int) string { return salesforceapi.SellerFederationID(i) }

func pair(i int) SellerUser {
	return SellerUser{Seller: upn(i), Username: fmt.Sprintf("seller%03d@contoso-sandbox.example", i)}
}

func pairs(is ...int) []SellerUser {
	out := make([]SellerUser, len(is))
	for k, i := range is {
		out[k] = pair(i)
	}
	return out
}

// The seeded org against the tenant's 200 sellers, after the quickstart's permission set (every
// active Standard User) and an admin-approved connected app for Standard User and System
// Administrator: seller 13 has no Federation ID (missing), seller 20 is matched by email, 97 and
// 194 are inactive, every 50th is Read Only (no permission set, so no API Enabled, and not let
// through the app); the set's other holders are not licensed sellers.
func TestReconcileSeededOrg(t *testing.T) {
	c, sb, svc := start(t)
	mutate(t, sb, func() error {
		u := svc.Org().User("seller020@contoso-sandbox.example")
		u.FederationIdentifier, u.Email = "", upn(20)
		return svc.InstallConnectedApp(salesforceapi.PowerPlatformApp)
	})
	converge(t, c, permissionSetSchema, cfg(permissionSetSchema, map[string]cty.Value{
		"name": cty.StringVal("Copilot_for_Sales_Users"), "api_enabled": cty.True,
		"assignee_filter": cty.StringVal("Profile.Name = 'Standard User' AND IsActive = true"),
	}))
	converge(t, c, connectedAppSchema, guideApp(nil))
	sb.RequestLog().Reset()
	res, err := c.Reconcile(ctx, ReconcileInput{Sellers: entraSellers(200, 5), PermissionSet: "copilot_for_sales_users", ConnectedApp: salesforceapi.PowerPlatformApp})
	if err != nil {
		t.Fatal(err)
	}
	if res.Licensed != 199 || res.Matched != 198 || res.MatchedBy[MatchEmail] != 1 || res.MatchedBy[MatchFederationID] != 197 {
		t.Fatalf("licensed %d matched %d by %v", res.Licensed, res.Matched, res.MatchedBy)
	}
	if !reflect.DeepEqual(res.Missing, []string{upn(13)}) {
		t.Fatalf("missing %v", res.Missing)
	}
	if want := pairs(97, 194); !reflect.DeepEqual(res.Inactive, want) {
		t.Fatalf("inactive %v, want %v", res.Inactive, want)
	}
	if want := pairs(50, 97, 100, 150, 194, 200); !reflect.DeepEqual(res.NoPermSet, want) || !reflect.DeepEqual(res.NoAPI, want) {
		t.Fatalf("no permission set %v, no API %v, want %v", res.NoPermSet, res.NoAPI, want)
	}
	if want := pairs(50, 100, 150, 200); !reflect.DeepEqual(res.NotAllowed, want) {
		t.Fatalf("not allowed %v, want %v", res.NotAllowed, want)
	}
	// Holders: 485 active Standard Users; 192 of them are matched licensed sellers (not 5,
	// unlicensed; not 13, unmatched).
	if len(res.Unlicensed) != 293 || !contains(res.Unlicensed, "seller005@contoso-sandbox.example") || !contains(res.Unlicensed, "seller013@contoso-sandbox.example") || contains(res.Unlicensed, "seller001@contoso-sandbox.example") {
		t.Fatalf("%d unlicensed holders: %v", len(res.Unlicensed), res.Unlicensed[:5])
	}
	if res.Ready != 192 || res.AppNote != "" {
		t.Fatalf("ready %d, app note %q", res.Ready, res.AppNote)
	}
	// 502 users fit one page: count, all users, the assignments, the app and its access rows.
	if n := sb.RequestLog().Count("GET /salesforce/services/data/{v}/query"); n != 5 || res.Minimum != 5 {
		t.Fatalf("%d queries (minimum %d), want 5\n%s", n, res.Minimum, sb.RequestLog())
	}
}

// An org with many more users than sellers reads the sellers' users by Federation ID IN (...),
// then by email only those still unmatched; an app that lets everyone in is not checked per user.
func TestReconcileByFederationIDThenEmail(t *testing.T) {
	c, sb, svc := start(t)
	mutate(t, sb, func() error {
		if _, err := svc.AddUsers(6000, salesforceapi.ProfileStandardUser); err != nil {
			return err
		}
		u := svc.Org().User("seller003@contoso-sandbox.example")
		u.FederationIdentifier, u.Email = "", strings.ToUpper(upn(3))
		return svc.InstallConnectedApp(salesforceapi.PowerPlatformApp)
	})
	sb.RequestLog().Reset()
	in := ReconcileInput{Sellers: entraSellers(10), PermissionSet: "Copilot_for_Sales_Users", ConnectedApp: salesforceapi.PowerPlatformApp}
	res, err := c.Reconcile(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if res.Matched != 10 || res.MatchedBy[MatchEmail] != 1 || len(res.NoPermSet) != 10 || len(res.NotAllowed) != 0 || !strings.Contains(res.AppNote, "self-authorize") {
		t.Fatalf("%+v", res)
	}
	// count, users by Federation ID, users by email (one seller), the assignments, the app.
	if n := sb.RequestLog().Count("GET /salesforce/services/data/{v}/query"); n != 5 || sb.RequestLog().Count("GET /salesforce/services/data/{v}/query/{locator}") != 0 {
		t.Fatalf("%d queries, want 5\n%s", n, sb.RequestLog())
	}
	// A Federation ID that differs from the UPN in case still matches (SOQL compares without
	// case), and is named: a case-sensitive org (Salesforce's default) would not sign the seller
	// in. An exact one is preferred when both exist.
	mutate(t, sb, func() error {
		svc.Org().User("seller004@contoso-sandbox.example").FederationIdentifier = strings.ToUpper(upn(4))
		return nil
	})
	if res, err = c.Reconcile(ctx, in); err != nil || res.MatchedBy[MatchFederationID] != 9 || !reflect.DeepEqual(res.FederationCase, pairs(4)) {
		t.Fatalf("Federation ID in another case: %v %+v", err, res)
	}
	// Federation ID only: seller 3 is missing.
	in.MatchBy = []string{MatchFederationID}
	if res, err = c.Reconcile(ctx, in); err != nil || !reflect.DeepEqual(res.Missing, []string{upn(3)}) {
		t.Fatalf("%v %+v", err, res)
	}
	in.MatchBy = []string{"upn"}
	if _, err := c.Reconcile(ctx, in); err == nil || !strings.Contains(err.Error(), `unknown rule "upn"`) {
		t.Fatalf("unknown rule: %v", err)
	}
}

// An app that is not installed lets nobody through: no seller is ready.
func TestReconcileAppNotInstalled(t *testing.T) {
	c, _, _ := start(t)
	res, err := c.Reconcile(ctx, ReconcileInput{Sellers: entraSellers(3), PermissionSet: "Copilot_for_Sales_Users", ConnectedApp: salesforceapi.PowerPlatformApp})
	if err != nil || res.Ready != 0 || !strings.Contains(res.AppNote, "not installed") || res.Matched != 3 {
		t.Fatalf("%v %+v", err, res)
	}
}

// The decoder reads the documented answer: the Federation ID null for a user without single
// sign-on, and the profile's API Enabled nested under the relationship name.
func TestDecodeSellerUsersFixture(t *testing.T) {
	var page struct {
		Records []map[string]any `json:"records"`
	}
	b, err := os.ReadFile("testdata/users_reconcile.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &page); err != nil {
		t.Fatal(err)
	}
	us := decodeSellerUsers(page.Records)
	if len(us) != 2 {
		t.Fatalf("%d users", len(us))
	}
	want0 := sfSeller{id: "0055g00000AbCdEAAV", username: "jane.doe@contoso.com.crm", email: "jane.doe@contoso.com", fed: "jane.doe@contoso.com", profileID: "00e5g000001AbCdAAK", active: true}
	want1 := sfSeller{id: "0055g00000AbCdFAAV", username: "john.roe@contoso.com.crm", email: "john.roe@contoso.com", profileID: "00e5g000001AbCeAAK", profileAPI: true}
	if *us[0] != want0 || *us[1] != want1 {
		t.Fatalf("decoded %+v %+v", *us[0], *us[1])
	}
}
