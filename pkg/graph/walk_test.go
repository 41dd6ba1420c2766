package graph

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestWalkOrderAndFailure(t *testing.T) {
	deps := map[string][]string{"b": {"a"}, "c": {"b"}, "d": {"a"}, "e": nil}
	var mu sync.Mutex
	var order []string
	res := Walk(context.Background(), []string{"a", "b", "c", "d", "e"}, func(n string) []string { return deps[n] }, 4,
		func(_ context.Context, n string) error {
			mu.Lock()
			order = append(order, n)
			mu.Unlock()
			if n == "b" {
				return errors.New("boom")
			}
			return nil
		})
	pos := map[string]int{}
	for i, n := range order {
		pos[n] = i
	}
	if pos["a"] > pos["b"] || pos["a"] > pos["d"] {
		t.Fatalf("dependency ran after dependant: %v", order)
	}
	want := map[string]Status{"a": Done, "b": Failed, "c": Skipped, "d": Done, "e": Done}
	for n, s := range want {
		if res.Status[n] != s {
			t.Errorf("%s: status %v, want %v", n, res.Status[n], s)
		}
	}
	if _, ran := pos["c"]; ran {
		t.Errorf("c ran although its dependency failed")
	}
}

func TestWalkRunsIndependentNodesInParallel(t *testing.T) {
	var inFlight, peak int32
	nodes := []string{"a", "b", "c", "d"}
	Walk(context.Background(), nodes, func(string) []string { return nil }, 2, func(context.Context, string) error {
		n := atomic.AddInt32(&inFlight, 1)
		for {
			p := atomic.LoadInt32(&peak)
			if n <= p || atomic.CompareAndSwapInt32(&peak, p, n) {
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
		atomic.AddInt32(&inFlight, -1)
		return nil
	})
	if peak != 2 {
		t.Fatalf("peak concurrency %d, want 2 (the limit)", peak)
	}
}

func TestWalkRefusesCycles(t *testing.T) {
	deps := map[string][]string{"a": {"b"}, "b": {"a"}}
	res := Walk(context.Background(), []string{"a", "b"}, func(n string) []string { return deps[n] }, 1, func(context.Context, string) error {
		t.Fatal("fn called on a cycle")
		return nil
	})
	if res.Status["a"] != Skipped || res.Errors["a"] == nil {
		t.Fatalf("cycle not reported: %+v", res)
	}
}

// A panicking node fails alone: its dependants are skipped, independent nodes still run, and the
// panic's value and site are in its error.
func TestWalkPanicBecomesNodeError(t *testing.T) {
	deps := map[string][]string{"b": {"a"}}
	res := Walk(context.Background(), []string{"a", "b", "c"}, func(n string) []string { return deps[n] }, 2,
		func(_ context.Context, n string) error {
			if n == "a" {
				var m map[string]int
				m["x"] = 1 // assignment to entry in nil map
			}
			return nil
		})
	if res.Status["a"] != Failed || res.Status["b"] != Skipped || res.Status["c"] != Done {
		t.Fatalf("statuses %v", res.Status)
	}
	var pe *PanicError
	if !errors.As(res.Errors["a"], &pe) {
		t.Fatalf("error %v is not a PanicError", res.Errors["a"])
	}
	msg := res.Errors["a"].Error()
	if !strings.Contains(msg, "nil map") || !strings.Contains(msg, "walk_test.go:") {
		t.Errorf("error %q should name the panic and where it happened", msg)
	}
}
