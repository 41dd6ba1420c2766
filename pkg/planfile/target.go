package planfile

import (
	"fmt"
	"sort"
	"strings"

	"github.com/c4sctl/c4sctl/pkg/providers"
)

// TargetMismatch compares where a saved plan (or a state file) was made with where this run
// signed in, provider by provider, and describes each difference naming both sides; empty when
// every provider signed in to the same target. A provider on one side only is a difference.
func TargetMismatch(saved, cur map[string]providers.Identity) []string {
	names := map[string]bool{}
	for n := range saved {
		names[n] = true
	}
	for n := range cur {
		names[n] = true
	}
	var ns []string
	for n := range names {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	var out []string
	for _, n := range ns {
		s, sok := saved[n]
		c, cok := cur[n]
		switch {
		case !sok:
			out = append(out, fmt.Sprintf("provider %s: not signed in then, now %s", n, c))
		case !cok:
			out = append(out, fmt.Sprintf("provider %s: signed in to %s then, not now", n, s))
		default:
			if d := s.Mismatch(c); len(d) > 0 {
				out = append(out, fmt.Sprintf("provider %s: %s", n, strings.Join(d, "; ")))
			}
		}
	}
	return out
}
