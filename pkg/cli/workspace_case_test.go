package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Workspace names that differ only in case would share one state directory on macOS and
// Windows (case-insensitive file systems); every command that names one refuses it on every OS.
func TestWorkspaceNamesDifferingOnlyInCaseAreRefused(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": transcription})
	if _, stderr, code := runCLI(t, "--dir", dir, "workspace", "new", "contoso"); code != 0 {
		t.Fatalf("workspace new contoso: exit %d %s", code, stderr)
	}
	for _, args := range [][]string{
		{"workspace", "new", "Contoso"},
		{"workspace", "select", "CONTOSO"},
		{"workspace", "select", "--or-create", "Contoso"},
		{"workspace", "new", "Default"},
		{"--workspace", "Contoso", "--sandbox", "plan"},
	} {
		_, stderr, code := runCLI(t, append([]string{"--dir", dir, "--no-color"}, args...)...)
		if code != 1 || !strings.Contains(stderr, "differs only in case from the existing workspace") || !strings.Contains(stderr, "(macOS, Windows)") {
			t.Errorf("%v: exit %d, want 1 naming the case collision:\n%s", args, code, stderr)
		}
	}
	entries, err := os.ReadDir(filepath.Join(dir, ".c4sctl", "state.d"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "contoso" {
		t.Errorf("state.d holds %v, want contoso only", entries)
	}
	if stdout, _, _ := runCLI(t, "--dir", dir, "workspace", "show"); strings.TrimSpace(stdout) != "contoso" {
		t.Errorf("workspace in use after the refusals: %q, want contoso", stdout)
	}
	// A name that differs in more than case is a new workspace.
	if _, stderr, code := runCLI(t, "--dir", dir, "workspace", "new", "contoso-eu"); code != 0 {
		t.Fatalf("workspace new contoso-eu: exit %d %s", code, stderr)
	}
}
