package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/c4sctl/c4sctl/pkg/plan"
	"github.com/c4sctl/c4sctl/pkg/state"
	"github.com/spf13/cobra"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// jsonOutput is one entry of `output --json`: Terraform's `terraform output -json` shape,
// {"NAME": {"value": ..., "type": ..., "sensitive": bool}}
// (https://developer.hashicorp.com/terraform/cli/commands/output). Unlike Terraform, a
// sensitive output has no "value": c4sctl never keeps a secret in state (docs/security.md), so
// there is none to print.
type jsonOutput struct {
	Value     json.RawMessage `json:"value,omitempty"`
	Type      json.RawMessage `json:"type"`
	Sensitive bool            `json:"sensitive"`
}

func newOutputCmd(g *Globals) *cobra.Command {
	var jsonOut, raw bool
	cmd := &cobra.Command{
		Use:   "output [NAME]",
		Short: "Show the output values of the last apply",
		Long: `output prints the values of the configuration's output blocks as the last apply (or
apply --refresh-only) recorded them in state, as ` + "`terraform output`" + ` does. Nothing is read from
the clouds, and no credentials are needed.

  output              every output, "name = value"; sensitive ones read <sensitive>
  output NAME         that output's value
  output NAME --raw   a string, number or bool value bare, for shell scripts
  output --json       {"NAME": {"value": ..., "type": ..., "sensitive": false}, ...}
  output NAME --json  that output's value as JSON

Sensitive outputs (declared sensitive, or derived from a sensitive variable or attribute) are
never stored in state, so their value cannot be printed: --json lists them without "value", and
NAME --raw or NAME --json of one fails. No outputs in state is not an error (exit 0).`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if raw && jsonOut {
				return fmt.Errorf("--raw and --json cannot be used together: --raw prints one value bare, --json prints JSON")
			}
			if raw && len(args) == 0 {
				return fmt.Errorf("--raw needs the name of an output: `%s`", g.commandWith(hintDir|hintWorkspace, "output", "NAME", "--raw"))
			}
			b, err := g.Backend()
			if err != nil {
				return err
			}
			st, err := b.Load()
			if err != nil {
				return err
			}
			if len(args) == 1 {
				return writeOneOutput(g, st, args[0], jsonOut, raw)
			}
			names := make([]string, 0, len(st.Outputs))
			for name := range st.Outputs {
				names = append(names, name)
			}
			sort.Strings(names)
			if jsonOut {
				doc := map[string]jsonOutput{}
				for _, name := range names {
					o := st.Outputs[name]
					doc[name] = jsonOutput{Value: o.Value, Type: o.Type, Sensitive: o.Sensitive}
				}
				return writeJSONDoc(g.Stdout, doc)
			}
			if len(names) == 0 {
				// Terraform's warning, and its exit code 0.
				fmt.Fprintf(g.Stderr, "Warning: No outputs found\n\nThe state has no output values: the configuration declares no output block, or no apply has recorded them yet. Declare an `output \"NAME\" { value = ... }` block and run `%s` to record them.\n", g.command("apply"))
				return nil
			}
			for _, name := range names {
				o := st.Outputs[name]
				if o.Sensitive {
					fmt.Fprintf(g.Stdout, "%s = <sensitive>\n", name)
					continue
				}
				v, err := o.OutputValue()
				if err != nil {
					return fmt.Errorf("output %s in state: %w", name, err)
				}
				fmt.Fprintf(g.Stdout, "%s = %s\n", name, plan.FormatValue(v))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&jsonOut, "json", false, "print the outputs (or the one named) as JSON")
	cmd.Flags().BoolVar(&raw, "raw", false, "print the named output's string, number or bool value without quotes")
	return cmd
}

func writeOneOutput(g *Globals, st *state.State, name string, jsonOut, raw bool) error {
	o, ok := st.Outputs[name]
	if !ok {
		return fmt.Errorf("output %q not found: the state has no output of that name; declare it in an output block and apply, or run `%s` to list those it has", name, g.commandWith(hintDir|hintWorkspace, "output"))
	}
	if o.Sensitive {
		if !jsonOut && !raw {
			fmt.Fprintln(g.Stdout, "<sensitive>")
			return nil
		}
		return fmt.Errorf("output %q is sensitive: c4sctl keeps no sensitive value in state, so it cannot print it; read the value from where you set it (its variable's source)", name)
	}
	v, err := o.OutputValue()
	if err != nil {
		return fmt.Errorf("output %s in state: %w", name, err)
	}
	switch {
	case jsonOut:
		// The state file's indentation is in the stored bytes; print the value's own.
		var buf bytes.Buffer
		if err := json.Indent(&buf, o.Value, "", "  "); err != nil {
			return fmt.Errorf("output %s in state: %w", name, err)
		}
		_, err := fmt.Fprintf(g.Stdout, "%s\n", buf.Bytes())
		return err
	case raw:
		// Terraform's -raw: strings, numbers and bools only, converted to a string.
		t := v.Type()
		if t != cty.String && t != cty.Number && t != cty.Bool {
			return fmt.Errorf("output %q is a %s: --raw prints only strings, numbers and bools; use `%s`", name, t.FriendlyName(), g.commandWith(hintDir|hintWorkspace, "output", name, "--json"))
		}
		if v.IsNull() {
			return fmt.Errorf("output %q is null: --raw has no string to print; use --json", name)
		}
		s, err := convert.Convert(v, cty.String)
		if err != nil {
			return fmt.Errorf("output %q: %w", name, err)
		}
		_, err = fmt.Fprint(g.Stdout, s.AsString())
		return err
	}
	fmt.Fprintln(g.Stdout, plan.FormatValue(v))
	return nil
}
