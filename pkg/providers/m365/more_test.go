package m365_test

import (
	"context"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/providers/m365"
	"github.com/c4sctl/c4sctl/pkg/sandbox/graphapi"
	"github.com/zclconf/go-cty/cty"
)

func TestDisabledPlansUsersModeAndDelete(t *testing.T) {
	c, sb, svc := start(t)
	ctx := context.Background()
	users := cty.SetVal([]cty.Value{cty.StringVal(graphapi.UserUPN(10)), cty.StringVal(graphapi.UserUPN(11)), cty.StringVal("ghost@contoso-sandbox.onmicrosoft.com")})
	cfg := licCfg(map[string]cty.Value{"users": users, "disabled_plans": cty.SetVal([]cty.Value{cty.StringVal("M365_COPILOT_TEAMS")})})
	rr, _, err := plan(t, c, "m365_license_assignment", cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(rr.Warnings, " "), "1 listed users do not exist in the tenant: ghost@") {
		t.Fatalf("warnings: %q", rr.Warnings)
	}
	_, err = c.Apply(ctx, providers.ApplyRequest{Type: "m365_license_assignment", Action: providers.Create, Planned: cfg})
	if err == nil || !strings.Contains(err.Error(), "licensed 2 users") || !strings.Contains(err.Error(), "ghost@") {
		t.Fatalf("apply: %v", err)
	}
	var plans []string
	sb.View(func() {
		for _, u := range svc.Tenant().Users {
			if u.UPN == graphapi.UserUPN(10) && len(u.Licenses) == 1 {
				plans = u.Licenses[0].DisabledPlans
			}
		}
	})
	if len(plans) != 1 || plans[0] != "b95945de-b3bd-46db-8437-f2beb6ea2347" {
		t.Fatalf("disabled plans sent: %v", plans)
	}
	if _, err := c.Read(ctx, providers.ReadRequest{Type: "m365_license_assignment", Config: licCfg(map[string]cty.Value{"users": users, "disabled_plans": cty.SetVal([]cty.Value{cty.StringVal("NOPE")})})}); err == nil || !strings.Contains(err.Error(), "M365_COPILOT_TEAMS") {
		t.Fatalf("unknown plan: %v", err)
	}
	// Group mode: apply, then delete removes the group's licence.
	gcfg := licCfg(map[string]cty.Value{"group_id": cty.StringVal(graphapi.SellersGroupID)})
	ar, err := c.Apply(ctx, providers.ApplyRequest{Type: "m365_license_assignment", Action: providers.Create, Planned: gcfg})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Apply(ctx, providers.ApplyRequest{Type: "m365_license_assignment", Action: providers.Delete, ID: ar.ID, Prior: cty.NullVal(licType())}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	rr, err = c.Read(ctx, providers.ReadRequest{Type: "m365_license_assignment", ID: ar.ID, Config: cty.NullVal(licType())})
	if err != nil || rr.ID != "" {
		t.Fatalf("after delete: %v %q", err, rr.ID)
	}
	// Exactly one target.
	if _, err := c.Read(ctx, providers.ReadRequest{Type: "m365_license_assignment", Config: licCfg(map[string]cty.Value{"group_id": cty.StringVal("x"), "users": users})}); err == nil {
		t.Fatal("two targets accepted")
	}
}

// Malformed or hostile answers never panic and fail with a message.
func TestMalformedAnswers(t *testing.T) {
	c, sb, _ := start(t)
	ctx := context.Background()
	var mode atomic.Value
	mode.Store("")
	sb.Use(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			m := mode.Load().(string)
			if m == "" || !strings.Contains(r.URL.Path, "/graph/") {
				next.ServeHTTP(w, r)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			switch m {
			case "garbage":
				_, _ = w.Write([]byte(`{"value": "not a list"`))
			case "types":
				_, _ = w.Write([]byte(`{"value":[1,"x",null,{"id":7,"skuId":"nope","prepaidUnits":"x"}],"responses":"x"}`))
			case "foreign":
				_, _ = w.Write([]byte(`{"value":[],"@odata.nextLink":"https://evil.example/steal"}`))
			case "twolinks":
				link := "https://" + r.Host + r.URL.Path
				_, _ = w.Write([]byte(`{"@odata.nextLink":"` + link + `?a","@odata.nextLink":"` + link + `?b","value":[]}`))
			case "empty500":
				w.WriteHeader(500)
			}
		})
	})
	lic := licCfg(map[string]cty.Value{"users_from_group": cty.StringVal("Sellers")})
	app := appCfg(map[string]cty.Value{"everyone": cty.True})
	for _, m := range []string{"garbage", "types", "foreign", "empty500"} {
		mode.Store(m)
		for _, typ := range []string{"m365_license_assignment", "m365_integrated_app", "teams_app"} {
			cfg := lic
			if typ == "m365_integrated_app" {
				cfg = app
			}
			if typ == "teams_app" {
				cfg = cty.NullVal(cty.DynamicPseudoType)
			}
			func() {
				defer func() {
					if p := recover(); p != nil {
						t.Fatalf("%s / %s panicked: %v", m, typ, p)
					}
				}()
				_, _ = c.Read(ctx, providers.ReadRequest{Type: typ, Config: cfg})
				_, _ = c.Apply(ctx, providers.ApplyRequest{Type: typ, Action: providers.Create, Planned: cfg})
			}()
		}
		if rep, err := c.Preflight(ctx, nil); m != "foreign" && err == nil && rep.Blocking() == 0 {
			t.Fatalf("%s: preflight saw nothing wrong: %+v", m, rep.Lines)
		}
	}
	mode.Store("foreign")
	_, err := c.Read(ctx, providers.ReadRequest{Type: "m365_integrated_app", Config: app})
	if err == nil || !strings.Contains(err.Error(), "refusing") {
		t.Fatalf("foreign next link: %v", err)
	}
	mode.Store("twolinks")
	_, err = c.Read(ctx, providers.ReadRequest{Type: "m365_integrated_app", Config: app})
	if err == nil || !strings.Contains(err.Error(), "two next page links") {
		t.Fatalf("two next links: %v", err)
	}
	mode.Store("")
}

func TestWelcomeKeepsWithinMailboxLimits(t *testing.T) {
	c, sb, svc := start(t)
	var inFlight, maxInFlight int64
	var mu sync.Mutex
	var times []time.Time
	sb.Use(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !strings.HasSuffix(r.URL.Path, "/sendMail") {
				next.ServeHTTP(w, r)
				return
			}
			n := atomic.AddInt64(&inFlight, 1)
			for {
				m := atomic.LoadInt64(&maxInFlight)
				if n <= m || atomic.CompareAndSwapInt64(&maxInFlight, m, n) {
					break
				}
			}
			mu.Lock()
			times = append(times, time.Now())
			mu.Unlock()
			time.Sleep(150 * time.Millisecond)
			next.ServeHTTP(w, r)
			atomic.AddInt64(&inFlight, -1)
		})
	})
	_ = sb.Mutate(func() error {
		var members []string
		for i := 1; i <= 12; i++ {
			members = append(members, graphapi.UserID(i))
		}
		svc.Tenant().Groups = append(svc.Tenant().Groups, &graphapi.Group{ID: "5a11e500-0000-4000-8000-0000000000bb", DisplayName: "Twelve", Members: members})
		svc.Reindex()
		return nil
	})
	// 1,200 a minute = one every 50 ms: fast, yet paced; 4 at a time.
	start := time.Now()
	res, err := c.Welcome(context.Background(), m365.WelcomeOptions{Group: "Twelve", Sender: graphapi.SenderUPN, Send: true,
		RecordPath: t.TempDir() + "/welcome-sent.json", PerMinute: 1200, Concurrency: 4})
	if err != nil || len(res.Sent) != 12 {
		t.Fatalf("%v %+v", err, res)
	}
	if maxInFlight > 4 {
		t.Fatalf("%d concurrent sendMail requests", maxInFlight)
	}
	// Paced at one per 50 ms with no burst: message k (counting from 0, in arrival order) cannot
	// reach the server before start + k x 50 ms. Only a lower bound is checked, so a loaded
	// machine, which only delays requests, cannot fail it; a burst or a missing pause does.
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	for k, at := range times {
		if earliest := start.Add(time.Duration(k) * 50 * time.Millisecond); at.Before(earliest) {
			t.Fatalf("message %d reached the server %v after the start, before its slot at %v: not paced", k, at.Sub(start), earliest.Sub(start))
		}
	}
	if m365.MailsPerMinute != 30 || m365.MailsConcurrency != 4 {
		t.Fatal("default mailbox limits changed")
	}
}

func TestUnknownTargetAndMissingSku(t *testing.T) {
	c, _, _ := start(t)
	ctx := context.Background()
	rr, err := c.Read(ctx, providers.ReadRequest{Type: "m365_license_assignment", Config: licCfg(map[string]cty.Value{"group_id": cty.UnknownVal(cty.String)})})
	if err != nil || rr.ID != "" || !rr.Value.IsNull() {
		t.Fatalf("unknown target: %v %#v", err, rr)
	}
	cfg := licCfg(map[string]cty.Value{"group_name": cty.StringVal("Sellers"), "sku_part_number": cty.StringVal("SALES_AGENT_2099")})
	rr, err = c.Read(ctx, providers.ReadRequest{Type: "m365_license_assignment", Config: cfg})
	if err != nil || !strings.Contains(rr.Deferred, "no subscription with SKU part number \"SALES_AGENT_2099\"") || !strings.Contains(rr.Deferred, "Microsoft_365_Copilot") {
		t.Fatalf("missing SKU: %v %q", err, rr.Deferred)
	}
	rep, err := c.Preflight(ctx, []m365.PreflightResource{{Addr: "m365_license_assignment.x", Type: "m365_license_assignment", Config: cfg}})
	if err != nil || rep.Blocking() != 1 {
		t.Fatalf("preflight: %v %+v", err, rep)
	}
}

func TestTwoAppsPlanIndependently(t *testing.T) {
	c, _, _ := start(t)
	ctx := context.Background()
	found := appCfg(map[string]cty.Value{"everyone": cty.True})
	missing := appCfg(map[string]cty.Value{"display_name": cty.StringVal("Not In Catalog"), "everyone": cty.True})
	for _, cfg := range []cty.Value{found, missing} {
		if _, err := c.Read(ctx, providers.ReadRequest{Type: "m365_integrated_app", Config: cfg}); err != nil {
			t.Fatal(err)
		}
	}
	p1, _ := c.PlanChange(ctx, providers.PlanRequest{Type: "m365_integrated_app", Action: providers.Create, Config: found, Planned: found})
	p2, _ := c.PlanChange(ctx, providers.PlanRequest{Type: "m365_integrated_app", Action: providers.Create, Config: missing, Planned: missing})
	if p1.Action == providers.Manual || p2.Action != providers.Manual {
		t.Fatalf("found: %q, missing: %q", p1.Action, p2.Action)
	}
}
