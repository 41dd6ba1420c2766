package m365_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/providers/m365"
	"github.com/c4sctl/c4sctl/pkg/providers/providertest"
	"github.com/c4sctl/c4sctl/pkg/sandbox"
	"github.com/c4sctl/c4sctl/pkg/sandbox/graphapi"
	"github.com/zclconf/go-cty/cty"
)

func licType() cty.Type {
	for _, r := range m365.New().Resources() {
		if r.Type == "m365_license_assignment" {
			return r.ImpliedType()
		}
	}
	panic("no schema")
}

func licCfg(set map[string]cty.Value) cty.Value {
	if _, ok := set["sku_part_number"]; !ok {
		set["sku_part_number"] = cty.StringVal(m365.Defaults.SkuPartNumber)
	}
	if _, ok := set["all_licensed"]; !ok {
		set["all_licensed"] = cty.True
	}
	return providertest.Object(licType(), set)
}

func start(t *testing.T) (*m365.Client, *sandbox.Server, *graphapi.Service) {
	t.Helper()
	svc := graphapi.New()
	c, sb := providertest.Start(t, m365.New(), svc)
	return c.(*m365.Client), sb, svc
}

// plan runs Read then PlanChange as the engine does.
func plan(t *testing.T, c *m365.Client, typ string, cfg cty.Value) (providers.ReadResponse, providers.PlanResponse, error) {
	t.Helper()
	ctx := context.Background()
	rr, err := c.Read(ctx, providers.ReadRequest{Type: typ, Config: cfg})
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	action := providers.Create
	if rr.ID != "" {
		action = providers.Update
	}
	pr, err := c.PlanChange(ctx, providers.PlanRequest{Type: typ, ID: rr.ID, Action: action, Config: cfg, Prior: rr.Value, Planned: cfg})
	return rr, pr, err
}

func TestGroupLicensingConvergesAndReadsBack(t *testing.T) {
	c, sb, svc := start(t)
	ctx := context.Background()
	cfg := licCfg(map[string]cty.Value{"group_name": cty.StringVal(graphapi.SellersGroupName)})
	rr, pr, err := plan(t, c, "m365_license_assignment", cfg)
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	if rr.ID != "" {
		t.Fatalf("seed: Sellers already licensed (%s)", rr.ID)
	}
	if !containsAll(strings.Join(pr.Notes, "\n"), "200 needed", "250 free") {
		t.Fatalf("notes do not show seats needed vs free: %q", pr.Notes)
	}
	ar, err := c.Apply(ctx, providers.ApplyRequest{Type: "m365_license_assignment", Action: providers.Create, Planned: cfg})
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	rr, err = c.Read(ctx, providers.ReadRequest{Type: "m365_license_assignment", ID: ar.ID, Config: cfg})
	if err != nil || rr.ID == "" {
		t.Fatalf("re-read: %v %q", err, rr.ID)
	}
	if !rr.Value.GetAttr("all_licensed").True() || rr.Value.GetAttr("group_id").AsString() != graphapi.SellersGroupID {
		t.Fatalf("live value after apply: %#v", rr.Value)
	}
	var consumed int
	sb.View(func() { consumed = svc.Tenant().Consumed(graphapi.CopilotSkuID) })
	if consumed != 250 {
		t.Fatalf("consumed seats = %d, want 50 pilot + 200 sellers", consumed)
	}
}

func TestSeatShortageRefusedWithNumbers(t *testing.T) {
	c, sb, _ := start(t)
	cfg := licCfg(map[string]cty.Value{"users_from_group": cty.StringVal(graphapi.AllSalesGroupName)})
	rr, pr, err := plan(t, c, "m365_license_assignment", cfg)
	if err == nil {
		t.Fatalf("plan accepted 300 users for 250 free seats; notes %q", pr.Notes)
	}
	// 300 members, 3 without usage location (cannot be licensed): 297 seats needed.
	if !containsAll(err.Error(), "297", "250 are free", "300 bought", "50 assigned", "Microsoft_365_Copilot") {
		t.Fatalf("seat error does not name the numbers: %v", err)
	}
	if !containsAll(strings.Join(rr.Warnings, "\n"), "3 users to license have no usage location", graphapi.UserUPN(250)) {
		t.Fatalf("users without usage location not reported before assignment: %q", rr.Warnings)
	}
	// Apply refuses too, before writing anything.
	sb.RequestLog().Reset()
	if _, err := c.Apply(context.Background(), providers.ApplyRequest{Type: "m365_license_assignment", Action: providers.Create, Planned: cfg}); err == nil {
		t.Fatal("apply licensed beyond the free seats")
	}
	if n := sb.RequestLog().Count("POST /graph/v1.0/$batch"); n != 0 {
		t.Fatalf("apply sent %d batches despite the shortage", n)
	}
	// Group-based licensing of All Sales is refused the same way.
	_, _, err = plan(t, c, "m365_license_assignment", licCfg(map[string]cty.Value{"group_name": cty.StringVal(graphapi.AllSalesGroupName)}))
	if err == nil || !strings.Contains(err.Error(), "300 more but only 250") {
		t.Fatalf("group shortage: %v", err)
	}
}

func TestPerUserLicensingBatchesAndPages(t *testing.T) {
	svc := graphapi.New()
	svc.SeedLarge(12000, 10000)
	cl, sb := providertest.Start(t, m365.New(), svc)
	c := cl.(*m365.Client)
	ctx := context.Background()
	// The large seed keeps NoUsageLocation users in All Sales only; Sellers (1..10000) holds
	// 250, 275, 290, 1000, 1500 too: they are reported and skipped.
	cfg := licCfg(map[string]cty.Value{"users_from_group": cty.StringVal(graphapi.SellersGroupName)})
	sb.RequestLog().Reset()
	var reports []providers.Progress
	var mu sync.Mutex
	pctx := providers.WithProgress(ctx, func(p providers.Progress) { mu.Lock(); reports = append(reports, p); mu.Unlock() })
	_, err := c.Apply(pctx, providers.ApplyRequest{Type: "m365_license_assignment", Action: providers.Create, Planned: cfg})
	if err == nil || !strings.Contains(err.Error(), "5 users were not licensed because they have no usage location") {
		t.Fatalf("apply: want the usage-location report, got %v", err)
	}
	// Progress is reported batch by batch, up to every user.
	mu.Lock()
	if n := len(reports); n < 400 || reports[n-1].Done != 9995 || reports[n-1].Total != 9995 || reports[n-1].Unit != "users" {
		t.Fatalf("%d progress reports, last %+v; want one per batch, ending at 9995 of 9995 users", n, reports[len(reports)-1])
	}
	mu.Unlock()
	writes := sb.RequestLog().Count("POST /graph/v1.0/$batch")
	pages := sb.RequestLog().Count("GET /graph/v1.0/groups/{id}/members")
	perUser := sb.RequestLog().Count("POST /graph/v1.0/users/{id}/assignLicense")
	t.Logf("10,000 members: %d $batch writes, %d member pages, total %d requests\n%s", writes, pages, sb.RequestLog().Total(), sb.RequestLog())
	if max := (10000 + 19) / 20; writes > max {
		t.Fatalf("%d batch requests, want at most %d", writes, max)
	}
	if perUser != 0 {
		t.Fatalf("%d per-user round trips", perUser)
	}
	if pages != (10000+998)/999 {
		t.Fatalf("member pages = %d, want %d ($top=999)", pages, (10000+998)/999)
	}
	rr, err := c.Read(ctx, providers.ReadRequest{Type: "m365_license_assignment", ID: "x", Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	if got := rr.Value.GetAttr("licensed_count"); !got.Equals(cty.NumberIntVal(9995)).True() {
		t.Fatalf("licensed_count = %#v, want 9995", got)
	}
	if rr.Value.GetAttr("all_licensed").True() {
		t.Fatal("all_licensed true while 5 members lack a usage location")
	}
}

func TestThrottlingHonouredAndBounded(t *testing.T) {
	c, sb, svc := start(t)
	ctx := context.Background()
	cfg := licCfg(map[string]cty.Value{"users": cty.SetVal([]cty.Value{cty.StringVal(graphapi.UserUPN(3)), cty.StringVal(graphapi.UserUPN(4))})})
	svc.Throttle(1, time.Second)
	began := time.Now()
	rr, err := c.Read(ctx, providers.ReadRequest{Type: "m365_license_assignment", Config: cfg})
	if err != nil {
		t.Fatalf("read after one 429: %v", err)
	}
	if time.Since(began) < time.Second {
		t.Fatalf("retried before Retry-After elapsed (%v)", time.Since(began))
	}
	if c.Retries() != 1 {
		t.Fatalf("retries = %d, want 1", c.Retries())
	}
	_ = rr
	// Throttled sub-requests inside a batch are sent again.
	svc.ThrottleBatchItems(1, time.Second)
	if _, err := c.Apply(ctx, providers.ApplyRequest{Type: "m365_license_assignment", Action: providers.Create, Planned: cfg}); err != nil {
		t.Fatalf("apply with a throttled batch item: %v", err)
	}
	rr, err = c.Read(ctx, providers.ReadRequest{Type: "m365_license_assignment", ID: "x", Config: cfg})
	if err != nil || !rr.Value.GetAttr("all_licensed").True() {
		t.Fatalf("after apply: %v %#v", err, rr.Value)
	}
	// A throttle that never ends fails after MaxRetries retries, naming the wait.
	svc.Throttle(100, time.Second)
	sb.RequestLog().Reset()
	_, err = c.Read(ctx, providers.ReadRequest{Type: "m365_license_assignment", Config: cfg})
	if err == nil || !strings.Contains(err.Error(), "429") {
		t.Fatalf("endless throttling: %v", err)
	}
	if n := sb.RequestLog().Count("GET /graph/v1.0/subscribedSkus"); n != m365.MaxRetries+1 {
		t.Fatalf("%d attempts, want %d", n, m365.MaxRetries+1)
	}
	svc.Throttle(0, 0)
}

func TestCloudEndpointSelection(t *testing.T) {
	p := m365.New()
	for cloud, want := range map[string]string{
		"public": "https://graph.microsoft.com", "usgov": "https://graph.microsoft.com", "usgovhigh": "https://graph.microsoft.us",
		"dod": "https://dod-graph.microsoft.us", "china": "https://microsoftgraph.chinacloudapi.cn",
	} {
		cfg := providertest.ConfigValue(p, "https://127.0.0.1:1", map[string]cty.Value{"cloud": cty.StringVal(cloud), "graph_endpoint": cty.NullVal(cty.String)})
		base, scope, err := m365.Endpoints(cfg, func(string) string { return "" })
		if err != nil || base != want || scope != want+"/.default" {
			t.Errorf("%s: base %q scope %q err %v; want %s", cloud, base, scope, err, want)
		}
	}
	cfg := providertest.ConfigValue(p, "https://127.0.0.1:1", map[string]cty.Value{"cloud": cty.StringVal("usgovhigh")})
	base, scope, _ := m365.Endpoints(cfg, func(string) string { return "" })
	if base != "https://127.0.0.1:1/graph" || scope != "https://graph.microsoft.us/.default" {
		t.Errorf("override: %q %q", base, scope)
	}
	if _, _, err := m365.Endpoints(providertest.ConfigValue(p, "https://x", map[string]cty.Value{"graph_endpoint": cty.StringVal("http://plain")}), func(string) string { return "" }); err == nil {
		t.Error("http graph_endpoint accepted")
	}
	// A configured client talks to the sandbox under /graph/v1.0.
	c, sb, _ := start(t)
	if !strings.HasSuffix(c.GraphBase(), "/graph") || !strings.HasPrefix(c.GraphBase(), sb.URL) {
		t.Fatalf("base %q", c.GraphBase())
	}
}

func TestWrongAudienceOrMissingRoleGivesActionableError(t *testing.T) {
	svc := graphapi.New()
	sb, err := sandbox.Start(sandbox.Options{}, svc)
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	app := sb.Apps().Get(sandbox.ClientID)
	app.Roles[graphapi.Audience] = []string{"User.Read.All"} // no licence permission
	cl, err := providertest.Configure(m365.New(), sb, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = cl.Read(context.Background(), providers.ReadRequest{Type: "m365_license_assignment", Config: licCfg(map[string]cty.Value{"group_name": cty.StringVal("Sellers")})})
	if err == nil || !containsAll(err.Error(), "403", "Authorization_RequestDenied", "c4sctl preflight") {
		t.Fatalf("missing permission: %v", err)
	}
	if strings.Contains(err.Error(), sandbox.ClientSecret) {
		t.Fatal("secret in error")
	}
}

func containsAll(s string, subs ...string) bool {
	for _, x := range subs {
		if !strings.Contains(s, x) {
			fmt.Println("missing:", x)
			return false
		}
	}
	return true
}
