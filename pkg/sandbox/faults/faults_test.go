package faults_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/c4sctl/c4sctl/pkg/httpx"
	"github.com/c4sctl/c4sctl/pkg/sandbox"
	"github.com/c4sctl/c4sctl/pkg/sandbox/faults"
)

// items is a tiny API: POST /{name}/items creates an item named by ?name=, GET lists them.
type items struct {
	name  string
	mu    sync.Mutex
	names []string
}

func (s *items) Name() string { return s.name }
func (s *items) Reset()       { s.mu.Lock(); s.names = nil; s.mu.Unlock() }
func (s *items) MarshalState() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return json.Marshal(s.names)
}
func (s *items) UnmarshalState(b []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return json.Unmarshal(b, &s.names)
}
func (s *items) Register(r *sandbox.Router) {
	r.Handle("GET /items", func(w http.ResponseWriter, req *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		n := 0
		for _, v := range s.names {
			if q := req.URL.Query().Get("name"); q == "" || v == q {
				n++
			}
		}
		sandbox.WriteJSON(w, 200, map[string]int{"count": n})
	})
	r.Handle("POST /items", func(w http.ResponseWriter, req *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.names = append(s.names, req.URL.Query().Get("name"))
		sandbox.WriteJSON(w, 201, map[string]string{"ok": "created"})
	})
}

func (s *items) count(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, v := range s.names {
		if v == name || name == "" {
			n++
		}
	}
	return n
}

func start(t *testing.T, opts faults.Options) (*sandbox.Server, *faults.Injector, *items, *items) {
	t.Helper()
	a, b := &items{name: "api"}, &items{name: "other"}
	sb, err := sandbox.Start(sandbox.Options{}, a, b)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sb.Close() })
	return sb, faults.Install(sb, opts), a, b
}

// plainClient sends every request on a new HTTP/1.1 connection and never retries.
func plainClient(sb *sandbox.Server) *http.Client {
	return &http.Client{Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: sb.CertPool(), MinVersion: tls.VersionTLS12},
		DisableKeepAlives: true,
	}, Timeout: 10 * time.Second}
}

func outcome(resp *http.Response, err error) string {
	if err != nil {
		return "dropped"
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return fmt.Sprint(resp.StatusCode)
}

func TestSeedReproducible(t *testing.T) {
	t.Parallel()
	run := func(seed int64) ([]string, faults.Counters, *items) {
		sb, inj, api, _ := start(t, faults.Options{FaultRate: 0.5, Seed: seed, RetryAfter: 10 * time.Millisecond})
		c := plainClient(sb)
		var seq []string
		for i := 0; i < 40; i++ {
			resp, err := c.Post(sb.URL+"/api/items?name=n"+fmt.Sprint(i), "application/json", strings.NewReader("{}"))
			seq = append(seq, outcome(resp, err))
		}
		return seq, inj.Counters(), api
	}
	a, ca, apiA := run(42)
	b, cb, _ := run(42)
	c, _, _ := run(43)
	if strings.Join(a, ",") != strings.Join(b, ",") {
		t.Errorf("same seed, different outcomes:\n%v\n%v", a, b)
	}
	if strings.Join(a, ",") == strings.Join(c, ",") {
		t.Errorf("different seeds, same outcomes: %v", a)
	}
	if fmt.Sprint(ca) != fmt.Sprint(cb) {
		t.Errorf("counters differ: %+v %+v", ca, cb)
	}
	count := map[string]int{}
	for _, o := range a {
		count[o]++
	}
	for _, k := range faults.Kinds {
		if ca.Faults[k] == 0 {
			t.Errorf("no %s fault in 40 requests at rate 0.5: %+v", k, ca)
		}
	}
	if count["429"] != ca.Faults[faults.TooManyRequests] || count["503"] != ca.Faults[faults.Unavailable] ||
		count["dropped"] != ca.Faults[faults.DropBefore]+ca.Faults[faults.DropAfter] || count["201"] != 40-ca.TotalFaults() {
		t.Errorf("outcomes %v do not match counters %+v", count, ca)
	}
	if ca.Sent429 != ca.Faults[faults.TooManyRequests] || ca.Requests != 40 {
		t.Errorf("counters %+v", ca)
	}
	// Drops after the handler processed the request; drops before did not.
	if got, want := apiA.count(""), count["201"]+ca.Faults[faults.DropAfter]; got != want {
		t.Errorf("%d items created, want %d (answered + dropped after processing)", got, want)
	}
}

func TestInjected429HasRetryAfter(t *testing.T) {
	t.Parallel()
	sb, _, _, _ := start(t, faults.Options{FaultRate: 1, Seed: 1, RetryAfter: 1500 * time.Millisecond})
	c := plainClient(sb)
	seen := false
	for i := 0; i < 30 && !seen; i++ {
		resp, err := c.Get(sb.URL + "/api/items")
		if err != nil {
			continue
		}
		resp.Body.Close()
		if resp.StatusCode == 429 {
			seen = true
			if ra, ms := resp.Header.Get("Retry-After"), resp.Header.Get("x-ms-retry-after-ms"); ra != "2" || ms != "1500" {
				t.Errorf("Retry-After %q, x-ms-retry-after-ms %q; want 2 and 1500", ra, ms)
			}
		} else if resp.StatusCode != 503 {
			t.Errorf("status %d at fault rate 1", resp.StatusCode)
		}
	}
	if !seen {
		t.Error("no 429 in 30 requests")
	}
}

func TestIdentityEndpointSpared(t *testing.T) {
	t.Parallel()
	for _, identity := range []bool{false, true} {
		sb, inj, _, _ := start(t, faults.Options{FaultRate: 1, Throttle: 1000, Seed: 3, Identity: identity})
		c := plainClient(sb)
		for i := 0; i < 10; i++ {
			// Not a valid token request: the identity endpoint answers 4xx unless a fault comes first.
			resp, err := c.PostForm(sb.URL+"/"+sandbox.TenantID+"/oauth2/v2.0/token", url.Values{"grant_type": {"none"}})
			o := outcome(resp, err)
			if !identity && (o == "dropped" || o == "429" || o == "503") {
				t.Errorf("identity endpoint got a fault: %s", o)
			}
		}
		if n := inj.Counters().TotalFaults(); (n == 0) == identity {
			t.Errorf("Identity=%v: %d faults injected", identity, n)
		}
	}
}

func TestThrottlePerAPI(t *testing.T) {
	t.Parallel()
	sb, inj, _, _ := start(t, faults.Options{Throttle: 4, Burst: 1})
	c := plainClient(sb)
	var statuses []int
	for i := 0; i < 3; i++ {
		resp, err := c.Get(sb.URL + "/api/items")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		statuses = append(statuses, resp.StatusCode)
		if resp.StatusCode == 429 {
			ra, ms := resp.Header.Get("Retry-After"), resp.Header.Get("x-ms-retry-after-ms")
			if ra != "1" || ms == "" || ms == "0" {
				t.Errorf("throttled answer: Retry-After %q, x-ms-retry-after-ms %q", ra, ms)
			}
		}
	}
	if statuses[0] != 200 || statuses[1] != 429 {
		t.Errorf("statuses %v, want 200 then 429 at 4 requests/s", statuses)
	}
	// Another API has its own bucket.
	resp, err := c.Get(sb.URL + "/other/items")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("other API: %d, want 200", resp.StatusCode)
	}
	cn := inj.Counters()
	if cn.Throttled == 0 || cn.Sent429 != cn.Throttled || cn.TotalFaults() != 0 {
		t.Errorf("counters %+v", cn)
	}
}

func TestLatency(t *testing.T) {
	t.Parallel()
	sb, _, _, _ := start(t, faults.Options{Latency: 50 * time.Millisecond})
	c := plainClient(sb)
	t0 := time.Now()
	resp, err := c.Get(sb.URL + "/api/items")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if d := time.Since(t0); d < 50*time.Millisecond {
		t.Errorf("answered in %s, want at least the 50ms latency", d)
	}
}

// The latency is the time to the answer: the handler works during it, and its answer (status,
// headers, body) is held until it has passed.
func TestLatencyHoldsTheAnswerNotTheWork(t *testing.T) {
	t.Parallel()
	sb, _, api, _ := start(t, faults.Options{Latency: 400 * time.Millisecond})
	c := plainClient(sb)
	type answer struct {
		status int
		body   string
		after  time.Duration
	}
	done := make(chan answer, 1)
	t0 := time.Now()
	go func() {
		resp, err := c.Post(sb.URL+"/api/items?name=early", "application/json", nil)
		if err != nil {
			done <- answer{body: err.Error()}
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		done <- answer{resp.StatusCode, string(b), time.Since(t0)}
	}()
	deadline := time.Now().Add(300 * time.Millisecond)
	for api.count("early") == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	select {
	case a := <-done:
		t.Fatalf("answered after %s, before the 400ms latency", a.after)
	default:
	}
	if api.count("early") != 1 {
		t.Fatalf("the item was not created during the latency")
	}
	a := <-done
	if a.after < 400*time.Millisecond || a.status != 201 || !strings.Contains(a.body, `"created"`) {
		t.Fatalf("answer %d %q after %s, want 201 with the handler's body after at least 400ms", a.status, a.body, a.after)
	}
}

// An adapter following the OutcomeUnknownError contract (re-read, then create only if absent)
// converges under faults without creating anything twice, over HTTP/2 like the real adapters.
func TestAdapterContractUnderFaults(t *testing.T) {
	t.Parallel()
	sb, inj, api, _ := start(t, faults.Options{FaultRate: 0.3, Seed: 7, RetryAfter: 5 * time.Millisecond})
	tr := httpx.New(httpx.Options{RootCAs: sb.CertPool(), BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond, MaxAttempts: 8})
	c := &http.Client{Transport: tr}
	ctx := context.Background()
	exists := func(name string) (bool, error) {
		req, _ := http.NewRequestWithContext(ctx, "GET", sb.URL+"/api/items?name="+name, nil)
		resp, err := c.Do(req)
		if err != nil {
			return false, err
		}
		defer resp.Body.Close()
		var v struct{ Count int }
		if resp.StatusCode != 200 {
			return false, fmt.Errorf("status %d", resp.StatusCode)
		}
		if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
			return false, err
		}
		return v.Count > 0, nil
	}
	create := func(name string) error {
		for try := 0; try < 10; try++ {
			ok, err := exists(name)
			if err != nil {
				return err
			}
			if ok {
				return nil
			}
			req, _ := http.NewRequestWithContext(ctx, "POST", sb.URL+"/api/items?name="+name, strings.NewReader(`{"x":1}`))
			resp, err := c.Do(req)
			var ou *httpx.OutcomeUnknownError
			if errors.As(err, &ou) {
				continue // re-read before trying again
			}
			if err != nil {
				return err
			}
			resp.Body.Close()
			if resp.StatusCode == 201 {
				return nil
			}
		}
		return errors.New("gave up")
	}
	var wg sync.WaitGroup
	for i := 0; i < 30; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := create(fmt.Sprintf("item%d", i)); err != nil {
				t.Errorf("create item%d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	for i := 0; i < 30; i++ {
		if n := api.count(fmt.Sprintf("item%d", i)); n != 1 {
			t.Errorf("item%d exists %d times", i, n)
		}
	}
	cn, st := inj.Counters(), tr.Stats()
	if cn.Faults[faults.DropAfter] == 0 || cn.Faults[faults.DropBefore] == 0 || st.Retries == 0 {
		t.Errorf("too few faults to mean anything: %+v, %+v", cn, st)
	}
	t.Logf("faults %+v; client %+v", cn, st)
}

// After StopFaults every request is answered by the service, at fault rate 1 before it.
func TestStopFaults(t *testing.T) {
	t.Parallel()
	sb, inj, _, _ := start(t, faults.Options{FaultRate: 1, Seed: 1})
	c := plainClient(sb)
	get := func() int {
		resp, err := c.Get(sb.URL + "/api/items")
		if err != nil {
			return 0 // a dropped connection
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get(); code == http.StatusOK {
		t.Fatalf("status 200 at fault rate 1")
	}
	inj.StopFaults()
	for i := 0; i < 20; i++ {
		if code := get(); code != http.StatusOK {
			t.Fatalf("request %d after StopFaults: status %d, want 200", i, code)
		}
	}
}
