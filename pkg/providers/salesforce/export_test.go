package salesforce

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/providers/providertest"
	"github.com/c4sctl/c4sctl/pkg/schema"
	"github.com/zclconf/go-cty/cty"
)

func exportOf(t *testing.T, c *Client, typ string) []providers.ExportedObject {
	t.Helper()
	objs, err := c.Export(ctx, typ)
	if err != nil {
		t.Fatalf("export %s: %v", typ, err)
	}
	return objs
}

func planOfExport(t *testing.T, c *Client, r *schema.Resource, o providers.ExportedObject) []string {
	t.Helper()
	return providertest.PlanOfExport(t, c, r, o)
}

func TestExportReproducesTheAppAndThePermissionSets(t *testing.T) {
	c, sb, svc := start(t)

	app := exportOf(t, c, connectedAppSchema.Type)
	if len(app) != 1 || !strings.Contains(app[0].Skipped, "not installed") || !strings.Contains(app[0].Skipped, "step 6") {
		t.Fatalf("uninstalled app: %+v", app)
	}

	mutate(t, sb, func() error { return svc.InstallConnectedApp(PowerPlatformApp) })
	converge(t, c, permissionSetSchema, cfg(permissionSetSchema, map[string]cty.Value{
		"name": cty.StringVal("Copilot_for_Sales_Users"), "api_enabled": cty.True, "assignees": strs(exportTestUsers(t, c)...),
	}))
	converge(t, c, connectedAppSchema, cfg(connectedAppSchema, map[string]cty.Value{
		"permitted_users": cty.StringVal("admin_approved_preauthorized"), "ip_relaxation": cty.StringVal("relax"),
		"permission_sets": strs("Copilot_for_Sales_Users"),
	}))

	app = exportOf(t, c, connectedAppSchema.Type)
	if len(app) != 1 || app[0].Skipped != "" {
		t.Fatalf("installed app: %+v", app)
	}
	if ch := planOfExport(t, c, connectedAppSchema, app[0]); ch != nil {
		t.Errorf("connected app: plan of the export changes %v", ch)
	}
	if ps := app[0].Value.GetAttr("permission_sets"); !ps.Equals(strs("Copilot_for_Sales_Users")).True() {
		t.Errorf("permission sets of the app: %#v", ps)
	}

	sets := exportOf(t, c, permissionSetSchema.Type)
	names := map[string]bool{}
	for _, o := range sets {
		names[o.Name] = true
		if strings.HasPrefix(o.Name, "X00e") {
			t.Errorf("a profile-owned permission set is exported: %s", o.Name)
		}
		if ch := planOfExport(t, c, permissionSetSchema, o); ch != nil {
			t.Errorf("permission set %s: plan of the export changes %v", o.Name, ch)
		}
	}
	if !names["Copilot_for_Sales_Users"] || !names["Sales_Operations"] {
		t.Errorf("exported permission sets %v", names)
	}

	if _, err := c.Export(ctx, "salesforce_nothing"); !errors.Is(err, providers.ErrExportNotImplemented) {
		t.Errorf("unknown type: %v", err)
	}
}

// exportTestUsers returns two usernames of the org.
func exportTestUsers(t *testing.T, c *Client) []string {
	t.Helper()
	recs, err := c.query(context.Background(), "SELECT Username FROM User WHERE IsActive = true")
	if err != nil || len(recs) < 2 {
		t.Fatalf("users: %v (%d)", err, len(recs))
	}
	return []string{str(recs[0], "Username"), str(recs[1], "Username")}
}
