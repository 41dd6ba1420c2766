package cli

import (
	"strings"
	"testing"
)

// TestDebugLogHidesSensitiveValuesInURLs: a sensitive variable in a filter reaches the request
// URL (here the SOQL query an assignee_filter becomes); --log-level debug logs request URLs, and
// must show neither the value nor its URL-encoded forms.
func TestDebugLogHidesSensitiveValuesInURLs(t *testing.T) {
	const canary = "CANARY log/value+1 x"
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": `
variable "profile" {
  type      = string
  sensitive = true
}

provider "salesforce" {}

resource "salesforce_permission_set" "copilot" {
  name            = "Copilot_for_Sales_Users"
  api_enabled     = true
  # Standard User too: a new set whose filter matches nobody is a plan error.
  assignee_filter = "Profile.Name = 'Standard User' OR Profile.Name = '${var.profile}'"
}
`})
	stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--no-color", "--log-level", "debug", "--var", "profile="+canary, "plan")
	if code != 0 {
		t.Fatalf("plan: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "User+WHERE+Profile.Name") {
		t.Fatalf("the debug log lacks the assignee query (the test checks nothing):\n%s", stderr)
	}
	for _, leak := range []string{"CANARY", "log%2Fvalue", "log/value"} {
		if strings.Contains(stdout+stderr, leak) {
			t.Errorf("the output shows the sensitive value (%q):\n%s\n%s", leak, stdout, stderr)
		}
	}
}
