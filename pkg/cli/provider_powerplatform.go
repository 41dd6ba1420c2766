package cli

import (
	"fmt"

	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/providers/powerplatform"
	"github.com/c4sctl/c4sctl/pkg/sandbox"
	"github.com/c4sctl/c4sctl/pkg/sandbox/powerplatformapi"
	"github.com/spf13/cobra"
)

func init() {
	builtinProviders = append(builtinProviders, func() providers.Provider { return powerplatform.New() })
	// The dataverse service shares the tenant of the bap service mounted in the same sandbox.
	sandboxServices = append(sandboxServices,
		func() sandbox.Service { return powerplatformapi.NewBAP() },
		func() sandbox.Service { return powerplatformapi.NewDataverse() })
	extraSandboxCommands = append(extraSandboxCommands, newSandboxSignInCmd)
}

// newSandboxSignInCmd simulates the first Copilot for Sales sign-in (guide step 7), which creates
// the msdyn_viva environment in the sandbox.
func newSandboxSignInCmd(g *Globals) *cobra.Command {
	return &cobra.Command{
		Use:   "sign-in USER",
		Short: "Simulate a seller's first Copilot for Sales sign-in, which creates msdyn_viva (guide step 7)",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			sb, err := g.SandboxServer()
			if err != nil {
				return err
			}
			svc, ok := sb.Service("bap").(*powerplatformapi.BAPService)
			if !ok {
				return fmt.Errorf("this sandbox does not serve the Power Platform admin API")
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
				fmt.Fprintf(g.Stdout, "%s signed in to Copilot for Sales: the msdyn_viva environment was created; every global admin and Power Platform admin holds System Administrator in it.\n", args[0])
			}
			return nil
		},
	}
}
