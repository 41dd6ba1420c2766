package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/c4sctl/c4sctl/pkg/providers/providertest"
	"github.com/c4sctl/c4sctl/pkg/sandbox/faults"
	"github.com/c4sctl/c4sctl/pkg/sandbox/salesforceapi"
)

// BenchmarkSalesforceHeavy plans the quickstart's Salesforce side against an org whose
// permission set has BENCH_SF_ASSIGNMENTS (20,000) assignments, every request delayed by
// BENCH_SF_LATENCY (200 ms): the permission set (its assignee_filter matches as many Standard
// Users, all assigned) and the connected app, whose read is 4 more Salesforce reads
// (ConnectedApplication, SetupEntityAccess, Profile, the Metadata API's readMetadata). An apply
// without latency first makes the org match the configuration, so that the plan is a refresh
// with no changes. It prints the plan's wall time against its critical-path lower bound.
func BenchmarkSalesforceHeavy(b *testing.B) {
	n := envInt("BENCH_SF_ASSIGNMENTS", 20000)
	lat := envDuration("BENCH_SF_LATENCY", 200*time.Millisecond)
	for i := 0; i < b.N; i++ {
		salesforceHeavy(b, n, lat)
	}
}

func salesforceHeavy(b *testing.B, n int, lat time.Duration) {
	printLoad("Salesforce heavy")
	t := startTenant(b, 10, 0)
	if err := t.sb.Mutate(func() error {
		for _, svc := range t.sb.Services() {
			svc.Reset()
		}
		if _, err := t.sf.AddUsers(n-t.sfSellers(), salesforceapi.ProfileStandardUser); err != nil {
			return err
		}
		return t.sf.InstallConnectedApp(salesforceapi.PowerPlatformApp)
	}); err != nil {
		b.Fatal(err)
	}
	dir := sfConfig(b, t)
	bin := c4sctlBinary(b)
	apply := t.c4sctl(b, bin, dir, nil, "apply", "--auto-approve")
	if apply.code != 0 || t.assignedCount() != n {
		b.Fatalf("seeding apply exited %d with %d of %d assignments:\n%s\n%s", apply.code, t.assignedCount(), n, tail(apply.stdout, 30), apply.stderr)
	}
	faults.Install(t.sb, faults.Options{Latency: lat})
	var plans []run
	var walls []time.Duration
	for i := 0; i < benchRuns(); i++ {
		p := t.c4sctl(b, bin, dir, nil, "plan", "--detailed-exitcode")
		if p.code != 0 {
			b.Fatalf("plan exited %d (want 0, no changes):\n%s\n%s", p.code, tail(p.stdout, 30), p.stderr)
		}
		plans, walls = append(plans, p), append(walls, p.wall)
	}
	plan, pw := medianRun(plans), durSpread(walls)

	// The critical path: the token, then the permission set by name, then its assignments' pages
	// one after the other (nextRecordsUrl); then the connected app, whose read waits for the
	// permission set's (its permission_sets references the set's name, and plan reads in the
	// configuration's dependency order, as Terraform does): its row by name, then the rows of who
	// may use it (by the row's id). Everything else can run beside these: the assignee filter's
	// user pages (token, then as many pages), the profiles, the object permissions, the app's
	// policies (readMetadata, by name).
	pages := ceilDiv(n, SalesforceQueryBatch)
	chain := 2 + pages + 2
	bound := time.Duration(chain) * lat
	c := count(plan.recs)
	assignmentPages := 0
	for _, e := range plan.recs {
		if strings.Contains(e.path, "/query/") || strings.Contains(strings.ToLower(e.soql), "from permissionsetassignment") || strings.Contains(strings.ToLower(e.soql), "from user") {
			assignmentPages++
		}
	}
	fmt.Printf("\nSalesforce heavy: %d permission set assignments (and as many users matching the filter), the connected app's 4 reads; %s latency per request\n", n, lat)
	fmt.Printf("plan (the run of median wall time of %d): %s wall (CPU %s, max RSS %s), %d requests; critical-path lower bound %s (%d requests one after the other: token, the permission set, %d pages of assignments, the app, its access rows)\n",
		len(plans), plan.wall.Round(time.Millisecond), plan.cpu.Round(10*time.Millisecond), mb(plan.maxRSS), c.total, bound, chain, pages)
	fmt.Printf("plan wall, min / median / max of %d runs: %s = %s the bound; target (median) 1.3x: %s\n",
		len(plans), pw.ms(), pw.ratioTo(bound.Seconds()), verdict(pw.med <= 1.3*bound.Seconds()))
	// Memory on the medians too: max RSS (getrusage) beside the peak heap gctrace reported, so
	// that a high RSS can be told apart from a large live heap (an RSS far above the peak heap is
	// memory the runtime has not returned yet, not data c4sctl holds).
	var rss, heap []float64
	for _, p := range plans {
		rss, heap = append(rss, float64(p.maxRSS)/(1<<20)), append(heap, float64(p.peakHeap)/(1<<20))
	}
	rs, hs := spreadOf(rss), spreadOf(heap)
	fmt.Printf("  memory, min / median / max of %d runs: max RSS %.0f / %.0f / %.0f MB; peak heap (gctrace) %.0f / %.0f / %.0f MB\n", len(plans), rs.min, rs.med, rs.max, hs.min, hs.med, hs.max)
	fmt.Printf("  SOQL pages of users and assignments (first pages and nextRecordsUrl): %d (minimum %d)\n", assignmentPages, 2*pages)
	if os.Getenv("BENCH_TIMELINE") != "" {
		fmt.Printf("  plan timeline:\n%s", plan.timeline())
	}
	if os.Getenv("BENCH_ROUTES") != "" {
		fmt.Printf("  plan requests by route:\n%s", c.routes())
	}
	b.ReportMetric(pw.med/bound.Seconds(), "plan/bound")
}

// sfConfig writes the quickstart's Salesforce resources with the salesforce provider block
// pointed at the sandbox.
func sfConfig(tb testing.TB, t *tenant) string {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(), "examples", "quickstart", "main.c4s.hcl"))
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	lines := strings.Split(string(b), "\n")
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if strings.HasPrefix(l, "resource \"salesforce_") {
			for ; i < len(lines) && lines[i] != "}"; i++ {
				out = append(out, lines[i])
			}
			out = append(out, "}", "")
		}
	}
	if len(out) == 0 {
		tb.Fatal("the quickstart has no salesforce resources; update the benchmark")
	}
	blocks := providertest.StandaloneProviderBlocks(t.sb.URL, t.caFile)
	sf := blocks[strings.Index(blocks, "provider \"salesforce\""):]
	dir := tb.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.c4s.hcl"), []byte(sf+"\n"+strings.Join(out, "\n")), 0o600); err != nil {
		tb.Fatal(err)
	}
	return dir
}
