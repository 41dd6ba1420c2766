package report_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/c4sctl/c4sctl/pkg/report"
)

// Each format drift writes reads back to the same run: target, failing resources with their
// message, and sellers not covered (which only the JSON summary, the JUnit coverage case and the
// SARIF c4sctl/uncovered result carry).
func TestReadRunRoundTrip(t *testing.T) {
	for _, sandbox := range []bool{false, true} {
		readRunRoundTrip(t, sandbox)
	}
}

func readRunRoundTrip(t *testing.T, sandbox bool) {
	r, _ := driftReport(t)
	r.Uncovered = 3
	r.Sandbox = sandbox
	r.Target = report.Target{Workspace: "contoso", TenantID: "t-1", SalesforceOrgID: "00Dxx"}
	dir := t.TempDir()
	for kind, ext := range map[string]string{"json": ".json", "junit": ".xml", "sarif": ".sarif"} {
		var buf bytes.Buffer
		if err := report.Writers[kind](&buf, r); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, "drift"+ext)
		if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		run, err := report.ReadRun(p)
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		if run.Format != kind || run.Target != r.Target || run.Sandbox != sandbox || run.Uncovered != 3 || len(run.Failing()) != len(r.Drifted()) || !run.HasDrift() {
			t.Errorf("%s: %+v", kind, run)
		}
		for i, res := range run.Failing() {
			want := r.Drifted()[i]
			if res.Address != want.Address || res.Status != want.Status || res.Message != want.Message() {
				t.Errorf("%s: resource %d = %+v, want %s %s %q", kind, i, res, want.Address, want.Status, want.Message())
			}
		}
		if strings.Contains(buf.String(), "s3cr3t") {
			t.Errorf("%s report holds a secret", kind)
		}
	}
}

// A fleet of real (not sandbox) tenants all in sync is green; one drifted, or one expected
// without a report, is not; nothing at all is not.
func TestMergeVerdicts(t *testing.T) {
	clean := func(ws string, sandbox bool) *report.Run {
		return &report.Run{File: ws + ".json", Format: "json", AllResources: true, Target: report.Target{Workspace: ws, TenantID: "t-" + ws}, Sandbox: sandbox,
			Resources: []report.RunResource{{Address: "a.b", Status: report.InSync}}}
	}
	drifted := clean("c", false)
	drifted.Resources[0].Status = report.Missing
	empty := clean("e", false)
	empty.Resources = nil
	for _, tc := range []struct {
		name  string
		runs  []*report.Run
		opt   report.MergeOptions
		green bool
		sum   string
	}{
		{"all in sync", []*report.Run{clean("a", false), clean("b", false)}, report.MergeOptions{}, true, "No drift: all 2 tenant(s)"},
		{"one drifted", []*report.Run{clean("a", false), drifted}, report.MergeOptions{}, false, "Drift in 1 of 2 tenant(s)."},
		{"one missing", []*report.Run{clean("a", false)}, report.MergeOptions{Expect: []string{"a", "b"}}, false, "Drift in 0 of 2 tenant(s); 1 tenant(s) could not be checked."},
		{"sandbox beside real", []*report.Run{clean("a", false), clean("s", true)}, report.MergeOptions{}, true, "No drift: all 1 tenant(s)"},
		{"nothing", nil, report.MergeOptions{}, false, "No tenant checked."},
		{"a report that checked nothing", []*report.Run{clean("a", false), empty}, report.MergeOptions{}, false, "Drift in 0 of 2 tenant(s); 1 tenant(s) could not be checked."},
	} {
		f, err := report.Merge(tc.runs, tc.opt)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if f.Green() != tc.green || !strings.HasPrefix(f.Summary(), tc.sum) {
			t.Errorf("%s: green %v, summary %q", tc.name, f.Green(), f.Summary())
		}
	}
}

// A report whose workspace (or tenant, org) is not a plain name is refused by ReadRun, in each
// format: one tenant's report must not break the fleet report's Markdown table or add lines to
// its summary.
func TestReadRunRefusesMarkdownInTarget(t *testing.T) {
	for _, bad := range []report.Target{
		{Workspace: "a|b", TenantID: "t-1"},
		{Workspace: "contoso\n## All green", TenantID: "t-1"},
		{Workspace: "contoso", TenantID: "t`1"},
		{Workspace: "contoso", TenantID: "t-1", SalesforceOrgID: "[x](https://evil.example)"},
	} {
		r, _ := driftReport(t)
		r.Target = bad
		dir := t.TempDir()
		for kind, ext := range map[string]string{"json": ".json", "junit": ".xml", "sarif": ".sarif"} {
			var buf bytes.Buffer
			if err := report.Writers[kind](&buf, r); err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(dir, "drift"+ext)
			if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			if run, err := report.ReadRun(p); err == nil || !strings.Contains(err.Error(), p) {
				t.Errorf("%s report of %+v: read as %+v, %v; want an error naming the file", kind, bad, run, err)
			}
		}
	}
}
