package cli

import (
	"fmt"
	"strings"

	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/spec"
	"github.com/spf13/cobra"
	"github.com/zclconf/go-cty/cty"
)

func newImportCmd(g *Globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "import ADDR ID",
		Short: "Adopt an existing object into state, under a resource address of the configuration",
		Long: `import reads the live object ID through the resource's provider and records it in state under
ADDR, which must be a resource block of the configuration: plan then compares the object with the
configuration instead of planning to create it. Nothing in the tenant or the org is changed.

IDs are the ones export and state show print (a DLP policy's id, "Tag:Sales" for a Teams
policy). import refuses an address already in state, an object already managed under another
address, and an ID that names no object.`,
		Example: `  c4sctl import powerplatform_dlp_policy.baseline 4f8b1c2d-0000-4000-8000-000000000001
  c4sctl import teams_meeting_policy.sales Tag:Sales`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			addr, id := args[0], strings.TrimSpace(args[1])
			mode, typ, _, err := spec.ParseAddr(addr)
			if err != nil {
				return err
			}
			if mode == spec.DataResource {
				return fmt.Errorf("%s is a data source: data sources are read at every plan, never imported", addr)
			}
			if id == "" {
				return fmt.Errorf("the ID is empty: give the object's remote identity (export and state show print it)")
			}
			cfg, err := g.LoadConfig()
			if err != nil {
				return err
			}
			r := cfg.Resources[addr]
			if r == nil {
				return fmt.Errorf("the configuration has no resource %s: add a resource %q %q block that describes the object first, then import it", addr, typ, strings.TrimPrefix(addr, typ+"."))
			}
			ev, err := g.Evaluator()
			if err != nil {
				return err
			}
			b, unlock, err := g.lockedBackend("import")
			if err != nil {
				return err
			}
			defer unlock()
			st, err := b.Load()
			if err != nil {
				return err
			}
			if sr := st.Get(addr); sr != nil {
				return fmt.Errorf("%s is already in state (id %s): it manages that object already; to import another object run `c4sctl state rm %s` first", addr, sr.ID, addr)
			}
			for _, sr := range st.Resources {
				if sr.Type == typ && strings.EqualFold(sr.ID, id) {
					return fmt.Errorf("the object %s is already managed as %s; an object is managed under one address only", id, sr.Address)
				}
			}
			config, sens, diags := ev.ResourceConfig(r, map[string]cty.Value{})
			if err := g.printDiags(diags); err != nil {
				return err
			}
			client, err := g.Client(ctx, r.Schema.Provider)
			if err != nil {
				return err
			}
			resp, err := client.Read(ctx, providers.ReadRequest{Type: typ, ID: id, Config: config})
			if err != nil {
				return fmt.Errorf("read %s %s: %w", typ, id, err)
			}
			if resp.Deferred != "" {
				return fmt.Errorf("%s cannot be imported yet: %s", addr, resp.Deferred)
			}
			if resp.ID == "" || resp.Value == cty.NilVal || resp.Value.IsNull() {
				return fmt.Errorf("no %s with id %q exists; nothing was imported (export and state show print ids)", typ, id)
			}
			for _, sr := range st.Resources {
				if sr.Type == typ && strings.EqualFold(sr.ID, resp.ID) {
					return fmt.Errorf("the object %s is already managed as %s; an object is managed under one address only", resp.ID, sr.Address)
				}
			}
			if err := st.Set(addr, typ, r.Schema.Provider, resp.ID, resp.Value, append(sens, r.Schema.SensitivePaths()...)); err != nil {
				return err
			}
			if err := b.Write(st); err != nil {
				return err
			}
			for _, w := range resp.Warnings {
				fmt.Fprintf(g.Stderr, "Warning: %s: %s\n", addr, w)
			}
			fmt.Fprintf(g.Stdout, "%s: Import complete [id=%s]\n", addr, resp.ID)
			if !strings.EqualFold(resp.ID, id) {
				fmt.Fprintf(g.Stdout, "Note: the provider found the object as %s (asked: %s); its configuration names it.\n", resp.ID, id)
			}
			fmt.Fprintln(g.Stdout, "The object is now managed by c4sctl. Run plan to see how it differs from the configuration.")
			return nil
		},
	}
	cmd.ValidArgsFunction = func(_ *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		inState := map[string]bool{}
		for _, a := range stateAddresses(g) {
			inState[a] = true
		}
		var out []string
		for _, a := range configAddresses(g, false) {
			if !inState[a] {
				out = append(out, a)
			}
		}
		return filterPrefix(out, toComplete), cobra.ShellCompDirectiveNoFileComp
	}
	return cmd
}
