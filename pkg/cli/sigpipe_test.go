package cli

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// `c4sctl plan | head -1`: the reader is gone before c4sctl writes. The run must end normally
// (exit 0: writes fail with EPIPE instead of killing the process with SIGPIPE) and leave no lock.
func TestPlanIntoAClosedPipeEndsNormally(t *testing.T) {
	t.Parallel()
	bin := c4sctlBinary(t)
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": transcription})
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.Close() // the reader went away (head -1 exited)
	cmd := exec.Command(bin, "--dir", dir, "--sandbox", "--no-color", "plan")
	cmd.Stdout = w
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	w.Close()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		t.Fatalf("plan into a closed pipe: %v (%s)\n%s", err, ee.ProcessState, stderr.String())
	} else if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, ".c4sctl", "state.json.lock")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the state lock is left behind: %v", err)
	}
}
