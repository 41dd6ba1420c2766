package httpx

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// server is an HTTPS test server on loopback counting the requests it handled.
type server struct {
	*httptest.Server
	hits atomic.Int64
	pool *x509.CertPool
}

func newServer(t *testing.T, h2 bool, fn func(s *server, n int64, w http.ResponseWriter, r *http.Request)) *server {
	t.Helper()
	s := &server{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := s.hits.Add(1)
		fn(s, n, w, r)
	}))
	s.EnableHTTP2 = h2
	s.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.StartTLS()
	t.Cleanup(s.Close)
	s.pool = x509.NewCertPool()
	s.pool.AddCert(s.Certificate())
	return s
}

func fastOpts(s *server) Options {
	return Options{RootCAs: s.pool, BaseDelay: 2 * time.Millisecond, MaxDelay: 10 * time.Millisecond, MaxAttempts: 6, MaxElapsed: 20 * time.Second}
}

func hijackClose(t *testing.T, w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		t.Errorf("hijack: %v", err)
		return
	}
	_ = conn.Close()
}

func do(t *testing.T, c *http.Client, ctx context.Context, method, url string, body string) (*http.Response, string, error) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b), nil
}

func TestRetriesByStatus(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		method     string
		status     int
		header     map[string]string
		failFirst  int64 // answers with status before succeeding
		wantHits   int64
		wantStatus int
		wantErr    bool // OutcomeUnknownError
	}{
		{"GET 429 retried", "GET", 429, map[string]string{"Retry-After": "0"}, 2, 3, 200, false},
		{"GET 503 retried", "GET", 503, nil, 2, 3, 200, false},
		{"GET 504 retried", "GET", 504, nil, 1, 2, 200, false},
		{"GET 500 not retried", "GET", 500, nil, 1, 1, 500, false},
		{"PUT 503 retried", "PUT", 503, nil, 1, 2, 200, false},
		{"DELETE 429 retried", "DELETE", 429, map[string]string{"x-ms-retry-after-ms": "5"}, 1, 2, 200, false},
		{"POST 429 replayed", "POST", 429, map[string]string{"Retry-After": "0"}, 2, 3, 200, false},
		{"POST 503 with Retry-After replayed", "POST", 503, map[string]string{"Retry-After": "0"}, 1, 2, 200, false},
		{"POST 503 without Retry-After: outcome unknown", "POST", 503, nil, 1, 1, 0, true},
		{"POST 504: outcome unknown", "POST", 504, nil, 1, 1, 0, true},
		{"PATCH 504: outcome unknown", "PATCH", 504, nil, 1, 1, 0, true},
		{"POST 400 returned as is", "POST", 400, nil, 1, 1, 400, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var bodies sync.Map
			s := newServer(t, false, func(s *server, n int64, w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				bodies.Store(n, string(b))
				if n <= tc.failFirst {
					for k, v := range tc.header {
						w.Header().Set(k, v)
					}
					w.WriteHeader(tc.status)
					_, _ = io.WriteString(w, `{"error":"x"}`)
					return
				}
				_, _ = io.WriteString(w, "ok")
			})
			tr := New(fastOpts(s))
			c := &http.Client{Transport: tr}
			body := ""
			if tc.method != "GET" && tc.method != "DELETE" {
				body = `{"name":"same body"}`
			}
			resp, got, err := do(t, c, context.Background(), tc.method, s.URL+"/x", body)
			if tc.wantErr {
				var ou *OutcomeUnknownError
				if !errors.As(err, &ou) {
					t.Fatalf("error = %v, want OutcomeUnknownError", err)
				}
				if ou.StatusCode != tc.status || ou.Attempts != 1 {
					t.Errorf("OutcomeUnknownError = %+v", ou)
				}
			} else {
				if err != nil {
					t.Fatalf("error: %v", err)
				}
				if resp.StatusCode != tc.wantStatus {
					t.Errorf("status = %d, want %d (body %q)", resp.StatusCode, tc.wantStatus, got)
				}
			}
			if h := s.hits.Load(); h != tc.wantHits {
				t.Errorf("server saw %d requests, want %d", h, tc.wantHits)
			}
			if st := tr.Stats(); st.Attempts != tc.wantHits || st.Retries != tc.wantHits-1 || st.Requests != 1 || st.BytesSent != tc.wantHits*int64(len(body)) {
				t.Errorf("stats = %+v", st)
			}
			bodies.Range(func(_, v any) bool {
				if v.(string) != body {
					t.Errorf("replayed body %q, want %q", v, body)
				}
				return true
			})
		})
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		header  func() (string, string)
		atLeast time.Duration
	}{
		{"seconds", func() (string, string) { return "Retry-After", "1" }, 900 * time.Millisecond},
		{"HTTP date", func() (string, string) {
			return "Retry-After", time.Now().Add(2 * time.Second).UTC().Format(http.TimeFormat)
		}, 500 * time.Millisecond},
		{"x-ms-retry-after-ms", func() (string, string) { return "x-ms-retry-after-ms", "300" }, 250 * time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newServer(t, true, func(s *server, n int64, w http.ResponseWriter, r *http.Request) {
				if n == 1 {
					k, v := tc.header()
					w.Header().Set(k, v)
					w.WriteHeader(http.StatusTooManyRequests)
					return
				}
				w.WriteHeader(http.StatusNoContent)
			})
			tr := New(fastOpts(s))
			start := time.Now()
			resp, _, err := do(t, &http.Client{Transport: tr}, context.Background(), "GET", s.URL+"/x", "")
			if err != nil {
				t.Fatal(err)
			}
			if el := time.Since(start); el < tc.atLeast {
				t.Errorf("retried after %s, want at least %s", el, tc.atLeast)
			}
			if resp.StatusCode != http.StatusNoContent || s.hits.Load() != 2 || tr.Stats().Throttled != 1 {
				t.Errorf("status %d, hits %d, stats %+v", resp.StatusCode, s.hits.Load(), tr.Stats())
			}
		})
	}
}

func TestAttemptsAndTimeBounded(t *testing.T) {
	t.Parallel()
	t.Run("attempts", func(t *testing.T) {
		t.Parallel()
		s := newServer(t, false, func(s *server, n int64, w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, "down")
		})
		o := fastOpts(s)
		o.MaxAttempts = 4
		tr := New(o)
		resp, body, err := do(t, &http.Client{Transport: tr}, context.Background(), "GET", s.URL+"/x", "")
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 503 || body != "down" {
			t.Errorf("last answer = %d %q, want 503 \"down\"", resp.StatusCode, body)
		}
		if s.hits.Load() != 4 || tr.Stats().Attempts != 4 || tr.Stats().Retries != 3 {
			t.Errorf("hits %d, stats %+v; want 4 attempts", s.hits.Load(), tr.Stats())
		}
	})
	t.Run("total time: a Retry-After beyond MaxElapsed is not waited for", func(t *testing.T) {
		t.Parallel()
		s := newServer(t, false, func(s *server, n int64, w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "30")
			w.WriteHeader(http.StatusTooManyRequests)
		})
		o := fastOpts(s)
		o.MaxElapsed = time.Second
		start := time.Now()
		resp, _, err := do(t, NewClient(o), context.Background(), "GET", s.URL+"/x", "")
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 429 || s.hits.Load() != 1 {
			t.Errorf("status %d after %d hits, want 429 after 1", resp.StatusCode, s.hits.Load())
		}
		if el := time.Since(start); el > 5*time.Second {
			t.Errorf("took %s", el)
		}
	})
}

func TestConnectionFailures(t *testing.T) {
	t.Parallel()
	t.Run("POST not replayed when the connection drops after the request was sent", func(t *testing.T) {
		t.Parallel()
		s := newServer(t, false, func(s *server, n int64, w http.ResponseWriter, r *http.Request) {
			_, _ = io.ReadAll(r.Body) // processed: the object is created
			hijackClose(t, w)
		})
		tr := New(fastOpts(s))
		_, _, err := do(t, &http.Client{Transport: tr}, context.Background(), "POST", s.URL+"/users", `{"name":"a"}`)
		var ou *OutcomeUnknownError
		if !errors.As(err, &ou) {
			t.Fatalf("error = %v, want OutcomeUnknownError", err)
		}
		if ou.StatusCode != 0 || ou.Method != "POST" || !strings.Contains(err.Error(), "re-read") {
			t.Errorf("error = %v", err)
		}
		if s.hits.Load() != 1 {
			t.Errorf("POST sent %d times, want 1", s.hits.Load())
		}
		if tr.Stats().OutcomeUnknown != 1 {
			t.Errorf("stats %+v", tr.Stats())
		}
	})
	t.Run("GET replayed when the connection drops", func(t *testing.T) {
		t.Parallel()
		s := newServer(t, false, func(s *server, n int64, w http.ResponseWriter, r *http.Request) {
			if n <= 2 {
				hijackClose(t, w)
				return
			}
			_, _ = io.WriteString(w, "ok")
		})
		resp, body, err := do(t, NewClient(fastOpts(s)), context.Background(), "GET", s.URL+"/x", "")
		if err != nil || resp.StatusCode != 200 || body != "ok" {
			t.Fatalf("got %v %q %v", resp, body, err)
		}
		if s.hits.Load() != 3 {
			t.Errorf("hits = %d, want 3", s.hits.Load())
		}
	})
	t.Run("POST replayed when the connection failed before a byte was written", func(t *testing.T) {
		t.Parallel()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close() // nothing listens: connection refused
		tr := New(Options{BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond, MaxAttempts: 3})
		_, _, err = do(t, &http.Client{Transport: tr}, context.Background(), "POST", "https://"+addr+"/users", `{"name":"a"}`)
		if err == nil || IsOutcomeUnknown(err) {
			t.Fatalf("error = %v, want a connection error that is not OutcomeUnknownError", err)
		}
		if st := tr.Stats(); st.Attempts != 3 || st.ConnErrors != 3 {
			t.Errorf("stats %+v, want 3 attempts", st)
		}
	})
	t.Run("untrusted certificate not retried", func(t *testing.T) {
		t.Parallel()
		s := newServer(t, false, func(s *server, n int64, w http.ResponseWriter, r *http.Request) {})
		tr := New(Options{BaseDelay: time.Millisecond, MaxAttempts: 5}) // system roots only
		_, _, err := do(t, &http.Client{Transport: tr}, context.Background(), "GET", s.URL+"/x", "")
		if err == nil || tr.Stats().Attempts != 1 {
			t.Errorf("err %v, stats %+v; want one failed attempt", err, tr.Stats())
		}
	})
}

func TestConcurrencyLimit(t *testing.T) {
	t.Parallel()
	var inflight, peak atomic.Int64
	s := newServer(t, true, func(s *server, n int64, w http.ResponseWriter, r *http.Request) {
		cur := inflight.Add(1)
		for {
			p := peak.Load()
			if cur <= p || peak.CompareAndSwap(p, cur) {
				break
			}
		}
		time.Sleep(15 * time.Millisecond)
		inflight.Add(-1)
	})
	o := fastOpts(s)
	o.Concurrency = 3
	c := NewClient(o)
	var wg sync.WaitGroup
	for i := 0; i < 24; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, _, err := do(t, c, context.Background(), "GET", s.URL+"/x", ""); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if p := peak.Load(); p > 3 || p < 2 {
		t.Errorf("peak in flight = %d, want 2..3", p)
	}
	if s.hits.Load() != 24 {
		t.Errorf("hits = %d", s.hits.Load())
	}
}

func TestRateBudgetPerAPI(t *testing.T) {
	t.Parallel()
	var slow, fast atomic.Int64
	s := newServer(t, false, func(s *server, n int64, w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/slow/") {
			slow.Add(1)
		} else {
			fast.Add(1)
		}
	})
	o := fastOpts(s)
	o.Limits = map[string]Limit{"/slow": {RPS: 20, Burst: 2}}
	c := NewClient(o)
	const n = 10
	start := time.Now()
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, _, _ = do(t, c, context.Background(), "GET", s.URL+"/slow/x", "")
		}()
		go func() {
			defer wg.Done()
			_, _, _ = do(t, c, context.Background(), "GET", s.URL+"/fast/x", "")
		}()
	}
	// While the slow API is still limited, sample what it served: never more than the budget.
	time.Sleep(150 * time.Millisecond)
	served, el := slow.Load(), time.Since(start)
	if budget := 2 + int64(20*el.Seconds()) + 1; served > budget {
		t.Errorf("slow API served %d requests in %s, budget allows %d", served, el, budget)
	}
	wg.Wait()
	el = time.Since(start)
	if slow.Load() != n || fast.Load() != n {
		t.Errorf("served slow %d fast %d, want %d each", slow.Load(), fast.Load(), n)
	}
	// 10 requests at 20/s with a burst of 2 need at least 8/20 s.
	if el < 350*time.Millisecond {
		t.Errorf("10 requests at 20/s took only %s", el)
	}
}

func TestLogsNeverHoldSecrets(t *testing.T) {
	t.Parallel()
	const canary = "CANARY-s3cr3t-9f8e7d"
	s := newServer(t, false, func(s *server, n int64, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			w.Header().Set("x-ms-retry-after-ms", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = io.WriteString(w, `{"access_token":"`+canary+`"}`)
			return
		}
		w.Header().Set("Set-Cookie", "session="+canary)
		_, _ = io.WriteString(w, `{"access_token":"`+canary+`"}`)
	})
	var logBuf bytes.Buffer
	var mu sync.Mutex
	log := slog.New(slog.NewJSONHandler(&lockedWriter{w: &logBuf, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	o := fastOpts(s)
	o.Logger = log
	c := NewClient(o)
	u := s.URL + "/token?client_secret=" + canary + "&code=" + canary + "&sig=" + canary + "&access_token=" + canary + "&keep=visible"
	req, _ := http.NewRequest("POST", u, strings.NewReader("client_secret="+canary+"&password="+canary))
	req.Header.Set("Authorization", "Bearer "+canary)
	req.Header.Set("Cookie", "s="+canary)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.ReadAll(resp.Body)
	resp.Body.Close()

	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	o.MaxAttempts = 2
	c2 := NewClient(o)
	_, err = c2.Get("https://" + addr + "/x?access_token=" + canary)
	if err == nil {
		t.Fatal("want a connection error")
	}
	if red := Redact(err.Error()); strings.Contains(red, canary) {
		t.Errorf("Redact(error) keeps the secret: %s", red)
	}

	mu.Lock()
	out := logBuf.String()
	mu.Unlock()
	if strings.Contains(out, canary) {
		t.Errorf("the log holds the canary secret:\n%s", out)
	}
	for _, want := range []string{`"attempt":2`, `"status":429`, "keep=visible", `"method":"POST"`, "REDACTED"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

func TestRedact(t *testing.T) {
	t.Parallel()
	jwt := "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
	cases := []struct{ in, secret string }{
		{"Authorization: Bearer abc.def-ghi", "abc.def-ghi"},
		{"token " + jwt + " expired", jwt},
		{"client_secret=hunter2&grant_type=client_credentials", "hunter2"},
		{"login failed: password=hunter3", "hunter3"},
		{"https://x/cb?access_token=tok4&x=1", "tok4"},
		{`{"client_secret": "hunter5", "other":1}`, "hunter5"},
		{`{"refresh_token":"tok6"}`, "tok6"},
		{"Basic dXNlcjpwYXNz", "dXNlcjpwYXNz"},
		{"Authorization: Bearer CANARY", "CANARY"},
		{`{"token":"tok7"}`, "tok7"},
	}
	for _, tc := range cases {
		got := Redact(tc.in)
		if strings.Contains(got, tc.secret) || !strings.Contains(got, "REDACTED") {
			t.Errorf("Redact(%q) = %q", tc.in, got)
		}
	}
	for _, keep := range []string{"GET https://graph.microsoft.com/v1.0/users?$top=999: 404 Not Found", "status code 500", "",
		"the bearer token is expired", "assign the basic licence", "token_type: Bearer"} {
		if got := Redact(keep); got != keep {
			t.Errorf("Redact(%q) = %q, want unchanged", keep, got)
		}
	}
	if got := RedactURLString("https://u:pw@h/p?code=c1&$filter=x"); strings.Contains(got, "c1") || strings.Contains(got, "pw") || !strings.Contains(got, "?code=REDACTED&$filter=x") {
		t.Errorf("RedactURLString = %q", got)
	}
}

func TestContextCancelStopsBackoff(t *testing.T) {
	t.Parallel()
	s := newServer(t, false, func(s *server, n int64, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "10")
		w.WriteHeader(http.StatusTooManyRequests)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, err := do(t, NewClient(fastOpts(s)), ctx, "GET", s.URL+"/x", "")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error = %v, want the context's", err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("backoff not stopped: %s", el)
	}
	if s.hits.Load() != 1 {
		t.Errorf("hits = %d, want 1", s.hits.Load())
	}
}

func TestThrottlePausesTheAPI(t *testing.T) {
	t.Parallel()
	// A 429 with Retry-After holds back the API's other requests too.
	var times sync.Map
	s := newServer(t, true, func(s *server, n int64, w http.ResponseWriter, r *http.Request) {
		times.Store(n, time.Now())
		if n == 1 {
			w.Header().Set("x-ms-retry-after-ms", "300")
			w.WriteHeader(http.StatusTooManyRequests)
		}
	})
	o := fastOpts(s)
	o.Concurrency = 1
	c := NewClient(o)
	start := time.Now()
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, _, err := do(t, c, context.Background(), "GET", s.URL+"/x", ""); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if s.hits.Load() != 4 {
		t.Fatalf("hits = %d, want 4", s.hits.Load())
	}
	for n := int64(2); n <= 4; n++ {
		at, _ := times.Load(n)
		if d := at.(time.Time).Sub(start); d < 250*time.Millisecond {
			t.Errorf("request %d sent %s after start, during the pause", n, d)
		}
	}
}

func TestCheckEndpoint(t *testing.T) {
	t.Parallel()
	cases := []struct {
		url  string
		ok   bool
		want string
	}{
		{"https://graph.microsoft.com/v1.0", true, ""},
		{"http://127.0.0.1:8443/graph", true, ""},
		{"http://localhost:1234", true, ""},
		{"http://[::1]:99/x", true, ""},
		{"http://graph.microsoft.com/v1.0", false, "must use https"},
		{"http://10.0.0.1/x", false, "must use https"},
		{"ftp://example.com", false, "use https"},
		{"graph.microsoft.com", false, "absolute URL"},
		{"http://user:pw@evil.example/?client_secret=s1", false, "must use https"},
	}
	for _, tc := range cases {
		err := CheckEndpoint(tc.url)
		if (err == nil) != tc.ok {
			t.Errorf("CheckEndpoint(%q) = %v, want ok=%v", tc.url, err, tc.ok)
			continue
		}
		if err != nil && (!strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "s1") || strings.Contains(err.Error(), "pw@")) {
			t.Errorf("CheckEndpoint(%q) = %v", tc.url, err)
		}
	}
}

func TestWithRootCAsSharesLimits(t *testing.T) {
	t.Parallel()
	s := newServer(t, false, func(s *server, n int64, w http.ResponseWriter, r *http.Request) {})
	base := NewClient(Options{}) // system roots: the test server is not trusted
	if _, err := base.Get(s.URL); err == nil {
		t.Fatal("untrusted server reached")
	}
	c, err := WithRootCAs(base, s.pool)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Get(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if st, _ := StatsOf(base); st.Requests != 2 {
		t.Errorf("counters not shared: %+v", st)
	}
}

func TestNoAnswerInTime(t *testing.T) {
	t.Parallel()
	slowFirst := func(s *server, n int64, w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		if n == 1 {
			select {
			case <-time.After(2 * time.Second):
			case <-r.Context().Done():
			}
			return
		}
		_, _ = io.WriteString(w, "ok")
	}
	t.Run("GET retried after the attempt timeout", func(t *testing.T) {
		t.Parallel()
		s := newServer(t, false, slowFirst)
		o := fastOpts(s)
		o.AttemptTimeout = 100 * time.Millisecond
		resp, body, err := do(t, NewClient(o), context.Background(), "GET", s.URL+"/x", "")
		if err != nil || resp.StatusCode != 200 || body != "ok" || s.hits.Load() != 2 {
			t.Errorf("got %v %q %v after %d hits", resp, body, err, s.hits.Load())
		}
	})
	t.Run("POST after the attempt timeout: outcome unknown", func(t *testing.T) {
		t.Parallel()
		s := newServer(t, false, slowFirst)
		o := fastOpts(s)
		o.AttemptTimeout = 100 * time.Millisecond
		_, _, err := do(t, NewClient(o), context.Background(), "POST", s.URL+"/x", "{}")
		if !IsOutcomeUnknown(err) || s.hits.Load() != 1 {
			t.Errorf("error %v after %d hits, want OutcomeUnknownError after 1", err, s.hits.Load())
		}
	})
	t.Run("POST cancelled after sending: outcome unknown, still the context's error", func(t *testing.T) {
		t.Parallel()
		s := newServer(t, false, slowFirst)
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_, _, err := do(t, NewClient(fastOpts(s)), ctx, "POST", s.URL+"/x", "{}")
		if !IsOutcomeUnknown(err) || !errors.Is(err, context.DeadlineExceeded) || s.hits.Load() != 1 {
			t.Errorf("error %v after %d hits", err, s.hits.Load())
		}
	})
}

// dnsNotFound is a base transport whose every attempt fails as a lookup of a name that does not
// exist fails (no packet leaves the machine).
type dnsNotFound struct{ attempts atomic.Int32 }

func (d *dnsNotFound) RoundTrip(r *http.Request) (*http.Response, error) {
	d.attempts.Add(1)
	return nil, &url.Error{Op: r.Method, URL: r.URL.String(), Err: &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: r.URL.Hostname(), IsNotFound: true}}}
}

// A host that does not exist fails at the first attempt, naming the host; a DNS timeout is
// still retried.
func TestDNSNotFoundIsNotRetried(t *testing.T) {
	base := &dnsNotFound{}
	c := NewClient(Options{Base: base, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond})
	_, err := c.Get("https://contoso-typo.my.salesforce.com/services/data")
	if err == nil || base.attempts.Load() != 1 {
		t.Fatalf("attempts %d, err %v", base.attempts.Load(), err)
	}
	if !strings.Contains(err.Error(), "host contoso-typo.my.salesforce.com does not exist") || strings.Contains(err.Error(), "gave up") {
		t.Errorf("error: %v", err)
	}
	if retryableError(&net.DNSError{Err: "i/o timeout", Name: "x", IsTimeout: true}) != true {
		t.Error("a DNS timeout is not retried")
	}
}
