package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/c4sctl/c4sctl/pkg/spec"
	"github.com/c4sctl/c4sctl/pkg/state"
	"github.com/c4sctl/c4sctl/pkg/state/azurerm"
)

// WorkspaceEnv selects the workspace when --workspace is not given (Terraform: TF_WORKSPACE).
const WorkspaceEnv = "C4S_WORKSPACE"

// environmentFile holds the workspace chosen by `c4sctl workspace select`, as Terraform keeps
// it in .terraform/environment.
const environmentFile = "environment"

func (g *Globals) getenv(k string) string {
	if g.Getenv == nil {
		return os.Getenv(k)
	}
	return g.Getenv(k)
}

// CurrentWorkspace is the selected workspace: --workspace, else $C4S_WORKSPACE, else the one
// `workspace select` recorded in .c4sctl/environment, else "default".
func (g *Globals) CurrentWorkspace() (string, error) {
	name, from := g.Workspace, "--workspace"
	if name == "" {
		name, from = g.getenv(WorkspaceEnv), WorkspaceEnv
	}
	if name == "" {
		b, err := os.ReadFile(filepath.Join(g.StateDir(), environmentFile))
		if err != nil {
			return state.DefaultWorkspace, nil
		}
		name, from = strings.TrimSpace(string(b)), filepath.Join(g.StateDir(), environmentFile)
	}
	if name == state.DefaultWorkspace {
		return name, nil
	}
	if err := state.ValidWorkspace(name); err != nil {
		return "", fmt.Errorf("%s: %w", from, err)
	}
	return name, nil
}

// Store is where the configuration keeps its states: its backend block's, or local files in
// .c4sctl. Secrets of the azurerm backend come from ARM_ACCESS_KEY / ARM_SAS_TOKEN only.
func (g *Globals) Store() (state.Store, error) {
	if g.store != nil {
		return g.store, nil
	}
	cfg, err := g.LoadConfig()
	if err != nil {
		return nil, err
	}
	st, err := g.storeFor(cfg.Backend)
	if err != nil {
		return nil, err
	}
	g.store = st
	return st, nil
}

func (g *Globals) storeFor(be *spec.Backend) (state.Store, error) {
	if be == nil || be.Type == "local" {
		return &state.LocalStore{Dir: g.StateDir()}, nil
	}
	switch be.Type {
	case "azurerm":
		st, err := azurerm.NewStore(azurerm.Config{
			StorageAccountName: be.String("storage_account_name"),
			ContainerName:      be.String("container_name"),
			Key:                be.String("key"),
			UseAzureADAuth:     be.Bool("use_azuread_auth"),
			Endpoint:           be.String("endpoint"),
			AccessKey:          g.getenv("ARM_ACCESS_KEY"),
			SASToken:           g.getenv("ARM_SAS_TOKEN"),
		})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", be.DeclRange, err)
		}
		return st, nil
	}
	return nil, fmt.Errorf("%s: backend %q is not implemented", be.DeclRange, be.Type)
}

// Backend is the selected workspace's state. A workspace other than default must exist
// (`c4sctl workspace new NAME`), so that a mistyped name does not plan a tenant from scratch.
func (g *Globals) Backend() (state.Backend, error) {
	st, err := g.Store()
	if err != nil {
		return nil, err
	}
	ws, err := g.CurrentWorkspace()
	if err != nil {
		return nil, err
	}
	if ws != state.DefaultWorkspace {
		names, err := st.Workspaces()
		if err != nil {
			return nil, err
		}
		if !slices.Contains(names, ws) {
			if err := state.CaseCollision(names, ws); err != nil {
				return nil, err
			}
			return nil, fmt.Errorf("workspace %q does not exist in %s: create it with `%s` (existing: %s)", ws, st, g.commandWith(hintDir, "workspace", "new", ws), strings.Join(names, ", "))
		}
	}
	return st.Workspace(ws)
}

// lock takes b's lock for operation, waiting up to --lock-timeout for another run to finish.
func (g *Globals) lock(b state.Backend, operation string) (func() error, error) {
	poll := time.Second
	if g.LockTimeout > 0 && g.LockTimeout < 10*time.Second {
		poll = g.LockTimeout / 10
	}
	return state.LockWait(b, operation, Version, g.LockTimeout, poll)
}

// lockedBackend opens the selected workspace's state and locks it.
func (g *Globals) lockedBackend(operation string) (state.Backend, func() error, error) {
	b, err := g.Backend()
	if err != nil {
		return nil, nil, err
	}
	unlock, err := g.lock(b, operation)
	if err != nil {
		return nil, nil, err
	}
	return b, unlock, nil
}

// lockedState locks the selected workspace's state and loads it, for the commands that may write
// it (state rm, state mv, import, and plan, apply and drift through openSession): the state must be
// read under the lock it is written under. When loading fails the lock is released here;
// otherwise the caller unlocks.
func (g *Globals) lockedState(operation string) (state.Backend, *state.State, func() error, error) {
	b, unlock, err := g.lockedBackend(operation)
	if err != nil {
		return nil, nil, nil, err
	}
	st, err := b.Load()
	if err != nil {
		_ = unlock()
		return nil, nil, nil, err
	}
	return b, st, unlock, nil
}
