package plan

import (
	"fmt"
	"path/filepath"
	"sort"

	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/schema"
	"github.com/c4sctl/c4sctl/pkg/spec"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// keysOf lists the remote objects a planned change stands for: the natural keys of its
// configuration and of its live object (schema.Resource.Identity), and its live id. One entry
// per key; a whole owner wins over a part.
func keysOf(rc *ResourceChange, inConfig bool) []schema.ObjectKey {
	if rc.Data || rc.Schema == nil {
		return nil
	}
	var all []schema.ObjectKey
	if inConfig && rc.Config != cty.NilVal {
		all = append(all, rc.Schema.Keys(rc.Config)...)
	}
	live := rc.Before != cty.NilVal && rc.Before.IsKnown() && !rc.Before.IsNull()
	if live {
		all = append(all, rc.Schema.Keys(rc.Before)...)
		if rc.ID != "" {
			all = append(all, schema.ObjectKey{Key: rc.Type + ":id:" + rc.Schema.IDKey(rc.ID), Label: fmt.Sprintf("the %s with id %s", rc.Type, rc.ID)})
		}
	}
	byKey := map[string]int{}
	var out []schema.ObjectKey
	for _, k := range all {
		if i, ok := byKey[k.Key]; ok {
			if out[i].Part && !k.Part {
				out[i] = k
			}
			continue
		}
		byKey[k.Key] = len(out)
		out = append(out, k)
	}
	return out
}

// checkIdentities refuses a plan in which two addresses stand for one remote object, in
// configuration or in state: each apply would undo the other's changes, or one would destroy
// what the other manages. It also refuses a resource that acts on part of an object another
// resource owns whole. An address that left the configuration while another one finds its
// object "looks like a move": plan refuses to destroy or forget it until the admin says which
// (a moved block, or `c4sctl state rm`).
func (p *Planner) checkIdentities(changes []*ResourceChange) hcl.Diagnostics {
	type holder struct {
		rc  *ResourceChange
		key schema.ObjectKey
	}
	byKey := map[string][]holder{}
	var keys []string
	for _, rc := range changes {
		if rc.Action == providers.Forget && (rc.Before == cty.NilVal || rc.Before.IsNull()) {
			continue // the object is gone: nothing to fight over
		}
		for _, k := range keysOf(rc, p.Config.Resources[rc.Addr] != nil) {
			if byKey[k.Key] == nil {
				keys = append(keys, k.Key)
			}
			byKey[k.Key] = append(byKey[k.Key], holder{rc, k})
		}
	}
	sort.Strings(keys)
	var diags hcl.Diagnostics
	reported := map[string]bool{}
	for _, key := range keys {
		hs := byKey[key]
		for i := 0; i < len(hs); i++ {
			for j := i + 1; j < len(hs); j++ {
				a, b := hs[i], hs[j]
				if a.rc.Addr == b.rc.Addr || !a.key.Conflicts(b.key) {
					continue
				}
				if a.rc.Addr > b.rc.Addr {
					a, b = b, a
				}
				pair := a.rc.Addr + " " + b.rc.Addr
				if reported[pair] {
					continue
				}
				reported[pair] = true
				diags = append(diags, p.conflict(a.rc, a.key, b.rc, b.key))
			}
		}
	}
	return diags
}

// conflict describes two addresses that stand for one object.
func (p *Planner) conflict(a *ResourceChange, ak schema.ObjectKey, b *ResourceChange, bk schema.ObjectKey) *hcl.Diagnostic {
	ra, rb := p.Config.Resources[a.Addr], p.Config.Resources[b.Addr]
	label := ak.Label
	if label == "" {
		label = bk.Label
	}
	where := func(addr string) string {
		if r := p.Config.Resources[addr]; r != nil {
			return fmt.Sprintf("%s (%s:%d)", addr, filepath.Base(r.DeclRange.Filename), r.DeclRange.Start.Line)
		}
		return addr + " (in state only)"
	}
	switch {
	case ra != nil && rb != nil:
		d := &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Two resources for one object", Subject: rb.DeclRange.Ptr()}
		switch {
		case ak.Part && !bk.Part:
			d.Detail = fmt.Sprintf("%s acts on %s, which %s manages whole: each apply would undo the other's changes. Leave the object to one of them.", where(a.Addr), label, where(b.Addr))
		case bk.Part && !ak.Part:
			d.Detail = fmt.Sprintf("%s acts on %s, which %s manages whole: each apply would undo the other's changes. Leave the object to one of them.", where(b.Addr), label, where(a.Addr))
		default:
			d.Detail = fmt.Sprintf("%s and %s both stand for %s: each apply would undo the other's changes. Keep one resource block for it.", where(a.Addr), where(b.Addr), label)
		}
		return d
	case ra == nil && rb == nil:
		return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Two addresses in state for one object",
			Detail: fmt.Sprintf("State records both %s and %s for %s. Run `c4sctl state rm` on the address that should not manage it.", a.Addr, b.Addr, label)}
	}
	gone, kept := a, b // gone left the configuration; kept is declared
	if ra != nil {
		gone, kept = b, a
	}
	rk := p.Config.Resources[kept.Addr]
	if p.st.Get(kept.Addr) != nil {
		return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Two addresses in state for one object", Subject: rk.DeclRange.Ptr(),
			Detail: fmt.Sprintf("State records both %s and %s for %s; %s is no longer in the configuration, and the plan would %s an object %s manages. Run `c4sctl state rm %s` to stop managing it under the old address.", where(kept.Addr), gone.Addr, label, gone.Addr, verb(gone.Action), kept.Addr, gone.Addr)}
	}
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Looks like a move", Subject: rk.DeclRange.Ptr(),
		Detail: fmt.Sprintf("%s is no longer in the configuration, and %s finds the same object (%s). This looks like a move, and plan will not %s an object that another address of the configuration stands for. Declare which it is:\n\n  moved {\n    from = %s\n    to   = %s\n  }\n\nor run `c4sctl state rm %s` to stop managing it under the old address (%s then imports it).",
			gone.Addr, where(kept.Addr), label, verb(gone.Action), gone.Addr, kept.Addr, gone.Addr, kept.Addr)}
}

func verb(a providers.Action) string {
	if a == providers.Forget {
		return "stop managing"
	}
	return "destroy"
}

// orderLiteralNames makes apply create an object before a resource that names it by a literal
// string (schema.Resource.References) and notes the reference the configuration could use
// instead. It does not add an order that would close a cycle.
func orderLiteralNames(changes []*ResourceChange, inConfig func(string) bool) {
	creates := map[string][]*ResourceChange{}
	for _, rc := range changes {
		if rc.Action != providers.Create || !inConfig(rc.Addr) {
			continue
		}
		for _, k := range keysOf(rc, true) {
			if !k.Part {
				creates[k.Key] = append(creates[k.Key], rc)
			}
		}
	}
	if len(creates) == 0 {
		return
	}
	byAddr := map[string]*ResourceChange{}
	for _, rc := range changes {
		byAddr[rc.Addr] = rc
	}
	dependsOn := func(from, to string) bool { // from waits for to, directly or not
		seen := map[string]bool{}
		var walk func(string) bool
		walk = func(a string) bool {
			if a == to {
				return true
			}
			if seen[a] || byAddr[a] == nil {
				return false
			}
			seen[a] = true
			for _, d := range byAddr[a].DependsOn {
				if walk(d) {
					return true
				}
			}
			return false
		}
		return walk(from)
	}
	for _, rc := range changes {
		if rc.Data || rc.Schema == nil || !inConfig(rc.Addr) {
			continue
		}
		for _, ref := range rc.Schema.ReferencedKeys(rc.Config) {
			for _, owner := range creates[ref.Key] {
				if owner.Addr == rc.Addr || dependsOn(rc.Addr, owner.Addr) || dependsOn(owner.Addr, rc.Addr) {
					continue
				}
				rc.DependsOn = append(rc.DependsOn, owner.Addr)
				ownerAttr := ""
				for _, k := range keysOf(owner, true) {
					if k.Key == ref.Key && k.Attr != "" {
						ownerAttr = "." + k.Attr
					}
				}
				rc.Notes = append(rc.Notes, fmt.Sprintf("%s names %s by a literal string, and %s creates it in this plan: apply creates it first. Write %s%s there instead, so that the configuration says so.",
					ref.Attr, ref.Label, owner.Addr, owner.Addr, ownerAttr))
			}
		}
	}
}

// literalDeps finds, before anything is read, the resources whose configuration names by
// literal string (schema References) an object another selected resource's configuration
// declares (schema Identity), evaluated with every reference unknown. The planner plans the
// dependent after its target; orderLiteralNames decides afterwards whether apply must order
// them too. No order is added that would close a cycle.
func (p *Planner) literalDeps(order []string) map[string][]string {
	configs := map[string]cty.Value{}
	owners := map[string][]string{}
	for _, addr := range order {
		r := p.Config.Resources[addr]
		if r == nil || r.Mode == spec.DataResource || r.Schema == nil || (r.Schema.Identity == nil && r.Schema.References == nil) {
			continue
		}
		v, _, diags := p.Eval.ResourceConfig(r, map[string]cty.Value{})
		if diags.HasErrors() {
			continue // reported when the resource is planned
		}
		configs[addr] = v
		for _, k := range r.Schema.Keys(v) {
			if !k.Part {
				owners[k.Key] = append(owners[k.Key], addr)
			}
		}
	}
	out := map[string][]string{}
	reaches := func(from, to string) bool { // from already waits for to
		seen := map[string]bool{}
		var walk func(string) bool
		walk = func(a string) bool {
			if a == to {
				return true
			}
			if seen[a] {
				return false
			}
			seen[a] = true
			for _, d := range append(append([]string(nil), p.Config.Dependencies(a)...), out[a]...) {
				if walk(d) {
					return true
				}
			}
			return false
		}
		return walk(from)
	}
	for _, addr := range order {
		v, ok := configs[addr]
		if !ok {
			continue
		}
		for _, ref := range p.Config.Resources[addr].Schema.ReferencedKeys(v) {
			for _, owner := range owners[ref.Key] {
				if owner != addr && !reaches(addr, owner) && !reaches(owner, addr) {
					out[addr] = append(out[addr], owner)
				}
			}
		}
	}
	return out
}
