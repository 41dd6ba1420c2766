package providers_test

import (
	"errors"
	"testing"

	"github.com/c4sctl/c4sctl/pkg/graph"
	"github.com/c4sctl/c4sctl/pkg/providers"
	"golang.org/x/sync/errgroup"
)

// A panic in a goroutine an adapter starts is that call's error, not the end of the process.
func TestGoAndGuardTurnAPanicIntoAnError(t *testing.T) {
	var g errgroup.Group
	providers.Go(&g, func() error { return nil })
	providers.Go(&g, func() error {
		var m map[string]int
		m["x"] = 1 // assignment to a nil map
		return nil
	})
	err := g.Wait()
	var pe *graph.PanicError
	if !errors.As(err, &pe) {
		t.Fatalf("errgroup: %v, want a *graph.PanicError", err)
	}
	err = providers.Guard(func() error { panic("unexpected shape") })
	if !errors.As(err, &pe) || pe.Value != "unexpected shape" {
		t.Fatalf("Guard: %v", err)
	}
	if err := providers.Guard(func() error { return errors.New("plain") }); err == nil || errors.As(err, &pe) {
		t.Fatalf("Guard passes a plain error through: %v", err)
	}
}
