package powerplatform

import (
	"context"
	"io"
	"net/http"
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

// whoAmIAnswer answers Dataverse's WhoAmI with status and body.
type whoAmIAnswer struct {
	next   http.RoundTripper
	status int
	body   string
}

func (w whoAmIAnswer) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.HasSuffix(req.URL.Path, "/WhoAmI") {
		return &http.Response{StatusCode: w.status, Status: http.StatusText(w.status), Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader(w.body)), Request: req}, nil
	}
	return w.next.RoundTrip(req)
}

// Dataverse refusing the app for another reason than "not a member of the organization" (a
// disabled application user, 401 for a token it does not accept) is a verdict: missing, never
// "not checked", which lets preflight exit 0; a 5xx is not checked, never ok.
func TestPreflightDataverseRefusalIsMissing(t *testing.T) {
	for _, c := range []struct {
		status int
		body   string
		want   string
	}{
		{http.StatusForbidden, `{"error":{"code":"0x80040225","message":"The specified user is either disabled or is not a member of any business unit."}}`, "missing: Dataverse application user in msdyn_viva"},
		{http.StatusUnauthorized, `{"error":{"code":"0x80048306","message":"unauthorized"}}`, "missing: Dataverse application user in msdyn_viva"},
		{http.StatusServiceUnavailable, `{"error":{"code":"0x80072321","message":"busy"}}`, "unchecked: Dataverse application user in msdyn_viva"},
	} {
		cl, sb, api := start(t)
		signInOnly(t, sb, api)
		if err := sb.Mutate(func() error { return api.AddAppUser(powerplatformapi.VivaUniqueName, sandbox.ClientID) }); err != nil {
			t.Fatal(err)
		}
		hc := *cl.http
		hc.Transport = whoAmIAnswer{next: cl.http.Transport, status: c.status, body: c.body}
		cl.http = &hc
		out := statuses(cl.Preflight(context.Background(), preflightQuickstart))
		if !strings.Contains(out, c.want) || strings.Contains(out, "ok: Dataverse") {
			t.Errorf("%d: want %q:\n%s", c.status, c.want, out)
		}
	}
}
