package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/c4sctl/c4sctl/pkg/state"
	"github.com/spf13/cobra"
)

func newWorkspaceCmd(g *Globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "workspace",
		Short: "Manage workspaces: one state per workspace (per tenant) under one configuration",
		Long: `A workspace is one state of the configuration: with the azurerm backend the blob KEY (default) or
KEY + "env:" + NAME, locally .c4sctl/state.json or .c4sctl/state.d/NAME/state.json (Terraform's
conventions). The configuration reads the workspace's name as c4sctl.workspace.

The workspace in use is --workspace NAME, else $C4S_WORKSPACE, else the one ` + "`workspace select`" + `
recorded in .c4sctl/environment, else default.`,
	}
	current := func() (state.Store, string, error) {
		st, err := g.Store()
		if err != nil {
			return nil, "", err
		}
		ws, err := g.CurrentWorkspace()
		return st, ws, err
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List the workspaces; * marks the one in use",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, ws, err := current()
			if err != nil {
				return err
			}
			names, err := st.Workspaces()
			if err != nil {
				return err
			}
			for _, n := range names {
				mark := "  "
				if n == ws {
					mark = "* "
				}
				fmt.Fprintln(g.Stdout, mark+n)
			}
			return nil
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "show",
		Short: "Print the name of the workspace in use",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ws, err := g.CurrentWorkspace()
			if err != nil {
				return err
			}
			fmt.Fprintln(g.Stdout, ws)
			return nil
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "new NAME",
		Short: "Create a workspace with an empty state, and select it",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			st, _, err := current()
			if err != nil {
				return err
			}
			if err := state.ValidWorkspace(name); err != nil || name == state.DefaultWorkspace {
				if err == nil {
					err = fmt.Errorf("the default workspace always exists")
				}
				return err
			}
			names, err := st.Workspaces()
			if err != nil {
				return err
			}
			if slices.Contains(names, name) {
				return fmt.Errorf("workspace %q already exists in %s", name, st)
			}
			b, err := g.createWorkspace(st, names, name)
			if err != nil {
				return err
			}
			if err := g.selectWorkspace(name); err != nil {
				return err
			}
			fmt.Fprintf(g.Stdout, "Created and switched to workspace %q (%s).\n", name, b)
			return nil
		},
	})
	var orCreate bool
	sel := &cobra.Command{
		Use:   "select NAME",
		Short: "Use this workspace from now on (recorded in .c4sctl/environment)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			st, _, err := current()
			if err != nil {
				return err
			}
			names, err := st.Workspaces()
			if err != nil {
				return err
			}
			if !slices.Contains(names, name) {
				if err := state.CaseCollision(names, name); err != nil {
					return err
				}
				if !orCreate {
					return fmt.Errorf("workspace %q does not exist in %s; create it with `%s` (existing: %v)", name, st, g.commandWith(hintDir, "workspace", "new", name), names)
				}
				if _, err := g.createWorkspace(st, names, name); err != nil {
					return err
				}
				fmt.Fprintf(g.Stdout, "Created workspace %q.\n", name)
			}
			if err := g.selectWorkspace(name); err != nil {
				return err
			}
			fmt.Fprintf(g.Stdout, "Switched to workspace %q.\n", name)
			return nil
		},
	}
	sel.Flags().BoolVar(&orCreate, "or-create", false, "create the workspace when it does not exist")
	cmd.AddCommand(sel)
	var force bool
	del := &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a workspace's state (refused while it manages resources, unless --force)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			st, ws, err := current()
			if err != nil {
				return err
			}
			if name == ws {
				return fmt.Errorf("workspace %q is in use: select another one first", name)
			}
			if name == state.DefaultWorkspace {
				return fmt.Errorf("the default workspace cannot be deleted")
			}
			b, err := st.Workspace(name)
			if err != nil {
				return err
			}
			unlock, err := g.lock(b, "workspace delete")
			if err != nil {
				return err
			}
			s, err := b.Load()
			uerr := unlock()
			if err != nil {
				return err
			}
			if uerr != nil {
				return uerr
			}
			if len(s.Resources) > 0 && !force {
				return fmt.Errorf("workspace %q still manages %d resource(s) (%s ...): deleting its state would orphan them; destroy them or `state rm` them first, or use --force", name, len(s.Resources), s.Resources[0].Address)
			}
			if err := st.DeleteWorkspace(name); err != nil {
				return err
			}
			fmt.Fprintf(g.Stdout, "Deleted workspace %q.\n", name)
			return nil
		},
	}
	del.Flags().BoolVar(&force, "force", false, "delete even though the state still manages resources")
	cmd.AddCommand(del)
	return cmd
}

// createWorkspace writes an empty state for name, under its lock, so that it is listed. names
// are the workspaces that exist: one spelled the same but for case refuses name
// (state.CaseCollision), whatever the backend.
func (g *Globals) createWorkspace(st state.Store, names []string, name string) (state.Backend, error) {
	if err := state.ValidWorkspace(name); err != nil {
		return nil, err
	}
	if err := state.CaseCollision(names, name); err != nil {
		return nil, err
	}
	b, err := st.Workspace(name)
	if err != nil {
		return nil, err
	}
	unlock, err := g.lock(b, "workspace new")
	if err != nil {
		return nil, err
	}
	s, err := b.Load()
	if err == nil {
		err = b.Write(s)
	}
	if uerr := unlock(); err == nil {
		err = uerr
	}
	if err != nil {
		return nil, fmt.Errorf("create workspace %q: %w", name, err)
	}
	return b, nil
}

// selectWorkspace records name in .c4sctl/environment.
func (g *Globals) selectWorkspace(name string) error {
	if err := os.MkdirAll(g.StateDir(), 0o700); err != nil {
		return err
	}
	path := filepath.Join(g.StateDir(), environmentFile)
	if name == state.DefaultWorkspace {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	}
	return state.WriteFileAtomic(path, []byte(name+"\n"))
}
