package salesforce

import (
	"context"
	"strings"
	"testing"

	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/sandbox/salesforceapi"
)

func preflightText(lines []providers.CheckLine) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l.Status + ": " + l.Text + "\n")
	}
	return b.String()
}

// Preflight reads the signed-in user's permissions from UserPermissionAccess: all held as a
// System Administrator; as a Standard User, those the configuration needs are missing, each
// naming the resources that need it; "Customize Application or Manage Connected Apps" is one
// requirement met by either.
func TestPreflightReadsTheUsersPermissions(t *testing.T) {
	c, sb, svc := start(t)
	ctx := context.Background()
	res := map[string][]string{
		"salesforce_permission_set": {"salesforce_permission_set.copilot"},
		"salesforce_connected_app":  {"salesforce_connected_app.power_platform"},
	}
	out := preflightText(c.Preflight(ctx, res))
	if strings.Contains(out, "missing") || strings.Contains(out, "unchecked") || strings.Count(out, "ok: ") != 5 {
		t.Fatalf("System Administrator:\n%s", out)
	}
	mutate(t, sb, func() error {
		o := svc.Org()
		o.User(salesforceapi.IntegrationUser).ProfileID = o.Profile(salesforceapi.ProfileStandardUser).ID
		return nil
	})
	out = preflightText(c.Preflight(ctx, res))
	for _, want := range []string{
		"missing: Salesforce View Setup and Configuration: missing for the signed-in user, needed by salesforce_connected_app.power_platform, salesforce_permission_set.copilot",
		"missing: Salesforce Manage Profiles and Permission Sets: missing",
		"missing: Salesforce Assign Permission Sets: missing",
		"missing: Salesforce Customize Application or Manage Connected Apps: missing",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("Standard User: lacks %q:\n%s", want, out)
		}
	}
	// Manage Connected Apps alone satisfies the connected app's alternative.
	mutate(t, sb, func() error {
		o := svc.Org()
		o.Profile(salesforceapi.ProfileStandardUser).Perms["ManageConnectedApps"] = true
		return nil
	})
	out = preflightText(c.Preflight(ctx, res))
	if !strings.Contains(out, "ok: Salesforce Customize Application or Manage Connected Apps: held") {
		t.Errorf("with Manage Connected Apps:\n%s", out)
	}
}
