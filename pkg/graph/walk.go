// Package graph walks a dependency graph, running independent nodes in parallel.
package graph

import (
	"context"
	"fmt"
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
			if err := fn(ctx, n); err != nil {
				set(Failed, err)
				return
			}
			set(Done, nil)
		}(n)
	}
	wg.Wait()
	return res
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
