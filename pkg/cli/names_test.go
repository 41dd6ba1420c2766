package cli

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/c4sctl/c4sctl/pkg/sandbox/graphapi"
)

// The quickstart's plan names the Copilot for Sales app beside its id (data.teams_app read it)
// and shows the whole pinned order apply leaves in the Global app setup policy.
func TestQuickstartPlanShowsNamesBesideIDs(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	src, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "examples", "quickstart", "main.c4s.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": string(src)})
	stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--no-color", "plan")
	if code != 0 {
		t.Fatalf("plan exit %d\n%s", code, stderr)
	}
	for _, want := range []string{
		`id = "b1b0c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d" (Copilot for Sales), order = 3`,
		"the pinned apps after apply, in order: 1. 14d6962d-6eeb-4f48-8890-de55454bb136 (Activity), 2. 86fcd49b-61a2-4701-b771-54728cd291fb (Chat), 3. b1b0c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d (Copilot for Sales), 4.",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("plan lacks %q:\n%s", want, stdout)
		}
	}
}

// A Teams policy's group assignment shows the group's name beside its id: the licence
// assignment's read found the Sellers group (by name) on its way, and the plan labels every
// place that id appears with no request for the name alone.
func TestPlanNamesEntraGroupsBesideIDs(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	src, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "examples", "quickstart", "main.c4s.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": string(src), "sellers.c4s.hcl": coverageSellersPolicy})
	stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--no-color", "plan")
	if code != 0 {
		t.Fatalf("plan exit %d\n%s", code, stderr)
	}
	want := `group_id = "` + graphapi.SellersGroupID + `" (` + graphapi.SellersGroupName + `)`
	if !strings.Contains(stdout, want) {
		t.Errorf("plan lacks %q:\n%s", want, stdout)
	}
}

// A policy's group that no other read resolved is named through Graph in one batched lookup for
// the whole plan (the microsoft365 client's $batch), and that lookup is counted with the plan's
// requests.
func TestPlanNamesOtherGroupsInOneBatchedLookup(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	src, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "examples", "quickstart", "main.c4s.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	policy := `
resource "teams_meeting_policy" "sales" {
  identity            = "All Sales"
  allow_transcription = true
  groups              = [{ group_id = "` + graphapi.AllSalesGroupID + `", rank = 1 }]
}
`
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": string(src), "sales.c4s.hcl": policy})
	stdout, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "--no-color", "plan")
	if code != 0 {
		t.Fatalf("plan exit %d\n%s", code, stderr)
	}
	want := `group_id = "` + graphapi.AllSalesGroupID + `" (` + graphapi.AllSalesGroupName + `)`
	if !strings.Contains(stdout, want) {
		t.Errorf("plan lacks %q:\n%s", want, stdout)
	}
}
