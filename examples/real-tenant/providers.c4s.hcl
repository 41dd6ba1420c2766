# Provider blocks for a real tenant and org: docs/getting-started-real.md. Every identifier and
# secret comes from the environment (AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET;
# SF_INSTANCE_URL, SF_CLIENT_ID, SF_USERNAME, SF_PRIVATE_KEY_FILE), so this file holds none.
# Another sign-in method: change auth (the page lists what each one needs).

provider "microsoft365" {
  auth = "client_secret"
}

provider "teams" {
  auth = "client_secret"
}

provider "powerplatform" {
  auth = "client_secret"
}

provider "salesforce" {
  auth = "jwt_bearer"
}
