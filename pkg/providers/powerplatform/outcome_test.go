package powerplatform

import (
	"strings"
	"testing"

	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/providers/providertest"
	"github.com/c4sctl/c4sctl/pkg/sandbox"
	"github.com/c4sctl/c4sctl/pkg/sandbox/powerplatformapi"
	"github.com/zclconf/go-cty/cty"
)

// startHTTPX is start with the real HTTP layer, whose lost answers to a POST or PATCH are
// httpx.OutcomeUnknownErrors.
func startHTTPX(t *testing.T) (*Client, *sandbox.Server, *powerplatformapi.API) {
	t.Helper()
	bap := powerplatformapi.NewBAP()
	sb, err := sandbox.Start(sandbox.Options{}, bap, powerplatformapi.NewDataverse())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sb.Close() })
	c, err := New().Configure(ctx, providertest.ConfigValue(New(), sb.URL, nil), providertest.HTTPXEnv(sb))
	if err != nil {
		t.Fatal(err)
	}
	return c.(*Client), sb, bap.API()
}

// A DLP policy create whose answer is lost is looked up by display name, and sent again only when
// the policy is not there: one policy, whatever happened to the answer.
func TestDLPCreateWithLostAnswerIsMadeOnce(t *testing.T) {
	for _, processed := range []bool{true, false} {
		c, sb, api := startHTTPX(t)
		config := cfg(policySchema, map[string]cty.Value{
			"display_name":        cty.StringVal("c4sctl owned"),
			"business_connectors": cty.SetVal([]cty.Value{cty.StringVal("shared_salesforce")}),
		})
		m := config.AsValueMap()
		m["id"] = cty.NullVal(cty.String)
		loser := providertest.LoseAnswers(sb, "POST", "/PowerPlatform.Governance/v2/policies", 1, processed)
		res, err := c.Apply(ctx, providers.ApplyRequest{Type: policySchema.Type, Action: providers.Create, Planned: cty.ObjectVal(m)})
		if err != nil || loser.Lost() != 1 {
			t.Fatalf("processed=%v: create with a lost answer: %v (lost %d)", processed, err, loser.Lost())
		}
		n, id := 0, ""
		sb.View(func() {
			for _, p := range api.Tenant().Policies {
				d, _ := p["policyDefinition"].(map[string]any)
				if d["displayName"] == "c4sctl owned" {
					n++
					id, _ = d["name"].(string)
				}
			}
		})
		if n != 1 || res.ID != id {
			t.Errorf("processed=%v: %d policies named \"c4sctl owned\" (want 1), apply returned id %q, live %q", processed, n, res.ID, id)
		}
		if got := sb.RequestLog().Count("POST /bap/providers/PowerPlatform.Governance/v2/policies"); got != 1 {
			t.Errorf("processed=%v: the create reached the API %d times, want 1", processed, got)
		}
	}
}

// A DLP policy update whose answer is lost is sent again (its body is the whole policy) and the
// change is made.
func TestRuleUpdateWithLostAnswerIsMade(t *testing.T) {
	c, sb, api := startHTTPX(t)
	config := cfg(ruleSchema, nil)
	live := read(t, c, ruleSchema.Type, config)
	after, _ := planned(ruleSchema, live.Value, config)
	loser := providertest.LoseAnswers(sb, "PATCH", "/PowerPlatform.Governance/v2/policies/", 1, false)
	if _, err := c.Apply(ctx, providers.ApplyRequest{Type: ruleSchema.Type, Action: providers.Update, ID: live.ID, Prior: live.Value, Planned: after}); err != nil || loser.Lost() != 1 {
		t.Fatalf("update with a lost answer: %v (lost %d)", err, loser.Lost())
	}
	if g := powerplatformapi.ConnectorGroup(policyJSON(t, sb, api, tenantWide), "shared_salesforce"); !strings.EqualFold(g, "Confidential") {
		t.Errorf("shared_salesforce is in %s after the update, want Confidential", g)
	}
}
