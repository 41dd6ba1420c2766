// Package schema declares the shape of every provider block and resource type once. Decoding,
// validation, plan rendering, state filtering, docs and export are all driven from it.
package schema

import (
	"fmt"
	"sort"

	"github.com/zclconf/go-cty/cty"
)

// Attribute is one argument of a resource or provider block.
type Attribute struct {
	Name        string
	Type        cty.Type
	Description string

	// Exactly one of Required, Optional, Computed describes who sets it; Optional and Computed may
	// be combined: the user may set it, otherwise the live value is kept and never diffed.
	Required bool
	Optional bool
	Computed bool

	// Sensitive values are masked in output and never written to state or plan files.
	Sensitive bool

	// Default is used when the attribute is absent from configuration (cty.NilVal: none).
	// An optional attribute without a default is unmanaged when absent: its live value is kept.
	Default cty.Value

	// Enum lists the allowed values of a string attribute, or of the elements of a
	// list/set of strings.
	Enum []string

	// Validate checks a known, non-null value further (durations, formats). The error text is
	// shown to the user as the diagnostic detail, so it should say what is expected.
	Validate func(cty.Value) error
}

// Block is the schema of a provider block.
type Block struct {
	Description string
	Attributes  []*Attribute
}

// Resource is the schema of a resource type (or data source).
type Resource struct {
	Type        string // e.g. "teams_meeting_policy"
	Provider    string // name of the provider block that configures it, e.g. "teams"
	Description string
	Attributes  []*Attribute

	// DataSource types are only read (declared with `data` blocks).
	DataSource bool

	// Singleton objects exist in every tenant and can be neither created nor deleted (the Global
	// meeting policy). Removing one from configuration plans "stop managing", never a delete.
	Singleton bool

	// Distinct lists groups of collection attributes whose elements name distinct things: the
	// configuration may not name one twice, within an attribute or across the group's
	// attributes (a connector in two groups of one DLP policy). Checked at validate, with the
	// file and line of the repetition.
	Distinct []Distinct
}

// Distinct declares that the elements of some list or set attributes, taken together, name
// distinct things.
type Distinct struct {
	// Attributes are the attributes (lists or sets) whose elements must not repeat.
	Attributes []string
	// Field, for elements that are objects, names the attribute that identifies one ("id").
	Field string
	// Key, when set, normalizes an element's identifying string the way the service compares
	// them (case, an id prefix it accepts for the same object); nil compares exactly.
	Key func(string) string
	// What names one element in messages ("connector", "app").
	What string
}

// Attribute returns the named attribute or nil.
func (b *Block) Attribute(name string) *Attribute { return find(b.Attributes, name) }

// Attribute returns the named attribute or nil.
func (r *Resource) Attribute(name string) *Attribute { return find(r.Attributes, name) }

// ImpliedType is the object type of the provider block's value.
func (b *Block) ImpliedType() cty.Type { return implied(b.Attributes) }

// ImpliedType is the object type of a resource value: one attribute per schema attribute.
func (r *Resource) ImpliedType() cty.Type { return implied(r.Attributes) }

// AttributeNames lists the attribute names in declaration order.
func (r *Resource) AttributeNames() []string {
	names := make([]string, len(r.Attributes))
	for i, a := range r.Attributes {
		names[i] = a.Name
	}
	return names
}

// CheckEnum returns an error naming the allowed values when v (a string, or a collection of
// strings) holds a value outside a.Enum. Unknown and null values pass.
func (a *Attribute) CheckEnum(v cty.Value) error {
	if len(a.Enum) == 0 || v.IsNull() || !v.IsWhollyKnown() {
		return nil
	}
	check := func(s cty.Value) error {
		if s.IsNull() || s.Type() != cty.String {
			return nil
		}
		for _, e := range a.Enum {
			if s.AsString() == e {
				return nil
			}
		}
		return fmt.Errorf("%q is not an allowed value for %s; allowed values are %s", s.AsString(), a.Name, quoteList(a.Enum))
	}
	if v.Type().IsListType() || v.Type().IsSetType() || v.Type().IsTupleType() {
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			if err := check(e); err != nil {
				return err
			}
		}
		return nil
	}
	return check(v)
}

// SensitivePaths returns the names of the sensitive attributes, sorted.
func (r *Resource) SensitivePaths() []string {
	var out []string
	for _, a := range r.Attributes {
		if a.Sensitive {
			out = append(out, a.Name)
		}
	}
	sort.Strings(out)
	return out
}

func find(attrs []*Attribute, name string) *Attribute {
	for _, a := range attrs {
		if a.Name == name {
			return a
		}
	}
	return nil
}

func implied(attrs []*Attribute) cty.Type {
	m := make(map[string]cty.Type, len(attrs))
	for _, a := range attrs {
		m[a.Name] = a.Type
	}
	return cty.Object(m)
}

func quoteList(xs []string) string {
	s := ""
	for i, x := range xs {
		if i > 0 {
			if i == len(xs)-1 {
				s += " and "
			} else {
				s += ", "
			}
		}
		s += fmt.Sprintf("%q", x)
	}
	return s
}
