package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/c4sctl/c4sctl/pkg/sandbox/salesforceapi"
)

// salesforceLatency delays every answer of the sandbox's Salesforce API by d (the client going
// away ends the wait) and calls seen with each request's path when it arrives.
func salesforceLatency(d time.Duration, seen func(path string)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !strings.HasPrefix(r.URL.Path, "/salesforce/") {
				next.ServeHTTP(w, r)
				return
			}
			seen(r.URL.Path)
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-t.C:
				next.ServeHTTP(w, r)
			case <-r.Context().Done():
			}
		})
	}
}

// Ctrl-C during a plan whose Salesforce reads are under way (200 ms a request, several
// permission sets each reading 10 pages of users one after the other): the process exits within
// 1 s of the signal, non-zero, with the state lock released. Every Salesforce call carries the
// plan's context, so the requests in flight stop and no further one starts; a read that ignored
// the context would keep paging for seconds.
func TestInterruptedPlanStopsSalesforceReadsAndReleasesTheLock(t *testing.T) {
	needsInterrupt(t)
	t.Parallel() // waits on the sandbox and the binary, not the CPU
	bin := c4sctlBinary(t)
	s := startStandalone(t, "interrupt-plan-secret")
	sf, _ := s.sb.Service("salesforce").(*salesforceapi.Service)
	if err := s.sb.Mutate(func() error { _, err := sf.AddUsers(20000, salesforceapi.ProfileStandardUser); return err }); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var queryMore int      // query-more pages requested so far
	var signalAt time.Time // when SIGINT was sent
	var afterSignal int    // Salesforce requests that arrived after it
	ready := make(chan struct{})
	s.sb.Use(salesforceLatency(200*time.Millisecond, func(path string) {
		mu.Lock()
		defer mu.Unlock()
		if !signalAt.IsZero() {
			afterSignal++
		}
		if strings.Contains(path, "/query/") {
			if queryMore++; queryMore == 3 {
				close(ready)
			}
		}
	}))

	var cfg strings.Builder
	cfg.WriteString(s.providerBlocks())
	for i := 0; i < 6; i++ {
		fmt.Fprintf(&cfg, "resource \"salesforce_permission_set\" \"p%d\" {\n  name = \"Interrupt_Test_%d\"\n  assignee_filter = \"IsActive = true\"\n}\n", i, i)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.c4s.hcl"), []byte(cfg.String()), 0o600); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--dir", dir, "--no-color", "plan")
	cmd.Env = s.cliEnv()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var err error
	select {
	case <-ready:
	case err = <-exited:
		t.Fatalf("plan ended (%v) before its Salesforce reads were paging:\n%s\n%s", err, out.String(), errb.String())
	}
	mu.Lock()
	signalAt = time.Now()
	mu.Unlock()
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err = <-exited
	took := time.Since(signalAt)
	mu.Lock()
	late := afterSignal
	mu.Unlock()

	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() <= 0 {
		t.Errorf("interrupted plan: %v, want a non-zero exit code\n%s\n%s", err, out.String(), errb.String())
	}
	if took > time.Second {
		t.Errorf("plan took %s to exit after SIGINT (Salesforce latency 200 ms), want at most 1 s; %d Salesforce requests arrived after the signal\n%s", took.Round(time.Millisecond), late, errb.String())
	}
	if strings.Contains(errb.String(), "panic") {
		t.Errorf("stderr shows a panic:\n%s", errb.String())
	}
	if _, err := os.Stat(filepath.Join(dir, ".c4sctl", "state.json.lock")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the state lock was left after SIGINT: %v", err)
	}
	t.Logf("exited %s after SIGINT; %d Salesforce requests arrived after it", took.Round(time.Millisecond), late)
}
