package entra

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// counterCred is a credential that hands out one token per instance (as a fresh azidentity
// credential signs in once and caches); signIns counts the instances' first tokens.
type counterCred struct {
	n       int64
	signIns *atomic.Int64
	once    sync.Once
}

func (c *counterCred) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	c.once.Do(func() { c.signIns.Add(1) })
	return azcore.AccessToken{Token: fmt.Sprintf("tok-%d", c.n), ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// Twenty requests that all see their token refused at once share one new sign-in, and each is
// sent again exactly once with the new token.
func TestConcurrent401sShareOneSignIn(t *testing.T) {
	var signIns, gen atomic.Int64
	build := func() (azcore.TokenCredential, error) {
		return &counterCred{n: gen.Add(1), signIns: &signIns}, nil
	}
	cred, err := NewReauth(build)
	if err != nil {
		t.Fatal(err)
	}
	var refused sync.Map // tokens the server refuses
	refused.Store("Bearer tok-1", true)
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if _, bad := refused.Load(r.Header.Get("Authorization")); bad {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte("ok"))
	}))
	defer srv.Close()
	hc := Client(srv.Client(), cred)
	send := func(body string) (*http.Response, error) {
		tok, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{"api://x/.default"}})
		if err != nil {
			return nil, err
		}
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok.Token)
		return hc.Do(req)
	}
	// Every request takes its token before any is sent, so that all 20 carry tok-1 and meet the
	// 401 together; a goroutine the scheduler starts late would otherwise get tok-2 at once.
	var wg sync.WaitGroup
	var failed atomic.Int64
	var tokensTaken sync.WaitGroup
	tokensTaken.Add(20)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{"api://x/.default"}})
			tokensTaken.Done()
			if err != nil {
				failed.Add(1)
				return
			}
			tokensTaken.Wait()
			req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader("payload"))
			req.Header.Set("Authorization", "Bearer "+tok.Token)
			resp, err := hc.Do(req)
			if err != nil || resp.StatusCode != 200 || !Reauthenticated(resp) {
				failed.Add(1)
			}
			if resp != nil {
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	if failed.Load() != 0 {
		t.Fatalf("%d requests not recovered", failed.Load())
	}
	if n := cred.Renewals(); n != 1 {
		t.Errorf("%d renewals, want 1", n)
	}
	if n := signIns.Load(); n != 2 {
		t.Errorf("%d sign-ins, want 2 (the first and one after the 401s)", n)
	}
	if n := hits.Load(); n != 40 {
		t.Errorf("%d requests reached the server, want 40 (each sent twice)", n)
	}
	// Later both the current token and the next one are refused: one renewal (tok-2 had worked),
	// its 401 is returned as it is, and tok-3, never accepted, is not renewed again (no loop).
	refused.Store("Bearer tok-2", true)
	refused.Store("Bearer tok-3", true)
	resp, err := send("again")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || !Reauthenticated(resp) {
		t.Errorf("after a renewal: status %d, reauthenticated %v", resp.StatusCode, Reauthenticated(resp))
	}
	resp, err = send("third")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || Reauthenticated(resp) {
		t.Errorf("with a never-accepted token: status %d, reauthenticated %v", resp.StatusCode, Reauthenticated(resp))
	}
	if n := cred.Renewals(); n != 2 {
		t.Errorf("%d renewals, want 2", n)
	}
}

// A request that took the token of another request's renewal, and meets a 401 with it before any
// request succeeded with that token, is not sent again (no loop), but its ReauthNote says the
// fresh token was refused: the typed Graph SDK's error then says "signing in works, but this API
// does not accept the app's tokens", as it does for the request that renewed.
func TestFreshTokenRefusedMarksTheNote(t *testing.T) {
	var signIns, gen atomic.Int64
	cred, err := NewReauth(func() (azcore.TokenCredential, error) { return &counterCred{n: gen.Add(1), signIns: &signIns}, nil })
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusUnauthorized) }))
	defer srv.Close()
	hc := Client(srv.Client(), cred)
	send := func() *ReauthNote {
		ctx, note := WithReauthNote(context.Background())
		tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{"api://x/.default"}})
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
		req.Header.Set("Authorization", "Bearer "+tok.Token)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return note
	}
	if !send().RefusedAfterSignIn() { // tok-1 refused, renewed, tok-2 refused on the resend
		t.Fatal("the resend's 401 is not noted")
	}
	if !send().RefusedAfterSignIn() { // takes tok-2 (never accepted): not renewed, but noted
		t.Error("a request that carried the new sign-in's token and met 401 is not noted as refused after a sign-in")
	}
	if n := cred.Renewals(); n != 1 {
		t.Errorf("%d renewals, want 1", n)
	}
}

// scopedCred is a credential that signs in once per scope and caches the token, as an
// azidentity credential does; signIns counts sign-ins by scope across every instance.
type scopedCred struct {
	gen     int64
	mu      sync.Mutex
	cache   map[string]string
	signIns *sync.Map // scope -> *atomic.Int64
}

func (c *scopedCred) GetToken(_ context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := o.Scopes[0]
	if c.cache[s] == "" {
		n, _ := c.signIns.LoadOrStore(s, new(atomic.Int64))
		n.(*atomic.Int64).Add(1)
		c.cache[s] = fmt.Sprintf("gen%d-%s", c.gen, s)
	}
	return azcore.AccessToken{Token: c.cache[s], ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// A revocation refuses every token issued before it. A token of another scope signed in for
// between the revocation and the renewal (here dataverse's first token, taken while the
// Power Platform admin API's token was already revoked but not yet refused) is valid: the
// renewal for the refused scope must not throw it away, or that scope signs in a second time
// for a token nobody refused (TestRevokedTokensMidPlanAreRecoveredWithOneSignIn saw
// "dataverse: 2 sign-ins after the revocation" under load). A scope whose token is then refused
// signs in once on the newer credential, which costs no further renewal.
func TestRenewalKeepsValidTokensOfOtherScopes(t *testing.T) {
	signIns := &sync.Map{}
	var gen atomic.Int64
	cred, err := NewReauth(func() (azcore.TokenCredential, error) {
		return &scopedCred{gen: gen.Add(1), cache: map[string]string{}, signIns: signIns}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	revoked := map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if revoked[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")] {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte("ok"))
	}))
	defer srv.Close()
	hc := Client(srv.Client(), cred)
	token := func(scope string) string {
		tok, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{scope}})
		if err != nil {
			t.Fatal(err)
		}
		return tok.Token
	}
	send := func(tok string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		return resp
	}
	count := func(scope string) int64 {
		n, ok := signIns.Load(scope)
		if !ok {
			return 0
		}
		return n.(*atomic.Int64).Load()
	}
	const bap, dv, graph = "bap/.default", "dataverse/.default", "graph/.default"
	bapTok, graphTok := token(bap), token(graph)
	send(bapTok)
	send(graphTok)
	revoke := func(toks ...string) {
		mu.Lock()
		defer mu.Unlock()
		for _, tk := range toks {
			revoked[tk] = true
		}
	}
	revoke(bapTok, graphTok)
	dvTok := token(dv) // signed in after the revocation: valid
	if resp := send(bapTok); !Reauthenticated(resp) {
		t.Fatal("the refused token was not renewed")
	}
	if got := token(dv); got != dvTok {
		t.Errorf("after the renewal for %s, %s's valid token %s was replaced by %s", bap, dv, dvTok, got)
	}
	send(token(dv))
	if resp := send(graphTok); !Reauthenticated(resp) {
		t.Fatal("graph's refused token was not renewed")
	}
	send(token(graph))
	send(token(bap))
	for scope, want := range map[string]int64{bap: 2, graph: 2, dv: 1} {
		if n := count(scope); n != want {
			t.Errorf("%s: %d sign-ins, want %d", scope, n, want)
		}
	}
	if n := cred.Renewals(); n != 1 {
		t.Errorf("%d renewals (new credentials), want 1: graph's refusal is served by the credential bap's renewal made", n)
	}
}
