package m365_test

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/c4sctl/c4sctl/pkg/httpx"
	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/providers/m365"
	"github.com/c4sctl/c4sctl/pkg/providers/providertest"
	"github.com/c4sctl/c4sctl/pkg/sandbox"
	"github.com/c4sctl/c4sctl/pkg/sandbox/graphapi"
	"github.com/zclconf/go-cty/cty"
)

// startHTTPX configures the provider over the real HTTP layer (httpx), as the CLI does; the last
// value is that layer's client (httpx.StatsOf).
func startHTTPX(t *testing.T) (*m365.Client, *sandbox.Server, *graphapi.Service, *http.Client) {
	t.Helper()
	svc := graphapi.New()
	sb, err := sandbox.Start(sandbox.Options{}, svc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sb.Close() })
	p := m365.New()
	env := providertest.HTTPXEnv(sb)
	c, err := p.Configure(context.Background(), providertest.ConfigValue(p, sb.URL, nil), env)
	if err != nil {
		t.Fatal(err)
	}
	return c.(*m365.Client), sb, svc, env.HTTPClient
}

// A group licence assignment whose answer is lost is made, once (assignLicense sets licences).
func TestGroupLicenseWithLostAnswerIsMade(t *testing.T) {
	for _, processed := range []bool{true, false} {
		c, sb, svc, _ := startHTTPX(t)
		ctx := context.Background()
		cfg := licCfg(map[string]cty.Value{"group_name": cty.StringVal(graphapi.SellersGroupName)})
		loser := providertest.LoseAnswers(sb, "POST", "/assignLicense", 1, processed)
		ar, err := c.Apply(ctx, providers.ApplyRequest{Type: "m365_license_assignment", Action: providers.Create, Planned: cfg})
		if err != nil || loser.Lost() != 1 {
			t.Fatalf("processed=%v: apply with a lost answer: %v (lost %d)", processed, err, loser.Lost())
		}
		rr, err := c.Read(ctx, providers.ReadRequest{Type: "m365_license_assignment", ID: ar.ID, Config: cfg})
		if err != nil || !rr.Value.GetAttr("all_licensed").True() {
			t.Fatalf("processed=%v: after apply: %v %#v", processed, err, rr.Value)
		}
		var consumed int
		sb.View(func() { consumed = svc.Tenant().Consumed(graphapi.CopilotSkuID) })
		if consumed != 250 {
			t.Errorf("processed=%v: consumed seats = %d, want 50 pilot + 200 sellers", processed, consumed)
		}
	}
}

// Over httpx, Kiota's retry handler does not retry again what httpx already retried: a request
// answered 503 every time is attempted at most httpx's MaxAttempts times, not (Kiota's
// MaxRetries+1) times as many.
func TestRetriesDoNotMultiply(t *testing.T) {
	c, sb, _, _ := startHTTPX(t)
	var n atomic.Int64
	sb.Use(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.Contains(r.URL.Path, "/subscribedSkus") {
				n.Add(1)
				w.Header().Set("Retry-After", "0")
				sandbox.WriteJSON(w, http.StatusServiceUnavailable, map[string]any{"error": map[string]any{"code": "ServiceUnavailable", "message": "down"}})
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	cfg := licCfg(map[string]cty.Value{"group_name": cty.StringVal(graphapi.SellersGroupName)})
	if _, err := c.Read(context.Background(), providers.ReadRequest{Type: "m365_license_assignment", Config: cfg}); err == nil {
		t.Fatal("read succeeded while Graph answers 503")
	}
	if got := n.Load(); got < 2 || got > httpx.DefaultMaxAttempts {
		t.Errorf("subscribedSkus was attempted %d times, want between 2 and %d (httpx's bound; Kiota must not retry on top)", got, httpx.DefaultMaxAttempts)
	}
}

// A welcome message whose send had no answer may have left: it is recorded and never sent again.
func TestWelcomeWithLostAnswerIsNotSentTwice(t *testing.T) {
	c, sb, svc, _ := startHTTPX(t)
	ctx := context.Background()
	_ = sb.Mutate(func() error {
		svc.Tenant().Groups = append(svc.Tenant().Groups, &graphapi.Group{ID: "5a11e500-0000-4000-8000-0000000000ab", DisplayName: "Pilot sellers",
			Members: []string{graphapi.UserID(1), graphapi.UserID(2), graphapi.UserID(3)}})
		svc.Reindex()
		return nil
	})
	opts := m365.WelcomeOptions{Group: "Pilot sellers", Sender: graphapi.SenderUPN, RecordPath: filepath.Join(t.TempDir(), "welcome-sent.json"), PerMinute: 6000, Send: true}
	loser := providertest.LoseAnswers(sb, "POST", "/sendMail", 1, true)
	res, _ := c.Welcome(ctx, opts)
	if loser.Lost() != 1 || res == nil || len(res.Failed) != 1 || !strings.Contains(res.Failed[0], "not sent again") {
		t.Fatalf("lost %d; result %+v", loser.Lost(), res)
	}
	if got := len(svc.Sent()); got != 3 {
		t.Fatalf("sandbox received %d messages, want 3 (the lost answer's message was delivered)", got)
	}
	res, err := c.Welcome(ctx, opts)
	if err != nil || len(res.Sent) != 0 || len(res.AlreadySent) != 3 {
		t.Fatalf("second run: %v %+v", err, res)
	}
	if got := len(svc.Sent()); got != 3 {
		t.Errorf("sandbox received %d messages after the second run, want still 3: a message was sent twice", got)
	}
}

func TestEndpointsMustBeHTTPS(t *testing.T) {
	providertest.CheckEndpointSettings(t, m365.New(), []string{"graph_endpoint", "login_endpoint"}, nil, nil)
}
