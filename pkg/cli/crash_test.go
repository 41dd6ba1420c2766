package cli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/c4sctl/c4sctl/pkg/sandbox/faults"
	"github.com/c4sctl/c4sctl/pkg/state"
)

// applyUntil starts `apply --auto-approve` and sends sig once stdout shows that the apply phase
// is under way (at least one change completed, so some are recorded and others in flight). It
// returns the exit code and the output.
func applyUntil(t *testing.T, bin string, env []string, dir string, sig os.Signal) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--dir", dir, "--no-color", "apply", "--auto-approve")
	cmd.Env = env
	pr, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	var outMu sync.Mutex
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	signalled := make(chan struct{})
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		sc := bufio.NewScanner(pr)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			outMu.Lock()
			out.WriteString(line + "\n")
			outMu.Unlock()
			if !sent && strings.Contains(line, " complete after ") {
				// The progress line comes just before the change is written to state: signal
				// once the state file holds it.
				sent = true
				go func() {
					defer close(signalled)
					statePath := filepath.Join(dir, ".c4sctl", "state.json")
					for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
						if b, err := os.ReadFile(statePath); err == nil {
							if st, err := state.Decode(statePath, b); err == nil && len(st.Resources) > 0 {
								break
							}
						}
					}
					_ = cmd.Process.Signal(sig)
				}()
			}
		}
		_, _ = io.Copy(io.Discard, pr)
		if !sent {
			close(signalled)
		}
	}()
	<-readDone // stdout reaches its end when the process exits
	<-signalled
	err = cmd.Wait()
	outMu.Lock()
	stdout = out.String()
	outMu.Unlock()
	code = 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			code = -int(ws.Signal())
		}
	} else if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout, " complete after ") {
		t.Fatalf("apply ended (exit %d) before any change completed:\n%s\n%s", code, stdout, errb.String())
	}
	if strings.Contains(stdout, "Apply complete!") {
		t.Fatalf("apply finished before the signal reached it; the test needs more latency:\n%s", stdout)
	}
	return code, stdout, errb.String()
}

// crashSetup is a standalone sandbox with latency on every request (so that apply takes a few
// seconds) and the quickstart pointed at it.
func crashSetup(t *testing.T) (s *standalone, bin string, env []string, dir string) {
	t.Helper()
	bin = c4sctlBinary(t)
	s = startStandalone(t, "crash-test-secret")
	s.doManualSteps(t)
	faults.Install(s.sb, faults.Options{Latency: 60 * time.Millisecond})
	dir = t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.c4s.hcl"), []byte(s.providerBlocks()+quickstartResources(t)+chaosExtras), 0o600); err != nil {
		t.Fatal(err)
	}
	return s, bin, s.cliEnv(), dir
}

// readState returns the state file, which must be absent or a valid state.
func readState(t *testing.T, dir string) *state.State {
	t.Helper()
	path := filepath.Join(dir, ".c4sctl", "state.json")
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	st, err := state.Decode(path, b)
	if err != nil {
		t.Fatalf("the state file is not valid after the interruption: %v\n%s", err, b)
	}
	return st
}

// converges applies again, checks that plan then shows no change, and that no object was
// created twice (a change in flight when the process died is found by its name, not made again).
func converges(t *testing.T, s *standalone, bin string, env []string, dir string) {
	t.Helper()
	if stdout, stderr, code := runBin(t, bin, env, "--dir", dir, "--no-color", "apply", "--auto-approve"); code != 0 {
		t.Fatalf("apply after the interruption: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if stdout, stderr, code := runBin(t, bin, env, "--dir", dir, "--no-color", "plan", "--detailed-exitcode"); code != 0 {
		t.Fatalf("plan after the second apply: exit %d, want 0\n%s\n%s", code, stdout, stderr)
	}
	checkChaosData(t, s)
}

// SIGKILL mid-apply: the state stays readable, the lock is left and reported as stale,
// force-unlock clears it, and apply again converges.
func TestKilledApplyLeavesReadableStateAndStaleLock(t *testing.T) {
	t.Parallel() // waits on the sandbox and the binary, not the CPU
	s, bin, env, dir := crashSetup(t)
	code, stdout, _ := applyUntil(t, bin, env, dir, os.Kill)
	if code != killedExitCode() {
		t.Fatalf("apply was not killed (exit %d):\n%s", code, stdout)
	}
	st := readState(t, dir)
	if st != nil {
		t.Logf("state after SIGKILL holds %d resource(s): %v", len(st.Resources), st.Addresses())
	}
	lock, err := (&state.Local{Path: filepath.Join(dir, ".c4sctl", "state.json")}).ReadLock()
	if err != nil {
		t.Fatalf("the killed run's lock should be left: %v", err)
	}

	_, stderr, code := runBin(t, bin, env, "--dir", dir, "--no-color", "plan")
	if code != 1 || !strings.Contains(stderr, "stale") || !strings.Contains(stderr, "force-unlock "+lock.ID) {
		t.Fatalf("plan with the killed run's lock: exit %d, want 1 naming the stale lock %s:\n%s", code, lock.ID, stderr)
	}
	if _, stderr, code := runBin(t, bin, env, "--dir", dir, "force-unlock", "not-"+lock.ID); code != 1 {
		t.Fatalf("force-unlock with a wrong id: exit %d\n%s", code, stderr)
	}
	if stdout, stderr, code := runBin(t, bin, env, "--dir", dir, "force-unlock", lock.ID); code != 0 || !strings.Contains(stdout, lock.ID) {
		t.Fatalf("force-unlock %s: exit %d\n%s%s", lock.ID, code, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, ".c4sctl", "state.json.lock")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the lock is still there after force-unlock: %v", err)
	}
	converges(t, s, bin, env, dir)
}

// SIGINT mid-apply: the changes in flight finish, state records them, the lock is released and
// the process exits non-zero; apply again converges.
func TestInterruptedApplySavesStateAndReleasesTheLock(t *testing.T) {
	needsInterrupt(t)
	t.Parallel() // waits on the sandbox and the binary, not the CPU
	s, bin, env, dir := crashSetup(t)
	code, stdout, stderr := applyUntil(t, bin, env, dir, os.Interrupt)
	if code <= 0 {
		t.Fatalf("interrupted apply: exit %d, want a non-zero exit code\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "Interrupt received") {
		t.Errorf("stderr does not acknowledge the interrupt:\n%s", stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, ".c4sctl", "state.json.lock")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the lock was not released after SIGINT: %v", err)
	}
	st := readState(t, dir)
	if st == nil {
		t.Fatal("no state saved after SIGINT, though changes completed")
	}
	// Every change reported complete, including those in flight at the interrupt, is in state.
	started := map[string]bool{}
	for _, line := range strings.Split(stdout, "\n") {
		addr, rest, ok := strings.Cut(line, ": ")
		if !ok {
			continue
		}
		if strings.HasSuffix(rest, "ing...") {
			started[addr] = true
		}
		if strings.Contains(rest, " complete after ") {
			delete(started, addr)
		}
		if strings.Contains(rest, " complete after ") && st.Get(addr) == nil {
			t.Errorf("%s completed before the exit but is not in state (%v)", addr, st.Addresses())
		}
		if strings.HasPrefix(rest, "failed after") {
			t.Errorf("%s failed: an interrupt must let changes in flight finish\n%s", addr, stderr)
		}
	}
	for addr := range started {
		t.Errorf("%s was in flight at the interrupt and never finished:\n%s", addr, stdout)
	}
	if !strings.Contains(stdout, "not attempted") {
		t.Errorf("the summary does not say which changes were not attempted:\n%s", stdout)
	}
	t.Logf("interrupted mid-apply; state holds %d resource(s)", len(st.Resources))
	converges(t, s, bin, env, dir)
}
