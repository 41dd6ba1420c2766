package spec

import (
	"sort"
	"strconv"
	"strings"

	"github.com/zclconf/go-cty/cty"
)

// RedactedValue replaces a sensitive value in provider texts.
const RedactedValue = "(sensitive value)"

// minRedacted is the shortest sensitive string Redact replaces: shorter ones ("a", "1") would
// shred unrelated text while hiding little.
const minRedacted = 4

// SensitiveStrings returns the text of every sensitive variable's value (strings, numbers, and
// those inside collections), longest first: what provider error, warning and note texts must not
// show, since a provider quotes the configuration it was given (an assignee_filter, a name).
func (e *Evaluator) SensitiveStrings() []string {
	seen := map[string]bool{}
	var out []string
	var walk func(v cty.Value)
	walk = func(v cty.Value) {
		v, _ = v.UnmarkDeep()
		if v == cty.NilVal || v.IsNull() || !v.IsKnown() {
			return
		}
		switch {
		case v.Type() == cty.String:
			if s := v.AsString(); len(s) >= minRedacted && !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		case v.Type() == cty.Number:
			if s := v.AsBigFloat().Text('f', -1); len(s) >= minRedacted && !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		case v.CanIterateElements():
			for it := v.ElementIterator(); it.Next(); {
				_, ev := it.Element()
				walk(ev)
			}
		}
	}
	for name, v := range e.vars {
		if decl := e.cfg.Variables[name]; decl != nil && decl.Sensitive {
			walk(v)
		}
	}
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) || len(out[i]) == len(out[j]) && out[i] < out[j] })
	return out
}

// Redact replaces each of secrets in s (as it is, and as Go quotes it inside a %q) with
// RedactedValue.
func Redact(s string, secrets []string) string {
	for _, x := range secrets {
		if x == "" {
			continue
		}
		s = strings.ReplaceAll(s, x, RedactedValue)
		if q := strconv.Quote(x); q[1:len(q)-1] != x {
			s = strings.ReplaceAll(s, q[1:len(q)-1], RedactedValue)
		}
	}
	return s
}
