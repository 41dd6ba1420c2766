package salesforce

import (
	"context"
	"io"
	"net/http"
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

// refusingTransport answers the UserPermissionAccess query as Salesforce answers a user without
// API Enabled (403 API_DISABLED_FOR_ORG, the token having been issued), or with status.
type refusingTransport struct {
	next   http.RoundTripper
	status int
	body   string
}

func (r refusingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.Contains(req.URL.RawQuery, "UserPermissionAccess") {
		return &http.Response{StatusCode: r.status, Status: http.StatusText(r.status), Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader(r.body)), Request: req}, nil
	}
	return r.next.RoundTrip(req)
}

// A refusal of the permission check (403: the user lacks API Enabled, or the org has no API
// access) is a verdict: preflight says missing, never "not checked" (which lets it exit 0); a
// server error is not one: not checked, never ok.
func TestPreflightRefusedIsMissingNotUnchecked(t *testing.T) {
	res := map[string][]string{"salesforce_permission_set": {"salesforce_permission_set.copilot"}}
	for _, c := range []struct {
		status int
		body   string
		want   string
	}{
		{http.StatusForbidden, `[{"message":"The REST API is not enabled for this Organization.","errorCode":"API_DISABLED_FOR_ORG"}]`, "missing: "},
		{http.StatusInternalServerError, `[{"message":"An unexpected error occurred.","errorCode":"UNKNOWN_EXCEPTION"}]`, "unchecked: "},
	} {
		cl, _, _ := start(t)
		hc := *cl.hc
		hc.Transport = refusingTransport{next: cl.hc.Transport, status: c.status, body: c.body}
		cl.hc = &hc
		out := preflightText(cl.Preflight(context.Background(), res))
		if !strings.Contains(out, c.want) || strings.Contains(out, "ok: ") {
			t.Errorf("%d: want a %q line and none ok:\n%s", c.status, c.want, out)
		}
		if c.status == http.StatusForbidden && (strings.Contains(out, "unchecked: ") || !strings.Contains(out, "API_DISABLED_FOR_ORG")) {
			t.Errorf("403: want every line missing, naming the refusal:\n%s", out)
		}
	}
}
