package cli

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/c4sctl/c4sctl/pkg/sandbox"
	"github.com/c4sctl/c4sctl/pkg/sandbox/graphapi"
	"github.com/c4sctl/c4sctl/pkg/sandbox/teamsapi"
	"github.com/spf13/cobra"
)

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
			_, svc, err := sandboxService[*teamsapi.Service](g, "teams", "the Teams policy API")
			if err != nil {
				return err
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
	var group, user string
	var rank int
	assign := &cobra.Command{
		Use:   "assign POLICY_TYPE POLICY_NAME (--group NAME [--rank N] | --user UPN)",
		Short: "Assign a Teams policy to a group or a user by hand, e.g. `assign TeamsMeetingPolicy AllOff --group Sellers --rank 1`",
		Long: `Assign a Teams policy in the sandbox as an admin would in the Teams admin center.

--group NAME (display name or object id) [--rank N] is a group policy assignment
(New-CsGroupPolicyAssignment; rank 1 = highest among the type's group assignments, no --rank =
last; --rank 0 is refused: Teams ranks start at 1);
a group that already has an assignment of that type is changed (Set-CsGroupPolicyAssignment).
--user UPN is a direct assignment (Grant-CsTeamsMeetingPolicy -Identity UPN -PolicyName NAME),
which wins over every group assignment; POLICY_NAME Global removes it.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if (group == "") == (user == "") {
				return fmt.Errorf("give exactly one of --group NAME or --user UPN")
			}
			// Teams ranks start at 1, the highest (New-CsGroupPolicyAssignment -Rank, Learn: "converted
			// into sequential values 1, 2, 3, etc. with 1 being the highest rank"); without --rank
			// the assignment goes last. --rank 0 is no rank Teams has: refused, not taken as "last".
			rankSet := cmd.Flags().Changed("rank")
			if rankSet && rank < 1 {
				return fmt.Errorf("--rank %d: a rank is a whole number from 1 (the highest); leave --rank out to rank the assignment last", rank)
			}
			sb, svc, err := sandboxService[*teamsapi.Service](g, "teams", "the Teams policy API")
			if err != nil {
				return err
			}
			if user != "" {
				if rankSet {
					return fmt.Errorf("--rank applies to group assignments only")
				}
				if err := sandboxUserExists(sb, user); err != nil {
					return err
				}
				if err := svc.AssignUser(user, args[0], args[1]); err != nil {
					return err
				}
				fmt.Fprintf(g.Stdout, "%s %s assigned directly to %s in the sandbox.\n", args[0], args[1], user)
				return nil
			}
			gid, err := sandboxGroupID(sb, group)
			if err != nil {
				return err
			}
			if err := svc.SetGroupAssignment(gid, args[0], args[1], rank); err != nil {
				return err
			}
			for _, a := range svc.GroupAssignments(args[0]) {
				if strings.EqualFold(a.GroupID, gid) {
					fmt.Fprintf(g.Stdout, "%s %s assigned to group %s (%s) at rank %d in the sandbox.\n", a.PolicyType, a.PolicyName, group, gid, a.Priority)
				}
			}
			return nil
		},
	}
	assign.Flags().StringVar(&group, "group", "", "group display name or object id")
	assign.Flags().IntVar(&rank, "rank", 0, "rank among the policy type's group assignments, from 1 (the highest); left out: last")
	assign.Flags().StringVar(&user, "user", "", "user principal name (direct assignment)")
	cmd.AddCommand(assign)
	var unblock bool
	var availableTo string
	blockApp := &cobra.Command{
		Use:   "block-app [TEAMS_APP_ID]",
		Short: "Block the Copilot for Sales app (or another Teams app) by hand, as in Teams admin center > Teams apps > Manage apps",
		Long: `Block a Teams app in the sandbox as an admin would in the Teams admin center (Teams apps >
Manage apps > the app > Actions > Block), or change who it is available to (--available-to
none|some|all: Users and groups > Edit availability > No one / Specific users or groups /
Everyone). The state is the app's Copilot package (isBlocked, availableTo), which app-centric
management shares with the Microsoft 365 admin center. TEAMS_APP_ID defaults to the Copilot for
Sales app; --unblock allows it again.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			appID := graphapi.SalesAppID
			if len(args) == 1 {
				appID = args[0]
			}
			switch availableTo {
			case "", "none", "some", "all":
			default:
				return fmt.Errorf("--available-to %q: use none, some or all", availableTo)
			}
			sb, gs, err := sandboxService[*graphapi.Service](g, "graph", "Microsoft Graph")
			if err != nil {
				return err
			}
			var name string
			err = sb.Mutate(func() error {
				for _, p := range gs.Tenant().Packages {
					if strings.EqualFold(p.AppID, appID) {
						p.IsBlocked = !unblock
						if availableTo != "" {
							p.AvailableTo = availableTo
						}
						name = p.DisplayName
						return nil
					}
				}
				return fmt.Errorf("no Copilot package of the sandbox has Teams app id %q", appID)
			})
			if err != nil {
				return err
			}
			state := "blocked"
			if unblock {
				state = "allowed (unblocked)"
			}
			fmt.Fprintf(g.Stdout, "%s (%s) %s in the sandbox.\n", name, appID, state)
			return nil
		},
	}
	blockApp.Flags().BoolVar(&unblock, "unblock", false, "allow the app again instead of blocking it")
	blockApp.Flags().StringVar(&availableTo, "available-to", "", "also set who the app is available to: none, some or all")
	cmd.AddCommand(blockApp)
	cmd.AddCommand(&cobra.Command{
		Use:   "user-configurations on|off",
		Short: "Turn Graph's Teams user configurations (per-user effective policies) on or off",
		Long: `Turn Microsoft Graph's GET /admin/teams/userConfigurations on or off in the sandbox. Off, it
answers 403 as for an app without TeamsUserConfiguration.Read.All, and seller coverage is
computed from the group policy assignments (direct user assignments are then not seen).`,
		Args:      cobra.ExactArgs(1),
		ValidArgs: []string{"on", "off"},
		RunE: func(_ *cobra.Command, args []string) error {
			if args[0] != "on" && args[0] != "off" {
				return fmt.Errorf("%q: use on or off", args[0])
			}
			sb, gs, err := sandboxService[*graphapi.Service](g, "graph", "Microsoft Graph")
			if err != nil {
				return err
			}
			if err := sb.Mutate(func() error { gs.SetUserConfigurationsAvailable(args[0] == "on"); return nil }); err != nil {
				return err
			}
			fmt.Fprintf(g.Stdout, "Graph Teams user configurations %s in the sandbox.\n", args[0])
			return nil
		},
	})
	return cmd
}

// sandboxGroupID resolves a sandbox group by object id or display name (exactly one).
// sandboxUserExists refuses a UPN the sandbox tenant has no user for, as Grant-Cs<PolicyType>
// -Identity does for an unknown user: a direct assignment to nobody would count for no seller.
func sandboxUserExists(sb *sandbox.Server, upn string) error {
	gs, ok := sb.Service("graph").(*graphapi.Service)
	if !ok {
		return fmt.Errorf("this sandbox does not serve Microsoft Graph; cannot find user %q", upn)
	}
	found := false
	sb.View(func() {
		for _, u := range gs.Tenant().Users {
			if strings.EqualFold(u.UPN, strings.TrimSpace(upn)) {
				found = true
				return
			}
		}
	})
	if !found {
		return fmt.Errorf("the sandbox has no user %q (user principal name)", upn)
	}
	return nil
}

func sandboxGroupID(sb *sandbox.Server, ref string) (string, error) {
	gs, ok := sb.Service("graph").(*graphapi.Service)
	if !ok {
		return "", fmt.Errorf("this sandbox does not serve Microsoft Graph; cannot find group %q", ref)
	}
	// An object id names one group. A display name is matched without case, as an admin types it
	// (Entra compares display names without case: $filter=displayName eq 'sellers' finds
	// "Sellers"), and display names are not unique: several matches are an error naming them.
	// The matches by name keep their ids apart from how they are printed: a display name may
	// itself hold " (" ("Sales (EMEA)"), and the id was cut out of the printed form.
	var byID, byName, nameIDs []string
	sb.View(func() {
		for _, grp := range gs.Tenant().Groups {
			switch {
			case strings.EqualFold(grp.ID, ref):
				byID = append(byID, grp.ID)
			case strings.EqualFold(grp.DisplayName, ref):
				byName = append(byName, fmt.Sprintf("%q (%s)", grp.DisplayName, grp.ID))
				nameIDs = append(nameIDs, grp.ID)
			}
		}
	})
	if len(byID) == 1 {
		return byID[0], nil
	}
	switch len(byName) {
	case 1:
		return nameIDs[0], nil
	case 0:
		return "", fmt.Errorf("the sandbox has no group %q (display name or object id)", ref)
	}
	return "", fmt.Errorf("%d sandbox groups are named %q, compared without case: %s; give the object id", len(byName), ref, strings.Join(byName, ", "))
}
