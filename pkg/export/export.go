// Package export writes live objects as c4sctl configuration (*.c4s.hcl) with hclwrite: one
// file per provider, attributes in schema order, computed-only and null attributes left out and
// sensitive values never written.
package export

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/schema"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// File is one provider's exported configuration.
type File struct {
	Provider string
	// ProviderSchema describes the provider block; nil writes no provider block.
	ProviderSchema *schema.Block
	// ProviderSettings are the provider block's values to write (by attribute name). Sensitive
	// attributes and values equal to the attribute's default are never written.
	ProviderSettings map[string]cty.Value
	// Header lines are written as comments at the top.
	Header []string
	// Resources in the order they are written.
	Resources []Resource
	// Notes are written as comments at the end (types not exported, and why).
	Notes []string
}

// Resource is one object to write as a resource block.
type Resource struct {
	Schema *schema.Resource
	// Name is the resource name: a valid, unique identifier (see Namer).
	Name   string
	Object providers.ExportedObject
}

// Addr is the resource's address.
func (r Resource) Addr() string { return r.Schema.Type + "." + r.Name }

// Skipped are the objects of the file that were not written as blocks, as "ADDR: reason".
func (f *File) Skipped() []string {
	var out []string
	for _, r := range f.Resources {
		if reason := r.skipReason(); reason != "" {
			out = append(out, fmt.Sprintf("%s (%s): %s", r.Schema.Type, r.Object.Name, reason))
		}
	}
	return out
}

// Written counts the resource blocks the file holds.
func (f *File) Written() int {
	n := 0
	for _, r := range f.Resources {
		if r.skipReason() == "" {
			n++
		}
	}
	return n
}

// skipReason says why the object cannot be written as a block ("" when it can).
func (r Resource) skipReason() string {
	if r.Object.Skipped != "" {
		return r.Object.Skipped
	}
	v := r.Object.Value
	if v == cty.NilVal || v.IsNull() || !v.Type().IsObjectType() {
		return "the provider returned no attributes"
	}
	for _, a := range r.Schema.Attributes {
		if !a.Required {
			continue
		}
		if a.Sensitive {
			return fmt.Sprintf("its required attribute %s is sensitive and export never writes secrets", a.Name)
		}
		av, ok := attrValue(v, a.Name)
		if !ok {
			return fmt.Sprintf("its required attribute %s has no live value", a.Name)
		}
		if err := check(a, av); err != nil {
			return fmt.Sprintf("its required attribute %s: %v", a.Name, err)
		}
	}
	return ""
}

// attrValue returns the attribute's writable value: set, wholly known and without marks.
func attrValue(v cty.Value, name string) (cty.Value, bool) {
	if !v.Type().HasAttribute(name) {
		return cty.NilVal, false
	}
	av := v.GetAttr(name)
	if av.IsNull() || !av.IsWhollyKnown() || av.ContainsMarked() {
		return cty.NilVal, false
	}
	return av, true
}

// check runs the attribute's enum and validator, so that export never writes a value the
// configuration would refuse. A validator that panics counts as a refusal.
func check(a *schema.Attribute, v cty.Value) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the live value cannot be checked (%v)", r)
		}
	}()
	if conv, cerr := convert.Convert(v, a.Type); cerr == nil {
		v = conv
	}
	if err := a.CheckEnum(v); err != nil {
		return err
	}
	if a.Validate != nil {
		if err := a.Validate(v); err != nil {
			return err
		}
	}
	return nil
}

// Bytes renders the file, formatted.
func (f *File) Bytes() []byte {
	hf := hclwrite.NewEmptyFile()
	body := hf.Body()
	for _, l := range f.Header {
		body.AppendUnstructuredTokens(comment(l))
	}
	if len(f.Header) > 0 {
		body.AppendNewline()
	}
	if f.ProviderSchema != nil {
		blk := body.AppendNewBlock("provider", []string{f.Provider})
		pb := blk.Body()
		for _, a := range f.ProviderSchema.Attributes {
			if a.Sensitive {
				pb.AppendUnstructuredTokens(comment(sensitiveNote(a)))
				continue
			}
			v, ok := f.ProviderSettings[a.Name]
			if !ok || v == cty.NilVal || v.IsNull() || !v.IsWhollyKnown() || v.ContainsMarked() {
				continue
			}
			if a.Default != cty.NilVal && !a.Default.IsNull() && a.Default.Equals(v).True() {
				continue
			}
			if err := check(a, v); err != nil {
				continue
			}
			pb.SetAttributeRaw(a.Name, tokens(v))
		}
	}
	for _, r := range f.Resources {
		body.AppendNewline()
		if reason := r.skipReason(); reason != "" {
			body.AppendUnstructuredTokens(comment(fmt.Sprintf("Not exported: %s %q: %s", r.Schema.Type, r.Object.Name, oneLine(reason))))
			continue
		}
		if r.Object.ID != "" {
			body.AppendUnstructuredTokens(comment(fmt.Sprintf("id: %s  (c4sctl import %s %s)", r.Object.ID, r.Addr(), shellQuote(r.Object.ID))))
		}
		for _, l := range strings.Split(r.Object.Comment, "\n") {
			if strings.TrimSpace(l) != "" {
				body.AppendUnstructuredTokens(comment(l))
			}
		}
		blk := body.AppendNewBlock("resource", []string{r.Schema.Type, r.Name})
		rb := blk.Body()
		for _, a := range r.Schema.Attributes {
			if a.Computed && !a.Optional && !a.Required {
				continue
			}
			if a.Sensitive {
				// Only where the object has such a value: an unset optional secret is not managed.
				if r.Object.Value.Type().HasAttribute(a.Name) && !r.Object.Value.GetAttr(a.Name).IsNull() {
					rb.AppendUnstructuredTokens(comment(sensitiveNote(a)))
				}
				continue
			}
			v, ok := attrValue(r.Object.Value, a.Name)
			if !ok {
				continue
			}
			if err := check(a, v); err != nil {
				rb.AppendUnstructuredTokens(comment(fmt.Sprintf("%s is not exported: %s", a.Name, oneLine(err.Error()))))
				continue
			}
			rb.SetAttributeRaw(a.Name, tokens(v))
		}
	}
	if len(f.Notes) > 0 {
		body.AppendNewline()
		for _, n := range f.Notes {
			body.AppendUnstructuredTokens(comment(n))
		}
	}
	return hclwrite.Format(hf.Bytes())
}

func sensitiveNote(a *schema.Attribute) string {
	s := fmt.Sprintf("%s is not exported (sensitive): set it from a sensitive variable or the environment.", a.Name)
	if a.Description != "" {
		s += " " + a.Description
	}
	return s
}

func comment(s string) hclwrite.Tokens {
	return hclwrite.Tokens{{Type: hclsyntax.TokenComment, Bytes: []byte("# " + oneLine(s) + "\n")}}
}

// oneLine keeps a comment on one line: a newline in a live value must not end the comment.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func shellQuote(s string) string {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:@", r)) {
			return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
		}
	}
	return s
}

// tokens renders a value; lists and sets of objects, or of more than three elements, get one
// element per line.
func tokens(v cty.Value) hclwrite.Tokens {
	t := v.Type()
	if !(t.IsListType() || t.IsSetType() || t.IsTupleType()) || v.LengthInt() == 0 {
		return hclwrite.TokensForValue(v)
	}
	multi := v.LengthInt() > 3
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if et := e.Type(); et.IsObjectType() || et.IsMapType() {
			multi = true
		}
	}
	if !multi {
		return hclwrite.TokensForValue(v)
	}
	out := hclwrite.Tokens{{Type: hclsyntax.TokenOBrack, Bytes: []byte("[")}, {Type: hclsyntax.TokenNewline, Bytes: []byte("\n")}}
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		out = append(out, hclwrite.TokensForValue(e)...)
		out = append(out, &hclwrite.Token{Type: hclsyntax.TokenComma, Bytes: []byte(",")}, &hclwrite.Token{Type: hclsyntax.TokenNewline, Bytes: []byte("\n")})
	}
	return append(out, &hclwrite.Token{Type: hclsyntax.TokenCBrack, Bytes: []byte("]")})
}

// Namer turns suggested names into unique resource names per type.
type Namer struct{ used map[string]bool }

// Name returns a valid HCL identifier for suggested, unique among the names it gave for typ.
func (n *Namer) Name(typ, suggested string) string {
	if n.used == nil {
		n.used = map[string]bool{}
	}
	base := Identifier(suggested)
	name := base
	for i := 2; n.used[typ+"."+name]; i++ {
		name = base + "_" + strconv.Itoa(i)
	}
	n.used[typ+"."+name] = true
	return name
}

// Identifier turns s into a lower-case HCL identifier: words (split at other characters and
// at camelCase humps) joined by underscores; a leading digit gets an "r_" prefix; empty input
// gives "this".
func Identifier(s string) string {
	var b strings.Builder
	pending := false
	var prev rune
	for _, r := range s {
		lower := r >= 'a' && r <= 'z'
		upper := r >= 'A' && r <= 'Z'
		digit := r >= '0' && r <= '9'
		if !lower && !upper && !digit {
			pending = true
			prev = r
			continue
		}
		if upper && (prev >= 'a' && prev <= 'z' || prev >= '0' && prev <= '9') {
			pending = true
		}
		if pending && b.Len() > 0 {
			b.WriteByte('_')
		}
		pending = false
		b.WriteRune(unicode.ToLower(r))
		prev = r
	}
	out := b.String()
	if len(out) > 60 {
		out = strings.TrimRight(out[:60], "_")
	}
	switch {
	case out == "":
		out = "this"
	case out[0] >= '0' && out[0] <= '9':
		out = "r_" + out
	}
	if !hclsyntax.ValidIdentifier(out) {
		return "this"
	}
	return out
}

// SkipOverlaps leaves out of the files every object that acts on part of an object another
// exported block owns whole (a DLP connector rule editing a policy that is exported as a
// powerplatform_dlp_policy): plan refuses such a pair, since each apply would undo the other.
// The whole owner is kept; it states everything the part would. Identities come from each
// schema's Identity, on the written value and the live one.
func SkipOverlaps(files []*File) {
	type holder struct {
		r    *Resource
		part bool
	}
	byKey := map[string][]holder{}
	keysOf := func(r *Resource) []schema.ObjectKey {
		ks := r.Schema.Keys(r.Object.Value)
		if r.Object.Live != cty.NilVal {
			ks = append(ks, r.Schema.Keys(r.Object.Live)...)
		}
		return ks
	}
	for _, f := range files {
		for i := range f.Resources {
			r := &f.Resources[i]
			if r.skipReason() != "" {
				continue
			}
			for _, k := range keysOf(r) {
				byKey[k.Key] = append(byKey[k.Key], holder{r, k.Part})
			}
		}
	}
	for _, f := range files {
		for i := range f.Resources {
			r := &f.Resources[i]
			if r.skipReason() != "" {
				continue
			}
			for _, k := range keysOf(r) {
				if !k.Part {
					continue
				}
				for _, h := range byKey[k.Key] {
					if !h.part && h.r != r {
						r.Object.Skipped = fmt.Sprintf("it would edit %s, which %s (exported here) owns whole, and each apply would undo the other's changes; that block states the whole object", k.Label, h.r.Addr())
						break
					}
				}
				if r.Object.Skipped != "" {
					break
				}
			}
		}
	}
}
