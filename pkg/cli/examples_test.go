package cli

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/c4sctl/c4sctl/pkg/spec"
)

// The repository has no YAML module (and go.mod is not to grow one), so the GitHub Actions
// example gets a structural check instead of a parse: spaces only, consistent two-space
// indentation, the triggers and jobs it promises, every action pinned to a version and given only
// the inputs its action.yml documents, and every c4sctl invocation made of real commands and flags.

const workflowPath = "../../examples/github-actions/c4sctl.yml"

// documentedInputs are the inputs each action's action.yml declares (the versions pinned below).
var documentedInputs = map[string][]string{
	"actions/checkout@v4":                  {"repository", "ref", "token", "ssh-key", "ssh-known-hosts", "ssh-strict", "persist-credentials", "path", "clean", "filter", "sparse-checkout", "sparse-checkout-cone-mode", "fetch-depth", "fetch-tags", "show-progress", "lfs", "submodules", "set-safe-directory", "github-server-url"},
	"actions/setup-go@v5":                  {"go-version", "go-version-file", "check-latest", "token", "cache", "cache-dependency-path", "architecture"},
	"actions/cache/restore@v4":             {"path", "key", "restore-keys", "enableCrossOsArchive", "fail-on-cache-miss", "lookup-only"},
	"actions/cache/save@v4":                {"path", "key", "upload-chunk-size", "enableCrossOsArchive"},
	"azure/login@v2":                       {"creds", "client-id", "tenant-id", "subscription-id", "enable-AzPSSession", "environment", "allow-no-subscriptions", "audience", "auth-type"},
	"actions/upload-artifact@v4":           {"name", "path", "if-no-files-found", "retention-days", "compression-level", "overwrite", "include-hidden-files"},
	"actions/download-artifact@v4":         {"name", "artifact-ids", "path", "pattern", "merge-multiple", "github-token", "repository", "run-id"},
	"actions/github-script@v7":             {"script", "github-token", "debug", "user-agent", "previews", "result-encoding", "retries", "retry-exempt-status-codes", "base-url"},
	"github/codeql-action/upload-sarif@v3": {"sarif_file", "checkout_path", "ref", "sha", "token", "matrix", "category", "wait-for-processing"},
}

type yamlLine struct {
	n      int
	indent int
	text   string // trimmed, comments kept
}

func readWorkflow(t *testing.T) []yamlLine {
	t.Helper()
	f, err := os.Open(filepath.FromSlash(workflowPath))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []yamlLine
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		raw := sc.Text()
		if strings.Contains(raw, "\t") {
			t.Errorf("line %d: tab (YAML indents with spaces)", n)
		}
		if strings.TrimRight(raw, " ") != raw {
			t.Errorf("line %d: trailing space", n)
		}
		text := strings.TrimSpace(raw)
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		out = append(out, yamlLine{n: n, indent: len(raw) - len(strings.TrimLeft(raw, " ")), text: text})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestGitHubActionsWorkflowStructure(t *testing.T) {
	lines := readWorkflow(t)
	top := map[string]bool{}
	jobs := map[string]bool{}
	triggers := map[string]bool{}
	section := ""
	inBlock := -1 // indent of a `|` block scalar's key, -1 outside one
	for _, l := range lines {
		if inBlock >= 0 {
			if l.indent > inBlock {
				continue
			}
			inBlock = -1
		}
		if l.indent%2 != 0 {
			t.Errorf("line %d: indentation %d is not a multiple of two", l.n, l.indent)
		}
		if strings.HasSuffix(l.text, "|") {
			inBlock = l.indent
			if strings.HasPrefix(l.text, "- ") {
				inBlock += 2
			}
		}
		key, _, _ := strings.Cut(strings.TrimPrefix(l.text, "- "), ":")
		switch l.indent {
		case 0:
			section = key
			top[key] = true
		case 2:
			switch section {
			case "jobs":
				jobs[key] = true
			case "on":
				triggers[key] = true
			}
		}
	}
	for _, k := range []string{"name", "on", "permissions", "jobs"} {
		if !top[k] {
			t.Errorf("no top-level %q", k)
		}
	}
	for _, k := range []string{"pull_request", "push", "schedule"} {
		if !triggers[k] {
			t.Errorf("no %q trigger", k)
		}
	}
	for _, k := range []string{"plan", "apply", "drift"} {
		if !jobs[k] {
			t.Errorf("no %q job", k)
		}
	}
}

var pinned = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@(v\d+(\.\d+){0,2}|[0-9a-f]{40})$`)

func TestGitHubActionsUseOnlyDocumentedInputs(t *testing.T) {
	lines := readWorkflow(t)
	used := map[string]bool{}
	for i, l := range lines {
		text := strings.TrimPrefix(l.text, "- ")
		if !strings.HasPrefix(text, "uses:") {
			continue
		}
		action := strings.Trim(strings.TrimSpace(strings.TrimPrefix(text, "uses:")), `"'`)
		if !pinned.MatchString(action) {
			t.Errorf("line %d: %q is not pinned to a version (owner/repo@vN or a commit)", l.n, action)
			continue
		}
		inputs, ok := documentedInputs[action]
		if !ok {
			t.Errorf("line %d: %s is not in the list of checked actions; add its documented inputs", l.n, action)
			continue
		}
		used[action] = true
		allowed := map[string]bool{}
		for _, in := range inputs {
			allowed[in] = true
		}
		// The step's keys sit at the indent of `uses` (after "- "); its `with:` inputs two deeper.
		stepIndent := l.indent
		if strings.HasPrefix(l.text, "- ") {
			stepIndent += 2
		}
		// Look at the step's lines before and after `uses` for `with:`.
		start := i
		for start > 0 && lines[start].indent >= stepIndent && !strings.HasPrefix(lines[start].text, "- ") {
			start--
		}
		for j := start; j < len(lines); j++ {
			if j > start && (lines[j].indent < stepIndent || (lines[j].indent == stepIndent-2 && strings.HasPrefix(lines[j].text, "- "))) {
				break
			}
			if lines[j].indent == stepIndent && strings.TrimPrefix(lines[j].text, "- ") == "with:" {
				for k := j + 1; k < len(lines) && lines[k].indent > stepIndent; k++ {
					if lines[k].indent != stepIndent+2 {
						continue // inside a block scalar
					}
					name, _, _ := strings.Cut(lines[k].text, ":")
					if !allowed[name] {
						t.Errorf("line %d: %s has no documented input %q", lines[k].n, action, name)
					}
				}
			}
		}
	}
	for _, a := range []string{"azure/login@v2", "github/codeql-action/upload-sarif@v3", "actions/upload-artifact@v4", "actions/github-script@v7"} {
		if !used[a] {
			t.Errorf("the workflow does not use %s", a)
		}
	}
}

// The workflow keeps state in the azurerm backend, never in the Actions cache (evicted after a
// week without use), and every run waits for the state lock rather than failing.
func TestGitHubActionsStateIsInTheAzurermBackend(t *testing.T) {
	raw, err := os.ReadFile(filepath.FromSlash(workflowPath))
	if err != nil {
		t.Fatal(err)
	}
	wf := string(raw)
	if strings.Contains(wf, "actions/cache") || strings.Contains(wf, ".c4sctl/state.json") {
		t.Error("the workflow carries state in the Actions cache")
	}
	for _, line := range strings.Split(wf, "\n") {
		if l := strings.TrimSpace(line); strings.HasPrefix(l, "c4sctl ") && !strings.Contains(l, "--lock-timeout") {
			t.Errorf("%q does not wait for the state lock", l)
		}
	}
	readme, err := os.ReadFile(filepath.FromSlash("../../examples/github-actions/README.md"))
	if err != nil {
		t.Fatal(err)
	}
	// The backend block the README tells users to add must load.
	m := regexp.MustCompile("(?s)```hcl\n(c4sctl \\{.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("the README shows no backend block")
	}
	cfg, diags := spec.LoadFiles("deploy", map[string][]byte{"backend.c4s.hcl": m[1]}, (&Globals{}).Registry())
	if diags.HasErrors() || cfg.Backend == nil || cfg.Backend.Type != "azurerm" || !cfg.Backend.Bool("use_azuread_auth") {
		t.Errorf("README backend block: %v %+v", diags, cfg.Backend)
	}
}

// Every c4sctl command line in the workflow names a real command with real flags.
func TestGitHubActionsC4sctlInvocationsParse(t *testing.T) {
	raw, err := os.ReadFile(filepath.FromSlash(workflowPath))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(string(raw), "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "c4sctl ") {
			continue
		}
		n++
		// Stop at the first shell operator; drop quotes around arguments.
		var args []string
		for _, f := range strings.Fields(strings.TrimPrefix(line, "c4sctl ")) {
			if f == ">" || f == "2>" || f == "|" || f == "&&" || f == "||" || strings.HasPrefix(f, ">") || strings.HasPrefix(f, "2>") {
				break
			}
			args = append(args, strings.Trim(f, `"`))
		}
		g := &Globals{Getenv: func(string) string { return "" }}
		root := NewRoot(g)
		cmd, rest, err := root.Find(args)
		if err != nil || cmd == root {
			t.Errorf("%q: no such command (%v)", line, err)
			continue
		}
		if err := cmd.ParseFlags(rest); err != nil {
			t.Errorf("%q: %v", line, err)
			continue
		}
		if cmd.Args != nil {
			if err := cmd.Args(cmd, cmd.Flags().Args()); err != nil {
				t.Errorf("%q: %v", line, err)
			}
		}
		if cmd.Name() == "drift" {
			specs, _ := cmd.Flags().GetStringArray("report")
			if _, err := parseReports(specs); err != nil || len(specs) < 2 {
				t.Errorf("%q: reports %v: %v", line, specs, err)
			}
		}
	}
	if n < 4 {
		t.Errorf("found %d c4sctl invocations; the workflow plans, applies and checks drift", n)
	}
}

// Every job installs the release archive `make release` builds, checked against its SHA256SUMS,
// rather than compiling c4sctl (and msgraph-sdk-go) with the Go toolchain in each job; and the
// apply job tells a stale plan by its exit code, not by error text, and applies no other plan.
func TestGitHubActionsInstallTheCheckedRelease(t *testing.T) {
	raw, err := os.ReadFile(filepath.FromSlash(workflowPath))
	if err != nil {
		t.Fatal(err)
	}
	wf := string(raw)
	makefile, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	// make release: name=c4sctl_$(VERSION)_$${os}_$${arch}, archived as $$name.tar.gz.
	if !strings.Contains(string(makefile), "name=c4sctl_$(VERSION)_$${os}_$${arch}") {
		t.Fatal("make release names its archives differently now: update the workflow's install step and this test")
	}
	if strings.Contains(wf, "go install") || strings.Contains(wf, "actions/setup-go") {
		t.Error("a job compiles c4sctl instead of installing the release")
	}
	installs := strings.Count(wf, "- name: Install c4sctl")
	if installs < 3 {
		t.Errorf("%d install steps; the plan, apply and drift jobs each need one", installs)
	}
	for _, want := range []string{
		`archive="c4sctl_${C4SCTL_VERSION}_linux_amd64"`,
		`--pattern "$archive.tar.gz" --pattern SHA256SUMS`,
		`sha256sum --check --strict`,
	} {
		if got := strings.Count(wf, want); got != installs {
			t.Errorf("%q appears in %d of %d install steps", want, got, installs)
		}
	}
	if want := fmt.Sprintf(`if [ "$code" -ne %d ]; then exit "$code"; fi`, ExitStalePlan); !strings.Contains(wf, want) {
		t.Errorf("the apply job does not fall back on exit %d (stale plan) alone: want %q", ExitStalePlan, want)
	}
	// Only the reviewed plan is applied: every apply in the workflow is of the PR's saved plan.
	applies := 0
	for _, l := range strings.Split(wf, "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "#") || !strings.HasPrefix(l, "c4sctl ") || !strings.Contains(l, " apply") {
			continue
		}
		applies++
		if !strings.HasSuffix(l, " apply saved-plan/plan.bin") {
			t.Errorf("the workflow applies a plan nobody reviewed: %s", l)
		}
	}
	if applies == 0 {
		t.Error("the workflow applies nothing")
	}
	if strings.Contains(wf, "grep -q") {
		t.Error("the workflow greps error text; use exit codes")
	}
}
