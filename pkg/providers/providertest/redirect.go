package providertest

import (
	"crypto/tls"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/c4sctl/c4sctl/pkg/httpx"
	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/sandbox"
)

// RedirectTrap is an HTTPS front on loopback that passes requests to a sandbox, except those
// Match selects, which it answers with a 307 to Sink (another loopback server, plain http). A
// provider configured against Front.URL must send nothing to Sink: SinkHits counts what arrives
// and Leaks what arrives carrying Canary (in a header, the URL or the body).
type RedirectTrap struct {
	Front    *httptest.Server
	Sink     *httptest.Server
	Canary   string
	SinkHits atomic.Int64
	Leaks    atomic.Int64
	// Redirected counts the 307s the front answered.
	Redirected atomic.Int64
	// Env is a provider environment over an httpx client (the CLI's HTTP layer) trusting the
	// front and the sandbox, with environment variables from the map given to NewRedirectTrap.
	Env *providers.Env
}

// NewRedirectTrap starts the front and the sink (closed at the end of the test).
func NewRedirectTrap(t testing.TB, sb *sandbox.Server, canary string, match func(*http.Request) bool, vars map[string]string) *RedirectTrap {
	t.Helper()
	rt := &RedirectTrap{Canary: canary}
	rt.Sink = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rt.SinkHits.Add(1)
		b, _ := io.ReadAll(r.Body)
		seen := string(b) + " " + r.URL.String()
		for _, vs := range r.Header {
			seen += " " + strings.Join(vs, " ")
		}
		if strings.Contains(seen, canary) {
			rt.Leaks.Add(1)
		}
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{}`))
	}))
	t.Cleanup(rt.Sink.Close)
	target, err := url.Parse(sb.URL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: sb.CertPool(), MinVersion: tls.VersionTLS12}}
	proxy.ErrorLog = log.New(io.Discard, "", 0)
	rt.Front = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if match(r) {
			rt.Redirected.Add(1)
			http.Redirect(w, r, rt.Sink.URL+r.URL.RequestURI(), http.StatusTemporaryRedirect)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	rt.Front.Config.ErrorLog = log.New(io.Discard, "", 0)
	rt.Front.StartTLS()
	t.Cleanup(rt.Front.Close)
	pool := sb.CertPool().Clone()
	pool.AddCert(rt.Front.Certificate())
	rt.Env = &providers.Env{
		HTTPClient: httpx.NewClient(httpx.Options{RootCAs: pool, MaxAttempts: 1}),
		Getenv:     func(k string) string { return vars[k] },
		Log:        slog.New(slog.DiscardHandler),
	}
	return rt
}

// Check fails the test when anything reached the sink, or when the front never redirected
// (the trap was not exercised), or when err does not name both the front's and the sink's URL.
func (rt *RedirectTrap) Check(t testing.TB, err error) {
	t.Helper()
	if rt.Redirected.Load() == 0 {
		t.Fatalf("the front never redirected: the trap was not exercised (err = %v)", err)
	}
	if n := rt.SinkHits.Load(); n > 0 {
		t.Errorf("the redirect target got %d requests, %d carrying the secret", n, rt.Leaks.Load())
	}
	if err == nil {
		t.Fatal("no error: the refused redirect must be an error")
	}
	if !strings.Contains(err.Error(), rt.Front.URL) || !strings.Contains(err.Error(), rt.Sink.URL) {
		t.Errorf("the error does not name both URLs (%s, %s): %v", rt.Front.URL, rt.Sink.URL, err)
	}
	if strings.Contains(err.Error(), rt.Canary) {
		t.Errorf("the error shows the secret: %v", err)
	}
}
