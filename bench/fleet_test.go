package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/c4sctl/c4sctl/internal/azurite"
	"github.com/c4sctl/c4sctl/pkg/cli"
	"github.com/c4sctl/c4sctl/pkg/providers/providertest"
	"github.com/c4sctl/c4sctl/pkg/sandbox"
	"github.com/c4sctl/c4sctl/pkg/sandbox/powerplatformapi"
	"github.com/c4sctl/c4sctl/pkg/sandbox/salesforceapi"
	"github.com/c4sctl/c4sctl/pkg/sandbox/teamsapi"
)

// BenchmarkFleetDrift simulates a partner's nightly drift check across a fleet (issue 15): an
// Indexed Job of BENCH_FLEET_TENANTS (100) completions, BENCH_FLEET_PARALLEL (4 then 8: a list
// runs the fleet once per value) at a time, each completion running
// `c4sctl --workspace TENANT drift --report json=...` for the tenant its JOB_COMPLETION_INDEX
// picks from tenants.txt, with one configuration, one var file mapping each workspace to its
// tenant's endpoints, and each tenant's state in its own workspace of one Azurite container
// (backend "azurerm"). Every tenth tenant was changed outside c4sctl after the apply, so its
// job must exit 2; the others must exit 0 with "No drift".
//
// Tenants: one standalone sandbox per tenant, all in this test process (each an HTTPS server on
// its own loopback port, with its own CA, tenant and org). On 2 cores that is the cheaper
// choice: an idle sandbox costs memory, not CPU, and only the N tenants being checked are busy;
// a sandbox process per tenant would add 100 Go runtimes, and one sandbox serving many tenants
// would need a tenant dimension in every emulated API that the sandbox does not have (one
// tenant id, one org per server). Each sandbox's own request log gives the requests per tenant.
//
// It prints tenants per minute, the requests each tenant's sandbox answered, the CPU time per
// job, and the projection to 1,000 tenants at the same parallelism. Setup (the sandboxes, a
// workspace and an apply per tenant) is not timed. Without Azurite (`make azurite`) it says so
// and is skipped (under CI=true it fails).
func BenchmarkFleetDrift(b *testing.B) {
	n := envInt("BENCH_FLEET_TENANTS", 100)
	var parallels []int
	for _, s := range strings.Split(envString("BENCH_FLEET_PARALLEL", "4,8"), ",") {
		p, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || p < 1 {
			b.Fatalf("BENCH_FLEET_PARALLEL=%q: give positive integers separated by commas", os.Getenv("BENCH_FLEET_PARALLEL"))
		}
		parallels = append(parallels, p)
	}
	srv := azurite.Start(b, "tfstate") // skips, saying why, when Azurite is not installed
	bin := c4sctlBinary(b)
	f := newFleet(b, n, srv.Endpoint)

	setupStart := time.Now()
	f.bin = bin
	f.jobs(b, 8, func(i int) {
		f.mustRun(b, i, []int{0}, "workspace", "new", f.names[i])
		f.mustRun(b, i, []int{0}, "--workspace", f.names[i], "apply", "--auto-approve")
	})
	// Changed outside c4sctl after the apply: transcription off in every tenth tenant.
	drifted := map[int]bool{}
	for i := 3; i < n; i += 10 {
		teams, _ := f.sbs[i].Service("teams").(*teamsapi.Service)
		if err := teams.SetMeetingPolicyField("Global", "AllowTranscription", false); err != nil { // takes the sandbox's lock itself
			b.Fatal(err)
		}
		drifted[i] = true
	}
	fmt.Printf("\nFleet drift simulation: %d tenants (one in-process sandbox each), state in Azurite (backend \"azurerm\", one workspace per tenant); setup (workspace new + apply per tenant, not timed) %s\n",
		n, time.Since(setupStart).Round(time.Second))

	for it := 0; it < b.N; it++ {
		for _, par := range parallels {
			for _, sb := range f.sbs {
				sb.RequestLog().Reset()
			}
			reports := b.TempDir()
			var mu sync.Mutex
			walls := make([]time.Duration, n)
			cpus := make([]time.Duration, n)
			start := time.Now()
			f.jobs(b, par, func(i int) {
				// The job's only input is its index, as in an Indexed Job: the tenant is line i
				// of tenants.txt.
				tenant, err := f.tenantOf(i)
				if err != nil {
					b.Error(err)
					return
				}
				want := []int{0}
				if drifted[i] {
					want = []int{2}
				}
				r := f.run(b, i, []string{"JOB_COMPLETION_INDEX=" + strconv.Itoa(i)},
					"--workspace", tenant, "drift", "--report", "json="+filepath.Join(reports, tenant+".json"))
				if !slices.Contains(want, r.code) || (r.code == 0 && !strings.Contains(r.stdout, "No drift")) {
					b.Errorf("job %d (%s): drift exit %d, want %v\n%s\n%s", i, tenant, r.code, want, r.stdout, r.stderr)
				}
				mu.Lock()
				walls[i], cpus[i] = r.wall, r.cpu
				mu.Unlock()
			})
			wall := time.Since(start)
			if b.Failed() {
				return
			}
			// Every job wrote its report, and it says what the exit code said.
			for i, name := range f.names {
				var rep struct {
					Summary struct {
						Drifted int `json:"drifted"`
					} `json:"summary"`
				}
				raw, err := os.ReadFile(filepath.Join(reports, name+".json"))
				if err == nil {
					err = json.Unmarshal(raw, &rep)
				}
				if err != nil || (rep.Summary.Drifted > 0) != drifted[i] {
					b.Fatalf("%s's report (drifted %v): %v\n%s", name, drifted[i], err, raw)
				}
			}
			reqs := make([]int, n)
			for i, sb := range f.sbs {
				reqs[i] = sb.RequestLog().Total()
			}
			slices.Sort(reqs)
			slices.Sort(walls)
			var cpuSum time.Duration
			for _, c := range cpus {
				cpuSum += c
			}
			perMin := float64(n) / wall.Minutes()
			fmt.Printf("  N=%d in parallel: %d jobs in %s = %.0f tenants/minute (%d drifted, exit 2; %d clean, exit 0)\n",
				par, n, wall.Round(100*time.Millisecond), perMin, len(drifted), n-len(drifted))
			fmt.Printf("    per job: wall median %s, max %s; CPU %s (c4sctl process, user+system)\n",
				walls[n/2].Round(time.Millisecond), walls[n-1].Round(time.Millisecond), (cpuSum / time.Duration(n)).Round(time.Millisecond))
			fmt.Printf("    requests per tenant (its sandbox's request log, token requests included): min %d, median %d, max %d\n",
				reqs[0], reqs[n/2], reqs[n-1])
			fmt.Printf("    projection to 1,000 tenants at N=%d: %.1f minutes (linear: the jobs share nothing but the\n"+
				"    storage account, each workspace its own blob and lease; on this machine the %d jobs share 2 cores)\n",
				par, 1000/perMin, par)
			b.ReportMetric(perMin, fmt.Sprintf("tenants/min@N=%d", par))
		}
	}
}

// fleet is the simulated partner: n sandbox tenants, one configuration directory, one Azurite
// container.
type fleet struct {
	names   []string
	sbs     []*sandbox.Server
	cas     []string
	dir     string // the configuration
	list    string // tenants.txt: one workspace name a line, line i for index i
	varFile string
	arm     string // the Azurite blob endpoint
	bin     string // c4sctl
}

// fleetSecret is every sandbox tenant's client secret and Salesforce consumer secret.
const fleetSecret = "fleet-bench-secret-0123456789"

func newFleet(b *testing.B, n int, endpoint string) *fleet {
	b.Helper()
	f := &fleet{dir: b.TempDir(), arm: endpoint}
	tmp := b.TempDir()
	var vars strings.Builder
	vars.WriteString("tenants = {\n")
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("tenant-%03d", i)
		sb, err := sandbox.Start(sandbox.Options{}, cli.SandboxServices()...)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = sb.Close() })
		app := sb.Apps().Get(sandbox.ClientID)
		sf, _ := sb.Service("salesforce").(*salesforceapi.Service)
		bap, _ := sb.Service("bap").(*powerplatformapi.BAPService)
		if app == nil || sf == nil || bap == nil {
			b.Fatal("the sandbox lacks the c4sctl app registration, salesforce or bap")
		}
		app.Secret, sf.Secret = fleetSecret, fleetSecret
		// What people do by hand in each tenant before c4sctl can finish (see `make demo`).
		if err := sb.Mutate(func() error {
			if err := sf.InstallConnectedApp(salesforceapi.PowerPlatformApp); err != nil {
				return err
			}
			if err := bap.SignIn("seller@contoso-sandbox.onmicrosoft.com"); err != nil {
				return err
			}
			return bap.API().AddAppUser(powerplatformapi.VivaUniqueName, sandbox.ClientID)
		}); err != nil {
			b.Fatal(err)
		}
		ca := filepath.Join(tmp, name+"-ca.pem")
		if err := os.WriteFile(ca, sb.CACertPEM(), 0o600); err != nil {
			b.Fatal(err)
		}
		f.names, f.sbs, f.cas = append(f.names, name), append(f.sbs, sb), append(f.cas, ca)
		fmt.Fprintf(&vars, "  %q = { url = %q, ca_file = %q }\n", name, sb.URL, ca)
	}
	vars.WriteString("}\n")
	// One configuration for the fleet: the providers' endpoints come from the workspace's entry
	// in var.tenants, as a partner's would (README "Workspaces").
	providers := providertest.StandaloneProviderBlocks("${var.tenants[c4sctl.workspace].url}", "${var.tenants[c4sctl.workspace].ca_file}")
	cfg := `variable "tenants" {
  type = map(object({ url = string, ca_file = string }))
}
` + providers + quickstartResources(b) + fmt.Sprintf(`
c4sctl {
  backend "azurerm" {
    storage_account_name = %q
    container_name       = "tfstate"
    key                  = "fleet/c4sctl.json"
    endpoint             = %q
  }
}
`, azurite.Account, endpoint)
	if err := os.WriteFile(filepath.Join(f.dir, "main.c4s.hcl"), []byte(cfg), 0o600); err != nil {
		b.Fatal(err)
	}
	f.varFile = filepath.Join(tmp, "tenants.vars")
	f.list = filepath.Join(tmp, "tenants.txt")
	if err := os.WriteFile(f.varFile, []byte(vars.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(f.list, []byte(strings.Join(f.names, "\n")+"\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	return f
}

// tenantOf is the Indexed Job's lookup: line i (from 0) of tenants.txt.
func (f *fleet) tenantOf(i int) (string, error) {
	raw, err := os.ReadFile(f.list)
	if err != nil {
		return "", err
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	if i < 0 || i >= len(lines) {
		return "", fmt.Errorf("JOB_COMPLETION_INDEX %d: tenants.txt has %d tenants", i, len(lines))
	}
	return lines[i], nil
}

// jobs runs job(0..n-1), par at a time.
func (f *fleet) jobs(b *testing.B, par int, job func(i int)) {
	idx := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < par; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range idx {
				job(i)
			}
		}()
	}
	for i := range f.names {
		idx <- i
	}
	close(idx)
	wg.Wait()
}

// fleetRun is one c4sctl process's outcome.
type fleetRun struct {
	code           int
	stdout, stderr string
	wall, cpu      time.Duration
}

// run runs c4sctl for tenant i (its sandbox's CA trusted; no machine C4S_/AZURE_/SF_ variable).
func (f *fleet) run(b *testing.B, i int, extraEnv []string, args ...string) fleetRun {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "C4S_") || strings.HasPrefix(k, "AZURE_") || strings.HasPrefix(k, "SF_") || strings.HasPrefix(k, "ARM_") ||
			strings.HasPrefix(k, "BENCH_") || k == "SSL_CERT_FILE" || k == "SSL_CERT_DIR" || k == "NO_COLOR" || k == "GODEBUG" {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "SSL_CERT_FILE="+f.cas[i], "NO_COLOR=1", "ARM_ACCESS_KEY="+azurite.Key,
		"AZURE_CLIENT_SECRET="+fleetSecret, "C4S_VAR_client_secret="+fleetSecret, "SF_CLIENT_SECRET="+fleetSecret)
	env = append(env, extraEnv...)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, f.bin, append([]string{"--dir", f.dir, "--no-color", "--var-file", f.varFile}, args...)...)
	cmd.Env = env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	r := fleetRun{wall: time.Since(start), stdout: out.String(), stderr: errb.String()}
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			b.Errorf("run c4sctl %s: %v", strings.Join(args, " "), err)
			r.code = -1
			return r
		}
		r.code = ee.ExitCode()
	}
	r.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	return r
}

func (f *fleet) mustRun(b *testing.B, i int, want []int, args ...string) {
	if r := f.run(b, i, nil, args...); !slices.Contains(want, r.code) {
		b.Errorf("%s: c4sctl %s: exit %d, want %v\n%s\n%s", f.names[i], strings.Join(args, " "), r.code, want, r.stdout, r.stderr)
	}
}

func envString(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
