// Package graph walks a dependency graph, running independent nodes in parallel.
package graph

import (
	"context"
	"fmt"
	"runtime/debug"
	"strings"
	"sync"
)

// Status is the outcome of one node.
type Status int

const (
	Done    Status = iota // fn returned nil
	Failed                // fn returned an error
	Skipped               // a dependency failed or was skipped, or the context ended first
)

// Result is the outcome of a walk.
type Result struct {
	Status map[string]Status
	Errors map[string]error
}

// Walk calls fn for every node once all its dependencies are Done, at most concurrency at a
// time. A node whose dependency did not succeed is Skipped without calling fn; independent
// nodes still run. Dependencies outside nodes are ignored. nodes must be acyclic (the
// configuration decoder reports cycles); a cycle here would leave nodes Skipped, not hang.
func Walk(ctx context.Context, nodes []string, deps func(string) []string, concurrency int, fn func(ctx context.Context, node string) error) Result {
	if concurrency < 1 {
		concurrency = 1
	}
	in := map[string]bool{}
	for _, n := range nodes {
		in[n] = true
	}
	done := map[string]chan struct{}{}
	for _, n := range nodes {
		done[n] = make(chan struct{})
	}
	var mu sync.Mutex
	res := Result{Status: map[string]Status{}, Errors: map[string]error{}}
	sem := make(chan struct{}, concurrency)
	var wg sync.WaitGroup
	// Nodes that wait on each other in a cycle would block forever: detect by a watchdog of
	// progress is overkill; instead refuse cycles up front.
	if cyc := findCycle(nodes, deps, in); cyc != nil {
		for _, n := range nodes {
			res.Status[n] = Skipped
			res.Errors[n] = fmt.Errorf("dependency cycle: %v", cyc)
		}
		return res
	}
	for _, n := range nodes {
		wg.Add(1)
		go func(n string) {
			defer wg.Done()
			defer close(done[n])
			ok := true
			for _, d := range deps(n) {
				if !in[d] {
					continue
				}
				<-done[d]
				mu.Lock()
				if res.Status[d] != Done {
					ok = false
				}
				mu.Unlock()
			}
			set := func(s Status, err error) {
				mu.Lock()
				res.Status[n] = s
				if err != nil {
					res.Errors[n] = err
				}
				mu.Unlock()
			}
			if !ok {
				set(Skipped, nil)
				return
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				set(Skipped, ctx.Err())
				return
			}
			defer func() { <-sem }()
			if ctx.Err() != nil {
				set(Skipped, ctx.Err())
				return
			}
			if err := call(ctx, n, fn); err != nil {
				set(Failed, err)
				return
			}
			set(Done, nil)
		}(n)
	}
	wg.Wait()
	return res
}

// PanicError is a panic in a node's function, turned into that node's error: one resource's
// bug (a provider adapter indexing past a slice, a nil map) must not kill the walk, or the
// changes already made would go unrecorded and the state lock would stay held.
type PanicError struct {
	Value any
	// Where is the function and file:line that panicked (the first frame below the runtime's).
	Where string
}

func (e *PanicError) Error() string {
	if e.Where == "" {
		return fmt.Sprintf("internal error (panic): %v; this is a bug in c4sctl, please report it", e.Value)
	}
	return fmt.Sprintf("internal error (panic in %s): %v; this is a bug in c4sctl, please report it", e.Where, e.Value)
}

// call runs fn, turning a panic into a *PanicError.
func call(ctx context.Context, n string, fn func(context.Context, string) error) error {
	return Guard(func() error { return fn(ctx, n) })
}

// Guard runs fn and turns a panic in it into a *PanicError: callers that must finish their own
// bookkeeping after a provider call (report the change's end, stop its progress ticker) guard
// the call itself rather than rely on the walk's.
func Guard(fn func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Value: v, Where: panicSite(debug.Stack())}
		}
	}()
	return fn()
}

// panicSite picks the frame that panicked out of a goroutine stack: the first function after
// the runtime's panic frame, with its file:line.
func panicSite(stack []byte) string {
	lines := strings.Split(string(stack), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "panic(") && i+3 < len(lines) {
			fn := strings.TrimSpace(lines[i+2])
			if j := strings.LastIndex(fn, "("); j > 0 {
				fn = fn[:j]
			}
			loc := strings.TrimSpace(lines[i+3])
			if j := strings.LastIndex(loc, " +0x"); j > 0 {
				loc = loc[:j]
			}
			return fn + " at " + loc
		}
	}
	return ""
}

func findCycle(nodes []string, deps func(string) []string, in map[string]bool) []string {
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	var stack []string
	var cycle []string
	var visit func(n string) bool
	visit = func(n string) bool {
		color[n] = grey
		stack = append(stack, n)
		for _, d := range deps(n) {
			if !in[d] {
				continue
			}
			if color[d] == grey {
				for i, s := range stack {
					if s == d {
						cycle = append(append([]string{}, stack[i:]...), d)
					}
				}
				return true
			}
			if color[d] == white && visit(d) {
				return true
			}
		}
		stack = stack[:len(stack)-1]
		color[n] = black
		return false
	}
	for _, n := range nodes {
		if color[n] == white && visit(n) {
			return cycle
		}
	}
	return nil
}
