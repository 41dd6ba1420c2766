package cli

import (
	"fmt"

	"github.com/c4sctl/c4sctl/pkg/plan"
	"github.com/c4sctl/c4sctl/pkg/planfile"
	"github.com/spf13/cobra"
)

func newShowCmd(g *Globals) *cobra.Command {
	var format string
	var jsonOut bool
	cmd := &cobra.Command{
		Use:   "show PLAN_FILE",
		Short: "Show a saved plan",
		Long: `show prints a plan saved by ` + "`c4sctl plan --out PLAN_FILE`" + `: for people (the default), as the
JSON document of docs/json-plan.md (--json or --format json), or as a pull-request comment
(--format markdown). Nothing is read from the clouds.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := outputFormat(format, jsonOut)
			if err != nil {
				return err
			}
			pf, err := planfile.Read(args[0])
			if err != nil {
				return err
			}
			if format == "json" {
				return writeJSONDoc(g.Stdout, pf.Plan)
			}
			pl, err := plan.FromJSON(pf.Plan, g.Registry().ResourceSchema)
			if err != nil {
				return fmt.Errorf("plan file %s: %w", args[0], err)
			}
			if format == "markdown" {
				plan.RenderMarkdown(g.Stdout, pl, plan.MarkdownOptions{Excluded: pf.Plan.Excluded})
				return nil
			}
			where := "the real tenant and org"
			if pf.Sandbox {
				where = "the sandbox"
			}
			fmt.Fprintf(g.Stdout, "Saved plan: made by c4sctl %s at %s against %s.\n", pf.C4sctlVersion, pf.CreatedAt.Format("2006-01-02 15:04:05 UTC"), where)
			plan.Render(g.Stdout, pl, g.colors(g.Stdout))
			writeExcluded(g.Stdout, pf.Plan.Excluded)
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "", "output format: human, json or markdown (default human)")
	cmd.Flags().BoolVar(&jsonOut, "json", false, "print the plan as one JSON document (same as --format json)")
	return cmd
}
