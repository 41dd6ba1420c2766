package salesforce

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/sandbox/salesforceapi"
	"github.com/simpleforce/simpleforce"
	"github.com/zclconf/go-cty/cty"
)

// The decoders read answers written from Salesforce's documentation (testdata/README.md), so a
// wrong shape fails even where the sandbox agrees with the adapter.
func TestDecodersAgainstFixtures(t *testing.T) {
	b, err := os.ReadFile("testdata/describe_global.json")
	if err != nil {
		t.Fatal(err)
	}
	var dg describeGlobal
	if err := json.Unmarshal(b, &dg); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range dg.SObjects {
		got = append(got, o.Name)
	}
	if dg.MaxBatchSize != 200 || strings.Join(got, ",") != "Account,Opportunity,Invoice__c" || !dg.SObjects[2].Custom {
		t.Fatalf("describeGlobal decoded as %+v", dg)
	}
	// The German profiles answer, decoded as simpleforce decodes a query answer, resolves by Id
	// and by the translated name, and an English name is refused naming the org's names.
	b, err = os.ReadFile("testdata/profiles_de.json")
	if err != nil {
		t.Fatal(err)
	}
	var qr simpleforce.QueryResult
	if err := json.Unmarshal(b, &qr); err != nil {
		t.Fatal(err)
	}
	var org []orgProfile
	for _, r := range qr.Records {
		org = append(org, orgProfile{id: str(r, "Id"), name: str(r, "Name")})
	}
	res, missing := resolveProfiles([]string{"00e5g000001AbCe", "systemadministrator", "Standard User"}, org)
	if res["00e5g000001AbCe"].name != "Standardbenutzer" || res["systemadministrator"].name != "Systemadministrator" || len(missing) != 1 || missing[0] != "Standard User" {
		t.Fatalf("resolved %v, missing %v", res, missing)
	}
	if err := profilesMissing(missing, org); !strings.Contains(err.Error(), `"Standardbenutzer" (00e5g000001AbCeAAK)`) || !strings.Contains(err.Error(), "language") {
		t.Fatalf("error %v", err)
	}
}

// An object the org does not have fails at plan, naming the nearest object, before anything is
// created; an object written in another case plans a note and converges in Salesforce's spelling.
func TestObjectNamesCheckedAtPlan(t *testing.T) {
	c, sb, svc := start(t)
	config := cfg(permissionSetSchema, map[string]cty.Value{"name": cty.StringVal("Typo_Set"), "object_permissions": objPerms(map[string][]string{"Opportunty": {"read"}, "Account": {"read"}})})
	live := read(t, c, permissionSetSchema.Type, "", config)
	after, _ := planned(permissionSetSchema, live.Value, config)
	_, err := c.PlanChange(ctx, providers.PlanRequest{Type: permissionSetSchema.Type, Action: providers.Create, Config: config, Prior: live.Value, Planned: after})
	if err == nil || !strings.Contains(err.Error(), `no object "Opportunty" (did you mean "Opportunity"?)`) {
		t.Fatalf("plan of a typo: %v", err)
	}
	if strings.Contains(err.Error(), `"Account"`) {
		t.Fatalf("a known object is named: %v", err)
	}
	sb.View(func() {
		if svc.Org().PermissionSet("Typo_Set") != nil {
			t.Fatal("the permission set was created")
		}
	})
	// Apply without plan's check (a plan made before the object was deleted) creates the set,
	// fails on the object, and returns the set's id with the error, so that the engine records it.
	resp, err := c.Apply(ctx, providers.ApplyRequest{Type: permissionSetSchema.Type, Action: providers.Create, Prior: live.Value, Planned: after})
	if err == nil || resp.ID == "" || !strings.Contains(err.Error(), "permission set Typo_Set was created ("+resp.ID+"), but") || !strings.Contains(err.Error(), "Opportunty") {
		t.Fatalf("half-done create: id %q, %v", resp.ID, err)
	}
	if len(resp.Notes) != 1 || !strings.Contains(resp.Notes[0], "was created") {
		t.Fatalf("notes %v", resp.Notes)
	}

	config = cfg(permissionSetSchema, map[string]cty.Value{"name": cty.StringVal("Case_Set"), "object_permissions": objPerms(map[string][]string{"opportunity": {"read"}})})
	live = read(t, c, permissionSetSchema.Type, "", config)
	after, _ = planned(permissionSetSchema, live.Value, config)
	pr, err := c.PlanChange(ctx, providers.PlanRequest{Type: permissionSetSchema.Type, Action: providers.Create, Config: config, Prior: live.Value, Planned: after})
	if err != nil || len(pr.Notes) == 0 || !strings.Contains(strings.Join(pr.Notes, "\n"), `"opportunity" as "Opportunity"`) {
		t.Fatalf("plan notes %v %v", pr.Notes, err)
	}
	converge(t, c, permissionSetSchema, config)
	sb.View(func() {
		ps := svc.Org().PermissionSet("Case_Set")
		found := false
		for _, op := range svc.Org().ObjectPerms {
			if op.ParentID == ps.ID {
				found = op.SobjectType == "Opportunity"
			}
		}
		if !found {
			t.Fatal("the object permission is not stored as Opportunity")
		}
	})
}

// description = "" and no description are one value: it converges and stays converged; so does
// a description emptied after it had text. Label and description lengths are checked at plan.
func TestEmptyDescriptionAndLengths(t *testing.T) {
	c, _, _ := start(t)
	config := cfg(permissionSetSchema, map[string]cty.Value{"name": cty.StringVal("Empty_Desc"), "description": cty.StringVal("")})
	resp, _ := converge(t, c, permissionSetSchema, config)
	again := read(t, c, permissionSetSchema.Type, resp.ID, config)
	if _, changed := planned(permissionSetSchema, again.Value, config); len(changed) > 0 {
		t.Fatalf("description = \"\" plans %v after apply", changed)
	}
	config = cfg(permissionSetSchema, map[string]cty.Value{"name": cty.StringVal("Empty_Desc"), "description": cty.StringVal("Sellers")})
	if _, changed := converge(t, c, permissionSetSchema, config); len(changed) != 1 {
		t.Fatalf("changed %v", changed)
	}
	config = cfg(permissionSetSchema, map[string]cty.Value{"name": cty.StringVal("Empty_Desc"), "description": cty.StringVal("")})
	if _, changed := converge(t, c, permissionSetSchema, config); len(changed) != 1 {
		t.Fatalf("emptying: changed %v", changed)
	}
	if _, changed := converge(t, c, permissionSetSchema, config); len(changed) != 0 {
		t.Fatalf("after emptying: changed %v", changed)
	}

	attr := func(name string) func(cty.Value) error {
		for _, a := range permissionSetSchema.Attributes {
			if a.Name == name {
				return a.Validate
			}
		}
		t.Fatalf("no %s", name)
		return nil
	}
	if err := attr("label")(cty.StringVal(strings.Repeat("é", 81))); err == nil || !strings.Contains(err.Error(), "1 to 80") {
		t.Errorf("81-character label: %v", err)
	}
	if err := attr("label")(cty.StringVal(strings.Repeat("é", 80))); err != nil {
		t.Errorf("80-character label: %v", err)
	}
	if err := attr("description")(cty.StringVal(strings.Repeat("x", 256))); err == nil || !strings.Contains(err.Error(), "at most 255") {
		t.Errorf("256-character description: %v", err)
	}
	if err := attr("description")(cty.StringVal(strings.Repeat("x", 255))); err != nil {
		t.Errorf("255-character description: %v", err)
	}
}

// A user permission written in another case converges (no "did not stick", no perpetual diff)
// and plan names Salesforce's spelling.
func TestUserPermissionCase(t *testing.T) {
	c, sb, svc := start(t)
	config := cfg(permissionSetSchema, map[string]cty.Value{"name": cty.StringVal("Case_Perms"), "user_permissions": strs("ViewSETUP")})
	resp, _ := converge(t, c, permissionSetSchema, config)
	sb.View(func() {
		if !svc.Org().PermissionSet("Case_Perms").Perms["ViewSetup"] {
			t.Fatal("ViewSetup not on")
		}
	})
	live := read(t, c, permissionSetSchema.Type, resp.ID, config)
	if _, changed := planned(permissionSetSchema, live.Value, config); len(changed) > 0 {
		t.Fatalf("plans %v after apply", changed)
	}
	pr, err := c.PlanChange(ctx, providers.PlanRequest{Type: permissionSetSchema.Type, ID: resp.ID, Action: providers.Update, Config: config, Prior: live.Value, Planned: live.Value})
	if err != nil || !strings.Contains(strings.Join(pr.Notes, "\n"), `"ViewSETUP" as "ViewSetup"`) {
		t.Fatalf("notes %v %v", pr.Notes, err)
	}
}

// In an org whose API user reads German, an English profile name fails at plan naming the
// German names and ids; the Id or the German name in any case converges; a filter on the English
// name warns that it matches 0 users.
func TestGermanOrgProfiles(t *testing.T) {
	c, sb, svc := start(t)
	var stdID string
	mutate(t, sb, func() error {
		stdID = svc.Org().Profile(salesforceapi.ProfileStandardUser).ID
		if err := svc.SetLanguage("de"); err != nil {
			return err
		}
		return svc.InstallConnectedApp(salesforceapi.PowerPlatformApp)
	})
	config := guideApp(map[string]cty.Value{"permitted_users": cty.StringVal("admin_approved_preauthorized"), "profiles": strs("Standard User")})
	live := read(t, c, connectedAppSchema.Type, "", config)
	after, _ := planned(connectedAppSchema, live.Value, config)
	_, err := c.PlanChange(ctx, providers.PlanRequest{Type: connectedAppSchema.Type, ID: live.ID, Action: providers.Update, Config: config, Prior: live.Value, Planned: after})
	if err == nil || !strings.Contains(err.Error(), `no profile "Standard User"`) || !strings.Contains(err.Error(), `"Standardbenutzer" (`+stdID+`)`) {
		t.Fatalf("English name in a German org: %v", err)
	}
	for _, entry := range []string{stdID[:15], "standardbenutzer"} {
		config = guideApp(map[string]cty.Value{"permitted_users": cty.StringVal("admin_approved_preauthorized"), "profiles": strs(entry)})
		converge(t, c, connectedAppSchema, config)
		sb.View(func() {
			if p, _ := svc.Org().AppAccess(salesforceapi.PowerPlatformApp); len(p) != 1 || p[0] != salesforceapi.ProfileStandardUser {
				t.Fatalf("%s: profiles with access %v", entry, p)
			}
		})
	}

	ps := cfg(permissionSetSchema, map[string]cty.Value{"name": cty.StringVal("German_Filter"), "assignee_filter": cty.StringVal("Profile.Name = 'Standard User'")})
	r := read(t, c, permissionSetSchema.Type, "", ps)
	if !strings.Contains(strings.Join(r.Warnings, "\n"), `assignee_filter "Profile.Name = 'Standard User'" matches 0 users`) {
		t.Fatalf("warnings %v", r.Warnings)
	}
	// Created, it would go to nobody (and apply would end "Apply complete!"): a plan error.
	after, _ = planned(permissionSetSchema, r.Value, ps)
	if _, err := c.PlanChange(ctx, providers.PlanRequest{Type: permissionSetSchema.Type, Action: providers.Create, Config: ps, Prior: r.Value, Planned: after}); err == nil ||
		!strings.Contains(err.Error(), "the new permission set would be assigned to nobody") || !strings.Contains(err.Error(), "assignees = []") {
		t.Fatalf("a new set whose filter matches nobody: %v", err)
	}
	ps = cfg(permissionSetSchema, map[string]cty.Value{"name": cty.StringVal("German_Filter"), "assignee_filter": cty.StringVal("Profile.Name = 'Standardbenutzer'")})
	if r := read(t, c, permissionSetSchema.Type, "", ps); strings.Contains(strings.Join(r.Warnings, "\n"), "0 users") {
		t.Fatalf("warnings %v", r.Warnings)
	}
	// Once the set has assignees, a filter that matches nobody (the English name again) would
	// unassign all of them: a plan error, not a warning. assignees = [] says it on purpose.
	set, _ := converge(t, c, permissionSetSchema, ps)
	english := cfg(permissionSetSchema, map[string]cty.Value{"name": cty.StringVal("German_Filter"), "assignee_filter": cty.StringVal("Profile.Name = 'Standard User'")})
	live = read(t, c, permissionSetSchema.Type, set.ID, english)
	after, _ = planned(permissionSetSchema, live.Value, english)
	_, err = c.PlanChange(ctx, providers.PlanRequest{Type: permissionSetSchema.Type, ID: set.ID, Action: providers.Update, Config: english, Prior: live.Value, Planned: after})
	if err == nil || !strings.Contains(err.Error(), "matches 0 users, and the permission set has") || !strings.Contains(err.Error(), "assignees = []") {
		t.Fatalf("a filter matching nobody on a set with assignees: %v", err)
	}
	none := cfg(permissionSetSchema, map[string]cty.Value{"name": cty.StringVal("German_Filter"), "assignees": cty.SetValEmpty(cty.String)})
	live = read(t, c, permissionSetSchema.Type, set.ID, none)
	after, _ = planned(permissionSetSchema, live.Value, none)
	if _, err := c.PlanChange(ctx, providers.PlanRequest{Type: permissionSetSchema.Type, ID: set.ID, Action: providers.Update, Config: none, Prior: live.Value, Planned: after}); err != nil {
		t.Fatalf("assignees = [] on purpose: %v", err)
	}
}

// The connected app may name a permission set this run plans to create (it depends on it, so
// the set is planned first); a name neither in the org nor planned is refused.
func TestConnectedAppNamesAPermissionSetPlannedInTheSameRun(t *testing.T) {
	c, sb, svc := start(t)
	mutate(t, sb, func() error { return svc.InstallConnectedApp(salesforceapi.PowerPlatformApp) })
	app := guideApp(map[string]cty.Value{"permission_sets": strs("Copilot_New")})
	live := read(t, c, connectedAppSchema.Type, "", app)
	after, _ := planned(connectedAppSchema, live.Value, app)
	planApp := func() error {
		_, err := c.PlanChange(ctx, providers.PlanRequest{Type: connectedAppSchema.Type, ID: live.ID, Action: providers.Update, Config: app, Prior: live.Value, Planned: after})
		return err
	}
	if err := planApp(); err == nil || !strings.Contains(err.Error(), `no permission set "Copilot_New"`) {
		t.Fatalf("unknown permission set: %v", err)
	}
	ps := cfg(permissionSetSchema, map[string]cty.Value{"name": cty.StringVal("Copilot_New"), "api_enabled": cty.True})
	psLive := read(t, c, permissionSetSchema.Type, "", ps)
	psAfter, _ := planned(permissionSetSchema, psLive.Value, ps)
	if _, err := c.PlanChange(ctx, providers.PlanRequest{Type: permissionSetSchema.Type, Action: providers.Create, Config: ps, Prior: psLive.Value, Planned: psAfter}); err != nil {
		t.Fatal(err)
	}
	if err := planApp(); err != nil {
		t.Fatalf("a permission set planned for creation: %v", err)
	}
}

// Collection results, REST error bodies and the front end's 414 page decode into the messages
// c4sctl shows.
func TestErrorAndResultFixtures(t *testing.T) {
	b, err := os.ReadFile("testdata/collection_create_results.json")
	if err != nil {
		t.Fatal(err)
	}
	var results []saveResult
	if err := json.Unmarshal(b, &results); err != nil {
		t.Fatal(err)
	}
	if len(results) != 2 || !results[0].Success || results[0].ID != "001RM000003oLnnYAE" || results[1].Success {
		t.Fatalf("decoded %+v", results)
	}
	if err := collectionErrors("assign", results, []string{"a@x", "b@x"}); err == nil || !strings.Contains(err.Error(), "1 of 2 failed: b@x (DUPLICATES_DETECTED: Use one of these records?)") {
		t.Fatalf("collection error: %v", err)
	}
	u, _ := url.Parse("https://contoso.my.salesforce.com/services/data/v62.0/query")
	b, err = os.ReadFile("testdata/error_invalid_session.json")
	if err != nil {
		t.Fatal(err)
	}
	if e := parseAPIError("GET", u, 401, b, ""); e.Code != "INVALID_SESSION_ID" || e.Message != "Session expired or invalid" {
		t.Fatalf("error body: %+v", e)
	}
	b, err = os.ReadFile("testdata/uri_too_long.html")
	if err != nil {
		t.Fatal(err)
	}
	if e := parseAPIError("GET", u, 414, b, ""); !strings.Contains(e.Error(), "414") || !strings.Contains(e.Error(), "16,384-byte limit") {
		t.Fatalf("414: %v", e)
	}
}

// Every attribute of the provider block that declares an environment variable is read from it
// by decode when the block leaves it unset.
func TestDecodeHonoursDeclaredEnv(t *testing.T) {
	field := map[string]func(settings) string{
		"instance_url": func(s settings) string { return s.instance }, "client_id": func(s settings) string { return s.clientID },
		"username": func(s settings) string { return s.username }, "private_key_file": func(s settings) string { return s.keyFile },
		"client_secret": func(s settings) string { return s.secret },
	}
	n := 0
	for _, a := range (&Provider{}).ConfigSchema().Attributes {
		if a.Env == "" {
			continue
		}
		n++
		get, ok := field[a.Name]
		if !ok {
			t.Errorf("%s declares %s but the test does not know its settings field", a.Name, a.Env)
			continue
		}
		s := decode(cty.EmptyObjectVal, func(k string) string {
			if k == a.Env {
				return "https://from-" + k
			}
			return ""
		})
		if got := get(s); got != "https://from-"+a.Env {
			t.Errorf("%s: decode read %q with only %s set", a.Name, got, a.Env)
		}
	}
	if n != len(field) {
		t.Errorf("%d attributes declare an environment variable, want %d", n, len(field))
	}
}

// jwt_bearer and client_credentials refuse a block without what Methods declares they need,
// naming each of them.
func TestMethodsDeclareWhatConfigureAsksFor(t *testing.T) {
	p := &Provider{}
	env := &providers.Env{Getenv: func(string) string { return "" }}
	for _, m := range Methods {
		if m.Name != AuthJWTBearer && m.Name != AuthClientCredentials {
			continue
		}
		_, err := p.Configure(context.Background(), cty.ObjectVal(map[string]cty.Value{"auth": cty.StringVal(m.Name)}), env)
		for _, need := range m.Needs {
			if err == nil || !strings.Contains(err.Error(), need) {
				t.Errorf("%s without %s: %v", m.Name, need, err)
			}
		}
	}
}

// A connected app's profiles named by Id read back in that spelling, with each profile's name as
// a label for the plan (from the profile names the read resolves anyway: no request of its own).
func TestConnectedAppLabelsProfileIDsWithTheirNames(t *testing.T) {
	c, sb, svc := start(t)
	mutate(t, sb, func() error { return svc.InstallConnectedApp(salesforceapi.PowerPlatformApp) })
	id := svc.Org().Profile(salesforceapi.ProfileStandardUser).ID
	app := guideApp(map[string]cty.Value{"profiles": strs(id)})
	converge(t, c, connectedAppSchema, app)
	live := read(t, c, connectedAppSchema.Type, "", app)
	if got := live.Labels[id]; got != salesforceapi.ProfileStandardUser {
		t.Errorf("label of profile %s = %q, want %q (labels %v)", id, got, salesforceapi.ProfileStandardUser, live.Labels)
	}
}
