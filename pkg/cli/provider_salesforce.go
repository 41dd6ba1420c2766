package cli

import (
	"fmt"
	"strings"

	"github.com/c4sctl/c4sctl/pkg/sandbox/salesforceapi"
	"github.com/spf13/cobra"
)

// newSandboxSalesforceCmd changes the sandbox org by hand, as an admin would in Setup: install the
// connected app (guide step 6 has no API for it) or change one of its policies.
func newSandboxSalesforceCmd(g *Globals) *cobra.Command {
	cmd := &cobra.Command{Use: "salesforce", Short: "Change the sandbox Salesforce org by hand (install the connected app, change a policy)"}
	withOrg := func(fn func(*salesforceapi.Service) error) error {
		sb, svc, err := sandboxService[*salesforceapi.Service](g, "salesforce", "Salesforce")
		if err != nil {
			return err
		}
		return sb.Mutate(func() error { return fn(svc) })
	}
	install := &cobra.Command{
		Use:   "install-app [NAME]",
		Short: "Do what Setup > Connected Apps OAuth Usage > Install does (default: Microsoft Power Platform)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			name := salesforceapi.PowerPlatformApp
			if len(args) == 1 {
				name = args[0]
			}
			if err := withOrg(func(s *salesforceapi.Service) error { return s.InstallConnectedApp(name) }); err != nil {
				return err
			}
			fmt.Fprintf(g.Stdout, "The connected app %q is installed in the sandbox org with Salesforce's defaults (all users may self-authorize, IP restrictions enforced, refresh token valid until revoked, no session timeout).\n", name)
			return nil
		},
	}
	var app string
	setPolicy := &cobra.Command{
		Use:   "set-policy POLICY VALUE",
		Short: "Change a policy of the installed app: permitted_users, ip_relaxation (ENFORCE, BYPASS, ...), refresh_token_policy (infinite, zero, specific_lifetime:N:DAYS, ...) or session_timeout (minutes, 0 = none)",
		Args:  cobra.ExactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			if err := withOrg(func(s *salesforceapi.Service) error { return s.SetPolicy(app, args[0], args[1]) }); err != nil {
				return err
			}
			fmt.Fprintf(g.Stdout, "%s of %q is now %s in the sandbox org.\n", args[0], app, args[1])
			return nil
		},
	}
	setPolicy.Flags().StringVar(&app, "app", salesforceapi.PowerPlatformApp, "connected app name")
	setLanguage := &cobra.Command{
		Use:   "set-language LANGUAGE",
		Short: "Set the language of the user the API signs in as: en or de (standard profiles' names are then answered in German, as Salesforce translates them)",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			if err := withOrg(func(s *salesforceapi.Service) error { return s.SetLanguage(args[0]) }); err != nil {
				return err
			}
			fmt.Fprintf(g.Stdout, "The sandbox org's API user now reads %s: profile names in answers and in Profile.Name filters are in that language.\n", args[0])
			return nil
		},
	}
	var active bool
	var fedID, profile string
	editUser := &cobra.Command{
		Use:   "edit-user USERNAME [--active true|false] [--federation-id ID] [--profile NAME]",
		Short: "Do what Setup > Users > Edit does for one user: reactivate or deactivate them, set their Federation ID, change their profile",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var e salesforceapi.UserEdit
			var what []string
			if cmd.Flags().Changed("active") {
				e.Active = &active
				what = append(what, fmt.Sprintf("active %t", active))
			}
			if cmd.Flags().Changed("federation-id") {
				e.FederationID = &fedID
				what = append(what, fmt.Sprintf("Federation ID %q", fedID))
			}
			if cmd.Flags().Changed("profile") {
				if profile == "" {
					return fmt.Errorf("--profile: give a profile name, e.g. \"Standard User\"")
				}
				e.Profile = profile
				what = append(what, fmt.Sprintf("profile %q", profile))
			}
			if len(what) == 0 {
				return fmt.Errorf("nothing to change: give --active, --federation-id or --profile")
			}
			if err := withOrg(func(s *salesforceapi.Service) error { return s.EditUser(args[0], e) }); err != nil {
				return err
			}
			fmt.Fprintf(g.Stdout, "The sandbox org's user %s now has %s.\n", args[0], strings.Join(what, ", "))
			return nil
		},
	}
	editUser.Flags().BoolVar(&active, "active", true, "the user is active (Setup > Users > Edit > Active)")
	editUser.Flags().StringVar(&fedID, "federation-id", "", "Single Sign On Information > Federation ID (\"\" clears it)")
	editUser.Flags().StringVar(&profile, "profile", "", "the user's profile, e.g. \"Standard User\"")
	cmd.AddCommand(install, setPolicy, setLanguage, editUser)
	return cmd
}
