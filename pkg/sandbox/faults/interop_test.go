package faults_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/c4sctl/c4sctl/pkg/httpx"
	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/providers/entra"
	"github.com/c4sctl/c4sctl/pkg/sandbox"
	"github.com/c4sctl/c4sctl/pkg/sandbox/faults"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// azidentity signs in through httpx while every API request is faulted: the identity endpoint is
// spared, token requests (POST) are replay-safe, and the secret and token never reach the log.
func TestAzidentityThroughHTTPX(t *testing.T) {
	t.Parallel()
	sb, inj, _, _ := start(t, faults.Options{FaultRate: 1, Seed: 5, Latency: 5 * time.Millisecond, RetryAfter: 10 * time.Millisecond})
	var logs syncBuf
	hc := httpx.NewClient(httpx.Options{RootCAs: sb.CertPool(), BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond,
		Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	cred, err := entra.Credential(entra.Settings{TenantID: sandbox.TenantID, Cloud: "public", Auth: "client_secret",
		ClientID: sandbox.ClientID, ClientSecret: sandbox.ClientSecret, LoginEndpoint: sb.URL + "/"},
		&providers.Env{HTTPClient: hc, Getenv: func(string) string { return "" }, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{"https://graph.microsoft.com/.default"}})
	if err != nil {
		t.Fatalf("sign-in: %s", httpx.Redact(err.Error()))
	}
	if tok.Token == "" {
		t.Fatal("empty token")
	}
	// API requests are all faulted and fail in the end; the token still must not appear anywhere.
	if resp, err := hc.Get(sb.URL + "/api/items?access_token=" + tok.Token); err == nil {
		resp.Body.Close()
	}
	out := logs.String()
	for _, secret := range []string{sandbox.ClientSecret, tok.Token} {
		if strings.Contains(out, secret) {
			t.Errorf("log holds a secret:\n%s", out)
		}
	}
	if !strings.Contains(out, "oauth2/v2.0/token") {
		t.Errorf("token request not logged:\n%s", out)
	}
	if inj.Counters().TotalFaults() == 0 {
		t.Error("no faults injected on the API")
	}
}

// A client whose budget matches the API's throttle is (almost) never answered 429. The API's
// bucket holds as many requests as the client has in flight (8): on a loaded machine the
// scheduler may release a few paced requests together, which a real API's burst absorbs too;
// without the budget the 30 requests still arrive far faster than 50/s and are throttled.
func TestBudgetMatchingThrottle(t *testing.T) {
	t.Parallel()
	sb, inj, _, _ := start(t, faults.Options{Throttle: 50, Burst: 8})
	tr := httpx.New(httpx.Options{RootCAs: sb.CertPool(), Concurrency: 8, Limits: map[string]httpx.Limit{"/api": {RPS: 45, Burst: 1}}})
	hc := &budgetClient{tr}
	var wg sync.WaitGroup
	for i := 0; i < 30; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := hc.get(sb.URL + "/api/items"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if c := inj.Counters(); c.Throttled > 1 || tr.Stats().Requests != 30 {
		t.Errorf("throttled %d times (stats %+v)", c.Throttled, tr.Stats())
	}
}

type budgetClient struct{ tr *httpx.Transport }

func (c *budgetClient) get(u string) error {
	resp, err := (&http.Client{Transport: c.tr}).Get(u)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}
