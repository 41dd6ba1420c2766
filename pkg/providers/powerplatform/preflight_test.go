package powerplatform

import (
	"context"
	"strings"
	"testing"

	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/sandbox"
	"github.com/c4sctl/c4sctl/pkg/sandbox/powerplatformapi"
)

var preflightQuickstart = map[string][]string{
	"powerplatform_dlp_connector_rule": {"powerplatform_dlp_connector_rule.salesforce"},
	"powerplatform_environment":        {"data.powerplatform_environment.viva"},
	"dataverse_environment_admins":     {"dataverse_environment_admins.viva"},
}

func statuses(lines []providers.CheckLine) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l.Status + ": " + l.Text + "\n")
	}
	return b.String()
}

// Preflight says, in turn: msdyn_viva does not exist yet (the application user not checked), the
// app is not an application user (missing), and it is (ok); the admin API answers throughout.
func TestPreflightFollowsMsdynVivaAndTheApplicationUser(t *testing.T) {
	c, sb, api := start(t)
	ctx := context.Background()
	out := statuses(c.Preflight(ctx, preflightQuickstart))
	for _, want := range []string{"ok: Power Platform admin API: answers the app", "unchecked: Dataverse application user in msdyn_viva: not checked: msdyn_viva does not exist yet"} {
		if !strings.Contains(out, want) {
			t.Errorf("before step 7, lacks %q:\n%s", want, out)
		}
	}
	signInOnly(t, sb, api)
	out = statuses(c.Preflight(ctx, preflightQuickstart))
	if !strings.Contains(out, "missing: Dataverse application user in msdyn_viva: missing") || !strings.Contains(out, "--application-user") {
		t.Errorf("after step 7 without the application user:\n%s", out)
	}
	if err := sb.Mutate(func() error { return api.AddAppUser(powerplatformapi.VivaUniqueName, sandbox.ClientID) }); err != nil {
		t.Fatal(err)
	}
	out = statuses(c.Preflight(ctx, preflightQuickstart))
	if !strings.Contains(out, "ok: Dataverse application user in msdyn_viva: the app is a user") || strings.Contains(out, "missing") || strings.Contains(out, "unchecked") {
		t.Errorf("with the application user:\n%s", out)
	}
}

// An app that is not a management application is refused by the admin API: missing, and the
// application user cannot be checked.
func TestPreflightWithoutTheManagementApp(t *testing.T) {
	c, sb, _ := start(t)
	_ = sb.Mutate(func() error {
		delete(sb.Apps().Get(sandbox.ClientID).Roles, powerplatformapi.BAPAudience)
		return nil
	})
	out := statuses(c.Preflight(context.Background(), preflightQuickstart))
	for _, want := range []string{"missing: Power Platform admin API: refused (403)", "pac admin application register --application-id " + sandbox.ClientID, "unchecked: Dataverse application user in msdyn_viva: not checked"} {
		if !strings.Contains(out, want) {
			t.Errorf("lacks %q:\n%s", want, out)
		}
	}
}
