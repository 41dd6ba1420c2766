package cli

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Every token is revoked in the middle of a plan of the quickstart (after the fourth Microsoft
// API request): each Microsoft provider signs in again exactly once per token audience it still
// needs, and the plan completes.
func TestRevokedTokensMidPlanAreRecoveredWithOneSignIn(t *testing.T) {
	t.Parallel() // waits on the sandbox and the binary, not the CPU
	bin := c4sctlBinary(t)
	s := startStandalone(t, "reauth-test-secret")
	s.doManualSteps(t)

	var mu sync.Mutex
	apiCalls, revoked := 0, false
	after := map[string]int{}  // token requests after the revocation, by scope
	before := map[string]int{} // and before
	s.sb.Use(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p := r.URL.Path
			switch {
			case strings.HasSuffix(p, "/oauth2/v2.0/token"):
				b, _ := io.ReadAll(r.Body)
				r.Body = io.NopCloser(bytes.NewReader(b))
				form, _ := url.ParseQuery(string(b))
				mu.Lock()
				if revoked {
					after[form.Get("scope")]++
				} else {
					before[form.Get("scope")]++
				}
				mu.Unlock()
			case strings.HasPrefix(p, "/teams/"), strings.HasPrefix(p, "/graph/"), strings.HasPrefix(p, "/bap/"), strings.HasPrefix(p, "/dataverse/"):
				mu.Lock()
				apiCalls++
				if apiCalls == 4 {
					s.sb.Tokens.RevokeAll()
					revoked = true
				}
				mu.Unlock()
			}
			next.ServeHTTP(w, r)
		})
	})
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.c4s.hcl"), []byte(s.providerBlocks()+quickstartResources(t)), 0o600); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := runBin(t, bin, s.cliEnv(), "--dir", dir, "--no-color", "plan", "--detailed-exitcode")
	if code != 2 {
		t.Fatalf("plan: exit %d, want 2 (changes, no error)\n%s\n%s", code, stdout, stderr)
	}
	mu.Lock()
	defer mu.Unlock()
	if !revoked {
		t.Fatal("the tokens were never revoked: the test did not exercise re-authentication")
	}
	renewed := 0
	for scope, n := range after {
		if n != 1 {
			t.Errorf("scope %s: %d sign-ins after the revocation, want 1", scope, n)
		}
		if before[scope] > 0 {
			renewed++
		}
	}
	if renewed == 0 {
		t.Errorf("no token was renewed after the revocation (before %v, after %v)", before, after)
	}
	t.Logf("token requests before the revocation %v, after %v", before, after)
}
