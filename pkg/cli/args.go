package cli

import (
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/agext/levenshtein"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// terraformAliases maps flags Terraform spells differently to c4sctl's (-chdir=DIR is --dir).
var terraformAliases = map[string]string{"chdir": "dir"}

// normalizeArgs accepts Terraform's single-dash long flags (-auto-approve, -out=FILE, -var x=1,
// -json, -no-color, -detailed-exitcode, -version, -chdir=DIR): an argument "-name" or
// "-name=value" whose name is a long flag of some c4sctl command is rewritten to "--name…"
// before cobra parses, which would otherwise read it as a run of one-letter flags. Nothing after
// "--" and no value of a flag that takes one is touched (`--var -x` keeps "-x").
func normalizeArgs(root *cobra.Command, args []string) []string {
	takesValue := map[string]bool{}
	collect := func(f *pflag.Flag) { takesValue[f.Name] = takesValue[f.Name] || f.NoOptDefVal == "" }
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.LocalFlags().VisitAll(collect)
		c.PersistentFlags().VisitAll(collect)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	takesValue["version"], takesValue["help"] = false, false

	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			out = append(out, args[i:]...)
			break
		}
		name, value, hasValue := a, "", false
		switch {
		case strings.HasPrefix(a, "--"):
			name = a[2:]
		case strings.HasPrefix(a, "-") && len(a) > 2:
			name = a[1:]
		default:
			out = append(out, a)
			continue
		}
		if k := strings.IndexByte(name, '='); k >= 0 {
			name, value, hasValue = name[:k], name[k:], true
		}
		if alias, ok := terraformAliases[name]; ok {
			name = alias
		}
		tv, known := takesValue[name]
		if !known {
			out = append(out, a)
			continue
		}
		out = append(out, "--"+name+value)
		if tv && !hasValue && i+1 < len(args) {
			i++
			out = append(out, args[i])
		}
	}
	return out
}

// terraformOnly answers Terraform flags that c4sctl has no counterpart of, rather than suggest the
// nearest spelling (-refresh=false would be told --refresh-only, which does the opposite).
var terraformOnly = map[string]string{
	"refresh":   "c4sctl always reads the live objects before it plans (--refresh-only is the opposite: only compare, change nothing)",
	"lock":      "c4sctl always locks the state (--lock-timeout waits for another run's lock)",
	"input":     "c4sctl never prompts for variables (set them with --var, --var-file or C4S_VAR_name)",
	"replace":   "c4sctl does not replace objects on request",
	"state":     "the state is DIR/.c4sctl/state.json, per workspace (--workspace)",
	"state-out": "the state is DIR/.c4sctl/state.json, per workspace (--workspace)",
	"backup":    "c4sctl keeps state.json.backup beside the state",
}

// flagError answers an unknown flag with the nearest long flag of the command:
// "unknown flag: --auto-aprove (did you mean --auto-approve?)".
func flagError(cmd *cobra.Command, err error) error {
	msg := err.Error()
	var bad string
	switch {
	case strings.HasPrefix(msg, "unknown flag: --"):
		bad = strings.TrimPrefix(msg, "unknown flag: --")
	case strings.HasPrefix(msg, "unknown shorthand flag: "):
		// "unknown shorthand flag: 'a' in -abc": a single-dash long flag c4sctl does not have.
		if k := strings.LastIndex(msg, " in -"); k >= 0 {
			bad = strings.TrimPrefix(msg[k+len(" in -"):], "-")
		}
	}
	if k := strings.IndexByte(bad, '='); k >= 0 {
		bad = bad[:k]
	}
	if bad == "" {
		return err
	}
	if why, ok := terraformOnly[bad]; ok {
		return fmt.Errorf("%w: Terraform's -%s has no c4sctl equivalent: %s", err, bad, why)
	}
	// A suggestion is a near spelling (a third of the name's letters at most), not any short
	// flag: -lock=false is not a misspelling of --out.
	best, bestD := "", max(1, len(bad)/3)+1
	visit := func(f *pflag.Flag) {
		if d := levenshtein.Distance(bad, f.Name, nil); d < bestD || (strings.HasPrefix(f.Name, bad) && best == "") {
			best, bestD = f.Name, d
		}
	}
	cmd.Flags().VisitAll(visit)
	cmd.InheritedFlags().VisitAll(visit)
	if best == "" {
		return fmt.Errorf("%w\nRun '%s --help' for its flags", err, cmd.CommandPath())
	}
	return fmt.Errorf("%w (did you mean --%s?)", err, best)
}

// requireSubcommand makes a command that only groups others fail on an unknown subcommand
// (cobra would print help and exit 0, so `c4sctl state lsit` looked like success in a script):
// exit 1 naming the closest subcommand. With no argument it prints its help.
func requireSubcommand(c *cobra.Command) {
	for _, sub := range c.Commands() {
		requireSubcommand(sub)
	}
	if !c.HasSubCommands() || c.Runnable() || !c.HasParent() {
		return
	}
	c.Args = cobra.ArbitraryArgs
	c.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return cmd.Help()
		}
		msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
		if cmd.SuggestionsMinimumDistance <= 0 {
			cmd.SuggestionsMinimumDistance = 2 // cobra sets it on the root only
		}
		if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
			msg += "\n\nDid you mean this?\n\t" + strings.Join(s, "\n\t")
		}
		return errors.New(msg + fmt.Sprintf("\n\nRun '%s --help' for its commands.", cmd.CommandPath()))
	}
}

// versionLine is what `c4sctl version` and `c4sctl --version` print: the version (set at build
// time, from git describe), the commit and the Go version.
func versionLine() string {
	bi, _ := debug.ReadBuildInfo()
	return fmt.Sprintf("c4sctl %s (commit %s, %s %s/%s)\n", Version, commitOf(Commit, bi), runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// commitOf names the commit a binary was built from, in 12 hex digits: set is the commit set at
// build time (Commit), else bi's vcs.revision, which Go stamps when it builds in a checkout.
// Neither (-buildvcs=false, a source tarball, the image's build context without .git) gives
// "unknown". When Go recorded that the checkout had changes not in that commit
// (vcs.modified=true), it says so: the binary is not that commit.
func commitOf(set string, bi *debug.BuildInfo) string {
	var rev, modified string
	if bi != nil {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				modified = s.Value
			}
		}
	}
	commit := set
	if len(commit) < 12 {
		commit = rev
	}
	if len(commit) < 12 {
		return "unknown"
	}
	if modified == "true" && commit == rev {
		return commit[:12] + " with uncommitted changes"
	}
	return commit[:12]
}
