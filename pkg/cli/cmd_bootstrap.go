package cli

import (
	"errors"
	"strings"

	"github.com/c4sctl/c4sctl/pkg/bootstrap"
	"github.com/c4sctl/c4sctl/pkg/providers/attrs"
	"github.com/c4sctl/c4sctl/pkg/providers/m365"
	"github.com/c4sctl/c4sctl/pkg/spec"
	"github.com/spf13/cobra"
	"github.com/zclconf/go-cty/cty"
)

func newBootstrapCmd(g *Globals) *cobra.Command {
	var check bool
	cmd := &cobra.Command{
		Use:   "bootstrap",
		Short: "Print the az, pac and sf commands (and admin-centre steps) that set up what this configuration needs; --check checks them",
		Long: `bootstrap prints, for the configuration at hand, what the identities c4sctl signs in as need in each
service and the commands that create it: the Microsoft Entra app registration with its Graph
application permissions, admin consent and directory roles (az), the credential for the chosen
auth method, the Power Platform management app registration (pac or one REST call), the
Dataverse application user in msdyn_viva (after guide step 7), and the Salesforce permission set,
integration user and connected app / external client app (sf, Setup where no command exists).
It runs none of them and prints no secret. Values the configuration or the AZURE_* / SF_*
variables hold (tenant, client id, instance URL) are filled in; the rest are placeholders.

--check signs in as the configuration says and checks what it can (the same as c4sctl preflight).
docs/getting-started-real.md walks through the same steps.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if g.Sandbox {
				return errors.New("bootstrap sets up a real tenant and org; the sandbox's app registration and connected app exist already (drop --sandbox, or run c4sctl sandbox serve and c4sctl sandbox env to rehearse against it as a real tenant)")
			}
			if check {
				return runPreflight(cmd.Context(), g)
			}
			in, err := bootstrapInput(g)
			if err != nil {
				return err
			}
			bootstrap.Write(g.Stdout, in)
			return nil
		},
	}
	cmd.Flags().BoolVar(&check, "check", false, "sign in and check what can be checked (as c4sctl preflight)")
	return cmd
}

// bootstrapInput reads the configuration's resource types, each provider block's auth method and
// the identifiers it knows (without needing variables that have no value: those stay placeholders).
func bootstrapInput(g *Globals) (bootstrap.Input, error) {
	cfg, err := g.LoadConfig()
	if err != nil {
		return bootstrap.Input{}, err
	}
	in := bootstrap.Input{Resources: map[string][]string{}, ProviderOf: map[string]string{}, Auth: map[string]string{}, ClientIDs: map[string]string{}}
	for _, r := range sortedResources(cfg) {
		if r.Mode != spec.ManagedResource && r.Mode != spec.DataResource {
			continue
		}
		in.Resources[r.Type] = append(in.Resources[r.Type], r.Addr())
		if r.Schema != nil {
			in.ProviderOf[r.Type] = r.Schema.Provider
		}
	}
	// The seller coverage reads the sellers' effective Teams policies through Microsoft Graph
	// (as preflight checks it: measuresTeamsCoverage).
	var rs []m365.PreflightResource
	for typ := range in.Resources {
		rs = append(rs, m365.PreflightResource{Type: typ})
	}
	if measuresTeamsCoverage(rs) {
		in.Resources[m365.SellerCoverage] = []string{"seller coverage (plan, drift, status)"}
		in.ProviderOf[m365.SellerCoverage] = in.ProviderOf["m365_license_assignment"]
	}
	ev, _ := g.Evaluator()
	reg := g.Registry()
	// A provider is in use when the configuration has a block for it or a resource of it.
	used := map[string]bool{}
	for name := range cfg.Providers {
		used[name] = true
	}
	for _, r := range cfg.Resources {
		if r.Schema != nil {
			used[r.Schema.Provider] = true
		}
	}
	known := func(v cty.Value, name string) string {
		s := attrs.String(v, name)
		if strings.Trim(s, "0-") == "" { // the quickstart's all-zero placeholder ids
			return ""
		}
		return s
	}
	for _, p := range reg.Providers() {
		name := p.Name()
		if !used[name] {
			continue
		}
		v := cty.NullVal(cty.DynamicPseudoType)
		if ev != nil {
			if pv, diags := ev.ProviderConfig(name, p.ConfigSchema()); !diags.HasErrors() {
				v = pv
			}
		}
		auth := attrs.String(v, "auth")
		if auth == "" {
			for _, a := range p.ConfigSchema().Attributes {
				if a.Name == "auth" && a.Default != cty.NilVal {
					auth = a.Default.AsString()
				}
			}
		}
		in.Auth[name] = auth
		switch name {
		case "salesforce":
			in.SalesforceInstance = firstOf(known(v, "instance_url"), g.Getenv("SF_INSTANCE_URL"))
			in.SalesforceUsername = firstOf(known(v, "username"), g.Getenv("SF_USERNAME"))
			in.SalesforceTargetOrg = known(v, "target_org")
		default:
			in.TenantID = firstOf(in.TenantID, known(v, "tenant_id"), g.Getenv("AZURE_TENANT_ID"))
			if auth == "azure_cli" {
				// The Azure CLI ignores AZURE_CLIENT_ID: only a client_id the block names says that
				// the CLI is signed in as that app's service principal (a pipeline's azure/login).
				in.ClientIDs[name] = known(v, "client_id")
			} else {
				in.ClientIDs[name] = firstOf(known(v, "client_id"), g.Getenv("AZURE_CLIENT_ID"))
			}
		}
	}
	return in, nil
}

func firstOf(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
