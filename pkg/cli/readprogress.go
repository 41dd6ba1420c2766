package cli

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// ReadProgressInterval is how often a refresh still running prints a line per provider: on a
// terminal and in a CI log alike, so a slow tenant (a real one answers Graph in seconds, and
// throttles) never looks hung.
const ReadProgressInterval = 10 * time.Second

// readProgress reports the refresh (the reads of plan, apply and drift) on stderr: on a terminal
// a line per resource as its read starts; on any output, every interval a line per provider with
// reads in flight ("teams: Still reading... [10s elapsed; 3 read, 2 in progress]"); and at the
// end "Read N resources in 1.2s.". The clock and the ticks are injected for tests.
type readProgress struct {
	w        io.Writer
	now      func() time.Time
	provider func(addr string) string
	perRead  bool // a line per resource as it starts (terminals)

	mu       sync.Mutex
	start    time.Time
	inFlight map[string]int // by provider
	done     map[string]int
	total    int
	stop     chan struct{}
	stopped  chan struct{}
}

func newReadProgress(w io.Writer, now func() time.Time, provider func(string) string, perRead bool) *readProgress {
	return &readProgress{w: w, now: now, provider: provider, perRead: perRead, start: now(),
		inFlight: map[string]int{}, done: map[string]int{}}
}

// event is the planner's Progress callback: a read of addr starts (done false) or ends.
func (r *readProgress) event(addr string, done bool) {
	p := r.provider(addr)
	r.mu.Lock()
	defer r.mu.Unlock()
	if !done {
		r.inFlight[p]++
		if r.perRead {
			fmt.Fprintf(r.w, "%s: Refreshing state...\n", addr)
		}
		return
	}
	r.inFlight[p]--
	r.done[p]++
	r.total++
}

// tick prints a line for each provider with reads in flight.
func (r *readProgress) tick() {
	r.mu.Lock()
	defer r.mu.Unlock()
	elapsed := r.now().Sub(r.start).Round(time.Second)
	var names []string
	for p, n := range r.inFlight {
		if n > 0 {
			names = append(names, p)
		}
	}
	sort.Strings(names)
	for _, p := range names {
		fmt.Fprintf(r.w, "%s: Still reading... [%s elapsed; %d read, %d in progress]\n", p, elapsed, r.done[p], r.inFlight[p])
	}
}

// run ticks on ticks until finish.
func (r *readProgress) run(ticks <-chan time.Time) {
	r.stop, r.stopped = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(r.stopped)
		for {
			select {
			case <-ticks:
				r.tick()
			case <-r.stop:
				return
			}
		}
	}()
}

// finish stops the ticks and prints the total, when anything was read.
func (r *readProgress) finish() {
	if r.stop != nil {
		close(r.stop)
		<-r.stopped
		r.stop = nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.total == 0 {
		return
	}
	noun := "resources"
	if r.total == 1 {
		noun = "resource"
	}
	fmt.Fprintf(r.w, "Read %d %s in %s.\n", r.total, noun, seconds(r.now().Sub(r.start)))
}

// seconds writes d as Terraform's elapsed times do, to a tenth below a minute: "1.2s", "75s".
func seconds(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	return d.Round(time.Second).String()
}

// readProgress returns the refresh progress of this run on stderr (see readProgress).
func (g *Globals) readProgress() *readProgress {
	perRead := false
	if f, ok := g.Stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		perRead = true
	}
	reg := g.Registry()
	provider := func(addr string) string {
		typ, _, _ := strings.Cut(strings.TrimPrefix(addr, "data."), ".")
		if s := reg.ResourceSchema(typ, strings.HasPrefix(addr, "data.")); s != nil {
			return s.Provider
		}
		return typ
	}
	return newReadProgress(g.Stderr, time.Now, provider, perRead)
}
