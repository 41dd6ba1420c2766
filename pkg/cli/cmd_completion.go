package cli

import (
	"fmt"
	"sort"
	"strings"

	"github.com/c4sctl/c4sctl/pkg/spec"
	"github.com/spf13/cobra"
)

func newCompletionCmd(g *Globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "completion bash|zsh|fish|powershell",
		Short: "Print the shell completion script for c4sctl",
		Long: `completion prints a script that makes the shell complete c4sctl's commands, flags, provider
names and resource addresses (state show, state rm, import, --target).

  bash:        source <(c4sctl completion bash)
               (needs the bash-completion package; or write it to /etc/bash_completion.d/c4sctl)
  zsh:         c4sctl completion zsh > "${fpath[1]}/_c4sctl"   (with compinit enabled)
  fish:        c4sctl completion fish > ~/.config/fish/completions/c4sctl.fish
  powershell:  c4sctl completion powershell | Out-String | Invoke-Expression`,
		Args:      cobra.ExactArgs(1),
		ValidArgs: []string{"bash", "zsh", "fish", "powershell"},
		RunE: func(cmd *cobra.Command, args []string) error {
			root := cmd.Root()
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(g.Stdout, true)
			case "zsh":
				return root.GenZshCompletion(g.Stdout)
			case "fish":
				return root.GenFishCompletion(g.Stdout, true)
			case "powershell":
				return root.GenPowerShellCompletionWithDesc(g.Stdout)
			}
			return fmt.Errorf("unknown shell %q: use bash, zsh, fish or powershell", args[0])
		},
	}
	return cmd
}

// registerAddressCompletion completes state addresses for `state show` and `state rm`, and
// configuration addresses for --target/--exclude of plan and apply. It only fills in what the
// commands left unset.
func registerAddressCompletion(root *cobra.Command, g *Globals) {
	find := func(path ...string) *cobra.Command {
		c, rest, err := root.Find(path)
		if err != nil || len(rest) > 0 || c == root {
			return nil
		}
		return c
	}
	stateArgs := func(max int) cobra.CompletionFunc {
		return func(_ *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			if max > 0 && len(args) >= max {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			return filterPrefix(without(stateAddresses(g), args), toComplete), cobra.ShellCompDirectiveNoFileComp
		}
	}
	if c := find("state", "show"); c != nil && c.ValidArgsFunction == nil {
		c.ValidArgsFunction = stateArgs(1)
	}
	if c := find("state", "rm"); c != nil && c.ValidArgsFunction == nil {
		c.ValidArgsFunction = stateArgs(0)
	}
	targets := func(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		return filterPrefix(configAddresses(g, false), toComplete), cobra.ShellCompDirectiveNoFileComp
	}
	for _, name := range []string{"plan", "apply", "drift"} {
		c := find(name)
		if c == nil {
			continue
		}
		for _, flag := range []string{"target", "exclude"} {
			if c.Flags().Lookup(flag) == nil {
				continue
			}
			if _, exists := c.GetFlagCompletionFunc(flag); exists {
				continue
			}
			_ = c.RegisterFlagCompletionFunc(flag, targets)
		}
	}
}

// stateAddresses lists the addresses in state (nothing when it cannot be read). It takes no
// lock: completion only reads.
func stateAddresses(g *Globals) []string {
	cfg, diags := spec.Load(g.Dir, g.Registry())
	if diags.HasErrors() {
		return nil
	}
	store, err := g.storeFor(cfg.Backend)
	if err != nil {
		return nil
	}
	ws, err := g.CurrentWorkspace()
	if err != nil {
		return nil
	}
	b, err := store.Workspace(ws)
	if err != nil {
		return nil
	}
	st, err := b.Load()
	if err != nil {
		return nil
	}
	return st.Addresses()
}

// configAddresses lists the configuration's resource addresses (data sources too when asked),
// without printing diagnostics: completion must stay quiet.
func configAddresses(g *Globals, data bool) []string {
	cfg, _ := spec.Load(g.Dir, g.Registry())
	if cfg == nil {
		return nil
	}
	var out []string
	for addr, r := range cfg.Resources {
		if r.Mode == spec.DataResource && !data {
			continue
		}
		out = append(out, addr)
	}
	sort.Strings(out)
	return out
}

func filterPrefix(xs []string, prefix string) []string {
	var out []string
	for _, x := range xs {
		if strings.HasPrefix(x, prefix) {
			out = append(out, x)
		}
	}
	return out
}

func without(xs, drop []string) []string {
	skip := map[string]bool{}
	for _, d := range drop {
		skip[d] = true
	}
	var out []string
	for _, x := range xs {
		if !skip[x] {
			out = append(out, x)
		}
	}
	return out
}
