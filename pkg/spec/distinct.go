package spec

import (
	"strings"

	"github.com/c4sctl/c4sctl/pkg/schema"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// The configuration may not say one thing twice. HCL keeps the last of two equal keys in an
// object constructor, and a set keeps one of two equal elements, both silently; a connector
// listed in two groups of one DLP policy would be decided by whichever group apply writes last.
// These checks run wherever a block is evaluated (validate, plan), so the mistake is reported
// with its file and line before any API is called.

// duplicateKeys reports keys written twice in the object constructors of expr ({ a = 1, a = 2 }).
// Keys that are not constant (a reference in parentheses) are not compared.
func duplicateKeys(expr hcl.Expression) hcl.Diagnostics {
	se, ok := expr.(hclsyntax.Expression)
	if !ok {
		return nil
	}
	var diags hcl.Diagnostics
	hclsyntax.VisitAll(se, func(n hclsyntax.Node) hcl.Diagnostics {
		oc, ok := n.(*hclsyntax.ObjectConsExpr)
		if !ok {
			return nil
		}
		seen := map[string]hcl.Range{}
		for _, item := range oc.Items {
			key, ok := staticKey(item.KeyExpr)
			if !ok {
				continue
			}
			if prev, dup := seen[key]; dup {
				diags = append(diags, errorf(rangePtr(item.KeyExpr.Range()), "Duplicate key",
					"The key %q is set twice in this map (first on line %d), and only one value can hold: remove one of them.", key, prev.Start.Line))
				continue
			}
			seen[key] = item.KeyExpr.Range()
		}
		return nil
	})
	return diags
}

// staticKey evaluates expr without any variable; ok is false when it needs one or is not a
// string (or a number or bool, which HCL converts to a string key).
func staticKey(expr hcl.Expression) (string, bool) {
	v, d := expr.Value(nil)
	if d.HasErrors() || !v.IsWhollyKnown() || v.IsNull() {
		return "", false
	}
	v, _ = v.UnmarkDeep()
	s, err := convert.Convert(v, cty.String)
	if err != nil {
		return "", false
	}
	return s.AsString(), true
}

// element is one element of a collection attribute as written: its identifying key and where.
type element struct {
	key string
	rng hcl.Range
}

// elements lists the known elements of a list or set attribute (their Field when objects), or
// the keys of a map, each with the range of its expression where the literal shows it.
func elements(a *hcl.Attribute, raw cty.Value, field string) []element {
	if raw == cty.NilVal || raw.IsNull() || !raw.IsKnown() {
		return nil
	}
	t := raw.Type()
	var out []element
	switch {
	case t.IsListType() || t.IsSetType() || t.IsTupleType():
		var exprs []hclsyntax.Expression
		if tc, ok := a.Expr.(*hclsyntax.TupleConsExpr); ok && len(tc.Exprs) == raw.LengthInt() {
			exprs = tc.Exprs
		}
		i := 0
		for it := raw.ElementIterator(); it.Next(); i++ {
			_, e := it.Element()
			if field != "" {
				if !e.IsKnown() || e.IsNull() || !e.Type().IsObjectType() || !e.Type().HasAttribute(field) {
					continue
				}
				e = e.GetAttr(field)
			}
			if !e.IsKnown() || e.IsNull() {
				continue
			}
			s, err := convert.Convert(e, cty.String)
			if err != nil {
				continue
			}
			rng := a.Expr.Range()
			if exprs != nil {
				rng = exprs[i].Range()
			}
			out = append(out, element{key: s.AsString(), rng: rng})
		}
	case t.IsMapType() || t.IsObjectType():
		if oc, ok := a.Expr.(*hclsyntax.ObjectConsExpr); ok {
			for _, item := range oc.Items {
				if k, ok := staticKey(item.KeyExpr); ok {
					out = append(out, element{key: k, rng: item.KeyExpr.Range()})
				}
			}
			return out
		}
		for it := raw.ElementIterator(); it.Next(); {
			k, _ := it.Element()
			out = append(out, element{key: k.AsString(), rng: a.Expr.Range()})
		}
	}
	return out
}

// checkRepeats reports what a block says twice: an element repeated in a set attribute (a set
// would silently keep one), and anything a schema.Distinct group of the resource names twice.
// raw holds each attribute's value before conversion to its schema type.
func checkRepeats(attrs hcl.Attributes, sattrs []*schema.Attribute, distinct []schema.Distinct, raw map[string]cty.Value) hcl.Diagnostics {
	var diags hcl.Diagnostics
	inGroup := map[string]bool{}
	for _, g := range distinct {
		for _, n := range g.Attributes {
			inGroup[n] = true
		}
	}
	for _, sa := range sattrs {
		a := attrs[sa.Name]
		if a == nil || !sa.Type.IsSetType() || inGroup[sa.Name] || sa.Sensitive {
			continue
		}
		seen := map[string]string{} // key -> the element as first written
		for _, e := range elements(a, raw[sa.Name], "") {
			k := e.key
			if sa.Caseless {
				// The service compares these without case: two spellings are one element.
				k = strings.ToLower(k)
			}
			if first, dup := seen[k]; dup {
				if first == e.key {
					diags = append(diags, errorf(rangePtr(e.rng), "Duplicate element",
						"%q is listed twice in %s; a set holds it once: remove the repetition.", e.key, sa.Name))
				} else {
					diags = append(diags, errorf(rangePtr(e.rng), "Duplicate element",
						"%q and %q in %s are one value (the service compares them without case): remove the repetition.", first, e.key, sa.Name))
				}
				continue
			}
			seen[k] = e.key
		}
	}
	for _, g := range distinct {
		what := g.What
		if what == "" {
			what = "element"
		}
		first := map[string]string{} // key -> attribute that names it first
		for _, name := range g.Attributes {
			a := attrs[name]
			if a == nil {
				continue
			}
			for _, e := range elements(a, raw[name], g.Field) {
				k := e.key
				if g.Key != nil {
					k = g.Key(k)
				}
				prev, dup := first[k]
				switch {
				case !dup:
					first[k] = name
				case prev == name:
					diags = append(diags, errorf(rangePtr(e.rng), "Duplicate "+what,
						"%s %q is named twice in %s: remove the repetition.", capitalize(what), e.key, name))
				default:
					diags = append(diags, errorf(rangePtr(e.rng), "Duplicate "+what,
						"%s %q is in both %s and %s; it can be in only one of %s.", capitalize(what), e.key, prev, name, strings.Join(g.Attributes, ", ")))
				}
			}
		}
	}
	return diags
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
