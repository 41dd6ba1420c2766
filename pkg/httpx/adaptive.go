package httpx

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// The request-rate budget an API learns from its 429 answers, in the way of TCP CUBIC (RFC 9438)
// and of the AWS SDKs' adaptive retry mode.
//
// A 429 starts the budget only when the API accepted at least minSamples requests in the last
// second: a lone 429 at low traffic says nothing about our rate, and its Retry-After pause is
// enough. The budget then starts at cutFactor times that accepted rate (an overestimate: that
// second included the server's burst). Each later 429 cuts it by cutFactor (deepCutFactor when it
// comes within rapidCut of the last cut: the budget is still far too high), once per round: only
// a request sent after the last cut can cut again, so the answers already in flight when the
// limit was hit count once. While the budget holds requests back, it grows back along a cubic
// curve: it regains the rate of the last cut (wmax) recoverTime after the cut, stays near it, and
// then probes beyond it faster and faster, never above twice the accepted rate of the last second
// (so an unused budget does not run away). It never exceeds the configured RPS nor falls under
// minRate (nor the configured RPS, when it is lower).
//
// Why not only honour Retry-After? Every request that waited for the end of a pause leaves at
// once when it ends; the server takes one or two of them and answers 429 to the rest. Measured
// on the sandbox at 50 requests/s with 4 batches in flight, 43% of the answers were 429.
const (
	cutFactor     = 0.85
	deepCutFactor = 0.7
	rapidCut      = time.Second
	recoverTime   = 8.0 // seconds
	minSamples    = 10
	minRate       = 1.0
)

// cubic is the budget's growth after a cut, in units of wmax: cutFactor at the cut, 1 at
// recoverTime.
func cubic(sinceCut float64) float64 {
	const c = (1 - cutFactor) / (recoverTime * recoverTime * recoverTime)
	d := sinceCut - recoverTime
	return 1 + c*d*d*d
}

// governor is an API's request-rate budget: the configured one (ceiling, 0 for none) lowered by
// what the API's 429 answers taught.
type governor struct {
	mu      sync.Mutex
	ceiling float64       // configured RPS; 0: none
	lim     *rate.Limiter // nil: no budget (none configured, none learned yet)
	learned float64       // 0 until the first 429 that starts the budget
	wmax    float64       // the rate the budget regains recoverTime after a cut
	lastCut time.Time
	okWin   window // accepted answers in the last second
}

func newGovernor(rps float64, burst int) *governor {
	g := &governor{ceiling: rps}
	if rps > 0 {
		b := burst
		if b <= 0 {
			b = int(math.Ceil(rps))
		}
		g.lim = rate.NewLimiter(rate.Limit(rps), max(b, 1))
	}
	return g
}

// limiter returns the budget to wait on (nil for none).
func (g *governor) limiter() *rate.Limiter {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.lim
}

// accepted records an answer that was neither a 429 nor a server error; held says the budget
// delayed its request.
func (g *governor) accepted(now time.Time, held bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.okWin.add(now)
	if !held || g.learned == 0 {
		return
	}
	target := g.wmax * cubic(now.Sub(g.lastCut).Seconds())
	target = min(target, 2*float64(g.okWin.count(now)))
	if target > g.learned {
		g.set(target)
	}
}

// throttled records a 429 answer to a request sent at sent; it returns the new budget, or 0
// when the answer did not change it.
func (g *governor) throttled(now, sent time.Time) float64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	factor := cutFactor
	switch {
	case g.learned == 0:
		n := g.okWin.count(now)
		if n < minSamples {
			return 0
		}
		g.wmax = float64(n)
	case sent.After(g.lastCut):
		g.wmax = g.learned
		if now.Sub(g.lastCut) < rapidCut {
			// Still over the limit right after a cut: the budget started far above it.
			factor = deepCutFactor
		}
	default:
		return 0
	}
	g.set(g.wmax * factor)
	// The curve regains the rate cut from, except after a deep cut: that rate was far too high.
	g.wmax = g.learned / cutFactor
	g.lastCut = now
	return g.learned
}

// set changes the learned budget, within [minRate, ceiling].
func (g *governor) set(r float64) {
	floor := minRate
	if g.ceiling > 0 {
		r = min(r, g.ceiling)
		floor = min(floor, g.ceiling)
	}
	r = max(r, floor)
	g.learned = r
	if g.lim == nil {
		// Burst 1: the budget spaces requests evenly, so that none leaves in a bunch.
		g.lim = rate.NewLimiter(rate.Limit(r), 1)
		return
	}
	g.lim.SetLimit(rate.Limit(r))
	g.lim.SetBurst(1) // a configured budget's bucket would let a bunch leave after a pause
}

// rate returns the learned budget (0 before it started).
func (g *governor) rate() float64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.learned
}

// window counts events in the last second, in ten slots of 100 ms.
type window struct {
	slots [10]int
	epoch [10]int64 // the 100 ms period each slot counts
}

func (w *window) add(now time.Time) {
	p := now.UnixMilli() / 100
	i := int(p % 10)
	if w.epoch[i] != p {
		w.epoch[i], w.slots[i] = p, 0
	}
	w.slots[i]++
}

func (w *window) count(now time.Time) int {
	p := now.UnixMilli() / 100
	n := 0
	for i := range w.slots {
		if p-w.epoch[i] < 10 {
			n += w.slots[i]
		}
	}
	return n
}
