# One configuration for the whole fleet: what differs per customer is in var.tenants, chosen by
# the workspace (c4sctl.workspace: --workspace, or C4S_WORKSPACE as the fleet jobs set it).
# Microsoft: auth = "workload_identity" with the customer's tenant_id; the client id and the
# federated token file come from AZURE_CLIENT_ID and AZURE_FEDERATED_TOKEN_FILE (one multi-tenant
# app of the partner, consented in each customer tenant). Salesforce: the JWT bearer flow with
# the key in SF_PRIVATE_KEY (or SF_PRIVATE_KEY_FILE) from the job.

variable "sf_private_key_dir" {
  type        = string
  default     = ""
  description = "Directory holding one PEM key per workspace (WORKSPACE.key), as the Kubernetes example mounts them; empty: the key is in SF_PRIVATE_KEY."
}

variable "tenants" {
  type = map(object({
    tenant_id         = string
    salesforce_org_id = string
    sf_instance_url   = string
    sf_username       = string
    sf_client_id      = string # consumer key of the org's connected app (not a secret)
  }))
  default = {
    contoso = {
      tenant_id         = "11111111-1111-1111-1111-111111111111"
      salesforce_org_id = "00D000000000001AAA"
      sf_instance_url   = "https://contoso.my.salesforce.com"
      sf_username       = "c4sctl-integration@contoso.com"
      sf_client_id      = "3MVG9CONTOSO_CONSUMER_KEY"
    }
    fabrikam = {
      tenant_id         = "22222222-2222-2222-2222-222222222222"
      salesforce_org_id = "00D000000000002AAA"
      sf_instance_url   = "https://fabrikam.my.salesforce.com"
      sf_username       = "c4sctl-integration@fabrikam.com"
      sf_client_id      = "3MVG9FABRIKAM_CONSUMER_KEY"
    }
    northwind = {
      tenant_id         = "33333333-3333-3333-3333-333333333333"
      salesforce_org_id = "00D000000000003AAA"
      sf_instance_url   = "https://northwind.my.salesforce.com"
      sf_username       = "c4sctl-integration@northwind.com"
      sf_client_id      = "3MVG9NORTHWIND_CONSUMER_KEY"
    }
  }
}

provider "teams" {
  tenant_id = var.tenants[c4sctl.workspace].tenant_id
  auth      = "workload_identity"
}

resource "teams_meeting_policy" "global" {
  identity            = "Global"
  allow_transcription = true
}

provider "powerplatform" {
  tenant_id = var.tenants[c4sctl.workspace].tenant_id
  auth      = "workload_identity"
}

data "powerplatform_environment" "viva" {
  name = "msdyn_viva"
}

resource "copilot_for_sales_settings" "viva" {
  environment         = data.powerplatform_environment.viva.name
  salesforce_org_id   = var.tenants[c4sctl.workspace].salesforce_org_id
  ai_features_enabled = true
}

provider "salesforce" {
  instance_url = var.tenants[c4sctl.workspace].sf_instance_url
  username     = var.tenants[c4sctl.workspace].sf_username
  client_id    = var.tenants[c4sctl.workspace].sf_client_id
  # null: SF_PRIVATE_KEY_FILE or SF_PRIVATE_KEY from the environment (the GitHub example).
  private_key_file = var.sf_private_key_dir == "" ? null : "${var.sf_private_key_dir}/${c4sctl.workspace}.key"
  auth         = "jwt_bearer"
}
