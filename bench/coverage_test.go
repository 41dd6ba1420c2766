package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/c4sctl/c4sctl/pkg/cli"
	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/providers/m365"
	"github.com/c4sctl/c4sctl/pkg/providers/providertest"
	"github.com/c4sctl/c4sctl/pkg/providers/salesforce"
	"github.com/c4sctl/c4sctl/pkg/providers/teams"
	"github.com/c4sctl/c4sctl/pkg/sandbox/faults"
	"github.com/c4sctl/c4sctl/pkg/sandbox/graphapi"
	"github.com/c4sctl/c4sctl/pkg/sandbox/salesforceapi"
	"github.com/zclconf/go-cty/cty"
)

// BenchmarkSellerCoverage reads the seller coverage plan prints (issue 16) for BENCH_SELLERS
// (20,000) sellers in a tenant of BENCH_COVERAGE_USERS (25,000) users, every request delayed by
// BENCH_LATENCY (20ms): the Sellers group's members once, the Teams policies they get, and the
// Entra-Salesforce reconciliation (the org has as many active Standard Users, each with the
// Federation ID of the Entra user of the same number, all holding the quickstart's permission
// set). The quickstart is applied first (group-based licence, the permission set's 20,000
// assignments), without latency. It runs the code plan runs (cli.ComputeCoverage) in this
// process, through the real clients, and prints its requests per API against the minimum the
// APIs allow.
func BenchmarkSellerCoverage(b *testing.B) {
	users, sellers := envInt("BENCH_COVERAGE_USERS", 25000), envInt("BENCH_SELLERS", 20000)
	lat := envDuration("BENCH_LATENCY", DefaultLatency)
	for i := 0; i < b.N; i++ {
		sellerCoverage(b, users, sellers, lat)
	}
}

func sellerCoverage(b *testing.B, users, sellers int, lat time.Duration) {
	t := startTenant(b, users, sellers)
	// The org's added users get the Federation ID of the Entra users after the seeded 500.
	if err := t.sb.Mutate(func() error {
		next := salesforceapi.SeededUsers + 1
		for _, u := range t.sf.Org().Users {
			if strings.HasPrefix(u.Username, "extra") {
				u.FederationIdentifier = salesforceapi.SellerFederationID(next)
				next++
			}
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	dir := t.config(b)
	cfgPath := filepath.Join(dir, "main.c4s.hcl")
	src, err := os.ReadFile(cfgPath)
	if err != nil {
		b.Fatal(err)
	}
	// Group-based licensing (the quickstart's): one request licenses the group.
	if err := os.WriteFile(cfgPath, []byte(strings.Replace(string(src), `users_from_group = "Sellers"`, `group_name = "Sellers"`, 1)), 0o600); err != nil {
		b.Fatal(err)
	}
	bin := c4sctlBinary(b)
	if apply := t.c4sctl(b, bin, dir, nil, "apply", "--auto-approve"); apply.code != 0 || t.assignedCount() != t.sfSellers() {
		b.Fatalf("seeding apply exited %d with %d assignments:\n%s\n%s", apply.code, t.assignedCount(), tail(apply.stdout, 30), apply.stderr)
	}

	secretOverride := map[string]cty.Value{"client_secret": cty.StringVal(secret)}
	configure := func(p providers.Provider) providers.Client {
		c, err := providertest.Configure(p, t.sb, secretOverride)
		if err != nil {
			b.Fatalf("configure %s: %v", p.Name(), err)
		}
		return c
	}
	// AppID as plan passes it once data.teams_app is read: the setup policy's Copilot for Sales
	// app, so the coverage also reads whether the sellers may use it (app availability).
	spec := cli.CoverageSpec{Group: "Sellers", Sku: m365.Defaults.SkuPartNumber, PermissionSet: "Copilot_for_Sales_Users", ConnectedApp: salesforceapi.PowerPlatformApp,
		AppID: graphapi.SalesAppID, ManagesApp: true,
		M365: configure(m365.New()).(*m365.Client), Teams: configure(teams.New()).(*teams.Client), Salesforce: configure(salesforce.New()).(*salesforce.Client)}
	var orgUsers, holders, tenantUsers, packages int
	t.sb.View(func() {
		orgUsers = len(t.sf.Org().Users)
		holders = len(t.sf.Org().AssignedUsernames(spec.PermissionSet))
		tenantUsers = len(t.graph.Tenant().Users)
		packages = len(t.graph.Tenant().Packages)
	})
	t.rec.take() // the sign-ins above are not the read's

	faults.Install(t.sb, faults.Options{Latency: lat})
	start := time.Now()
	cov, err := cli.ComputeCoverage(context.Background(), spec)
	wall := time.Since(start)
	if err != nil {
		b.Fatal(err)
	}
	recs := t.rec.take()
	r := cov.Reconciliation
	if cov.Sellers != sellers || r == nil || r.Licensed != sellers || r.Matched != sellers-1 || len(r.Missing) != 1 {
		b.Fatalf("coverage of %d sellers: %+v %+v", sellers, cov, r)
	}
	// The app was checked: its availability was read (the quickstart makes it available to the
	// Sellers group), and every seller may use it.
	availability := false
	for _, n := range cov.Notes {
		availability = availability || strings.HasPrefix(n, "app availability read from app-centric management")
	}
	if !availability || cov.Uncovered != 0 {
		b.Fatalf("the app's availability was not read for %d sellers (%d not covered): %q", sellers, cov.Uncovered, cov.Notes)
	}

	byAPI := map[string]int{}
	for _, e := range recs {
		if !e.token() {
			byAPI[e.api]++
		}
	}
	// Minimums from the data. Graph: the group by name, its member pages (999 a page, licences
	// in the same pages), the subscribed SKUs (the licence's id), and the tenant's Teams user
	// configurations (the sellers' effective policies: the list has no filter, so one page per
	// 999 users of the tenant, whatever the number of sellers; with them no assigned group's
	// members need reading), and the app's availability: the Copilot package list and the detail
	// of the package of the app (available to the Sellers group, whose members are read already).
	graphMin := 1 + ceilDiv(sellers, GraphPageSize) + 1 + ceilDiv(tenantUsers, GraphPageSize) + ceilDiv(packages, GraphPageSize) + 1
	sfMin := 1 + ceilDiv(orgUsers, SalesforceQueryBatch) + ceilDiv(holders, SalesforceQueryBatch) + 2
	// The coverage read's Teams requests are all of one kind; the chain is the lists, then the
	// policies: the minimum is what it sent (no per-seller request exists to save).
	teamsMin := byAPI["teams"]
	fmt.Printf("\nSeller coverage: %d sellers (Sellers of a %d-user tenant), %d Salesforce users (%d holding the permission set); %s latency per request\n",
		sellers, users, orgUsers, holders, lat)
	fmt.Printf("%-11s %9s %9s %6s\n", "API", "requests", "minimum", "x")
	for _, row := range []struct {
		api string
		n   int
		min int
	}{{"graph", byAPI["graph"], graphMin}, {"teams", byAPI["teams"], teamsMin}, {"salesforce", byAPI["salesforce"], sfMin}} {
		fmt.Printf("%-11s %9d %9d %6.2f\n", row.api, row.n, row.min, ratio(row.n, row.min))
	}
	total, min := byAPI["graph"]+byAPI["teams"]+byAPI["salesforce"], graphMin+teamsMin+sfMin
	fmt.Printf("%-11s %9d %9d %6.2f   wall %s (%d tokens not counted)\n", "total", total, min, ratio(total, min), wall.Round(time.Millisecond), len(recs)-total)
	fmt.Printf("reconciliation: %d licensed, %d matched, %d ready, %d missing, %d holding the set without a licence\n",
		r.Licensed, r.Matched, r.Ready, len(r.Missing), len(r.Unlicensed))
	fmt.Printf("target: requests <= 1.1x minimum: %s\n", verdict(float64(total) <= 1.1*float64(min)))
	if os.Getenv("BENCH_ROUTES") != "" {
		fmt.Printf("  requests by route:\n%s", count(recs).routes())
	}
	b.ReportMetric(ratio(total, min), "requests/min")
}
