package powerplatform

import (
	"reflect"
	"strings"
	"testing"

	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/sandbox/powerplatformapi"
	"github.com/zclconf/go-cty/cty"
)

// listedIn returns the listed_in of the rule's entry for a policy.
func listedIn(t *testing.T, v cty.Value, display string) []string {
	t.Helper()
	for it := v.GetAttr("policies").ElementIterator(); it.Next(); {
		_, p := it.Element()
		if p.GetAttr("display_name").AsString() == display {
			var out []string
			for li := p.GetAttr("listed_in").ElementIterator(); li.Next(); {
				_, g := li.Element()
				out = append(out, g.AsString())
			}
			return out
		}
	}
	t.Fatalf("no policy %q in the rule's policies", display)
	return nil
}

// A policy listing the connector in a non-blocked group and in Blocked counts as blocking it;
// plan says the policy is inconsistent and that apply leaves the connector in exactly one group.
func TestInconsistentPolicyCountsAsBlockedAndEndsInOneGroup(t *testing.T) {
	c, sb, api := start(t)
	if err := sb.Mutate(func() error { return api.AddConnectorToGroup(tenantWide, "shared_salesforce", "General") }); err != nil {
		t.Fatal(err)
	}
	config := cfg(ruleSchema, nil)
	live := read(t, c, ruleSchema.Type, config)
	if !live.Value.GetAttr("blocked").True() {
		t.Fatal("blocked should be true: one of the two groups listing shared_salesforce is Blocked")
	}
	if got := listedIn(t, live.Value, tenantWide); !reflect.DeepEqual(got, []string{"non_business", "blocked"}) {
		t.Fatalf("listed_in %v, want [non_business blocked]", got)
	}
	after, _ := planned(ruleSchema, live.Value, config)
	pr, err := c.PlanChange(ctx, providers.PlanRequest{Type: ruleSchema.Type, ID: live.ID, Action: providers.Update, Config: config, Prior: live.Value, Planned: after})
	if err != nil {
		t.Fatal(err)
	}
	notes := strings.Join(pr.Notes, "\n")
	for _, want := range []string{"inconsistent", "non-business (General) and Blocked", "counts as Blocked", "exactly one group, business (Confidential)"} {
		if !strings.Contains(notes, want) {
			t.Errorf("plan notes lack %q: %s", want, notes)
		}
	}
	if ch := converge(t, c, ruleSchema, config); !reflect.DeepEqual(ch, []string{"blocked"}) {
		t.Fatalf("changed %v, want [blocked]", ch)
	}
	if g := powerplatformapi.ConnectorGroups(policyJSON(t, sb, api, tenantWide), "shared_salesforce"); !reflect.DeepEqual(g, []string{"Confidential"}) {
		t.Fatalf("after apply shared_salesforce is in %v, want only [Confidential]", g)
	}
	if ch := converge(t, c, ruleSchema, config); ch != nil {
		t.Errorf("second plan still changes %v", ch)
	}
}

// Listed in business and non-business: not blocked, but the policy still needs fixing, so the
// engine's no-op becomes an update and apply keeps the first group.
func TestInconsistentButNotBlockedIsStillAChange(t *testing.T) {
	c, sb, api := start(t)
	_ = sb.Mutate(func() error { return api.SetConnectorGroup(tenantWide, "shared_salesforce", "Confidential") })
	_ = sb.Mutate(func() error { return api.AddConnectorToGroup(tenantWide, "shared_salesforce", "General") })
	config := cfg(ruleSchema, nil)
	live := read(t, c, ruleSchema.Type, config)
	if live.Value.GetAttr("blocked").True() {
		t.Fatal("blocked should be false: neither group is Blocked")
	}
	after, changed := planned(ruleSchema, live.Value, config)
	if len(changed) != 0 {
		t.Fatalf("engine diff %v, want none", changed)
	}
	pr, err := c.PlanChange(ctx, providers.PlanRequest{Type: ruleSchema.Type, ID: live.ID, Action: providers.NoOp, Config: config, Prior: live.Value, Planned: after})
	if err != nil {
		t.Fatal(err)
	}
	if pr.Action != providers.Update || !strings.Contains(strings.Join(pr.Notes, "\n"), "inconsistent") {
		t.Fatalf("plan: action %q notes %q, want an update that names the inconsistency", pr.Action, pr.Notes)
	}
	if _, err := c.Apply(ctx, providers.ApplyRequest{Type: ruleSchema.Type, Action: providers.Update, ID: live.ID, Prior: live.Value, Planned: after}); err != nil {
		t.Fatal(err)
	}
	if g := powerplatformapi.ConnectorGroups(policyJSON(t, sb, api, tenantWide), "shared_salesforce"); !reflect.DeepEqual(g, []string{"Confidential"}) {
		t.Fatalf("after apply shared_salesforce is in %v, want only [Confidential]", g)
	}
	live = read(t, c, ruleSchema.Type, config)
	after, _ = planned(ruleSchema, live.Value, config)
	pr, _ = c.PlanChange(ctx, providers.PlanRequest{Type: ruleSchema.Type, ID: live.ID, Action: providers.NoOp, Config: config, Prior: live.Value, Planned: after})
	if pr.Action != "" {
		t.Errorf("after apply the plan is still %q", pr.Action)
	}
}

// The policy list is read to its last page: a blocking policy there is found.
func TestPolicyListIsReadToTheLastPage(t *testing.T) {
	c, sb, api := start(t)
	_ = sb.Mutate(func() error {
		for _, n := range []string{"p1", "p2", "p3", "p4"} {
			api.PutPolicy(api.NewPolicy("pol-"+n, "Filler "+n, "AllEnvironments", nil, "General"))
		}
		api.PutPolicy(api.NewPolicy("pol-last", "Last page blocker", "AllEnvironments", nil, "Blocked"))
		return nil
	})
	sb.RequestLog().Reset()
	live := read(t, c, ruleSchema.Type, cfg(ruleSchema, nil))
	if g := policyNames(live.Value)["Last page blocker"]; g != "blocked" {
		t.Fatalf("the policy on the last page: %q, want blocked (policies %v)", g, policyNames(live.Value))
	}
	if n := sb.RequestLog().Count("GET /bap/providers/PowerPlatform.Governance/v2/policies"); n < 4 {
		t.Errorf("%d list requests for 7 policies at %d a page", n, powerplatformapi.PolicyPageSize)
	}
}

// The whole-policy resource names connectors by API name, never by display name, and a connector
// listed in two groups of an owned policy is reported and fixed.
func TestWholePolicyUsesAPINames(t *testing.T) {
	c, sb, api := start(t)
	_ = sb.Mutate(func() error { return api.AddConnectorToGroup(tenantWide, "shared_dropbox", "General") })
	resp, err := c.Read(ctx, providers.ReadRequest{Type: policySchema.Type, ID: powerplatformapi.TenantWidePolicyID, Config: cty.NullVal(policySchema.ImpliedType())})
	if err != nil {
		t.Fatal(err)
	}
	blocked := resp.Value.GetAttr("blocked_connectors").AsValueSet()
	if !blocked.Has(cty.StringVal("shared_salesforce")) || blocked.Has(cty.StringVal("Salesforce")) {
		t.Fatalf("blocked_connectors %#v: want API names (shared_salesforce), not display names", resp.Value.GetAttr("blocked_connectors"))
	}
	if w := strings.Join(resp.Warnings, "\n"); !strings.Contains(w, "inconsistent") || !strings.Contains(w, "shared_dropbox") {
		t.Errorf("warnings should name the inconsistent connector: %q", resp.Warnings)
	}
}

// A display name where an API name belongs is called out: it would match no connector.
func TestDisplayNameConnectorIsWarned(t *testing.T) {
	c, _, _ := start(t)
	got := read(t, c, ruleSchema.Type, cfg(ruleSchema, map[string]cty.Value{"connector": cty.StringVal("Salesforce")}))
	if !strings.Contains(strings.Join(got.Warnings, "\n"), "does not look like a connector API name") {
		t.Errorf("rule with a display name: warnings %q", got.Warnings)
	}
	if got := read(t, c, ruleSchema.Type, cfg(ruleSchema, nil)); strings.Contains(strings.Join(got.Warnings, "\n"), "API name") {
		t.Errorf("shared_salesforce warned: %q", got.Warnings)
	}
	bad := cfg(policySchema, map[string]cty.Value{"display_name": cty.StringVal("x"), "business_connectors": cty.SetVal([]cty.Value{cty.StringVal("Salesforce")})})
	pr, err := c.PlanChange(ctx, providers.PlanRequest{Type: policySchema.Type, Action: providers.Create, Config: bad, Planned: bad})
	if err != nil || !strings.Contains(strings.Join(pr.Warnings, "\n"), "business_connectors") {
		t.Errorf("policy with a display name: %v %q", err, pr.Warnings)
	}
}
