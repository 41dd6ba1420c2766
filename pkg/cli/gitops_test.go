package cli

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/c4sctl/c4sctl/internal/filemode"
	"github.com/c4sctl/c4sctl/pkg/plan"
	"github.com/c4sctl/c4sctl/pkg/sandbox"
	"github.com/c4sctl/c4sctl/pkg/sandbox/teamsapi"
)

// changeSandbox starts the configuration's sandbox between two CLI runs, lets fn change the
// Teams service, and saves the data again.
func changeSandbox(t *testing.T, dir string, fn func(*teamsapi.Service) error) {
	t.Helper()
	svcs := newSandboxServices()
	var teams *teamsapi.Service
	for _, s := range svcs {
		if ts, ok := s.(*teamsapi.Service); ok {
			teams = ts
		}
	}
	if teams == nil {
		t.Fatal("no teams sandbox service")
	}
	sb, err := sandbox.Start(sandbox.Options{Dir: filepath.Join(dir, ".c4sctl", "sandbox")}, svcs...)
	if err != nil {
		t.Fatal(err)
	}
	if err := fn(teams); err != nil {
		sb.Close()
		t.Fatal(err)
	}
	if err := sb.Close(); err != nil {
		t.Fatal(err)
	}
}

// planPayload is the JSON inside a plan file (after the header line).
func planPayload(t *testing.T, path string) []byte {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	header, rest, ok := bytes.Cut(raw, []byte("\n"))
	if !ok || string(header) != "c4sctl-plan 1" {
		t.Fatalf("plan file header %q", header)
	}
	zr, err := gzip.NewReader(bytes.NewReader(rest))
	if err != nil {
		t.Fatal(err)
	}
	payload, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return payload
}

func TestSavedPlanAppliesExactlyAndConverges(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": transcription})
	pfile := filepath.Join(dir, "p.bin")
	stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--no-color", "plan", "--out", pfile, "--detailed-exitcode")
	if code != 2 || !strings.Contains(stdout, "Saved the plan to: "+pfile) {
		t.Fatalf("plan --out exit %d\n%s\n%s", code, stdout, stderr)
	}
	info, err := os.Stat(pfile)
	if err != nil {
		t.Fatal(err)
	}
	if filemode.Enforced && info.Mode().Perm() != 0o600 {
		t.Errorf("plan file mode %v, want 0600", info.Mode().Perm())
	}
	if payload := planPayload(t, pfile); bytes.Contains(payload, []byte(sandbox.ClientSecret)) {
		t.Fatal("the plan file holds the provider's client secret")
	}

	stdout, _, code = runCLI(t, "--dir", dir, "--no-color", "show", pfile)
	if code != 0 || !strings.Contains(stdout, "allow_transcription = false -> true") || !strings.Contains(stdout, "against the sandbox") {
		t.Errorf("show exit %d:\n%s", code, stdout)
	}
	stdout, _, code = runCLI(t, "--dir", dir, "show", "--json", pfile)
	var doc map[string]any
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil || code != 0 || doc["format_version"] != plan.JSONFormatVersion {
		t.Errorf("show --json exit %d, err %v:\n%s", code, err, stdout)
	}

	// No approval is asked: the saved plan is the approval (stdin is not a terminal here).
	stdout, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "--no-color", "apply", pfile)
	if code != 0 || !strings.Contains(stdout, "Apply complete! Resources: 1 imported, 0 added, 1 changed, 0 destroyed.") {
		t.Fatalf("apply PLAN exit %d\n%s\n%s", code, stdout, stderr)
	}
	stdout, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "--no-color", "plan", "--detailed-exitcode")
	if code != 0 || !strings.Contains(stdout, "No changes (sandbox — not a real tenant).") {
		t.Fatalf("plan after apply exit %d\n%s\n%s", code, stdout, stderr)
	}
	// Applying the same plan again: the object it changed is not as it was planned from.
	_, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "apply", pfile)
	if code != ExitStalePlan || !strings.Contains(stderr, "STALE") {
		t.Errorf("second apply of the same plan: exit %d\n%s", code, stderr)
	}
}

func TestSavedPlanRefusedWhenLiveObjectChanged(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": transcription})
	pfile := filepath.Join(dir, "p.bin")
	if _, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "plan", "--out", pfile); code != 0 {
		t.Fatalf("plan --out exit %d: %s", code, stderr)
	}
	changeSandbox(t, dir, func(s *teamsapi.Service) error {
		return s.SetMeetingPolicyField("Global", "AllowCloudRecording", false)
	})
	stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "apply", pfile)
	if code != ExitStalePlan {
		t.Fatalf("apply of a stale plan: exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"STALE", "teams_meeting_policy.global", "allow_cloud_recording was true, is now false", "nothing was applied",
		// the command to make a new plan keeps this run's --dir and --sandbox
		"`c4sctl --dir " + shellArg(dir) + " --sandbox plan --out " + shellArg(pfile) + "`"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stdout, "Modifying") {
		t.Errorf("a stale plan changed something:\n%s", stdout)
	}
	// Nothing was applied: transcription is still off.
	stdout, _, code = runCLI(t, "--dir", dir, "--sandbox", "--no-color", "plan", "--detailed-exitcode")
	if code != 2 || !strings.Contains(stdout, "allow_transcription = false -> true") {
		t.Errorf("after refusing: exit %d\n%s", code, stdout)
	}
}

func TestSavedPlanRefusedForAnotherConfiguration(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": transcription})
	pfile := filepath.Join(dir, "p.bin")
	if _, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "plan", "--out", pfile); code != 0 {
		t.Fatalf("plan --out exit %d: %s", code, stderr)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.c4s.hcl"), []byte(strings.Replace(transcription, "allow_transcription = true", "allow_transcription = true\n  allow_cloud_recording = false", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "apply", pfile)
	if code != ExitStalePlan || !strings.Contains(stderr, "another configuration") || !strings.Contains(stderr, "file main.c4s.hcl changed") {
		t.Errorf("exit %d\n%s", code, stderr)
	}
	// A saved plan fixes its own targets.
	_, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "apply", "--target", "teams_meeting_policy.global", pfile)
	if code != 1 || !strings.Contains(stderr, "--target cannot be used with a saved plan") {
		t.Errorf("--target with a plan file: exit %d\n%s", code, stderr)
	}
	// A sandbox plan is not applied to the real clouds.
	_, stderr, code = runCLI(t, "--dir", dir, "apply", pfile)
	if code != 1 || !strings.Contains(stderr, "made against the sandbox") {
		t.Errorf("sandbox plan without --sandbox: exit %d\n%s", code, stderr)
	}
}

func TestCorruptPlanFileIsAClearError(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": transcription})
	pfile := filepath.Join(dir, "p.bin")
	if _, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "plan", "--out", pfile); code != 0 {
		t.Fatalf("plan --out exit %d: %s", code, stderr)
	}
	raw, _ := os.ReadFile(pfile)
	for name, data := range map[string][]byte{"truncated": raw[:len(raw)*2/3], "garbage": []byte("hello\x00world"), "empty": nil} {
		bad := filepath.Join(dir, name+".bin")
		if err := os.WriteFile(bad, data, 0o600); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{{"--dir", dir, "--sandbox", "apply", bad}, {"--dir", dir, "show", bad}} {
			stdout, stderr, code := runCLI(t, args...)
			if code != 1 || strings.Contains(stderr, "panic") || !strings.Contains(stderr, "plan file "+bad) || !strings.Contains(stderr, "c4sctl plan --out") {
				t.Errorf("%s %v: exit %d\n%s\n%s", name, args[len(args)-2], code, stdout, stderr)
			}
			if name == "truncated" && !strings.Contains(stderr, "truncated") {
				t.Errorf("truncated file: %s", stderr)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(dir, ".c4sctl", "state.json")); err == nil {
		t.Error("state was written by a refused apply")
	}
}

func TestDriftReportsThenCleanAfterApply(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": transcription})
	junit, sarif := filepath.Join(dir, "drift.xml"), filepath.Join(dir, "drift.sarif")
	md, js := filepath.Join(dir, "drift.md"), filepath.Join(dir, "drift.json")
	stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--no-color", "drift", "--report", "junit="+junit, "--report", "sarif="+sarif, "--report", "markdown="+md, "--report", "json="+js)
	if code != 2 || !strings.Contains(stdout, "allow_transcription is false, configuration wants true") {
		t.Fatalf("drift exit %d, want 2\n%s\n%s", code, stdout, stderr)
	}
	var suites struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Suites   []struct {
			Cases []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Body string `xml:",chardata"`
				} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	raw, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(raw, &suites); err != nil {
		t.Fatal(err)
	}
	if suites.Tests != 1 || suites.Failures != 1 || suites.Suites[0].Cases[0].Name != "teams_meeting_policy.global" || suites.Suites[0].Cases[0].Failure == nil ||
		!strings.Contains(suites.Suites[0].Cases[0].Failure.Body, "allow_transcription (configuration): expected true, actual false") {
		t.Errorf("junit:\n%s", raw)
	}
	var log struct {
		Schema  string `json:"$schema"`
		Version string `json:"version"`
		Runs    []struct {
			Results []struct {
				RuleID    string `json:"ruleId"`
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI string } `json:"artifactLocation"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	raw, err = os.ReadFile(sarif)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &log); err != nil {
		t.Fatal(err)
	}
	if log.Version != "2.1.0" || log.Schema == "" || len(log.Runs) != 1 || len(log.Runs[0].Results) != 1 || log.Runs[0].Results[0].RuleID != "c4sctl/drift" ||
		!strings.HasSuffix(log.Runs[0].Results[0].Locations[0].PhysicalLocation.ArtifactLocation.URI, "main.c4s.hcl") {
		t.Errorf("sarif:\n%s", raw)
	}
	for _, p := range []string{md, js} {
		if b, err := os.ReadFile(p); err != nil || !strings.Contains(string(b), "teams_meeting_policy.global") {
			t.Errorf("%s: %v\n%s", p, err, b)
		}
	}

	if _, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "apply", "--auto-approve"); code != 0 {
		t.Fatalf("apply exit %d: %s", code, stderr)
	}
	stdout, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "--no-color", "drift", "--report", "junit="+junit, "--report", "sarif="+sarif)
	if code != 0 || !strings.Contains(stdout, "No drift (sandbox — not a real tenant)") {
		t.Fatalf("drift after apply exit %d, want 0\n%s\n%s", code, stdout, stderr)
	}
	raw, _ = os.ReadFile(junit)
	if err := xml.Unmarshal(raw, &suites); err != nil || suites.Failures != 0 || suites.Tests != 1 {
		t.Errorf("junit after apply:\n%s", raw)
	}

	// Changed outside c4sctl after the apply: drift again, reported against the last apply too.
	changeSandbox(t, dir, func(s *teamsapi.Service) error {
		return s.SetMeetingPolicyField("Global", "AllowTranscription", false)
	})
	stdout, _, code = runCLI(t, "--dir", dir, "--sandbox", "--no-color", "drift")
	if code != 2 || !strings.Contains(stdout, "teams_meeting_policy.global has drifted") {
		t.Errorf("drift after an outside change: exit %d\n%s", code, stdout)
	}

	_, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "drift", "--report", "xunit=x.xml")
	if code != 1 || !strings.Contains(stderr, `unknown kind "xunit"`) {
		t.Errorf("bad --report: exit %d %s", code, stderr)
	}
}

func TestExcludeOnPlanAndApply(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": transcription})
	stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--no-color", "plan", "--exclude", "teams_meeting_policy.global", "--detailed-exitcode")
	if code != 0 || !strings.Contains(stdout, "No changes (sandbox — not a real tenant).") || !strings.Contains(stdout, "Excluded from this plan (--exclude, with what depends on it): teams_meeting_policy.global") {
		t.Errorf("plan --exclude exit %d\n%s\n%s", code, stdout, stderr)
	}
	stdout, _, _ = runCLI(t, "--dir", dir, "--sandbox", "plan", "--json", "--exclude", "teams_meeting_policy.global")
	var doc struct {
		Excluded        []string `json:"excluded"`
		ResourceChanges []any    `json:"resource_changes"`
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil || len(doc.Excluded) != 1 || len(doc.ResourceChanges) != 0 {
		t.Errorf("plan --json --exclude: %v\n%s", err, stdout)
	}
	stdout, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "--no-color", "drift", "--exclude", "teams_meeting_policy.global")
	if code != 0 || !strings.Contains(stdout, "Excluded from this plan (--exclude, with what depends on it): teams_meeting_policy.global") {
		t.Errorf("drift --exclude: exit %d\n%s\n%s", code, stdout, stderr)
	}
	_, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "apply", "--auto-approve", "--exclude", "teams_meeting_policy.nope")
	if code != 1 || !strings.Contains(stderr, "--exclude teams_meeting_policy.nope names no resource") {
		t.Errorf("unknown --exclude: exit %d\n%s", code, stderr)
	}
}

// normalizeVersion keeps golden files independent of the build's version.
func normalizeVersion(s string) string {
	return strings.ReplaceAll(s, `"c4sctl_version": "`+Version+`"`, `"c4sctl_version": "VERSION"`)
}

func TestPlanJSONAndMarkdownGolden(t *testing.T) {
	const cfg = `
variable "note" {
  type      = string
  default   = "s3cr3t-note"
  sensitive = true
}

provider "teams" {}

resource "teams_meeting_policy" "global" {
  identity            = "Global"
  allow_transcription = true
  description         = var.note
}
`
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": cfg})
	stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "plan", "--json")
	if code != 0 {
		t.Fatalf("plan --json exit %d\n%s", code, stderr)
	}
	var any map[string]any
	if err := json.Unmarshal([]byte(stdout), &any); err != nil {
		t.Fatalf("plan --json is not one JSON document: %v\n%s", err, stdout)
	}
	if strings.Contains(stdout, "s3cr3t") || strings.Contains(stdout, sandbox.ClientSecret) {
		t.Fatalf("plan --json shows a secret:\n%s", stdout)
	}
	cliGolden(t, "plan_sandbox.json", normalizeVersion(stdout))

	stdout, _, code = runCLI(t, "--dir", dir, "--sandbox", "plan", "--format", "markdown")
	if code != 0 || strings.Contains(stdout, "s3cr3t") {
		t.Fatalf("plan --format markdown exit %d:\n%s", code, stdout)
	}
	cliGolden(t, "plan_sandbox.md", stdout)

	// --json equals --format json; the saved plan shows the same document.
	pfile := filepath.Join(dir, "p.bin")
	if _, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "plan", "--format", "json", "--out", pfile); code != 0 {
		t.Fatalf("plan --out --format json: %s", stderr)
	}
	if payload := planPayload(t, pfile); bytes.Contains(payload, []byte("s3cr3t")) {
		t.Fatalf("plan file holds a sensitive value")
	}
	shown, _, _ := runCLI(t, "--dir", dir, "show", "--json", pfile)
	cliGolden(t, "plan_sandbox.json", normalizeVersion(shown))
	shownMD, _, _ := runCLI(t, "--dir", dir, "show", "--format", "markdown", pfile)
	if shownMD != stdout {
		t.Errorf("show --format markdown differs from plan --format markdown:\n%s\n---\n%s", shownMD, stdout)
	}
	_, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "plan", "--json", "--format", "markdown")
	if code != 1 || !strings.Contains(stderr, "disagree") {
		t.Errorf("--json with --format markdown: exit %d %s", code, stderr)
	}
}

var updateCLIGolden = os.Getenv("UPDATE_GOLDEN") == "1"

func cliGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if updateCLIGolden {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run UPDATE_GOLDEN=1 go test ./pkg/cli to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file; got:\n%s\nwant:\n%s", name, got, want)
	}
}
