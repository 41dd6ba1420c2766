package cli

import (
	"encoding/json"
	"fmt"

	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/providers/teams"
	"github.com/c4sctl/c4sctl/pkg/sandbox"
	"github.com/c4sctl/c4sctl/pkg/sandbox/teamsapi"
	"github.com/spf13/cobra"
)

func init() {
	builtinProviders = append(builtinProviders, func() providers.Provider { return teams.New() })
	sandboxServices = append(sandboxServices, func() sandbox.Service { return teamsapi.New() })
	extraSandboxCommands = append(extraSandboxCommands, newSandboxTeamsCmd)
}

// newSandboxTeamsCmd changes a Teams policy "by hand", as an admin in the Teams admin center
// would: the next plan shows it as changed outside c4sctl.
func newSandboxTeamsCmd(g *Globals) *cobra.Command {
	cmd := &cobra.Command{Use: "teams", Short: "Change the sandbox's Teams policies by hand"}
	cmd.AddCommand(&cobra.Command{
		Use:   "set POLICY_TYPE IDENTITY SETTING VALUE",
		Short: "Set one setting of a Teams policy, e.g. `set TeamsMeetingPolicy Global AllowTranscription false`",
		Long: `Set one setting of a Teams policy in the sandbox, as an admin would in the Teams admin center.
POLICY_TYPE is TeamsMeetingPolicy or TeamsAppSetupPolicy; VALUE is JSON (true, false, "text",
[{"Id":"..."}]), or plain text for a string.`,
		Args: cobra.ExactArgs(4),
		RunE: func(_ *cobra.Command, args []string) error {
			sb, err := g.SandboxServer()
			if err != nil {
				return err
			}
			svc, ok := sb.Service("teams").(*teamsapi.Service)
			if !ok {
				return fmt.Errorf("this sandbox does not serve the Teams policy API")
			}
			var value any
			if err := json.Unmarshal([]byte(args[3]), &value); err != nil {
				value = args[3]
			}
			if err := svc.SetPolicyField(args[0], args[1], args[2], value); err != nil {
				return err
			}
			fmt.Fprintf(g.Stdout, "%s %s: %s set to %s in the sandbox.\n", args[0], args[1], args[2], args[3])
			return nil
		},
	})
	return cmd
}
