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
	"sort"
	"strings"

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
	// Auth is the auth method of each configured provider block (by provider name).
	Auth map[string]string
	// TenantID, ClientID, SalesforceInstance and SalesforceUsername are known values of the
	// configuration, or "" (placeholders are printed).
	TenantID, ClientID, SalesforceInstance, SalesforceUsername string
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
func Compute(in Input) *Needs {
	n := &Needs{GraphPermissions: map[string][]string{}, GraphOptional: map[string]bool{}, Roles: map[string][]string{},
		DelegatedRoles: map[string][]string{}, PowerPlatform: map[string][]string{}, Salesforce: map[string][]string{}}
	add := func(m map[string][]string, k string, addrs []string) {
		m[k] = append(m[k], addrs...)
		sort.Strings(m[k])
	}
	for _, typ := range sortedKeys(in.Resources) {
		addrs := in.Resources[typ]
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

// Write prints the setup for in as a commented shell script: the commands run in order, the
// admin-centre steps are comments. Secrets are never printed: they go into variables.
func Write(w io.Writer, in Input) {
	n := Compute(in)
	tenant := or(in.TenantID, "TENANT_ID")
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }

	// The Microsoft sign-in methods in use, and which blocks use them.
	methods := map[string][]string{}
	for _, prov := range microsoftProviders {
		if m, ok := in.Auth[prov]; ok {
			methods[m] = append(methods[m], prov)
		}
	}
	app := false
	for m := range methods {
		app = app || !personMethods[m]
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

	if len(methods) > 0 {
		section("Microsoft Entra ID (providers " + strings.Join(sortedProviders(in.Auth, microsoftProviders), ", ") + ")")
		p("#    As a Global Administrator (or Privileged Role Administrator and Application Administrator).")
		p("az login --tenant %s --allow-no-subscriptions", tenant)
		for _, m := range sortedKeys(methods) {
			p("#    auth = %q: %s", m, strings.Join(methods[m], ", "))
		}
		if app {
			writeApp(w, n, in, methods)
		}
		if len(methods) > 0 {
			for m := range methods {
				if personMethods[m] {
					writePerson(w, n)
					break
				}
			}
		}
	}

	if len(n.PowerPlatform) > 0 {
		section("Power Platform management app registration (admin API, app-only)")
		p("#    Needed by %s.", strings.Join(n.PowerPlatform[powerplatform.NeedManagementApp], ", "))
		if m := in.Auth["powerplatform"]; personMethods[m] {
			p("#    auth = %q signs a person in: that person needs the Power Platform Administrator role instead:", m)
			p("az rest --method POST --uri https://graph.microsoft.com/v1.0/roleManagement/directory/roleAssignments \\")
			p("  --body \"{\\\"principalId\\\":\\\"$(az ad signed-in-user show --query id -o tsv)\\\",\\\"roleDefinitionId\\\":\\\"11648597-926c-4cf3-9c36-bcebb0ba8dcc\\\",\\\"directoryScopeId\\\":\\\"/\\\"}\"")
		} else {
			p("#    As a Power Platform Administrator signed in as a person (a service principal cannot register itself):")
			p("pac auth create")
			p("pac admin application register --application-id \"$APP_ID\"")
			p("#    Without pac, the same as one REST call:")
			p("#    az rest --method PUT --resource https://service.powerapps.com/ \\")
			p("#      --uri \"https://api.bap.microsoft.com/providers/Microsoft.BusinessAppPlatform/adminApplications/$APP_ID?api-version=2020-10-01\"")
		}
		if users := n.PowerPlatform[powerplatform.NeedApplicationUser]; len(users) > 0 {
			section("Dataverse application user in " + powerplatform.VivaEnvironment + " (after guide step 7)")
			p("#    Needed by %s.", strings.Join(users, ", "))
			p("#    %s exists only after the first seller signs in to Copilot for Sales (guide step 7); until then", powerplatform.VivaEnvironment)
			p("#    plan defers these resources. Then, as a Power Platform Administrator:")
			p("pac admin list   # the Environment ID of %s", powerplatform.VivaEnvironment)
			p("pac admin assign-user --environment ENVIRONMENT_ID --user \"$APP_ID\" --role \"System Administrator\" --application-user")
			p("#    Or in the Power Platform admin centre: Environments > %s > Settings > Users + permissions >", powerplatform.VivaEnvironment)
			p("#    Application users > New app user > the app > security role System Administrator.")
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

func writeApp(w io.Writer, n *Needs, in Input, methods map[string][]string) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	if _, mi := methods["managed_identity"]; mi && len(methods) == 1 {
		p("#    The managed identity is the service principal: its object id (Azure portal > the resource > Identity).")
		p("SP_ID=MANAGED_IDENTITY_OBJECT_ID")
		p("APP_ID=$(az ad sp show --id \"$SP_ID\" --query appId -o tsv)")
	} else if in.ClientID != "" {
		p("#    The app registration exists (client_id in the configuration).")
		p("APP_ID=%s", in.ClientID)
		p("SP_ID=$(az ad sp show --id \"$APP_ID\" --query id -o tsv || az ad sp create --id \"$APP_ID\" --query id -o tsv)")
	} else {
		p("APP_ID=$(az ad app create --display-name c4sctl --query appId -o tsv)")
		p("SP_ID=$(az ad sp create --id \"$APP_ID\" --query id -o tsv)")
	}
	if len(n.GraphPermissions) > 0 {
		p("#    Microsoft Graph application permissions, with admin consent:")
		for _, perm := range sortedKeys(n.GraphPermissions) {
			opt := ""
			if n.GraphOptional[perm] {
				opt = " (optional: without it, manual steps)"
			}
			p("#      %s: %s%s", perm, strings.Join(n.GraphPermissions[perm], ", "), opt)
		}
		mi := false
		if _, ok := methods["managed_identity"]; ok && len(methods) == 1 {
			mi = true
			p("GRAPH_SP_ID=$(az ad sp show --id %s --query id -o tsv)", GraphAppID)
		}
		p("for p in %s; do", strings.Join(sortedKeys(n.GraphPermissions), " "))
		p("  ROLE_ID=$(az ad sp show --id %s --query \"appRoles[?value=='$p'].id | [0]\" -o tsv)", GraphAppID)
		if mi {
			// A managed identity has no app registration to add permissions to: the grant is an
			// app role assignment on its service principal.
			p("  az rest --method POST --uri \"https://graph.microsoft.com/v1.0/servicePrincipals/$SP_ID/appRoleAssignments\" \\")
			p("    --body \"{\\\"principalId\\\":\\\"$SP_ID\\\",\\\"resourceId\\\":\\\"$GRAPH_SP_ID\\\",\\\"appRoleId\\\":\\\"$ROLE_ID\\\"}\"")
			p("done")
		} else {
			p("  az ad app permission add --id \"$APP_ID\" --api %s --api-permissions \"$ROLE_ID=Role\"", GraphAppID)
			p("done")
			p("az ad app permission admin-consent --id \"$APP_ID\"")
		}
	}
	for _, role := range sortedKeys(n.Roles) {
		p("#    Directory role %s, needed by %s:", role, strings.Join(n.Roles[role], ", "))
		p("az rest --method POST --uri https://graph.microsoft.com/v1.0/roleManagement/directory/roleAssignments \\")
		p("  --body \"{\\\"principalId\\\":\\\"$SP_ID\\\",\\\"roleDefinitionId\\\":\\\"%s\\\",\\\"directoryScopeId\\\":\\\"/\\\"}\"", roleTemplateIDs[role])
	}
	for _, m := range sortedKeys(methods) {
		switch m {
		case "client_secret", "environment":
			p("#    A client secret (auth = %q): into AZURE_CLIENT_SECRET, never on screen or in a file in the repository.", m)
			p("export AZURE_TENANT_ID=%s AZURE_CLIENT_ID=\"$APP_ID\"", or(in.TenantID, "TENANT_ID"))
			p("export AZURE_CLIENT_SECRET=\"$(az ad app credential reset --id \"$APP_ID\" --append --display-name c4sctl --years 1 --query password -o tsv)\"")
		case "client_certificate":
			p("#    A certificate (auth = \"client_certificate\"): the key stays in c4sctl.pem (mode 0600); Entra ID gets the certificate only.")
			p("openssl req -x509 -newkey rsa:2048 -nodes -keyout c4sctl.key -out c4sctl.crt -days 365 -subj \"/CN=c4sctl\"")
			p("cat c4sctl.key c4sctl.crt > c4sctl.pem && chmod 600 c4sctl.pem && rm c4sctl.key")
			p("az ad app credential reset --id \"$APP_ID\" --append --cert @c4sctl.crt")
			p("export AZURE_TENANT_ID=%s AZURE_CLIENT_ID=\"$APP_ID\" AZURE_CLIENT_CERTIFICATE_PATH=\"$PWD/c4sctl.pem\"", or(in.TenantID, "TENANT_ID"))
		case "workload_identity":
			p("#    Federation (auth = \"workload_identity\"): trust the CI system's tokens; subject as your CI names the job,")
			p("#    e.g. GitHub Actions: repo:OWNER/REPO:environment:production.")
			p("az ad app federated-credential create --id \"$APP_ID\" --parameters \\")
			p("  '{\"name\":\"c4sctl-ci\",\"issuer\":\"https://token.actions.githubusercontent.com\",\"subject\":\"repo:OWNER/REPO:environment:production\",\"audiences\":[\"api://AzureADTokenExchange\"]}'")
			p("#    In the CI job: AZURE_TENANT_ID, AZURE_CLIENT_ID=$APP_ID and AZURE_FEDERATED_TOKEN_FILE (the job's OIDC token).")
		case "managed_identity":
			p("#    auth = \"managed_identity\": no credential to create; c4sctl must run on the Azure resource that holds the identity.")
		}
	}
}

func writePerson(w io.Writer, n *Needs) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	p("#    A person signs in (azure_cli or device_code): that person needs these directory roles, and the")
	p("#    Graph permissions as delegated scopes (consented at the first sign-in).")
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
	user := or(in.SalesforceUsername, "c4sctl@MYDOMAIN.example")
	section("Salesforce (provider salesforce, auth = \"" + method + "\")")
	p("#    As a Salesforce System Administrator, with the Salesforce CLI:")
	p("sf org login web --instance-url %s --alias c4sctl-admin", inst)
	if method == salesforce.AuthSFCLI {
		p("#    auth = \"sf_cli\": c4sctl uses that sign-in (target_org = \"c4sctl-admin\"); the signed-in user needs the")
		p("#    permissions below (a System Administrator has them).")
	} else {
		p("#    A user of its own for c4sctl (Setup > Users > New User, user name %s, a Salesforce licence);", user)
		p("#    the permission set below gives it what c4sctl needs.")
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
		p("sf data create record --target-org c4sctl-admin --sobject PermissionSet \\")
		p("  --values \"Name=C4sctl_Deployer Label='c4sctl deployer' %s\"", strings.Join(vals, " "))
		p("sf org assign permset --target-org c4sctl-admin --name C4sctl_Deployer --on-behalf-of %s", user)
		p("#    Check (signed in as that user): sf data query --query \"SELECT %s FROM UserPermissionAccess\"", strings.Join(fields, ", "))
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
