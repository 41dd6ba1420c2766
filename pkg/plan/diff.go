package plan

import (
	"strings"

	"github.com/c4sctl/c4sctl/pkg/schema"
	"github.com/zclconf/go-cty/cty"
)

// Managed lists the attributes the configuration manages: set (non-null) in config, not
// computed-only, and not ignored by lifecycle.ignore_changes.
func Managed(s *schema.Resource, config cty.Value, ignore []string) []string {
	if config.IsNull() || !config.IsKnown() {
		return nil
	}
	ign := map[string]bool{}
	for _, n := range ignore {
		ign[n] = true
	}
	var out []string
	for _, a := range s.Attributes {
		if ign[a.Name] || (a.Computed && !a.Optional && !a.Required) {
			continue
		}
		v := config.GetAttr(a.Name)
		if v.IsNull() {
			continue
		}
		out = append(out, a.Name)
	}
	return out
}

// liveManaged is managed less the Echo attributes: a change of those is a change of the
// configuration, never of the live object, so it is no drift.
func liveManaged(s *schema.Resource, managed []string) []string {
	echo := map[string]bool{}
	for _, a := range s.Attributes {
		if a.Echo {
			echo[a.Name] = true
		}
	}
	if len(echo) == 0 {
		return managed
	}
	out := make([]string, 0, len(managed))
	for _, n := range managed {
		if !echo[n] {
			out = append(out, n)
		}
	}
	return out
}

// Planned is the value an object will have: the live value with every managed attribute
// replaced by its configured value. For an object that does not exist yet, computed attributes
// the configuration leaves null are unknown until apply.
func Planned(s *schema.Resource, live, config cty.Value, managed []string) cty.Value {
	vals := map[string]cty.Value{}
	for _, a := range s.Attributes {
		switch {
		case !live.IsNull() && live.IsKnown():
			vals[a.Name] = live.GetAttr(a.Name)
		case a.Computed:
			vals[a.Name] = cty.UnknownVal(a.Type)
		default:
			vals[a.Name] = config.GetAttr(a.Name)
		}
	}
	for _, n := range managed {
		vals[n] = config.GetAttr(n)
	}
	return cty.ObjectVal(vals)
}

// Diff returns the attributes among names whose values differ between a and b. An unknown
// value differs from anything (it is known only after apply).
func Diff(names []string, a, b cty.Value) []AttrChange {
	var out []AttrChange
	for _, n := range names {
		av, bv := attr(a, n), attr(b, n)
		if !Equal(av, bv) {
			out = append(out, AttrChange{Name: n, Before: av, After: bv})
		}
	}
	return out
}

// SameToService reports whether a and b are one value to the service that stores the attribute:
// equal, or equal once "" is null (EmptyIsNull) and case is folded (Caseless).
func SameToService(a *schema.Attribute, x, y cty.Value) bool {
	if Equal(x, y) {
		return true
	}
	if a == nil || (!a.Caseless && !a.EmptyIsNull) {
		return false
	}
	norm := func(v cty.Value) cty.Value {
		if a.EmptyIsNull && !v.IsNull() && v.IsKnown() && v.Type() == cty.String && v.AsString() == "" {
			return cty.NullVal(cty.String)
		}
		if a.Caseless {
			return foldCase(v)
		}
		return v
	}
	return Equal(norm(x), norm(y))
}

// foldCase lower-cases the strings of v: the value itself, set and list elements, map keys and
// values.
func foldCase(v cty.Value) cty.Value {
	if v.IsNull() || !v.IsWhollyKnown() {
		return v
	}
	ty := v.Type()
	switch {
	case ty == cty.String:
		return cty.StringVal(strings.ToLower(v.AsString()))
	case ty.IsSetType() || ty.IsListType():
		var els []cty.Value
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			els = append(els, foldCase(e))
		}
		if len(els) == 0 {
			return v
		}
		if ty.IsSetType() {
			return cty.SetVal(els)
		}
		return cty.ListVal(els)
	case ty.IsMapType():
		m := map[string]cty.Value{}
		for it := v.ElementIterator(); it.Next(); {
			k, e := it.Element()
			m[strings.ToLower(k.AsString())] = foldCase(e)
		}
		if len(m) == 0 {
			return v
		}
		return cty.MapVal(m)
	}
	return v
}

// Equal compares two values of possibly different but convertible types (a number given as
// 1 and read as 1.0, a tuple from configuration and a list from the API).
func Equal(a, b cty.Value) bool {
	if a.IsNull() && b.IsNull() {
		return true
	}
	if a.IsNull() != b.IsNull() {
		return false
	}
	if !a.IsWhollyKnown() || !b.IsWhollyKnown() {
		return false
	}
	if !a.Type().Equals(b.Type()) {
		return a.Type().FriendlyName() == b.Type().FriendlyName() && a.GoString() == b.GoString()
	}
	eq := a.Equals(b)
	return eq.IsKnown() && eq.True()
}

func attr(v cty.Value, name string) cty.Value {
	if v == cty.NilVal || v.IsNull() || !v.IsKnown() || !v.Type().IsObjectType() || !v.Type().HasAttribute(name) {
		return cty.NullVal(cty.DynamicPseudoType)
	}
	return v.GetAttr(name)
}

// Within is v restricted to the elements cfg names: the members of a set that cfg's set holds,
// the keys of a map that cfg's map holds (and, for a map of sets, each set within cfg's set
// for its key); compared without case when the attribute is Caseless. v is returned as it is
// when either is null or unknown, or v is of another type.
func Within(a *schema.Attribute, v, cfg cty.Value) cty.Value {
	if v.IsNull() || cfg.IsNull() || !v.IsWhollyKnown() || !cfg.IsWhollyKnown() {
		return v
	}
	key := func(s string) string {
		if a != nil && a.Caseless {
			return strings.ToLower(s)
		}
		return s
	}
	ty := v.Type()
	switch {
	case ty.IsSetType() && ty.ElementType() == cty.String && cfg.CanIterateElements():
		named := map[string]bool{}
		for it := cfg.ElementIterator(); it.Next(); {
			_, e := it.Element()
			if e.Type() == cty.String && !e.IsNull() {
				named[key(e.AsString())] = true
			}
		}
		var keep []cty.Value
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			if !e.IsNull() && named[key(e.AsString())] {
				keep = append(keep, e)
			}
		}
		if len(keep) == 0 {
			return cty.SetValEmpty(cty.String)
		}
		return cty.SetVal(keep)
	case ty.IsMapType() && (cfg.Type().IsMapType() || cfg.Type().IsObjectType()):
		named := map[string]cty.Value{}
		for it := cfg.ElementIterator(); it.Next(); {
			k, e := it.Element()
			named[key(k.AsString())] = e
		}
		keep := map[string]cty.Value{}
		for it := v.ElementIterator(); it.Next(); {
			k, e := it.Element()
			if c, ok := named[key(k.AsString())]; ok {
				keep[k.AsString()] = Within(a, e, c)
			}
		}
		if len(keep) == 0 {
			return cty.MapValEmpty(ty.ElementType())
		}
		return cty.MapVal(keep)
	}
	return v
}
