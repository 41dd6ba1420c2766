package m365_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/sandbox"
	"github.com/c4sctl/c4sctl/pkg/sandbox/graphapi"
	"github.com/zclconf/go-cty/cty"
)

// revokeGraphTokens revokes every token issued so far on the n-th Graph request, and on every
// later one when every is true.
func revokeGraphTokens(sb *sandbox.Server, n int, every bool) {
	var mu sync.Mutex
	seen := 0
	sb.Use(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, "/graph/") {
				mu.Lock()
				seen++
				if seen == n || (every && seen > n) {
					sb.Tokens.RevokeAll()
				}
				mu.Unlock()
			}
			next.ServeHTTP(w, r)
		})
	})
}

// A Graph token revoked before the first (typed SDK) call is replaced by one new sign-in.
func TestGraphRevokedTokenIsRecoveredWithOneSignIn(t *testing.T) {
	c, sb, _ := start(t)
	revokeGraphTokens(sb, 1, false)
	before := sb.Tokens.Issued()
	cfg := licCfg(map[string]cty.Value{"group_name": cty.StringVal(graphapi.SellersGroupName)})
	if _, err := c.Read(context.Background(), providers.ReadRequest{Type: "m365_license_assignment", Config: cfg}); err != nil {
		t.Fatalf("read after a revoked token: %v", err)
	}
	if n := sb.Tokens.Issued() - before; n != 2 {
		t.Errorf("%d tokens issued, want 2 (the first and one new sign-in)", n)
	}
}

// When Graph refuses the new token too, the typed SDK's error says so (signing in works, the API
// refuses the app's tokens), like the raw requests' errors do.
func TestGraphSecond401OnTypedCallSaysWhatIsWrong(t *testing.T) {
	c, sb, _ := start(t)
	revokeGraphTokens(sb, 1, true)
	cfg := licCfg(map[string]cty.Value{"group_name": cty.StringVal(graphapi.SellersGroupName)})
	_, err := c.Read(context.Background(), providers.ReadRequest{Type: "m365_license_assignment", Config: cfg})
	if err == nil {
		t.Fatal("read succeeded with every token revoked")
	}
	for _, want := range []string{"subscribedSkus", "401", "then refused the new one c4sctl signed in for", "Microsoft Graph"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
}
