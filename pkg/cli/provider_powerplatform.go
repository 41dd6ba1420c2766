package cli

import (
	"fmt"

	"github.com/c4sctl/c4sctl/pkg/sandbox"
	"github.com/c4sctl/c4sctl/pkg/sandbox/powerplatformapi"
	"github.com/spf13/cobra"
)

// sandboxBAP returns the sandbox and its Power Platform admin (bap) service, which the hand-made
// Power Platform changes below act on; one place says what a sandbox without it answers.
func sandboxBAP(g *Globals) (*sandbox.Server, *powerplatformapi.BAPService, error) {
	return sandboxService[*powerplatformapi.BAPService](g, "bap", "the Power Platform admin API")
}

// newSandboxDataverseCmd changes the sandbox's Dataverse by hand, as an admin does in the Power
// Platform admin centre.
func newSandboxDataverseCmd(g *Globals) *cobra.Command {
	cmd := &cobra.Command{Use: "dataverse", Short: "Change the sandbox's Dataverse environments by hand (as an admin in the Power Platform admin centre)"}
	cmd.AddCommand(&cobra.Command{
		Use:   "add-app-user [CLIENT_ID]",
		Short: "Add an app (default: the sandbox's c4sctl app) as an application user of msdyn_viva with System Administrator",
		Long: "Does what an admin does in the Power Platform admin centre: Environments > msdyn_viva > Settings > Users + permissions > Application users > New app user, " +
			"security role System Administrator. Until then Dataverse answers the app 403 (0x80072560, \"The user is not a member of the organization.\").",
		Args: cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			sb, svc, err := sandboxBAP(g)
			if err != nil {
				return err
			}
			app := sandbox.ClientID
			if len(args) == 1 {
				app = args[0]
			}
			if err := sb.Mutate(func() error { return svc.API().AddAppUser(powerplatformapi.VivaUniqueName, app) }); err != nil {
				return err
			}
			fmt.Fprintf(g.Stdout, "The app %s is an application user of %s with System Administrator.\n", app, powerplatformapi.VivaUniqueName)
			return nil
		},
	})
	return cmd
}

// newSandboxSignInCmd simulates the first Copilot for Sales sign-in (guide step 7), which creates
// the msdyn_viva environment in the sandbox.
func newSandboxSignInCmd(g *Globals) *cobra.Command {
	return &cobra.Command{
		Use:   "sign-in USER",
		Short: "Simulate a seller's first Copilot for Sales sign-in, which creates msdyn_viva (guide step 7)",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			sb, svc, err := sandboxBAP(g)
			if err != nil {
				return err
			}
			existed := false
			if err := sb.Mutate(func() error {
				existed = svc.API().Org(powerplatformapi.VivaUniqueName) != nil
				return svc.SignIn(args[0])
			}); err != nil {
				return err
			}
			if existed {
				fmt.Fprintf(g.Stdout, "%s signed in to Copilot for Sales; msdyn_viva already existed.\n", args[0])
			} else {
				fmt.Fprintf(g.Stdout, "%s signed in to Copilot for Sales: the msdyn_viva environment was created; every global admin and Power Platform admin holds System Administrator in it. c4sctl's app is not an application user of it yet (%s).\n", args[0], g.command("sandbox", "dataverse", "add-app-user"))
			}
			return nil
		},
	}
}
