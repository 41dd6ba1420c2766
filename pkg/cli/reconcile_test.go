package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/c4sctl/c4sctl/pkg/plan"
	"github.com/c4sctl/c4sctl/pkg/sandbox/salesforceapi"
)

const reconcileConfig = `
provider "microsoft365" {}
provider "salesforce" {
  seller_match_by = ["federation_id", "email"]
}

resource "m365_license_assignment" "sellers" {
  group_name = "Sellers"
}

resource "salesforce_permission_set" "copilot" {
  name            = "Copilot_for_Sales_Users"
  api_enabled     = true
  assignee_filter = "Profile.Name = 'Standard User' AND IsActive = true"
}

resource "salesforce_connected_app" "power_platform" {
  name                 = "Microsoft Power Platform"
  permitted_users      = "admin_approved_preauthorized"
  ip_relaxation        = "relax"
  refresh_token_policy = "valid_until_revoked"
  session_timeout      = "none"
  profiles             = ["Standard User", "System Administrator"]
  permission_sets      = [salesforce_permission_set.copilot.name]
}
`

// Issue 16's Done-when: the reconciliation finds a seller missing in Salesforce (the seeded
// seller 13 has no Federation ID) and Salesforce users holding the permission set without a
// licence (the quickstart's filter gives it to every active Standard User, sellers 201..500
// included), in plan, plan --json, a saved plan, and drift's reports. They are warnings: the plan
// stays clean (c4sctl manages no users).
func TestReconciliationSeededCase(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": reconcileConfig})
	if _, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "apply", "--auto-approve"); code != 4 {
		t.Fatalf("apply before the app is installed: %d %s", code, stderr)
	}
	if _, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "sandbox", "salesforce", "install-app"); code != 0 {
		t.Fatalf("install-app: %d %s", code, stderr)
	}
	if stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "apply", "--auto-approve"); code != 0 {
		t.Fatalf("apply: %d\n%s%s", code, stdout, stderr)
	}
	missing := salesforceapi.SellerFederationID(salesforceapi.UnfederatedSeller)
	stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--no-color", "plan", "--detailed-exitcode")
	if code != 0 || !strings.Contains(stdout, "No changes (sandbox") {
		t.Fatalf("plan: exit %d (want 0: reconciliation findings are warnings)\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{
		"Seller reconciliation (Entra and Salesforce): 200 licensed seller(s), 199 matched to a Salesforce user (199 by federation_id, 0 by email), 193 ready",
		"Warning: 1 licensed seller(s) have no Salesforce user (matched by federation_id, then email): " + missing,
		"Warning: 292 Salesforce user(s) hold the permission set Copilot_for_Sales_Users but match no licensed seller: seller013@contoso-sandbox.example, seller201@contoso-sandbox.example",
		"Warning: 2 licensed seller(s) have an inactive Salesforce user",
		"the connected app \"Microsoft Power Platform\" does not let through",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("plan lacks %q:\n%s", want, stdout)
		}
	}

	// plan --json lists every name.
	stdout, _, code = runCLI(t, "--dir", dir, "--sandbox", "plan", "--json")
	var doc plan.JSONPlan
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil || code != 0 {
		t.Fatalf("plan --json: exit %d, %v\n%s", code, err, stdout)
	}
	rec := doc.Coverage.Reconciliation
	if doc.Coverage == nil || rec == nil || len(rec.Missing) != 1 || rec.Missing[0] != missing || len(rec.Unlicensed) != 292 || len(rec.NotAllowed) != 4 || doc.Summary.Uncovered != 0 {
		t.Fatalf("plan --json coverage: %+v", doc.Coverage)
	}

	// A saved plan keeps it: show prints it, show --json has it.
	planFile := filepath.Join(dir, "plan.bin")
	if _, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "plan", "--out", planFile); code != 0 {
		t.Fatalf("plan --out: %d %s", code, stderr)
	}
	stdout, _, _ = runCLI(t, "--dir", dir, "--sandbox", "--no-color", "show", planFile)
	if !strings.Contains(stdout, "Warning: 1 licensed seller(s) have no Salesforce user") {
		t.Errorf("show lacks the reconciliation:\n%s", stdout)
	}
	stdout, _, _ = runCLI(t, "--dir", dir, "--sandbox", "show", "--json", planFile)
	if !strings.Contains(stdout, `"unlicensed": [`) || !strings.Contains(stdout, missing) {
		t.Errorf("show --json lacks the reconciliation:\n%.2000s", stdout)
	}

	// drift: no drift (warnings only), reports carry the findings.
	js, md := filepath.Join(dir, "drift.json"), filepath.Join(dir, "drift.md")
	stdout, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "--no-color", "drift", "--report", "json="+js, "--report", "markdown="+md)
	if code != 0 || !strings.Contains(stdout, "Warning: 292 Salesforce user(s) hold the permission set") {
		t.Fatalf("drift: exit %d\n%s%s", code, stdout, stderr)
	}
	b, _ := os.ReadFile(js)
	var rep struct {
		Coverage *plan.Coverage `json:"coverage"`
	}
	if err := json.Unmarshal(b, &rep); err != nil || rep.Coverage == nil || rep.Coverage.Reconciliation == nil || len(rep.Coverage.Reconciliation.Missing) != 1 {
		t.Fatalf("drift JSON report: %v\n%.1500s", err, b)
	}
	b, _ = os.ReadFile(md)
	if !strings.Contains(string(b), "**Seller reconciliation**") || !strings.Contains(string(b), "have no Salesforce user") {
		t.Fatalf("drift Markdown report lacks the reconciliation:\n%s", b)
	}

	// Federation ID only: nobody is matched by email, the same seller is missing.
	writeFile(t, dir, "main.c4s.hcl", strings.Replace(reconcileConfig, `["federation_id", "email"]`, `["federation_id"]`, 1))
	stdout, _, _ = runCLI(t, "--dir", dir, "--sandbox", "--no-color", "plan")
	if !strings.Contains(stdout, "199 matched to a Salesforce user (199 by federation_id)") {
		t.Errorf("plan with federation_id only:\n%s", stdout)
	}
	// A rule c4sctl does not know is a configuration error with its line.
	writeFile(t, dir, "main.c4s.hcl", strings.Replace(reconcileConfig, `["federation_id", "email"]`, `["upn"]`, 1))
	_, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "validate")
	if code != 1 || !strings.Contains(stderr, `unknown rule "upn"`) || !strings.Contains(stderr, "main.c4s.hcl line 4") {
		t.Errorf("validate with an unknown rule: exit %d\n%s", code, stderr)
	}
}
