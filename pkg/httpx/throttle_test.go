package httpx

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"
)

// Throttling that says when to come back is waited out beyond MaxAttempts, up to MaxThrottled.
func TestThrottleWithRetryAfterIsWaitedOut(t *testing.T) {
	for _, tt := range []struct {
		name       string
		throttles  int32
		wantStatus int
		wantCalls  int32
	}{
		{"ten 429s then success", 10, 200, 11},
		{"endless 429s stop at MaxThrottled", 1 << 30, 429, 12},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				if calls.Add(1) <= tt.throttles {
					w.Header().Set("x-ms-retry-after-ms", "1")
					w.WriteHeader(http.StatusTooManyRequests)
					return
				}
				w.WriteHeader(http.StatusOK)
			}))
			defer srv.Close()
			c := NewClient(Options{MaxAttempts: 3, MaxThrottled: 12})
			resp, err := c.Post(srv.URL, "application/json", nil)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus || calls.Load() != tt.wantCalls {
				t.Fatalf("status %d after %d calls, want %d after %d", resp.StatusCode, calls.Load(), tt.wantStatus, tt.wantCalls)
			}
		})
	}
}

// A 429 under load makes the API's later requests keep to a learned budget.
func TestThrottlingUnderLoadPacesLaterRequests(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if calls.Add(1) == 41 {
			w.Header().Set("x-ms-retry-after-ms", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	c := NewClient(Options{})
	get := func() {
		resp, err := c.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	for range 40 { // about 40 accepted in the last second, then the 429 (retried)
		get()
	}
	get()
	start := time.Now()
	for range 10 {
		get()
	}
	// The budget starts at 85% of ~40/s: 10 requests take at least 9 intervals of ~29 ms.
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Fatalf("10 requests after a 429 under load took %s: no budget was learned", d)
	}
	if s := c.Transport.(*Transport).Stats(); s.Throttled != 1 {
		t.Fatalf("throttled %d, want 1", s.Throttled)
	}
}

// A 429 inside a successful answer (a $batch item), reported with Throttled, pauses the API and
// teaches it a budget as a 429 answer would.
func TestThrottledPartsPaceTheAPI(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }))
	defer srv.Close()
	c := NewClient(Options{})
	get := func() {
		resp, err := c.Get(srv.URL + "/v1.0/$batch")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	for range 40 {
		get()
	}
	u, _ := url.Parse(srv.URL + "/v1.0/$batch")
	Throttled(c, http.MethodPost, u, time.Now().Add(-time.Millisecond), 100*time.Millisecond, 3)
	Throttled(&http.Client{}, http.MethodPost, u, time.Now(), time.Second, 1) // not an httpx client: ignored
	start := time.Now()
	for range 10 {
		get()
	}
	// The 100 ms pause, then a budget of 85% of ~40/s.
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Fatalf("10 requests after a throttled part took %s: no pause or budget", d)
	}
	s := c.Transport.(*Transport).Stats()
	if s.ThrottledParts != 3 || s.Throttled != 0 || len(s.Budgets) != 1 {
		t.Fatalf("stats %+v, want 3 throttled parts and one learned budget", s)
	}
}

// Requests waiting for their slot in the budget when a 429 pauses the API do not leave inside
// the pause.
func TestBudgetWaitersRespectAPauseThatBeginsMeanwhile(t *testing.T) {
	a := &apiState{sem: make(chan struct{}, 16), gov: newGovernor(10, 1)}
	start := time.Now()
	pauseAt, pauseEnd := start.Add(30*time.Millisecond), start.Add(400*time.Millisecond)
	left := make(chan time.Time, 5)
	for range 5 {
		go func() {
			release, _, err := a.enter(context.Background())
			if err != nil {
				t.Error(err)
			}
			left <- time.Now()
			release()
		}()
	}
	time.Sleep(time.Until(pauseAt))
	a.pauseUntil(pauseEnd)
	for range 5 {
		at := <-left
		if at.After(pauseAt.Add(5*time.Millisecond)) && at.Before(pauseEnd) {
			t.Fatalf("a request left %s after the start, inside the pause (%s to %s)", at.Sub(start), pauseAt.Sub(start), pauseEnd.Sub(start))
		}
	}
}
