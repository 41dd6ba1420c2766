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
