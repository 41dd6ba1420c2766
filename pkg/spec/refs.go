package spec

import (
	"container/heap"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// refContext says where an expression is, which decides what it may reference.
type refContext int

const (
	refAny      refContext = iota // resources, data sources, locals and outputs
	refProvider                   // provider blocks: var and local (locals not depending on resources)
	refVarOnly                    // variable validations: only the variable itself
)

// reservedRoots are Terraform reference roots c4sctl does not support; reported as such rather
// than as unknown resource types.
var reservedRoots = map[string]bool{"count": true, "each": true, "self": true, "path": true, "terraform": true, "module": true}

// traversalAddr returns the resource address a traversal starts with ("TYPE.NAME" or
// "data.TYPE.NAME"), or false when it is not a resource reference.
func traversalAddr(t hcl.Traversal) (string, bool) {
	if len(t) == 0 {
		return "", false
	}
	root := t.RootName()
	if root == "var" || root == "local" || root == "c4sctl" || reservedRoots[root] {
		return "", false
	}
	names := []string{root}
	want := 2
	if root == "data" {
		want = 3
	}
	for _, step := range t[1:] {
		if len(names) == want {
			break
		}
		a, ok := step.(hcl.TraverseAttr)
		if !ok {
			return "", false
		}
		names = append(names, a.Name)
	}
	if len(names) != want {
		return "", false
	}
	return strings.Join(names, "."), true
}

func (l *loader) validate() hcl.Diagnostics {
	cfg := l.cfg
	static, known := l.staticEvaluator()
	// staticCtx evaluates with every variable and resource unknown (of its type), so only
	// constant mistakes show; locals are evaluated too, so constant locals are checked where used.
	staticCtx := func(exprs []hcl.Expression) *hcl.EvalContext {
		ctx, _ := static.context(exprs, known)
		return ctx
	}

	diags := cfg.localCycles()
	localsOK := !diags.HasErrors()
	for _, name := range sortedKeys(cfg.Locals) {
		diags = append(diags, duplicateKeys(cfg.Locals[name].Expr)...)
		d := l.checkRefs(cfg.Locals[name].Expr, refAny, "")
		localsOK = localsOK && !d.HasErrors()
		diags = append(diags, d...)
	}
	if localsOK {
		// Each local once, so their own mistakes are reported once.
		var all []hcl.Expression
		for _, name := range sortedKeys(cfg.Locals) {
			all = append(all, &hclsyntax.ScopeTraversalExpr{Traversal: hcl.Traversal{hcl.TraverseRoot{Name: "local"}, hcl.TraverseAttr{Name: name}}})
		}
		_, d := static.context(all, known)
		diags = append(diags, d...)
		localsOK = !d.HasErrors()
	}
	for _, addr := range sortedKeys(cfg.Resources) {
		r := cfg.Resources[addr]
		var d hcl.Diagnostics
		for _, a := range sortedAttrs(r.attrs) {
			d = append(d, l.checkRefs(a.Expr, refAny, "")...)
		}
		for i, dep := range r.DependsOn {
			if _, ok := cfg.Resources[dep]; !ok && !l.unknownAddrs[dep] {
				d = append(d, errorf(rangePtr(r.dependsOnRanges[i]), "Reference to undeclared resource",
					"depends_on names %s, which is not declared.%s", dep, didYouMean(dep, sortedKeys(cfg.Resources))))
			}
		}
		diags = append(diags, d...)
		// Broken references or locals would only repeat the same problems.
		if !d.HasErrors() && localsOK {
			_, _, d = checkObject(r.attrs, r.Schema.Attributes, r.Schema.Distinct, staticCtx(exprsOf(r.attrs)), r.missing, r.Type)
			diags = append(diags, d...)
		}
	}
	for _, name := range sortedKeys(cfg.Providers) {
		p := cfg.Providers[name]
		var d hcl.Diagnostics
		for _, a := range sortedAttrs(p.attrs) {
			d = append(d, l.checkRefs(a.Expr, refProvider, "")...)
		}
		diags = append(diags, d...)
		if !d.HasErrors() && localsOK {
			_, _, d = checkObject(p.attrs, p.Schema.Attributes, nil, staticCtx(exprsOf(p.attrs)), p.missing, "provider "+name)
			diags = append(diags, d...)
		}
	}
	for _, name := range sortedKeys(cfg.Outputs) {
		o := cfg.Outputs[name]
		diags = append(diags, duplicateKeys(o.Expr)...)
		d := l.checkRefs(o.Expr, refAny, "")
		diags = append(diags, d...)
		if !d.HasErrors() && localsOK {
			_, d = o.Expr.Value(staticCtx([]hcl.Expression{o.Expr}))
			diags = append(diags, d...)
		}
	}
	for _, name := range sortedKeys(cfg.Variables) {
		for _, v := range cfg.Variables[name].Validations {
			diags = append(diags, l.checkRefs(v.Condition, refVarOnly, name)...)
			diags = append(diags, l.checkRefs(v.ErrorMessage, refVarOnly, name)...)
		}
	}
	return diags
}

// checkRefs reports references to things that are not declared, or not allowed where expr is.
func (l *loader) checkRefs(expr hcl.Expression, where refContext, self string) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, t := range expr.Variables() {
		diags = append(diags, l.checkTraversal(t, where, self)...)
	}
	return diags
}

func (l *loader) checkTraversal(t hcl.Traversal, where refContext, self string) hcl.Diagnostics {
	cfg := l.cfg
	rng := t.SourceRange()
	root := t.RootName()
	attrAt := func(i int) (string, bool) {
		if i >= len(t) {
			return "", false
		}
		a, ok := t[i].(hcl.TraverseAttr)
		return a.Name, ok
	}
	switch {
	case root == "var":
		name, ok := attrAt(1)
		if !ok {
			return hcl.Diagnostics{errorf(&rng, "Invalid reference", "A reference to an input variable must be written var.NAME.")}
		}
		if where == refVarOnly && name != self {
			return hcl.Diagnostics{errorf(&rng, "Invalid reference in variable validation",
				"The validation rules of variable %q can refer only to the variable itself, as var.%s.", self, self)}
		}
		if _, ok := cfg.Variables[name]; !ok {
			return hcl.Diagnostics{errorf(&rng, "Reference to undeclared input variable",
				"An input variable named %q has not been declared; declare it with a variable %q {} block.%s",
				name, name, didYouMean(name, sortedKeys(cfg.Variables)))}
		}
		return nil
	case root == "c4sctl" && where != refVarOnly:
		if name, ok := attrAt(1); !ok || name != "workspace" {
			return hcl.Diagnostics{errorf(&rng, "Invalid reference", "The only c4sctl value is c4sctl.workspace, the selected workspace's name.")}
		}
		return nil
	case where == refVarOnly:
		return hcl.Diagnostics{errorf(&rng, "Invalid reference in variable validation",
			"The validation rules of variable %q can refer only to the variable itself, as var.%s.", self, self)}
	case root == "local":
		name, ok := attrAt(1)
		if !ok {
			return hcl.Diagnostics{errorf(&rng, "Invalid reference", "A reference to a local value must be written local.NAME.")}
		}
		if _, ok := cfg.Locals[name]; !ok {
			return hcl.Diagnostics{errorf(&rng, "Reference to undeclared local value",
				"A local value named %q has not been declared.%s", name, didYouMean(name, sortedKeys(cfg.Locals)))}
		}
		if where == refProvider {
			if deps := cfg.localResourceDeps(name); len(deps) > 0 {
				return hcl.Diagnostics{errorf(&rng, "Invalid provider configuration reference",
					"Provider blocks can refer only to input variables and to local values that do not depend on resources; local.%s depends on %s.",
					name, strings.Join(deps, ", "))}
			}
		}
		return nil
	case reservedRoots[root]:
		return hcl.Diagnostics{errorf(&rng, "Invalid reference", "%q references are not supported in c4sctl configuration.", root)}
	case where == refProvider:
		return hcl.Diagnostics{errorf(&rng, "Invalid provider configuration reference",
			"Provider blocks can refer only to input variables (var.NAME) and local values (local.NAME), not to resources.")}
	}
	addr, ok := traversalAddr(t)
	if !ok {
		if root == "data" {
			return hcl.Diagnostics{errorf(&rng, "Invalid reference", "A reference to a data source must be written data.TYPE.NAME.")}
		}
		return hcl.Diagnostics{errorf(&rng, "Invalid reference",
			"%q is not a known reference: write var.NAME, local.NAME, TYPE.NAME or data.TYPE.NAME (strings must be quoted).", root)}
	}
	if l.unknownAddrs[addr] {
		return nil
	}
	r := cfg.Resources[addr]
	if r == nil {
		kind := "managed resource"
		if root == "data" {
			kind = "data source"
		}
		return hcl.Diagnostics{errorf(&rng, "Reference to undeclared resource",
			"A %s %s has not been declared.%s", kind, addr, didYouMean(addr, sortedKeys(cfg.Resources)))}
	}
	rest := t[strings.Count(addr, ".")+1:]
	if len(rest) == 0 {
		return nil
	}
	var name string
	switch s := rest[0].(type) {
	case hcl.TraverseAttr:
		name = s.Name
	case hcl.TraverseIndex:
		if s.Key.Type() == cty.String && s.Key.IsKnown() && !s.Key.IsNull() {
			name = s.Key.AsString()
		}
	}
	a := r.Schema.Attribute(name)
	if a == nil {
		srng := rest[0].SourceRange()
		return hcl.Diagnostics{errorf(&srng, "Unsupported attribute",
			"%s has no attribute named %q.%s", r.Type, name, didYouMean(name, r.Schema.AttributeNames()))}
	}
	// Deeper steps: suggest among an object's attribute names, as for the first step.
	ty := a.Type
	for _, step := range rest[1:] {
		if at, ok := step.(hcl.TraverseAttr); ok && ty.IsObjectType() && !ty.HasAttribute(at.Name) {
			srng := step.SourceRange()
			var names []string
			for n := range ty.AttributeTypes() {
				names = append(names, n)
			}
			sort.Strings(names)
			return hcl.Diagnostics{errorf(&srng, "Unsupported attribute",
				"This object has no attribute named %q; its attributes are %s.%s", at.Name, strings.Join(names, ", "), didYouMean(at.Name, names))}
		}
		v, diags := hcl.Traversal{step}.TraverseRel(cty.UnknownVal(ty))
		if diags.HasErrors() {
			return diags
		}
		ty = v.Type()
	}
	return nil
}

// localRefs returns the locals and resource addresses local name refers to directly.
func (c *Config) localRefs(name string) (locals, addrs []string) {
	l := c.Locals[name]
	if l == nil || l.Expr == nil {
		return nil, nil
	}
	return c.exprRefs(l.Expr)
}

func (c *Config) exprRefs(expr hcl.Expression) (locals, addrs []string) {
	for _, t := range expr.Variables() {
		if t.RootName() == "local" && len(t) > 1 {
			if a, ok := t[1].(hcl.TraverseAttr); ok {
				locals = append(locals, a.Name)
			}
			continue
		}
		if addr, ok := traversalAddr(t); ok {
			addrs = append(addrs, addr)
		}
	}
	return locals, addrs
}

// referencedAddrs returns the resource addresses exprs refer to, directly or through locals.
func (c *Config) referencedAddrs(exprs []hcl.Expression) []string {
	set := map[string]bool{}
	seen := map[string]bool{}
	for _, expr := range exprs {
		locals, addrs := c.exprRefs(expr)
		for _, a := range addrs {
			set[a] = true
		}
		for _, l := range locals {
			c.collectLocal(l, set, seen)
		}
	}
	out := make([]string, 0, len(set))
	for a := range set {
		out = append(out, a)
	}
	return out
}

// localResourceDeps returns the declared resources local name depends on, directly or
// through other locals, sorted.
func (c *Config) localResourceDeps(name string) []string {
	set := map[string]bool{}
	c.collectLocal(name, set, map[string]bool{})
	return sortedKeys(set)
}

func (c *Config) collectLocal(name string, set, seen map[string]bool) {
	if seen[name] {
		return
	}
	seen[name] = true
	locals, addrs := c.localRefs(name)
	for _, a := range addrs {
		if _, ok := c.Resources[a]; ok {
			set[a] = true
		}
	}
	for _, l := range locals {
		c.collectLocal(l, set, seen)
	}
}

// localCycles reports each cycle among local values once.
func (c *Config) localCycles() hcl.Diagnostics {
	var diags hcl.Diagnostics
	const (
		visiting = 1
		done     = 2
	)
	state := map[string]int{}
	var stack []string
	var visit func(n string)
	visit = func(n string) {
		state[n] = visiting
		stack = append(stack, n)
		locals, _ := c.localRefs(n)
		sort.Strings(locals)
		for _, m := range locals {
			if _, ok := c.Locals[m]; !ok {
				continue
			}
			switch state[m] {
			case 0:
				visit(m)
			case visiting:
				i := len(stack) - 1
				for stack[i] != m {
					i--
				}
				cycle := append([]string{}, stack[i:]...)
				cycle = append(cycle, m)
				for j := range cycle {
					cycle[j] = "local." + cycle[j]
				}
				diags = append(diags, errorf(rangePtr(c.Locals[m].DeclRange), "Dependency cycle",
					"Local values refer to each other in a cycle: %s.", strings.Join(cycle, " -> ")))
			}
		}
		stack = stack[:len(stack)-1]
		state[n] = done
	}
	for _, n := range sortedKeys(c.Locals) {
		if state[n] == 0 {
			visit(n)
		}
	}
	return diags
}

// Dependencies returns the addresses (sorted, deduplicated) of the declared resources addr
// depends on: references in its body, through locals too, plus depends_on.
func (c *Config) Dependencies(addr string) []string {
	r := c.Resources[addr]
	if r == nil {
		return nil
	}
	set := map[string]bool{}
	seen := map[string]bool{}
	for _, a := range r.attributes() {
		locals, addrs := c.exprRefs(a.Expr)
		for _, d := range addrs {
			if _, ok := c.Resources[d]; ok {
				set[d] = true
			}
		}
		for _, l := range locals {
			c.collectLocal(l, set, seen)
		}
	}
	for _, d := range r.DependsOn {
		if _, ok := c.Resources[d]; ok {
			set[d] = true
		}
	}
	return sortedKeys(set)
}

// attributes returns the body's attributes: those decoded by Load, or, for a Resource built
// by hand, whatever the body holds.
func (r *Resource) attributes() hcl.Attributes {
	if r.attrs != nil || r.Config == nil {
		return r.attrs
	}
	attrs, _ := r.Config.JustAttributes()
	return attrs
}

func (p *Provider) attributes() hcl.Attributes {
	if p.attrs != nil || p.Config == nil {
		return p.attrs
	}
	attrs, _ := p.Config.JustAttributes()
	return attrs
}

// Order returns all resource addresses, dependencies first, ties broken by address. A cycle
// is an error naming its addresses.
func (c *Config) Order() ([]string, hcl.Diagnostics) {
	addrs := sortedKeys(c.Resources)
	deps := make(map[string][]string, len(addrs))
	for _, a := range addrs {
		deps[a] = c.Dependencies(a)
	}
	// Kahn's algorithm with the ready addresses in a min-heap: at each step the smallest ready
	// address goes next, in O((resources + references) log resources).
	waiting := make(map[string]int, len(addrs)) // dependencies not placed yet
	dependants := make(map[string][]string, len(addrs))
	ready := &addrHeap{}
	for _, a := range addrs {
		seen := map[string]bool{}
		for _, d := range deps[a] {
			if _, ok := c.Resources[d]; !ok || seen[d] {
				continue
			}
			seen[d] = true
			waiting[a]++
			dependants[d] = append(dependants[d], a)
		}
		if waiting[a] == 0 {
			heap.Push(ready, a)
		}
	}
	done := make(map[string]bool, len(addrs))
	order := make([]string, 0, len(addrs))
	for ready.Len() > 0 {
		a := heap.Pop(ready).(string)
		done[a] = true
		order = append(order, a)
		for _, x := range dependants[a] {
			if waiting[x]--; waiting[x] == 0 {
				heap.Push(ready, x)
			}
		}
	}
	if len(order) < len(addrs) {
		cycle := findCycle(addrs, deps, done)
		r := c.Resources[cycle[0]]
		return nil, hcl.Diagnostics{errorf(rangePtr(r.DeclRange), "Dependency cycle",
			"Resources depend on each other in a cycle: %s. Remove one of the references or depends_on entries.",
			strings.Join(append(cycle, cycle[0]), " -> "))}
	}
	return order, nil
}

// addrHeap is a min-heap of addresses (container/heap).
type addrHeap []string

func (h addrHeap) Len() int           { return len(h) }
func (h addrHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h addrHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *addrHeap) Push(x any)        { *h = append(*h, x.(string)) }
func (h *addrHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// findCycle walks from the smallest pending address along pending dependencies (every pending
// node has one) until a node repeats; the cycle is rotated to start at its smallest address.
func findCycle(addrs []string, deps map[string][]string, done map[string]bool) []string {
	var start string
	for _, a := range addrs {
		if !done[a] {
			start = a
			break
		}
	}
	pos := map[string]int{}
	var path []string
	for n := start; ; {
		if i, ok := pos[n]; ok {
			path = path[i:]
			break
		}
		pos[n] = len(path)
		path = append(path, n)
		next := ""
		for _, d := range deps[n] {
			if !done[d] {
				next = d
				break
			}
		}
		if next == "" { // cannot happen: n would have been ready
			return path
		}
		n = next
	}
	min := 0
	for i := range path {
		if path[i] < path[min] {
			min = i
		}
	}
	return append(append([]string{}, path[min:]...), path[:min]...)
}
