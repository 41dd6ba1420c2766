package plan

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/c4sctl/c4sctl/pkg/schema"
	"github.com/hashicorp/hcl/v2"
)

// The same provider error for several objects is one diagnostic naming the others; another
// provider's, another cause's and diagnostics without a cause are kept.
func TestDedupeCausesOnePerProviderAndCause(t *testing.T) {
	signIn := errors.New("ClientSecretCredential authentication failed: AADSTS7000215")
	var diags hcl.Diagnostics
	for _, addr := range []string{"teams_meeting_policy.global", "data.teams_app.x", "m365_license_assignment.sellers"} {
		diags = append(diags, providerErrDiag("microsoft365", addr, "Cannot read the live object", fmt.Errorf("Microsoft Graph GET /x: sign in: %w", signIn))...)
	}
	diags = append(diags, providerErrDiag("powerplatform", "data.powerplatform_environment.viva", "Cannot read the live object", fmt.Errorf("list environments: %w", signIn))...)
	diags = append(diags, providerErrDiag("microsoft365", "m365_integrated_app.app", "Cannot read the live object", errors.New("403 Forbidden"))...)
	diags = append(diags, errDiag("a.b", "Invalid state", errors.New("bad"))...)
	diags = append(diags, errDiag("a.c", "Invalid state", errors.New("bad"))...)
	out := DedupeCauses(diags)
	if len(out) != 5 {
		t.Fatalf("%d diagnostics, want 5 (one microsoft365 sign-in, powerplatform, the 403, two without a cause)", len(out))
	}
	if !strings.HasPrefix(out[0].Detail, "teams_meeting_policy.global: ") || !strings.Contains(out[0].Detail, `also stopped 2 more: data.teams_app.x, m365_license_assignment.sellers.`) {
		t.Errorf("merged detail: %s", out[0].Detail)
	}
	if strings.Contains(out[1].Detail, "also stopped") || strings.Contains(out[2].Detail, "also stopped") {
		t.Errorf("a single one says it stopped others: %s / %s", out[1].Detail, out[2].Detail)
	}
}

// A wrong client secret fails each resource of a provider through a different request (the
// wrappers differ, the sign-in error is the same): the human plan prints the error once per
// provider and cause and points the others at it.
func TestReadFailuresRenderOncePerProviderAndCause(t *testing.T) {
	signIn := errors.New("ClientSecretCredential authentication failed: AADSTS7000215 (15 lines)")
	p := &Plan{}
	for _, f := range []struct{ provider, addr, wrap string }{
		{"microsoft365", "data.teams_app.x", "Microsoft Graph GET /v1.0/appCatalogs/teamsApps: sign in: %w"},
		{"microsoft365", "m365_integrated_app.app", "sign in: %w"},
		{"microsoft365", "m365_license_assignment.sellers", "Microsoft Graph GET /v1.0/subscribedSkus: sign in: %w"},
		{"powerplatform", "data.powerplatform_environment.viva", "list environments: %w"},
	} {
		rc := &ResourceChange{Addr: f.addr, Provider: f.provider}
		readFailed(rc, &schema.Resource{}, "reading it failed", fmt.Errorf(f.wrap, signIn))
		p.Changes = append(p.Changes, rc)
	}
	same := p.SameCause()
	if len(same) != 2 || same["m365_integrated_app.app"] != "data.teams_app.x" || same["m365_license_assignment.sellers"] != "data.teams_app.x" {
		t.Fatalf("SameCause = %v", same)
	}
	var b strings.Builder
	Render(&b, p, Colors{})
	if n := strings.Count(b.String(), "AADSTS7000215"); n != 2 {
		t.Errorf("the sign-in error is printed %d times, want 2 (microsoft365, powerplatform):\n%s", n, b.String())
	}
	if !strings.Contains(b.String(), `m365_license_assignment.sellers could not be read: the same error as data.teams_app.x (provider "microsoft365", above)`) {
		t.Errorf("plan:\n%s", b.String())
	}
}

// The one grouping behind both: the same provider and cause point at the first; another
// provider with the same text, another cause and items without a cause are in no group.
func TestSameCauseAsGroupsByProviderAndCause(t *testing.T) {
	cs := []*Cause{{"teams", "sign-in"}, nil, {"teams", "403"}, {"teams", "sign-in"}, {"powerplatform", "sign-in"}, nil, {"teams", "sign-in"}, {"powerplatform", "sign-in"}}
	got := sameCauseAs(cs, func(c *Cause) *Cause { return c })
	want := map[int]int{3: 0, 6: 0, 7: 4}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("sameCauseAs = %v, want %v", got, want)
	}
}

// An unreachable host fails each request after its own retries ("gave up after 6 attempts in
// 7.8s" here, "in 9.3s" there): still one cause per provider, not one error per resource.
func TestSameCauseIgnoresRetryTimings(t *testing.T) {
	refused := "dial tcp 127.0.0.1:8443: connect: connection refused"
	cs := []*Cause{
		{"microsoft365", "unable to resolve an endpoint: Get \"https://h/x\": gave up after 6 attempts in 7.8s: " + refused},
		{"microsoft365", "unable to resolve an endpoint: Get \"https://h/x\": gave up after 6 attempts in 9.347s: " + refused},
		{"microsoft365", "unable to resolve an endpoint: Get \"https://h/x\": gave up after 5 attempts in 850ms: " + refused},
		{"microsoft365", "unable to resolve an endpoint: Get \"https://h/x\": 401 Unauthorized"},
	}
	got := sameCauseAs(cs, func(c *Cause) *Cause { return c })
	want := map[int]int{1: 0, 2: 0}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("sameCauseAs = %v, want %v", got, want)
	}
}
