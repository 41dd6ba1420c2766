package plan

import (
	"fmt"
	"sort"

	"github.com/c4sctl/c4sctl/pkg/spec"
	"github.com/c4sctl/c4sctl/pkg/state"
	"github.com/hashicorp/hcl/v2"
)

// moveState applies the configuration's moved blocks to a copy of st, before anything is
// diffed, as Terraform does (hashicorp/terraform internal/refactoring, move_execute.go): an
// object held under a moved block's from address is planned under the end of its chain. It
// returns the moved state and, for each moved object, its new address -> its address in st.
// Unlike Terraform, which skips a move onto an address that holds an object, c4sctl refuses
// it: the two objects would otherwise silently keep their places. A move whose from holds
// nothing does nothing (the move was already made, or the object never existed).
func moveState(cfg *spec.Config, st *state.State) (*state.State, map[string]string, hcl.Diagnostics) {
	if len(cfg.Moved) == 0 {
		return st, nil, nil
	}
	stmt := func(from string) *spec.Moved {
		for _, m := range cfg.Moved {
			if m.From == from {
				return m
			}
		}
		return nil
	}
	var diags hcl.Diagnostics
	prev := map[string]string{}
	for _, addr := range st.Addresses() {
		to := cfg.MoveTarget(addr)
		if to == "" {
			continue
		}
		m := stmt(addr)
		if other, dup := prev[to]; dup {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Two objects moved to one address",
				Detail:  fmt.Sprintf("The moved blocks move both %s and %s, which state holds, to %s; an address holds one object. Remove the statement that moves the one that should stay, or `c4sctl state rm` it.", other, addr, to),
				Subject: m.DeclRange.Ptr()})
			continue
		}
		if occ := st.Get(to); occ != nil && cfg.MoveTarget(to) == "" {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Move onto an occupied address",
				Detail:  fmt.Sprintf("This statement moves the object state holds at %s to %s, but state already holds an object there (id %s). If that object is no longer managed, run `c4sctl state rm %s` first; otherwise remove the moved block.", addr, to, occ.ID, to),
				Subject: m.DeclRange.Ptr()})
			continue
		}
		prev[to] = addr
	}
	if diags.HasErrors() || len(prev) == 0 {
		return st, nil, diags
	}
	out := st.Clone()
	for to, from := range prev {
		out.Get(from).Address = "\x00" + to // renamed in two steps: a chain may reuse an address
	}
	for _, r := range out.Resources {
		if len(r.Address) > 0 && r.Address[0] == 0 {
			r.Address = r.Address[1:]
		}
	}
	sort.Slice(out.Resources, func(i, j int) bool { return out.Resources[i].Address < out.Resources[j].Address })
	return out, prev, diags
}
