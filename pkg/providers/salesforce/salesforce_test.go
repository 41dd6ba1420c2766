package salesforce

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/providers/providertest"
	"github.com/c4sctl/c4sctl/pkg/sandbox"
	"github.com/c4sctl/c4sctl/pkg/sandbox/salesforceapi"
	"github.com/c4sctl/c4sctl/pkg/schema"
	"github.com/zclconf/go-cty/cty"
)

var ctx = context.Background()

func start(t *testing.T) (*Client, *sandbox.Server, *salesforceapi.Service) {
	t.Helper()
	svc := salesforceapi.New()
	c, sb := providertest.Start(t, New(), svc)
	return c.(*Client), sb, svc
}

func mutate(t *testing.T, sb *sandbox.Server, fn func() error) {
	t.Helper()
	if err := sb.Mutate(fn); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, c *Client, typ string, id string, config cty.Value) providers.ReadResponse {
	t.Helper()
	resp, err := c.Read(ctx, providers.ReadRequest{Type: typ, ID: id, Config: config})
	if err != nil {
		t.Fatalf("read %s: %v", typ, err)
	}
	return resp
}

// converge plans and applies like the engine and checks that a fresh Read equals the plan.
func converge(t *testing.T, c *Client, r *schema.Resource, config cty.Value) (providers.ApplyResponse, []string) {
	t.Helper()
	live := read(t, c, r.Type, "", config)
	after, changed := planned(r, live.Value, config)
	if len(changed) == 0 {
		return providers.ApplyResponse{ID: live.ID}, nil
	}
	action := providers.Update
	if live.Value.IsNull() {
		action = providers.Create
	}
	pr, err := c.PlanChange(ctx, providers.PlanRequest{Type: r.Type, ID: live.ID, Action: action, Config: config, Prior: live.Value, Planned: after})
	if err != nil {
		t.Fatalf("plan %s: %v", r.Type, err)
	}
	if pr.Action != "" && pr.Action != action {
		t.Fatalf("plan %s: action %s, want %s (%+v)", r.Type, pr.Action, action, pr.Manual)
	}
	resp, err := c.Apply(ctx, providers.ApplyRequest{Type: r.Type, Action: action, ID: live.ID, Prior: live.Value, Planned: after})
	if err != nil {
		t.Fatalf("apply %s: %v", r.Type, err)
	}
	again := read(t, c, r.Type, resp.ID, config)
	if again.ID != resp.ID {
		t.Fatalf("re-read id %q, apply said %q", again.ID, resp.ID)
	}
	_, still := planned(r, again.Value, config)
	if len(still) > 0 {
		t.Fatalf("after apply %s still differs in %v:\n%#v", r.Type, still, again.Value)
	}
	for _, a := range r.Attributes {
		if a.Computed && !a.Optional {
			continue
		}
		if !after.GetAttr(a.Name).IsNull() && !again.Value.GetAttr(a.Name).Equals(after.GetAttr(a.Name)).True() {
			t.Fatalf("%s: read %#v, planned %#v", a.Name, again.Value.GetAttr(a.Name), after.GetAttr(a.Name))
		}
	}
	return resp, changed
}

func strs(xs ...string) cty.Value {
	vs := make([]cty.Value, len(xs))
	for i, x := range xs {
		vs[i] = cty.StringVal(x)
	}
	if len(vs) == 0 {
		return cty.SetValEmpty(cty.String)
	}
	return cty.SetVal(vs)
}

func TestSandboxConsumerMatches(t *testing.T) {
	if sandboxConsumerKey != salesforceapi.ConsumerKey || sandboxConsumerSecret != salesforceapi.ConsumerSecret {
		t.Fatal("the provider's sandbox consumer differs from pkg/sandbox/salesforceapi's")
	}
	if fullNameOf(PowerPlatformApp) != salesforceapi.PowerPlatformAppFullName {
		t.Fatalf("fullNameOf = %q", fullNameOf(PowerPlatformApp))
	}
}

// Every enum and validated attribute refuses a bad value with a message naming what is allowed.
func TestSchemaValidation(t *testing.T) {
	p := New()
	check := func(attrs func(string) *schema.Attribute, name string, bad cty.Value, wants ...string) {
		t.Helper()
		a := attrs(name)
		if a == nil {
			t.Fatalf("no attribute %s", name)
		}
		err := a.CheckEnum(bad)
		if err == nil && a.Validate != nil {
			err = a.Validate(bad)
		}
		if err == nil {
			t.Fatalf("%s accepted %#v", name, bad)
		}
		for _, w := range wants {
			if !strings.Contains(err.Error(), w) {
				t.Fatalf("%s: error %q does not name %q", name, err, w)
			}
		}
	}
	ok := func(attrs func(string) *schema.Attribute, name string, good cty.Value) {
		t.Helper()
		a := attrs(name)
		if err := a.CheckEnum(good); err != nil {
			t.Fatalf("%s refused %#v: %v", name, good, err)
		}
		if a.Validate != nil {
			if err := a.Validate(good); err != nil {
				t.Fatalf("%s refused %#v: %v", name, good, err)
			}
		}
	}
	app, ps, blk := connectedAppSchema.Attribute, permissionSetSchema.Attribute, p.ConfigSchema().Attribute
	check(app, "permitted_users", cty.StringVal("everyone"), `"admin_approved_preauthorized"`, `"all_users_self_authorize"`)
	check(app, "ip_relaxation", cty.StringVal("BYPASS"), `"enforce"`, `"relax_with_second_factor"`, `"relax"`)
	check(app, "refresh_token_policy", cty.StringVal("infinite"), `"valid_until_revoked"`, `"immediately_expire"`, `"expire_after"`, `"expire_if_unused_for"`)
	check(app, "refresh_token_duration", cty.StringVal("30 days"), `"30d"`)
	check(app, "refresh_token_duration", cty.StringVal("0d"), "12h")
	check(app, "session_timeout", cty.StringVal("60m"), "none", "15m", "24h")
	for _, v := range []string{"none", "15m", "1h", "24h"} {
		ok(app, "session_timeout", cty.StringVal(v))
	}
	for _, v := range []string{"12h", "30d", "6mo"} {
		ok(app, "refresh_token_duration", cty.StringVal(v))
	}
	for _, v := range permittedUsers {
		ok(app, "permitted_users", cty.StringVal(v))
	}
	check(ps, "name", cty.StringVal("Copilot for Sales"), "API name")
	check(ps, "name", cty.StringVal("Bad__Name"), "API name")
	ok(ps, "name", cty.StringVal("Copilot_for_Sales_Users"))
	check(ps, "user_permissions", strs("PermissionsApiEnabled"), `without the "Permissions" prefix`)
	check(ps, "user_permissions", strs("view setup"), "ViewSetup")
	ok(ps, "user_permissions", strs("ViewSetup", "EditTask"))
	check(blk, "auth", cty.StringVal("password"), `"jwt_bearer"`, `"client_credentials"`, `"access_token"`, `"sf_cli"`)
	check(blk, "api_version", cty.StringVal("v62"), `"62.0"`)
	check(blk, "instance_url", cty.StringVal("http://contoso.my.salesforce.com"), "https URL")
	check(blk, "login_url", cty.StringVal("login.salesforce.com"), "https URL")
	if a := blk("client_secret"); !a.Sensitive {
		t.Fatal("client_secret must be sensitive")
	}
	// Types: unordered collections are sets.
	for _, n := range []string{"profiles", "permission_sets"} {
		if !app(n).Type.IsSetType() {
			t.Fatalf("%s is not a set", n)
		}
	}
	if !ps("assignees").Type.IsSetType() || !ps("user_permissions").Type.IsSetType() {
		t.Fatal("assignees and user_permissions must be sets")
	}
}

func TestConfigureErrors(t *testing.T) {
	svc := salesforceapi.New()
	sb, err := sandbox.Start(sandbox.Options{}, svc)
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	p := New()
	cases := []struct {
		over  map[string]cty.Value
		wants []string
	}{
		{map[string]cty.Value{"auth": cty.StringVal(AuthJWTBearer), "client_id": cty.NullVal(cty.String)}, []string{"client_id", "username", "private_key_file"}},
		{map[string]cty.Value{"client_secret": cty.NullVal(cty.String)}, []string{"client_secret (or SF_CLIENT_SECRET)"}},
		{map[string]cty.Value{"auth": cty.StringVal(AuthAccessToken)}, []string{"SF_ACCESS_TOKEN"}},
		{map[string]cty.Value{"auth": cty.StringVal("basic")}, []string{`"basic" is not an allowed value for auth`}},
		{map[string]cty.Value{"client_secret": cty.StringVal("wrong-secret-value-1234")}, []string{"invalid_client", "Check client_id"}},
		{map[string]cty.Value{"client_id": cty.StringVal("nope")}, []string{"invalid_client_id"}},
	}
	for _, tc := range cases {
		_, err := providertest.Configure(p, sb, tc.over)
		if err == nil {
			t.Fatalf("%v: configured", tc.over)
		}
		for _, w := range tc.wants {
			if !strings.Contains(err.Error(), w) {
				t.Fatalf("%v: error %q lacks %q", tc.over, err, w)
			}
		}
		if strings.Contains(err.Error(), "wrong-secret-value-1234") || strings.Contains(err.Error(), salesforceapi.ConsumerSecret) {
			t.Fatalf("a secret leaked into the error: %v", err)
		}
	}
}

func guideApp(extra map[string]cty.Value) cty.Value {
	set := map[string]cty.Value{
		"permitted_users": cty.StringVal("admin_approved_preauthorized"), "ip_relaxation": cty.StringVal("relax"),
		"refresh_token_policy": cty.StringVal("valid_until_revoked"), "session_timeout": cty.StringVal("none"),
		"profiles": strs(salesforceapi.ProfileStandardUser, salesforceapi.ProfileSystemAdministrator), "permission_sets": strs("Sales_Operations"),
	}
	for k, v := range extra {
		set[k] = v
	}
	return cfg(connectedAppSchema, set)
}

func TestConnectedAppNotInstalledIsManual(t *testing.T) {
	c, _, _ := start(t)
	config := guideApp(nil)
	live := read(t, c, connectedAppSchema.Type, "", config)
	if live.ID != "" || live.Value.IsNull() || live.Value.GetAttr("installed").True() {
		t.Fatalf("fresh org: id %q value %#v", live.ID, live.Value)
	}
	if len(live.Warnings) == 0 || !strings.Contains(live.Warnings[0], "not installed") {
		t.Fatalf("warnings %v", live.Warnings)
	}
	after, changed := planned(connectedAppSchema, live.Value, config)
	if !contains(changed, "installed") || !contains(changed, "ip_relaxation") {
		t.Fatalf("changed %v", changed)
	}
	pr, err := c.PlanChange(ctx, providers.PlanRequest{Type: connectedAppSchema.Type, Action: providers.Update, Config: config, Prior: live.Value, Planned: after})
	if err != nil {
		t.Fatal(err)
	}
	if pr.Action != providers.Manual || pr.Manual == nil {
		t.Fatalf("plan %+v", pr)
	}
	steps := strings.Join(pr.Manual.Steps, "\n")
	for _, w := range []string{"Connected Apps OAuth Usage", `"Microsoft Power Platform" row, click Install`} {
		if !strings.Contains(steps, w) {
			t.Fatalf("steps lack %q:\n%s", w, steps)
		}
	}
	// The sandbox's equivalent is named apart, for the CLI to show on sandbox runs only: the
	// steps a real org's admin reads never mention the sandbox.
	if strings.Contains(steps, "sandbox") || strings.Join(pr.Manual.Sandbox, " ") != "salesforce install-app" {
		t.Fatalf("steps %q, sandbox command %q", steps, pr.Manual.Sandbox)
	}
	if _, err := c.Apply(ctx, providers.ApplyRequest{Type: connectedAppSchema.Type, Action: providers.Update, Prior: live.Value, Planned: after}); err == nil || !strings.Contains(err.Error(), "not installed") {
		t.Fatalf("apply on an uninstalled app: %v", err)
	}
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

func TestConnectedAppConvergeAndDrift(t *testing.T) {
	c, sb, svc := start(t)
	mutate(t, sb, func() error { return svc.InstallConnectedApp(salesforceapi.PowerPlatformApp) })
	config := guideApp(nil)
	live := read(t, c, connectedAppSchema.Type, "", config)
	// Salesforce's defaults for an installed app: the guide's refresh token and session settings
	// are already right; IP relaxation needs changing; nobody is granted access yet.
	want := map[string]string{"permitted_users": "all_users_self_authorize", "ip_relaxation": "enforce", "refresh_token_policy": "valid_until_revoked", "session_timeout": "none"}
	for k, v := range want {
		if got := live.Value.GetAttr(k); got.IsNull() || got.AsString() != v {
			t.Fatalf("installed default %s = %#v, want %q", k, got, v)
		}
	}
	if !live.Value.GetAttr("policies_editable").True() || live.Value.GetAttr("profiles").LengthInt() != 0 {
		t.Fatalf("installed app %#v", live.Value)
	}
	sb.RequestLog().Reset()
	_, changed := converge(t, c, connectedAppSchema, config)
	sort.Strings(changed)
	if strings.Join(changed, ",") != "ip_relaxation,permission_sets,permitted_users,profiles" {
		t.Fatalf("changed %v", changed)
	}
	log := sb.RequestLog()
	if n := log.Count("POST /salesforce/services/Soap/m/{v}"); n != 4 { // read, read, update, re-read
		t.Fatalf("SOAP calls %d\n%s", n, log)
	}
	if n := log.Count("POST /salesforce/services/data/{v}/composite/sobjects"); n != 1 {
		t.Fatalf("grants took %d collection requests", n)
	}
	sb.View(func() {
		app := svc.Org().App(salesforceapi.PowerPlatformApp)
		if app.IPRelaxation != "BYPASS" || !app.IsAdminApproved || app.RefreshTokenPolicy != "infinite" || app.SessionTimeout != 0 {
			t.Errorf("org app %+v", app)
		}
		profiles, sets := svc.Org().AppAccess(salesforceapi.PowerPlatformApp)
		if len(profiles) != 2 || len(sets) != 1 {
			t.Errorf("access %v %v", profiles, sets)
		}
	})
	// Idempotent.
	if _, changed := converge(t, c, connectedAppSchema, config); len(changed) != 0 {
		t.Fatalf("second run changed %v", changed)
	}
	// A policy changed by hand shows as drift, and removing a profile revokes it.
	mutate(t, sb, func() error {
		return svc.SetPolicy(salesforceapi.PowerPlatformApp, "ip_relaxation", "ENFORCE_RELAXREFRESH")
	})
	mutate(t, sb, func() error { return svc.SetPolicy(salesforceapi.PowerPlatformApp, "session_timeout", "120") })
	live = read(t, c, connectedAppSchema.Type, "", config)
	if live.Value.GetAttr("ip_relaxation").AsString() != "enforce_relax_refresh" || live.Value.GetAttr("session_timeout").AsString() != "2h" {
		t.Fatalf("drift not read: %#v", live.Value)
	}
	config = guideApp(map[string]cty.Value{"profiles": strs(salesforceapi.ProfileStandardUser), "refresh_token_policy": cty.StringVal("expire_if_unused_for"), "refresh_token_duration": cty.StringVal("30d"), "session_timeout": cty.StringVal("8h")})
	if _, changed := converge(t, c, connectedAppSchema, config); len(changed) != 5 {
		t.Fatalf("changed %v", changed)
	}
	sb.View(func() {
		app := svc.Org().App(salesforceapi.PowerPlatformApp)
		if app.RefreshTokenPolicy != "specific_inactivity:30:DAYS" || app.SessionTimeout != 480 || app.IPRelaxation != "BYPASS" {
			t.Errorf("org app %+v", app)
		}
		if p, _ := svc.Org().AppAccess(salesforceapi.PowerPlatformApp); len(p) != 1 || p[0] != salesforceapi.ProfileStandardUser {
			t.Errorf("profiles %v", p)
		}
	})
}

func TestConnectedAppValidationAndWarnings(t *testing.T) {
	c, sb, svc := start(t)
	mutate(t, sb, func() error { return svc.InstallConnectedApp(salesforceapi.PowerPlatformApp) })
	config := cfg(connectedAppSchema, map[string]cty.Value{"refresh_token_policy": cty.StringVal("expire_after")})
	live := read(t, c, connectedAppSchema.Type, "", config)
	after, _ := planned(connectedAppSchema, live.Value, config)
	if _, err := c.PlanChange(ctx, providers.PlanRequest{Type: connectedAppSchema.Type, Action: providers.Update, Config: config, Prior: live.Value, Planned: after}); err == nil || !strings.Contains(err.Error(), "needs refresh_token_duration") {
		t.Fatalf("expire_after without duration: %v", err)
	}
	config = cfg(connectedAppSchema, map[string]cty.Value{"refresh_token_policy": cty.StringVal("valid_until_revoked"), "refresh_token_duration": cty.StringVal("3d")})
	after, _ = planned(connectedAppSchema, live.Value, config)
	if _, err := c.PlanChange(ctx, providers.PlanRequest{Type: connectedAppSchema.Type, Action: providers.Update, Config: config, Prior: live.Value, Planned: after}); err == nil || !strings.Contains(err.Error(), "only applies") {
		t.Fatalf("duration with valid_until_revoked: %v", err)
	}
	// Admin-approved with nobody granted: warned at plan, and at read once it is so.
	config = cfg(connectedAppSchema, map[string]cty.Value{"permitted_users": cty.StringVal("admin_approved_preauthorized"), "profiles": strs(), "permission_sets": strs()})
	after, _ = planned(connectedAppSchema, live.Value, config)
	pr, err := c.PlanChange(ctx, providers.PlanRequest{Type: connectedAppSchema.Type, Action: providers.Update, Config: config, Prior: live.Value, Planned: after})
	if err != nil || len(pr.Warnings) != 1 || !strings.Contains(pr.Warnings[0], "nobody can use") {
		t.Fatalf("plan %+v %v", pr, err)
	}
	converge(t, c, connectedAppSchema, config)
	if again := read(t, c, connectedAppSchema.Type, "", config); len(again.Warnings) != 1 || !strings.Contains(again.Warnings[0], "nobody can use") {
		t.Fatalf("read warnings %v", again.Warnings)
	}
	// Unknown names are refused by name.
	config = cfg(connectedAppSchema, map[string]cty.Value{"profiles": strs("Sellers"), "permission_sets": strs("Nope")})
	live = read(t, c, connectedAppSchema.Type, "", config)
	after, _ = planned(connectedAppSchema, live.Value, config)
	// At plan, before anything is changed, and at apply (a saved plan applied later).
	_, err = c.PlanChange(ctx, providers.PlanRequest{Type: connectedAppSchema.Type, Action: providers.Update, ID: live.ID, Config: config, Prior: live.Value, Planned: after})
	if err == nil || !strings.Contains(err.Error(), `profile "Sellers"`) || !strings.Contains(err.Error(), `permission set "Nope"`) {
		t.Fatalf("unknown names at plan: %v", err)
	}
	_, err = c.Apply(ctx, providers.ApplyRequest{Type: connectedAppSchema.Type, Action: providers.Update, ID: live.ID, Prior: live.Value, Planned: after})
	if err == nil || !strings.Contains(err.Error(), `profile "Sellers"`) || !strings.Contains(err.Error(), `permission set "Nope"`) {
		t.Fatalf("unknown names: %v", err)
	}
}

// An installed app whose policies the Metadata API refuses to change: apply explains the manual
// steps, and the next plan is a manual action naming each setting.
func TestConnectedAppPoliciesRefused(t *testing.T) {
	c, sb, svc := start(t)
	mutate(t, sb, func() error {
		if err := svc.InstallConnectedApp(salesforceapi.PowerPlatformApp); err != nil {
			return err
		}
		return svc.LockPolicies(salesforceapi.PowerPlatformApp, true)
	})
	config := guideApp(map[string]cty.Value{"profiles": strs(), "permission_sets": strs("Sales_Operations")})
	live := read(t, c, connectedAppSchema.Type, "", config)
	after, _ := planned(connectedAppSchema, live.Value, config)
	_, err := c.Apply(ctx, providers.ApplyRequest{Type: connectedAppSchema.Type, Action: providers.Update, ID: live.ID, Prior: live.Value, Planned: after})
	if err == nil || !strings.Contains(err.Error(), "CANNOT_MODIFY_MANAGED_OBJECT") || !strings.Contains(err.Error(), `IP Relaxation: "Relax IP restrictions"`) {
		t.Fatalf("apply: %v", err)
	}
	live = read(t, c, connectedAppSchema.Type, "", config)
	if live.Value.GetAttr("policies_editable").True() {
		t.Fatal("policies_editable still true after a refusal")
	}
	after, _ = planned(connectedAppSchema, live.Value, config)
	pr, err := c.PlanChange(ctx, providers.PlanRequest{Type: connectedAppSchema.Type, Action: providers.Update, Config: config, Prior: live.Value, Planned: after})
	if err != nil || pr.Action != providers.Manual {
		t.Fatalf("plan %+v %v", pr, err)
	}
	steps := strings.Join(pr.Manual.Steps, "\n")
	for _, w := range []string{"Manage Connected Apps", "Edit Policies", `Permitted Users: "Admin approved users are pre-authorized"`, `IP Relaxation: "Relax IP restrictions"`} {
		if !strings.Contains(steps, w) {
			t.Fatalf("steps lack %q:\n%s", w, steps)
		}
	}
	if strings.Contains(steps, "Refresh Token") || strings.Contains(steps, "Timeout") {
		t.Fatalf("steps name settings that are already right:\n%s", steps)
	}
}

func TestConnectedAppMetadataHidden(t *testing.T) {
	c, sb, svc := start(t)
	mutate(t, sb, func() error {
		if err := svc.InstallConnectedApp(salesforceapi.PowerPlatformApp); err != nil {
			return err
		}
		return svc.HideMetadata(salesforceapi.PowerPlatformApp, true)
	})
	config := guideApp(nil)
	live := read(t, c, connectedAppSchema.Type, "", config)
	if live.Value.GetAttr("policies_editable").True() || !live.Value.GetAttr("ip_relaxation").IsNull() || live.Value.GetAttr("permitted_users").AsString() != "all_users_self_authorize" {
		t.Fatalf("read %#v", live.Value)
	}
	after, _ := planned(connectedAppSchema, live.Value, config)
	pr, err := c.PlanChange(ctx, providers.PlanRequest{Type: connectedAppSchema.Type, Action: providers.Update, Config: config, Prior: live.Value, Planned: after})
	if err != nil || pr.Action != providers.Manual || !strings.Contains(strings.Join(pr.Manual.Steps, "\n"), "Manage Profiles, select Standard User, System Administrator") {
		t.Fatalf("plan %+v %v", pr.Manual, err)
	}
}

func sellers(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("seller%03d@contoso-sandbox.example", i+1)
	}
	return out
}

func TestPermissionSetBulkAssignments(t *testing.T) {
	c, sb, svc := start(t)
	all := sellers(salesforceapi.SeededUsers)
	config := cfg(permissionSetSchema, map[string]cty.Value{
		"name": cty.StringVal("Copilot_for_Sales_Users"), "label": cty.StringVal("Copilot for Sales users"), "api_enabled": cty.True,
		"user_permissions": strs("EditTask", "ConvertLeads"), "assignees": strs(all...),
	})
	live := read(t, c, permissionSetSchema.Type, "", config)
	if !live.Value.IsNull() {
		t.Fatalf("fresh org has the permission set: %#v", live.Value)
	}
	after, _ := planned(permissionSetSchema, live.Value, config)
	pr, err := c.PlanChange(ctx, providers.PlanRequest{Type: permissionSetSchema.Type, Action: providers.Create, Config: config, Prior: live.Value, Planned: after})
	if err != nil || len(pr.Notes) != 1 || !strings.Contains(pr.Notes[0], "Standard User (490 users)") || !strings.Contains(pr.Notes[0], "Read Only (10 users)") {
		t.Fatalf("plan notes %v %v", pr.Notes, err)
	}
	sb.RequestLog().Reset()
	resp, _ := converge(t, c, permissionSetSchema, config)
	log := sb.RequestLog()
	if n := log.Count("POST /salesforce/services/data/{v}/composite/sobjects"); n != 3 { // ceil(500/200)
		t.Fatalf("assigning 500 users took %d collection requests, want 3\n%s", n, log)
	}
	if n := log.Count("POST /salesforce/services/data/{v}/sobjects/{type}"); n != 1 {
		t.Fatalf("%d single-row creates", n)
	}
	sb.View(func() {
		if got := len(svc.Org().AssignedUsernames("Copilot_for_Sales_Users")); got != 500 {
			t.Errorf("%d assigned", got)
		}
		ps := svc.Org().PermissionSet("Copilot_for_Sales_Users")
		if !ps.Perms["ApiEnabled"] || !ps.Perms["EditTask"] || !ps.Perms["ConvertLeads"] || ps.Perms["ViewAllData"] {
			t.Errorf("perms %v", ps.Perms)
		}
	})
	// Shrink to 150: one bulk delete of 350 rows = 2 requests; nothing created.
	config = cfg(permissionSetSchema, map[string]cty.Value{"name": cty.StringVal("Copilot_for_Sales_Users"), "api_enabled": cty.True, "assignees": strs(all[:150]...)})
	log.Reset()
	resp2, changed := converge(t, c, permissionSetSchema, config)
	if resp2.ID != resp.ID || len(changed) != 1 {
		t.Fatalf("id %s/%s changed %v", resp.ID, resp2.ID, changed)
	}
	if n := log.Count("DELETE /salesforce/services/data/{v}/composite/sobjects"); n != 2 {
		t.Fatalf("unassigning 350 users took %d requests\n%s", n, log)
	}
	if n := log.Count("POST /salesforce/services/data/{v}/composite/sobjects"); n != 0 {
		t.Fatalf("%d creates", n)
	}
	// Unknown usernames are named.
	config = cfg(permissionSetSchema, map[string]cty.Value{"name": cty.StringVal("Copilot_for_Sales_Users"), "assignees": strs("ghost@contoso-sandbox.example")})
	live = read(t, c, permissionSetSchema.Type, resp.ID, config)
	if len(live.Warnings) == 0 || !strings.Contains(live.Warnings[0], "ghost@") {
		t.Fatalf("warnings %v", live.Warnings)
	}
	after, _ = planned(permissionSetSchema, live.Value, config)
	if _, err := c.Apply(ctx, providers.ApplyRequest{Type: permissionSetSchema.Type, Action: providers.Update, ID: resp.ID, Prior: live.Value, Planned: after}); err == nil || !strings.Contains(err.Error(), "ghost@contoso-sandbox.example") {
		t.Fatalf("unknown assignee: %v", err)
	}
	// Delete removes the assignments first.
	if _, err := c.Apply(ctx, providers.ApplyRequest{Type: permissionSetSchema.Type, Action: providers.Delete, ID: resp.ID, Prior: live.Value, Planned: cty.NullVal(permissionSetSchema.ImpliedType())}); err != nil {
		t.Fatal(err)
	}
	sb.View(func() {
		if svc.Org().PermissionSet("Copilot_for_Sales_Users") != nil {
			t.Error("not deleted")
		}
	})
}

func TestPermissionSetFilterAndPaging(t *testing.T) {
	c, sb, svc := start(t)
	var extra []string
	mutate(t, sb, func() error {
		var err error
		extra, err = svc.AddUsers(2100, salesforceapi.ProfileStandardUser)
		return err
	})
	filter := "Profile.Name = 'Standard User' AND IsActive = true"
	config := cfg(permissionSetSchema, map[string]cty.Value{"name": cty.StringVal("Sellers_API"), "api_enabled": cty.True, "assignee_filter": cty.StringVal(filter)})
	sb.RequestLog().Reset()
	converge(t, c, permissionSetSchema, config)
	var want int
	sb.View(func() {
		for _, u := range svc.Org().Users {
			if u.IsActive && u.ProfileID == svc.Org().Profile(salesforceapi.ProfileStandardUser).ID {
				want++
			}
		}
		if got := len(svc.Org().AssignedUsernames("Sellers_API")); got != want || want < 2500 {
			t.Errorf("assigned %d, want %d", got, want)
		}
	})
	log := sb.RequestLog()
	if n := log.Count("GET /salesforce/services/data/{v}/query/{locator}"); n < 2 {
		t.Fatalf("no paging over %d users: %d queryMore\n%s", want, n, log)
	}
	if n, max := log.Count("POST /salesforce/services/data/{v}/composite/sobjects"), (want+199)/200; n != max {
		t.Fatalf("%d collection requests for %d users, want %d", n, want, max)
	}
	// Paging directly: every user, 2,000 a page.
	recs, err := c.query(context.Background(), "SELECT Id, Username FROM User")
	if err != nil || len(recs) != 2+salesforceapi.SeededUsers+len(extra) {
		t.Fatalf("%d users, %v", len(recs), err)
	}
	// A user deactivated by hand makes the filter unsatisfied.
	mutate(t, sb, func() error { svc.Org().User(extra[0]).IsActive = false; return nil })
	live := read(t, c, permissionSetSchema.Type, "", config)
	if got := live.Value.GetAttr("assignee_filter").AsString(); !strings.Contains(got, "not satisfied: 0 users to assign, 1 to unassign") {
		t.Fatalf("filter value %q", got)
	}
	converge(t, c, permissionSetSchema, config)
	// Bad filters are clear errors.
	_, err = c.Read(ctx, providers.ReadRequest{Type: permissionSetSchema.Type, Config: cfg(permissionSetSchema, map[string]cty.Value{"name": cty.StringVal("Sellers_API"), "assignee_filter": cty.StringVal("Profile.Name = 'x' AND IsActive = true OR IsActive = false")})})
	if err == nil || !strings.Contains(err.Error(), "MALFORMED_QUERY") || !strings.Contains(err.Error(), "assignee_filter") {
		t.Fatalf("bad filter: %v", err)
	}
	_, err = c.Read(ctx, providers.ReadRequest{Type: permissionSetSchema.Type, Config: cfg(permissionSetSchema, map[string]cty.Value{"name": cty.StringVal("Sellers_API"), "user_permissions": strs("FlyToTheMoon")})})
	if err == nil || !strings.Contains(err.Error(), "user_permissions") || !strings.Contains(err.Error(), "PermissionsFlyToTheMoon") {
		t.Fatalf("unknown permission: %v", err)
	}
}

// A revoked or expired session is answered by signing in again once; an access token that
// cannot be renewed gives a clear error.
func TestReauthentication(t *testing.T) {
	c, sb, svc := start(t)
	mutate(t, sb, func() error { return svc.InstallConnectedApp(salesforceapi.PowerPlatformApp) })
	tok, _ := c.current()
	sb.Tokens.Revoke(tok)
	issued := sb.Tokens.Issued()
	live := read(t, c, connectedAppSchema.Type, "", guideApp(nil))
	if !live.Value.GetAttr("installed").True() || c.Logins() != 1 || sb.Tokens.Issued() != issued+1 {
		t.Fatalf("logins %d, tokens %d→%d", c.Logins(), issued, sb.Tokens.Issued())
	}
	// Expired tokens, on the SOAP path too.
	sb.Tokens.SetTTL(time.Second)
	tok, gen := c.current()
	sb.Tokens.Revoke(tok)
	if _, err := c.readConnectedApp(ctx, salesforceapi.PowerPlatformAppFullName); err != nil { // signs in with a 1-second token
		t.Fatal(err)
	}
	sb.Tokens.SetTTL(time.Hour)
	time.Sleep(2100 * time.Millisecond)
	if _, err := c.query(context.Background(), "SELECT Id FROM Profile"); err != nil {
		t.Fatal(err)
	}
	if _, g := c.current(); g != gen+2 {
		t.Fatalf("generation %d, want %d", g, gen+2)
	}
	// An access token from the environment cannot be renewed.
	env := providertest.Env(sb)
	env.Getenv = func(k string) string {
		switch k {
		case "SF_ACCESS_TOKEN":
			tok, _ := c.current()
			return tok
		case "SF_INSTANCE_URL":
			return sb.URL + "/salesforce"
		}
		return ""
	}
	cfgVal := providertest.ConfigValue(New(), sb.URL, map[string]cty.Value{"auth": cty.StringVal(AuthAccessToken), "instance_url": cty.NullVal(cty.String)})
	cl, err := New().Configure(ctx, cfgVal, env)
	if err != nil {
		t.Fatal(err)
	}
	at := cl.(*Client)
	if _, err := at.query(context.Background(), "SELECT Id FROM Profile"); err != nil {
		t.Fatal(err)
	}
	tok, _ = at.current()
	sb.Tokens.Revoke(tok)
	_, err = at.query(context.Background(), "SELECT Id FROM Profile")
	if err == nil || !strings.Contains(err.Error(), "INVALID_SESSION_ID") || !strings.Contains(err.Error(), "cannot be renewed") {
		t.Fatalf("revoked access token: %v", err)
	}
	if strings.Contains(err.Error(), tok) {
		t.Fatal("the token leaked into the error")
	}
}

func TestJWTBearer(t *testing.T) {
	svc := salesforceapi.New()
	sb, err := sandbox.Start(sandbox.Options{}, svc)
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	key, err := salesforceapi.JWTPrivateKeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(file, key, 0o600); err != nil {
		t.Fatal(err)
	}
	over := map[string]cty.Value{"auth": cty.StringVal(AuthJWTBearer), "client_secret": cty.NullVal(cty.String), "instance_url": cty.NullVal(cty.String),
		"username": cty.StringVal(salesforceapi.AdminUser), "private_key_file": cty.StringVal(file)}
	cl, err := providertest.Configure(New(), sb, over)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.(*Client).query(context.Background(), "SELECT Id FROM User WHERE Username = "+soqlQuote(salesforceapi.AdminUser)); err != nil {
		t.Fatal(err)
	}
	over["username"] = cty.StringVal("nobody@contoso-sandbox.example")
	if _, err := providertest.Configure(New(), sb, over); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
		t.Fatalf("unknown user: %v", err)
	}
	over["private_key_file"] = cty.StringVal(filepath.Join(t.TempDir(), "missing.pem"))
	if _, err := providertest.Configure(New(), sb, over); err == nil || !strings.Contains(err.Error(), "private_key_file") {
		t.Fatalf("missing key: %v", err)
	}
}

// Salesforce error bodies become messages that say what failed and what to do, and malformed
// answers never panic.
func TestErrorBodies(t *testing.T) {
	c, sb, svc := start(t)
	mutate(t, sb, func() error { svc.SetAPILimit(5000, 5000); return nil })
	_, err := c.query(context.Background(), "SELECT Id FROM Profile")
	if err == nil || !strings.Contains(err.Error(), "REQUEST_LIMIT_EXCEEDED") || !strings.Contains(err.Error(), "api-usage 5000/5000") || !strings.Contains(err.Error(), "rolling 24 hours") {
		t.Fatalf("limit: %v", err)
	}
	mutate(t, sb, func() error { svc.SetAPILimit(10, 5000); return nil })
	if _, err := c.query(context.Background(), "SELECT Id FROM Profile"); err != nil {
		t.Fatal(err)
	}
	if c.APIUsage() != "11/5000" {
		t.Fatalf("Sforce-Limit-Info not read: %q", c.APIUsage())
	}
	_, err = c.query(context.Background(), "SELECT Nope FROM Profile")
	if err == nil || !strings.Contains(err.Error(), "INVALID_FIELD: No such column 'Nope'") {
		t.Fatalf("invalid field: %v", err)
	}
	// Malformed answers: an empty error array (simpleforce would index it), garbage, HTML, a
	// wrong shape.
	var body atomic.Value
	sb.Use(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := body.Load().(string)
			if b == "" || !strings.Contains(r.URL.Path, "/query") {
				next.ServeHTTP(w, r)
				return
			}
			if b == `{"records": 5}` {
				w.WriteHeader(http.StatusOK)
			} else {
				w.WriteHeader(http.StatusInternalServerError)
			}
			_, _ = w.Write([]byte(b))
		})
	})
	for _, b := range []string{"[]", "{", "<html>oops</html>", `{"records": 5}`} {
		body.Store(b)
		if _, err := c.query(context.Background(), "SELECT Id FROM Profile"); err == nil {
			t.Fatalf("body %q: no error", b)
		} else if b == "[]" && !strings.Contains(err.Error(), "500") {
			t.Fatalf("body %q: %v", b, err)
		}
	}
	body.Store("")
}

func TestConfigSchemaSandboxValues(t *testing.T) {
	vals := New().SandboxConfig("https://127.0.0.1:1/")
	if vals["instance_url"].AsString() != "https://127.0.0.1:1/salesforce" || vals["login_url"].AsString() != "https://127.0.0.1:1/salesforce" || vals["auth"].AsString() != AuthClientCredentials {
		t.Fatalf("%#v", vals)
	}
}

func TestPermissionSetUpdateAndWarnings(t *testing.T) {
	c, sb, svc := start(t)
	config := cfg(permissionSetSchema, map[string]cty.Value{"name": cty.StringVal("Sellers"), "api_enabled": cty.False, "assignees": strs(sellers(3)...)})
	live := read(t, c, permissionSetSchema.Type, "", config)
	after, _ := planned(permissionSetSchema, live.Value, config)
	pr, err := c.PlanChange(ctx, providers.PlanRequest{Type: permissionSetSchema.Type, Action: providers.Create, Config: config, Prior: live.Value, Planned: after})
	if err != nil || len(pr.Warnings) != 2 || !strings.Contains(pr.Warnings[0], "Standard User (3 users)") || !strings.Contains(pr.Warnings[1], "API Enabled") {
		t.Fatalf("warnings %v %v", pr.Warnings, err)
	}
	resp, _ := converge(t, c, permissionSetSchema, config)
	if live := read(t, c, permissionSetSchema.Type, resp.ID, config); len(live.Warnings) != 1 || !strings.Contains(live.Warnings[0], "lacks API Enabled") {
		t.Fatalf("read warnings %v", live.Warnings)
	}
	config = cfg(permissionSetSchema, map[string]cty.Value{"name": cty.StringVal("Sellers"), "label": cty.StringVal("Sellers (API)"), "description": cty.StringVal("Copilot for Sales"),
		"api_enabled": cty.True, "user_permissions": strs("ViewSetup"), "assignees": strs(strings.ToUpper(sellers(1)[0]))})
	sb.RequestLog().Reset()
	if _, changed := converge(t, c, permissionSetSchema, config); len(changed) != 5 {
		t.Fatalf("changed %v", changed)
	}
	if n := sb.RequestLog().Count("PATCH /salesforce/services/data/{v}/sobjects/{type}/{id}"); n != 1 {
		t.Fatalf("%d PATCH", n)
	}
	sb.View(func() {
		ps := svc.Org().PermissionSet("Sellers")
		if ps.Label != "Sellers (API)" || ps.Description != "Copilot for Sales" || !ps.Perms["ApiEnabled"] || !ps.Perms["ViewSetup"] {
			t.Errorf("%+v", ps)
		}
		if got := svc.Org().AssignedUsernames("Sellers"); len(got) != 1 || got[0] != sellers(1)[0] {
			t.Errorf("assigned %v", got)
		}
	})
	// Both ways of naming assignees at once are refused.
	config = cfg(permissionSetSchema, map[string]cty.Value{"name": cty.StringVal("Sellers"), "assignees": strs(), "assignee_filter": cty.StringVal("IsActive = true")})
	if _, err := c.PlanChange(ctx, providers.PlanRequest{Type: permissionSetSchema.Type, Action: providers.Update, Config: config, Prior: live.Value, Planned: config}); err == nil || !strings.Contains(err.Error(), "either assignees or assignee_filter") {
		t.Fatalf("both: %v", err)
	}
	// Near the daily limit, reads warn.
	mutate(t, sb, func() error { svc.SetAPILimit(95, 100); return nil })
	if live := read(t, c, permissionSetSchema.Type, resp.ID, cfg(permissionSetSchema, map[string]cty.Value{"name": cty.StringVal("Sellers")})); len(live.Warnings) == 0 || !strings.Contains(live.Warnings[len(live.Warnings)-1], "of its 100 API requests") {
		t.Fatalf("usage warnings %v", live.Warnings)
	}
}

// cfg and planned are the shared engine-faithful helpers.
var (
	cfg     = providertest.Config
	planned = providertest.Planned
)
