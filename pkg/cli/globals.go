package cli

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/c4sctl/c4sctl/pkg/httpx"
	"github.com/c4sctl/c4sctl/pkg/plan"
	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/sandbox"
	"github.com/c4sctl/c4sctl/pkg/sandbox/faults"
	"github.com/c4sctl/c4sctl/pkg/sandbox/salesforceapi"
	"github.com/c4sctl/c4sctl/pkg/spec"
	"github.com/c4sctl/c4sctl/pkg/state"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"golang.org/x/term"
)

// Globals holds the global flags and what a command loads from them: the configuration, the
// sandbox, configured provider clients. Commands share it; nothing is loaded until asked.
type Globals struct {
	Dir      string
	Sandbox  bool
	Vars     []string
	VarFiles []string
	NoColor  bool
	LogLevel string
	// Workspace is --workspace; see CurrentWorkspace.
	Workspace string
	// LockTimeout is how long to wait for another run's state lock (0: fail at once).
	LockTimeout time.Duration

	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string

	registry *providers.Registry
	// extraProviders are known besides the built-in ones (tests add in-memory providers).
	extraProviders []providers.Provider
	// validateOnly: variables without default or value are unknown of their type (validate).
	validateOnly bool
	// diagJSON: printDiags collects into jsonDiags instead of writing text (--json).
	diagJSON  bool
	jsonDiags hcl.Diagnostics
	config    *spec.Config
	eval      *spec.Evaluator
	sb        *sandbox.Server
	httpc     *http.Client
	log       *slog.Logger
	logw      *redactingWriter
	store     state.Store

	mu      sync.Mutex
	clients map[string]providers.Client
	targets map[string]providers.Identity
	// configuring holds the configurations under way, by provider name: a provider's Configure
	// may sign in (a round trip), and the others must not wait for it.
	configuring map[string]*configuring

	// sandboxVia says how --sandbox was turned on ("--sandbox", "C4S_SANDBOX=1"), for the banner.
	sandboxVia string
	// bannerMu guards banner: the sandbox banner is printed once per run.
	bannerMu sync.Mutex
	banner   bool
}

// sandboxBanner prints, once per run, the line that makes a sandbox run unmistakable (stderr,
// so that --json output stays one document).
func (g *Globals) sandboxBanner(why string) {
	g.bannerMu.Lock()
	defer g.bannerMu.Unlock()
	if g.banner {
		return
	}
	g.banner = true
	fmt.Fprintf(g.Stderr, "c4sctl: SANDBOX (%s): this run talks to the c4sctl sandbox, an emulator, not a real tenant or org.\n", why)
}

// sandboxIdentity tells why a provider's sign-in identity is the c4sctl sandbox's ("" when it
// is not): its Entra tenant (sandbox.TenantID or its domain) or its Salesforce org id. So a
// configuration pointed at `c4sctl sandbox serve`, without --sandbox, is still marked.
func sandboxIdentity(name string, id providers.Identity) string {
	if t := id["tenant_id"]; t != "" && (strings.EqualFold(t, sandbox.TenantID) || strings.EqualFold(t, sandbox.TenantDomain)) {
		return fmt.Sprintf("provider %q signs in to the sandbox's tenant %s", name, t)
	}
	// Salesforce org ids are 15 characters, case-sensitive, or 18 with a checksum suffix.
	if o := id["org_id"]; len(o) >= 15 && o[:15] == salesforceapi.OrgID[:15] {
		return fmt.Sprintf("provider %q signs in to the sandbox's org %s", name, o)
	}
	return ""
}

// SandboxRun tells whether this run is against the c4sctl sandbox: --sandbox (C4S_SANDBOX=1),
// or a configured provider signed in to the sandbox's tenant or org (see sandboxIdentity). It
// prints the banner when it finds one not announced yet.
func (g *Globals) SandboxRun() bool {
	if g.Sandbox {
		return true
	}
	g.mu.Lock()
	names := make([]string, 0, len(g.clients))
	for name := range g.clients {
		names = append(names, name)
	}
	sort.Strings(names)
	var why string
	for _, name := range names {
		if ic, ok := g.clients[name].(providers.Identified); ok {
			if why = sandboxIdentity(name, ic.Identity()); why != "" {
				break
			}
		}
	}
	g.mu.Unlock()
	if why != "" {
		g.sandboxBanner(why)
	}
	return why != ""
}

// StateDir is the configuration's .c4sctl directory (state, lock, sandbox data).
func (g *Globals) StateDir() string { return filepath.Join(g.Dir, ".c4sctl") }

// Registry returns the providers this binary knows.
func (g *Globals) Registry() *providers.Registry {
	if g.registry == nil {
		g.registry = providers.NewRegistry(append(builtinProviders(), g.extraProviders...)...)
	}
	return g.registry
}

// Logger returns the debug logger (stderr at --log-level; discarded by default).
func (g *Globals) Logger() *slog.Logger {
	if g.log != nil {
		return g.log
	}
	var lvl slog.Level
	switch g.LogLevel {
	case "", "off":
		g.log = slog.New(slog.DiscardHandler)
		return g.log
	case "debug", "trace":
		lvl = slog.LevelDebug
	case "info":
		lvl = slog.LevelInfo
	case "warn":
		lvl = slog.LevelWarn
	default:
		lvl = slog.LevelError
	}
	g.logw = &redactingWriter{w: g.Stderr}
	if g.eval != nil {
		g.logw.setSecrets(g.eval.SensitiveStrings())
	}
	g.log = slog.New(slog.NewTextHandler(g.logw, &slog.HandlerOptions{Level: lvl}))
	return g.log
}

// redactingWriter is where the debug log writes: a sensitive variable's value reaches request
// URLs (a filter that quotes it, such as the SOQL query of an assignee_filter), and the log
// shows request URLs. Each record (one Write) has the values, raw and URL-encoded, replaced.
type redactingWriter struct {
	w       io.Writer
	mu      sync.Mutex
	secrets []string
}

func (r *redactingWriter) setSecrets(secrets []string) {
	var all []string
	for _, x := range secrets {
		all = append(all, x)
		for _, e := range []string{url.QueryEscape(x), url.PathEscape(x), strings.ReplaceAll(url.QueryEscape(x), "+", "%20")} {
			if e != x {
				all = append(all, e)
			}
		}
	}
	sort.Slice(all, func(i, j int) bool { return len(all[i]) > len(all[j]) })
	r.mu.Lock()
	r.secrets = all
	r.mu.Unlock()
}

func (r *redactingWriter) Write(p []byte) (int, error) {
	r.mu.Lock()
	secrets := r.secrets
	r.mu.Unlock()
	if len(secrets) == 0 {
		return r.w.Write(p)
	}
	if _, err := io.WriteString(r.w, spec.Redact(string(p), secrets)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// color tells whether output may be colored: a terminal, no --no-color, no NO_COLOR.
func (g *Globals) color(w io.Writer) bool {
	if g.NoColor || g.Getenv("NO_COLOR") != "" {
		return false
	}
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func (g *Globals) colors(w io.Writer) plan.Colors {
	if g.color(w) {
		return plan.ANSI()
	}
	return plan.Colors{}
}

// diagError is returned once diagnostics were printed: main exits 1 without printing more.
type diagError struct{ n int }

func (e *diagError) Error() string { return fmt.Sprintf("%d error(s) in the configuration", e.n) }

// printDiags writes diagnostics with source snippets; it returns an error when any is an error.
func (g *Globals) printDiags(diags hcl.Diagnostics) error {
	if len(diags) == 0 {
		return nil
	}
	if g.diagJSON {
		g.jsonDiags = append(g.jsonDiags, diags...)
	} else {
		var sources map[string][]byte
		if g.config != nil {
			sources = g.config.Sources
		}
		width := uint(100)
		if f, ok := g.Stderr.(*os.File); ok {
			if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 20 {
				width = uint(w)
			}
		}
		_ = spec.WriteDiagnostics(g.Stderr, diags, sources, width, g.color(g.Stderr))
	}
	n := 0
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	return &diagError{n: n}
}

// LoadConfig decodes and validates the configuration (printing diagnostics).
func (g *Globals) LoadConfig() (*spec.Config, error) {
	if g.config != nil {
		return g.config, nil
	}
	cfg, diags := spec.Load(g.Dir, g.Registry())
	g.config = cfg
	if err := g.printDiags(diags); err != nil {
		return nil, err
	}
	return cfg, nil
}

// Evaluator resolves variables and returns the configuration's evaluator.
func (g *Globals) Evaluator() (*spec.Evaluator, error) {
	if g.eval != nil {
		return g.eval, nil
	}
	cfg, err := g.LoadConfig()
	if err != nil {
		return nil, err
	}
	ws, err := g.CurrentWorkspace()
	if err != nil {
		return nil, err
	}
	ev, diags := spec.NewEvaluator(cfg, spec.Inputs{Env: os.Environ(), VarFiles: g.VarFiles, Vars: g.Vars, Workspace: ws, UnsetIsUnknown: g.validateOnly})
	if err := g.printDiags(diags); err != nil {
		return nil, err
	}
	g.eval = ev
	if g.logw != nil {
		g.logw.setSecrets(ev.SensitiveStrings())
	}
	return ev, nil
}

// ResourceConfig evaluates one resource's configuration with no other resource known.
func (g *Globals) ResourceConfig(ctx context.Context, addr string) (cty.Value, error) {
	cfg, err := g.LoadConfig()
	if err != nil {
		return cty.NilVal, err
	}
	ev, err := g.Evaluator()
	if err != nil {
		return cty.NilVal, err
	}
	r := cfg.Resources[addr]
	if r == nil {
		return cty.NilVal, fmt.Errorf("the configuration has no resource %s", addr)
	}
	v, _, diags := ev.ResourceConfig(r, map[string]cty.Value{})
	if err := g.printDiags(diags); err != nil {
		return cty.NilVal, err
	}
	return v, nil
}

// SandboxServer starts (once) the sandbox that keeps its data in the configuration's
// .c4sctl/sandbox directory.
func (g *Globals) SandboxServer() (*sandbox.Server, error) {
	if g.sb != nil {
		return g.sb, nil
	}
	svcs := newSandboxServices()
	ff, err := parseFaultSpec(g.Getenv("C4S_SANDBOX_FAULTS"))
	if err != nil {
		return nil, err
	}
	fo, on, err := ff.options()
	if err != nil {
		return nil, err
	}
	if err := checkDown(fo.Down, svcs); err != nil {
		return nil, fmt.Errorf("C4S_SANDBOX_FAULTS: %v", err)
	}
	sb, err := sandbox.Start(sandbox.Options{Dir: filepath.Join(g.StateDir(), "sandbox")}, svcs...)
	if err != nil {
		return nil, err
	}
	via := g.sandboxVia
	if via == "" {
		via = "--sandbox"
	}
	g.sandboxBanner(via)
	if on {
		faults.Install(sb, fo)
	}
	g.sb = sb
	return sb, nil
}

// HTTPClient is the HTTP layer handed to every provider.
func (g *Globals) HTTPClient() (*http.Client, error) {
	if g.httpc != nil {
		return g.httpc, nil
	}
	// One HTTP layer for every provider: retries honouring Retry-After, a concurrency limit and
	// rate budget per API, redacted request logging.
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if g.Sandbox {
		sb, err := g.SandboxServer()
		if err != nil {
			return nil, err
		}
		pool.AppendCertsFromPEM(sb.CACertPEM())
	}
	opts := httpx.Options{RootCAs: pool, Logger: g.Logger()}
	if err := parseHTTPLimits(g.Getenv("C4S_HTTP_LIMITS"), &opts); err != nil {
		return nil, err
	}
	g.httpc = httpx.NewClient(opts)
	return g.httpc, nil
}

// configuring is a provider configuration under way: done is closed when c and err are set.
type configuring struct {
	done chan struct{}
	c    providers.Client
	err  error
}

// Client returns the configured client of a provider (configured on first use; with --sandbox
// pointed at the sandbox). Providers are configured beside each other: a Salesforce sign-in
// during Configure (a round trip) does not hold up Microsoft Graph's first request, which
// starts the plan's longest chain. Concurrent callers for one provider share its configuration.
func (g *Globals) Client(ctx context.Context, name string) (providers.Client, error) {
	g.mu.Lock()
	if c, ok := g.clients[name]; ok {
		g.mu.Unlock()
		return c, nil
	}
	if cf, ok := g.configuring[name]; ok {
		g.mu.Unlock()
		select {
		case <-cf.done:
			return cf.c, cf.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	cf := &configuring{done: make(chan struct{})}
	if g.configuring == nil {
		g.configuring = map[string]*configuring{}
	}
	g.configuring[name] = cf
	// What Configure needs (the configuration's evaluation, the HTTP client) is built under the
	// lock, as before; only Configure itself runs outside it.
	p, val, env, err := g.providerInput(name)
	g.mu.Unlock()
	var c providers.Client
	if err == nil {
		// A panic in Configure must not leave the callers waiting on cf for ever.
		if err = providers.Guard(func() (err error) { c, err = p.Configure(ctx, val, env); return err }); err != nil {
			err = fmt.Errorf("provider %q: %w", name, err)
		}
	}
	g.mu.Lock()
	delete(g.configuring, name) // a failed configuration is tried again by the next caller
	if err == nil {
		if g.clients == nil {
			g.clients = map[string]providers.Client{}
			g.targets = map[string]providers.Identity{}
		}
		g.clients[name] = c
		g.targets[name] = g.identity(c)
	}
	g.mu.Unlock()
	cf.c, cf.err = c, err
	close(cf.done)
	if err != nil {
		return nil, err
	}
	if ic, ok := c.(providers.Identified); ok && !g.Sandbox {
		if why := sandboxIdentity(name, ic.Identity()); why != "" {
			g.sandboxBanner(why)
		}
	}
	return c, nil
}

// providerInput is what provider name's Configure takes: its block's value (with --sandbox, the
// sandbox's values over it) and the environment. Called with g.mu held.
func (g *Globals) providerInput(name string) (providers.Provider, cty.Value, *providers.Env, error) {
	p := g.Registry().Provider(name)
	if p == nil {
		return nil, cty.NilVal, nil, fmt.Errorf("this c4sctl has no provider %q", name)
	}
	ev, err := g.Evaluator()
	if err != nil {
		return nil, cty.NilVal, nil, err
	}
	val, diags := ev.ProviderConfig(name, p.ConfigSchema())
	if err := g.printDiags(diags); err != nil {
		return nil, cty.NilVal, nil, err
	}
	httpc, err := g.HTTPClient()
	if err != nil {
		return nil, cty.NilVal, nil, err
	}
	if g.Sandbox {
		vals := val.AsValueMap()
		if vals == nil {
			vals = map[string]cty.Value{}
		}
		for k, v := range p.SandboxConfig(g.sb.URL) {
			vals[k] = v
		}
		val = cty.ObjectVal(vals)
	}
	return p, val, &providers.Env{HTTPClient: httpc, Getenv: g.Getenv, Log: g.Logger()}, nil
}

// identity is where a configured client signs in, plus whether it is the sandbox. The in-process
// sandbox's base URL is written "sandbox:" so that a plan made in one run names the same target
// in the next (its port may change between runs).
func (g *Globals) identity(c providers.Client) providers.Identity {
	id := providers.Identity{"sandbox": strconv.FormatBool(g.Sandbox)}
	if ic, ok := c.(providers.Identified); ok {
		for k, v := range ic.Identity() {
			if g.Sandbox && g.sb != nil {
				v = strings.ReplaceAll(v, strings.TrimSuffix(g.sb.URL, "/"), "sandbox:")
			}
			id[k] = v
		}
	}
	return id
}

// Targets returns where each provider configured so far signed in.
func (g *Globals) Targets() map[string]providers.Identity {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make(map[string]providers.Identity, len(g.targets))
	for k, v := range g.targets {
		out[k] = v
	}
	return out
}

// Close stops the sandbox (saving its data). The client's idle connections are closed first:
// the sandbox server's graceful shutdown would otherwise wait on each open HTTP/2 connection
// for its client to leave after GOAWAY (1 s: http2goAwayTimeout in net/http/h2_bundle.go), and
// every in-process --sandbox command ended with that second.
func (g *Globals) Close() error {
	if g.httpc != nil {
		g.httpc.CloseIdleConnections()
	}
	if g.sb != nil {
		err := g.sb.Close()
		g.sb = nil
		return err
	}
	return nil
}

// ExitStalePlan is the exit code of `apply PLANFILE` when the saved plan is stale: the
// configuration or a live object it touches changed since it was made, and nothing was applied
// (README "Exit codes"). Pipelines tell it from other failures without reading the message.
const ExitStalePlan = 5

// exitError carries an exit code other than 1 (e.g. 2 for --detailed-exitcode).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}

// ExitCode maps an error from Execute to the process exit code.
func ExitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return 1
}
