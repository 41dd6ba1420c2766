// Package faults injects latency, throttling and faults into the sandbox, so that tests and the
// benchmark see what real tenants do: slow answers, 429 with Retry-After, 503, and connections
// that drop before or after the request was processed.
//
//	inj := faults.Install(sb, faults.Options{Latency: 20 * time.Millisecond, FaultRate: 0.2, Throttle: 50, Seed: 1})
//	... run apply ...
//	c := inj.Counters() // faults injected by kind, 429s sent
//
// Faults and throttling apply to the services' APIs only (paths under a service prefix such as
// /graph), not to the identity endpoint at the root, unless Options.Identity is set. Latency
// applies to every request.
//
// The faults are the same for every API, a stress on the client's HTTP layer rather than an
// emulation of one API's limits: Graph, Dataverse and the Power Platform admin API do answer 429
// with Retry-After, but Salesforce never does (its limits answer 403 REQUEST_LIMIT_EXCEEDED, which
// salesforceapi emulates for the daily allocation).
//
// With the same Seed, the n-th request that reaches the fault decision gets the same outcome:
// sequential runs are reproducible. (Concurrent requests are numbered in arrival order.)
package faults

import (
	"fmt"
	"math"
	"math/rand"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/c4sctl/c4sctl/pkg/sandbox"
	"golang.org/x/time/rate"
)

// Kind is a kind of injected fault.
type Kind string

const (
	// TooManyRequests is a 429 answer with Retry-After; the request is not processed.
	TooManyRequests Kind = "429"
	// Unavailable is a 503 answer without Retry-After; the request is not processed.
	Unavailable Kind = "503"
	// DropBefore closes the connection before the handler runs: the request is not processed.
	DropBefore Kind = "drop-before"
	// DropAfter runs the handler, then closes the connection without answering: the request is
	// processed but the client cannot know it.
	DropAfter Kind = "drop-after"
)

// Kinds lists the fault kinds, in the order the seeded draw picks them (equally likely).
var Kinds = []Kind{TooManyRequests, Unavailable, DropBefore, DropAfter}

// Options configure the injector.
type Options struct {
	// Latency is the time from a request's arrival to its answer (see Middleware).
	Latency time.Duration
	// FaultRate is the probability (0..1) that an API request gets a fault, equally one of Kinds.
	FaultRate float64
	// Throttle is the request rate, per second, allowed to each API (service prefix); requests
	// beyond it are answered 429 with the Retry-After the token bucket computes. 0: unlimited.
	Throttle float64
	// Burst is the token bucket's size; default max(1, Throttle rounded up).
	Burst int
	// Seed makes the fault draws reproducible.
	Seed int64
	// RetryAfter is the wait injected 429s ask for (default 1s). It is sent in Retry-After
	// (whole seconds, rounded up) and exactly in x-ms-retry-after-ms.
	RetryAfter time.Duration
	// Identity also throttles and faults the identity endpoint (token requests).
	Identity bool
	// Services are the API prefixes ("graph", "teams") faults apply to; Install takes them from
	// the server. When empty, every path except the identity endpoint's is an API.
	Services []string
	// Down are API prefixes ("salesforce") that answer every request, their token endpoints
	// included, 500 Internal Server Error: an outage of one service, which clients do not retry,
	// for testing that one failing provider does not hide the others' results.
	Down []string
}

// Counters are what the injector did.
type Counters struct {
	// Requests seen by the middleware (all paths).
	Requests int
	// Faults injected, by kind.
	Faults map[Kind]int
	// Throttled is the number of 429s sent by the throttle.
	Throttled int
	// Sent429 is every 429 sent (throttle and injected faults).
	Sent429 int
}

// TotalFaults is the number of faults injected.
func (c Counters) TotalFaults() int {
	n := 0
	for _, v := range c.Faults {
		n += v
	}
	return n
}

// Injector is the fault-injecting middleware.
type Injector struct {
	opts     Options
	services map[string]bool

	mu        sync.Mutex
	rng       *rand.Rand
	buckets   map[string]*rate.Limiter
	requests  int
	faults    map[Kind]int
	throttled int
}

// New returns an injector; install its Middleware with sandbox.Server.Use, or use Install.
func New(opts Options) *Injector {
	if opts.FaultRate < 0 || math.IsNaN(opts.FaultRate) {
		opts.FaultRate = 0
	}
	if opts.FaultRate > 1 {
		opts.FaultRate = 1
	}
	if opts.Throttle < 0 || math.IsNaN(opts.Throttle) {
		opts.Throttle = 0
	}
	if opts.Burst <= 0 {
		opts.Burst = max(1, int(math.Ceil(opts.Throttle)))
	}
	if opts.RetryAfter <= 0 {
		opts.RetryAfter = time.Second
	}
	in := &Injector{opts: opts, rng: rand.New(rand.NewSource(opts.Seed)), buckets: map[string]*rate.Limiter{}, faults: map[Kind]int{}}
	if len(opts.Services) > 0 {
		in.services = map[string]bool{}
		for _, s := range opts.Services {
			in.services[strings.Trim(s, "/")] = true
		}
	}
	return in
}

// Install adds an injector to the sandbox for its services and returns it.
func Install(s *sandbox.Server, opts Options) *Injector {
	if len(opts.Services) == 0 {
		for _, svc := range s.Services() {
			opts.Services = append(opts.Services, svc.Name())
		}
	}
	in := New(opts)
	s.Use(in.Middleware)
	return in
}

// StopFaults stops injecting faults from now on (FaultRate 0); the latency, the throttle and
// Down stay. For a test that checks, with a clean read, the state that faulted runs left.
func (in *Injector) StopFaults() {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.opts.FaultRate = 0
}

// Counters returns a copy of the counters.
func (in *Injector) Counters() Counters {
	in.mu.Lock()
	defer in.mu.Unlock()
	c := Counters{Requests: in.requests, Faults: map[Kind]int{}, Throttled: in.throttled}
	for k, v := range in.faults {
		c.Faults[k] = v
	}
	c.Sent429 = in.throttled + in.faults[TooManyRequests]
	return c
}

// api returns the API (service prefix) of a path and whether faults apply to it.
func (in *Injector) api(path string) (string, bool) {
	seg, _, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	if in.opts.Identity {
		return seg, true
	}
	if in.services != nil {
		return seg, in.services[seg]
	}
	p := strings.ToLower(path)
	identity := strings.Contains(p, "/oauth2/") || strings.Contains(p, "/.well-known/") || strings.HasPrefix(p, "/common/discovery/")
	return seg, !identity
}

// decide returns the throttle's wait (>0: answer 429) or the fault to inject ("" for none).
func (in *Injector) decide(api string) (time.Duration, Kind) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.opts.Throttle > 0 {
		b := in.buckets[api]
		if b == nil {
			b = rate.NewLimiter(rate.Limit(in.opts.Throttle), in.opts.Burst)
			in.buckets[api] = b
		}
		now := time.Now()
		r := b.ReserveN(now, 1)
		if !r.OK() {
			in.throttled++
			return time.Second, ""
		}
		if d := r.DelayFrom(now); d > 0 {
			r.CancelAt(now)
			in.throttled++
			return d, ""
		}
	}
	if in.opts.FaultRate <= 0 {
		return 0, ""
	}
	// Two draws per request whatever the outcome, so the sequence only depends on the seed.
	u, k := in.rng.Float64(), in.rng.Intn(len(Kinds))
	if u >= in.opts.FaultRate {
		return 0, ""
	}
	kind := Kinds[k]
	in.faults[kind]++
	return 0, kind
}

// Middleware wraps the sandbox's handler.
//
// Latency is the time from a request's arrival to its answer, as a real API's latency includes
// its own processing: the handler runs at once, its answer is held in memory until the latency
// has passed, then sent whole (a handler slower than the latency answers when it is done). So
// the sandbox's own CPU time, on the same machine as the client, does not add to the latency a
// benchmark asks for.
func (in *Injector) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived := time.Now()
		in.mu.Lock()
		in.requests++
		in.mu.Unlock()
		// waitLatency returns false when the client went away meanwhile.
		waitLatency := func() bool {
			d := in.opts.Latency - time.Since(arrived)
			if d <= 0 {
				return true
			}
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-t.C:
				return true
			case <-r.Context().Done():
				return false
			}
		}
		api, applies := in.api(r.URL.Path)
		if slices.Contains(in.opts.Down, api) {
			if waitLatency() {
				sandbox.WriteJSON(w, http.StatusInternalServerError, errorBody("InternalServerError", "injected fault: the "+api+" API is down"))
			}
			return
		}
		var wait time.Duration
		var kind Kind
		if applies {
			wait, kind = in.decide(api)
		}
		switch {
		case wait > 0:
			if waitLatency() {
				tooMany(w, wait, "the "+api+" API allows "+strconv.FormatFloat(in.opts.Throttle, 'g', -1, 64)+" requests per second")
			}
		case kind == TooManyRequests:
			if waitLatency() {
				tooMany(w, in.opts.RetryAfter, "injected fault")
			}
		case kind == Unavailable:
			if waitLatency() {
				sandbox.WriteJSON(w, http.StatusServiceUnavailable, errorBody("ServiceUnavailable", "injected fault: the service is unavailable"))
			}
		case kind == DropBefore:
			if waitLatency() {
				drop(w)
			}
		case kind == DropAfter:
			next.ServeHTTP(&discardWriter{h: http.Header{}}, r)
			if waitLatency() {
				drop(w)
			}
		case in.opts.Latency <= 0:
			next.ServeHTTP(w, r)
		default:
			held := &heldWriter{h: http.Header{}}
			next.ServeHTTP(held, r)
			if waitLatency() {
				held.sendTo(w)
			}
		}
	})
}

// heldWriter keeps a handler's answer until the latency has passed.
type heldWriter struct {
	h      http.Header
	status int
	body   []byte
}

func (hw *heldWriter) Header() http.Header { return hw.h }

func (hw *heldWriter) WriteHeader(code int) {
	if hw.status == 0 {
		hw.status = code
	}
}

func (hw *heldWriter) Write(b []byte) (int, error) {
	if hw.status == 0 {
		hw.status = http.StatusOK
	}
	hw.body = append(hw.body, b...)
	return len(b), nil
}

// Flush is a no-op: the answer leaves whole, after the latency.
func (hw *heldWriter) Flush() {}

func (hw *heldWriter) sendTo(w http.ResponseWriter) {
	for k, v := range hw.h {
		w.Header()[k] = v
	}
	if hw.status == 0 {
		hw.status = http.StatusOK
	}
	w.WriteHeader(hw.status)
	_, _ = w.Write(hw.body)
}

func errorBody(code, msg string) map[string]any {
	return map[string]any{"error": map[string]any{"code": code, "message": msg}}
}

func tooMany(w http.ResponseWriter, wait time.Duration, why string) {
	secs := int64(math.Ceil(wait.Seconds()))
	ms := int64(math.Ceil(float64(wait) / float64(time.Millisecond)))
	w.Header().Set("Retry-After", strconv.FormatInt(max(secs, 1), 10))
	w.Header().Set("x-ms-retry-after-ms", strconv.FormatInt(max(ms, 1), 10))
	sandbox.WriteJSON(w, http.StatusTooManyRequests, errorBody("TooManyRequests", fmt.Sprintf("%s; retry after %s", why, wait.Round(time.Millisecond))))
}

// drop closes the connection without an answer. Over HTTP/2, where a connection cannot be taken
// over, the stream is reset with net/http's documented abort signal (recovered by the server).
func drop(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err == nil {
		_ = conn.Close()
		return
	}
	panic(http.ErrAbortHandler)
}

// discardWriter takes a handler's answer and throws it away (DropAfter).
type discardWriter struct {
	h http.Header
}

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(int)             {}
