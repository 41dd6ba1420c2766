package cli

import (
	"fmt"

	"github.com/c4sctl/c4sctl/pkg/state"
	"github.com/spf13/cobra"
)

// newStateMigrateCmd is c4sctl's `terraform init -migrate-state`: a command of its own, so that
// moving state is never a side effect of another command.
func newStateMigrateCmd(g *Globals) *cobra.Command {
	var toLocal, force bool
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Copy every workspace's state from the local files to the configured backend (or back with --to-local)",
		Long: `state migrate copies the state of every workspace from the local files in .c4sctl to the backend
of the configuration's c4sctl { backend "..." {} } block; with --to-local, from that backend to the
local files (then remove the backend block). Both sides are locked while copying. The lineage is
kept; the serial goes up by one; the history of applies is copied too (records the destination
already holds are not repeated). A destination that already holds a different state (another
lineage, or a later serial) is refused unless --force. The source is left as it was.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.LoadConfig()
			if err != nil {
				return err
			}
			if cfg.Backend == nil || cfg.Backend.Type == "local" {
				return fmt.Errorf(`the configuration has no remote backend: add a c4sctl { backend "azurerm" { ... } } block first`)
			}
			remote, err := g.Store()
			if err != nil {
				return err
			}
			var from, to state.Store = &state.LocalStore{Dir: g.StateDir()}, remote
			if toLocal {
				from, to = remote, from
			}
			names, err := from.Workspaces()
			if err != nil {
				return err
			}
			n := 0
			for _, ws := range names {
				moved, err := g.migrateWorkspace(from, to, ws, force)
				if err != nil {
					return fmt.Errorf("workspace %q: %w", ws, err)
				}
				if moved {
					n++
				}
			}
			fmt.Fprintf(g.Stdout, "\nMigrated %d workspace(s) from %s to %s. The source is unchanged; remove it once you no longer need it.\n", n, from, to)
			return nil
		},
	}
	cmd.Flags().BoolVar(&toLocal, "to-local", false, "copy from the configured backend to the local files instead")
	cmd.Flags().BoolVar(&force, "force", false, "overwrite a destination that holds another state")
	return cmd
}

func (g *Globals) migrateWorkspace(from, to state.Store, ws string, force bool) (bool, error) {
	src, err := from.Workspace(ws)
	if err != nil {
		return false, err
	}
	dst, err := to.Workspace(ws)
	if err != nil {
		return false, err
	}
	unlockSrc, err := g.lock(src, "state migrate")
	if err != nil {
		return false, err
	}
	defer unlockSrc()
	unlockDst, err := g.lock(dst, "state migrate")
	if err != nil {
		return false, err
	}
	defer unlockDst()
	s, err := src.Load()
	if err != nil {
		return false, err
	}
	if s.Serial == 0 && len(s.Resources) == 0 {
		fmt.Fprintf(g.Stdout, "Workspace %s: no state in %s, skipped.\n", ws, src)
		return false, nil
	}
	d, err := dst.Load()
	if err != nil {
		return false, err
	}
	if !force && (d.Serial > 0 || len(d.Resources) > 0) && (d.Lineage != s.Lineage || d.Serial > s.Serial) {
		return false, fmt.Errorf("%s already holds a different state (lineage %s serial %d; the source has lineage %s serial %d): not overwriting it; use --force to replace it", dst, d.Lineage, d.Serial, s.Lineage, s.Serial)
	}
	if err := dst.Write(s); err != nil {
		return false, err
	}
	copied, err := migrateHistory(src, dst)
	if err != nil {
		return false, fmt.Errorf("the state was copied to %s, but its history was not: %w", dst, err)
	}
	fmt.Fprintf(g.Stdout, "Workspace %s: %d resource(s), lineage %s, copied to %s (serial %d; %d history record(s)).\n", ws, len(s.Resources), s.Lineage, dst, s.Serial, copied)
	return true, nil
}

// migrateHistory appends to dst's history the records of src's that it does not hold yet, oldest
// first: the audit trail (and drift's "Last apply") moves with the state, and migrating back and
// forth never doubles a record.
func migrateHistory(src, dst state.Backend) (int, error) {
	from, ok1 := src.(state.HistoryLog)
	to, ok2 := dst.(state.HistoryLog)
	if !ok1 || !ok2 {
		return 0, nil
	}
	recs, err := from.ReadHistory()
	if err != nil || len(recs) == 0 {
		return 0, err
	}
	have, err := to.ReadHistory()
	if err != nil {
		return 0, err
	}
	seen := map[string]bool{}
	for _, r := range have {
		seen[string(r)] = true
	}
	n := 0
	for _, r := range recs {
		if seen[string(r)] {
			continue
		}
		seen[string(r)] = true
		if err := to.AppendHistory(r); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
