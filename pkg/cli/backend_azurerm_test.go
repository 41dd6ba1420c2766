package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/c4sctl/c4sctl/internal/azurite"
	"github.com/c4sctl/c4sctl/pkg/state"
	"github.com/c4sctl/c4sctl/pkg/state/azurerm"
	"github.com/zclconf/go-cty/cty"
)

func azurermBlock(endpoint, cont string) string {
	return fmt.Sprintf(`
c4sctl {
  backend "azurerm" {
    storage_account_name = %q
    container_name       = %q
    key                  = "contoso/c4sctl.json"
    endpoint             = %q
  }
}
`, azurite.Account, cont, endpoint)
}

var lockIDLine = regexp.MustCompile(`Lock ID:\s+(\S+)`)

// Two terminals on one Azurite container: the second apply is refused naming the first; after
// kill -9 of the first, force-unlock and a new apply converge; the state lives only in the
// container (plan is clean with the local .c4sctl deleted) and earlier versions are kept.
func TestAzureRMBackendTwoAppliesKillForceUnlockConverge(t *testing.T) {
	t.Parallel() // waits on Azurite, the sandbox and the binary, not the CPU
	srv := azurite.Start(t, "tfstate")
	bin := c4sctlBinary(t)
	s := startStandalone(t, "crash-test-secret")
	s.doManualSteps(t)
	// Latency keeps the first apply running while the second starts; off once it is killed.
	var latency atomic.Int64
	latency.Store(int64(60 * time.Millisecond))
	s.sb.Use(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(time.Duration(latency.Load()))
			next.ServeHTTP(w, r)
		})
	})
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.c4s.hcl"), []byte(s.providerBlocks()+quickstartResources(t)+chaosExtras), 0o600); err != nil {
		t.Fatal(err)
	}
	env := s.cliEnv()
	if err := os.WriteFile(filepath.Join(dir, "backend.c4s.hcl"), []byte(azurermBlock(srv.Endpoint, "tfstate")), 0o600); err != nil {
		t.Fatal(err)
	}
	env = append(env, "ARM_ACCESS_KEY="+azurite.Key)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	first := exec.CommandContext(ctx, bin, "--dir", dir, "--no-color", "apply", "--auto-approve")
	first.Env = env
	pr, err := first.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		out.WriteString(sc.Text() + "\n")
		if strings.Contains(sc.Text(), " complete after ") {
			break
		}
	}
	if !strings.Contains(out.String(), " complete after ") {
		_ = first.Wait()
		t.Fatalf("the first apply ended before any change completed:\n%s", out.String())
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()

	// The second terminal: refused at once, naming the first run.
	start := time.Now()
	_, stderr, code := runBin(t, bin, env, "--dir", dir, "--no-color", "apply", "--auto-approve")
	if code != 1 || !strings.Contains(stderr, "locked by another c4sctl run") || !strings.Contains(stderr, "Operation: apply") ||
		!strings.Contains(stderr, fmt.Sprintf("(pid %d)", first.Process.Pid)) || !strings.Contains(stderr, "tfstate/contoso/c4sctl.json") {
		t.Fatalf("second apply: exit %d, want 1 naming the first run (pid %d):\n%s", code, first.Process.Pid, stderr)
	}
	t.Logf("second apply refused after %s", time.Since(start).Round(time.Millisecond))
	m := lockIDLine.FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no lock id in:\n%s", stderr)
	}
	lockID := m[1]

	// kill -9 the first: its lease is neither released nor renewed.
	_ = first.Process.Kill()
	_ = first.Wait()
	latency.Store(0)
	_, stderr, code = runBin(t, bin, env, "--dir", dir, "--no-color", "plan")
	if code != 1 || !strings.Contains(stderr, "no longer running") || !strings.Contains(stderr, "force-unlock "+lockID) {
		t.Fatalf("plan after kill -9: exit %d, want 1 naming the stale lock %s:\n%s", code, lockID, stderr)
	}
	if _, stderr, code := runBin(t, bin, env, "--dir", dir, "force-unlock", "00000000-0000-4000-8000-000000000000"); code != 1 || !strings.Contains(stderr, lockID) {
		t.Fatalf("force-unlock with a wrong id: exit %d\n%s", code, stderr)
	}
	if stdout, stderr, code := runBin(t, bin, env, "--dir", dir, "force-unlock", lockID); code != 0 {
		t.Fatalf("force-unlock: exit %d\n%s%s", code, stdout, stderr)
	}
	converges(t, s, bin, env, dir)

	// The state is in the container only.
	if _, err := os.Stat(filepath.Join(dir, ".c4sctl", "state.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a local state file was written with the azurerm backend: %v", err)
	}
	if err := os.RemoveAll(filepath.Join(dir, ".c4sctl")); err != nil {
		t.Fatal(err)
	}
	if stdout, stderr, code := runBin(t, bin, env, "--dir", dir, "--no-color", "plan", "--detailed-exitcode"); code != 0 || !strings.Contains(stdout, "No changes") {
		t.Fatalf("plan from a fresh checkout: exit %d, want 0\n%s\n%s", code, stdout, stderr)
	}
	// The history is in the container too: the apply that converged is recorded, and the killed
	// one (which never reached its end, so wrote no record) by the force-unlock of its lock.
	if stdout, stderr, code := runBin(t, bin, env, "--dir", dir, "--no-color", "history"); code != 0 || !strings.Contains(stdout, "apply by ") || !strings.Contains(stdout, ": applied") ||
		!strings.Contains(stdout, fmt.Sprintf("removed the lock of the apply by %s on %s (pid %d)", state.NewLockInfo("x", "y").Who, state.NewLockInfo("x", "y").Host, first.Process.Pid)) {
		t.Errorf("history from the container: exit %d\n%s%s", code, stdout, stderr)
	}
	store, err := azurerm.NewStore(azurerm.Config{StorageAccountName: azurite.Account, ContainerName: "tfstate", Key: "contoso/c4sctl.json", Endpoint: srv.Endpoint, AccessKey: azurite.Key})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := store.Workspace(state.DefaultWorkspace)
	st, err := b.Load()
	if err != nil || len(st.Resources) == 0 {
		t.Fatalf("remote state: %v, %d resources", err, len(st.Resources))
	}
	snaps, err := b.(*azurerm.Blob).Snapshots()
	if err != nil {
		t.Fatal(err)
	}
	// Each resource applied wrote the state once; every write but the first kept its predecessor.
	if uint64(len(snaps)) < st.Serial-1 || len(snaps) == 0 {
		t.Errorf("%d snapshots for serial %d", len(snaps), st.Serial)
	}
	if holder, leased, _, _ := b.(*azurerm.Blob).ReadLock(); leased || holder != nil {
		t.Errorf("lock left after the runs: leased %v holder %+v", leased, holder)
	}
}

const workspaceConfig = `
variable "tenants" {
  default = { default = "dev", contoso = "prod" }
}
output "tenant" { value = lookup(var.tenants, c4sctl.workspace, "none") }
`

// state migrate moves every workspace's local state into the container and back; workspaces
// are KEY env:NAME blobs, selected by --workspace, C4S_WORKSPACE or workspace select.
func TestStateMigrateAndWorkspaces(t *testing.T) {
	srv := azurite.Start(t, "migrate")
	t.Setenv("ARM_ACCESS_KEY", azurite.Key)
	t.Setenv(WorkspaceEnv, "")
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": workspaceConfig + azurermBlock(srv.Endpoint, "migrate")})
	local := &state.LocalStore{Dir: filepath.Join(dir, ".c4sctl")}
	lineages := map[string]string{}
	for _, ws := range []string{"default", "contoso"} {
		b, _ := local.Workspace(ws)
		st, _ := b.Load()
		if err := st.Set("teams_meeting_policy.global", "teams_meeting_policy", "teams", ws+"-id", cty.ObjectVal(map[string]cty.Value{"identity": cty.StringVal("Global")}), nil); err != nil {
			t.Fatal(err)
		}
		if err := b.Write(st); err != nil {
			t.Fatal(err)
		}
		lineages[ws] = st.Lineage
		if err := b.(state.HistoryLog).AppendHistory([]byte(`{"format_version":"1","time":"2026-01-02T03:04:05Z","operation":"apply","who":"alice-` + ws + `","host":"h","workspace":"` + ws + `","plan_hash":"sha256:abc","serial":1,"outcome":"complete","changes":[{"address":"teams_meeting_policy.global","action":"update","result":"applied"}]}`)); err != nil {
			t.Fatal(err)
		}
	}
	// The history moves with the state (history, and drift's "Last apply", read it there).
	historyOnce := func(when string) {
		t.Helper()
		for _, ws := range []string{"default", "contoso"} {
			stdout, stderr, code := runCLI(t, "--dir", dir, "--workspace", ws, "history")
			if code != 0 || strings.Count(stdout, "apply by alice-"+ws) != 1 {
				t.Errorf("%s: history of %s: exit %d, want the one record\n%s%s", when, ws, code, stdout, stderr)
			}
		}
	}

	// Before migrating, the backend is empty.
	if stdout, _, code := runCLI(t, "--dir", dir, "state", "list"); code != 0 || stdout != "" {
		t.Fatalf("state list before migrate: exit %d %q", code, stdout)
	}
	stdout, stderr, code := runCLI(t, "--dir", dir, "state", "migrate")
	if code != 0 || !strings.Contains(stdout, "Migrated 2 workspace(s)") {
		t.Fatalf("migrate: exit %d\n%s%s", code, stdout, stderr)
	}
	historyOnce("after migrate")
	if stdout, _, _ := runCLI(t, "--dir", dir, "workspace", "list"); stdout != "* default\n  contoso\n" {
		t.Errorf("workspace list:\n%s", stdout)
	}
	if stdout, stderr, code := runCLI(t, "--dir", dir, "--workspace", "contoso", "state", "show", "teams_meeting_policy.global"); code != 0 || !strings.Contains(stdout, `"contoso-id"`) {
		t.Errorf("contoso state: exit %d\n%s%s", code, stdout, stderr)
	}
	// Migrating again over a different state is refused.
	other := &state.LocalStore{Dir: filepath.Join(dir, ".c4sctl")}
	ob, _ := other.Workspace("default")
	os.Remove(filepath.Join(dir, ".c4sctl", "state.json"))
	fresh, _ := ob.Load()
	_ = ob.Write(fresh)
	fresh.Serial = 0
	_ = fresh.Set("x.y", "x", "p", "other", cty.EmptyObjectVal, nil)
	_ = ob.Write(fresh)
	if _, stderr, code := runCLI(t, "--dir", dir, "state", "migrate"); code != 1 || !strings.Contains(stderr, "already holds a different state") {
		t.Errorf("migrate over another lineage: exit %d\n%s", code, stderr)
	}

	// Workspaces: a missing one is refused, new creates and selects, the name reaches the configuration.
	if _, stderr, code := runCLI(t, "--dir", dir, "--workspace", "fabrikam", "state", "list"); code != 1 || !strings.Contains(stderr, `workspace "fabrikam" does not exist`) {
		t.Errorf("missing workspace: exit %d\n%s", code, stderr)
	}
	if stdout, stderr, code := runCLI(t, "--dir", dir, "workspace", "new", "fabrikam"); code != 0 {
		t.Fatalf("workspace new: exit %d\n%s%s", code, stdout, stderr)
	}
	if stdout, _, _ := runCLI(t, "--dir", dir, "workspace", "show"); stdout != "fabrikam\n" {
		t.Errorf("workspace show after new: %q", stdout)
	}
	t.Setenv(WorkspaceEnv, "contoso")
	if stdout, _, _ := runCLI(t, "--dir", dir, "workspace", "show"); stdout != "contoso\n" {
		t.Errorf("workspace show with %s=contoso: %q", WorkspaceEnv, stdout)
	}
	if stdout, _, _ := runCLI(t, "--dir", dir, "--workspace", "default", "workspace", "show"); stdout != "default\n" {
		t.Errorf("--workspace beats the environment: %q", stdout)
	}
	t.Setenv(WorkspaceEnv, "")
	g := &Globals{Dir: dir, Workspace: "contoso", Stdout: io.Discard, Stderr: io.Discard}
	ev, err := g.Evaluator()
	if err != nil {
		t.Fatal(err)
	}
	outs, _ := ev.Outputs(nil)
	if outs["tenant"].Value.AsString() != "prod" {
		t.Errorf("c4sctl.workspace in configuration gave %v", outs["tenant"].Value)
	}
	if _, stderr, code := runCLI(t, "--dir", dir, "workspace", "delete", "contoso"); code != 1 || !strings.Contains(stderr, "still manages 1 resource") {
		t.Errorf("delete of a workspace with resources: exit %d\n%s", code, stderr)
	}
	if _, stderr, code := runCLI(t, "--dir", dir, "workspace", "delete", "fabrikam"); code != 1 || !strings.Contains(stderr, "in use") {
		t.Errorf("delete of the selected workspace: exit %d\n%s", code, stderr)
	}
	runCLI(t, "--dir", dir, "workspace", "select", "default")
	if _, stderr, code := runCLI(t, "--dir", dir, "workspace", "delete", "fabrikam"); code != 0 {
		t.Errorf("delete fabrikam: exit %d\n%s", code, stderr)
	}

	// And back: the local files get the container's states, lineage kept.
	if err := os.RemoveAll(filepath.Join(dir, ".c4sctl")); err != nil {
		t.Fatal(err)
	}
	if stdout, stderr, code := runCLI(t, "--dir", dir, "state", "migrate", "--to-local"); code != 0 || !strings.Contains(stdout, "Migrated 2 workspace(s)") {
		t.Fatalf("migrate --to-local: exit %d\n%s%s", code, stdout, stderr)
	}
	historyOnce("after migrate --to-local")
	for ws, lineage := range lineages {
		b, _ := local.Workspace(ws)
		st, err := b.Load()
		if err != nil || st.Lineage != lineage || st.Get("teams_meeting_policy.global") == nil || st.Get("teams_meeting_policy.global").ID != ws+"-id" {
			t.Errorf("local %s after --to-local: %v %+v", ws, err, st)
		}
	}
}
