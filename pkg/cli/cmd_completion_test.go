package cli

import (
	"strings"
	"testing"
)

func TestCompletionScripts(t *testing.T) {
	for shell, marker := range map[string]string{"bash": "complete -o default -F __start_c4sctl c4sctl", "zsh": "#compdef c4sctl", "fish": "complete -c c4sctl", "powershell": "Register-ArgumentCompleter"} {
		stdout, stderr, code := runCLI(t, "completion", shell)
		if code != 0 || !strings.Contains(stdout, "c4sctl") || !strings.Contains(stdout, marker) {
			t.Errorf("completion %s: exit %d, %d bytes, marker %q found: %v\n%s", shell, code, len(stdout), marker, strings.Contains(stdout, marker), stderr)
		}
	}
	if _, stderr, code := runCLI(t, "completion", "tcsh"); code != 1 || !strings.Contains(stderr, "tcsh") {
		t.Errorf("completion tcsh: exit %d %s", code, stderr)
	}
}

// complete runs cobra's hidden completion request, as the shell scripts do.
func complete(t *testing.T, args ...string) []string {
	t.Helper()
	stdout, stderr, code := runCLI(t, append([]string{"__complete"}, args...)...)
	if code != 0 {
		t.Fatalf("__complete %v: exit %d %s", args, code, stderr)
	}
	var out []string
	for _, l := range strings.Split(stdout, "\n") {
		if l != "" && !strings.HasPrefix(l, ":") {
			out = append(out, strings.SplitN(l, "\t", 2)[0])
		}
	}
	return out
}

func TestAddressCompletion(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": transcription + `
resource "teams_meeting_policy" "sales" {
  identity = "Sales"
}
`})
	if _, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "apply", "--auto-approve", "--target", "teams_meeting_policy.global"); code != 0 {
		t.Fatalf("apply: %s", stderr)
	}
	if got := complete(t, "--dir", dir, "state", "show", ""); strings.Join(got, " ") != "teams_meeting_policy.global" {
		t.Errorf("state show completes %v", got)
	}
	if got := complete(t, "--dir", dir, "state", "show", "teams_meeting_policy.global", ""); len(got) != 0 {
		t.Errorf("state show takes one address, completes %v after it", got)
	}
	if got := complete(t, "--dir", dir, "state", "rm", "teams_meeting_policy.global", ""); len(got) != 0 {
		t.Errorf("state rm completes %v after the only address", got)
	}
	if got := complete(t, "--dir", dir, "plan", "--target", "teams_meeting_policy.s"); strings.Join(got, " ") != "teams_meeting_policy.sales" {
		t.Errorf("plan --target completes %v", got)
	}
	if got := complete(t, "--dir", dir, "apply", "--target", ""); strings.Join(got, " ") != "teams_meeting_policy.global teams_meeting_policy.sales" {
		t.Errorf("apply --target completes %v", got)
	}
	// import offers the configuration's addresses that are not in state yet.
	if got := complete(t, "--dir", dir, "import", ""); strings.Join(got, " ") != "teams_meeting_policy.sales" {
		t.Errorf("import completes %v", got)
	}
	if got := complete(t, "export", "--provider", "te"); strings.Join(got, " ") != "teams" {
		t.Errorf("export --provider completes %v", got)
	}
}
