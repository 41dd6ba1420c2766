package providertest

import (
	"fmt"

	"github.com/c4sctl/c4sctl/pkg/sandbox"
	"github.com/c4sctl/c4sctl/pkg/sandbox/salesforceapi"
)

// StandaloneProviderBlocks is the HCL of the four provider blocks pointed at a sandbox served at
// baseURL, trusted through caFile, without --sandbox: the configuration a real tenant would use.
// Secrets stay out of it: the Microsoft providers read AZURE_CLIENT_SECRET (powerplatform reads
// var.client_secret, declared here, to exercise a sensitive variable) and Salesforce reads
// SF_CLIENT_SECRET.
func StandaloneProviderBlocks(baseURL, caFile string) string {
	u := baseURL
	entra := func(extra string) string {
		return fmt.Sprintf("  tenant_id      = %q\n  client_id      = %q\n  auth           = \"client_secret\"\n  login_endpoint = %q\n  ca_file        = %q\n%s",
			sandbox.TenantID, sandbox.ClientID, u+"/", caFile, extra)
	}
	return fmt.Sprintf(`
variable "client_secret" {
  type      = string
  sensitive = true
}

provider "teams" {
%s}

provider "powerplatform" {
%s}

provider "microsoft365" {
%s}

provider "salesforce" {
  instance_url = %q
  login_url    = %q
  auth         = "client_credentials"
  client_id    = %q
  ca_file      = %q
}
`,
		entra(fmt.Sprintf("  endpoint       = %q\n", u+"/teams")),
		entra(fmt.Sprintf("  bap_endpoint   = %q\n  client_secret  = var.client_secret\n", u+"/bap")),
		entra(fmt.Sprintf("  graph_endpoint = %q\n", u+"/graph")),
		u+"/salesforce", u+"/salesforce", salesforceapi.ConsumerKey, caFile)
}
