package bootstrap

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

// quickstart is the quickstart's resources, with their providers.
func quickstart(auth map[string]string, clientIDs map[string]string) Input {
	in := Input{Resources: map[string][]string{}, ProviderOf: map[string]string{}, Auth: auth, ClientIDs: clientIDs}
	for _, r := range []struct{ typ, prov, addr string }{
		{"teams_app", "teams", "data.teams_app.copilot_for_sales"},
		{"teams_meeting_policy", "teams", "teams_meeting_policy.global"},
		{"m365_license_assignment", "microsoft365", "m365_license_assignment.sellers"},
		{"powerplatform_dlp_connector_rule", "powerplatform", "powerplatform_dlp_connector_rule.salesforce"},
		{"dataverse_environment_admins", "powerplatform", "dataverse_environment_admins.viva"},
		{"salesforce_permission_set", "salesforce", "salesforce_permission_set.copilot"},
	} {
		in.Resources[r.typ] = append(in.Resources[r.typ], r.addr)
		in.ProviderOf[r.typ] = r.prov
	}
	return in
}

func write(in Input) string {
	var b bytes.Buffer
	Write(&b, in)
	return b.String()
}

var shellVar = regexp.MustCompile(`\$([A-Z_][A-Z0-9_]*)`)

// usedBeforeSet names the shell variables the script uses before any line sets them: a command
// that would run with an empty id.
func usedBeforeSet(script string) []string {
	set := map[string]bool{"PWD": true}
	var bad []string
	for _, line := range strings.Split(script, "\n") {
		for _, m := range shellVar.FindAllStringSubmatch(line, -1) {
			if !set[m[1]] && !strings.Contains(line, m[1]+"=") {
				bad = append(bad, m[1]+" in: "+line)
			}
		}
		for _, m := range regexp.MustCompile(`(?:^|[ ;])([A-Z_][A-Z0-9_]*)=`).FindAllStringSubmatch(strings.TrimLeft(line, " "), -1) {
			if !strings.HasPrefix(strings.TrimSpace(line), "#") {
				set[m[1]] = true
			}
		}
	}
	return bad
}

// Every Microsoft sign-in method prints the setup of the identity it signs in as: an app
// registration and its credential, the managed identity's own service principal (never a new
// app registration), or a person's roles; the Power Platform registration and the Dataverse
// user name that identity; no command uses a variable nothing set.
func TestBootstrapEachMicrosoftMethod(t *testing.T) {
	for _, tc := range []struct {
		method    string
		want, not []string
	}{
		{"client_secret", []string{`APP_ID=$(az ad app create`, `az ad app credential reset --id "$APP_ID" --append`, `--application-id "$APP_ID"`, `--user "$APP_ID" --role "System Administrator" --application-user`, `az ad app permission admin-consent`},
			[]string{"MI_", "signed-in-user"}},
		{"environment", []string{`az ad app credential reset`, `--application-id "$APP_ID"`}, []string{"MI_"}},
		{"client_certificate", []string{`--cert @c4sctl.crt`, `AZURE_CLIENT_CERTIFICATE_PATH`}, []string{"credential reset --id \"$APP_ID\" --append --display-name", "MI_"}},
		{"workload_identity", []string{`az ad app federated-credential create --id "$APP_ID"`}, []string{"credential reset", "MI_"}},
		{"managed_identity", []string{`MI_SP_ID=$(az vm identity show`, `MI_APP_ID=$(az ad sp show --id "$MI_SP_ID" --query appId`, `servicePrincipals/$MI_SP_ID/appRoleAssignments`,
			`"principalId\":\"$MI_SP_ID\"`, `--application-id "$MI_APP_ID"`, `--user "$MI_APP_ID" --role "System Administrator" --application-user`, `az identity show --name`},
			[]string{"az ad app create", "az ad app permission", "credential reset", "APP_ID=$(az ad app", `"$APP_ID"`}},
		{"azure_cli", []string{`az ad signed-in-user show --query id`, `11648597-926c-4cf3-9c36-bcebb0ba8dcc`, `--user "$(az ad signed-in-user show --query userPrincipalName -o tsv)" --role "System Administrator"`},
			[]string{"az ad app create", "--application-user", "pac admin application register", "$APP_ID"}},
		{"device_code", []string{`az ad signed-in-user show`, "default public client"}, []string{"az ad app create", "--application-user", "$APP_ID"}},
	} {
		t.Run(tc.method, func(t *testing.T) {
			out := write(quickstart(map[string]string{"microsoft365": tc.method, "teams": tc.method, "powerplatform": tc.method}, nil))
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("lacks %q:\n%s", w, out)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(out, n) {
					t.Errorf("has %q:\n%s", n, out)
				}
			}
			if bad := usedBeforeSet(out); len(bad) > 0 {
				t.Errorf("variables used before they are set: %q\n%s", bad, out)
			}
		})
	}
}

// One provider block on a managed identity and the others on an app registration: the managed
// identity is what Power Platform registers and Dataverse adds (the issue: bootstrap printed the
// app registration's commands for it), each identity gets only its own providers' needs, and a
// user-assigned identity's client_id is used as given.
func TestBootstrapManagedIdentityBesideAnApp(t *testing.T) {
	const mi = "7c1e4f2a-0b1d-4c8e-9a55-3d2f6b7e8a90"
	out := write(quickstart(map[string]string{"microsoft365": "client_secret", "teams": "client_secret", "powerplatform": "managed_identity"}, map[string]string{"powerplatform": mi}))
	for _, w := range []string{
		"MI_APP_ID=" + mi, `MI_SP_ID=$(az ad sp show --id "$MI_APP_ID" --query id -o tsv)`,
		`pac admin application register --application-id "$MI_APP_ID"`,
		`pac admin assign-user --environment ENVIRONMENT_ID --user "$MI_APP_ID" --role "System Administrator" --application-user`,
		`APP_ID=$(az ad app create`, // microsoft365 and teams still need their app registration
	} {
		if !strings.Contains(out, w) {
			t.Errorf("lacks %q:\n%s", w, out)
		}
	}
	for _, n := range []string{`--application-id "$APP_ID"`, `--user "$APP_ID"`, "az vm identity show"} {
		if strings.Contains(out, n) {
			t.Errorf("has %q:\n%s", n, out)
		}
	}
	// The managed identity (powerplatform) needs no Graph permission or Teams role of the others.
	miPart := out[strings.Index(out, `auth = "managed_identity"`):strings.Index(out, "# 2.")]
	if strings.Contains(miPart, "appRoleAssignments") || strings.Contains(miPart, "roleAssignments") {
		t.Errorf("the managed identity is given the app registration's permissions:\n%s", miPart)
	}
	if bad := usedBeforeSet(out); len(bad) > 0 {
		t.Errorf("variables used before they are set: %q", bad)
	}
}

// Salesforce: sf_cli uses the target_org the configuration names (or the CLI's default org) and
// assigns the permission set to that org's own user; no mode names a user of its own invention.
func TestBootstrapSalesforceNamesOnlyWhatTheConfigurationGives(t *testing.T) {
	for _, tc := range []struct {
		name      string
		in        func(*Input)
		want, not []string
	}{
		{"sf_cli alias", func(in *Input) { in.Auth["salesforce"] = "sf_cli"; in.SalesforceTargetOrg = "prod-admin" },
			[]string{"--alias prod-admin", "sf data create record --target-org prod-admin", "sf org assign permset --target-org prod-admin --name C4sctl_Deployer   #"},
			[]string{"c4sctl-admin", "--on-behalf-of", "@"}},
		{"sf_cli username", func(in *Input) { in.Auth["salesforce"] = "sf_cli"; in.SalesforceTargetOrg = "admin@contoso.com" },
			[]string{"--target-org admin@contoso.com", `target_org = "admin@contoso.com"`}, []string{"c4sctl-admin", "--on-behalf-of", "--alias"}},
		{"sf_cli default org", func(in *Input) { in.Auth["salesforce"] = "sf_cli" },
			[]string{"--set-default", "sf config get target-org", "sf org assign permset --name C4sctl_Deployer"}, []string{"--target-org", "c4sctl-admin", "--on-behalf-of"}},
		{"jwt_bearer with username", func(in *Input) {
			in.Auth["salesforce"] = "jwt_bearer"
			in.SalesforceUsername = "c4s-deployer@contoso.com"
		},
			[]string{"--on-behalf-of c4s-deployer@contoso.com", "SF_USERNAME=c4s-deployer@contoso.com"}, []string{"INTEGRATION_USERNAME", "MYDOMAIN.example"}},
		{"jwt_bearer without username", func(in *Input) { in.Auth["salesforce"] = "jwt_bearer" },
			[]string{"substitute its user name for INTEGRATION_USERNAME", "--on-behalf-of INTEGRATION_USERNAME"}, []string{"MYDOMAIN.example"}},
		{"access_token", func(in *Input) { in.Auth["salesforce"] = "access_token" },
			[]string{"sf org assign permset --target-org c4sctl-admin --name C4sctl_Deployer   #", "sf org display --target-org c4sctl-admin"},
			[]string{"--on-behalf-of", "USERNAME", "New User"}},
		{"client_credentials", func(in *Input) { in.Auth["salesforce"] = "client_credentials" },
			[]string{"substitute its user name for RUN_AS_USERNAME", "--on-behalf-of RUN_AS_USERNAME", "Run As = RUN_AS_USERNAME"}, []string{"MYDOMAIN.example"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := quickstart(map[string]string{}, nil)
			tc.in(&in)
			out := write(in)
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("lacks %q:\n%s", w, out)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(out, n) {
					t.Errorf("has %q:\n%s", n, out)
				}
			}
		})
	}
}

// Values from the configuration reach the printed commands as single shell words: a tenant_id,
// client_id, instance_url, username or target_org holding $(...), quotes, ; or a line break runs
// nothing when the admin pastes the commands.
func TestBootstrapQuotesConfigurationValuesForTheShell(t *testing.T) {
	evil := "x$(touch /tmp/pwned);y'z\"\nrm -rf ~"
	for _, sfAuth := range []string{"jwt_bearer", "sf_cli"} {
		in := quickstart(map[string]string{"teams": "client_secret", "microsoft365": "managed_identity", "powerplatform": "client_secret", "salesforce": sfAuth},
			map[string]string{"teams": evil, "microsoft365": evil})
		in.TenantID, in.SalesforceInstance, in.SalesforceUsername, in.SalesforceTargetOrg = evil, evil, evil, evil
		out := write(in)
		if strings.Contains(out, "\nrm -rf") {
			t.Errorf("%s: a line break in a value started a line:\n%s", sfAuth, out)
		}
		for _, line := range strings.Split(out, "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "#") || !strings.Contains(line, "touch /tmp/pwned") {
				continue
			}
			if !strings.Contains(line, `'x$(touch /tmp/pwned);y'\''z"rm -rf ~'`) {
				t.Errorf("%s: a value reaches a command unquoted: %s", sfAuth, line)
			}
		}
	}
	if got := shellWord("00000000-0000-0000-0000-000000000000"); got != "00000000-0000-0000-0000-000000000000" {
		t.Errorf("a plain value is quoted: %s", got)
	}
	if got := shellWord("https://contoso.my.salesforce.com"); got != "https://contoso.my.salesforce.com" {
		t.Errorf("a plain URL is quoted: %s", got)
	}
}

// azure_cli with the block's client_id is a service principal signed in to the Azure CLI (the
// GitHub Actions example's azure/login): bootstrap sets up that app registration (Graph
// application permissions, admin consent, the Teams Administrator role on its service
// principal, federation, the Power Platform registration and the Dataverse application user),
// not the roles of whoever runs the script; without client_id it is still a person.
func TestBootstrapAzureCLIServicePrincipal(t *testing.T) {
	const app = "0f2e4c6a-8b1d-4e3f-9a5c-7d6e8f0a1b2c"
	all := map[string]string{"microsoft365": "azure_cli", "teams": "azure_cli", "powerplatform": "azure_cli"}
	out := write(quickstart(all, map[string]string{"microsoft365": app, "teams": app, "powerplatform": app}))
	for _, w := range []string{
		"APP_ID=" + app, `az ad app permission admin-consent --id "$APP_ID"`,
		`"principalId\":\"$SP_ID\",\"roleDefinitionId\":\"69091246-20e8-4a56-aa4d-066075b2a7a8\"`,
		`az ad app federated-credential create --id "$APP_ID"`, "azure/login with client-id $APP_ID",
		`pac admin application register --application-id "$APP_ID"`,
		`--user "$APP_ID" --role "System Administrator" --application-user`,
	} {
		if !strings.Contains(out, w) {
			t.Errorf("lacks %q:\n%s", w, out)
		}
	}
	for _, n := range []string{"signed-in-user", "A person signs in", "az ad app create", "credential reset"} {
		if strings.Contains(out, n) {
			t.Errorf("has %q:\n%s", n, out)
		}
	}
	if bad := usedBeforeSet(out); len(bad) > 0 {
		t.Errorf("variables used before they are set: %q", bad)
	}
	if out := write(quickstart(all, nil)); !strings.Contains(out, "A person signs in") || strings.Contains(out, "az ad app federated-credential") {
		t.Errorf("azure_cli without client_id is not a person's setup:\n%s", out)
	}
}
