package cli

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/c4sctl/c4sctl/internal/filemode"
)

// State, its backup, the lock, saved plans and the sandbox's data and key describe the tenant or
// grant access to it: they are created readable by their owner only, whatever the umask.
func TestStateAndPlanFilesArePrivate(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": transcription})
	planFile := filepath.Join(t.TempDir(), "plan.bin")
	if _, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "plan", "--out", planFile); code != 0 {
		t.Fatalf("plan --out: exit %d\n%s", code, stderr)
	}
	for i := 0; i < 2; i++ { // the second apply also writes state.json.backup
		if _, stderr, code := runCLI(t, "--dir", dir, "--sandbox", "apply", "--auto-approve"); code != 0 {
			t.Fatalf("apply: exit %d\n%s", code, stderr)
		}
	}
	check := func(path string, want fs.FileMode) {
		t.Helper()
		info, err := os.Lstat(path)
		if err != nil {
			t.Error(err)
			return
		}
		if filemode.Enforced && info.Mode().Perm() != want {
			t.Errorf("%s has mode %v, want %v", path, info.Mode().Perm(), want)
		}
	}
	check(planFile, 0o600)
	state := filepath.Join(dir, ".c4sctl")
	check(state, 0o700)
	check(filepath.Join(state, "state.json"), 0o600)
	check(filepath.Join(state, "state.json.backup"), 0o600)
	n := 0
	_ = filepath.WalkDir(state, func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == state {
			return err
		}
		n++
		switch {
		case d.IsDir():
			check(path, 0o700)
		case filepath.Base(path) == "ca.pem": // the sandbox's certificate alone, for clients to trust
		default:
			check(path, 0o600)
		}
		return nil
	})
	if n < 4 {
		t.Errorf("only %d entries under %s", n, state)
	}
}
