package bench

import (
	"bytes"
	"context"
	"fmt"
	"github.com/c4sctl/c4sctl/pkg/providers/providertest"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/c4sctl/c4sctl/pkg/cli"
	"github.com/c4sctl/c4sctl/pkg/sandbox"
	"github.com/c4sctl/c4sctl/pkg/sandbox/graphapi"
	"github.com/c4sctl/c4sctl/pkg/sandbox/powerplatformapi"
	"github.com/c4sctl/c4sctl/pkg/sandbox/salesforceapi"
)

// secret is the sandbox's client secret and Salesforce consumer secret in the benchmark.
const secret = "bench-secret-0123456789"

// envInt reads a positive integer from the environment.
func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func envDuration(name string, def time.Duration) time.Duration {
	if v, err := time.ParseDuration(os.Getenv(name)); err == nil && v >= 0 {
		return v
	}
	return def
}

// repoRoot is the module's root directory.
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..")
}

// c4sctlBinary is bin/c4sctl (built by `make bench`), or a fresh build when it is missing.
func c4sctlBinary(tb testing.TB) string {
	tb.Helper()
	p := filepath.Join(repoRoot(), "bin", "c4sctl")
	if os.Getenv("BENCH_BUILD") == "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	p = filepath.Join(tb.TempDir(), "c4sctl")
	cmd := exec.Command("go", "build", "-o", p, "./cmd/c4sctl")
	cmd.Dir = repoRoot()
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build: %v\n%s", err, out)
	}
	return p
}

// --- request recording ----------------------------------------------------------------------------

// rec is one request the sandbox answered.
type rec struct {
	api, method, path string
	soql              string // SOQL of a query (q parameter)
	op                string // SOAP operation, or "read"/"write" for a Graph $batch
	status            int
	at                time.Time
	dur               time.Duration // until the handler returned (the latency included)
}

// recorder is the outermost sandbox middleware: it sees every attempt, including the 429s and
// dropped connections of the fault injector.
type recorder struct {
	mu   sync.Mutex
	recs []rec
}

var soapOpRe = regexp.MustCompile(`<(?:[A-Za-z0-9]+:)?(readMetadata|updateMetadata|createMetadata|upsertMetadata|deleteMetadata|listMetadata|describeMetadata)\b`)

func (rc *recorder) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e := rec{method: r.Method, path: r.URL.Path, at: time.Now()}
		e.api, _, _ = strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		e.soql = r.URL.Query().Get("q")
		if r.Method == http.MethodPost && (strings.Contains(r.URL.Path, "/services/Soap/") || strings.HasSuffix(r.URL.Path, "/$batch") || strings.HasSuffix(r.URL.Path, "/composite/sobjects")) {
			b, _ := io.ReadAll(r.Body)
			_ = r.Body.Close()
			r.Body = io.NopCloser(bytes.NewReader(b))
			if m := soapOpRe.FindSubmatch(b); m != nil {
				e.op = string(m[1])
			} else if strings.HasSuffix(r.URL.Path, "/composite/sobjects") {
				if bytes.Contains(b, []byte(`"PermissionSetAssignment"`)) {
					e.op = "assignments"
				}
			} else if strings.HasSuffix(r.URL.Path, "/$batch") {
				e.op = "read"
				if bytes.Contains(b, []byte(`"method":"POST"`)) || bytes.Contains(b, []byte(`"method":"PATCH"`)) || bytes.Contains(b, []byte(`"method":"DELETE"`)) {
					e.op = "write"
				}
			}
		}
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			e.status = sw.status
			e.dur = time.Since(e.at)
			rc.mu.Lock()
			rc.recs = append(rc.recs, e)
			rc.mu.Unlock()
		}()
		next.ServeHTTP(sw, r)
	})
}

// take returns the requests recorded since the last take.
func (rc *recorder) take() []rec {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := rc.recs
	rc.recs = nil
	return out
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (e rec) token() bool {
	p := strings.ToLower(e.path)
	return strings.Contains(p, "/oauth2/") || strings.Contains(p, "/.well-known/") || strings.Contains(p, "/discovery/")
}

// write tells whether the request changes something (token requests, SOAP reads and $batch of
// GETs are reads).
func (e rec) write() bool {
	if e.method == http.MethodGet || e.method == http.MethodHead || e.token() {
		return false
	}
	switch e.op {
	case "readMetadata", "listMetadata", "describeMetadata", "read":
		return false
	}
	return true
}

// large tells whether the request reads or writes the large data: group member pages, Teams user
// configuration pages, $batch, SOQL pages of users and permission set assignments, sObject
// Collections.
func (e rec) large() bool {
	switch {
	case e.api == "graph" && strings.HasSuffix(e.path, "/members") && strings.Contains(e.path, "/groups/"):
		return true
	case e.api == "graph" && strings.HasSuffix(e.path, "/$batch"):
		return true
	case e.api == "graph" && strings.HasSuffix(e.path, "/admin/teams/userConfigurations"):
		return true
	case e.api == "salesforce" && strings.Contains(e.path, "/composite/sobjects"):
		return e.op == "assignments" || e.method == http.MethodDelete
	case e.api == "salesforce" && strings.Contains(e.path, "/query/"): // queryMore
		return true
	case e.api == "salesforce" && strings.HasSuffix(e.path, "/query"):
		q := strings.ToLower(e.soql)
		return strings.Contains(q, "from user ") || strings.HasSuffix(q, "from user") || strings.Contains(q, "from permissionsetassignment")
	}
	return false
}

// tally summarises recorded requests.
type tally struct {
	total, writes, largeReq, largeWrites, otherReq, otherWrites, status429, answered int
	byRoute                                                                          map[string]int
}

func count(recs []rec) tally {
	t := tally{byRoute: map[string]int{}}
	for _, e := range recs {
		t.total++
		if e.status == http.StatusTooManyRequests {
			t.status429++
		}
		if e.status != 0 {
			t.answered++
		}
		w := e.write()
		if w {
			t.writes++
		}
		if e.large() {
			t.largeReq++
			if w {
				t.largeWrites++
			}
		} else {
			t.otherReq++
			if w {
				t.otherWrites++
			}
		}
		t.byRoute[e.method+" "+routeOf(e)]++
	}
	return t
}

var idSeg = regexp.MustCompile(`/(?:[0-9a-fA-F-]{36}|0[0-9A-Za-z]{14,17}|[0-9a-f]{8,}-[0-9]+|query/[^/]+)(/|$)`)

func routeOf(e rec) string {
	p := idSeg.ReplaceAllString(e.path, "/{id}$1")
	if e.op != "" {
		p += " [" + e.op + "]"
	}
	return p
}

func (t tally) routes() string {
	var ks []string
	for k := range t.byRoute {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	var b strings.Builder
	for _, k := range ks {
		fmt.Fprintf(&b, "      %6d  %s\n", t.byRoute[k], k)
	}
	return b.String()
}

// --- the sandbox ------------------------------------------------------------------------------------

// tenant is a sandbox seeded for the benchmark.
type tenant struct {
	sb      *sandbox.Server
	caFile  string
	rec     *recorder
	graph   *graphapi.Service
	sf      *salesforceapi.Service
	users   int
	sellers int
}

func startTenant(tb testing.TB, users, sellers int) *tenant {
	tb.Helper()
	sb, err := sandbox.Start(sandbox.Options{}, cli.SandboxServices()...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = sb.Close() })
	t := &tenant{sb: sb, rec: &recorder{}, users: users, sellers: sellers}
	t.graph, _ = sb.Service("graph").(*graphapi.Service)
	t.sf, _ = sb.Service("salesforce").(*salesforceapi.Service)
	app := sb.Apps().Get(sandbox.ClientID)
	if t.graph == nil || t.sf == nil || app == nil {
		tb.Fatal("the sandbox lacks the graph or salesforce service or the c4sctl app registration")
	}
	app.Secret = secret
	t.sf.Secret = secret
	t.caFile = filepath.Join(tb.TempDir(), "ca.pem")
	if err := os.WriteFile(t.caFile, sb.CACertPEM(), 0o600); err != nil {
		tb.Fatal(err)
	}
	sb.Use(t.rec.middleware)
	if err := sb.Mutate(func() error { t.graph.SeedLarge(users, sellers); return nil }); err != nil {
		tb.Fatal(err)
	}
	t.reset(tb)
	return t
}

// reset restores the large seed: Graph's tenant, a Salesforce org with exactly `sellers` active
// Standard User users, and the two steps people do by hand (the connected app installed, the
// first seller's sign-in that creates msdyn_viva), so that one apply makes every change.
func (t *tenant) reset(tb testing.TB) {
	tb.Helper()
	bap, _ := t.sb.Service("bap").(*powerplatformapi.BAPService)
	if err := t.sb.Mutate(func() error {
		for _, svc := range t.sb.Services() {
			svc.Reset()
		}
		// The seed leaves a few users without a usage location, which a per-user licence needs:
		// give them one, so that the apply can finish.
		for _, u := range t.graph.Tenant().Users {
			if u.UsageLocation == "" {
				u.UsageLocation = "FR"
			}
		}
		t.graph.Reindex()
		if n := t.sellers - t.sfSellers(); n > 0 {
			if _, err := t.sf.AddUsers(n, salesforceapi.ProfileStandardUser); err != nil {
				return err
			}
		}
		if err := t.sf.InstallConnectedApp(salesforceapi.PowerPlatformApp); err != nil {
			return err
		}
		if bap == nil {
			return fmt.Errorf("no bap service")
		}
		if err := bap.SignIn("seller@contoso-sandbox.onmicrosoft.com"); err != nil {
			return err
		}
		return bap.API().AddAppUser(powerplatformapi.VivaUniqueName, sandbox.ClientID)
	}); err != nil {
		tb.Fatal(err)
	}
	t.rec.take()
}

// sfSellers counts the org's active Standard User users (the quickstart's assignee_filter).
func (t *tenant) sfSellers() int {
	std := t.sf.Org().Profile(salesforceapi.ProfileStandardUser).ID
	n := 0
	for _, u := range t.sf.Org().Users {
		if u.IsActive && u.ProfileID == std {
			n++
		}
	}
	return n
}

// licensable counts the Sellers members with a usage location and without the Copilot licence
// (who a per-user assignment must license), and those holding it.
func (t *tenant) licensable() (pending, licensed int) {
	t.sb.View(func() {
		tn := t.graph.Tenant()
		ids := map[string]bool{}
		for _, g := range tn.Groups {
			if g.ID == graphapi.SellersGroupID {
				for _, m := range g.Members {
					ids[m] = true
				}
			}
		}
		for _, u := range tn.Users {
			if !ids[u.ID] {
				continue
			}
			has := false
			for _, l := range u.Licenses {
				if strings.EqualFold(l.SkuID, graphapi.CopilotSkuID) {
					has = true
				}
			}
			switch {
			case has:
				licensed++
			case u.UsageLocation != "":
				pending++
			}
		}
	})
	return pending, licensed
}

// assignedCount is the number of assignments of the quickstart's permission set.
func (t *tenant) assignedCount() int {
	n := 0
	t.sb.View(func() { n = len(t.sf.Org().AssignedUsernames("Copilot_for_Sales_Users")) })
	return n
}

// config writes the quickstart, its providers pointed at the sandbox, with the licence assigned
// per user to the members of Sellers (users_from_group) instead of group-based.
func (t *tenant) config(tb testing.TB) string {
	tb.Helper()
	res := quickstartResources(tb)
	const lic = "resource \"m365_license_assignment\" \"sellers\" {\n  group_name = \"Sellers\"\n}"
	if !strings.Contains(res, lic) {
		tb.Fatal("the quickstart's m365_license_assignment block changed; update the benchmark")
	}
	res = strings.Replace(res, lic, "resource \"m365_license_assignment\" \"sellers\" {\n  users_from_group = \"Sellers\"\n}", 1)
	providers := providertest.StandaloneProviderBlocks(t.sb.URL, t.caFile)
	dir := tb.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.c4s.hcl"), []byte(providers+res), 0o600); err != nil {
		tb.Fatal(err)
	}
	return dir
}

// quickstartResources is examples/quickstart/main.c4s.hcl without its variable and provider
// blocks.
func quickstartResources(tb testing.TB) string {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(), "examples", "quickstart", "main.c4s.hcl"))
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	lines := strings.Split(string(b), "\n")
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if strings.HasPrefix(l, "variable ") || strings.HasPrefix(l, "provider ") {
			for i < len(lines) && lines[i] != "}" {
				i++
			}
			continue
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

// env is a hermetic environment for the child processes: no C4S_, AZURE_ or SF_ variable of the
// machine, the sandbox's certificate trusted, the secrets, and GODEBUG=gctrace=1 so that the
// child's heap sizes at each collection can be read from its stderr.
func (t *tenant) env(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "C4S_") || strings.HasPrefix(k, "AZURE_") || strings.HasPrefix(k, "SF_") || strings.HasPrefix(k, "BENCH_") ||
			k == "SSL_CERT_FILE" || k == "SSL_CERT_DIR" || k == "NO_COLOR" || k == "GODEBUG" {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "SSL_CERT_FILE="+t.caFile, "NO_COLOR=1", "GODEBUG=gctrace=1",
		"AZURE_CLIENT_SECRET="+secret, "C4S_VAR_client_secret="+secret, "SF_CLIENT_SECRET="+secret)
	return append(env, extra...)
}

// --- child processes ------------------------------------------------------------------------------

// run is one child process's figures.
type run struct {
	start    time.Time
	wall     time.Duration
	cpu      time.Duration // user + system time of the process
	hostCPU  time.Duration // user + system time of this process meanwhile: the in-process sandbox's
	maxRSS   int64         // bytes: the child's own peak (watchPeakRSS on Linux, else getrusage); -1 where the OS does not say (Windows)
	peakHeap int64         // bytes: the largest heap size gctrace reported (at the start or end of a GC)
	gcs      int
	code     int
	stdout   string
	stderr   string
	recs     []rec
}

var gcLine = regexp.MustCompile(`(?m)^gc \d+ @.*?: .*? (\d+)->(\d+)->(\d+) MB`)

// runChild runs a process to its end and reads its figures.
func (t *tenant) runChild(tb testing.TB, env []string, name string, args ...string) run {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	t.rec.take()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	host0 := selfCPU()
	start := time.Now()
	err := cmd.Start()
	stopRSS := func() int64 { return -1 }
	if err == nil {
		stopRSS = watchPeakRSS(cmd.Process.Pid)
		err = cmd.Wait()
	}
	peakRSS := stopRSS()
	r := run{start: start, wall: time.Since(start), hostCPU: selfCPU() - host0, stdout: out.String(), recs: t.rec.take()}
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			tb.Fatalf("run %s: %v", name, err)
		}
		r.code = ee.ExitCode()
	}
	r.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	// The child's own peak where /proc says it (see watchPeakRSS: on Linux, getrusage's figure
	// is this process's peak when it is larger), else getrusage's.
	if r.maxRSS = peakRSS; r.maxRSS < 0 {
		r.maxRSS = maxRSS(cmd.ProcessState)
	}
	var rest []string
	for _, l := range strings.Split(errb.String(), "\n") {
		if m := gcLine.FindStringSubmatch(l); m != nil {
			r.gcs++
			for _, s := range m[1:3] {
				if n, _ := strconv.ParseInt(s, 10, 64); n<<20 > r.peakHeap {
					r.peakHeap = n << 20
				}
			}
			continue
		}
		rest = append(rest, l)
	}
	r.stderr = strings.Join(rest, "\n")
	return r
}

// c4sctl runs the binary on dir.
func (t *tenant) c4sctl(tb testing.TB, bin, dir string, extraEnv []string, args ...string) run {
	tb.Helper()
	return t.runChild(tb, t.env(extraEnv...), bin, append([]string{"--dir", dir, "--no-color"}, args...)...)
}

// naive runs the naive client (TestNaiveClient in this test binary) in a child process.
func (t *tenant) naive(tb testing.TB, mode string) run {
	tb.Helper()
	return t.runChild(tb, t.env("BENCH_NAIVE_MODE="+mode, "BENCH_NAIVE_URL="+t.sb.URL),
		os.Args[0], "-test.run=^TestNaiveClient$", "-test.bench=^$", "-test.count=1")
}

// timeline lists the requests of a run with their arrival time since the process started.
func (r run) timeline() string {
	var b strings.Builder
	for _, e := range r.recs {
		fmt.Fprintf(&b, "      %7.1fms +%5.1fms %3d %s %s\n", float64(e.at.Sub(r.start).Microseconds())/1000, float64(e.dur.Microseconds())/1000, e.status, e.method, routeOf(e))
	}
	return b.String()
}

// mb prints a byte count in MB; a negative one (not measured on this OS) as "n/a".
func mb(b int64) string {
	if b < 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.0f MB", float64(b)/(1<<20))
}

func ceilDiv(a, b int) int {
	if a <= 0 {
		return 0
	}
	return (a + b - 1) / b
}
