package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/c4sctl/c4sctl/pkg/providers/providertest"
	"github.com/c4sctl/c4sctl/pkg/sandbox"
	"github.com/c4sctl/c4sctl/pkg/sandbox/powerplatformapi"
	"github.com/c4sctl/c4sctl/pkg/sandbox/salesforceapi"
)

// The reliability tests (chaos, crash, interrupt, canary) run the real c4sctl binary against a
// standalone sandbox started by the test, as an admin would run it against a tenant: provider
// blocks name the sandbox's endpoints, and SSL_CERT_FILE makes the process trust its certificate
// (the Salesforce provider has no ca_file attribute).

var (
	binOnce sync.Once
	binDir  string
	binPath string
	binErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// c4sctlBinary builds ./cmd/c4sctl once per test process.
func c4sctlBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "c4sctl-bin-")
		if binErr != nil {
			return
		}
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(file), "..", "..")
		binPath = filepath.Join(binDir, "c4sctl")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/c4sctl")
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// standalone is a sandbox started by a test, with its certificate written to a file.
type standalone struct {
	sb     *sandbox.Server
	caFile string
	secret string // the app registration's client secret and the Salesforce consumer secret
}

// startStandalone starts a sandbox (data in memory) whose Microsoft app registration and
// Salesforce connected app accept secret, and no other.
func startStandalone(t *testing.T, secret string) *standalone {
	t.Helper()
	sb, err := sandbox.Start(sandbox.Options{}, SandboxServices()...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sb.Close() })
	app := sb.Apps().Get(sandbox.ClientID)
	sf, _ := sb.Service("salesforce").(*salesforceapi.Service)
	if app == nil || sf == nil {
		t.Fatal("the sandbox lacks the c4sctl app registration or the salesforce service")
	}
	app.Secret = secret
	sf.Secret = secret
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, sb.CACertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	return &standalone{sb: sb, caFile: ca, secret: secret}
}

// doManualSteps does what people do outside c4sctl in the quickstart: install the Salesforce
// connected app (guide step 6) and a seller's first sign-in, which creates msdyn_viva (step 7).
func (s *standalone) doManualSteps(t *testing.T) {
	t.Helper()
	sf, _ := s.sb.Service("salesforce").(*salesforceapi.Service)
	bap, _ := s.sb.Service("bap").(*powerplatformapi.BAPService)
	if sf == nil || bap == nil {
		t.Fatal("the sandbox lacks the salesforce or bap service")
	}
	if err := s.sb.Mutate(func() error {
		if err := sf.InstallConnectedApp(salesforceapi.PowerPlatformApp); err != nil {
			return err
		}
		if err := bap.SignIn("seller@contoso-sandbox.onmicrosoft.com"); err != nil {
			return err
		}
		return bap.API().AddAppUser(powerplatformapi.VivaUniqueName, sandbox.ClientID)
	}); err != nil {
		t.Fatal(err)
	}
}

// providerBlocks are the four provider blocks pointing at the sandbox. Secrets are not written:
// the Microsoft providers read var.client_secret (powerplatform) or AZURE_CLIENT_SECRET, and
// Salesforce reads SF_CLIENT_SECRET.
func (s *standalone) providerBlocks() string {
	return providertest.StandaloneProviderBlocks(s.sb.URL, s.caFile)
}

// quickstartResources is examples/quickstart/main.c4s.hcl without its variable and provider
// blocks.
func quickstartResources(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	b, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "examples", "quickstart", "main.c4s.hcl"))
	if err != nil {
		t.Fatal(err)
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

// cliEnv is a hermetic environment for the binary: no C4S_, AZURE_ or SF_ variable of the
// machine, the sandbox's certificate trusted, the given secrets.
func (s *standalone) cliEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "C4S_") || strings.HasPrefix(k, "AZURE_") || strings.HasPrefix(k, "SF_") || k == "SSL_CERT_FILE" || k == "SSL_CERT_DIR" || k == "NO_COLOR" {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "SSL_CERT_FILE="+s.caFile, "NO_COLOR=1",
		"AZURE_CLIENT_SECRET="+s.secret, "C4S_VAR_client_secret="+s.secret, "SF_CLIENT_SECRET="+s.secret)
	return append(env, extra...)
}

// run runs the binary to its end (bounded by a generous timeout) and returns its output.
func runBin(t *testing.T, bin string, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code = 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("run c4sctl %s: %v", strings.Join(args, " "), err)
		}
		code = ee.ExitCode()
	}
	return out.String(), errb.String(), code
}
