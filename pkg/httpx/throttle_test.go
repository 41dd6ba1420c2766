package httpx

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
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
