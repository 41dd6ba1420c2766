package cli

import (
	"github.com/spf13/cobra"
)

const destroyPrompt = "\nDo you really want to destroy all resources?\n  c4sctl will destroy everything shown above; objects that cannot be deleted are only removed\n  from state. There is no undo. Only 'yes' will be accepted to confirm.\n\n  Enter a value: "

func newDestroyCmd(g *Globals) *cobra.Command {
	var f planFlags
	var autoApprove bool
	cmd := &cobra.Command{
		Use:   "destroy",
		Short: "Remove everything the configuration manages",
		Long: `destroy plans the removal of every object in state, shows the plan and, once approved, makes
it, as ` + "`terraform destroy`" + ` does. It is planned exactly as if every resource block had been removed
from the configuration: objects are deleted, dependents first; objects that exist in every tenant
and cannot be deleted (the Global Teams policies, the Copilot for Sales settings, the environment
admins, ...) are removed from state and left as they are ("stop managing"), and the plan says so
for each. ` + "`c4sctl plan --destroy`" + ` prints the same plan without changing anything.

Approval: type "yes" at the prompt, or pass --auto-approve. Without a terminal, --auto-approve is
required. --target and --exclude are not supported with destroy.

Exit codes as apply's.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f.destroy = true
			return planAndApply(cmd.Context(), g, "destroy", &f, autoApprove, destroyPrompt)
		},
	}
	cmd.Flags().IntVar(&f.concurrency, "parallelism", 8, "how many resources are read or changed at once")
	cmd.Flags().BoolVar(&autoApprove, "auto-approve", false, "destroy without asking for confirmation")
	return cmd
}
