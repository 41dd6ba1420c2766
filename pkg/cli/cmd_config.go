package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/c4sctl/c4sctl/pkg/plan"
	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/schema"
	"github.com/c4sctl/c4sctl/pkg/spec"
	"github.com/spf13/cobra"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

func newValidateCmd(g *Globals) *cobra.Command {
	var jsonOut bool
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Check the configuration without reading the clouds",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			g.validateOnly = true
			if jsonOut {
				return g.jsonDiagnosticsRun(func() error {
					if _, err := validateConfig(g); err != nil {
						return err
					}
					return writeJSONDiagnostics(g.Stdout, g.jsonDiags, nil)
				})
			}
			n, err := validateConfig(g)
			if err != nil {
				return err
			}
			fmt.Fprintf(g.Stdout, "Success! The configuration is valid (%d resources).\n", n)
			return nil
		},
	}
	cmd.Flags().BoolVar(&jsonOut, "json", false, "print the result and diagnostics as one JSON document (the shape of Terraform's validate -json)")
	return cmd
}

// validateConfig checks the configuration with nothing read from the clouds and returns the
// number of resources.
func validateConfig(g *Globals) (int, error) {
	cfg, err := g.LoadConfig()
	if err != nil {
		return 0, err
	}
	ev, err := g.Evaluator()
	if err != nil {
		return 0, err
	}
	// Evaluate every block with nothing known about other resources, so that type, enum
	// and variable errors show now rather than at plan time.
	order, diags := cfg.Order()
	for _, addr := range order {
		_, _, d := ev.ResourceConfig(cfg.Resources[addr], nil)
		diags = append(diags, d...)
	}
	for _, name := range g.Registry().ProviderNames() {
		if _, ok := cfg.Providers[name]; ok {
			_, d := ev.ProviderConfig(name, g.Registry().ProviderSchema(name))
			diags = append(diags, d...)
		}
	}
	if err := g.printDiags(diags); err != nil {
		return 0, err
	}
	return len(cfg.Resources), nil
}

func newFmtCmd(g *Globals) *cobra.Command {
	var check bool
	cmd := &cobra.Command{
		Use:   "fmt",
		Short: "Rewrite the configuration files in canonical style",
		Long:  "fmt rewrites *.c4s.hcl files of --dir in canonical style. With --check it changes nothing, lists the files that need formatting and exits 3 if any do.",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			files, err := filepath.Glob(filepath.Join(g.Dir, "*"+spec.FileSuffix))
			if err != nil {
				return err
			}
			sort.Strings(files)
			var unformatted []string
			for _, f := range files {
				src, err := os.ReadFile(f)
				if err != nil {
					return err
				}
				out, diags := spec.Format(f, src)
				if err := g.printDiags(diags); err != nil {
					return err
				}
				if bytes.Equal(src, out) {
					continue
				}
				unformatted = append(unformatted, f)
				fmt.Fprintln(g.Stdout, f)
				if !check {
					st, err := os.Stat(f)
					if err != nil {
						return err
					}
					if err := os.WriteFile(f, out, st.Mode().Perm()); err != nil {
						return err
					}
				}
			}
			if check && len(unformatted) > 0 {
				return &exitError{code: 3, err: fmt.Errorf("%d file(s) need formatting: run %s", len(unformatted), g.commandWith(hintDir, "fmt"))}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&check, "check", false, "list unformatted files and exit 3 instead of rewriting them")
	return cmd
}

func newStateCmd(g *Globals) *cobra.Command {
	cmd := &cobra.Command{Use: "state", Short: "Inspect and edit the state (what c4sctl last applied)"}
	cmd.AddCommand(newStateMigrateCmd(g))
	cmd.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List the resource addresses in state",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := g.Backend()
			if err != nil {
				return err
			}
			st, err := b.Load()
			if err != nil {
				return err
			}
			for _, a := range st.Addresses() {
				fmt.Fprintln(g.Stdout, a)
			}
			return nil
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "show ADDR",
		Short: "Show one resource as last applied (sensitive values are not stored)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := g.Backend()
			if err != nil {
				return err
			}
			st, err := b.Load()
			if err != nil {
				return err
			}
			r := st.Get(args[0])
			if r == nil {
				return fmt.Errorf("no resource %s in state; `%s` lists them", args[0], g.commandWith(hintDir|hintWorkspace, "state", "list"))
			}
			fmt.Fprintf(g.Stdout, "# %s\nid       = %q\nprovider = %q\n", r.Address, r.ID, r.Provider)
			var m map[string]json.RawMessage
			if err := json.Unmarshal(r.Attributes, &m); err != nil {
				return fmt.Errorf("state entry %s is corrupt: %v", r.Address, err)
			}
			keys := make([]string, 0, len(m))
			for k := range m {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				fmt.Fprintf(g.Stdout, "%s = %s\n", k, string(m[k]))
			}
			return nil
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "rm ADDR...",
		Short: "Forget resources without touching the live objects",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, st, unlock, err := g.lockedState("state rm")
			if err != nil {
				return err
			}
			defer unlock()
			for _, a := range args {
				if !st.Remove(a) {
					return fmt.Errorf("no resource %s in state; nothing was removed", a)
				}
			}
			if err := b.Write(st); err != nil {
				return err
			}
			fmt.Fprintf(g.Stdout, "Removed %d resource(s) from state: %s\n", len(args), strings.Join(args, ", "))
			return nil
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "mv SRC DST",
		Short: "Move an object to another address in state, without touching it",
		Long: `state mv records that the object state holds under SRC now belongs to DST (a renamed resource
block), as Terraform's state mv does. Nothing in the tenant or the org is changed. It refuses a SRC
that holds nothing, a DST that already holds an object and addresses of different types. A moved
block in the configuration does the same at the next apply, and is reviewed in the plan.`,
		Example: `  c4sctl state mv salesforce_permission_set.copilot salesforce_permission_set.sellers`,
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, a := range args {
				mode, _, _, err := spec.ParseAddr(a)
				if err != nil {
					return err
				}
				if mode == spec.DataResource {
					return fmt.Errorf("%s is a data source: data sources are never in state", a)
				}
			}
			b, st, unlock, err := g.lockedState("state mv")
			if err != nil {
				return err
			}
			defer unlock()
			if err := st.Move(args[0], args[1]); err != nil {
				return fmt.Errorf("%w; nothing was moved", err)
			}
			if err := b.Write(st); err != nil {
				return err
			}
			fmt.Fprintf(g.Stdout, "Move %q to %q\nSuccessfully moved 1 object.\n", args[0], args[1])
			return nil
		},
	})
	return cmd
}

func newForceUnlockCmd(g *Globals) *cobra.Command {
	return &cobra.Command{
		Use:   "force-unlock LOCK_ID",
		Short: "Remove a state lock left by an interrupted run",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := g.Backend()
			if err != nil {
				return err
			}
			holder := lockHolder(b)
			if err := b.ForceUnlock(args[0]); err != nil {
				return err
			}
			fmt.Fprintf(g.Stdout, "The state lock %s was removed.\n", args[0])
			recordForceUnlock(g, b, holder)
			return nil
		},
	}
}

// schemaJSON is the documented shape of `c4sctl schema --json`.
type schemaJSON struct {
	FormatVersion string                        `json:"format_version"`
	Providers     map[string]providerSchemaJSON `json:"providers"`
}

type providerSchemaJSON struct {
	Config      []attrJSON              `json:"config"`
	Resources   map[string]resourceJSON `json:"resources"`
	DataSources map[string]resourceJSON `json:"data_sources,omitempty"`
}

type resourceJSON struct {
	Description string     `json:"description"`
	Singleton   bool       `json:"singleton,omitempty"`
	Attributes  []attrJSON `json:"attributes"`
}

type attrJSON struct {
	Name        string          `json:"name"`
	Type        json.RawMessage `json:"type"`
	Description string          `json:"description,omitempty"`
	Required    bool            `json:"required,omitempty"`
	Optional    bool            `json:"optional,omitempty"`
	Computed    bool            `json:"computed,omitempty"`
	Sensitive   bool            `json:"sensitive,omitempty"`
	Enum        []string        `json:"enum,omitempty"`
	Default     json.RawMessage `json:"default,omitempty"`
}

func attrsJSON(as []*schema.Attribute) []attrJSON {
	out := make([]attrJSON, 0, len(as))
	for _, a := range as {
		t, _ := ctyjson.MarshalType(a.Type)
		j := attrJSON{Name: a.Name, Type: t, Description: a.Description, Required: a.Required, Optional: a.Optional, Computed: a.Computed, Sensitive: a.Sensitive, Enum: a.Enum}
		if a.Default != cty.NilVal && a.Default.IsWhollyKnown() && !a.Default.IsNull() {
			j.Default, _ = ctyjson.Marshal(a.Default, a.Default.Type())
		}
		out = append(out, j)
	}
	return out
}

func newSchemaCmd(g *Globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "schema",
		Short: "Print the provider and resource schemas",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			reg := g.Registry()
			out := schemaJSON{FormatVersion: "1", Providers: map[string]providerSchemaJSON{}}
			for _, p := range reg.Providers() {
				ps := providerSchemaJSON{Config: attrsJSON(p.ConfigSchema().Attributes), Resources: map[string]resourceJSON{}}
				for _, r := range p.Resources() {
					rj := resourceJSON{Description: r.Description, Singleton: r.Singleton, Attributes: attrsJSON(r.Attributes)}
					if r.DataSource {
						if ps.DataSources == nil {
							ps.DataSources = map[string]resourceJSON{}
						}
						ps.DataSources[r.Type] = rj
					} else {
						ps.Resources[r.Type] = rj
					}
				}
				out.Providers[p.Name()] = ps
			}
			if asJSON {
				enc := json.NewEncoder(g.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(out)
			}
			writeSchema(g.Stdout, reg)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the schemas as JSON")
	return cmd
}

// writeSchema prints, per provider, its provider block's attributes and then each resource type
// and data source with its attributes: name, type, required/optional/computed/sensitive, the
// default and allowed values, and the description (the README's `schema` row).
func writeSchema(w io.Writer, reg *providers.Registry) {
	for i, p := range reg.Providers() {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "provider %q\n", p.Name())
		fmt.Fprintf(w, "  provider block:\n")
		writeSchemaAttrs(w, p.ConfigSchema().Attributes)
		for _, r := range p.Resources() {
			kind := "resource"
			if r.DataSource {
				kind = "data"
			}
			fmt.Fprintf(w, "  %s %q: %s\n", kind, r.Type, r.Description)
			writeSchemaAttrs(w, r.Attributes)
		}
	}
}

func writeSchemaAttrs(w io.Writer, attrs []*schema.Attribute) {
	for _, a := range attrs {
		var tags []string
		switch {
		case a.Required:
			tags = append(tags, "required")
		case a.Optional:
			tags = append(tags, "optional")
		}
		if a.Computed {
			tags = append(tags, "computed")
		}
		if a.Sensitive {
			tags = append(tags, "sensitive")
		}
		if a.Default != cty.NilVal && !a.Default.IsNull() && a.Default.IsWhollyKnown() {
			tags = append(tags, "default "+plan.FormatValue(a.Default))
		}
		if len(a.Enum) > 0 {
			tags = append(tags, "one of "+strings.Join(a.Enum, ", "))
		}
		fmt.Fprintf(w, "    %-28s %-22s %s\n", a.Name, a.Type.FriendlyName(), strings.Join(tags, "; "))
		if a.Description != "" {
			fmt.Fprintf(w, "      %s\n", a.Description)
		}
	}
}
