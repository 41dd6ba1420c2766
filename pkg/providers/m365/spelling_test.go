package m365_test

import (
	"context"
	"strings"
	"testing"

	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/sandbox/graphapi"
	"github.com/zclconf/go-cty/cty"
)

// A service plan named in another case than Graph's servicePlanName converges: after apply the
// read value equals the configuration, so plan shows no change and apply's check passes; plan
// notes Graph's spelling.
func TestDisabledPlanNameInAnotherCaseConverges(t *testing.T) {
	c, _, _ := start(t)
	ctx := context.Background()
	cfg := licCfg(map[string]cty.Value{"group_id": cty.StringVal(graphapi.SellersGroupID), "disabled_plans": cty.SetVal([]cty.Value{cty.StringVal("m365_copilot_teams")})})
	_, pr, err := plan(t, c, "m365_license_assignment", cfg)
	if err != nil || !strings.Contains(strings.Join(pr.Notes, "\n"), `"m365_copilot_teams" as "M365_COPILOT_TEAMS"`) {
		t.Fatalf("plan notes %v %v", pr.Notes, err)
	}
	if _, err := c.Apply(ctx, providers.ApplyRequest{Type: "m365_license_assignment", Action: providers.Create, Planned: cfg}); err != nil {
		t.Fatal(err)
	}
	rr, err := c.Read(ctx, providers.ReadRequest{Type: "m365_license_assignment", Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	got := rr.Value.GetAttr("disabled_plans")
	if !got.Equals(cfg.GetAttr("disabled_plans")).True() {
		t.Fatalf("disabled_plans read as %#v, configured %#v", got, cfg.GetAttr("disabled_plans"))
	}
}
