# The quickstart's resources (examples/quickstart/main.c4s.hcl without its variable and provider
# blocks), for a real tenant and org with providers.c4s.hcl: docs/getting-started-real.md.
# Generated: go test ./pkg/cli -run TestGettingStartedRealIsGenerated -update
# Copilot for Sales for Salesforce CRM: the deployment guide as code.
#
# Try it against the built-in sandbox (no tenant needed):
#   c4sctl --dir examples/quickstart --sandbox plan
# Against a real tenant, set the variables (or the AZURE_* / SF_* environment variables) and drop
# --sandbox. Secrets are read from the environment, never written here.




# Step 3: Teams meeting transcription on, in the org-wide default meeting policy. Without it,
# Copilot for Sales cannot summarise the meetings it is added to.
resource "teams_meeting_policy" "global" {
  identity            = "Global"
  allow_transcription = true
}


# Step 5: no data loss prevention policy that applies to msdyn_viva blocks the Salesforce
# connector (a blocked connector moves to the business group; the rest of each policy is kept).
resource "powerplatform_dlp_connector_rule" "salesforce" {
  environment = "msdyn_viva"
  connector   = "shared_salesforce"
}

# Step 7: msdyn_viva is created by the first seller's sign-in, and every global admin and Power
# Platform admin becomes System Administrator there. Review that list: these are the allowed ones.
# Microsoft's own service accounts (bap_sa@microsoft.com, ...) also hold the role; c4sctl lists
# them apart and never removes them. c4sctl's app must be added to msdyn_viva as an application
# user before it can read it: plan says how.
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
# msdyn_viva keeps settings rows per connected Salesforce org: salesforce_org_id says whose.
resource "copilot_for_sales_settings" "viva" {
  environment         = data.powerplatform_environment.viva.name
  salesforce_org_id   = "00D5g00000SBXORGAA" # Setup > Company Information > Salesforce.com Organization ID (here: the sandbox org)
  ai_features_enabled = true
}



# Step 4: every Copilot for Sales user has the API Enabled permission and may view, create and
# update the records Copilot for Sales works with, through a permission set assigned to the
# sellers.
resource "salesforce_permission_set" "copilot" {
  name        = "Copilot_for_Sales_Users"
  api_enabled = true
  object_permissions = {
    Account     = ["read", "create", "edit"]
    Contact     = ["read", "create", "edit"]
    Opportunity = ["read", "create", "edit"]
    Lead        = ["read", "create", "edit"]
  }
  assignee_filter = "Profile.Name = 'Standard User' AND IsActive = true"
}

# Step 6: the "Microsoft Power Platform" connected app, through which Copilot for Sales reaches
# Salesforce, is installed and its policies let the connector in.
resource "salesforce_connected_app" "power_platform" {
  name                 = "Microsoft Power Platform"
  permitted_users      = "admin_approved_preauthorized"
  ip_relaxation        = "relax"
  refresh_token_policy = "valid_until_revoked"
  session_timeout      = "none"
  profiles             = ["Standard User", "System Administrator"]
  permission_sets      = [salesforce_permission_set.copilot.name]
}


# Prerequisite: every seller holds the licence (group-based licensing on the sellers' group).
resource "m365_license_assignment" "sellers" {
  group_name = "Sellers"
}

# Step 1: the Copilot for Sales Outlook add-in is deployed to the sellers.
resource "m365_integrated_app" "copilot_for_sales" {
  groups = ["Sellers"]
}

# Step 2: a Teams app setup policy installs and pins the app for everyone.
data "teams_app" "copilot_for_sales" {}

resource "teams_app_setup_policy" "global" {
  identity        = "Global"
  app_preset_list = [data.teams_app.copilot_for_sales.id]
  pinned_app_bar_apps = [
    { id = data.teams_app.copilot_for_sales.id, order = 3 },
  ]
}
