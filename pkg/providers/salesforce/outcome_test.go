package salesforce

import (
	"testing"

	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/providers/providertest"
	"github.com/c4sctl/c4sctl/pkg/sandbox"
	"github.com/c4sctl/c4sctl/pkg/sandbox/salesforceapi"
	"github.com/zclconf/go-cty/cty"
)

// startHTTPX is start over the real HTTP layer (httpx), whose lost answers to a POST are
// httpx.OutcomeUnknownErrors.
func startHTTPX(t *testing.T) (*Client, *sandbox.Server, *salesforceapi.Service) {
	t.Helper()
	svc := salesforceapi.New()
	sb, err := sandbox.Start(sandbox.Options{}, svc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sb.Close() })
	c, err := New().Configure(ctx, providertest.ConfigValue(New(), sb.URL, nil), providertest.HTTPXEnv(sb))
	if err != nil {
		t.Fatal(err)
	}
	return c.(*Client), sb, svc
}

// A permission set and its assignments are made once whatever answer is lost: the create of the
// permission set, or one of the sObject Collections inserting its 300 assignments.
func TestPermissionSetWithLostAnswersIsMadeOnce(t *testing.T) {
	for _, tc := range []struct {
		name, path string
		processed  bool
	}{
		{"permission set made", "/sobjects/PermissionSet", true},
		{"permission set not made", "/sobjects/PermissionSet", false},
		{"assignments made", "/composite/sobjects", true},
		{"assignments not made", "/composite/sobjects", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, sb, svc := startHTTPX(t)
			users := sellers(300)
			config := cfg(permissionSetSchema, map[string]cty.Value{"name": cty.StringVal("Copilot_for_Sales_Users"), "api_enabled": cty.True, "assignees": strs(users...)})
			loser := providertest.LoseAnswers(sb, "POST", tc.path, 1, tc.processed)
			resp, err := c.Apply(ctx, providers.ApplyRequest{Type: permissionSetSchema.Type, Action: providers.Create, Planned: config})
			if err != nil || loser.Lost() != 1 {
				t.Fatalf("apply with a lost answer: %v (lost %d)", err, loser.Lost())
			}
			n, assigned, id := 0, 0, ""
			sb.View(func() {
				for _, ps := range svc.Org().PermissionSets {
					if ps.Name == "Copilot_for_Sales_Users" {
						n++
						id = ps.ID
					}
				}
				assigned = len(svc.Org().AssignedUsernames("Copilot_for_Sales_Users"))
			})
			if n != 1 || resp.ID != id || assigned != len(users) {
				t.Errorf("%d permission sets (want 1), id %q (live %q), %d assigned (want %d)", n, resp.ID, id, assigned, len(users))
			}
			if got := sb.RequestLog().Count("POST /salesforce/services/data/{v}/sobjects/{type}"); got != 1 {
				t.Errorf("the permission set create reached Salesforce %d times, want 1", got)
			}
		})
	}
}

// The connected app's grants (a collection insert), its policy update and reads (Metadata API
// POSTs) survive lost answers, and the app converges with each grant made once.
func TestConnectedAppWithLostAnswersConverges(t *testing.T) {
	for _, tc := range []struct {
		name, path string
		processed  bool
	}{
		{"grant made", "/composite/sobjects", true},
		{"grant not made", "/composite/sobjects", false},
		{"metadata call", "/services/Soap/m/", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, sb, svc := startHTTPX(t)
			mutate(t, sb, func() error { return svc.InstallConnectedApp(salesforceapi.PowerPlatformApp) })
			config := guideApp(nil)
			live := read(t, c, connectedAppSchema.Type, "", config)
			after, _ := planned(connectedAppSchema, live.Value, config)
			loser := providertest.LoseAnswers(sb, "POST", tc.path, 1, tc.processed)
			if _, err := c.Apply(ctx, providers.ApplyRequest{Type: connectedAppSchema.Type, Action: providers.Update, ID: live.ID, Prior: live.Value, Planned: after}); err != nil || loser.Lost() != 1 {
				t.Fatalf("apply with a lost answer: %v (lost %d)", err, loser.Lost())
			}
			sb.View(func() {
				app := svc.Org().App(salesforceapi.PowerPlatformApp)
				if app.IPRelaxation != "BYPASS" || !app.IsAdminApproved {
					t.Errorf("org app %+v", app)
				}
				profiles, sets := svc.Org().AppAccess(salesforceapi.PowerPlatformApp)
				if len(profiles) != 2 || len(sets) != 1 {
					t.Errorf("access: profiles %v, permission sets %v", profiles, sets)
				}
			})
		})
	}
}

// A collection delete whose answer was lost after the records were deleted is replayed; the
// records already gone are what was wanted.
func TestUnassignWithLostAnswerSucceeds(t *testing.T) {
	c, sb, svc := startHTTPX(t)
	users := sellers(20)
	config := cfg(permissionSetSchema, map[string]cty.Value{"name": cty.StringVal("Copilot_for_Sales_Users"), "api_enabled": cty.True, "assignees": strs(users...)})
	resp, err := c.Apply(ctx, providers.ApplyRequest{Type: permissionSetSchema.Type, Action: providers.Create, Planned: config})
	if err != nil {
		t.Fatal(err)
	}
	live := read(t, c, permissionSetSchema.Type, resp.ID, config)
	smaller := cfg(permissionSetSchema, map[string]cty.Value{"name": cty.StringVal("Copilot_for_Sales_Users"), "api_enabled": cty.True, "assignees": strs(users[:5]...)})
	after, _ := planned(permissionSetSchema, live.Value, smaller)
	loser := providertest.LoseAnswers(sb, "DELETE", "/composite/sobjects", 1, true)
	if _, err := c.Apply(ctx, providers.ApplyRequest{Type: permissionSetSchema.Type, Action: providers.Update, ID: resp.ID, Prior: live.Value, Planned: after}); err != nil || loser.Lost() != 1 {
		t.Fatalf("unassign with a lost answer: %v (lost %d)", err, loser.Lost())
	}
	var assigned int
	sb.View(func() { assigned = len(svc.Org().AssignedUsernames("Copilot_for_Sales_Users")) })
	if assigned != 5 {
		t.Errorf("%d assigned, want 5", assigned)
	}
}

// A permission set delete whose answer was lost after it was deleted is replayed; gone is done.
func TestDeleteWithLostAnswerSucceeds(t *testing.T) {
	c, sb, svc := startHTTPX(t)
	config := cfg(permissionSetSchema, map[string]cty.Value{"name": cty.StringVal("Copilot_for_Sales_Users"), "api_enabled": cty.True, "assignees": strs(sellers(3)...)})
	resp, err := c.Apply(ctx, providers.ApplyRequest{Type: permissionSetSchema.Type, Action: providers.Create, Planned: config})
	if err != nil {
		t.Fatal(err)
	}
	live := read(t, c, permissionSetSchema.Type, resp.ID, config)
	loser := providertest.LoseAnswers(sb, "DELETE", "/sobjects/PermissionSet/", 1, true)
	if _, err := c.Apply(ctx, providers.ApplyRequest{Type: permissionSetSchema.Type, Action: providers.Delete, ID: resp.ID, Prior: live.Value}); err != nil || loser.Lost() != 1 {
		t.Fatalf("delete with a lost answer: %v (lost %d)", err, loser.Lost())
	}
	sb.View(func() {
		if svc.Org().PermissionSet("Copilot_for_Sales_Users") != nil {
			t.Error("the permission set still exists")
		}
	})
}

func TestEndpointsMustBeHTTPS(t *testing.T) {
	providertest.CheckEndpointSettings(t, New(), []string{"instance_url", "login_url"},
		map[string]cty.Value{"auth": cty.StringVal(AuthAccessToken), "instance_url": cty.StringVal("https://contoso.my.salesforce.com")},
		map[string]string{"SF_ACCESS_TOKEN": "00Dxx!test", "SF_INSTANCE_URL": "https://contoso.my.salesforce.com"})
}

// Object permissions are granted once whatever answer is lost: the collection that creates the
// rows (processed or not), then the assignments go on.
func TestObjectPermissionsWithLostAnswerAreMadeOnce(t *testing.T) {
	for _, processed := range []bool{true, false} {
		c, sb, svc := startHTTPX(t)
		config := cfg(permissionSetSchema, map[string]cty.Value{"name": cty.StringVal("Copilot_Users"),
			"object_permissions": objPerms(map[string][]string{"Account": {"read", "create", "edit"}, "Contact": {"read"}}), "assignees": strs(sellers(3)...)})
		loser := providertest.LoseAnswers(sb, "POST", "/composite/sobjects", 1, processed)
		resp, err := c.Apply(ctx, providers.ApplyRequest{Type: permissionSetSchema.Type, Action: providers.Create, Planned: config})
		if err != nil || loser.Lost() != 1 {
			t.Fatalf("processed %v: apply with a lost answer: %v (lost %d)", processed, err, loser.Lost())
		}
		rows, assigned := 0, 0
		sb.View(func() {
			for _, op := range svc.Org().ObjectPerms {
				if op.ParentID == resp.ID {
					rows++
				}
			}
			assigned = len(svc.Org().AssignedUsernames("Copilot_Users"))
		})
		if rows != 2 || assigned != 3 {
			t.Errorf("processed %v: %d object permission rows (want 2), %d assigned (want 3)", processed, rows, assigned)
		}
	}
}
