# Copilot for Sales for Salesforce CRM: the deployment guide as code.
#
# Try it against the built-in sandbox (no tenant needed):
#   c4sctl --dir examples/quickstart --sandbox plan
# Against a real tenant, set the variables (or the AZURE_* / SF_* environment variables) and drop
# --sandbox. Secrets are read from the environment, never written here.

variable "tenant_id" {
  type        = string
  description = "Microsoft Entra tenant id of the Microsoft 365 tenant."
  default     = "00000000-0000-0000-0000-000000000000"
}

variable "client_id" {
  type        = string
  description = "Application (client) id of the app registration c4sctl signs in with."
  default     = "00000000-0000-0000-0000-000000000000"
}

provider "teams" {
  tenant_id = var.tenant_id
  client_id = var.client_id
  auth      = "client_secret" # the secret comes from AZURE_CLIENT_SECRET
}

# Step 3: Teams meeting transcription on, in the org-wide default meeting policy. Without it,
# Copilot for Sales cannot summarise the meetings it is added to.
resource "teams_meeting_policy" "global" {
  identity            = "Global"
  allow_transcription = true
}

provider "powerplatform" {
  tenant_id = var.tenant_id
  client_id = var.client_id
  auth      = "client_secret" # the secret comes from AZURE_CLIENT_SECRET
}

# Step 5: no data loss prevention policy that applies to msdyn_viva blocks the Salesforce
# connector (a blocked connector moves to the business group; the rest of each policy is kept).
resource "powerplatform_dlp_connector_rule" "salesforce" {
  environment = "msdyn_viva"
  connector   = "shared_salesforce"
}

# Step 7: msdyn_viva is created by the first seller's sign-in, and every global admin and Power
# Platform admin becomes System Administrator there. Review that list: these are the allowed ones.
data "powerplatform_environment" "viva" {
  name = "msdyn_viva"
}

resource "dataverse_environment_admins" "viva" {
  environment = data.powerplatform_environment.viva.name
  principals = [
    "admin@contoso-sandbox.onmicrosoft.com",
    "ppadmin@contoso-sandbox.onmicrosoft.com",
  ]
  enforce = false # true removes System Administrator from anyone not listed
}

# Step 8: the Copilot for Sales admin settings, checked for drift (changed in the admin page).
resource "copilot_for_sales_settings" "viva" {
  environment         = data.powerplatform_environment.viva.name
  ai_features_enabled = true
}
