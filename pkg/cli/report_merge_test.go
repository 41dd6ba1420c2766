package cli

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/c4sctl/c4sctl/pkg/report"
)

// fleetTenant runs drift against its own sandbox in workspace ws and leaves its JSON, JUnit and
// SARIF reports in out/ws (as the fleet workflow's artifacts are laid out). applied: apply first,
// so that the tenant is in sync.
func fleetTenant(t *testing.T, out, ws string, applied bool) string {
	t.Helper()
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": transcription})
	if _, stderr, code := runCLI(t, "--dir", dir, "workspace", "new", ws); code != 0 {
		t.Fatalf("workspace new %s: exit %d %s", ws, code, stderr)
	}
	if applied {
		if _, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--workspace", ws, "apply", "--auto-approve"); code != 0 {
			t.Fatalf("apply %s: exit %d %s", ws, code, stderr)
		}
	}
	rd := filepath.Join(out, ws)
	if err := os.MkdirAll(rd, 0o755); err != nil {
		t.Fatal(err)
	}
	want := 2
	if applied {
		want = 0
	}
	_, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--workspace", ws, "drift",
		"--report", "json="+filepath.Join(rd, "drift.json"), "--report", "junit="+filepath.Join(rd, "drift.xml"),
		"--report", "sarif="+filepath.Join(rd, "drift.sarif"), "--report", "markdown="+filepath.Join(rd, "drift.md"))
	if code != want {
		t.Fatalf("drift %s: exit %d, want %d: %s", ws, code, want, stderr)
	}
	return rd
}

func TestReportMergeFleetOfSandboxTenants(t *testing.T) {
	out := t.TempDir()
	contoso := fleetTenant(t, out, "contoso", true)
	fleetTenant(t, out, "fabrikam", false)

	// The reports name their target.
	var js struct {
		Workspace, TenantID string
		Sandbox             bool
	}
	raw, _ := os.ReadFile(filepath.Join(contoso, "drift.json"))
	if err := json.Unmarshal(raw, &js); err != nil || js.Workspace != "contoso" || !js.Sandbox {
		t.Fatalf("drift.json target: %+v %v\n%s", js, err, raw)
	}

	expect := filepath.Join(t.TempDir(), "tenants.json")
	if err := os.WriteFile(expect, []byte(`[{"workspace": "contoso"}, {"workspace": "fabrikam"}, {"workspace": "northwind"}]`), 0o644); err != nil {
		t.Fatal(err)
	}

	// Sandbox runs counted (--include-sandbox): contoso in sync, fabrikam drifted, northwind has
	// no report (its drift run failed). Each tenant's three reports count once.
	stdout, stderr, code := runCLI(t, "report", "merge", "--include-sandbox", "--expect", expect, out)
	if code != 2 {
		t.Fatalf("merge exit %d, want 2\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{
		"**Drift in 1 of 3 tenant(s); 1 tenant(s) could not be checked.**",
		"| 3 | 2 | 1 | 1 | 1 | 0 |",
		"| `contoso` | `", "in sync (sandbox) | 1 | 0 | 0 |",
		"| `fabrikam` | `", "**drifted** (sandbox) | 1 | 1 | 0 |",
		"| `northwind` |  |  | **failed** |",
		"### `fabrikam`: drifted",
		"- `teams_meeting_policy.global` (drifted): teams\\_meeting\\_policy.global differs: allow\\_transcription is false, configuration wants true.",
		"### `northwind`: not checked",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("markdown lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "### `contoso`") {
		t.Errorf("the tenant in sync has a section:\n%s", stdout)
	}

	// The same fleet as JSON, JUnit and SARIF, from one format of reports each.
	stdout, _, code = runCLI(t, "report", "merge", "--include-sandbox", "--format", "json", filepath.Join(contoso, "drift.xml"), filepath.Join(out, "fabrikam", "drift.sarif"))
	var doc struct {
		Green   bool
		Summary struct{ Tenants, Checked, InSync, Drifted, Failed int }
		Tenants []struct {
			Workspace, Outcome string
			Resources          *int
			Failing            []struct{ Address, Status string }
		}
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil || code != 2 || doc.Green || doc.Summary.Tenants != 2 || doc.Summary.Drifted != 1 ||
		len(doc.Tenants) != 2 || doc.Tenants[0].Outcome != "in_sync" || doc.Tenants[0].Resources == nil || *doc.Tenants[0].Resources != 1 ||
		doc.Tenants[1].Outcome != "drifted" || doc.Tenants[1].Resources != nil || len(doc.Tenants[1].Failing) != 1 || doc.Tenants[1].Failing[0].Status != "drifted" {
		t.Errorf("json fleet report (exit %d, %v):\n%s", code, err, stdout)
	}
	fleetXML := filepath.Join(t.TempDir(), "fleet.xml")
	stdout, _, code = runCLI(t, "report", "merge", "--include-sandbox", "--expect", expect, "--format", "junit", "--out", fleetXML, out)
	var suites struct {
		Tests  int `xml:"tests,attr"`
		Suites []struct {
			Name     string `xml:"name,attr"`
			Failures int    `xml:"failures,attr"`
			Errors   int    `xml:"errors,attr"`
		} `xml:"testsuite"`
	}
	raw, _ = os.ReadFile(fleetXML)
	if err := xml.Unmarshal(raw, &suites); err != nil || code != 2 || len(suites.Suites) != 3 ||
		suites.Suites[1].Name != "fabrikam (sandbox)" || suites.Suites[1].Failures != 1 || suites.Suites[2].Name != "northwind" || suites.Suites[2].Errors != 1 ||
		!strings.Contains(stdout, "Drift in 1 of 3 tenant(s)") {
		t.Errorf("junit fleet report (exit %d, %v): %s\n%s", code, err, stdout, raw)
	}
	stdout, _, _ = runCLI(t, "report", "merge", "--include-sandbox", "--expect", expect, "--format", "sarif", out)
	var log struct {
		Runs []struct {
			Results []struct {
				RuleID    string `json:"ruleId"`
				Locations []struct {
					LogicalLocations []struct{ FullyQualifiedName string } `json:"logicalLocations"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(stdout), &log); err != nil || len(log.Runs) != 1 || len(log.Runs[0].Results) != 2 ||
		log.Runs[0].Results[0].RuleID != "c4sctl/drift" || log.Runs[0].Results[0].Locations[0].LogicalLocations[0].FullyQualifiedName != "fabrikam/teams_meeting_policy.global" ||
		log.Runs[0].Results[1].RuleID != "c4sctl/not-checked" {
		t.Errorf("sarif fleet report (%v):\n%s", err, stdout)
	}

	// Every drift run failed: nothing downloaded, yet with --expect each tenant is reported failed.
	stdout, _, code = runCLI(t, "report", "merge", "--expect", expect, t.TempDir())
	if code != 2 || !strings.Contains(stdout, "| 3 | 0 | 0 | 0 | 3 | 0 |") {
		t.Errorf("no report at all: exit %d\n%s", code, stdout)
	}

	// Only the tenant in sync: green, exit 0.
	stdout, stderr, code = runCLI(t, "report", "merge", "--include-sandbox", contoso)
	if code != 0 || !strings.Contains(stdout, "No drift: all 1 tenant(s) match the configuration.") {
		t.Errorf("clean fleet: exit %d\n%s\n%s", code, stdout, stderr)
	}
	// ... but a sandbox run is not a real tenant's green: without --include-sandbox nothing is
	// counted, and an expected tenant with only a sandbox report failed.
	stdout, _, code = runCLI(t, "report", "merge", contoso)
	if code != 2 || !strings.Contains(stdout, "No tenant checked: the 1 report(s) are sandbox runs") || !strings.Contains(stdout, "### Sandbox runs (not counted as tenants)") {
		t.Errorf("sandbox-only merge: exit %d\n%s", code, stdout)
	}
	list := filepath.Join(t.TempDir(), "tenants.txt")
	if err := os.WriteFile(list, []byte("# one workspace a line\ncontoso\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, _, code = runCLI(t, "report", "merge", "--expect", list, contoso)
	if code != 2 || !strings.Contains(stdout, "only a sandbox run's report: the real tenant was not checked") {
		t.Errorf("expected tenant with a sandbox report only: exit %d\n%s", code, stdout)
	}
}

func TestReportMergeBadInput(t *testing.T) {
	out := t.TempDir()
	rd := fleetTenant(t, out, "contoso", false)
	real, err := os.ReadFile(filepath.Join(rd, "drift.json"))
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, body string) string {
		p := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cur := report.JSONFormatVersion
	older := write("old.json", strings.Replace(string(real), `"format_version": "`+cur+`"`, `"format_version": "1.1"`, 1))
	xmlRaw, _ := os.ReadFile(filepath.Join(rd, "drift.xml"))
	oldXML := write("old.xml", strings.ReplaceAll(string(xmlRaw), `<property name="c4sctl.report_format" value="`+cur+`"></property>`, ""))
	sarifRaw, _ := os.ReadFile(filepath.Join(rd, "drift.sarif"))
	otherTool := write("other.sarif", strings.Replace(string(sarifRaw), `"name": "c4sctl"`, `"name": "tflint"`, 1))
	lying := write("lying.json", strings.Replace(string(real), `"has_drift": true`, `"has_drift": false`, 1))
	inSync := fleetTenant(t, t.TempDir(), "contoso", true) // the same workspace, another run
	emptyDir := t.TempDir()
	missing := filepath.Join(out, "nope.json")

	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"missing file", []string{missing}, []string{missing, "no such file"}},
		{"directory without reports", []string{emptyDir}, []string{emptyDir, "no drift report"}},
		{"plain text", []string{write("notes.txt", "all good\n")}, []string{"notes.txt", "not a drift report"}},
		{"other JSON", []string{write("pkg.json", `{"name": "x"}`)}, []string{"pkg.json", "not a drift report"}},
		{"truncated JSON", []string{write("cut.json", string(real[:len(real)/2]))}, []string{"cut.json", "not valid JSON"}},
		{"older JSON format", []string{older}, []string{older, "report format 1.1, this c4sctl reads " + cur}},
		{"JUnit without the format", []string{oldXML}, []string{oldXML, "no report format version"}},
		{"another tool's SARIF", []string{otherTool}, []string{otherTool, "not a c4sctl drift report"}},
		{"inconsistent JSON", []string{lying}, []string{lying, "has_drift is false but resources or sellers are failing"}},
		{"unknown format", []string{"--format", "html", rd}, []string{`--format "html"`}},
		{"one tenant's JSON twice", []string{filepath.Join(rd, "drift.json"), write("copy.json", string(real))}, []string{"drift.json and ", "copy.json are both json reports of contoso"}},
		{"reports of different runs", []string{filepath.Join(rd, "drift.xml"), filepath.Join(inSync, "drift.json")}, []string{"both report contoso", "disagree on its drift"}},
		{"tenant not expected", []string{"--expect", write("t.json", `["fabrikam"]`), "--include-sandbox", rd}, []string{"workspace \"contoso\" is not in the list of tenants expected"}},
		{"bad tenant list", []string{"--expect", write("t2.json", `[{"name": "x"}]`), rd}, []string{"t2.json: tenant 1 is neither a name nor an object"}},
	} {
		stdout, stderr, code := runCLI(t, append([]string{"report", "merge"}, tc.args...)...)
		if code != 1 || strings.Contains(stderr, "panic") || stdout != "" {
			t.Errorf("%s: exit %d, want 1\nstdout: %s\nstderr: %s", tc.name, code, stdout, stderr)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%s: stderr lacks %q: %s", tc.name, w, stderr)
			}
		}
	}
}
