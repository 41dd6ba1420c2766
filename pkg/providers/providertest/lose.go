package providertest

import (
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/c4sctl/c4sctl/pkg/httpx"
	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/sandbox"
)

// HTTPXEnv is Env with the real HTTP layer (httpx: retries, OutcomeUnknownError) trusting the
// sandbox, with short backoffs so that tests stay fast.
func HTTPXEnv(sb *sandbox.Server) *providers.Env {
	e := Env(sb)
	e.HTTPClient = httpx.NewClient(httpx.Options{RootCAs: sb.CertPool(), BaseDelay: time.Millisecond, MaxDelay: 10 * time.Millisecond})
	return e
}

// Loser loses the answers of chosen requests: the way a network fails mid-request.
type Loser struct {
	mu        sync.Mutex
	method    string
	path      string
	left      int
	processed bool
	lost      int
}

// LoseAnswers installs a middleware on sb that drops the connection of the next n requests
// whose method is method and whose path contains pathPart. With processed, the request is
// handled first (the change is made, but the client cannot know it); without, it is dropped
// before being handled. Either way a client sees a request that was sent and got no answer.
func LoseAnswers(sb *sandbox.Server, method, pathPart string, n int, processed bool) *Loser {
	l := &Loser{method: method, path: pathPart, left: n, processed: processed}
	sb.Use(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !l.take(r) {
				next.ServeHTTP(w, r)
				return
			}
			if l.processed {
				next.ServeHTTP(discard{h: http.Header{}}, r)
			}
			if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
				_ = conn.Close()
				return
			}
			panic(http.ErrAbortHandler) // HTTP/2: reset the stream (recovered by net/http)
		})
	})
	return l
}

func (l *Loser) take(r *http.Request) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.left <= 0 || r.Method != l.method || !strings.Contains(r.URL.Path, l.path) {
		return false
	}
	l.left--
	l.lost++
	return true
}

// Lost is the number of answers lost so far.
func (l *Loser) Lost() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lost
}

type discard struct{ h http.Header }

func (d discard) Header() http.Header         { return d.h }
func (d discard) Write(b []byte) (int, error) { return len(b), nil }
func (d discard) WriteHeader(int)             {}
