package spec

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// Moved is a `moved { from = ADDR  to = ADDR }` block: the object state holds under From is the
// one the configuration now declares as To. The planner moves it in state before diffing, so a
// renamed resource block plans no destroy and no create. Statements chain (a -> b, b -> c moves
// a's object to c). The rules are Terraform's (hashicorp/terraform internal/refactoring,
// move_validate.go): From is no longer declared, one destination per source and one source per
// destination, no cycle; c4sctl also requires both ends to be of the same resource type.
type Moved struct {
	From, To           string
	FromRange, ToRange hcl.Range
	DeclRange          hcl.Range
}

var movedSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "from", Required: true}, {Name: "to", Required: true}}}

func (l *loader) decodeMoved(b *hcl.Block) hcl.Diagnostics {
	content, diags := b.Body.Content(movedSchema)
	if diags.HasErrors() {
		return diags
	}
	m := &Moved{DeclRange: b.DefRange}
	for _, end := range []struct {
		name string
		addr *string
		rng  *hcl.Range
	}{{"from", &m.From, &m.FromRange}, {"to", &m.To, &m.ToRange}} {
		a := content.Attributes[end.name]
		*end.rng = a.Expr.Range()
		t, d := hcl.AbsTraversalForExpr(a.Expr)
		addr, ok := "", !d.HasErrors()
		if ok {
			addr, ok = traversalAddr(t)
		}
		if !ok || len(t) != strings.Count(addr, ".")+1 || strings.HasPrefix(addr, "data.") {
			diags = append(diags, errorf(rangePtr(a.Expr.Range()), "Invalid moved address",
				"%s must be a resource address like salesforce_permission_set.sellers, without quotes or attributes; data sources are read at every plan and never move.", end.name))
			continue
		}
		*end.addr = addr
	}
	if diags.HasErrors() {
		return diags
	}
	l.cfg.Moved = append(l.cfg.Moved, m)
	return diags
}

// validateMoved checks the moved blocks against each other and the resource blocks.
func (c *Config) validateMoved() hcl.Diagnostics {
	var diags hcl.Diagnostics
	byFrom := map[string]*Moved{}
	byTo := map[string]*Moved{}
	for _, m := range c.Moved {
		ft, tt := strings.SplitN(m.From, ".", 2)[0], strings.SplitN(m.To, ".", 2)[0]
		switch {
		case m.From == m.To:
			diags = append(diags, errorf(rangePtr(m.DeclRange), "Redundant move statement",
				"This statement declares a move from %s to the same address, which is the same as not declaring this move at all.", m.From))
			continue
		case ft != tt:
			diags = append(diags, errorf(rangePtr(m.ToRange), "Move to another resource type",
				"%s and %s are of different resource types: a moved block renames a resource block; an object of one type cannot become an object of another.", m.From, m.To))
			continue
		}
		if r := c.Resources[m.From]; r != nil {
			diags = append(diags, errorf(rangePtr(m.FromRange), "Moved object still exists",
				"This statement declares a move from %s, but that resource is still declared at %s.\n\nChange your configuration so that this resource will be declared as %s instead.", m.From, r.DeclRange, m.To))
		}
		if prev := byFrom[m.From]; prev != nil && prev.To != m.To {
			diags = append(diags, errorf(rangePtr(m.DeclRange), "Ambiguous move statements",
				"A statement at %s declared that %s moved to %s, but this statement instead declares that it moved to %s.\n\nEach resource can move to only one destination.", prev.DeclRange, m.From, prev.To, m.To))
		} else {
			byFrom[m.From] = m
		}
		if prev := byTo[m.To]; prev != nil && prev.From != m.From {
			diags = append(diags, errorf(rangePtr(m.DeclRange), "Ambiguous move statements",
				"A statement at %s declared that %s moved to %s, but this statement instead declares that %s moved there.\n\nEach resource can have moved from only one source.", prev.DeclRange, prev.From, m.To, m.From))
		} else {
			byTo[m.To] = m
		}
	}
	if diags.HasErrors() {
		return diags
	}
	// With one destination per source, following From -> To from any statement either ends or
	// comes back: a cycle, which leaves no final address to move the object to.
	reported := map[string]bool{}
	for _, start := range c.Moved {
		seen := map[string]bool{}
		var chain []*Moved
		for m := start; m != nil && !seen[m.From]; m = byFrom[m.To] {
			seen[m.From] = true
			chain = append(chain, m)
		}
		if byFrom[chain[len(chain)-1].To] == nil || reported[start.From] {
			continue
		}
		var lines []string
		for _, m := range chain {
			reported[m.From] = true
			lines = append(lines, fmt.Sprintf("\n  - %s: %s -> %s", m.DeclRange, m.From, m.To))
		}
		sort.Strings(lines)
		diags = append(diags, errorf(rangePtr(start.DeclRange), "Cyclic dependency in move statements",
			"The following chained move statements form a cycle, and so there is no final location to move objects to:%s\n\nA chain of move statements must end with an address that doesn't appear in any other statements, and which typically also refers to an object still declared in the configuration.", strings.Join(lines, "")))
	}
	return diags
}

// MoveTarget follows the moved statements from addr to the end of their chain: the address an
// object state holds under addr now belongs to, or "" when no statement moves addr. It assumes
// validated statements (no cycle).
func (c *Config) MoveTarget(addr string) string {
	to := ""
	for i := 0; i <= len(c.Moved); i++ {
		next := ""
		for _, m := range c.Moved {
			if m.From == addr {
				next = m.To
				break
			}
		}
		if next == "" {
			return to
		}
		to, addr = next, next
	}
	return to // unreachable for validated statements: a chain is at most len(Moved) long
}
