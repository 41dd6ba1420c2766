package cli

import (
	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/sandbox"
	"github.com/spf13/cobra"
)

// Each provider family plugs itself in from its own file (provider_<name>.go) with an init that
// appends here, so that adding a provider never edits a shared file.
var (
	// builtinProviders construct the providers this binary knows.
	builtinProviders []func() providers.Provider
	// sandboxServices construct the emulated APIs `--sandbox` and `c4sctl sandbox` serve.
	sandboxServices []func() sandbox.Service
	// extraCommands construct top-level commands contributed by provider families
	// (preflight, welcome) and sandbox subcommands (sandbox sign-in).
	extraCommands        []func(*Globals) *cobra.Command
	extraSandboxCommands []func(*Globals) *cobra.Command
)
