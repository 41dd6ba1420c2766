package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/schema"
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
policy). import reads the object by that ID, and refuses an address already in state, an object
already managed under another address, an ID that names no object, and an ID that names another
object than the one the configuration describes.`,
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
			b, st, unlock, err := g.lockedState("import")
			if err != nil {
				return err
			}
			defer unlock()
			if sr := st.Get(addr); sr != nil {
				return fmt.Errorf("%s is already in state (id %s): it manages that object already; to import another object run `%s` first", addr, sr.ID, g.commandWith(hintDir|hintWorkspace, "state", "rm", addr))
			}
			managedAs := func(id string) string {
				for _, sr := range st.Resources {
					if sr.Type == typ && r.Schema.SameID(sr.ID, id) {
						return sr.Address
					}
				}
				return ""
			}
			if other := managedAs(id); other != "" {
				return fmt.Errorf("the object %s is already managed as %s; an object is managed under one address only", id, other)
			}
			config, sens, diags := ev.ResourceConfig(r, map[string]cty.Value{})
			if err := g.printDiags(diags); err != nil {
				return err
			}
			client, err := g.Client(ctx, r.Schema.Provider)
			if err != nil {
				return err
			}
			// The object comes from where the provider signed in: a state of another target
			// (another tenant or org, the sandbox against a real one) must not take it.
			sess := &session{g: g, backend: b, state: st}
			if err := sess.checkStateTarget(); err != nil {
				return err
			}
			// Read by the ID alone first, as plan reads an object state holds that left the
			// configuration: a provider cannot fall back on what the configuration names.
			byID, err := client.Read(ctx, providers.ReadRequest{Type: typ, ID: id, Config: cty.NullVal(r.Schema.ImpliedType())})
			if err != nil {
				return fmt.Errorf("read %s %s: %w", typ, id, err)
			}
			if byID.Deferred == "" && (byID.ID == "" || byID.Value == cty.NilVal || byID.Value.IsNull()) {
				return fmt.Errorf("no %s with id %q exists; nothing was imported (export and state show print ids)", typ, id)
			}
			// Then with the configuration, for the value state records (the attributes it manages,
			// spelled as it spells them).
			resp, err := client.Read(ctx, providers.ReadRequest{Type: typ, ID: id, Config: config})
			if err != nil {
				return fmt.Errorf("read %s %s: %w", typ, id, err)
			}
			if byID.Deferred == "" && resp.ID != "" && !r.Schema.SameID(resp.ID, byID.ID) {
				return fmt.Errorf("%s: the id %s names another object than the configuration describes (%s); nothing was imported", addr, byID.ID, resp.ID)
			}
			if resp.Deferred != "" {
				return fmt.Errorf("%s cannot be imported yet: %s", addr, resp.Deferred)
			}
			if resp.ID == "" || resp.Value == cty.NilVal || resp.Value.IsNull() {
				return fmt.Errorf("no %s with id %q exists; nothing was imported (export and state show print ids)", typ, id)
			}
			// The ID given is the object imported, or nothing is: a provider that located the
			// object from the configuration instead would adopt whatever the configuration names.
			if !r.Schema.SameID(resp.ID, id) {
				return fmt.Errorf("no %s has the id %q (the provider found %s, which the configuration names); nothing was imported. export and state show print ids", typ, id, resp.ID)
			}
			if err := describes(ctx, client, r.Schema, config, resp); err != nil {
				return fmt.Errorf("%s: %w; nothing was imported", addr, err)
			}
			if other := managedAs(resp.ID); other != "" {
				return fmt.Errorf("the object %s is already managed as %s; an object is managed under one address only", resp.ID, other)
			}
			if err := st.Set(addr, typ, r.Schema.Provider, resp.ID, resp.Value, append(sens, r.Schema.SensitivePaths()...)); err != nil {
				return err
			}
			sess.recordTargets()
			if err := b.Write(st); err != nil {
				return err
			}
			for _, w := range resp.Warnings {
				fmt.Fprintf(g.Stderr, "Warning: %s: %s\n", addr, w)
			}
			fmt.Fprintf(g.Stdout, "%s: Import complete [id=%s]\n", addr, resp.ID)
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

// describes checks that the object read by its id is the one the configuration describes: the
// configuration's natural key (schema Identity) names it, and the object the provider locates
// from the configuration, if any, is this one.
func describes(ctx context.Context, client providers.Client, s *schema.Resource, config cty.Value, got providers.ReadResponse) error {
	want := s.Keys(config)
	if len(want) > 0 {
		have := map[string]bool{}
		for _, k := range s.Keys(got.Value) {
			have[k.Key] = true
		}
		for _, k := range want {
			if !k.Part && !have[k.Key] {
				return fmt.Errorf("the id %s names another object than the configuration describes (it names %s; the object with id %s is not it)", got.ID, k.Label, got.ID)
			}
		}
	}
	byConfig, err := client.Read(ctx, providers.ReadRequest{Type: s.Type, Config: config})
	if err != nil {
		return fmt.Errorf("read the object the configuration describes: %w", err)
	}
	if byConfig.ID != "" && !s.SameID(byConfig.ID, got.ID) {
		return fmt.Errorf("the id %s names another object than the configuration describes (%s)", got.ID, byConfig.ID)
	}
	return nil
}
