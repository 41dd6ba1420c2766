package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/c4sctl/c4sctl/pkg/sandbox"
)

// TestSavedPlanAndStateBoundToTheirTarget plans against one tenant and org whose identity comes
// from the environment (AZURE_TENANT_ID, SF_INSTANCE_URL: the GitHub Actions example's way),
// then applies the saved plan with another tenant id or another Salesforce instance: each is
// refused, naming both, and nothing is changed; with the planned identity it applies. A later
// plan against the other org is refused because the state belongs to the first.
func TestSavedPlanAndStateBoundToTheirTarget(t *testing.T) {
	t.Parallel() // waits on the sandboxes and the binary, not the CPU
	bin := c4sctlBinary(t)
	const secret = "target-test-secret"
	a := startStandalone(t, secret)
	b := startStandalone(t, secret) // another org (instance) with the same credentials
	a.doManualSteps(t)
	ca := filepath.Join(t.TempDir(), "both.pem")
	if err := os.WriteFile(ca, append(append([]byte{}, a.sb.CACertPEM()...), b.sb.CACertPEM()...), 0o600); err != nil {
		t.Fatal(err)
	}
	// The tenant and the Salesforce instance come from the environment, not the file.
	blocks := a.providerBlocks()
	blocks = regexp.MustCompile(`(?m)^\s*(tenant_id|instance_url)\s*=.*\n`).ReplaceAllString(blocks, "")
	blocks = strings.ReplaceAll(blocks, a.caFile, ca)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.c4s.hcl"), []byte(blocks+quickstartResources(t)), 0o600); err != nil {
		t.Fatal(err)
	}
	envOf := func(tenant, instance string) []string {
		env := a.cliEnv("AZURE_TENANT_ID="+tenant, "SF_INSTANCE_URL="+instance)
		for i, kv := range env {
			if strings.HasPrefix(kv, "SSL_CERT_FILE=") {
				env[i] = "SSL_CERT_FILE=" + ca
			}
		}
		return env
	}
	instA, instB := a.sb.URL+"/salesforce", b.sb.URL+"/salesforce"
	pfile := filepath.Join(dir, "plan.bin")
	stdout, stderr, code := runBin(t, bin, envOf(sandbox.TenantID, instA), "--dir", dir, "--no-color", "plan", "--out", pfile, "--detailed-exitcode")
	if code != 2 {
		t.Fatalf("plan: exit %d\n%s\n%s", code, stdout, stderr)
	}
	before := a.sb.RequestLog().Counts()

	for _, tc := range []struct {
		name             string
		tenant, instance string
		want             []string
	}{
		{"another Salesforce instance", sandbox.TenantID, instB, []string{"instance_url: " + instA + ", now " + instB}},
		{"another tenant id", sandbox.TenantDomain, instA, []string{"tenant_id: " + sandbox.TenantID + ", now " + sandbox.TenantDomain}},
	} {
		stdout, stderr, code := runBin(t, bin, envOf(tc.tenant, tc.instance), "--dir", dir, "--no-color", "apply", pfile)
		if code != 1 || !strings.Contains(stderr, "another target") {
			t.Fatalf("%s: apply plan.bin exit %d, want a refusal\n%s\n%s", tc.name, code, stdout, stderr)
		}
		for _, w := range tc.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%s: the refusal does not name both (%q):\n%s", tc.name, w, stderr)
			}
		}
		if strings.Contains(stdout, "Creating...") || strings.Contains(stdout, "Modifying...") {
			t.Errorf("%s: apply changed something:\n%s", tc.name, stdout)
		}
		if _, err := os.Stat(filepath.Join(dir, ".c4sctl", "state.json")); err == nil {
			t.Errorf("%s: a refused apply wrote state", tc.name)
		}
	}
	if writes := mutating(a.sb.RequestLog().Counts()) - mutating(before); writes != 0 {
		t.Errorf("the refused applies sent %d writes to the planned org: before %v, after %v", writes, before, a.sb.RequestLog().Counts())
	}
	if writes := mutating(b.sb.RequestLog().Counts()); writes != 0 {
		t.Errorf("the refused applies sent %d writes to the other org", writes)
	}

	stdout, stderr, code = runBin(t, bin, envOf(sandbox.TenantID, instA), "--dir", dir, "--no-color", "apply", pfile)
	if code != 0 || !strings.Contains(stdout, "Apply complete!") {
		t.Fatalf("apply plan.bin where it was planned: exit %d\n%s\n%s", code, stdout, stderr)
	}
	stdout, stderr, code = runBin(t, bin, envOf(sandbox.TenantID, instB), "--dir", dir, "--no-color", "plan")
	if code != 1 || !strings.Contains(stderr, "state") || !strings.Contains(stderr, instA) || !strings.Contains(stderr, instB) {
		t.Fatalf("plan against another org with this state: exit %d, want a refusal naming both instances\n%s\n%s", code, stdout, stderr)
	}
}

// mutating counts the POST, PATCH, PUT and DELETE requests in a sandbox request log.
func mutating(log map[string]int) int {
	n := 0
	for route, c := range log {
		if strings.HasPrefix(route, "POST ") || strings.HasPrefix(route, "PATCH ") || strings.HasPrefix(route, "PUT ") || strings.HasPrefix(route, "DELETE ") {
			if strings.Contains(route, "/token") || strings.Contains(route, "/Soap/") {
				// Signing in changes nothing; the Metadata API's SOAP POSTs include reads
				// (readMetadata): an update through it shows as "Modifying..." in stdout.
				continue
			}
			n += c
		}
	}
	return n
}
