package planfile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/c4sctl/c4sctl/pkg/plan"
	"github.com/c4sctl/c4sctl/pkg/providers"
)

// touched tells whether applying a change of this action reads or writes the live object, so
// that a change to it since the plan makes the plan stale.
func touched(a string) bool {
	switch providers.Action(a) {
	case providers.NoOp, providers.Deferred:
		return false
	}
	return true
}

// Stale compares a saved plan with a fresh plan of the same configuration (fresh, with its
// document freshDoc and fingerprints) and returns, per address, what changed since the plan was
// saved: a live object it touches changed, or an action differs. Empty means the saved plan still
// holds and may be applied as it is.
func Stale(saved *File, freshDoc *plan.JSONPlan, freshFP map[string]string) []string {
	var out []string
	fresh := map[string]plan.JSONResourceChange{}
	for _, rc := range freshDoc.ResourceChanges {
		fresh[rc.Address] = rc
	}
	old := map[string]bool{}
	for _, s := range saved.Plan.ResourceChanges {
		old[s.Address] = true
		f, ok := fresh[s.Address]
		if !ok {
			out = append(out, fmt.Sprintf("%s: was planned to %s, but is no longer in the plan", s.Address, s.Action))
			continue
		}
		if touched(s.Action) && saved.Fingerprints[s.Address] != freshFP[s.Address] {
			out = append(out, fmt.Sprintf("%s: the live object changed since the plan (%s)", s.Address, describeBefore(s, f)))
			continue
		}
		if s.Action != f.Action {
			out = append(out, fmt.Sprintf("%s: was planned to %s, would now %s", s.Address, s.Action, f.Action))
			continue
		}
		if a, b := changedNames(s), changedNames(f); a != b {
			out = append(out, fmt.Sprintf("%s: the planned attribute changes differ (saved: %s; now: %s)", s.Address, orNone(a), orNone(b)))
		}
	}
	for _, f := range freshDoc.ResourceChanges {
		if !old[f.Address] {
			out = append(out, fmt.Sprintf("%s: not in the saved plan, would now %s", f.Address, f.Action))
		}
	}
	return out
}

func changedNames(rc plan.JSONResourceChange) string {
	var names []string
	for _, c := range rc.Changed {
		names = append(names, c.Name)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// describeBefore names the attributes whose (non-sensitive) live values differ between the saved
// and the fresh plan, with both values.
func describeBefore(saved, fresh plan.JSONResourceChange) string {
	if isNull(saved.Before) && !isNull(fresh.Before) {
		return "it did not exist, now it does"
	}
	if !isNull(saved.Before) && isNull(fresh.Before) {
		return "it existed, now it does not"
	}
	var a, b map[string]json.RawMessage
	_ = json.Unmarshal(saved.Before, &a)
	_ = json.Unmarshal(fresh.Before, &b)
	var parts []string
	for name, av := range a {
		if bv, ok := b[name]; ok && !bytes.Equal(compact(av), compact(bv)) {
			parts = append(parts, fmt.Sprintf("%s was %s, is now %s", name, compact(av), compact(bv)))
		}
	}
	sort.Strings(parts)
	if len(parts) == 0 {
		return "its values differ"
	}
	return strings.Join(parts, "; ")
}

func isNull(raw json.RawMessage) bool {
	return len(raw) == 0 || string(raw) == "null"
}

func compact(raw json.RawMessage) []byte {
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return raw
	}
	return buf.Bytes()
}
