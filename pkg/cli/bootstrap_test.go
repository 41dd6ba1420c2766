package cli

import (
	"strings"
	"testing"
)

// bootstrap reads what the provider blocks give: a managed identity's client_id on the
// powerplatform block is what Power Platform registers and Dataverse adds (not a new app
// registration), and sf_cli's target_org is the org every sf command uses, with the permission set
// assigned to that org's own user (no invented user name).
func TestBootstrapUsesTheConfiguredIdentities(t *testing.T) {
	const mi = "7c1e4f2a-0b1d-4c8e-9a55-3d2f6b7e8a90"
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": `
provider "powerplatform" {
  auth      = "managed_identity"
  client_id = "` + mi + `"
}
provider "salesforce" {
  auth       = "sf_cli"
  target_org = "prod-admin"
}
resource "powerplatform_dlp_connector_rule" "salesforce" {
  environment = "msdyn_viva"
  connector   = "shared_salesforce"
}
resource "salesforce_permission_set" "copilot" {
  name        = "Copilot_for_Sales_Users"
  api_enabled = true
}
`})
	stdout, stderr, code := runCLI(t, "--dir", dir, "bootstrap")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, w := range []string{
		"MI_APP_ID=" + mi,
		`pac admin application register --application-id "$MI_APP_ID"`,
		"sf org login web --instance-url https://MYDOMAIN.my.salesforce.com --alias prod-admin",
		"sf org assign permset --target-org prod-admin --name C4sctl_Deployer",
	} {
		if !strings.Contains(stdout, w) {
			t.Errorf("lacks %q:\n%s", w, stdout)
		}
	}
	for _, n := range []string{"az ad app create", `"$APP_ID"`, "c4sctl-admin", "--on-behalf-of", "MYDOMAIN.example"} {
		if strings.Contains(stdout, n) {
			t.Errorf("has %q:\n%s", n, stdout)
		}
	}
}

// The seller coverage reads the sellers' effective Teams policies with
// TeamsUserConfiguration.Read.All (without it a seller's direct assignment of a policy with
// transcription off is not seen, and status can call them ready): bootstrap grants it and
// preflight checks it for a configuration whose coverage reads it (teams_* resources and the
// sellers' licence assignment), never for one without Teams policies.
func TestBootstrapAndPreflightAskForTheSellersEffectivePolicies(t *testing.T) {
	const perm = "TeamsUserConfiguration.Read.All"
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": coverageBase})
	stdout, stderr, code := runCLI(t, "--dir", dir, "bootstrap")
	if code != 0 || !strings.Contains(stdout, "#      "+perm+": seller coverage") || !strings.Contains(stdout, " "+perm+" ") {
		t.Fatalf("bootstrap: exit %d, no %s:\n%s%s", code, perm, stdout, stderr)
	}
	stdout, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "preflight")
	if !strings.Contains(stdout, "Graph permission "+perm+": granted") {
		t.Fatalf("preflight: exit %d, no %s check:\n%s%s", code, perm, stdout, stderr)
	}
	dir = writeConfig(t, map[string]string{"main.c4s.hcl": `
provider "microsoft365" {}
resource "m365_license_assignment" "sellers" {
  group_name = "Sellers"
}
`})
	if stdout, _, _ := runCLI(t, "--dir", dir, "bootstrap"); strings.Contains(stdout, perm) {
		t.Errorf("bootstrap asks for %s without Teams policies:\n%s", perm, stdout)
	}
}

// The GitHub Actions example's provider blocks (auth = "azure_cli" with client_id: azure/login
// signs the CLI in as that app) get the app registration's setup; a person's azure_cli is not
// turned into one by an AZURE_CLIENT_ID left in the environment (the Azure CLI ignores it).
func TestBootstrapAzureCLIWithClientIDIsTheApp(t *testing.T) {
	const app = "0f2e4c6a-8b1d-4e3f-9a5c-7d6e8f0a1b2c"
	body := func(clientID string) string {
		return `
provider "teams" {
  auth = "azure_cli"
  ` + clientID + `
}
resource "teams_meeting_policy" "global" {
  identity            = "Global"
  allow_transcription = true
}
`
	}
	stdout, stderr, code := runCLI(t, "--dir", writeConfig(t, map[string]string{"main.c4s.hcl": body(`client_id = "` + app + `"`)}), "bootstrap")
	if code != 0 || !strings.Contains(stdout, "APP_ID="+app) || !strings.Contains(stdout, `"principalId\":\"$SP_ID\"`) || strings.Contains(stdout, "signed-in-user") {
		t.Errorf("exit %d, %s\n%s", code, stderr, stdout)
	}
	t.Setenv("AZURE_CLIENT_ID", app)
	stdout, stderr, code = runCLI(t, "--dir", writeConfig(t, map[string]string{"main.c4s.hcl": body("")}), "bootstrap")
	if code != 0 || strings.Contains(stdout, app) || !strings.Contains(stdout, "signed-in-user") {
		t.Errorf("exit %d, %s\n%s", code, stderr, stdout)
	}
}
