package cli

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const licenseFor = `
provider "microsoft365" {}

resource "m365_license_assignment" "sellers" {
  group_name = "%s"
}
`

// A licence resource whose group is misspelled, or was deployed and then lost its group, is not
// clean: plan --detailed-exitcode and drift exit 2, name it, and the JUnit report fails it.
func TestLicenceWithoutItsGroupIsNotClean(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": strings.Replace(licenseFor, "%s", "Sellers", 1)})
	if stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--no-color", "apply", "--auto-approve"); code != 0 {
		t.Fatalf("apply: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--no-color", "plan", "--detailed-exitcode"); code != 0 {
		t.Fatalf("plan after apply: exit %d\n%s\n%s", code, stdout, stderr)
	}

	// The group is misspelled after the licence was deployed: the resource in state can no
	// longer be read. Not "does not exist yet", not "No changes".
	if err := os.WriteFile(filepath.Join(dir, "main.c4s.hcl"), []byte(strings.Replace(licenseFor, "%s", "Selers", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--no-color", "plan", "--detailed-exitcode")
	if code != 2 || strings.Contains(stdout, "No changes") || !strings.Contains(stdout, "# m365_license_assignment.sellers could not be read:") ||
		!strings.Contains(stdout, `group "Selers" no longer exists`) || strings.Contains(stdout, "yet") || !strings.Contains(stdout, "1 could not be read") {
		t.Errorf("plan: exit %d, want 2 naming the resource\n%s\n%s", code, stdout, stderr)
	}
	junit := filepath.Join(dir, "drift.xml")
	stdout, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "--no-color", "drift", "--report", "junit="+junit)
	if code != 2 || strings.Contains(stdout, "No drift") || !strings.Contains(stdout, "m365_license_assignment.sellers could not be read") {
		t.Errorf("drift: exit %d, want 2\n%s\n%s", code, stdout, stderr)
	}
	raw, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	var js junitTestsuites
	if err := xml.Unmarshal(raw, &js); err != nil {
		t.Fatal(err)
	}
	if js.Failures != 1 || !strings.Contains(string(raw), `<testcase name="m365_license_assignment.sellers"`) || !strings.Contains(string(raw), `type="unreadable"`) {
		t.Errorf("JUnit report:\n%s", raw)
	}
	// apply changes nothing and says it is not complete.
	stdout, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "--no-color", "apply", "--auto-approve")
	if code != ExitApplyPending || strings.Contains(stdout, "Apply complete!") || !strings.Contains(stdout, "1 could not be read") {
		t.Errorf("apply: exit %d, want %d\n%s\n%s", code, ExitApplyPending, stdout, stderr)
	}

	// Never deployed (fresh state): deferred, still not clean.
	if err := os.RemoveAll(filepath.Join(dir, ".c4sctl", "state.json")); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "--no-color", "drift")
	if code != 2 || !strings.Contains(stdout, "m365_license_assignment.sellers cannot be checked") {
		t.Errorf("drift of a misspelled group never deployed: exit %d, want 2\n%s\n%s", code, stdout, stderr)
	}
}

type junitTestsuites struct {
	XMLName  xml.Name `xml:"testsuites"`
	Failures int      `xml:"failures,attr"`
}
