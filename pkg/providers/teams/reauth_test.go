package teams_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/zclconf/go-cty/cty"
)

// revokeAt revokes every token issued so far when the sandbox receives its nth Teams request
// (and, with every, at each later one too).
func revokeAt(h *harness, n int, every bool) *int {
	var mu sync.Mutex
	seen := 0
	h.sb.Use(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, "/teams/") {
				mu.Lock()
				seen++
				if seen == n || (every && seen > n) {
					h.sb.Tokens.RevokeAll()
				}
				mu.Unlock()
			}
			next.ServeHTTP(w, r)
		})
	})
	return &seen
}

// A token revoked mid-plan (after the first policy was read) is replaced by exactly one new
// sign-in, and the plan goes on.
func TestRevokedTokenMidPlanIsRecoveredWithOneSignIn(t *testing.T) {
	h := newHarness(t)
	revokeAt(h, 2, false)
	before := h.sb.Tokens.Issued()
	meeting := h.config("teams_meeting_policy", map[string]cty.Value{"allow_transcription": cty.True})
	setup := h.config("teams_app_setup_policy", map[string]cty.Value{"app_preset_list": strs(c4s)})
	for _, r := range []struct {
		typ string
		cfg cty.Value
	}{{"teams_meeting_policy", meeting}, {"teams_app_setup_policy", setup}, {"teams_meeting_policy", meeting}} {
		if _, err := h.c.Read(ctx, providers.ReadRequest{Type: r.typ, Config: r.cfg}); err != nil {
			t.Fatalf("read %s after the revocation: %v", r.typ, err)
		}
	}
	// One token before the revocation, one after: a second sign-in, not one per request.
	if n := h.sb.Tokens.Issued() - before; n != 2 {
		t.Errorf("%d tokens issued, want 2 (the first sign-in and one after the revocation)", n)
	}
}

// When the service also refuses the new token, c4sctl does not sign in again in a loop, and the
// message says that signing in works but the API refuses the app's tokens.
func TestSecond401SaysWhatIsWrong(t *testing.T) {
	h := newHarness(t)
	revokeAt(h, 1, true)
	before := h.sb.Tokens.Issued()
	_, err := h.c.Read(ctx, providers.ReadRequest{Type: "teams_meeting_policy", Config: h.config("teams_meeting_policy", nil)})
	if err == nil {
		t.Fatal("read succeeded with every token revoked")
	}
	for _, want := range []string{"401", "then refused the new one c4sctl signed in for", "Teams admin API"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	// Further requests do not sign in again: the renewed credential never had a token accepted.
	_, _ = h.c.Read(ctx, providers.ReadRequest{Type: "teams_app_setup_policy", Config: h.config("teams_app_setup_policy", nil)})
	if n := h.sb.Tokens.Issued() - before; n != 2 {
		t.Errorf("%d tokens issued, want 2 (no sign-in loop)", n)
	}
}
