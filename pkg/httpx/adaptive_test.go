package httpx

import (
	"math"
	"testing"
	"time"
)

// feed records n accepted answers spread evenly over the 900 ms before at (the window counts
// the last 0.9 to 1 s, in 100 ms slots).
func feed(g *governor, at time.Time, n int, held bool) {
	for i := range n {
		g.accepted(at.Add(-time.Duration(n-1-i)*900*time.Millisecond/time.Duration(n)), held)
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 0.01 }

func TestGovernorLearnsFromThrottling(t *testing.T) {
	t0 := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }

	t.Run("a lone 429 at low traffic starts no budget", func(t *testing.T) {
		g := newGovernor(0, 0)
		feed(g, t0, minSamples-1, false)
		if r := g.throttled(t0, t0.Add(-20*time.Millisecond)); r != 0 || g.limiter() != nil {
			t.Fatalf("budget %v, limiter %v: want none", r, g.limiter())
		}
	})

	t.Run("the first 429 under load starts at cutFactor of the accepted rate", func(t *testing.T) {
		g := newGovernor(0, 0)
		feed(g, t0, 100, false)
		r := g.throttled(t0, ms(-20))
		if !near(r, 100*cutFactor) || g.limiter() == nil || !near(float64(g.limiter().Limit()), r) || g.limiter().Burst() != 1 {
			t.Fatalf("budget %v (limiter %v), want %v with burst 1", r, g.limiter(), 100*cutFactor)
		}
	})

	t.Run("answers in flight at a cut do not cut again; a later one cuts deeper soon after", func(t *testing.T) {
		g := newGovernor(0, 0)
		feed(g, t0, 100, false)
		first := g.throttled(t0, ms(-20))
		if r := g.throttled(ms(5), ms(-10)); r != 0 || !near(g.rate(), first) {
			t.Fatalf("a 429 to a request sent before the cut changed the budget to %v", g.rate())
		}
		if r := g.throttled(ms(300), ms(250)); !near(r, first*deepCutFactor) {
			t.Fatalf("a 429 %v after the cut: budget %v, want %v", 300*time.Millisecond, r, first*deepCutFactor)
		}
		if r := g.throttled(ms(5000), ms(4980)); !near(r, first*deepCutFactor*cutFactor) {
			t.Fatalf("a 429 long after the last cut: budget %v, want %v", r, first*deepCutFactor*cutFactor)
		}
	})

	t.Run("held requests regain the cut rate after recoverTime, then probe beyond", func(t *testing.T) {
		g := newGovernor(0, 0)
		feed(g, t0, 100, false)
		cut := g.throttled(t0, ms(-20))
		at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
		// Not held: the budget does not bind, so it does not grow.
		feed(g, at(recoverTime), 90, false)
		if !near(g.rate(), cut) {
			t.Fatalf("grew to %v without being held", g.rate())
		}
		feed(g, at(recoverTime/2), 90, true)
		mid := g.rate()
		if mid <= cut || mid >= 100 {
			t.Fatalf("half way: %v, want between %v and 100", mid, cut)
		}
		feed(g, at(recoverTime), 90, true)
		if math.Abs(g.rate()-100) > 1 {
			t.Fatalf("after recoverTime: %v, want about 100", g.rate())
		}
		feed(g, at(2*recoverTime), 90, true)
		if g.rate() <= 100 || g.rate() > 2*90 {
			t.Fatalf("after 2 recoverTimes: %v, want above 100 and at most twice the accepted rate", g.rate())
		}
	})

	t.Run("a learned budget spaces requests even under a configured bucket", func(t *testing.T) {
		g := newGovernor(40, 0)
		if g.limiter().Burst() != 40 {
			t.Fatalf("configured bucket %d, want 40", g.limiter().Burst())
		}
		feed(g, t0, 30, false)
		g.throttled(t0, ms(-20))
		if g.limiter().Burst() != 1 {
			t.Fatalf("bucket %d after a 429, want 1", g.limiter().Burst())
		}
	})

	t.Run("a configured budget under minRate stays the ceiling", func(t *testing.T) {
		g := newGovernor(0.5, 0)
		feed(g, t0, 30, false)
		if r := g.throttled(t0, ms(-20)); r != 0.5 {
			t.Fatalf("budget %v, want the configured 0.5", r)
		}
	})

	t.Run("never above the configured budget nor under minRate", func(t *testing.T) {
		g := newGovernor(40, 0)
		feed(g, t0, 100, false)
		if r := g.throttled(t0, ms(-20)); r != 40 {
			t.Fatalf("budget %v above the configured 40", r)
		}
		for i := 1; i < 60; i++ {
			g.throttled(ms(100*i), ms(100*i-1))
		}
		if g.rate() != minRate {
			t.Fatalf("after 60 cuts: %v, want the floor %v", g.rate(), minRate)
		}
	})
}

func TestWindowCountsTheLastSecond(t *testing.T) {
	var w window
	t0 := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	for i := range 30 {
		w.add(t0.Add(time.Duration(i) * 50 * time.Millisecond)) // 30 events over 1.5 s
	}
	last := t0.Add(1450 * time.Millisecond)
	if n := w.count(last); n < 19 || n > 21 {
		t.Fatalf("count %d in the last second, want about 20", n)
	}
	if n := w.count(last.Add(2 * time.Second)); n != 0 {
		t.Fatalf("count %d two seconds later, want 0", n)
	}
}
