package providers

import (
	"github.com/c4sctl/c4sctl/pkg/graph"
	"golang.org/x/sync/errgroup"
)

// Go runs fn in g with a panic in it turned into fn's error (a *graph.PanicError naming where it
// happened). The graph walk recovers a panic in the goroutine that calls the provider, but not in
// goroutines an adapter starts itself: unguarded, such a panic would end the process with state
// unsaved and the lock held. Every goroutine an adapter starts goes through Go or Guard.
func Go(g *errgroup.Group, fn func() error) {
	g.Go(func() error { return graph.Guard(fn) })
}

// Guard runs fn and turns a panic in it into an error, for a goroutine that answers on a channel
// rather than through an errgroup.
func Guard(fn func() error) error { return graph.Guard(fn) }
