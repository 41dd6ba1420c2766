package cli

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/c4sctl/c4sctl/pkg/sandbox/teamsapi"
)

// One provider's API is down (the sandbox answers every Salesforce request 500, its token
// endpoint included): its resources "could not be read", the other providers' resources are
// still checked and planned, the verdict is never green (drift 2, plan --detailed-exitcode 2,
// plain plan and apply 1), drift's report files are written and show the failure, and apply
// still makes the other providers' changes. Before, plan and drift stopped at the first read
// error with exit 1 and no report.
func TestProviderReadErrorIsCouldNotReadAndTheRestGoesOn(t *testing.T) {
	const cfg = `
provider "teams" {}
provider "salesforce" {}

resource "teams_meeting_policy" "global" {
  identity            = "Global"
  allow_transcription = true
}

resource "salesforce_permission_set" "copilot" {
  name        = "Copilot_for_Sales_Users"
  api_enabled = true
}

resource "salesforce_permission_set" "managers" {
  name        = "Copilot_for_Sales_Managers"
  api_enabled = true
}
`
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": cfg})
	if stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--no-color", "apply", "--auto-approve"); code != 0 {
		t.Fatalf("apply: exit %d\n%s\n%s", code, stdout, stderr)
	}
	changeSandbox(t, dir, func(s *teamsapi.Service) error {
		return s.SetMeetingPolicyField("Global", "AllowTranscription", false)
	})
	t.Setenv("C4S_SANDBOX_FAULTS", "down=salesforce")

	reports := map[string]string{}
	args := []string{"--dir", dir, "--sandbox", "--no-color", "drift"}
	for _, k := range []string{"json", "junit", "sarif"} {
		reports[k] = filepath.Join(dir, "drift."+k)
		args = append(args, "--report", k+"="+reports[k])
	}
	stdout, stderr, code := runCLI(t, args...)
	if code != 2 || !strings.Contains(stdout, "salesforce_permission_set.copilot could not be read: ") || !strings.Contains(stdout, "Salesforce sign-in (client_credentials flow)") ||
		!strings.Contains(stdout, "teams_meeting_policy.global has drifted") || !strings.Contains(stderr, "Error: salesforce_permission_set.copilot could not be read") ||
		strings.Count(stderr, "Error: ") != 1 || !strings.Contains(stderr, "The same error stopped: salesforce_permission_set.managers") {
		t.Fatalf("drift with Salesforce down: exit %d, want 2 with Teams checked\n%s\n%s", code, stdout, stderr)
	}
	var rep struct {
		Summary struct {
			Drifted    int `json:"drifted"`
			Unreadable int `json:"unreadable"`
		} `json:"summary"`
	}
	if raw, err := os.ReadFile(reports["json"]); err != nil || json.Unmarshal(raw, &rep) != nil || rep.Summary.Unreadable != 2 || rep.Summary.Drifted != 1 {
		t.Errorf("json report: %v %+v\n%s", err, rep, raw)
	}
	var suites struct {
		Failures int `xml:"failures,attr"`
		Suites   []struct {
			Cases []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
					Body    string `xml:",chardata"`
				} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	raw, err := os.ReadFile(reports["junit"])
	if err != nil || xml.Unmarshal(raw, &suites) != nil || suites.Failures != 3 {
		t.Errorf("junit report: %v\n%s", err, raw)
	} else {
		for _, c := range suites.Suites[0].Cases {
			if c.Name == "salesforce_permission_set.copilot" && (c.Failure == nil || !strings.Contains(c.Failure.Message+c.Failure.Body, "Salesforce sign-in (client_credentials flow)")) {
				t.Errorf("junit case of the unreadable set: %+v", c)
			}
		}
	}
	if raw, err := os.ReadFile(reports["sarif"]); err != nil || !strings.Contains(string(raw), `"ruleId": "c4sctl/unreadable"`) || !strings.Contains(string(raw), `"ruleId": "c4sctl/drift"`) {
		t.Errorf("sarif report: %v\n%s", err, raw)
	}

	stdout, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "--no-color", "plan", "--detailed-exitcode")
	if code != 2 || !strings.Contains(stdout, "teams_meeting_policy.global will be updated in-place") || !strings.Contains(stdout, "2 could not be read") {
		t.Errorf("plan --detailed-exitcode: exit %d, want 2\n%s\n%s", code, stdout, stderr)
	}
	stdout, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "--no-color", "plan")
	if code != 1 || !strings.Contains(stdout, "teams_meeting_policy.global will be updated in-place") || !strings.Contains(stderr, "2 resource(s) could not be read because their provider failed") {
		t.Errorf("plan: exit %d, want 1 after the whole plan\n%s\n%s", code, stdout, stderr)
	}
	var doc struct {
		Deferred []struct {
			Address      string `json:"address"`
			CouldNotRead bool   `json:"could_not_read"`
			ReadError    bool   `json:"read_error"`
		} `json:"deferred"`
	}
	stdout, _, _ = runCLI(t, "--dir", dir, "--sandbox", "plan", "--json")
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil || len(doc.Deferred) != 2 || !doc.Deferred[0].ReadError || !doc.Deferred[0].CouldNotRead {
		t.Errorf("plan --json deferred: %v %+v", err, doc.Deferred)
	}
	stdout, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "--no-color", "apply", "--auto-approve")
	if code != 1 || !strings.Contains(stdout, "teams_meeting_policy.global: Modifications complete") || !strings.Contains(stdout, "read failed:") ||
		strings.Contains(stdout, "Apply complete") {
		t.Errorf("apply with Salesforce down: exit %d, want 1 with the Teams change made\n%s\n%s", code, stdout, stderr)
	}

	// Teams signs in on first use: its read itself fails.
	t.Setenv("C4S_SANDBOX_FAULTS", "down=teams")
	stdout, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "--no-color", "drift")
	if code != 2 || !strings.Contains(stdout, "teams_meeting_policy.global could not be read: reading it failed: ") || strings.Contains(stdout, "salesforce_permission_set.") {
		t.Errorf("drift with Teams down: exit %d, want 2 with Salesforce in sync\n%s\n%s", code, stdout, stderr)
	}

	t.Setenv("C4S_SANDBOX_FAULTS", "")
	stdout, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "--no-color", "drift")
	if code != 0 || !strings.Contains(stdout, "No drift") {
		t.Errorf("drift once Salesforce is back: exit %d\n%s\n%s", code, stdout, stderr)
	}
}
