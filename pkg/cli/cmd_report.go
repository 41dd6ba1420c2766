package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/c4sctl/c4sctl/pkg/report"
	"github.com/c4sctl/c4sctl/pkg/state"
	"github.com/spf13/cobra"
)

func newReportCmd(g *Globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Work with drift reports (merge the reports of a fleet of tenants)",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newReportMergeCmd(g))
	return cmd
}

func newReportMergeCmd(g *Globals) *cobra.Command {
	var format, out, expect string
	var includeSandbox bool
	cmd := &cobra.Command{
		Use:   "merge [flags] FILE|DIR...",
		Short: "Combine per-tenant drift reports into one fleet report",
		Long: `merge reads the reports that c4sctl drift --report wrote for many tenants (JSON, JUnit XML or
SARIF, told apart by their content; a directory is searched for *.json, *.xml and *.sarif files, hidden directories such as .c4sctl left out)
and writes one fleet report: tenants checked, in sync, drifted and failed, sellers not covered,
and the failing resources of each drifted tenant. Reports name their target (workspace, tenant,
Salesforce org, sandbox or not); the JSON, JUnit and SARIF reports of one drift run count once.

--expect FILE lists the workspaces that must have a report (a JSON array of names or of objects
with "workspace", e.g. the fleet's tenants.json, or one name a line): a tenant without one failed
(its drift run errored or never ran). Reports of sandbox runs are listed but never counted as a
tenant, so they cannot make a fleet green; --include-sandbox counts them (demos, tests).

--format markdown (default), json, junit or sarif; --out FILE writes it there instead of stdout.

Exit codes: 0 every tenant checked and in sync, 2 a tenant drifted or failed (or no real tenant
was checked), 1 bad input (an unreadable file, not a c4sctl drift report, another report format
version), naming the file.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			w := report.FleetWriters[format]
			if w == nil {
				return fmt.Errorf("--format %q: use markdown, json, junit or sarif", format)
			}
			var opt report.MergeOptions
			opt.IncludeSandbox = includeSandbox
			if expect != "" {
				names, err := readTenantList(expect)
				if err != nil {
					return err
				}
				opt.Expect = names
			}
			// With --expect an empty directory is a fleet whose every drift run failed.
			files, err := reportFiles(args, expect != "")
			if err != nil {
				return err
			}
			var runs []*report.Run
			for _, f := range files {
				r, err := report.ReadRun(f)
				if err != nil {
					return err
				}
				runs = append(runs, r)
			}
			fleet, err := report.Merge(runs, opt)
			if err != nil {
				return err
			}
			var buf bytes.Buffer
			if err := w(&buf, fleet); err != nil {
				return fmt.Errorf("%s fleet report: %w", format, err)
			}
			if out != "" {
				if err := state.WriteFileAtomic(out, buf.Bytes()); err != nil {
					return fmt.Errorf("write fleet report: %w", err)
				}
				fmt.Fprintln(g.Stdout, fleet.Summary())
			} else if _, err := g.Stdout.Write(buf.Bytes()); err != nil {
				return err
			}
			if !fleet.Green() {
				return &exitError{code: 2}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "markdown", "fleet report `FORMAT`: markdown, json, junit or sarif")
	cmd.Flags().StringVar(&out, "out", "", "write the fleet report to `FILE` (stdout then gets the one-line summary)")
	cmd.Flags().StringVar(&expect, "expect", "", "`FILE` listing the workspaces that must have a report (JSON array, or one a line)")
	cmd.Flags().BoolVar(&includeSandbox, "include-sandbox", false, "count sandbox runs as tenants")
	return cmd
}

// reportFiles expands the arguments: files as given, directories (recursively) to their *.json,
// *.xml and *.sarif files, sorted. A directory holding none is an error (a download that failed)
// unless allowEmpty.
func reportFiles(args []string, allowEmpty bool) ([]string, error) {
	var out []string
	for _, a := range args {
		fi, err := os.Stat(a)
		if err != nil {
			return nil, fmt.Errorf("drift report: %w", err)
		}
		if !fi.IsDir() {
			out = append(out, a)
			continue
		}
		var found []string
		err = filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && p != a && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir // .c4sctl (state, the sandbox's data), .git
			}
			switch strings.ToLower(filepath.Ext(p)) {
			case ".json", ".xml", ".sarif":
				if !d.IsDir() {
					found = append(found, p)
				}
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("drift reports: %w", err)
		}
		if len(found) == 0 && !allowEmpty {
			return nil, fmt.Errorf("%s: no drift report (*.json, *.xml, *.sarif) in this directory", a)
		}
		sort.Strings(found)
		out = append(out, found...)
	}
	return out, nil
}

// readTenantList reads the workspaces of a fleet: a JSON array of names, or of objects with a
// "workspace" member (the tenants.json of examples/fleet), or text with one name a line (blank
// lines and # comments skipped).
func readTenantList(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--expect: %w", err)
	}
	var names []string
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '[' {
		var items []json.RawMessage
		if err := json.Unmarshal(t, &items); err != nil {
			return nil, fmt.Errorf("%s: not a JSON array of tenants: %v", path, err)
		}
		for i, it := range items {
			var name string
			if err := json.Unmarshal(it, &name); err != nil {
				var obj struct {
					Workspace string `json:"workspace"`
				}
				if json.Unmarshal(it, &obj) != nil || obj.Workspace == "" {
					return nil, fmt.Errorf("%s: tenant %d is neither a name nor an object with \"workspace\"", path, i+1)
				}
				name = obj.Workspace
			}
			names = append(names, name)
		}
	} else {
		sc := bufio.NewScanner(bytes.NewReader(data))
		for n := 1; sc.Scan(); n++ {
			line := strings.TrimSpace(sc.Text())
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			if strings.ContainsAny(line, " \t") {
				return nil, fmt.Errorf("%s:%d: %q is not a workspace name (one a line)", path, n, line)
			}
			names = append(names, line)
		}
	}
	seen := map[string]bool{}
	for _, n := range names {
		if n == "" {
			return nil, fmt.Errorf("%s: an empty workspace name", path)
		}
		if seen[n] {
			return nil, fmt.Errorf("%s: workspace %q is listed twice", path, n)
		}
		seen[n] = true
	}
	if len(names) == 0 {
		return nil, errors.New(path + ": no tenant listed")
	}
	return names, nil
}
