package powerplatform

import (
	"context"
	"encoding/json"
	"github.com/c4sctl/c4sctl/pkg/providers/attrs"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/providers/providertest"
	"github.com/c4sctl/c4sctl/pkg/sandbox"
	"github.com/c4sctl/c4sctl/pkg/sandbox/powerplatformapi"
	"github.com/c4sctl/c4sctl/pkg/schema"
	"github.com/zclconf/go-cty/cty"
)

var ctx = context.Background()

func start(t *testing.T) (*Client, *sandbox.Server, *powerplatformapi.API) {
	t.Helper()
	bap := powerplatformapi.NewBAP()
	c, sb := providertest.Start(t, New(), bap, powerplatformapi.NewDataverse())
	return c.(*Client), sb, bap.API()
}

// signIn creates msdyn_viva (a seller's first sign-in) and adds c4sctl's app to it as an
// application user, as an admin does before c4sctl can read it.
func signIn(t *testing.T, sb *sandbox.Server, api *powerplatformapi.API) {
	t.Helper()
	signInOnly(t, sb, api)
	if err := sb.Mutate(func() error { return api.AddAppUser(powerplatformapi.VivaUniqueName, sandbox.ClientID) }); err != nil {
		t.Fatal(err)
	}
}

// signInOnly creates msdyn_viva without adding c4sctl's app to it.
func signInOnly(t *testing.T, sb *sandbox.Server, api *powerplatformapi.API) {
	t.Helper()
	if err := sb.Mutate(func() error { return api.SignIn("seller@" + sandbox.TenantDomain) }); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, c *Client, typ string, config cty.Value) providers.ReadResponse {
	t.Helper()
	resp, err := c.Read(ctx, providers.ReadRequest{Type: typ, Config: config})
	if err != nil {
		t.Fatalf("read %s: %v", typ, err)
	}
	return resp
}

// converge plans and applies one resource like the engine, returning what changed.
func converge(t *testing.T, c *Client, r *schema.Resource, config cty.Value) []string {
	t.Helper()
	live := read(t, c, r.Type, config)
	if live.Deferred != "" {
		t.Fatalf("%s deferred: %s", r.Type, live.Deferred)
	}
	after, changed := planned(r, live.Value, config)
	if len(changed) == 0 {
		return nil
	}
	if _, err := c.Apply(ctx, providers.ApplyRequest{Type: r.Type, Action: providers.Update, ID: live.ID, Prior: live.Value, Planned: after}); err != nil {
		t.Fatalf("apply %s: %v", r.Type, err)
	}
	return changed
}

func policyNames(v cty.Value) map[string]string {
	out := map[string]string{}
	for it := v.GetAttr("policies").ElementIterator(); it.Next(); {
		_, p := it.Element()
		out[p.GetAttr("display_name").AsString()] = p.GetAttr("connector_group").AsString()
	}
	return out
}

func policyJSON(t *testing.T, sb *sandbox.Server, api *powerplatformapi.API, name string) map[string]any {
	t.Helper()
	var out map[string]any
	sb.View(func() {
		b, _ := json.Marshal(api.Tenant().Policy(name))
		_ = json.Unmarshal(b, &out)
	})
	if out == nil {
		t.Fatalf("no policy %s", name)
	}
	return out
}

const tenantWide = "Contoso tenant-wide baseline"

func TestDLPScopeResolution(t *testing.T) {
	c, sb, api := start(t)
	_ = sb.Mutate(func() error {
		api.PutPolicy(api.NewPolicy("p-except-salesops", "Except Sales Ops", "ExceptEnvironments", []string{powerplatformapi.SalesOpsEnvironmentID}, "General"))
		api.PutPolicy(api.NewPolicy("p-except-viva", "Except Viva", "ExceptEnvironments", []string{powerplatformapi.VivaEnvironmentID}, "Blocked"))
		api.PutPolicy(api.NewPolicy("p-only-viva", "Only Viva", "OnlyEnvironments", []string{powerplatformapi.VivaEnvironmentID}, "Confidential"))
		return nil
	})
	config := cfg(ruleSchema, nil)

	// Before the first sign-in msdyn_viva does not exist: policies that would apply to a new
	// environment (all, all-except) apply; "only" policies cannot name it yet.
	got := read(t, c, ruleSchema.Type, config)
	want := map[string]string{tenantWide: "blocked", "Except Sales Ops": "non_business", "Except Viva": "blocked"}
	if names := policyNames(got.Value); !reflect.DeepEqual(names, want) {
		t.Fatalf("before sign-in: policies %v, want %v", names, want)
	}
	if !got.Value.GetAttr("blocked").True() {
		t.Error("blocked should be true: the tenant-wide policy blocks shared_salesforce")
	}
	if !strings.Contains(strings.Join(got.Warnings, "\n"), "does not exist yet") {
		t.Errorf("warnings should say msdyn_viva does not exist yet: %q", got.Warnings)
	}

	signIn(t, sb, api)
	got = read(t, c, ruleSchema.Type, config)
	want = map[string]string{tenantWide: "blocked", "Except Sales Ops": "non_business", "Only Viva": "business"}
	if names := policyNames(got.Value); !reflect.DeepEqual(names, want) {
		t.Fatalf("after sign-in: policies %v, want %v (all-except excluding msdyn_viva must drop out, only naming it must appear)", names, want)
	}

	// The Sales Operations environment: the "only" policy naming it and the all-except
	// excluding it.
	so := read(t, c, ruleSchema.Type, cfg(ruleSchema, map[string]cty.Value{"environment": cty.StringVal("Sales Operations")}))
	want = map[string]string{tenantWide: "blocked", "Sales Operations apps": "business", "Except Viva": "blocked"}
	if names := policyNames(so.Value); !reflect.DeepEqual(names, want) {
		t.Fatalf("Sales Operations: policies %v, want %v", names, want)
	}
}

func withoutVolatile(p map[string]any) map[string]any {
	d := p["policyDefinition"].(map[string]any)
	for _, k := range []string{"etag", "lastModifiedTime", "lastModifiedBy"} {
		delete(d, k)
	}
	return p
}

// dropConnector removes a connector (by API name, the end of its id) from every group, to compare
// the rest of a policy.
func dropConnector(p map[string]any, name string) map[string]any {
	for _, g := range p["policyDefinition"].(map[string]any)["connectorGroups"].([]any) {
		gm := g.(map[string]any)
		var keep []any
		for _, c := range gm["connectors"].([]any) {
			if !strings.HasSuffix(c.(map[string]any)["id"].(string), "/"+name) {
				keep = append(keep, c)
			}
		}
		gm["connectors"] = keep
	}
	return p
}

func TestMoveConnectorKeepsTheRestOfThePolicy(t *testing.T) {
	c, sb, api := start(t)
	before := policyJSON(t, sb, api, tenantWide)
	otherBefore := policyJSON(t, sb, api, "Sales Operations apps")
	config := cfg(ruleSchema, nil)

	live := read(t, c, ruleSchema.Type, config)
	after, changed := planned(ruleSchema, live.Value, config)
	if !reflect.DeepEqual(changed, []string{"blocked"}) {
		t.Fatalf("changed attributes %v, want [blocked]", changed)
	}
	pr, err := c.PlanChange(ctx, providers.PlanRequest{Type: ruleSchema.Type, ID: live.ID, Action: providers.Update, Config: config, Prior: live.Value, Planned: after})
	if err != nil {
		t.Fatal(err)
	}
	notes := strings.Join(pr.Notes, "\n")
	if !strings.Contains(notes, tenantWide) || !strings.Contains(notes, "moves to business (Confidential)") || !strings.Contains(notes, "all environments") {
		t.Errorf("plan notes should name the policy, its scope and the move: %q", pr.Notes)
	}
	sb.RequestLog().Reset()
	if _, err := c.Apply(ctx, providers.ApplyRequest{Type: ruleSchema.Type, Action: providers.Update, ID: live.ID, Prior: live.Value, Planned: after}); err != nil {
		t.Fatal(err)
	}
	if n := sb.RequestLog().Count("PATCH /bap/providers/PowerPlatform.Governance/v2/policies/{name}"); n != 1 {
		t.Errorf("%d PATCH requests, want 1 (only the blocking policy)", n)
	}

	afterJSON := policyJSON(t, sb, api, tenantWide)
	if powerplatformapi.ConnectorGroup(afterJSON, "shared_salesforce") != "Confidential" {
		t.Fatalf("shared_salesforce is in %s, want Confidential", powerplatformapi.ConnectorGroup(afterJSON, "shared_salesforce"))
	}
	a := dropConnector(withoutVolatile(afterJSON), "shared_salesforce")
	b := dropConnector(withoutVolatile(before), "shared_salesforce")
	if !reflect.DeepEqual(a, b) {
		ja, _ := json.MarshalIndent(a, "", " ")
		jb, _ := json.MarshalIndent(b, "", " ")
		t.Errorf("the rest of the policy changed:\nbefore %s\nafter %s", jb, ja)
	}
	if !reflect.DeepEqual(policyJSON(t, sb, api, "Sales Operations apps"), otherBefore) {
		t.Error("a policy that does not apply was changed")
	}
	if ch := converge(t, c, ruleSchema, config); ch != nil {
		t.Errorf("second plan still changes %v", ch)
	}

	// A forced group moves the connector out of business in every applicable policy.
	forced := cfg(ruleSchema, map[string]cty.Value{"environment": cty.StringVal("Sales Operations"), "group": cty.StringVal("non_business")})
	if ch := converge(t, c, ruleSchema, forced); !reflect.DeepEqual(ch, []string{"group"}) {
		t.Fatalf("forced group: changed %v, want [group]", ch)
	}
	for _, p := range []string{tenantWide, "Sales Operations apps"} {
		if g := powerplatformapi.ConnectorGroup(policyJSON(t, sb, api, p), "shared_salesforce"); g != "General" {
			t.Errorf("%s: shared_salesforce in %s, want General", p, g)
		}
	}
	if ch := converge(t, c, ruleSchema, forced); ch != nil {
		t.Errorf("forced group does not converge: %v", ch)
	}
}

func TestExcludedPolicyIsReportedNotChanged(t *testing.T) {
	c, sb, _ := start(t)
	config := cfg(ruleSchema, map[string]cty.Value{"exclude_policies": cty.SetVal([]cty.Value{cty.StringVal(tenantWide), cty.StringVal("Nope")})})
	got := read(t, c, ruleSchema.Type, config)
	w := strings.Join(got.Warnings, "\n")
	if !strings.Contains(w, tenantWide) || !strings.Contains(w, "blocks shared_salesforce") || !strings.Contains(w, "exclude_policies") {
		t.Errorf("warnings should report the excluded policy as blocking: %q", got.Warnings)
	}
	if !strings.Contains(w, `"Nope"`) {
		t.Errorf("warnings should name the unknown excluded policy: %q", got.Warnings)
	}
	sb.RequestLog().Reset()
	if ch := converge(t, c, ruleSchema, config); ch != nil {
		t.Errorf("an excluded policy must not plan a change: %v", ch)
	}
	pols := got.Value.GetAttr("policies")
	if pols.LengthInt() != 1 || !pols.Index(cty.NumberIntVal(0)).GetAttr("excluded").True() {
		t.Errorf("policies should list the excluded policy: %#v", pols)
	}
	if n := sb.RequestLog().Count("PATCH /bap/providers/PowerPlatform.Governance/v2/policies/{name}"); n != 0 {
		t.Errorf("%d PATCH requests to an excluded policy", n)
	}
}

func TestEnvironmentDataSource(t *testing.T) {
	c, sb, api := start(t)
	got := read(t, c, environmentSchema.Type, cfg(environmentSchema, nil))
	if got.Value.GetAttr("exists").True() || got.ID != "" {
		t.Fatalf("msdyn_viva should not exist before the first sign-in: %#v", got.Value)
	}
	if !strings.Contains(strings.Join(got.Warnings, " "), "guide step 7") {
		t.Errorf("warning should point to step 7: %q", got.Warnings)
	}
	signIn(t, sb, api)
	got = read(t, c, environmentSchema.Type, cfg(environmentSchema, nil))
	v := got.Value
	if !v.GetAttr("exists").True() || v.GetAttr("type").AsString() != "Trial" || v.GetAttr("id").AsString() != powerplatformapi.VivaEnvironmentID ||
		v.GetAttr("state").AsString() != "Enabled" || !strings.HasSuffix(v.GetAttr("url").AsString(), "/dataverse/msdyn_viva/") {
		t.Errorf("msdyn_viva after sign-in: %#v", v)
	}
}

func TestAdminsDeferredThenConverge(t *testing.T) {
	c, sb, api := start(t)
	declared := cty.SetVal([]cty.Value{cty.StringVal(powerplatformapi.GlobalAdminUPN)})
	config := cfg(adminsSchema, map[string]cty.Value{"principals": declared})
	got := read(t, c, adminsSchema.Type, config)
	if !strings.Contains(got.Deferred, "first seller's sign-in (guide step 7)") {
		t.Fatalf("before sign-in the admins must be deferred, got %q", got.Deferred)
	}

	signIn(t, sb, api)
	got = read(t, c, adminsSchema.Type, config)
	if got.Deferred != "" {
		t.Fatalf("still deferred: %s", got.Deferred)
	}
	if ch := func() []string { _, ch := planned(adminsSchema, got.Value, config); return ch }(); ch != nil {
		t.Errorf("enforce = false must not plan a change, got %v", ch)
	}
	extra, _ := attrs.Strings(got.Value, "extra_holders")
	sort.Strings(extra)
	if want := []string{sandbox.ClientID, powerplatformapi.PPAdminUPN}; !reflect.DeepEqual(extra, want) {
		t.Errorf("extra holders %v, want %v", extra, want)
	}
	w := strings.Join(got.Warnings, "\n")
	if !strings.Contains(w, powerplatformapi.PPAdminUPN) || !strings.Contains(w, "never removes its own role") {
		t.Errorf("warnings should list the extra holder and the caller: %q", got.Warnings)
	}

	enforced := cfg(adminsSchema, map[string]cty.Value{"principals": declared, "enforce": cty.True})
	live := read(t, c, adminsSchema.Type, enforced)
	after, changed := planned(adminsSchema, live.Value, enforced)
	if !reflect.DeepEqual(changed, []string{"principals"}) {
		t.Fatalf("enforce: changed %v, want [principals]", changed)
	}
	pr, _ := c.PlanChange(ctx, providers.PlanRequest{Type: adminsSchema.Type, Action: providers.Update, Config: enforced, Prior: live.Value, Planned: after})
	pw := strings.Join(pr.Warnings, "\n")
	if !strings.Contains(pw, "removes System Administrator from "+powerplatformapi.PPAdminUPN) || strings.Contains(pw, "from "+sandbox.ClientID) ||
		!strings.Contains(pw, "never removes System Administrator from the account it runs as") || !strings.Contains(pw, "trial environment") {
		t.Errorf("plan warnings: %q", pr.Warnings)
	}
	// Microsoft's service accounts are listed apart and never planned for removal.
	var kept string
	for _, w := range pr.Warnings {
		if strings.HasPrefix(w, "Microsoft service accounts: kept") {
			kept = w
		} else if strings.Contains(w, "removes") {
			for _, sa := range powerplatformapi.MicrosoftServiceAccounts {
				if strings.Contains(w, sa.DomainName) {
					t.Errorf("plan removes service account %s: %q", sa.DomainName, w)
				}
			}
		}
	}
	for _, sa := range powerplatformapi.MicrosoftServiceAccounts {
		if !strings.Contains(kept, sa.DomainName) {
			t.Errorf("service account %s not listed as kept: %q", sa.DomainName, pr.Warnings)
		}
	}
	if _, err := c.Apply(ctx, providers.ApplyRequest{Type: adminsSchema.Type, Action: providers.Update, ID: live.ID, Prior: live.Value, Planned: after}); err != nil {
		t.Fatal(err)
	}
	var holders []string
	sb.View(func() { holders = api.Holders(powerplatformapi.VivaUniqueName) })
	sort.Strings(holders)
	want := []string{sandbox.ClientID, powerplatformapi.GlobalAdminUPN}
	for _, sa := range powerplatformapi.MicrosoftServiceAccounts {
		if sa.ApplicationID != "" {
			want = append(want, sa.ApplicationID)
		} else {
			want = append(want, sa.DomainName)
		}
	}
	sort.Strings(want)
	if !reflect.DeepEqual(holders, want) {
		t.Errorf("holders after apply %v, want %v (the caller keeps its role)", holders, want)
	}
	if ch := converge(t, c, adminsSchema, enforced); ch != nil {
		t.Errorf("does not converge: %v", ch)
	}
}

func TestAdminsPaging(t *testing.T) {
	c, sb, api := start(t)
	signIn(t, sb, api)
	if err := sb.Mutate(func() error {
		return api.AddUsers(powerplatformapi.VivaUniqueName, "admin", 1234, powerplatformapi.SystemAdministratorTemplateID)
	}); err != nil {
		t.Fatal(err)
	}
	c.pageSize = 100
	sb.RequestLog().Reset()
	got := read(t, c, adminsSchema.Type, cfg(adminsSchema, map[string]cty.Value{"principals": cty.SetVal([]cty.Value{cty.StringVal("admin000@" + sandbox.TenantDomain)})}))
	if n := got.Value.GetAttr("holders").LengthInt(); n != 1242 {
		t.Errorf("%d holders, want 1242 (1234 added, 2 admins, the app, 5 Microsoft service accounts)", n)
	}
	if n := got.Value.GetAttr("extra_holders").LengthInt(); n != 1236 {
		t.Errorf("%d extra holders, want 1236", n)
	}
	// WhoAmI + roles + 13 pages of systemusers.
	if n := sb.RequestLog().Count("GET /dataverse/{org}/api/data/v9.2/{path...}"); n != 15 {
		t.Errorf("%d Dataverse requests, want 15 (13 pages of 100)", n)
	}
}

func TestErrorsAreClear(t *testing.T) {
	c, sb, api := start(t)
	signIn(t, sb, api)

	api.Throttle(1, 7*time.Second)
	_, err := c.Read(ctx, providers.ReadRequest{Type: ruleSchema.Type, Config: cfg(ruleSchema, nil)})
	if err == nil || !strings.Contains(err.Error(), "429") || !strings.Contains(err.Error(), "retry after 7 seconds") {
		t.Errorf("429: %v", err)
	}

	// Dataverse: the app is no longer an application user of the environment.
	_ = sb.Mutate(func() error {
		for _, u := range api.Org(powerplatformapi.VivaUniqueName).Users {
			if u.ApplicationID == sandbox.ClientID {
				u.IsDisabled = true
			}
		}
		return nil
	})
	acfg := cfg(adminsSchema, map[string]cty.Value{"principals": cty.SetValEmpty(cty.String)})
	live, err := c.Read(ctx, providers.ReadRequest{Type: adminsSchema.Type, Config: acfg})
	if err != nil || live.Value.GetAttr("application_user").True() {
		t.Fatalf("Dataverse 403: %v, application_user %v", err, live.Value)
	}
	pr, err := c.PlanChange(ctx, providers.PlanRequest{Type: adminsSchema.Type, ID: live.ID, Action: providers.NoOp, Config: acfg, Prior: live.Value, Planned: live.Value})
	if err != nil || pr.Action != providers.Manual || pr.Manual == nil || !strings.Contains(pr.Manual.Summary, "0x80072560") ||
		!strings.Contains(strings.Join(pr.Manual.Steps, "\n"), "Environments > msdyn_viva > Settings > Users + permissions > Application users > New app user") {
		t.Errorf("Dataverse 403 plan: %v %+v", err, pr)
	}
	if _, err := c.Apply(ctx, providers.ApplyRequest{Type: adminsSchema.Type, Action: providers.Update, ID: live.ID, Prior: live.Value, Planned: live.Value}); err == nil || !strings.Contains(err.Error(), "0x80072560") {
		t.Errorf("Dataverse 403 apply: %v", err)
	}
	api.Throttle(1, 3*time.Second)
	_, err = c.Read(ctx, providers.ReadRequest{Type: settingsSchema.Type, Config: cfg(settingsSchema, nil)})
	if err == nil || !strings.Contains(err.Error(), "retry after") {
		// The first request (environment list) is the throttled one; still a clear error.
		t.Errorf("429 on the environment list: %v", err)
	}

	// BAP: the app is not a management application.
	sb.Apps().Put(&sandbox.App{ClientID: sandbox.ClientID, Secret: sandbox.ClientSecret, ObjectID: sandbox.AppObjectID})
	c2, err := providertest.Configure(New(), sb, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c2.Read(ctx, providers.ReadRequest{Type: policySchema.Type, Config: cfg(policySchema, map[string]cty.Value{"display_name": cty.StringVal("x")})})
	if err == nil || !strings.Contains(err.Error(), "403") || !strings.Contains(err.Error(), "management application") {
		t.Errorf("BAP 403: %v", err)
	}
	if err != nil && strings.Contains(err.Error(), sandbox.ClientSecret) {
		t.Error("the error shows the client secret")
	}
}

func TestDLPPolicyLifecycle(t *testing.T) {
	c, sb, api := start(t)
	config := cfg(policySchema, map[string]cty.Value{
		"display_name":        cty.StringVal("c4sctl owned"),
		"environment_type":    cty.StringVal("ExceptEnvironments"),
		"environments":        cty.SetVal([]cty.Value{cty.StringVal("Sales Operations")}),
		"business_connectors": cty.SetVal([]cty.Value{cty.StringVal("shared_salesforce"), cty.StringVal("shared_office365")}),
		"blocked_connectors":  cty.SetVal([]cty.Value{cty.StringVal("shared_dropbox")}),
	})
	got := read(t, c, policySchema.Type, config)
	if !got.Value.IsNull() {
		t.Fatalf("policy should not exist yet: %#v", got.Value)
	}
	ty := policySchema.ImpliedType()
	after := cty.ObjectVal(func() map[string]cty.Value {
		m := config.AsValueMap()
		m["id"] = cty.UnknownVal(cty.String)
		_ = ty
		return m
	}())
	if _, err := c.PlanChange(ctx, providers.PlanRequest{Type: policySchema.Type, Action: providers.Create, Config: config, Planned: after}); err != nil {
		t.Fatal(err)
	}
	res, err := c.Apply(ctx, providers.ApplyRequest{Type: policySchema.Type, Action: providers.Create, Planned: after})
	if err != nil {
		t.Fatal(err)
	}
	if ch := converge(t, c, policySchema, config); ch != nil {
		t.Fatalf("after create, plan changes %v", ch)
	}
	p := policyJSON(t, sb, api, res.ID)
	envs := p["policyDefinition"].(map[string]any)["environments"].([]any)
	if len(envs) != 1 || envs[0].(map[string]any)["name"] != powerplatformapi.SalesOpsEnvironmentID {
		t.Errorf("environments sent: %v", envs)
	}

	// Update: move a connector and change the default group.
	config2 := cfg(policySchema, map[string]cty.Value{
		"display_name":            cty.StringVal("c4sctl owned"),
		"environment_type":        cty.StringVal("ExceptEnvironments"),
		"environments":            cty.SetVal([]cty.Value{cty.StringVal("Sales Operations")}),
		"business_connectors":     cty.SetVal([]cty.Value{cty.StringVal("shared_office365")}),
		"non_business_connectors": cty.SetVal([]cty.Value{cty.StringVal("shared_salesforce")}),
		"default_group":           cty.StringVal("blocked"),
	})
	if ch := converge(t, c, policySchema, config2); !reflect.DeepEqual(ch, []string{"business_connectors", "non_business_connectors", "default_group"}) {
		t.Errorf("update changed %v", ch)
	}
	if ch := converge(t, c, policySchema, config2); ch != nil {
		t.Errorf("update does not converge: %v", ch)
	}
	p = policyJSON(t, sb, api, res.ID)
	if powerplatformapi.ConnectorGroup(p, "shared_salesforce") != "General" || powerplatformapi.ConnectorGroup(p, "shared_dropbox") != "Blocked" {
		t.Errorf("after update: %v", p["policyDefinition"])
	}

	// A connector in two groups is refused at plan time.
	bad := cfg(policySchema, map[string]cty.Value{"display_name": cty.StringVal("x"),
		"business_connectors": cty.SetVal([]cty.Value{cty.StringVal("shared_salesforce")}), "blocked_connectors": cty.SetVal([]cty.Value{cty.StringVal("shared_salesforce")})})
	if _, err := c.PlanChange(ctx, providers.PlanRequest{Type: policySchema.Type, Action: providers.Create, Config: bad, Planned: bad}); err == nil {
		t.Error("a connector in two groups should be refused")
	}

	if _, err := c.Apply(ctx, providers.ApplyRequest{Type: policySchema.Type, Action: providers.Delete, ID: res.ID}); err != nil {
		t.Fatal(err)
	}
	if got := read(t, c, policySchema.Type, config); !got.Value.IsNull() {
		t.Error("policy still exists after delete")
	}
}

func TestSettingsDriftIsManualUnlessExperimental(t *testing.T) {
	c, sb, api := start(t)
	config := cfg(settingsSchema, map[string]cty.Value{
		"salesforce_org_id":  cty.StringVal(powerplatformapi.SalesforceOrgID),
		"ai_release_channel": cty.StringVal("preview"),
		"record_fields":      cty.MapVal(map[string]cty.Value{"opportunity": cty.ListVal([]cty.Value{cty.StringVal("name"), cty.StringVal("estimatedvalue")})}),
		"integrations":       cty.MapVal(map[string]cty.Value{"docusign": cty.True}),
	})
	if got := read(t, c, settingsSchema.Type, config); !strings.Contains(got.Deferred, "guide step 7") {
		t.Fatalf("settings before sign-in: deferred %q", got.Deferred)
	}
	signIn(t, sb, api)
	live := read(t, c, settingsSchema.Type, config)
	after, changed := planned(settingsSchema, live.Value, config)
	if !reflect.DeepEqual(changed, []string{"ai_release_channel", "record_fields", "integrations"}) {
		t.Fatalf("drift %v", changed)
	}
	pr, _ := c.PlanChange(ctx, providers.PlanRequest{Type: settingsSchema.Type, Action: providers.Update, Config: config, Prior: live.Value, Planned: after})
	if pr.Action != providers.Manual || pr.Manual == nil {
		t.Fatalf("settings drift must be a manual action, got %q", pr.Action)
	}
	steps := strings.Join(pr.Manual.Steps, "\n")
	for _, want := range []string{"preview", "opportunity", "name, estimatedvalue", "turn docusign on"} {
		if !strings.Contains(steps, want) {
			t.Errorf("manual steps lack %q:\n%s", want, steps)
		}
	}
	if _, err := c.Apply(ctx, providers.ApplyRequest{Type: settingsSchema.Type, Action: providers.Update, Prior: live.Value, Planned: after}); err == nil {
		t.Error("apply without experimental_write must refuse")
	}

	var otherBefore string
	sb.View(func() {
		otherBefore = api.OrgSetting(powerplatformapi.VivaUniqueName, powerplatformapi.OtherSalesforceOrgID, "CopilotFeatures")
	})
	exp := cfg(settingsSchema, map[string]cty.Value{"ai_release_channel": cty.StringVal("preview"), "experimental_write": cty.True,
		"salesforce_org_id": cty.StringVal(powerplatformapi.SalesforceOrgID),
		"record_fields":     config.GetAttr("record_fields"), "integrations": config.GetAttr("integrations")})
	live = read(t, c, settingsSchema.Type, exp)
	after, _ = planned(settingsSchema, live.Value, exp)
	pr, _ = c.PlanChange(ctx, providers.PlanRequest{Type: settingsSchema.Type, Action: providers.Update, Config: exp, Prior: live.Value, Planned: after})
	if pr.Action != "" || !strings.Contains(strings.Join(pr.Warnings, " "), "experimental") {
		t.Errorf("experimental write plan: action %q warnings %q", pr.Action, pr.Warnings)
	}
	if ch := converge(t, c, settingsSchema, exp); ch == nil {
		t.Fatal("nothing changed")
	}
	if ch := converge(t, c, settingsSchema, exp); ch != nil {
		t.Errorf("experimental write does not converge: %v", ch)
	}
	var js, otherAfter string
	sb.View(func() {
		js = api.OrgSetting(powerplatformapi.VivaUniqueName, powerplatformapi.SalesforceOrgID, "CopilotFeatures")
		otherAfter = api.OrgSetting(powerplatformapi.VivaUniqueName, powerplatformapi.OtherSalesforceOrgID, "CopilotFeatures")
	})
	if !strings.Contains(js, `"lastModifiedBy":"system"`) || !strings.Contains(js, `"releaseChannel":"Preview"`) {
		t.Errorf("the write should keep unknown keys and set the channel: %s", js)
	}
	if otherAfter != otherBefore {
		t.Errorf("the other Salesforce org's row changed: %s -> %s", otherBefore, otherAfter)
	}
	// Undecodable settings JSON is a warning, not a failure.
	_ = sb.Mutate(func() error { return api.SetOrgSetting(powerplatformapi.VivaUniqueName, "CopilotFeatures", `not json`) })
	got := read(t, c, settingsSchema.Type, config)
	if !strings.Contains(strings.Join(got.Warnings, " "), "cannot be compared") || !got.Value.GetAttr("ai_release_channel").IsNull() {
		t.Errorf("bad JSON: %q %#v", got.Warnings, got.Value)
	}
}

func TestSignInValidation(t *testing.T) {
	api := powerplatformapi.New()
	for _, u := range []string{"", "nobody", "a b@c", "x/y@z"} {
		if err := api.SignIn(u); err == nil {
			t.Errorf("SignIn(%q) should fail", u)
		}
	}
	if api.Org(powerplatformapi.VivaUniqueName) != nil {
		t.Error("a refused sign-in created msdyn_viva")
	}
	if err := api.SignIn("first@x.com"); err != nil {
		t.Fatal(err)
	}
	if err := api.SignIn("second@x.com"); err != nil {
		t.Fatal(err)
	}
	if n := len(api.Tenant().Environments); n != 3 {
		t.Errorf("%d environments after two sign-ins, want 3", n)
	}
}

// Malformed answers from the APIs must become errors or partial values, never panics.
func TestMalformedAnswersDoNotPanic(t *testing.T) {
	c, sb, api := start(t)
	signIn(t, sb, api)
	bodies := map[string]string{}
	sb.Use(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			for frag, body := range bodies {
				if strings.Contains(r.URL.Path, frag) && r.Method == "GET" {
					w.Header().Set("Content-Type", "application/json")
					_, _ = w.Write([]byte(body))
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	})
	cases := []map[string]string{
		{"/environments": `not json`},
		{"/environments": `{"value":[{"properties":null},{"name":"x","properties":{"linkedEnvironmentMetadata":null}}]}`},
		{"/environments": `{"value":[{"name":"e","properties":{"displayName":"msdyn_viva","linkedEnvironmentMetadata":{"instanceUrl":"http://insecure"}}}]}`},
		{"/v2/policies/": `{"policyDefinition":{"name":"x","environmentType":"OnlyEnvironments","environments":[null,{"id":"/a/b"},7],"connectorGroups":[1,"a",{"classification":5,"connectors":[null,{"id":7},{"name":"shared_salesforce"}]}]}}`},
		{"/v2/policies/": `{"policyDefinition":"nope"}`},
		{"/v2/policies/": `[]`},
		{"/v2/policies": `{"value":[{"policyDefinition":null},{}]}`},
		{"/api/data/v9.2/": `{"value":[{"systemuserid":5}]}`},
		{"/api/data/v9.2/": `{"UserId":"u","value":[{"roleid":"r","systemuserid":"u"}],"@odata.nextLink":"https://evil.example/x?secret=1"}`},
		{"/api/data/v9.2/": `{"value":[{"msdyn_orgsettings":{"a":1}}],"@odata.nextLink":7}`},
	}
	for _, body := range cases {
		for k := range bodies {
			delete(bodies, k)
		}
		for k, v := range body {
			bodies[k] = v
		}
		for _, r := range []*schema.Resource{ruleSchema, policySchema, environmentSchema, adminsSchema, settingsSchema} {
			config := cfg(r, map[string]cty.Value{"display_name": cty.StringVal("x"), "principals": cty.SetValEmpty(cty.String)})
			func() {
				defer func() {
					if p := recover(); p != nil {
						t.Fatalf("%s with %v panicked: %v", r.Type, body, p)
					}
				}()
				resp, err := c.Read(ctx, providers.ReadRequest{Type: r.Type, Config: config})
				if err == nil && resp.Value != cty.NilVal && !resp.Value.IsNull() {
					after, _ := planned(r, resp.Value, config)
					_, _ = c.PlanChange(ctx, providers.PlanRequest{Type: r.Type, Action: providers.Update, Config: config, Prior: resp.Value, Planned: after})
				}
				if body["/environments"] == "not json" && r.Type != policySchema.Type && (err == nil || !strings.Contains(err.Error(), "unexpected answer")) {
					t.Errorf("%s: a non-JSON environment list should be a clear error, got %v", r.Type, err)
				}
				if strings.Contains(body["/api/data/v9.2/"], "evil") && r.Type == adminsSchema.Type && (err == nil || !strings.Contains(err.Error(), "outside the environment")) {
					t.Errorf("a next link to another host must be refused, got %v", err)
				}
				if err != nil && strings.Contains(err.Error(), "evil.example/x?") {
					t.Errorf("error shows a full foreign URL: %v", err)
				}
			}()
		}
	}
}

// A standalone sandbox (`c4sctl sandbox serve`) is trusted through ca_file.
func TestCAFile(t *testing.T) {
	dir := t.TempDir()
	bap := powerplatformapi.NewBAP()
	sb, err := sandbox.Start(sandbox.Options{Dir: dir}, bap, powerplatformapi.NewDataverse())
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	env := providertest.Env(sb)
	env.HTTPClient = &http.Client{Timeout: 30 * time.Second} // trusts only the system roots
	p := New()
	c, err := p.Configure(ctx, providertest.ConfigValue(p, sb.URL, nil), env)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Read(ctx, providers.ReadRequest{Type: environmentSchema.Type, Config: cfg(environmentSchema, nil)}); err == nil {
		t.Fatal("without ca_file the sandbox certificate should not be trusted")
	}
	c, err = p.Configure(ctx, providertest.ConfigValue(p, sb.URL, map[string]cty.Value{"ca_file": cty.StringVal(sandbox.CACertFile(dir))}), env)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Read(ctx, providers.ReadRequest{Type: environmentSchema.Type, Config: cfg(environmentSchema, nil)}); err != nil {
		t.Fatalf("with ca_file: %v", err)
	}
	if _, err := p.Configure(ctx, providertest.ConfigValue(p, sb.URL, map[string]cty.Value{"ca_file": cty.StringVal(dir + "/nope.pem")}), env); err == nil || !strings.Contains(err.Error(), "ca_file") {
		t.Errorf("missing ca_file: %v", err)
	}
}

// cfg and planned are the shared engine-faithful helpers.
var (
	cfg     = providertest.Config
	planned = providertest.Planned
)

// The settings of the configured Salesforce org are read, never the first row; with several orgs
// and none configured, plan stops; a row that cannot be identified is never written.
func TestSettingsSelectTheConfiguredOrg(t *testing.T) {
	c, sb, api := start(t)
	signIn(t, sb, api)
	_, err := c.Read(ctx, providers.ReadRequest{Type: settingsSchema.Type, Config: cfg(settingsSchema, nil)})
	if err == nil || !strings.Contains(err.Error(), powerplatformapi.SalesforceOrgID) || !strings.Contains(err.Error(), powerplatformapi.OtherSalesforceOrgID) || !strings.Contains(err.Error(), "salesforce_org_id") {
		t.Fatalf("two orgs, none configured: %v", err)
	}
	for org, want := range map[string]bool{powerplatformapi.SalesforceOrgID: true, powerplatformapi.OtherSalesforceOrgID: false, powerplatformapi.SalesforceOrgID[:15]: true} {
		got := read(t, c, settingsSchema.Type, cfg(settingsSchema, map[string]cty.Value{"salesforce_org_id": cty.StringVal(org), "ai_features_enabled": cty.True}))
		if v := got.Value.GetAttr("ai_features_enabled"); v.IsNull() || v.True() != want {
			t.Errorf("org %s: ai_features_enabled %#v, want %v", org, v, want)
		}
	}
	if _, err := c.Read(ctx, providers.ReadRequest{Type: settingsSchema.Type, Config: cfg(settingsSchema, map[string]cty.Value{"salesforce_org_id": cty.StringVal("00D000000000NONE")})}); err == nil || !strings.Contains(err.Error(), "no rows for Salesforce org") {
		t.Errorf("unknown org: %v", err)
	}
	// Two CopilotFeatures rows for the same org: reading warns, writing refuses.
	_ = sb.Mutate(func() error {
		o := api.Org(powerplatformapi.VivaUniqueName)
		o.OrgSettings = append(o.OrgSettings, &powerplatformapi.SettingRow{ID: "6f000000-0000-4000-8000-000000000001", Key: "CopilotFeatures", OrgID: powerplatformapi.SalesforceOrgID, JSON: `{"aiFeaturesEnabled":false}`})
		return nil
	})
	exp := cfg(settingsSchema, map[string]cty.Value{"salesforce_org_id": cty.StringVal(powerplatformapi.SalesforceOrgID), "ai_features_enabled": cty.False, "experimental_write": cty.True})
	live := read(t, c, settingsSchema.Type, exp)
	if !strings.Contains(strings.Join(live.Warnings, " "), "several") || !live.Value.GetAttr("ai_features_enabled").IsNull() {
		t.Errorf("duplicate rows: warnings %q value %#v", live.Warnings, live.Value.GetAttr("ai_features_enabled"))
	}
	after, _ := planned(settingsSchema, live.Value, exp)
	sb.RequestLog().Reset()
	if _, err := c.Apply(ctx, providers.ApplyRequest{Type: settingsSchema.Type, Action: providers.Update, ID: live.ID, Prior: live.Value, Planned: after}); err == nil || !strings.Contains(err.Error(), "writes none") {
		t.Errorf("write with an unidentifiable row: %v", err)
	}
	if n := sb.RequestLog().Count("PATCH /dataverse/{org}/api/data/v9.2/{path...}"); n != 0 {
		t.Errorf("%d PATCH requests, want none", n)
	}
}

// Until an admin adds c4sctl's app to msdyn_viva, Dataverse answers 403 and plan is a manual
// action with the admin-centre steps, for the admins and the settings alike.
func TestAppUserMissingIsAManualAction(t *testing.T) {
	c, sb, api := start(t)
	signInOnly(t, sb, api)
	for _, r := range []struct {
		typ    string
		config cty.Value
	}{
		{adminsSchema.Type, cfg(adminsSchema, map[string]cty.Value{"principals": cty.SetVal([]cty.Value{cty.StringVal(powerplatformapi.GlobalAdminUPN)}), "enforce": cty.True})},
		{settingsSchema.Type, cfg(settingsSchema, map[string]cty.Value{"salesforce_org_id": cty.StringVal(powerplatformapi.SalesforceOrgID), "ai_features_enabled": cty.True})},
	} {
		live := read(t, c, r.typ, r.config)
		if live.Value.GetAttr("application_user").True() {
			t.Fatalf("%s: application_user true before the app was added", r.typ)
		}
		pr, err := c.PlanChange(ctx, providers.PlanRequest{Type: r.typ, ID: live.ID, Action: providers.NoOp, Config: r.config, Prior: live.Value, Planned: live.Value})
		if err != nil || pr.Action != providers.Manual || pr.Manual == nil {
			t.Fatalf("%s: plan %v %+v, want a manual action", r.typ, err, pr)
		}
		steps := strings.Join(pr.Manual.Steps, "\n")
		for _, want := range []string{"Power Platform admin centre > Environments > msdyn_viva > Settings > Users + permissions > Application users > New app user", sandbox.ClientID, "System Administrator"} {
			if !strings.Contains(steps, want) {
				t.Errorf("%s: steps lack %q:\n%s", r.typ, want, steps)
			}
		}
	}
	if err := sb.Mutate(func() error { return api.AddAppUser(powerplatformapi.VivaUniqueName, sandbox.ClientID) }); err != nil {
		t.Fatal(err)
	}
	live := read(t, c, adminsSchema.Type, cfg(adminsSchema, map[string]cty.Value{"principals": cty.SetValEmpty(cty.String)}))
	if !live.Value.GetAttr("application_user").True() {
		t.Error("application_user still false after the app was added")
	}
}
