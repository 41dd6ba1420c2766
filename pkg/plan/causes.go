package plan

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// Cause is attached to an error diagnostic raised by a provider's error (hcl.Diagnostic.Extra):
// the provider and the text of the innermost error of its %w chain. A wrong client secret fails
// every resource of a provider with the same sign-in error, and it was printed once per resource
// (the same 15 lines six times); DedupeCauses keeps one diagnostic per provider and cause.
type Cause struct {
	Provider string
	Root     string
}

// causeOf is the cause of err raised by provider (nil without a provider: not merged).
func causeOf(provider string, err error) *Cause {
	if provider == "" || err == nil {
		return nil
	}
	root := err
	for {
		next := errors.Unwrap(root)
		if next == nil {
			break
		}
		root = next
	}
	return &Cause{Provider: provider, Root: root.Error()}
}

// RootCause is the text of the innermost error of err's %w chain ("" for nil): what
// ResourceChange.Cause holds for a failed read.
func RootCause(err error) string {
	if c := causeOf("-", err); c != nil {
		return c.Root
	}
	return ""
}

// providerErrDiag is errDiag for an error a provider raised for addr.
func providerErrDiag(provider, addr, summary string, err error) hcl.Diagnostics {
	d := errDiag(addr, summary, err)
	if c := causeOf(provider, err); c != nil {
		d[0].Extra = c
	}
	return d
}

// sameCauseAs groups items by provider and cause, in order: it maps the index of each item whose
// Cause an earlier item shares to the index of the first such item. Items without a Cause (nil)
// are in no group. The one grouping behind DedupeCauses (diagnostics) and Plan.SameCause (reads
// that failed), so that an error is printed once per provider and cause wherever it surfaces.
func sameCauseAs[T any](items []T, cause func(T) *Cause) map[int]int {
	first := map[Cause]int{}
	out := map[int]int{}
	for i, it := range items {
		c := cause(it)
		if c == nil {
			continue
		}
		key := Cause{Provider: c.Provider, Root: causeKey(c.Root)}
		if f, ok := first[key]; ok {
			out[i] = f
			continue
		}
		first[key] = i
	}
	return out
}

// retriesGaveUp matches httpx's "gave up after N attempts in 7.8s" (and the same inside another
// library's text, such as azidentity's, which does not wrap it): each request's own count and
// time, which differ between the resources one unreachable host stops.
var retriesGaveUp = regexp.MustCompile(`gave up after \d+ attempts in [0-9.]+[a-zµ]+`)

// causeKey is the text by which causes are compared: the root error without what differs from
// one request to the next for the same cause (the retries' count and time), so that a host that
// refuses connections is one error per provider, as a wrong secret is.
func causeKey(root string) string {
	return retriesGaveUp.ReplaceAllString(root, "gave up after retries")
}

// DedupeCauses keeps the first error diagnostic of each provider and cause, saying which other
// objects the same error stopped; the rest are dropped. Diagnostics without a Cause are kept as
// they are.
func DedupeCauses(diags hcl.Diagnostics) hcl.Diagnostics {
	same := sameCauseAs(diags, func(d *hcl.Diagnostic) *Cause {
		if c, ok := d.Extra.(*Cause); ok && d.Severity == hcl.DiagError {
			return c
		}
		return nil
	})
	more := map[int][]string{}
	var out hcl.Diagnostics
	for i, d := range diags {
		if f, ok := same[i]; ok {
			addr, _, _ := strings.Cut(d.Detail, ": ")
			more[f] = append(more[f], addr)
			continue
		}
		out = append(out, d)
	}
	for f, addrs := range more {
		sort.Strings(addrs)
		diags[f].Detail += fmt.Sprintf("\n\nThe same error (provider %q) also stopped %d more: %s.", diags[f].Extra.(*Cause).Provider, len(addrs), strings.Join(addrs, ", "))
	}
	return out
}
