// Package sandbox is an in-process emulator of the cloud APIs c4sctl talks to: the Microsoft
// identity platform, Microsoft Graph, the Teams policy service, the Power Platform admin API,
// Dataverse and Salesforce. The real adapters reach it over HTTPS, exactly as they reach the
// clouds. This package holds the server core (TLS, routing, tokens, persistence, request log);
// each API lives in a sub-package implementing Service.
package sandbox

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/c4sctl/c4sctl/internal/atomicfile"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Service is one emulated API, mounted under its own path prefix ("/graph", "/teams", ...).
// The identity endpoint is served at the root by the core.
type Service interface {
	// Name is the service's key in the persisted data file and its URL prefix ("/"+Name).
	Name() string
	// Register adds the service's routes.
	Register(r *Router)
	// Reset restores the seed: a fresh tenant or org in which none of the guide's steps are done.
	Reset()
	// MarshalState and UnmarshalState persist the service's data between runs.
	MarshalState() ([]byte, error)
	UnmarshalState([]byte) error
}

// Options configure a sandbox server.
type Options struct {
	// Addr to listen on; default "127.0.0.1:0", or with a Dir the address that directory's
	// sandbox had last time (so that URLs the tenant's data holds, such as a Dataverse
	// environment's, and plans made against them stay valid from run to run).
	Addr string
	// Dir keeps the tenant data (data.json) and the TLS certificate between runs; "" keeps
	// everything in memory.
	Dir string
}

// Server is a running sandbox.
type Server struct {
	// URL is the base address, e.g. https://127.0.0.1:41234 (no trailing slash).
	URL string

	opts     Options
	ln       net.Listener
	srv      *http.Server
	cert     tls.Certificate
	certPEM  []byte
	services []Service
	prefixes map[string]*http.ServeMux
	root     *http.ServeMux

	// mu serialises handlers: readers share it, writers hold it alone.
	mu    sync.RWMutex
	dirty bool

	Tokens  *TokenIssuer
	log     *RequestLog
	appRegs *Apps

	wrapMu   sync.Mutex
	wrappers []func(http.Handler) http.Handler

	dirLock *os.File // holds the flock on Dir/lock while the server runs

	// active counts the handlers running, and conns holds each open connection's state as the
	// HTTP/1 or HTTP/2 server reports it (HTTP/2: idle once every stream's answer is written):
	// Close waits for these, not for the clients to hang up.
	active atomic.Int64
	connMu sync.Mutex
	conns  map[net.Conn]http.ConnState
}

// Start starts a sandbox with the given services, restoring persisted data from opts.Dir when
// present and seeding it otherwise.
func Start(opts Options, services ...Service) (*Server, error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	s := &Server{opts: opts, services: services, prefixes: map[string]*http.ServeMux{}, root: http.NewServeMux(), log: newRequestLog(), appRegs: newApps()}
	if opts.Dir != "" {
		if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
			return nil, fmt.Errorf("sandbox: create %s: %w", opts.Dir, err)
		}
		lock, err := lockDir(opts.Dir)
		if err != nil {
			return nil, err
		}
		s.dirLock = lock
	}
	started := false
	defer func() {
		if !started && s.dirLock != nil {
			_ = s.dirLock.Close()
		}
	}()
	var err error
	s.cert, s.certPEM, err = loadOrCreateCert(opts.Dir)
	if err != nil {
		return nil, err
	}
	s.Tokens, err = newTokenIssuer(opts.Dir)
	if err != nil {
		return nil, err
	}
	registerIdentity(s)
	for _, svc := range services {
		mux := http.NewServeMux()
		s.prefixes[svc.Name()] = mux
		svc.Register(&Router{s: s, mux: mux, prefix: "/" + svc.Name()})
		svc.Reset()
	}
	if err := s.load(); err != nil {
		return nil, err
	}
	ln, err := s.listen()
	if err != nil {
		return nil, err
	}
	s.ln = ln
	s.URL = "https://" + ln.Addr().String()
	s.srv = &http.Server{
		Handler:           http.HandlerFunc(s.serve),
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{s.cert}, MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          nil,
		ConnState:         s.trackConn,
	}
	go func() { _ = s.srv.ServeTLS(ln, "", "") }()
	started = true
	return s, nil
}

const (
	addrFile = "addr" // the address the directory's sandbox listened on last
	lockFile = "lock" // flock'ed by the process that has the directory open
)

// listen listens on Options.Addr; without one, on the address the directory's sandbox had last
// time when it is free (else a new port, remembered for next time).
func (s *Server) listen() (net.Listener, error) {
	explicit := s.opts.Addr != "127.0.0.1:0"
	if !explicit && s.opts.Dir != "" {
		if b, err := os.ReadFile(filepath.Join(s.opts.Dir, addrFile)); err == nil {
			if prev := strings.TrimSpace(string(b)); prev != "" {
				if host, _, err := net.SplitHostPort(prev); err == nil && net.ParseIP(host) != nil && net.ParseIP(host).IsLoopback() {
					if ln, err := net.Listen("tcp", prev); err == nil {
						return ln, nil
					}
				}
			}
		}
	}
	ln, err := net.Listen("tcp", s.opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("sandbox: listen on %s: %w", s.opts.Addr, err)
	}
	if !explicit && s.opts.Dir != "" {
		if err := atomicfile.Write(filepath.Join(s.opts.Dir, addrFile), []byte(ln.Addr().String()+"\n")); err != nil {
			_ = ln.Close()
			return nil, fmt.Errorf("sandbox: remember the address: %w", err)
		}
	}
	return ln, nil
}

// Use adds a middleware around every request (fault injection, latency, throttling).
func (s *Server) Use(mw func(http.Handler) http.Handler) {
	s.wrapMu.Lock()
	defer s.wrapMu.Unlock()
	s.wrappers = append(s.wrappers, mw)
}

// CACertPEM is the certificate clients must trust to reach the sandbox.
func (s *Server) CACertPEM() []byte { return s.certPEM }

// CertPool returns a pool holding the sandbox certificate.
func (s *Server) CertPool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.certPEM)
	return pool
}

// Client returns an HTTP client that trusts the sandbox (for tests and the CLI's sandbox commands).
func (s *Server) Client() *http.Client {
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: s.CertPool(), MinVersion: tls.VersionTLS12}}, Timeout: 60 * time.Second}
}

// Services returns the mounted services.
func (s *Server) Services() []Service { return s.services }

// Service returns the mounted service with that name, or nil.
func (s *Server) Service(name string) Service {
	for _, svc := range s.services {
		if svc.Name() == name {
			return svc
		}
	}
	return nil
}

// RequestLog is the log of requests served, for tests and benchmarks.
func (s *Server) RequestLog() *RequestLog { return s.log }

// Mutate runs fn with exclusive access to the services' data and persists the result (used by
// `c4sctl sandbox` subcommands and tests to change the tenant "by hand").
func (s *Server) Mutate(fn func() error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dirty = true
	if err := fn(); err != nil {
		return err
	}
	return s.flushLocked()
}

// View runs fn with shared access to the services' data.
func (s *Server) View(fn func()) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	fn()
}

// Reset restores every service's seed.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, svc := range s.services {
		svc.Reset()
	}
	s.dirty = true
	_ = s.flushLocked()
}

// Flush writes the services' data to opts.Dir if anything changed.
func (s *Server) Flush() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.flushLocked()
}

// Close stops the server and persists its data. Requests still running after a short grace
// period are cut off: their clients have gone (the sandbox runs in-process with them), and the
// data is saved under the lock either way.
//
// Close waits for the handlers in flight, not for the clients to close their connections:
// http.Server.Shutdown alone sends an HTTP/2 connection GOAWAY and then waits up to a second for
// the client to hang up, which Go's client never does while its process lives (an in-process
// sandbox then added a second to every --sandbox command, and to a plan's exit after Ctrl-C).
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.srv.Shutdown(ctx) }()
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	var quietSince time.Time
wait:
	for {
		select {
		case <-done:
			break wait
		case <-ctx.Done():
			_ = s.srv.Close()
			break wait
		case <-tick.C:
			// Shutdown has stopped the listener (or is about to: Close stops it too); once no
			// handler runs and every connection has written its answers, the connections left
			// are idle ones the clients keep.
			//
			// Quiet for 10 ms, not at the first sight: HTTP/2 reports a connection idle once its
			// last stream's final frame is written to the connection's buffer, before the buffer
			// is flushed (x/net/http2 serverConn.closeStream, then a separate flush write), so
			// closing at once could cut off the answer of the request that just finished
			// (TestCloseDoesNotWaitForIdleHTTP2Clients failed so, once, under load).
			if !s.quiet() {
				quietSince = time.Time{}
			} else if quietSince.IsZero() {
				quietSince = time.Now()
			} else if time.Since(quietSince) >= 10*time.Millisecond {
				_ = s.srv.Close()
				break wait
			}
		}
	}
	err := s.Flush()
	if s.dirLock != nil {
		_ = s.dirLock.Close()
		s.dirLock = nil
	}
	return err
}

// trackConn records a connection's state (http.Server.ConnState).
func (s *Server) trackConn(c net.Conn, st http.ConnState) {
	s.connMu.Lock()
	defer s.connMu.Unlock()
	if s.conns == nil {
		s.conns = map[net.Conn]http.ConnState{}
	}
	if st == http.StateClosed || st == http.StateHijacked {
		delete(s.conns, c)
		return
	}
	s.conns[c] = st
}

// quiet reports whether no handler runs and no connection is busy: each is idle, or new (an
// HTTP/2 connection reports active and idle only once it carries streams).
func (s *Server) quiet() bool {
	if s.active.Load() != 0 {
		return false
	}
	s.connMu.Lock()
	defer s.connMu.Unlock()
	for _, st := range s.conns {
		if st == http.StateActive {
			return false
		}
	}
	return true
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.active.Add(1)
	defer s.active.Add(-1)
	var h http.Handler = http.HandlerFunc(s.dispatch)
	s.wrapMu.Lock()
	for i := len(s.wrappers) - 1; i >= 0; i-- {
		h = s.wrappers[i](h)
	}
	s.wrapMu.Unlock()
	h.ServeHTTP(w, r)
}

func (s *Server) dispatch(w http.ResponseWriter, r *http.Request) {
	first := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 2)[0]
	if mux, ok := s.prefixes[first]; ok {
		mux.ServeHTTP(w, r)
		return
	}
	s.root.ServeHTTP(w, r)
}

// Router registers a service's handlers under its prefix.
type Router struct {
	s      *Server
	mux    *http.ServeMux
	prefix string
}

// Server returns the sandbox the router belongs to.
func (r *Router) Server() *Server { return r.s }

// Handle registers fn for "METHOD /path/{var}" (relative to the service prefix, Go ServeMux
// syntax). Handlers for GET and HEAD run under a shared lock; all others run alone and mark the
// data dirty for persistence. The request is counted in the request log under the pattern.
func (r *Router) Handle(pattern string, fn http.HandlerFunc) {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok {
		panic("sandbox: pattern needs a method: " + pattern)
	}
	full := method + " " + r.prefix + path
	readOnly := method == http.MethodGet || method == http.MethodHead
	r.mux.HandleFunc(full, func(w http.ResponseWriter, req *http.Request) {
		r.s.log.record(full)
		if readOnly {
			r.s.mu.RLock()
			defer r.s.mu.RUnlock()
		} else {
			r.s.mu.Lock()
			defer r.s.mu.Unlock()
			r.s.dirty = true
			// The answer waits until the data is saved: a write the client saw acknowledged
			// survives a SIGKILL right after.
			buf := &heldResponse{w: w, status: http.StatusOK}
			fn(buf, req)
			if err := r.s.flushLocked(); err != nil {
				http.Error(w, "sandbox: the change could not be saved: "+err.Error(), http.StatusInternalServerError)
				return
			}
			buf.send()
			return
		}
		fn(w, req)
	})
}

// heldResponse holds a handler's answer until send.
type heldResponse struct {
	w      http.ResponseWriter
	status int
	body   []byte
}

func (h *heldResponse) Header() http.Header    { return h.w.Header() }
func (h *heldResponse) WriteHeader(status int) { h.status = status }
func (h *heldResponse) Write(b []byte) (int, error) {
	h.body = append(h.body, b...)
	return len(b), nil
}
func (h *heldResponse) send() {
	h.w.WriteHeader(h.status)
	_, _ = h.w.Write(h.body)
}

// HandleUnlocked registers fn without taking the data lock (for handlers that take it
// themselves through Server.View / Server.Mutate, e.g. to stream or batch sub-requests).
func (r *Router) HandleUnlocked(pattern string, fn http.HandlerFunc) {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok {
		panic("sandbox: pattern needs a method: " + pattern)
	}
	full := method + " " + r.prefix + path
	r.mux.HandleFunc(full, func(w http.ResponseWriter, req *http.Request) {
		r.s.log.record(full)
		fn(w, req)
	})
}

// HandleFallback registers fn for the requests under the service's prefix that no other route
// takes (any method), so that a service answers its API's own error body instead of net/http's
// plain-text 404/405. allowed lists the methods other routes accept for the request's path
// (non-empty: the method is wrong, not the path). fn runs without the data lock.
func (r *Router) HandleFallback(fn func(w http.ResponseWriter, req *http.Request, allowed []string)) {
	fallback := r.prefix + "/"
	r.mux.HandleFunc(fallback, func(w http.ResponseWriter, req *http.Request) {
		var allowed []string
		for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			probe := req.Clone(req.Context())
			probe.Method = m
			if _, pattern := r.mux.Handler(probe); pattern != "" && pattern != fallback {
				allowed = append(allowed, m)
			}
		}
		fn(w, req, allowed)
	})
}

// WriteJSON writes v as a JSON response with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

const dataFile = "data.json"

func (s *Server) load() error {
	if s.opts.Dir == "" {
		return nil
	}
	b, err := os.ReadFile(filepath.Join(s.opts.Dir, dataFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sandbox: read %s: %w", filepath.Join(s.opts.Dir, dataFile), err)
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return fmt.Errorf("sandbox: %s is not valid JSON (%v); run `c4sctl sandbox reset` to start from the seed", filepath.Join(s.opts.Dir, dataFile), err)
	}
	for _, svc := range s.services {
		if raw, ok := all[svc.Name()]; ok {
			if err := svc.UnmarshalState(raw); err != nil {
				return fmt.Errorf("sandbox: restore %s data: %v; run `c4sctl sandbox reset` to start from the seed", svc.Name(), err)
			}
		}
	}
	return nil
}

func (s *Server) flushLocked() error {
	if s.opts.Dir == "" || !s.dirty {
		return nil
	}
	all := map[string]json.RawMessage{}
	for _, svc := range s.services {
		b, err := svc.MarshalState()
		if err != nil {
			return fmt.Errorf("sandbox: save %s data: %w", svc.Name(), err)
		}
		all[svc.Name()] = b
	}
	b, err := json.Marshal(all)
	if err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(s.opts.Dir, dataFile), b); err != nil {
		return err
	}
	s.dirty = false
	return nil
}

// RequestLog counts requests by route pattern ("GET /graph/v1.0/users").
type RequestLog struct {
	mu     sync.Mutex
	counts map[string]int
}

func newRequestLog() *RequestLog { return &RequestLog{counts: map[string]int{}} }

func (l *RequestLog) record(pattern string) {
	l.mu.Lock()
	l.counts[pattern]++
	l.mu.Unlock()
}

// Count returns how many requests matched the pattern.
func (l *RequestLog) Count(pattern string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.counts[pattern]
}

// Counts returns a copy of all counts.
func (l *RequestLog) Counts() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string]int, len(l.counts))
	for k, v := range l.counts {
		out[k] = v
	}
	return out
}

// Total is the number of requests served (token requests included).
func (l *RequestLog) Total() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, v := range l.counts {
		n += v
	}
	return n
}

// Reset clears the counts.
func (l *RequestLog) Reset() {
	l.mu.Lock()
	l.counts = map[string]int{}
	l.mu.Unlock()
}

// String lists the counts, one pattern a line, sorted.
func (l *RequestLog) String() string {
	c := l.Counts()
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%6d %s\n", c[k], k)
	}
	return b.String()
}
