package cli

import "github.com/c4sctl/c4sctl/pkg/sandbox"

// SandboxServices returns fresh instances of the emulated APIs that --sandbox and `c4sctl
// sandbox serve` mount (one per provider family), for tests that start a standalone sandbox
// with sandbox.Start.
func SandboxServices() []sandbox.Service {
	return newSandboxServices()
}
