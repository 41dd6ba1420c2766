package cli

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestNormalizeArgsTerraformSpellings(t *testing.T) {
	root := NewRoot(&Globals{Getenv: os.Getenv})
	for _, tc := range []struct{ in, want []string }{
		{[]string{"apply", "-auto-approve"}, []string{"apply", "--auto-approve"}},
		{[]string{"plan", "-out=p.bin", "-no-color", "-detailed-exitcode"}, []string{"plan", "--out=p.bin", "--no-color", "--detailed-exitcode"}},
		{[]string{"plan", "-var", "a=1", "-var=b=2"}, []string{"plan", "--var", "a=1", "--var=b=2"}},
		{[]string{"-chdir=x", "plan"}, []string{"--dir=x", "plan"}},
		{[]string{"-version"}, []string{"--version"}},
		// The value of a flag that takes one is left alone, as is everything after "--".
		{[]string{"plan", "--var", "-json", "-json"}, []string{"plan", "--var", "-json", "--json"}},
		{[]string{"state", "rm", "--", "-json"}, []string{"state", "rm", "--", "-json"}},
		// Short flags and unknown names go to cobra as they are.
		{[]string{"plan", "-h", "-zzz"}, []string{"plan", "-h", "-zzz"}},
	} {
		if got := normalizeArgs(root, tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("normalizeArgs(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSingleDashFlagsRunLikeTerraform(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": transcription})
	pfile := filepath.Join(dir, "p.bin")
	stdout, stderr, code := runCLI(t, "-chdir="+dir, "--sandbox", "plan", "-no-color", "-detailed-exitcode", "-out="+pfile)
	if code != 2 || !strings.Contains(stdout, "1 to change") {
		t.Fatalf("plan -detailed-exitcode -out=FILE: exit %d, want 2\n%s\n%s", code, stdout, stderr)
	}
	if _, err := os.Stat(pfile); err != nil {
		t.Fatalf("-out=FILE wrote no plan: %v", err)
	}
	stdout, stderr, code = runCLI(t, "--dir", dir, "--sandbox", "apply", "-auto-approve", "-no-color")
	if code != 0 || !strings.Contains(stdout, "Apply complete!") {
		t.Fatalf("apply -auto-approve: exit %d\n%s\n%s", code, stdout, stderr)
	}
}

func TestMisspelledFlagSuggestsTheRightOne(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": transcription})
	for _, args := range [][]string{{"apply", "-auto-aprove"}, {"apply", "--auto-aprove"}, {"apply", "-autoapprove"}} {
		_, stderr, code := runCLI(t, append([]string{"--dir", dir, "--sandbox"}, args...)...)
		if code != 1 || !strings.Contains(stderr, "did you mean --auto-approve?") {
			t.Errorf("%q: exit %d, want 1 with a suggestion:\n%s", args, code, stderr)
		}
	}
}

func TestVersionFlagAndCommand(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"-version"}, {"version"}} {
		stdout, stderr, code := runCLI(t, args...)
		if code != 0 || !strings.HasPrefix(stdout, "c4sctl "+Version+" (commit ") || !strings.Contains(stdout, "go1.") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
		}
	}
}

// The commit set at build time (make build, make release, the Dockerfile) is printed even where
// Go stamps none (-buildvcs=false, or no .git as in the image's build context).
func TestVersionPrintsTheCommitSetAtBuildTime(t *testing.T) {
	defer func(c string) { Commit = c }(Commit)
	Commit = "0123456789abcdef0123456789abcdef01234567"
	if stdout, _, code := runCLI(t, "version"); code != 0 || !strings.Contains(stdout, "(commit 0123456789ab, go1.") {
		t.Errorf("version: exit %d, %q", code, stdout)
	}
}

func TestUnknownSubcommandExits1WithSuggestion(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"state", "lsit"}, "list"},
		{[]string{"sandbox", "sign-inn"}, "sign-in"},
		{[]string{"pln"}, "plan"},
	} {
		_, stderr, code := runCLI(t, tc.args...)
		if code != 1 || !strings.Contains(stderr, "unknown command") || !strings.Contains(stderr, "Did you mean this?\n\t"+tc.want) {
			t.Errorf("%q: exit %d, want 1 suggesting %s:\n%s", tc.args, code, tc.want, stderr)
		}
	}
	// The group alone still prints its help and succeeds.
	stdout, _, code := runCLI(t, "state")
	if code != 0 || !strings.Contains(stdout, "Available Commands") {
		t.Errorf("state alone: exit %d\n%s", code, stdout)
	}
}

// Terraform flags c4sctl has no counterpart of are answered as such, not with the nearest short
// flag: -refresh=false is not --refresh-only (its opposite), -lock=false and -input=false are not
// --out.
func TestTerraformOnlyFlagsAreNotMisSuggested(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": transcription})
	for _, c := range []struct{ flag, want string }{
		{"-refresh=false", "no c4sctl equivalent: c4sctl always reads"},
		{"-lock=false", "no c4sctl equivalent: c4sctl always locks"},
		{"-input=false", "no c4sctl equivalent: c4sctl never prompts"},
	} {
		_, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "plan", c.flag)
		if code != 1 || !strings.Contains(stderr, c.want) || strings.Contains(stderr, "did you mean") {
			t.Errorf("plan %s: exit %d, want 1 saying %q and no suggestion:\n%s", c.flag, code, c.want, stderr)
		}
	}
	_, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "plan", "-parallelizm=2")
	if code != 1 || !strings.Contains(stderr, "did you mean --parallelism?") {
		t.Errorf("plan -parallelizm=2: exit %d, want a suggestion:\n%s", code, stderr)
	}
}

// -out= with no file name (a pipeline's -out=$PLAN with PLAN unset) is an error, not a plan
// that is silently not saved.
func TestPlanOutWithoutFileNameFails(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": transcription})
	for _, args := range [][]string{{"-out="}, {"--out="}, {"--out", ""}} {
		_, stderr, code := runCLI(t, append([]string{"--dir", dir, "--sandbox", "plan"}, args...)...)
		if code != 1 || !strings.Contains(stderr, "--out needs a file name") {
			t.Errorf("plan %q: exit %d, want 1:\n%s", args, code, stderr)
		}
	}
}
