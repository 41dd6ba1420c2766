// Package bootstrap works out, from the resource types of a configuration and the sign-in
// methods of its provider blocks, what the identities c4sctl signs in as need in each service
// (Graph application permissions and directory roles, the Power Platform management app
// registration, the Dataverse application user, the Salesforce user's permissions and connected
// app), and prints the Azure CLI (az), Power Platform CLI (pac) and Salesforce CLI (sf) commands,
// and the admin-centre steps where no command exists, that set them up.
//
// Everything printed is derived from what the providers declare (m365.Requirements,
// powerplatform.Requirements, salesforce.Requirements, entra.Methods, salesforce.Methods, the
// schema's Env), so `c4sctl bootstrap` and docs/getting-started-real.md follow the code.
// Command syntax sources: docs/getting-started-real.md, "Sources".
package bootstrap

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"unicode"

	"github.com/c4sctl/c4sctl/pkg/providers/m365"
	"github.com/c4sctl/c4sctl/pkg/providers/powerplatform"
	"github.com/c4sctl/c4sctl/pkg/providers/salesforce"
)

// Role template ids of the Microsoft Entra built-in roles c4sctl's resources need. Source:
// docs/api/graph.md (Learn, "Microsoft Entra built-in roles"); Power Platform Administrator
// 11648597-926c-4cf3-9c36-bcebb0ba8dcc, same page.
var roleTemplateIDs = map[string]string{
	"Teams Administrator":   "69091246-20e8-4a56-aa4d-066075b2a7a8",
	"License Administrator": "4d6ac14f-3453-41d0-bef9-a3e0c569773a",
}

// GraphAppID is Microsoft Graph's application id (the --api of `az ad app permission add`).
const GraphAppID = "00000003-0000-0000-c000-000000000000"

// Input is what bootstrap plans for.
type Input struct {
	// Resources are the configuration's resource addresses by type (data sources included).
	Resources map[string][]string
	// ProviderOf is the provider of each resource type in Resources; without it every need is
	// counted for every Microsoft provider block.
	ProviderOf map[string]string
	// Auth is the auth method of each configured provider block (by provider name).
	Auth map[string]string
	// ClientIDs are the client_id values (or AZURE_CLIENT_ID) known per Microsoft provider block:
	// an app registration's application id, or a user-assigned managed identity's client id.
	ClientIDs map[string]string
	// TenantID, ClientID, SalesforceInstance and SalesforceUsername are known values of the
	// configuration, or "" (placeholders are printed). ClientID is used where ClientIDs has none.
	TenantID, ClientID, SalesforceInstance, SalesforceUsername string
	// SalesforceTargetOrg is the salesforce block's target_org (auth = "sf_cli"): the sf CLI
	// alias or user name c4sctl signs in with; "" means the CLI's default org.
	SalesforceTargetOrg string
}

// Needs is what the configuration needs, per service.
type Needs struct {
	// GraphPermissions: least application permission -> addresses that need it; optional ones
	// in GraphOptional.
	GraphPermissions map[string][]string
	GraphOptional    map[string]bool
	// Roles: directory role -> addresses (for an app; DelegatedRoles only when a person signs in).
	Roles          map[string][]string
	DelegatedRoles map[string][]string
	// PowerPlatform: NeedManagementApp / NeedApplicationUser -> addresses.
	PowerPlatform map[string][]string
	// Salesforce: alternatives joined by " or " -> addresses.
	Salesforce map[string][]string
}

// Compute derives the needs of in.
func Compute(in Input) *Needs { return computeFor(in, nil) }

// computeFor derives the needs of the resources of the given providers (nil: all).
func computeFor(in Input, provs []string) *Needs {
	n := &Needs{GraphPermissions: map[string][]string{}, GraphOptional: map[string]bool{}, Roles: map[string][]string{},
		DelegatedRoles: map[string][]string{}, PowerPlatform: map[string][]string{}, Salesforce: map[string][]string{}}
	add := func(m map[string][]string, k string, addrs []string) {
		m[k] = append(m[k], addrs...)
		sort.Strings(m[k])
	}
	for _, typ := range sortedKeys(in.Resources) {
		addrs := in.Resources[typ]
		if prov, known := in.ProviderOf[typ]; provs != nil && known && !slices.Contains(provs, prov) {
			continue
		}
		if req, ok := m365.Requirements[typ]; ok {
			for _, r := range req.Roles {
				add(n.Roles, r, addrs)
			}
			for _, r := range req.DelegatedRoles {
				add(n.DelegatedRoles, r, addrs)
			}
			for _, alts := range req.Permissions {
				_, seen := n.GraphPermissions[alts[0]]
				add(n.GraphPermissions, alts[0], addrs)
				if req.Optional && (!seen || n.GraphOptional[alts[0]]) {
					n.GraphOptional[alts[0]] = true
				} else {
					n.GraphOptional[alts[0]] = false
				}
			}
		}
		for _, need := range powerplatform.Requirements[typ] {
			add(n.PowerPlatform, need, addrs)
		}
		for _, alts := range salesforce.Requirements[typ] {
			add(n.Salesforce, strings.Join(alts, " or "), addrs)
		}
	}
	for k, v := range n.GraphOptional {
		if !v {
			delete(n.GraphOptional, k)
		}
	}
	return n
}

func sortedKeys[T any](m map[string]T) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func or(v, placeholder string) string {
	if v == "" {
		return placeholder
	}
	return v
}

// microsoftProviders are the provider blocks that sign in to Microsoft Entra ID.
var microsoftProviders = []string{"microsoft365", "teams", "powerplatform"}

// personMethods sign a person in: the person's roles count, and no app registration of one's own
// is needed.
var personMethods = map[string]bool{"azure_cli": true, "device_code": true}

// identity is who a group of Microsoft provider blocks signs in as: an app registration (a
// secret, a certificate, federation or the AZURE_* variables), a managed identity, or a person.
type identity struct {
	kind  string   // "app", "managed_identity" or "person"
	provs []string // provider blocks, in microsoftProviders order
	// appVar and spVar are the shell variables that hold its application (client) id and its
	// service principal's object id ("" for a person).
	appVar, spVar string
}

func kindOf(method string) string {
	switch {
	case personMethods[method]:
		return "person"
	case method == "managed_identity":
		return "managed_identity"
	}
	return "app"
}

// identities groups the configured Microsoft provider blocks by who they sign in as.
func identities(in Input) []*identity {
	by := map[string]*identity{}
	var out []*identity
	for _, prov := range microsoftProviders {
		m, ok := in.Auth[prov]
		if !ok {
			continue
		}
		k := kindOf(m)
		if m == "azure_cli" && in.ClientIDs[prov] != "" {
			// azure_cli with the block's client_id: the CLI is signed in as that app's service
			// principal (a pipeline's azure/login, examples/github-actions), not as a person; the
			// app needs what any app registration needs.
			k = "app"
		}
		id := by[k]
		if id == nil {
			id = &identity{kind: k}
			switch k {
			case "app":
				id.appVar, id.spVar = "APP_ID", "SP_ID"
			case "managed_identity":
				id.appVar, id.spVar = "MI_APP_ID", "MI_SP_ID"
			}
			by[k] = id
			out = append(out, id)
		}
		id.provs = append(id.provs, prov)
	}
	return out
}

// clientID is the first client id the configuration gives for one of provs.
func clientID(in Input, provs []string) string {
	for _, p := range provs {
		if v := in.ClientIDs[p]; v != "" {
			return v
		}
	}
	return in.ClientID
}

// Write prints the setup for in as a commented shell script: the commands run in order, the
// admin-centre steps are comments. Secrets are never printed: they go into variables.
//
// Command syntax, checked against the vendors' references (see also docs/getting-started-real.md,
// "Sources"):
//   - az login --tenant --allow-no-subscriptions; az ad app create --display-name; az ad sp create
//     --id; az ad sp show --id (an application id or an object id) --query; az ad app permission
//     add --id --api --api-permissions ID=Role; az ad app permission admin-consent --id; az ad app
//     credential reset --id --append --display-name --years | --cert @FILE; az ad app
//     federated-credential create --id --parameters; az ad app update --id
//     --is-fallback-public-client; az rest --method --uri --body --resource: Azure CLI reference,
//     https://learn.microsoft.com/cli/azure/ad/app, .../ad/sp, .../reference-index#az-rest.
//   - az identity show --name --resource-group (clientId, principalId of a user-assigned managed
//     identity): https://learn.microsoft.com/cli/azure/identity; az vm identity show (principalId
//     of a system-assigned one; every resource with a managed identity has `az <resource>
//     identity show`): https://learn.microsoft.com/cli/azure/vm/identity and the Azure CLI's
//     managed identity command guideline (azure-cli doc/managed_identity_command_guideline.md).
//   - App role assignment to a service principal (a managed identity has no app registration to
//     add permissions to): POST /v1.0/servicePrincipals/{id}/appRoleAssignments {principalId,
//     resourceId, appRoleId} (Learn, "Grant an appRoleAssignment to a service principal").
//   - pac admin application register --application-id; pac admin assign-user --environment --user
//     (an application id with --application-user) --role; pac admin list: Power Platform CLI
//     reference, https://learn.microsoft.com/power-platform/developer/cli/reference/admin; the REST
//     registration: Learn, powerplatform-api-create-service-principal; New-PowerAppManagementApp
//     -ApplicationId does the same (Microsoft.PowerApps.Administration.PowerShell). A managed
//     identity's application id is accepted as an application user like an app registration's.
//   - sf org login web --instance-url --alias --set-default; sf data create record --target-org
//     --sobject --values; sf org assign permset --target-org --name [--on-behalf-of] (without
//     --on-behalf-of: the target org's own user); sf data query --target-org --query: Salesforce
//     CLI reference, https://developer.salesforce.com/docs/platform/salesforce-cli-reference/guide/
//     (cli_reference_org_assign_permset and the org login / data pages).
func Write(w io.Writer, in Input) {
	in = shellInput(in)
	tenant := or(in.TenantID, "TENANT_ID")
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	ids := identities(in)
	idOf := map[string]*identity{}
	for _, id := range ids {
		for _, prov := range id.provs {
			idOf[prov] = id
		}
	}
	p("# c4sctl bootstrap: what this configuration needs in each service, and the commands that set it up.")
	p("# Run them yourself, as an admin; c4sctl runs none of them. No secret is printed: secrets go into")
	p("# environment variables. Afterwards, `c4sctl bootstrap --check` (or `c4sctl preflight`) checks what it can.")
	step := 0
	section := func(title string) {
		step++
		p("")
		p("# %d. %s", step, title)
	}

	if len(ids) > 0 {
		section("Microsoft Entra ID (providers " + strings.Join(sortedProviders(in.Auth, microsoftProviders), ", ") + ")")
		p("#    As a Global Administrator (or Privileged Role Administrator and Application Administrator).")
		p("az login --tenant %s --allow-no-subscriptions", tenant)
		for _, id := range ids {
			methods := map[string][]string{}
			for _, prov := range id.provs {
				methods[in.Auth[prov]] = append(methods[in.Auth[prov]], prov)
			}
			for _, m := range sortedKeys(methods) {
				p("#    auth = %q: %s", m, strings.Join(methods[m], ", "))
			}
			n := computeFor(in, id.provs)
			switch id.kind {
			case "app":
				writeApp(w, n, in, id, methods)
			case "managed_identity":
				writeManagedIdentity(w, n, in, id)
			case "person":
				writePerson(w, n, in, id, methods)
			}
		}
	}

	n := Compute(in)
	if len(n.PowerPlatform) > 0 {
		section("Power Platform management app registration (admin API, app-only)")
		p("#    Needed by %s.", strings.Join(n.PowerPlatform[powerplatform.NeedManagementApp], ", "))
		id := idOf["powerplatform"]
		switch {
		case id == nil:
			p("#    (no powerplatform provider block: the identity it signs in as is registered here)")
		case id.kind == "person":
			p("#    auth = %q signs a person in: that person needs the Power Platform Administrator role instead:", in.Auth["powerplatform"])
			p("az rest --method POST --uri https://graph.microsoft.com/v1.0/roleManagement/directory/roleAssignments \\")
			p("  --body \"{\\\"principalId\\\":\\\"$(az ad signed-in-user show --query id -o tsv)\\\",\\\"roleDefinitionId\\\":\\\"11648597-926c-4cf3-9c36-bcebb0ba8dcc\\\",\\\"directoryScopeId\\\":\\\"/\\\"}\"")
		default:
			what := "The app registration ($APP_ID above)"
			if id.kind == "managed_identity" {
				what = "The managed identity (its application id, $MI_APP_ID above; no app registration of its own)"
			}
			p("#    %s is registered by a Power Platform Administrator", what)
			p("#    signed in as a person (a service principal cannot register itself):")
			p("pac auth create")
			p("pac admin application register --application-id \"$%s\"", id.appVar)
			p("#    Without pac, the same as one REST call:")
			p("#    az rest --method PUT --resource https://service.powerapps.com/ \\")
			p("#      --uri \"https://api.bap.microsoft.com/providers/Microsoft.BusinessAppPlatform/adminApplications/$%s?api-version=2020-10-01\"", id.appVar)
		}
		if users := n.PowerPlatform[powerplatform.NeedApplicationUser]; len(users) > 0 {
			section("Dataverse application user in " + powerplatform.VivaEnvironment + " (after guide step 7)")
			p("#    Needed by %s.", strings.Join(users, ", "))
			p("#    %s exists only after the first seller signs in to Copilot for Sales (guide step 7); until then", powerplatform.VivaEnvironment)
			p("#    plan defers these resources. Then, as a Power Platform Administrator:")
			p("pac admin list   # the Environment ID of %s", powerplatform.VivaEnvironment)
			switch {
			case id != nil && id.kind == "person":
				p("#    auth = %q signs a person in: that person needs the security role System Administrator there", in.Auth["powerplatform"])
				p("#    (a Dataverse user, not an application user):")
				p("pac admin assign-user --environment ENVIRONMENT_ID --user \"$(az ad signed-in-user show --query userPrincipalName -o tsv)\" --role \"System Administrator\"")
			default:
				v, who := "APP_ID", "the app"
				if id != nil {
					v = id.appVar
					if id.kind == "managed_identity" {
						who = "the managed identity"
					}
				}
				p("pac admin assign-user --environment ENVIRONMENT_ID --user \"$%s\" --role \"System Administrator\" --application-user", v)
				p("#    Or in the Power Platform admin centre: Environments > %s > Settings > Users + permissions >", powerplatform.VivaEnvironment)
				p("#    Application users > New app user > %s (application id $%s) > security role System Administrator.", who, v)
			}
		}
	}

	if m, ok := in.Auth["salesforce"]; ok {
		writeSalesforce(w, n, in, m, section)
	}
	p("")
	p("# Then: c4sctl bootstrap --check, and c4sctl plan.")
}

func sortedProviders(auth map[string]string, among []string) []string {
	var out []string
	for _, p := range among {
		if _, ok := auth[p]; ok {
			out = append(out, p)
		}
	}
	return out
}

// writeGraphAndRoles prints the Graph application permissions and directory roles of n for the
// service principal in $spVar: through the app registration (permission add, admin consent) when
// viaApp, else as app role assignments on the service principal itself.
func writeGraphAndRoles(w io.Writer, n *Needs, appVar, spVar string, viaApp bool) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	if len(n.GraphPermissions) > 0 {
		p("#    Microsoft Graph application permissions, with admin consent:")
		for _, perm := range sortedKeys(n.GraphPermissions) {
			opt := ""
			if n.GraphOptional[perm] {
				opt = " (optional: without it, manual steps)"
				if perm == "TeamsUserConfiguration.Read.All" {
					opt = " (optional: without it, " + m365.OptionalWithout(perm) + ")"
				}
			}
			p("#      %s: %s%s", perm, strings.Join(n.GraphPermissions[perm], ", "), opt)
		}
		if !viaApp {
			p("GRAPH_SP_ID=$(az ad sp show --id %s --query id -o tsv)", GraphAppID)
		}
		p("for p in %s; do", strings.Join(sortedKeys(n.GraphPermissions), " "))
		p("  ROLE_ID=$(az ad sp show --id %s --query \"appRoles[?value=='$p'].id | [0]\" -o tsv)", GraphAppID)
		if viaApp {
			p("  az ad app permission add --id \"$%s\" --api %s --api-permissions \"$ROLE_ID=Role\"", appVar, GraphAppID)
			p("done")
			p("az ad app permission admin-consent --id \"$%s\"", appVar)
		} else {
			// A managed identity has no app registration to add permissions to: the grant is an
			// app role assignment on its service principal (admin consent in itself).
			p("  az rest --method POST --uri \"https://graph.microsoft.com/v1.0/servicePrincipals/$%s/appRoleAssignments\" \\", spVar)
			p("    --body \"{\\\"principalId\\\":\\\"$%s\\\",\\\"resourceId\\\":\\\"$GRAPH_SP_ID\\\",\\\"appRoleId\\\":\\\"$ROLE_ID\\\"}\"", spVar)
			p("done")
		}
	}
	for _, role := range sortedKeys(n.Roles) {
		p("#    Directory role %s, needed by %s:", role, strings.Join(n.Roles[role], ", "))
		p("az rest --method POST --uri https://graph.microsoft.com/v1.0/roleManagement/directory/roleAssignments \\")
		p("  --body \"{\\\"principalId\\\":\\\"$%s\\\",\\\"roleDefinitionId\\\":\\\"%s\\\",\\\"directoryScopeId\\\":\\\"/\\\"}\"", spVar, roleTemplateIDs[role])
	}
}

func writeApp(w io.Writer, n *Needs, in Input, id *identity, methods map[string][]string) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	if cid := clientID(in, id.provs); cid != "" {
		p("#    The app registration exists (client_id in the configuration).")
		p("APP_ID=%s", cid)
		p("SP_ID=$(az ad sp show --id \"$APP_ID\" --query id -o tsv || az ad sp create --id \"$APP_ID\" --query id -o tsv)")
	} else {
		p("APP_ID=$(az ad app create --display-name c4sctl --query appId -o tsv)")
		p("SP_ID=$(az ad sp create --id \"$APP_ID\" --query id -o tsv)")
	}
	writeGraphAndRoles(w, n, "APP_ID", "SP_ID", true)
	tenant := or(in.TenantID, "TENANT_ID")
	for _, m := range sortedKeys(methods) {
		switch m {
		case "client_secret", "environment":
			p("#    A client secret (auth = %q): into AZURE_CLIENT_SECRET, never on screen or in a file in the repository.", m)
			p("export AZURE_TENANT_ID=%s AZURE_CLIENT_ID=\"$APP_ID\"", tenant)
			p("export AZURE_CLIENT_SECRET=\"$(az ad app credential reset --id \"$APP_ID\" --append --display-name c4sctl --years 1 --query password -o tsv)\"")
		case "client_certificate":
			p("#    A certificate (auth = \"client_certificate\"): the key stays in c4sctl.pem (mode 0600); Entra ID gets the certificate only.")
			p("openssl req -x509 -newkey rsa:2048 -nodes -keyout c4sctl.key -out c4sctl.crt -days 365 -subj \"/CN=c4sctl\"")
			p("cat c4sctl.key c4sctl.crt > c4sctl.pem && chmod 600 c4sctl.pem && rm c4sctl.key")
			p("az ad app credential reset --id \"$APP_ID\" --append --cert @c4sctl.crt")
			p("export AZURE_TENANT_ID=%s AZURE_CLIENT_ID=\"$APP_ID\" AZURE_CLIENT_CERTIFICATE_PATH=\"$PWD/c4sctl.pem\"", tenant)
		case "workload_identity":
			p("#    Federation (auth = \"workload_identity\"): trust the CI system's tokens; subject as your CI names the job,")
			p("#    e.g. GitHub Actions: repo:OWNER/REPO:environment:production.")
			p("az ad app federated-credential create --id \"$APP_ID\" --parameters \\")
			p("  '{\"name\":\"c4sctl-ci\",\"issuer\":\"https://token.actions.githubusercontent.com\",\"subject\":\"repo:OWNER/REPO:environment:production\",\"audiences\":[\"api://AzureADTokenExchange\"]}'")
			p("#    In the CI job: AZURE_TENANT_ID, AZURE_CLIENT_ID=$APP_ID and AZURE_FEDERATED_TOKEN_FILE (the job's OIDC token).")
		case "azure_cli":
			p("#    The Azure CLI signed in as this app's service principal (auth = \"azure_cli\" with client_id), as a")
			p("#    pipeline's azure/login does: federate the CI system's tokens (no secret); subject as your CI names")
			p("#    the job, e.g. GitHub Actions: repo:OWNER/REPO:environment:production (and :pull_request, :ref:refs/heads/main).")
			p("az ad app federated-credential create --id \"$APP_ID\" --parameters \\")
			p("  '{\"name\":\"c4sctl-ci\",\"issuer\":\"https://token.actions.githubusercontent.com\",\"subject\":\"repo:OWNER/REPO:environment:production\",\"audiences\":[\"api://AzureADTokenExchange\"]}'")
			p("#    In the CI job: azure/login with client-id $APP_ID, tenant-id %s and allow-no-subscriptions: true.", tenant)
		}
	}
}

// writeManagedIdentity prints the setup for blocks that sign in as a managed identity: no app
// registration and no credential; the identity's own service principal gets the permissions and
// roles, and its application (client) id is what Power Platform and Dataverse register.
func writeManagedIdentity(w io.Writer, n *Needs, in Input, id *identity) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	p("#    The managed identity is who c4sctl signs in as: no app registration to create, no credential.")
	p("#    c4sctl must run on the Azure resource that holds it. Its application (client) id and its service")
	p("#    principal's object id:")
	if cid := clientID(in, id.provs); cid != "" {
		p("#    a user-assigned identity (client_id in the configuration):")
		p("MI_APP_ID=%s", cid)
		p("MI_SP_ID=$(az ad sp show --id \"$MI_APP_ID\" --query id -o tsv)")
	} else {
		p("#    no client_id in the configuration: c4sctl uses the resource's system-assigned identity, e.g. a VM's")
		p("#    (az webapp identity show, az containerapp identity show, ... for other resources):")
		p("MI_SP_ID=$(az vm identity show --name VM_NAME --resource-group RESOURCE_GROUP --query principalId -o tsv)")
		p("MI_APP_ID=$(az ad sp show --id \"$MI_SP_ID\" --query appId -o tsv)")
		p("#    A user-assigned identity instead: set client_id (or AZURE_CLIENT_ID) to its client id, from")
		p("#    az identity show --name IDENTITY_NAME --resource-group RESOURCE_GROUP --query clientId -o tsv")
	}
	writeGraphAndRoles(w, n, "MI_APP_ID", "MI_SP_ID", false)
}

// writePerson prints the roles of a person who signs in (azure_cli, device_code).
func writePerson(w io.Writer, n *Needs, in Input, id *identity, methods map[string][]string) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	p("#    A person signs in (azure_cli or device_code): that person needs these directory roles, and the")
	p("#    Graph permissions as delegated scopes (consented at the first sign-in).")
	if provs, ok := methods["device_code"]; ok {
		if cid := clientID(in, provs); cid != "" {
			p("#    device_code with the app registration %s: it must allow public client flows:", cid)
			p("az ad app update --id %s --is-fallback-public-client true", cid)
		} else {
			p("#    device_code without client_id signs in through azidentity's default public client: no app registration.")
		}
	}
	roles := map[string][]string{}
	for k, v := range n.Roles {
		roles[k] = v
	}
	for k, v := range n.DelegatedRoles {
		roles[k] = append(roles[k], v...)
		sort.Strings(roles[k])
	}
	for _, role := range sortedKeys(roles) {
		p("#    Directory role %s, needed by %s:", role, strings.Join(roles[role], ", "))
		p("az rest --method POST --uri https://graph.microsoft.com/v1.0/roleManagement/directory/roleAssignments \\")
		p("  --body \"{\\\"principalId\\\":\\\"$(az ad signed-in-user show --query id -o tsv)\\\",\\\"roleDefinitionId\\\":\\\"%s\\\",\\\"directoryScopeId\\\":\\\"/\\\"}\"", roleTemplateIDs[role])
	}
}

func writeSalesforce(w io.Writer, n *Needs, in Input, method string, section func(string)) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	inst := or(in.SalesforceInstance, "https://MYDOMAIN.my.salesforce.com")
	section("Salesforce (provider salesforce, auth = \"" + method + "\")")
	// org is the --target-org flag of the sf commands below ("" : the CLI's default org); user
	// names the user the permission set is assigned to ("": the target org's own user).
	org, user := " --target-org c4sctl-admin", ""
	if method == salesforce.AuthSFCLI {
		// c4sctl signs in as whoever the sf CLI holds for target_org: the commands use that org and
		// its user, never a name of their own.
		switch t := in.SalesforceTargetOrg; {
		case t == "":
			org = ""
			p("#    auth = \"sf_cli\" without target_org: c4sctl uses the Salesforce CLI's default org (sf config get target-org).")
			p("#    Sign in as the user c4sctl is to act as, and make that org the default:")
			p("sf org login web --instance-url %s --set-default", inst)
		case strings.Contains(t, "@"):
			org = " --target-org " + t
			p("#    auth = \"sf_cli\", target_org = %q: sign in to the CLI as that user (once):", t)
			p("sf org login web --instance-url %s", inst)
		default:
			org = " --target-org " + t
			p("#    auth = \"sf_cli\", target_org = %q: sign in to the CLI under that alias as the user c4sctl is to act as:", t)
			p("sf org login web --instance-url %s --alias %s", inst, t)
		}
		p("#    c4sctl acts as that signed-in user: it needs the permissions below (a System Administrator has them).")
	} else {
		p("#    As a Salesforce System Administrator, with the Salesforce CLI:")
		p("sf org login web --instance-url %s --alias c4sctl-admin", inst)
		switch {
		case method == salesforce.AuthAccessToken:
			p("#    auth = \"access_token\": c4sctl acts as the user whose session SF_ACCESS_TOKEN is (below: this")
			p("#    admin session, c4sctl-admin); that user needs the permissions below (a System Administrator has them).")
		case in.SalesforceUsername != "":
			user = in.SalesforceUsername
			p("#    The user c4sctl signs in as (username in the configuration): %s. If it does not exist yet:", user)
		case method == salesforce.AuthClientCredentials:
			user = "RUN_AS_USERNAME"
			p("#    The app's run-as user (below): substitute its user name for RUN_AS_USERNAME (the configuration does not")
			p("#    name it). If it does not exist yet:")
		default:
			user = "INTEGRATION_USERNAME"
			p("#    The user c4sctl signs in as: substitute its user name for INTEGRATION_USERNAME (username / SF_USERNAME")
			p("#    is not set). If it does not exist yet:")
		}
		if method != salesforce.AuthAccessToken {
			p("#    Setup > Users > New User, with a Salesforce licence; the permission set below gives it what c4sctl needs.")
		}
	}
	if len(n.Salesforce) > 0 {
		var fields, vals []string
		for _, key := range sortedKeys(n.Salesforce) {
			labels := []string{}
			for _, f := range strings.Split(key, " or ") {
				labels = append(labels, salesforce.PermissionLabels[f])
			}
			p("#      %s: %s", strings.Join(labels, " or "), strings.Join(n.Salesforce[key], ", "))
			first := strings.Split(key, " or ")[0]
			fields = append(fields, first)
			vals = append(vals, first+"=true")
		}
		p("#    A permission set with these permissions, assigned to the user c4sctl signs in as:")
		p("sf data create record%s --sobject PermissionSet \\", org)
		p("  --values \"Name=C4sctl_Deployer Label='c4sctl deployer' %s\"", strings.Join(vals, " "))
		if user == "" {
			p("sf org assign permset%s --name C4sctl_Deployer   # to the org's signed-in user", org)
			p("#    Check: sf data query%s --query \"SELECT %s FROM UserPermissionAccess\"", org, strings.Join(fields, ", "))
		} else {
			p("sf org assign permset%s --name C4sctl_Deployer --on-behalf-of %s", org, user)
			p("#    Check (signed in as that user): sf data query --query \"SELECT %s FROM UserPermissionAccess\"", strings.Join(fields, ", "))
		}
	}
	switch method {
	case salesforce.AuthJWTBearer:
		p("#    A certificate for the JWT bearer flow: the key stays with c4sctl (SF_PRIVATE_KEY_FILE), Salesforce gets the certificate.")
		p("openssl req -x509 -newkey rsa:2048 -nodes -keyout c4sctl-sf.key -out c4sctl-sf.crt -days 365 -subj \"/CN=c4sctl\" && chmod 600 c4sctl-sf.key")
		p("#    Setup > App Manager > New External Client App (or New Connected App): Enable OAuth, callback")
		p("#    http://localhost:1717/OauthRedirect, scopes \"Manage user data via APIs (api)\" and \"Perform requests at any")
		p("#    time (refresh_token, offline_access)\", Enable JWT Bearer Flow / Use digital signatures: upload c4sctl-sf.crt.")
		p("#    Policies: Permitted Users = Admin approved users are pre-authorized; add the permission set C4sctl_Deployer.")
		p("#    Copy the Consumer Key.")
		p("export SF_CLIENT_ID=CONSUMER_KEY SF_USERNAME=%s SF_PRIVATE_KEY_FILE=\"$PWD/c4sctl-sf.key\" SF_INSTANCE_URL=%s", user, inst)
	case salesforce.AuthClientCredentials:
		p("#    Setup > App Manager > New External Client App (or New Connected App): Enable OAuth, scope \"Manage user data")
		p("#    via APIs (api)\", Enable Client Credentials Flow; Policies: Run As = %s. Copy the Consumer Key and", user)
		p("#    Secret; the secret goes into SF_CLIENT_SECRET, not into a file in the repository.")
		p("export SF_CLIENT_ID=CONSUMER_KEY SF_INSTANCE_URL=%s", inst)
		p("read -rs SF_CLIENT_SECRET && export SF_CLIENT_SECRET   # paste the Consumer Secret")
	case salesforce.AuthAccessToken:
		p("export SF_INSTANCE_URL=%s", inst)
		p("export SF_ACCESS_TOKEN=\"$(sf org display --target-org c4sctl-admin --json | jq -r .result.accessToken)\"")
	}
}

// shellInput makes the configuration's values (and the environment's) safe to paste into a shell:
// the commands are printed for an admin to run, and a tenant_id, client_id, instance_url,
// username or target_org is text from a configuration (or a variable) that may come from
// anyone: a value of more than plain characters is single-quoted, and control characters (a
// line break would end a comment line and start a command) are dropped.
func shellInput(in Input) Input {
	in.TenantID, in.ClientID = shellWord(in.TenantID), shellWord(in.ClientID)
	in.SalesforceInstance, in.SalesforceUsername = shellWord(in.SalesforceInstance), shellWord(in.SalesforceUsername)
	in.SalesforceTargetOrg = shellWord(in.SalesforceTargetOrg)
	if in.ClientIDs != nil {
		ids := make(map[string]string, len(in.ClientIDs))
		for k, v := range in.ClientIDs {
			ids[k] = shellWord(v)
		}
		in.ClientIDs = ids
	}
	return in
}

// shellWord is s as one shell word: itself when it holds only characters no shell interprets,
// else single-quoted.
func shellWord(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	plain := s != ""
	for _, r := range s {
		if !(r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("-_.:/@+=,%", r))) {
			plain = false
			break
		}
	}
	if plain || s == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
