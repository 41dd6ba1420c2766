package plan

import (
	"errors"
	"fmt"
	"strings"
	"testing"

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
