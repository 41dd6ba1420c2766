package cli

import (
	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/providers/m365"
	"github.com/c4sctl/c4sctl/pkg/providers/powerplatform"
	"github.com/c4sctl/c4sctl/pkg/providers/salesforce"
	"github.com/c4sctl/c4sctl/pkg/providers/teams"
	"github.com/c4sctl/c4sctl/pkg/sandbox"
	"github.com/c4sctl/c4sctl/pkg/sandbox/graphapi"
	"github.com/c4sctl/c4sctl/pkg/sandbox/powerplatformapi"
	"github.com/c4sctl/c4sctl/pkg/sandbox/salesforceapi"
	"github.com/c4sctl/c4sctl/pkg/sandbox/teamsapi"
	"github.com/spf13/cobra"
)

// The providers, emulated services and commands of this binary are listed here and in NewRoot,
// explicitly (as cli/cli does), rather than appended by init functions: what the binary contains
// is read in one place, and no package-level list can be changed behind a test's back.

// builtinProviders returns fresh instances of the providers this binary knows, in the order
// generated documents list them.
func builtinProviders() []providers.Provider {
	return []providers.Provider{m365.New(), powerplatform.New(), salesforce.New(), teams.New()}
}

// newSandboxServices returns fresh instances of the emulated APIs `--sandbox` and `c4sctl
// sandbox` serve. The dataverse service shares the tenant of the bap service mounted in the same
// sandbox.
func newSandboxServices() []sandbox.Service {
	return []sandbox.Service{
		graphapi.New(),
		powerplatformapi.NewBAP(),
		powerplatformapi.NewDataverse(),
		salesforceapi.New(),
		teamsapi.New(),
	}
}

// commandFactories lists the top-level commands of NewRoot, in help order.
func commandFactories() []func(*Globals) *cobra.Command {
	return []func(*Globals) *cobra.Command{
		newValidateCmd, newFmtCmd, newPlanCmd, newApplyCmd, newDestroyCmd, newOutputCmd,
		newStateCmd, newForceUnlockCmd, newSchemaCmd, newVersionCmd, newSandboxCmd,
		newCompletionCmd, newExportCmd, newImportCmd,
		newDriftCmd, newHistoryCmd, newReportCmd, newShowCmd, newStatusCmd, newWorkspaceCmd,
		newPreflightCmd, newWelcomeCmd, newBootstrapCmd,
	}
}

// sandboxSubcommandFactories lists the provider families' `c4sctl sandbox` subcommands that
// change the sandbox by hand.
func sandboxSubcommandFactories() []func(*Globals) *cobra.Command {
	return []func(*Globals) *cobra.Command{
		newSandboxSignInCmd, newSandboxDataverseCmd, newSandboxSalesforceCmd, newSandboxTeamsCmd,
	}
}
