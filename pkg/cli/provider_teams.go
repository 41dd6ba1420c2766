package cli

import (
	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/providers/teams"
	"github.com/c4sctl/c4sctl/pkg/sandbox"
	"github.com/c4sctl/c4sctl/pkg/sandbox/teamsapi"
)

func init() {
	builtinProviders = append(builtinProviders, func() providers.Provider { return teams.New() })
	sandboxServices = append(sandboxServices, func() sandbox.Service { return teamsapi.New() })
}
