package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/c4sctl/c4sctl/pkg/export"
	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/spec"
	"github.com/c4sctl/c4sctl/pkg/state"
	"github.com/hashicorp/hcl/v2"
	"github.com/spf13/cobra"
	"github.com/zclconf/go-cty/cty"
)

func newExportCmd(g *Globals) *cobra.Command {
	var provs []string
	var out string
	var force bool
	cmd := &cobra.Command{
		Use:   "export [--provider NAME]... [--out DIR]",
		Short: "Write the live tenant and org as configuration (*.c4s.hcl)",
		Long: `export reads the live objects of every resource type the providers know and writes them as
configuration, one file per provider (teams.c4s.hcl, ...). Without state, plan on the written
directory shows every object as "will be imported" and nothing to add, change or destroy; apply
adopts them, and plan then shows no changes. Review the files first, or adopt objects into an
existing configuration with c4sctl import.

The provider blocks carry the non-secret settings of the configuration in --dir, if it has one;
sensitive values (client secrets) are never written. Data sources are not exported. An object
that configuration cannot express is written as a comment saying why.

--out defaults to --dir. export refuses a directory that already holds *.c4s.hcl files unless
--force is given (then the files it writes are overwritten).

With --sandbox, the sandbox keeps its data in DIR/.c4sctl/sandbox: to plan the export against
the same sandbox, copy that directory to OUT/.c4sctl/sandbox.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				out = g.Dir
			}
			return runExport(cmd.Context(), g, provs, out, force)
		},
	}
	cmd.Flags().StringArrayVar(&provs, "provider", nil, "export only this provider (repeatable; default: all)")
	cmd.Flags().StringVar(&out, "out", "", "directory to write the *.c4s.hcl files to (default: --dir)")
	cmd.Flags().BoolVar(&force, "force", false, "write even if the directory already holds *.c4s.hcl files (overwriting those export writes)")
	_ = cmd.RegisterFlagCompletionFunc("provider", func(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		return filterPrefix(g.Registry().ProviderNames(), toComplete), cobra.ShellCompDirectiveNoFileComp
	})
	_ = cmd.MarkFlagDirname("out")
	return cmd
}

// configFiles lists the *.c4s.hcl files of dir, sorted.
func configFiles(dir string) []string {
	files, _ := filepath.Glob(filepath.Join(dir, "*"+spec.FileSuffix))
	sort.Strings(files)
	return files
}

func runExport(ctx context.Context, g *Globals, only []string, out string, force bool) error {
	reg := g.Registry()
	names := reg.ProviderNames()
	if len(only) > 0 {
		seen := map[string]bool{}
		names = nil
		for _, n := range only {
			if reg.Provider(n) == nil {
				return fmt.Errorf("--provider %s: this c4sctl has no such provider; it knows %s", n, strings.Join(reg.ProviderNames(), ", "))
			}
			if !seen[n] {
				seen[n] = true
				names = append(names, n)
			}
		}
		sort.Strings(names)
	}
	if st, err := os.Stat(out); err == nil && !st.IsDir() {
		return fmt.Errorf("--out %s is not a directory", out)
	}
	if existing := configFiles(out); len(existing) > 0 && !force {
		for i := range existing {
			existing[i] = filepath.Base(existing[i])
		}
		return fmt.Errorf("%s already holds configuration (%s); export writes a complete configuration: choose another --out directory, or pass --force to write beside them (overwriting the files export writes)", out, strings.Join(existing, ", "))
	}

	// The configuration in --dir, if any, supplies the provider blocks (credentials, endpoints).
	haveConfig := len(configFiles(g.Dir)) > 0
	if haveConfig {
		if _, err := g.LoadConfig(); err != nil {
			return err
		}
		if _, err := g.Evaluator(); err != nil {
			return err
		}
	}

	var files []*export.File
	var notImplemented []string
	namer := &export.Namer{}
	for _, name := range names {
		p := reg.Provider(name)
		f := &export.File{
			Provider:       name,
			ProviderSchema: p.ConfigSchema(),
			Header: []string{
				fmt.Sprintf("Exported by `c4sctl export` (c4sctl %s) from the live objects of the %s provider.", Version, name),
				"`c4sctl plan` on this directory plans only imports (nothing to add, change or destroy); after `c4sctl apply` adopts them, it shows no changes.",
				"Secrets are never exported: set them from variables or the environment.",
			},
		}
		if haveConfig {
			settings, err := exportProviderSettings(g, name)
			if err != nil {
				return err
			}
			f.ProviderSettings = settings
		}
		var client providers.Client
		for _, rs := range p.Resources() {
			if rs.DataSource {
				continue
			}
			if client == nil {
				c, err := exportClient(ctx, g, p, haveConfig)
				if err != nil {
					return err
				}
				client = c
			}
			ex, ok := client.(providers.Exporter)
			var objs []providers.ExportedObject
			var err error
			if ok {
				objs, err = ex.Export(ctx, rs.Type)
			}
			if !ok || errors.Is(err, providers.ErrExportNotImplemented) {
				msg := fmt.Sprintf("export of %s is not implemented yet: its objects are not in this export", rs.Type)
				notImplemented = append(notImplemented, msg)
				f.Notes = append(f.Notes, msg+".")
				continue
			}
			if err != nil {
				return fmt.Errorf("export %s: %w", rs.Type, err)
			}
			for _, o := range objs {
				f.Resources = append(f.Resources, export.Resource{Schema: rs, Name: namer.Name(rs.Type, o.Name), Object: o})
			}
		}
		files = append(files, f)
	}

	export.SkipOverlaps(files)
	// Check the result as plan will read it before writing anything.
	rendered := map[string][]byte{}
	for _, f := range files {
		rendered[filepath.Join(out, f.Provider+spec.FileSuffix)] = f.Bytes()
	}
	if _, diags := spec.LoadFiles(out, rendered, reg); diags.HasErrors() {
		_ = spec.WriteDiagnostics(g.Stderr, diags, rendered, 100, false)
		return fmt.Errorf("the exported configuration does not pass validation (a c4sctl bug: please report it with the diagnostics above); nothing was written")
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("create --out directory: %w", err)
	}
	total := 0
	var skipped []string
	for _, f := range files {
		path := filepath.Join(out, f.Provider+spec.FileSuffix)
		if err := state.WriteFileAtomic(path, rendered[path]); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		if err := os.Chmod(path, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		n := f.Written()
		total += n
		s := f.Skipped()
		skipped = append(skipped, s...)
		line := fmt.Sprintf("  %s: %d resource(s)", path, n)
		if len(s) > 0 {
			line += fmt.Sprintf(", %d object(s) not exported (see the comments in the file)", len(s))
		}
		fmt.Fprintln(g.Stdout, line)
	}
	fmt.Fprintf(g.Stdout, "Exported %d resource(s) to %s.\n", total, out)
	for _, s := range skipped {
		fmt.Fprintf(g.Stdout, "Not exported: %s\n", s)
	}
	for _, m := range notImplemented {
		fmt.Fprintf(g.Stderr, "Warning: %s\n", m)
	}
	if g.Sandbox && filepath.Clean(out) != filepath.Clean(g.Dir) {
		fmt.Fprintf(g.Stdout, "The sandbox keeps its data in %s: copy it to %s to plan the export against the same sandbox.\n",
			filepath.Join(g.StateDir(), "sandbox"), filepath.Join(out, ".c4sctl", "sandbox"))
	}
	// The export is its own configuration: --dir OUT, and no --var-file of the source one.
	check := (&Globals{Dir: out, Sandbox: g.Sandbox, Workspace: g.Workspace}).command("plan")
	fmt.Fprintf(g.Stdout, "Check it with: %s\n", check)
	return nil
}

// exportClient configures a provider: from the configuration in --dir when there is one, else
// from the schema's defaults and the environment (with --sandbox, pointed at the sandbox).
func exportClient(ctx context.Context, g *Globals, p providers.Provider, haveConfig bool) (providers.Client, error) {
	if haveConfig {
		return g.Client(ctx, p.Name())
	}
	vals := map[string]cty.Value{}
	for _, a := range p.ConfigSchema().Attributes {
		if a.Default != cty.NilVal {
			vals[a.Name] = a.Default
		} else {
			vals[a.Name] = cty.NullVal(a.Type)
		}
	}
	httpc, err := g.HTTPClient()
	if err != nil {
		return nil, err
	}
	if g.Sandbox {
		sb, err := g.SandboxServer()
		if err != nil {
			return nil, err
		}
		for k, v := range p.SandboxConfig(sb.URL) {
			vals[k] = v
		}
	}
	c, err := p.Configure(ctx, cty.ObjectVal(vals), &providers.Env{HTTPClient: httpc, Getenv: g.Getenv, Log: g.Logger()})
	if err != nil {
		return nil, fmt.Errorf("provider %q: %w (with no configuration in %s, export signs in from the environment; or write a provider block there)", p.Name(), err, g.Dir)
	}
	return c, nil
}

// exportProviderSettings returns the provider block's values the configuration sets explicitly,
// leaving out sensitive attributes and any value that derives from a sensitive variable.
func exportProviderSettings(g *Globals, name string) (map[string]cty.Value, error) {
	cfg, ev := g.config, g.eval
	pb := cfg.Providers[name]
	if pb == nil || pb.Config == nil {
		return nil, nil
	}
	s := g.Registry().ProviderSchema(name)
	val, diags := ev.ProviderConfig(name, s)
	if err := g.printDiags(diags); err != nil {
		return nil, err
	}
	attrs, _ := pb.Config.JustAttributes()
	out := map[string]cty.Value{}
	for _, a := range s.Attributes {
		ha, ok := attrs[a.Name]
		if !ok || a.Sensitive || !val.Type().HasAttribute(a.Name) || refersToSensitive(cfg, ha) {
			continue
		}
		out[a.Name] = val.GetAttr(a.Name)
	}
	return out, nil
}

// refersToSensitive tells whether an expression reads a sensitive variable, or a local (which
// may), so that its value is never written to a file.
func refersToSensitive(cfg *spec.Config, a *hcl.Attribute) bool {
	for _, t := range a.Expr.Variables() {
		switch t.RootName() {
		case "local":
			return true
		case "var":
			if len(t) > 1 {
				if ta, ok := t[1].(hcl.TraverseAttr); ok {
					if v := cfg.Variables[ta.Name]; v == nil || v.Sensitive {
						return true
					}
				}
			}
		}
	}
	return false
}
