// Package schema declares the shape of every provider block and resource type once. Decoding,
// validation, plan rendering, state filtering, docs and export are all driven from it.
package schema

import (
	"fmt"
	"sort"
	"strings"

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

	// Caseless: the service compares these names without case and answers its own spelling
	// (Salesforce object, profile and permission names; Microsoft service plan names): strings,
	// set elements and map keys that differ only in case are one value. EmptyIsNull: the
	// service stores "" as null (Salesforce text fields). Providers read live values in the
	// configuration's terms; these flags keep a value recorded in state under an earlier
	// spelling from being reported as changed outside c4sctl.
	Caseless    bool
	EmptyIsNull bool

	// Validate checks a known, non-null value further (durations, formats). The error text is
	// shown to the user as the diagnostic detail, so it should say what is expected.
	Validate func(cty.Value) error

	// Subset: Read reports only the elements the configuration names (set members; map keys and
	// their members) and leaves the others alone (Salesforce user_permissions and
	// object_permissions). A configuration that names fewer than the last apply did is no change
	// made outside c4sctl, so drift compares the recorded value within what the configuration
	// names now.
	Subset bool

	// Echo marks a setting of how c4sctl manages the object, not a property of it (enforce,
	// exclusive, experimental_write): Read returns the configuration's value, so it can change
	// only in the configuration, never outside c4sctl, and is left out of drift.
	Echo bool

	// Env names the environment variable a provider block attribute falls back to when the
	// block leaves it unset (AZURE_CLIENT_SECRET, SF_CLIENT_ID). Documentation, `c4sctl sandbox
	// env` and `c4sctl bootstrap` read it; the providers' decoders honour it (tests check both
	// agree).
	Env string
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
	// Identity names the remote objects a value of this type stands for: a configuration (with
	// unknown and null attributes) or a live value. Keys are normalized exactly as the service
	// compares the object's natural key (case, whitespace, alternative spellings it accepts for
	// one object), so that two spellings of one object give one key. The engine refuses two
	// addresses that share a key (see Conflicts); nil means the type has no natural key and
	// objects are told apart by their ids alone.
	Identity func(v cty.Value) []ObjectKey
	// References names, by their keys, the objects that a value's attributes name by literal
	// string (the permission sets a connected app admits). When another resource of the same
	// plan has one of these keys, apply orders the two and plan suggests a reference.
	References func(v cty.Value) []ObjectKey
	// NormalizeID maps a remote id to the form the service compares, so that two spellings of
	// one id are equal ("Tag:Sales" and "sales" name one Teams policy). Nil: ids compare without
	// regard to case and surrounding space.
	NormalizeID func(id string) string
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

// IDKey is id normalized as the service compares it (see NormalizeID).
func (r *Resource) IDKey(id string) string {
	if r.NormalizeID != nil {
		return r.NormalizeID(id)
	}
	return strings.ToLower(strings.TrimSpace(id))
}

// SameID tells whether two ids name one object of this type.
func (r *Resource) SameID(a, b string) bool { return r.IDKey(a) == r.IDKey(b) }

// ObjectKey is one remote object a resource stands for or acts on.
type ObjectKey struct {
	// Key is the normalized natural key, namespaced by the kind of object
	// ("salesforce:permission_set:copilot_for_sales").
	Key string
	// Label names the object for people (`DLP policy "Baseline"`).
	Label string
	// Attr is the attribute that holds the key: the natural key's attribute for Identity
	// ("name"), the attribute naming the object for References ("permission_sets").
	Attr string
	// Part marks a resource that acts on part of the object (the connector rule inside a DLP
	// policy) rather than owning it whole. A part conflicts with a whole owner of the same key,
	// never with another part.
	Part bool
}

// Conflicts tells whether two resources holding keys a and b would each undo the other's
// changes: both own the object whole, or one owns it whole and the other acts on a part of it.
func (a ObjectKey) Conflicts(b ObjectKey) bool { return a.Key == b.Key && !(a.Part && b.Part) }

// Keys returns the identity keys of v, none when the type declares no Identity or v is null or
// unknown.
func (r *Resource) Keys(v cty.Value) []ObjectKey {
	if r.Identity == nil || v == cty.NilVal || v.IsNull() || !v.IsKnown() {
		return nil
	}
	return r.Identity(v)
}

// ReferencedKeys returns the keys of the objects v names by literal string (see References).
func (r *Resource) ReferencedKeys(v cty.Value) []ObjectKey {
	if r.References == nil || v == cty.NilVal || v.IsNull() || !v.IsKnown() {
		return nil
	}
	return r.References(v)
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

// Fold is the comparison most services make of names: case-insensitive, surrounding space
// ignored.
func Fold(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// AttrKey is the identity key held by the string attribute attr of v: kind + ":" + norm(value)
// (norm nil: Fold), labelled `noun "value"`. None when the attribute is absent, null, unknown
// or blank.
func AttrKey(v cty.Value, attr, kind, noun string, norm func(string) string) []ObjectKey {
	if v == cty.NilVal || v.IsNull() || !v.IsKnown() || !v.Type().IsObjectType() || !v.Type().HasAttribute(attr) {
		return nil
	}
	a := v.GetAttr(attr)
	if a.IsNull() || !a.IsKnown() || a.Type() != cty.String || strings.TrimSpace(a.AsString()) == "" {
		return nil
	}
	if norm == nil {
		norm = Fold
	}
	return []ObjectKey{{Key: kind + ":" + norm(a.AsString()), Label: fmt.Sprintf("%s %q", noun, a.AsString()), Attr: attr}}
}

// AuthMethod documents one value of a provider block's `auth` attribute: the attributes it
// needs (each attribute's Env names the variable that can stand in for it), the variables and
// tools it needs beyond them, and one line on when to use it. docs/getting-started-real.md and
// `c4sctl bootstrap` are generated from these; the providers' tests check that Configure asks
// for the Needs it declares.
type AuthMethod struct {
	Name     string
	Summary  string
	Needs    []string // attribute names
	Optional []string // attribute names
	Extra    []string // environment variables or tools, e.g. "AZURE_FEDERATED_TOKEN_FILE", "az login"
}
