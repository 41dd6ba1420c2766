package cli

import (
	"strings"
	"testing"
)

// down names an API of the sandbox: a name no service has (a typo, "entra") is refused, for the
// in-process sandbox and for sandbox serve, instead of a run that answers as if nothing were down.
func TestSandboxDownRefusesAnUnknownAPI(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": `resource "teams_meeting_policy" "global" {
  identity            = "Global"
  allow_transcription = true
}
`})
	t.Setenv("C4S_SANDBOX_FAULTS", "down=salesforce+entra")
	_, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "plan")
	if code != 1 || !strings.Contains(stderr, `no sandbox API is called "entra"`) || !strings.Contains(stderr, "graph, bap, dataverse, salesforce, teams") {
		t.Errorf("exit %d: %s", code, stderr)
	}
	// sandbox serve checks --down the same way (checkDown) before it listens.
	if err := checkDown([]string{"grpah"}, newSandboxServices()); err == nil || !strings.Contains(err.Error(), `no sandbox API is called "grpah"`) {
		t.Errorf("checkDown: %v", err)
	}
	if err := checkDown([]string{"graph", "salesforce", "dataverse"}, newSandboxServices()); err != nil {
		t.Errorf("checkDown refuses known APIs: %v", err)
	}
}
