package httpx

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Defaults of Options.
const (
	DefaultMaxAttempts    = 6
	DefaultMaxElapsed     = 2 * time.Minute
	DefaultMaxThrottled   = 30
	DefaultBaseDelay      = 500 * time.Millisecond
	DefaultMaxDelay       = 30 * time.Second
	DefaultAttemptTimeout = 60 * time.Second
	DefaultConcurrency    = 16
)

// Limit is the concurrency limit and request-rate budget of one API (see Options.Key).
type Limit struct {
	// Concurrency is the most requests in flight at once; 0 takes Options.Concurrency. A request
	// holds its slot from sending until its answer's headers arrive (not while the caller reads
	// the body, so that a body left unclosed cannot block the API), never while waiting to retry.
	Concurrency int
	// RPS is the request-rate budget in requests per second; 0 takes Options.RPS (and 0 there
	// means no budget).
	RPS float64
	// Burst is the token bucket's size; 0 means max(1, RPS rounded up).
	Burst int
}

// Options configure NewClient. The zero value is usable.
type Options struct {
	// MaxAttempts bounds the attempts of one request, the first one included (default 6).
	MaxAttempts int
	// MaxThrottled bounds the 429 answers with Retry-After one request waits out (default 30):
	// under sustained throttling the server's own pacing, not a small count, should decide.
	MaxThrottled int
	// MaxElapsed bounds the total time spent on one request across attempts and waits
	// (default 2 minutes): a retry whose wait would end after it is not made.
	MaxElapsed time.Duration
	// BaseDelay and MaxDelay shape the exponential backoff with full jitter used when the server
	// gives no Retry-After: the n-th retry waits a random time in [0, min(MaxDelay,
	// BaseDelay*2^(n-1))]. Defaults 500ms and 30s.
	BaseDelay time.Duration
	MaxDelay  time.Duration
	// AttemptTimeout bounds the wait for an answer's headers after the request was written
	// (default 60s). A POST that times out this way has an unknown outcome.
	AttemptTimeout time.Duration

	// Concurrency and RPS are the default Limit of every API (default 16 in flight, no rate
	// budget). Burst is the default bucket size (see Limit.Burst).
	Concurrency int
	RPS         float64
	Burst       int
	// Limits override the defaults per API, keyed by the value of Key ("graph.microsoft.com",
	// "127.0.0.1:8443/graph"); for loopback (sandbox) keys, the service prefix alone ("/graph")
	// also matches.
	Limits map[string]Limit
	// Key groups requests into APIs for the limits; default DefaultKey.
	Key func(*http.Request) string

	// RootCAs are the authorities trusted for TLS; nil means the system's. Add the sandbox's
	// certificate (sandbox.Server.CertPool) or a ca_file here.
	RootCAs *x509.CertPool
	// MinTLSVersion is the lowest TLS version accepted; default and floor tls.VersionTLS12.
	MinTLSVersion uint16
	// Logger receives one debug record per attempt (method, redacted URL, status, duration,
	// attempt); nil discards them. Headers and bodies are never logged.
	Logger *slog.Logger
	// Base is the transport the attempts go through; nil builds an *http.Transport (HTTP/2,
	// proxy from the environment, RootCAs, MinTLSVersion, AttemptTimeout, 128 idle connections
	// per host). RootCAs, MinTLSVersion and AttemptTimeout do not apply to a given Base.
	Base http.RoundTripper
}

func (o Options) withDefaults() Options {
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.MaxThrottled <= 0 {
		o.MaxThrottled = DefaultMaxThrottled
	}
	if o.MaxElapsed <= 0 {
		o.MaxElapsed = DefaultMaxElapsed
	}
	if o.BaseDelay <= 0 {
		o.BaseDelay = DefaultBaseDelay
	}
	if o.MaxDelay <= 0 {
		o.MaxDelay = DefaultMaxDelay
	}
	if o.MaxDelay < o.BaseDelay {
		o.MaxDelay = o.BaseDelay
	}
	if o.AttemptTimeout <= 0 {
		o.AttemptTimeout = DefaultAttemptTimeout
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.MinTLSVersion < tls.VersionTLS12 {
		o.MinTLSVersion = tls.VersionTLS12
	}
	if o.Key == nil {
		o.Key = DefaultKey
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// DefaultKey groups requests by host; on loopback hosts (the sandbox, where every API is served
// under its own path prefix) by host and first path segment, e.g. "127.0.0.1:8443/graph".
func DefaultKey(r *http.Request) string {
	if r.URL == nil {
		return ""
	}
	host := strings.ToLower(r.URL.Host)
	if IsLoopback(r.URL.Hostname()) {
		seg, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		return host + "/" + seg
	}
	return host
}

// Transport is the RoundTripper of NewClient's clients.
type Transport struct {
	opts  Options
	base  http.RoundTripper
	apis  *apiTable
	stats *counters
}

// New returns the Transport NewClient uses.
func New(opts Options) *Transport {
	opts = opts.withDefaults()
	base := opts.Base
	if base == nil {
		base = newBaseTransport(opts)
	}
	return &Transport{opts: opts, base: base, apis: &apiTable{m: map[string]*apiState{}}, stats: &counters{}}
}

// NewClient returns the HTTP client every provider uses (its Transport is a *Transport). It has
// no overall Timeout: attempts are bounded by AttemptTimeout and retries by MaxElapsed; callers
// bound requests with their context. Redirects are followed only as CheckRedirect allows.
func NewClient(opts Options) *http.Client {
	return &http.Client{Transport: New(opts), CheckRedirect: CheckRedirect}
}

func newBaseTransport(o Options) *http.Transport {
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           d.DialContext,
		TLSClientConfig:       &tls.Config{RootCAs: o.RootCAs, MinVersion: o.MinTLSVersion},
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          512,
		MaxIdleConnsPerHost:   128,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: o.AttemptTimeout,
		ExpectContinueTimeout: time.Second,
	}
}

// WithRootCAs returns a copy of c whose TLS trusts pool instead of its current authorities
// (ca_file). With an httpx client the copy shares the limits and counters of c.
func WithRootCAs(c *http.Client, pool *x509.CertPool) (*http.Client, error) {
	if c == nil || pool == nil {
		return nil, errors.New("httpx: WithRootCAs needs a client and a certificate pool")
	}
	withPool := func(bt *http.Transport) *http.Transport {
		nt := bt.Clone()
		// A transport that has served requests has HTTP/2 wired to itself; the clone must set up
		// its own, or it negotiates h2 and then speaks HTTP/1.
		nt.TLSNextProto = nil
		nt.ForceAttemptHTTP2 = true
		if nt.TLSClientConfig == nil {
			nt.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		nt.TLSClientConfig.RootCAs = pool
		return nt
	}
	cc := *c
	switch t := c.Transport.(type) {
	case *Transport:
		bt, ok := t.base.(*http.Transport)
		if !ok {
			return nil, errors.New("httpx: this client's base transport cannot be given extra certificate authorities")
		}
		nt := *t
		nt.base = withPool(bt)
		cc.Transport = &nt
	case *http.Transport:
		cc.Transport = withPool(t)
	case nil:
		dt, ok := http.DefaultTransport.(*http.Transport)
		if !ok {
			return nil, errors.New("httpx: the default transport cannot be given extra certificate authorities")
		}
		cc.Transport = withPool(dt)
	default:
		return nil, errors.New("httpx: this client's transport cannot be given extra certificate authorities")
	}
	return &cc, nil
}

// OutcomeUnknownError says a non-idempotent request (POST, PATCH) may or may not have been
// processed: the connection broke after the request was written, no answer arrived in time,
// or the server answered 504 (or 503 without Retry-After). It is not retried: the caller must
// re-read the object to learn whether the change was made before trying again.
type OutcomeUnknownError struct {
	Method string
	// URL is redacted.
	URL string
	// StatusCode is the answer's status (504, 503), or 0 when no answer arrived.
	StatusCode int
	// Attempts made, this one included.
	Attempts int
	// Err is the connection error, nil when the server answered.
	Err error
}

func (e *OutcomeUnknownError) Error() string {
	var why string
	if e.StatusCode != 0 {
		why = fmt.Sprintf("the server answered %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	} else if e.Err != nil {
		why = "the connection failed after the request was sent: " + Redact(e.Err.Error())
	} else {
		why = "no answer arrived"
	}
	return fmt.Sprintf("%s %s: the outcome is unknown (%s); re-read the object before trying again", e.Method, e.URL, why)
}

// Unwrap returns the connection error.
func (e *OutcomeUnknownError) Unwrap() error { return e.Err }

// IsOutcomeUnknown reports whether err wraps an *OutcomeUnknownError.
func IsOutcomeUnknown(err error) bool {
	var ou *OutcomeUnknownError
	return errors.As(err, &ou)
}

type replaySafeKey struct{}

// ReplaySafe marks requests made with the returned context as safe to replay whatever their
// method (e.g. a POST that only reads, such as a $batch of GETs or a query).
func ReplaySafe(ctx context.Context) context.Context {
	return context.WithValue(ctx, replaySafeKey{}, true)
}

func replaySafe(req *http.Request) bool {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodOptions, http.MethodTrace:
		return true
	}
	if req.Header.Get("Idempotency-Key") != "" || req.Header.Get("X-Idempotency-Key") != "" {
		return true
	}
	if v, _ := req.Context().Value(replaySafeKey{}).(bool); v {
		return true
	}
	// Token requests create nothing.
	return IsTokenRequest(req.URL)
}

// Stats are the transport's counters since it was made.
type Stats struct {
	Requests       int64 // requests given to the transport
	Attempts       int64 // requests sent, retries included
	Retries        int64 // attempts after the first
	Throttled      int64 // 429 answers seen
	ThrottledParts int64 // parts of requests answered 429 (Graph $batch items; see Throttled)
	Unavailable    int64 // 503 and 504 answers seen
	ConnErrors     int64 // attempts that ended with a connection error
	OutcomeUnknown int64 // OutcomeUnknownErrors returned
	BytesSent      int64 // request body bytes sent (all attempts)
	BytesReceived  int64 // response body bytes read by callers
	// Budgets are the request-rate budgets learned from 429 answers, per API (Options.Key), in
	// requests per second.
	Budgets map[string]float64
}

type counters struct {
	requests, attempts, retries, throttled, throttledParts, unavailable, connErrors, outcomeUnknown, sent, received atomic.Int64
}

// Stats returns the counters.
func (t *Transport) Stats() Stats {
	s := t.stats
	out := Stats{Requests: s.requests.Load(), Attempts: s.attempts.Load(), Retries: s.retries.Load(), Throttled: s.throttled.Load(),
		ThrottledParts: s.throttledParts.Load(), Unavailable: s.unavailable.Load(), ConnErrors: s.connErrors.Load(), OutcomeUnknown: s.outcomeUnknown.Load(),
		BytesSent: s.sent.Load(), BytesReceived: s.received.Load(), Budgets: map[string]float64{}}
	t.apis.mu.Lock()
	defer t.apis.mu.Unlock()
	for k, a := range t.apis.m {
		if r := a.gov.rate(); r > 0 {
			out.Budgets[k] = r
		}
	}
	return out
}

// Throttled tells an httpx client that parts of a request sent (written) at sent were answered
// 429 while the request itself succeeded: items of a Graph $batch, which Graph throttles item by
// item. The API's pause (retryAfter, when not 0) and learned budget treat it as one 429 answer.
// Clients not made by NewClient are left alone.
func Throttled(c *http.Client, method string, u *url.URL, sent time.Time, retryAfter time.Duration, parts int) {
	if c == nil || u == nil {
		return
	}
	t, ok := c.Transport.(*Transport)
	if !ok {
		return
	}
	req := &http.Request{Method: method, URL: u, Header: http.Header{}}
	api := t.api(t.opts.Key(req))
	now := time.Now()
	t.stats.throttledParts.Add(int64(max(parts, 1)))
	if retryAfter > 0 {
		api.pauseUntil(now.Add(retryAfter))
	}
	if r := api.gov.throttled(now, sent); r > 0 {
		t.opts.Logger.Debug("request-rate budget lowered after a 429 inside a request", "api", api.key, "requests_per_second", math.Round(r*10)/10)
	}
}

// StatsOf returns the counters of an httpx client (false for another client).
func StatsOf(c *http.Client) (Stats, bool) {
	if c == nil {
		return Stats{}, false
	}
	t, ok := c.Transport.(*Transport)
	if !ok {
		return Stats{}, false
	}
	return t.Stats(), true
}

type apiTable struct {
	mu sync.Mutex
	m  map[string]*apiState
}

type apiState struct {
	key string
	sem chan struct{}
	gov *governor

	mu     sync.Mutex
	paused time.Time // a 429's Retry-After: no request before then
}

func (t *Transport) api(key string) *apiState {
	t.apis.mu.Lock()
	defer t.apis.mu.Unlock()
	if a, ok := t.apis.m[key]; ok {
		return a
	}
	l, ok := t.opts.Limits[key]
	if !ok {
		if host, seg, cut := strings.Cut(key, "/"); cut && IsLoopback(hostOnly(host)) {
			l = t.opts.Limits["/"+seg]
		}
	}
	if l.Concurrency <= 0 {
		l.Concurrency = t.opts.Concurrency
	}
	if l.RPS <= 0 {
		l.RPS = t.opts.RPS
	}
	if l.Burst <= 0 {
		l.Burst = t.opts.Burst
	}
	a := &apiState{key: key, sem: make(chan struct{}, l.Concurrency), gov: newGovernor(l.RPS, l.Burst)}
	t.apis.m[key] = a
	return a
}

func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return hostport
}

func (a *apiState) pauseUntil(t time.Time) {
	a.mu.Lock()
	if t.After(a.paused) {
		a.paused = t
	}
	a.mu.Unlock()
}

// waitPause waits until no 429 pauses the API.
func (a *apiState) waitPause(ctx context.Context) error {
	for {
		a.mu.Lock()
		wait := time.Until(a.paused)
		a.mu.Unlock()
		if wait <= 0 {
			return nil
		}
		if err := sleep(ctx, wait); err != nil {
			return err
		}
	}
}

func (a *apiState) pausedNow() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return time.Now().Before(a.paused)
}

// enter waits for a slot, the end of a pause and the rate budget; the returned func frees the
// slot, and held says the budget delayed the request.
func (a *apiState) enter(ctx context.Context) (release func(), held bool, err error) {
	select {
	case a.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, false, ctx.Err()
	}
	release = func() { <-a.sem }
	for {
		if err := a.waitPause(ctx); err != nil {
			release()
			return nil, false, err
		}
		lim := a.gov.limiter()
		if lim == nil {
			break
		}
		r := lim.Reserve()
		if !r.OK() {
			release()
			return nil, false, errors.New("httpx: request-rate budget: no token can be had")
		}
		d := r.Delay()
		if d <= 0 {
			break
		}
		held = true
		if err := sleep(ctx, d); err != nil {
			r.Cancel()
			release()
			return nil, false, err
		}
		// A 429 may have paused the API while this request waited for its slot: it must not
		// leave inside the pause, nor with the others at its end, so it waits and books again.
		if !a.pausedNow() {
			break
		}
	}
	return release, held, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// RoundTrip sends req, retrying as the package documentation describes.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if err := CheckHop(req); err != nil {
		// A redirect hop of a client whose CheckRedirect let it through: nothing is sent.
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, err
	}
	t.stats.requests.Add(1)
	start := time.Now()
	deadline := start.Add(t.opts.MaxElapsed)
	safe := replaySafe(req)
	shownURL := RedactURL(req.URL)

	// A body that can be sent again: GetBody, or a copy in memory.
	first := req.Body
	getBody := req.GetBody
	hasBody := req.Body != nil && req.Body != http.NoBody
	var bodyLen int64
	if hasBody && getBody == nil {
		b, err := io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("httpx: read the request body: %w", err)
		}
		getBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
		first = nil
		bodyLen = int64(len(b))
	} else if hasBody {
		bodyLen = req.ContentLength
	}
	closeFirst := func() {
		if first != nil && first != http.NoBody {
			_ = first.Close()
			first = nil
		}
	}

	api := t.api(t.opts.Key(req))
	throttled := 0 // attempts answered 429 with a Retry-After: the server said when to return
	for attempt := 1; ; attempt++ {
		release, held, err := api.enter(ctx)
		if err != nil {
			closeFirst()
			return nil, err
		}
		var wrote atomic.Bool
		trace := &httptrace.ClientTrace{
			WroteHeaderField: func(string, []string) { wrote.Store(true) },
			WroteHeaders:     func() { wrote.Store(true) },
			WroteRequest:     func(httptrace.WroteRequestInfo) { wrote.Store(true) },
		}
		areq := req.Clone(httptrace.WithClientTrace(ctx, trace))
		if hasBody {
			if first != nil {
				areq.Body = first
				first = nil
			} else {
				body, err := getBody()
				if err != nil {
					release()
					return nil, fmt.Errorf("httpx: rewind the request body: %w", err)
				}
				areq.Body = body
			}
			areq.GetBody = getBody
			if bodyLen > 0 {
				t.stats.sent.Add(bodyLen)
			}
		}
		t.stats.attempts.Add(1)
		if attempt > 1 {
			t.stats.retries.Add(1)
		}
		t0 := time.Now()
		resp, err := t.base.RoundTrip(areq)
		release()
		dur := time.Since(t0)

		if err != nil {
			t.stats.connErrors.Add(1)
			t.logAttempt(ctx, req.Method, shownURL, 0, dur, attempt, err, 0)
			ctxDone := ctx.Err() != nil
			if !ctxDone && !retryableError(err) {
				return nil, explainDialError(err)
			}
			if !safe && wrote.Load() {
				t.stats.outcomeUnknown.Add(1)
				return nil, &OutcomeUnknownError{Method: req.Method, URL: shownURL, Attempts: attempt, Err: err}
			}
			if ctxDone {
				return nil, err
			}
			delay := t.backoff(attempt)
			if attempt >= t.opts.MaxAttempts || time.Now().Add(delay).After(deadline) {
				return nil, fmt.Errorf("gave up after %d attempts in %s: %w", attempt, time.Since(start).Round(time.Millisecond), err)
			}
			if err := sleep(ctx, delay); err != nil {
				return nil, err
			}
			continue
		}

		status := resp.StatusCode
		if status == http.StatusTooManyRequests {
			if r := api.gov.throttled(time.Now(), t0); r > 0 {
				t.opts.Logger.LogAttrs(ctx, slog.LevelDebug, "request-rate budget lowered after a 429",
					slog.String("api", api.key), slog.Float64("requests_per_second", math.Round(r*10)/10))
			}
		} else if status < 500 {
			api.gov.accepted(time.Now(), held)
		}
		if status != http.StatusTooManyRequests && status != http.StatusServiceUnavailable && status != http.StatusGatewayTimeout {
			t.logAttempt(ctx, req.Method, shownURL, status, dur, attempt, nil, 0)
			resp.Body = &countingBody{rc: resp.Body, n: &t.stats.received}
			return resp, nil
		}
		if status == http.StatusTooManyRequests {
			t.stats.throttled.Add(1)
		} else {
			t.stats.unavailable.Add(1)
		}
		now := time.Now()
		ra, hasRA := retryAfter(resp.Header, now)
		if status == http.StatusTooManyRequests && hasRA {
			api.pauseUntil(now.Add(ra))
		}
		notProcessed := status == http.StatusTooManyRequests || (status == http.StatusServiceUnavailable && hasRA)
		if !safe && !notProcessed {
			t.logAttempt(ctx, req.Method, shownURL, status, dur, attempt, nil, 0)
			drain(resp.Body)
			t.stats.outcomeUnknown.Add(1)
			return nil, &OutcomeUnknownError{Method: req.Method, URL: shownURL, StatusCode: status, Attempts: attempt}
		}
		delay := ra
		if !hasRA {
			delay = t.backoff(attempt)
		} else if j := ra / 10; j > 0 {
			delay += time.Duration(rand.Int64N(int64(min(j, time.Second)) + 1))
		}
		// Throttling that says when to come back is waited out up to MaxThrottled times (and
		// MaxElapsed); other failures count against MaxAttempts.
		exhausted := attempt-throttled >= t.opts.MaxAttempts
		if status == http.StatusTooManyRequests && hasRA {
			throttled++
			exhausted = throttled >= t.opts.MaxThrottled
		}
		if exhausted || now.Add(delay).After(deadline) {
			t.logAttempt(ctx, req.Method, shownURL, status, dur, attempt, nil, 0)
			resp.Body = &countingBody{rc: resp.Body, n: &t.stats.received}
			return resp, nil
		}
		t.logAttempt(ctx, req.Method, shownURL, status, dur, attempt, nil, delay)
		drain(resp.Body)
		if err := sleep(ctx, delay); err != nil {
			return nil, err
		}
	}
}

func (t *Transport) backoff(attempt int) time.Duration {
	d := t.opts.MaxDelay
	if attempt < 31 {
		if e := t.opts.BaseDelay << (attempt - 1); e > 0 && e < d {
			d = e
		}
	}
	return time.Duration(rand.Int64N(int64(d) + 1))
}

func (t *Transport) logAttempt(ctx context.Context, method, url string, status int, dur time.Duration, attempt int, err error, retryIn time.Duration) {
	if !t.opts.Logger.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{
		slog.String("method", method), slog.String("url", url), slog.Int("status", status),
		slog.Duration("duration", dur), slog.Int("attempt", attempt),
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", Redact(err.Error())))
	}
	if retryIn > 0 {
		attrs = append(attrs, slog.Duration("retry_in", retryIn))
	}
	t.opts.Logger.LogAttrs(ctx, slog.LevelDebug, "http request", attrs...)
}

// retryAfter reads x-ms-retry-after-ms, then Retry-After (seconds or an HTTP date).
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	if v := strings.TrimSpace(h.Get("x-ms-retry-after-ms")); v != "" {
		if ms, err := strconv.ParseInt(v, 10, 64); err == nil && ms >= 0 && ms < 1<<31 {
			return time.Duration(ms) * time.Millisecond, true
		}
	}
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if s, err := strconv.ParseInt(v, 10, 64); err == nil && s >= 0 && s < 1<<31 {
			return time.Duration(s) * time.Second, true
		}
		if at, err := http.ParseTime(v); err == nil {
			return max(at.Sub(now), 0), true
		}
	}
	return 0, false
}

// retryableError reports whether a transport error is a connection failure worth another attempt.
func retryableError(err error) bool {
	var (
		unknownAuth *x509.UnknownAuthorityError
		hostErr     x509.HostnameError
		invalid     x509.CertificateInvalidError
		verify      *tls.CertificateVerificationError
	)
	if errors.As(err, &unknownAuth) || errors.As(err, &hostErr) || errors.As(err, &invalid) || errors.As(err, &verify) {
		return false
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNABORTED) {
		return true
	}
	// A name that does not exist (NXDOMAIN) will not exist a second later: retrying it cost 31 s
	// before the error said anything. A DNS timeout or server failure is still retried.
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	msg := err.Error()
	for _, s := range []string{"connection reset", "broken pipe", "server closed", "EOF", "GOAWAY", "stream error", "connection refused", "timeout awaiting response headers", "use of closed network connection"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// explainDialError names the host of a name that does not resolve and where it usually comes
// from; other errors are returned as they are.
func explainDialError(err error) error {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
		return fmt.Errorf("host %s does not exist (DNS: no such host; not retried): check the tenant, instance URL or endpoint in the provider block and this machine's DNS: %w", dnsErr.Name, err)
	}
	return err
}

func drain(rc io.ReadCloser) {
	if rc == nil {
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(rc, 64<<10))
	_ = rc.Close()
}

type countingBody struct {
	rc io.ReadCloser
	n  *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.n.Add(int64(n))
	return n, err
}

func (b *countingBody) Close() error { return b.rc.Close() }

// CloseIdleConnections closes the base transport's idle connections (http.Client.CloseIdleConnections).
func (t *Transport) CloseIdleConnections() {
	if c, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}
