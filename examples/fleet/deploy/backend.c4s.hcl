# State of every tenant in one container of the partner's storage account: the blob
# fleet/copilot-for-sales.json for the default workspace, fleet/copilot-for-sales.jsonenv:NAME for
# workspace NAME (one per tenant). Signed in with Microsoft Entra ID (use_azuread_auth):
# azidentity's default chain finds the workload identity (AZURE_CLIENT_ID, AZURE_TENANT_ID,
# AZURE_FEDERATED_TOKEN_FILE) that the GitHub workflow and the Kubernetes pods set.
c4sctl {
  backend "azurerm" {
    storage_account_name = "partnerc4sstate"
    container_name       = "c4sctl"
    key                  = "fleet/copilot-for-sales.json"
    use_azuread_auth     = true
  }
}
