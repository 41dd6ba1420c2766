package bench

import (
	"fmt"
	"math"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/c4sctl/c4sctl/pkg/sandbox/faults"
)

// BenchmarkLargeTenant plans and applies the quickstart (the licence assigned per user to the
// members of Sellers) with the real c4sctl binary against a sandbox of BENCH_USERS users
// (50,000) whose Sellers group has BENCH_SELLERS members (20,000), and a Salesforce org with as
// many Standard User users to assign the permission set to, every request delayed by
// BENCH_LATENCY (20ms). Then the naive per-record client does the same to a fresh copy of the
// data. It prints one table (run with -benchtime 1x; see `make bench`).
func BenchmarkLargeTenant(b *testing.B) {
	users, sellers := envInt("BENCH_USERS", 50000), envInt("BENCH_SELLERS", 20000)
	lat := envDuration("BENCH_LATENCY", DefaultLatency)
	for i := 0; i < b.N; i++ {
		largeTenant(b, users, sellers, lat)
	}
}

func largeTenant(b *testing.B, users, sellers int, lat time.Duration) {
	printLoad("Large tenant")
	t := startTenant(b, users, sellers)
	faults.Install(t.sb, faults.Options{Latency: lat})
	bin := c4sctlBinary(b)
	pending, _ := t.licensable()
	sfN := t.sfSellers()
	n := benchRuns()

	// Plan reads and changes nothing: its runs share one tenant and configuration.
	dir := t.config(b)
	var plans []run
	for i := 0; i < n; i++ {
		p := t.c4sctl(b, bin, dir, nil, "plan")
		if p.code != 0 {
			b.Fatalf("c4sctl plan exited %d:\n%s\n%s", p.code, p.stdout, p.stderr)
		}
		plans = append(plans, p)
	}
	// Each apply starts from the seed (reset) with a fresh configuration directory (no state).
	var applies []run
	for i := 0; i < n; i++ {
		if i > 0 {
			t.reset(b)
		}
		a := t.c4sctl(b, bin, t.config(b), nil, "apply", "--auto-approve")
		if a.code != 0 {
			b.Fatalf("c4sctl apply exited %d:\n%s\n%s", a.code, tail(a.stdout, 40), a.stderr)
		}
		if left, _ := t.licensable(); left != 0 || t.assignedCount() != sfN {
			b.Fatalf("after apply: %d sellers still to license, %d of %d permission set assignments", left, t.assignedCount(), sfN)
		}
		applies = append(applies, a)
	}
	plan, apply := medianRun(plans), medianRun(applies)

	if os.Getenv("BENCH_TIMELINE") != "" {
		fmt.Printf("  plan timeline:\n%s", plan.timeline())
	}
	skipNaive := os.Getenv("BENCH_SKIP_NAIVE") != ""
	nplan, napply := run{}, run{}
	if !skipNaive {
		nplan, napply = naiveRuns(b, t, sfN)
	}

	// Minimums the APIs allow, from the data.
	memberPages := ceilDiv(sellers, GraphPageSize)  // GET /groups/{id}/members, $top=999
	userPages := ceilDiv(sfN, SalesforceQueryBatch) // SOQL on User, 2,000 a page
	batches := ceilDiv(pending, GraphBatchSize)     // POST $batch of assignLicense, 20 each
	collections := ceilDiv(sfN, SalesforceCollectionSize)
	// Plan reads each large list once (the permission set does not exist yet: no assignments to
	// read). Requests on other routes (tokens, the quickstart's other resources) are O(1) and
	// counted as made.
	refreshLargeMin := memberPages + userPages
	pc, ac, npc, nac := count(plan.recs), count(apply.recs), count(nplan.recs), count(napply.recs)
	// Plan's seller coverage (not apply's) reads the tenant's Teams user configurations: a page
	// per 999 users of the tenant, one after the other (nextLink), when Graph answers them.
	configPages := 0
	if pc.byRoute["GET /graph/v1.0/admin/teams/userConfigurations"] > 0 {
		configPages = ceilDiv(users, GraphPageSize)
	}
	planLargeMin := refreshLargeMin + configPages
	// Apply: one refresh with the seller coverage (apply shows the plan plan shows), then the
	// writes; the refresh finds no assignment either.
	applyConfigPages := 0
	if ac.byRoute["GET /graph/v1.0/admin/teams/userConfigurations"] > 0 {
		applyConfigPages = ceilDiv(users, GraphPageSize)
	}
	applyLargeMin := refreshLargeMin + applyConfigPages + batches + collections

	planMin := planLargeMin + pc.otherReq
	applyMin := applyLargeMin + ac.otherReq
	applyWritesMin := batches + collections + ac.otherWrites

	// Critical-path lower bounds: the longest chain of requests that each need the previous
	// answer, times the latency. Plan: Graph token -> the group by name -> its member pages one
	// after the other (nextLink); Salesforce token -> the user query's pages (nextRecordsUrl);
	// the other resources' chains are shorter (at most ~6 requests). Apply: the same refresh,
	// then the writes, which need only the refresh's answers: the $batch requests
	// GraphBatchConcurrency at a time, or Salesforce's permission set create and then its
	// collections SalesforceConcurrency at a time, whichever is longer.
	// Plan's seller coverage: Graph token -> the user configurations' pages one after the other.
	refreshChain := max(2+memberPages, 1+userPages)
	planChain := max(refreshChain, 1+configPages)
	// apply shows the plan, seller coverage included, before it writes.
	applyChain := max(refreshChain, 1+applyConfigPages) + max(ceilDiv(batches, GraphBatchConcurrency), 1+ceilDiv(collections, SalesforceConcurrency))
	planLB, applyLB := time.Duration(planChain)*lat, time.Duration(applyChain)*lat
	// The naive client's own chains: the list pages, then one request per user NaiveConcurrency at
	// a time.
	naiveChain := max(1+memberPages+ceilDiv(sellers, NaiveConcurrency), 1+userPages+ceilDiv(sfN, NaiveConcurrency))
	naiveApplyChain := max(1+memberPages+ceilDiv(pending, NaiveConcurrency), 2+userPages+ceilDiv(sfN, NaiveConcurrency))

	var o strings.Builder
	fmt.Fprintf(&o, "\nLarge tenant: %d users, Sellers %d members (%d to license per user), %d Salesforce users to assign; %s latency per request\n",
		users, sellers, pending, sfN, lat)
	fmt.Fprintf(&o, "machine: %s, %d CPUs (GOMAXPROCS %d), %s\n", cpuModel(), runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version())
	fmt.Fprintf(&o, "%-6s %-7s %9s %9s %6s %8s %9s %6s %9s %9s %6s %9s %8s %8s\n",
		"phase", "client", "requests", "minimum", "x", "writes", "min.wr", "x", "wall", "bound", "x", "peak heap", "max RSS", "CPU")
	row := func(phase, client string, r run, c tally, min, wmin int, lb time.Duration) {
		fmt.Fprintf(&o, "%-6s %-7s %9d %9d %6.2f %8d %9d %6.2f %9s %9s %6.2f %9s %8s %8s\n", phase, client,
			c.total, min, ratio(c.total, min), c.writes, wmin, ratio(c.writes, wmin),
			r.wall.Round(time.Millisecond), lb.Round(time.Millisecond), r.wall.Seconds()/lb.Seconds(), mb(r.peakHeap), mb(r.maxRSS), r.cpu.Round(10*time.Millisecond))
	}
	row("plan", "c4sctl", plan, pc, planMin, 0, planLB)
	if !skipNaive {
		row("plan", "naive", nplan, npc, planMin, 0, time.Duration(naiveChain)*lat)
	}
	row("apply", "c4sctl", apply, ac, applyMin, applyWritesMin, applyLB)
	if !skipNaive {
		row("apply", "naive", napply, nac, applyMin, applyWritesMin, time.Duration(naiveApplyChain)*lat)
		fmt.Fprintf(&o, "naive/c4sctl: plan %.1fx the requests, %.1fx the wall time; apply %.1fx the requests, %.1fx the write requests, %.1fx the wall time\n",
			ratio(npc.total, pc.total), nplan.wall.Seconds()/plan.wall.Seconds(), ratio(nac.total, ac.total), ratio(nac.writes, ac.writes), napply.wall.Seconds()/apply.wall.Seconds())
	}
	fmt.Fprintf(&o, "c4sctl rows: the run of median wall time of %d plans and %d applies (the naive client runs once)\n", len(plans), len(applies))
	walls := func(rs []run, f func(run) time.Duration) spread {
		var ds []time.Duration
		for _, r := range rs {
			ds = append(ds, f(r))
		}
		return durSpread(ds)
	}
	wallOf := func(r run) time.Duration { return r.wall }
	cpuOf := func(r run) time.Duration { return r.cpu }
	hostOf := func(r run) time.Duration { return r.hostCPU }
	rssOf := func(rs []run) spread {
		var xs []float64
		for _, r := range rs {
			xs = append(xs, float64(r.maxRSS)/(1<<20))
		}
		return spreadOf(xs)
	}
	pw, aw := walls(plans, wallOf), walls(applies, wallOf)
	prss, arss := rssOf(plans), rssOf(applies)
	rssVerdict := verdict(prss.med < 300 && arss.med < 300)
	if prss.min < 0 || arss.min < 0 {
		rssVerdict = "not measured (no getrusage on " + runtime.GOOS + ")"
	}
	fmt.Fprintf(&o, "min / median / max of %d runs:\n", n)
	fmt.Fprintf(&o, "  plan  wall %s = %s the bound (%s); c4sctl CPU %s; sandbox CPU %s; max RSS %.0f / %.0f / %.0f MB\n",
		pw.ms(), pw.ratioTo(planLB.Seconds()), planLB.Round(time.Millisecond), walls(plans, cpuOf).ms(), walls(plans, hostOf).ms(), prss.min, prss.med, prss.max)
	fmt.Fprintf(&o, "  apply wall %s = %s the bound (%s); c4sctl CPU %s; sandbox CPU %s; max RSS %.0f / %.0f / %.0f MB\n",
		aw.ms(), aw.ratioTo(applyLB.Seconds()), applyLB.Round(time.Millisecond), walls(applies, cpuOf).ms(), walls(applies, hostOf).ms(), arss.min, arss.med, arss.max)
	fmt.Fprintf(&o, "  (sandbox CPU: this process's CPU time during the run: the in-process sandbox, on the same cores as c4sctl)\n")
	var before, between, after []time.Duration
	for _, r := range plans {
		first, last := r.span()
		before, between, after = append(before, first), append(between, last-first), append(after, r.wall-last)
	}
	fmt.Fprintf(&o, "  plan's time: before its first request %s; first request to last answer %s (the bound: %s); after the last answer %s\n",
		durSpread(before).ms(), durSpread(between).ms(), planLB.Round(time.Millisecond), durSpread(after).ms())
	fmt.Fprintf(&o, "minimums: %d member pages (999), %d SOQL pages (2,000), %d pages of Teams user configurations (999, plan's seller coverage), %d $batch (20), %d collections (200), plus %d/%d other requests of plan/apply as made (%d/%d writes)\n",
		memberPages, userPages, configPages, batches, collections, pc.otherReq, ac.otherReq, pc.otherWrites, ac.otherWrites)
	fmt.Fprintf(&o, "bounds (bound column): plan chain %d requests (the refresh's %d: token, group, member pages; the seller coverage's %d: token, user configuration pages); apply chain %d requests; naive %d and %d (its per-user requests %d at a time)\n",
		planChain, refreshChain, 1+configPages, applyChain, naiveChain, naiveApplyChain, NaiveConcurrency)
	fmt.Fprintf(&o, "naive: the large lists only (not the quickstart's other resources); heap from GODEBUG=gctrace=1, RSS the child's own (VmHWM from /proc on Linux, else getrusage)\n")
	fmt.Fprintf(&o, "targets (on the medians): plan wall <= 1.3x bound: %s (%.2fx); apply writes <= 1.05x minimum: %s (%.2fx); peak RSS < 300 MB: %s (%.0f MB)\n",
		verdict(pw.med <= 1.3*planLB.Seconds()), pw.med/planLB.Seconds(), verdict(float64(ac.writes) <= 1.05*float64(applyWritesMin)), ratio(ac.writes, applyWritesMin),
		rssVerdict, max(prss.med, arss.med))
	if desc, busy := machineLoad(); busy {
		fmt.Fprintf(&o, "WARNING: the machine was busy at the end (%s): the wall times are not a quiet machine's\n", desc)
	}
	if os.Getenv("BENCH_ROUTES") != "" {
		fmt.Fprintf(&o, "  plan requests by route:\n%s  apply requests by route:\n%s", pc.routes(), ac.routes())
	}
	fmt.Print(o.String())
	b.ReportMetric(pw.med/planLB.Seconds(), "plan/bound")
	b.ReportMetric(ratio(ac.writes, applyWritesMin), "writes/min")
	b.ReportMetric(max(prss.med, arss.med), "maxRSS-MB")
}

// naiveRuns runs the naive client's plan and apply once on a fresh copy of the data.
func naiveRuns(b *testing.B, t *tenant, sfN int) (nplan, napply run) {
	t.reset(b)
	nplan = t.naive(b, "plan")
	if nplan.code != 0 {
		b.Fatalf("naive plan exited %d:\n%s\n%s", nplan.code, nplan.stdout, nplan.stderr)
	}
	napply = t.naive(b, "apply")
	if napply.code != 0 {
		b.Fatalf("naive apply exited %d:\n%s\n%s", napply.code, napply.stdout, napply.stderr)
	}
	if left, _ := t.licensable(); left != 0 || t.assignedCount() != sfN {
		b.Fatalf("after the naive apply: %d sellers still to license, %d of %d assignments", left, t.assignedCount(), sfN)
	}
	return nplan, napply
}

// BenchmarkThrottle applies the quickstart to a tenant of BENCH_THROTTLE_SELLERS sellers
// (20,000, as the large tenant) while the sandbox allows each API BENCH_THROTTLE requests per
// second (50) and answers 429 with Retry-After beyond it: once with httpx's defaults (no
// configured budget: the client learns one from the 429 answers, see pkg/httpx/adaptive.go),
// once with a budget of 96% of the allowed rate set through C4S_HTTP_LIMITS (or
// BENCH_THROTTLE_CLIENT). It prints, per API, the throughput of the busiest phase against what
// the throttle allows, and the share of 429 answers. BENCH_VERBOSE=1 adds when each 429 came and
// how the learned budget moved.
func BenchmarkThrottle(b *testing.B) {
	sellers := envInt("BENCH_THROTTLE_SELLERS", 20000)
	users := max(sellers*5/2, sellers+200)
	rps := float64(envInt("BENCH_THROTTLE", 50))
	lat := envDuration("BENCH_LATENCY", DefaultLatency)
	budget := os.Getenv("BENCH_THROTTLE_CLIENT")
	if budget == "" {
		budget = fmt.Sprintf("C4S_HTTP_LIMITS=%g", math.Floor(rps*0.96*10)/10)
	}
	for i := 0; i < b.N; i++ {
		printLoad("Throttle")
		var o strings.Builder
		fmt.Fprintf(&o, "\nThrottle: %d requests/s per API (token bucket, burst %d), %s latency; apply of the quickstart with %d sellers licensed per user and %d permission set assignments\n",
			int(rps), int(math.Ceil(rps)), lat, sellers, sellers)
		fmt.Fprintf(&o, "%-40s %-11s %8s %5s %7s %24s %10s %9s %6s %8s\n", "client", "API", "attempts", "429", "429 %", "busiest phase", "throughput", "allowed", "of it", "wall")
		// The target is judged on Graph with httpx's defaults: there the rate, not the latency,
		// sets the pace, and nothing is configured by hand.
		var shares, ofAlloweds []float64
		runs := make([][]string, benchRuns(), benchRuns()+1) // httpx's defaults, BENCH_RUNS times
		runs = append(runs, []string{budget})                // then the budget set by hand, once
		for k, extra := range runs {
			t := startTenant(b, users, sellers)
			inj := faults.Install(t.sb, faults.Options{Latency: lat, Throttle: rps, Seed: 1})
			args := []string{"apply", "--auto-approve"}
			if os.Getenv("BENCH_VERBOSE") != "" {
				args = append(args, "--log-level", "debug")
			}
			apply := t.c4sctl(b, c4sctlBinary(b), t.config(b), extra, args...)
			if apply.code != 0 {
				b.Fatalf("c4sctl apply exited %d:\n%s\n%s", apply.code, tail(apply.stdout, 40), tail(apply.stderr, 40))
			}
			client := fmt.Sprintf("httpx defaults (learned budget), run %d", k+1)
			if extra != nil {
				client = extra[0]
			}
			if os.Getenv("BENCH_VERBOSE") != "" {
				var t0 time.Time
				for _, e := range apply.recs {
					if t0.IsZero() {
						t0 = e.at
					}
					if e.status == http.StatusTooManyRequests {
						fmt.Fprintf(&o, "  429 %s %s at %s\n", e.api, e.op, e.at.Sub(t0).Round(time.Millisecond))
					}
				}
				for _, l := range strings.Split(apply.stderr, "\n") {
					if strings.Contains(l, "request-rate budget") {
						fmt.Fprintf(&o, "  %s\n", l)
					}
				}
			}
			for _, api := range []string{"graph", "salesforce"} {
				var all, busy []rec
				n429 := 0
				for _, e := range apply.recs {
					if e.api != api || e.token() {
						continue
					}
					all = append(all, e)
					if e.status == http.StatusTooManyRequests {
						n429++
					}
					// The busiest phase: the large writes, where the rate and not the latency sets the pace.
					if e.large() && e.write() {
						busy = append(busy, e)
					}
				}
				ok, span := 0, time.Duration(0)
				if len(busy) > 1 {
					span = busy[len(busy)-1].at.Sub(busy[0].at)
					for _, e := range busy[:len(busy)-1] {
						if e.status != http.StatusTooManyRequests && e.status != 0 {
							ok++
						}
					}
				}
				// What the throttle's token bucket lets through in that span: its burst, then rps.
				tp, allowed := 0.0, 0.0
				if span > 0 {
					tp = float64(ok) / span.Seconds()
					allowed = (math.Ceil(rps) + rps*span.Seconds()) / span.Seconds()
				}
				if extra == nil && api == "graph" {
					shares, ofAlloweds = append(shares, ratio(n429, len(all))), append(ofAlloweds, tp/allowed)
				}
				phase := fmt.Sprintf("%d writes in %s", len(busy), span.Round(time.Millisecond))
				fmt.Fprintf(&o, "%-40s %-11s %8d %5d %6.2f%% %24s %8.1f/s %7.1f/s %5.0f%% %8s\n", client, api, len(all), n429, 100*ratio(n429, len(all)),
					phase, tp, allowed, 100*tp/allowed, apply.wall.Round(time.Millisecond))
				client = ""
			}
			if c := inj.Counters(); c.Throttled != c.Sent429 {
				fmt.Fprintf(&o, "  (the injector sent %d 429s, %d of them from the throttle)\n", c.Sent429, c.Throttled)
			}
		}
		fmt.Fprintf(&o, "allowed = (burst + rate x span) / span. The Salesforce adapter sends its collections one at a time (their records share a parent that Salesforce locks for each write), so its pace is set by the latency, not the rate.\n")
		sh, of := spreadOf(shares), spreadOf(ofAlloweds)
		share429, ofAllowed := sh.med, of.med
		fmt.Fprintf(&o, "Graph with httpx defaults, min / median / max of %d runs: 429 answers %.2f%% / %.2f%% / %.2f%%; throughput %.0f%% / %.0f%% / %.0f%% of the allowed rate\n",
			len(shares), 100*sh.min, 100*sh.med, 100*sh.max, 100*of.min, 100*of.med, 100*of.max)
		fmt.Fprintf(&o, "targets (Graph, httpx defaults, on the medians): 429 answers < 1%%: %s (%.2f%%); throughput >= 90%% of the allowed rate: %s (%.0f%%)\n",
			verdict(share429 < 0.01), 100*share429, verdict(ofAllowed >= 0.9), 100*ofAllowed)
		fmt.Print(o.String())
		b.ReportMetric(100*share429, "429-%")
		b.ReportMetric(100*ofAllowed, "%-of-allowed")
	}
}

// BenchmarkFaults applies the quickstart to a tenant of BENCH_FAULT_SELLERS sellers (2,000)
// while BENCH_FAULT_RATE (20%) of the API requests get a fault (429 with Retry-After, 503,
// connections dropped before or after the request was processed), running apply again until it
// succeeds and a plan shows no change. It counts the runs and the duplicated creates in the
// sandbox's final data (the chaos test in pkg/cli checks the same as a test).
func BenchmarkFaults(b *testing.B) {
	sellers := envInt("BENCH_FAULT_SELLERS", 2000)
	rate := 0.2
	if v, err := strconv.ParseFloat(os.Getenv("BENCH_FAULT_RATE"), 64); err == nil && v >= 0 && v < 1 {
		rate = v
	}
	lat := envDuration("BENCH_LATENCY", DefaultLatency)
	for i := 0; i < b.N; i++ {
		t := startTenant(b, max(sellers*5/2, sellers+200), sellers)
		inj := faults.Install(t.sb, faults.Options{Latency: lat, FaultRate: rate, Seed: 7})
		bin, dir := c4sctlBinary(b), t.config(b)
		runs, converged := 0, false
		var wall time.Duration
		for runs < 6 && !converged {
			runs++
			a := t.c4sctl(b, bin, dir, nil, "apply", "--auto-approve")
			wall += a.wall
			if a.code != 0 {
				if os.Getenv("BENCH_VERBOSE") != "" {
					fmt.Printf("  apply run %d exited %d: %s\n", runs, a.code, tail(strings.TrimSpace(a.stderr), 6))
				}
				continue
			}
			p := t.c4sctl(b, bin, dir, nil, "plan", "--detailed-exitcode")
			converged = p.code == 0
		}
		dupPSA, dupAccess, dupPS := 0, 0, 0
		t.sb.View(func() {
			org := t.sf.Org()
			seen := map[string]bool{}
			for _, a := range org.Assignments {
				k := a.AssigneeID + "/" + a.PermissionSetID
				if seen[k] {
					dupPSA++
				}
				seen[k] = true
			}
			seen = map[string]bool{}
			for _, e := range org.EntityAccess {
				k := e.ParentID + "/" + e.SetupEntityID
				if seen[k] {
					dupAccess++
				}
				seen[k] = true
			}
			seen = map[string]bool{}
			for _, p := range org.PermissionSets {
				if p.ProfileID != "" {
					continue // the seed's profile-owned sets (not created by c4sctl)
				}
				k := strings.ToLower(p.Name)
				if seen[k] {
					dupPS++
					if os.Getenv("BENCH_VERBOSE") != "" {
						fmt.Printf("  duplicate permission set %q %s (profile %q)\n", p.Name, p.ID, p.ProfileID)
					}
				}
				seen[k] = true
			}
		})
		left, _ := t.licensable()
		c := inj.Counters()
		fmt.Printf("\nFaults: %.0f%% of API requests faulted (seed 7), %s latency, %d sellers: converged %v after %d apply run(s) (%s of apply); %d faults injected (%d 429, %d 503, %d dropped before, %d dropped after processing); duplicated creates: %d permission sets, %d assignments, %d connected app accesses; %d sellers unlicensed, %d of %d assignments\n",
			100*rate, lat, sellers, converged, runs, wall.Round(time.Millisecond), c.TotalFaults(), c.Faults[faults.TooManyRequests], c.Faults[faults.Unavailable],
			c.Faults[faults.DropBefore], c.Faults[faults.DropAfter], dupPS, dupPSA, dupAccess, left, t.assignedCount(), t.sfSellers())
	}
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}
