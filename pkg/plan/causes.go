package plan

import (
	"errors"
	"fmt"
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

// DedupeCauses keeps the first error diagnostic of each provider and cause, saying which other
// objects the same error stopped; the rest are dropped. Diagnostics without a Cause are kept as
// they are.
func DedupeCauses(diags hcl.Diagnostics) hcl.Diagnostics {
	type group struct {
		first *hcl.Diagnostic
		more  []string
	}
	groups := map[Cause]*group{}
	var out hcl.Diagnostics
	for _, d := range diags {
		c, ok := d.Extra.(*Cause)
		if !ok || c == nil || d.Severity != hcl.DiagError {
			out = append(out, d)
			continue
		}
		if g := groups[*c]; g != nil {
			addr, _, _ := strings.Cut(d.Detail, ": ")
			g.more = append(g.more, addr)
			continue
		}
		groups[*c] = &group{first: d}
		out = append(out, d)
	}
	for _, g := range groups {
		if len(g.more) == 0 {
			continue
		}
		c := g.first.Extra.(*Cause)
		sort.Strings(g.more)
		g.first.Detail += fmt.Sprintf("\n\nThe same error (provider %q) also stopped %d more: %s.", c.Provider, len(g.more), strings.Join(g.more, ", "))
	}
	return out
}
