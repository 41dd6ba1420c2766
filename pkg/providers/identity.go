package providers

import (
	"fmt"
	"sort"
	"strings"
)

// Identity says where a configured client signs in and sends its requests: tenant id, org id,
// instance and endpoint URLs, client ids (never a secret). Saved plans and state record the
// identities of the providers they were made with, and a run that signs in anywhere else is
// refused (docs/security.md).
type Identity map[string]string

// Identified is implemented by clients that can tell their Identity once configured.
type Identified interface {
	Identity() Identity
}

// Mismatch lists, for people, how cur differs from saved ("tenant_id: saved X, now Y"); empty
// when they name the same target. A key absent on one side counts as a difference only when the
// other side has a non-empty value for it.
func (saved Identity) Mismatch(cur Identity) []string {
	keys := map[string]bool{}
	for k := range saved {
		keys[k] = true
	}
	for k := range cur {
		keys[k] = true
	}
	var ks []string
	for k := range keys {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	var out []string
	for _, k := range ks {
		if saved[k] != cur[k] {
			out = append(out, fmt.Sprintf("%s: %s, now %s", k, orUnset(saved[k]), orUnset(cur[k])))
		}
	}
	return out
}

// String renders the identity as sorted key=value pairs.
func (id Identity) String() string {
	var ks []string
	for k := range id {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	var b strings.Builder
	for i, k := range ks {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s=%s", k, id[k])
	}
	return b.String()
}

func orUnset(s string) string {
	if s == "" {
		return "(unset)"
	}
	return s
}
