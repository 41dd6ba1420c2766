package cli

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/c4sctl/c4sctl/pkg/bootstrap"
	"github.com/c4sctl/c4sctl/pkg/providers/entra"
	"github.com/c4sctl/c4sctl/pkg/providers/salesforce"
	"github.com/c4sctl/c4sctl/pkg/sandbox"
)

var updateDocs = flag.Bool("update", false, "rewrite the generated parts of docs/getting-started-real.md and examples/real-tenant/main.c4s.hcl")

func repoRoot(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

const realTenantHeader = `# The quickstart's resources (examples/quickstart/main.c4s.hcl without its variable and provider
# blocks), for a real tenant and org with providers.c4s.hcl: docs/getting-started-real.md.
# Generated: go test ./pkg/cli -run TestGettingStartedRealIsGenerated -update
`

// generatedSections are the parts of docs/getting-started-real.md made from the code.
func generatedSections(t *testing.T) map[string]string {
	t.Helper()
	var auth, sf, needs, boot bytes.Buffer
	bootstrap.WriteAuthTable(&auth, entra.Methods, entra.Attributes())
	sfp := salesforce.New()
	bootstrap.WriteAuthTable(&sf, salesforce.Methods, sfp.ConfigSchema().Attributes)
	bootstrap.WriteNeedsTable(&needs, (&Globals{}).Registry().ResourceTypes())
	g := &Globals{Dir: filepath.Join(repoRoot(t), "examples", "real-tenant"), Getenv: func(string) string { return "" }, Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}}
	in, err := bootstrapInput(g)
	if err != nil {
		t.Fatal(err)
	}
	bootstrap.Write(&boot, in)
	return map[string]string{
		"auth-microsoft":    auth.String(),
		"auth-salesforce":   sf.String(),
		"needs":             needs.String(),
		"bootstrap-example": "```sh\n" + boot.String() + "```\n",
	}
}

// docs/getting-started-real.md and examples/real-tenant/main.c4s.hcl are what the code declares:
// the permissions and roles per resource, the variables of each sign-in method, bootstrap's
// output for the example, and the quickstart's resources. -update rewrites them.
func TestGettingStartedRealIsGenerated(t *testing.T) {
	root := repoRoot(t)
	docPath := filepath.Join(root, "docs", "getting-started-real.md")
	raw, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	for name, body := range generatedSections(t) {
		re := regexp.MustCompile(`(?s)(<!-- BEGIN GENERATED ` + regexp.QuoteMeta(name) + ` -->\n)(.*?)(<!-- END GENERATED ` + regexp.QuoteMeta(name) + ` -->)`)
		m := re.FindStringSubmatch(doc)
		if m == nil {
			t.Errorf("docs/getting-started-real.md has no generated section %q", name)
			continue
		}
		if m[2] != body {
			if *updateDocs {
				doc = strings.Replace(doc, m[0], m[1]+body+m[3], 1)
				continue
			}
			t.Errorf("docs/getting-started-real.md section %q is out of date with the code: run go test ./pkg/cli -run TestGettingStartedRealIsGenerated -update\n--- want\n%s", name, body)
		}
	}
	if *updateDocs {
		if err := os.WriteFile(docPath, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	example := filepath.Join(root, "examples", "real-tenant", "main.c4s.hcl")
	want := realTenantHeader + strings.TrimLeft(quickstartResources(t), "\n")
	got, _ := os.ReadFile(example)
	if string(got) != want {
		if *updateDocs {
			if err := os.WriteFile(example, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
		} else {
			t.Errorf("examples/real-tenant/main.c4s.hcl is not the quickstart's resources: run go test ./pkg/cli -run TestGettingStartedRealIsGenerated -update")
		}
	}
}

// shBlock returns the first ```sh block after marker in doc.
func shBlock(t *testing.T, doc, marker string) string {
	t.Helper()
	i := strings.Index(doc, marker)
	if i < 0 {
		t.Fatalf("docs/getting-started-real.md has no %s", marker)
	}
	m := regexp.MustCompile("(?s)```sh\n(.*?)```").FindStringSubmatch(doc[i:])
	if m == nil {
		t.Fatalf("no sh block after %s", marker)
	}
	return m[1]
}

// Appendix A of docs/getting-started-real.md, run as written: `sandbox serve` stands in for the
// tenant and the org, and the client block (sandbox env, bootstrap, bootstrap --check, plan,
// without --sandbox) reaches a plan without errors, from what the page says only.
func TestGettingStartedRealRehearsal(t *testing.T) {
	t.Parallel() // waits on child processes
	root := repoRoot(t)
	raw, err := os.ReadFile(filepath.Join(root, "docs", "getting-started-real.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	serveCmd := strings.TrimSpace(shBlock(t, doc, "<!-- rehearsal:serve -->"))
	client := shBlock(t, doc, "<!-- rehearsal:client -->")

	bin := c4sctlBinary(t)
	work := t.TempDir()
	if err := os.Symlink(filepath.Join(root, "examples"), filepath.Join(work, "examples")); err != nil {
		t.Fatal(err)
	}
	// c4sctl on PATH; no AZURE_, SF_ or C4S_ variable of this machine.
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "C4S_") || strings.HasPrefix(k, "AZURE_") || strings.HasPrefix(k, "SF_") || k == "SSL_CERT_FILE" || k == "PATH" {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "PATH="+filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"), "NO_COLOR=1")

	// Terminal 1, as written, on a free port instead of the default so that tests can run side by
	// side.
	if !strings.HasSuffix(serveCmd, "sandbox serve") {
		t.Fatalf("the serve block does not end with sandbox serve: %q", serveCmd)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	lines := strings.Split(serveCmd, "\n")
	lines[len(lines)-1] = "exec " + lines[len(lines)-1] + " --addr 127.0.0.1:0" // the signal below reaches c4sctl
	serve := exec.CommandContext(ctx, "sh", "-c", "set -e\n"+strings.Join(lines, "\n"))
	serve.Dir, serve.Env, serve.WaitDelay = work, env, 10*time.Second
	out, err := serve.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var serveErr bytes.Buffer
	serve.Stderr = &serveErr
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			stopProcess(serve.Process)
			_ = serve.Wait()
		}
	}
	defer stop()
	sc := bufio.NewScanner(out)
	ready := false
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "Provider blocks:") {
			ready = true
			break
		}
	}
	if !ready {
		t.Fatalf("sandbox serve did not print how to reach it: %s", serveErr.String())
	}
	go func() { _, _ = bufio.NewReader(out).WriteTo(&bytes.Buffer{}) }()

	// Terminal 2: the block as written (no xtrace: it would echo the secrets eval exports).
	script := "set -e\n" + client
	cmd := exec.CommandContext(ctx, "sh", "-c", script)
	cmd.Dir, cmd.Env, cmd.WaitDelay = work, env, 10*time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("the rehearsal failed: %v\n--- stdout\n%s\n--- stderr\n%s", err, stdout.String(), stderr.String())
	}
	// The provider blocks and variables sandbox env printed hold absolute paths: the same
	// configuration plans from its own directory too (ca_file is read relative to the run's
	// working directory, and a relative one pointed nowhere from there).
	again := exec.CommandContext(ctx, "sh", "-c", `set -e
eval "$(c4sctl --dir sandbox-tenant sandbox env --format vars)"
cd contoso && c4sctl plan`)
	again.Dir, again.Env, again.WaitDelay = work, env, 10*time.Second
	if out, err := again.CombinedOutput(); err != nil || !strings.Contains(string(out), "Plan:") {
		t.Errorf("plan from the configuration's own directory: %v\n%s", err, out)
	}
	plan := stdout.String()
	for _, want := range []string{"Plan:", "teams_meeting_policy.global", "msdyn_viva"} {
		if !strings.Contains(plan, want) {
			t.Errorf("the plan lacks %q:\n%s", want, plan)
		}
	}
	if strings.Contains(stderr.String(), "Error") {
		t.Errorf("errors on the way:\n%s", stderr.String())
	}
	// Ctrl+C: serve's own notice, not apply's "finishing the changes in flight".
	stop()
	if e := serveErr.String(); !strings.Contains(e, "Interrupt received: stopping the sandbox") || strings.Contains(e, "changes in flight") || !strings.Contains(e, "The sandbox stopped") {
		t.Errorf("serve's Ctrl+C messages:\n%s", e)
	}
	// No secret on screen: not the app's client secret, not the consumer secret.
	boot, _ := os.ReadFile(filepath.Join(work, "bootstrap.sh"))
	for _, s := range []string{sandbox.ClientSecret, "SANDBOX0CONSUMER0SECRET"} {
		if strings.Contains(plan+stderr.String()+string(boot), s) {
			t.Errorf("a secret was printed: %s", s)
		}
	}
}
