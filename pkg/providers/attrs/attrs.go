// Package attrs reads and builds the cty values adapters exchange with the engine: an attribute
// of a configuration or live object, as a Go string, bool or string list, and back.
package attrs

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"

	"github.com/zclconf/go-cty/cty"
)

// Get returns the named attribute of an object, or cty.NilVal when v is not a known object
// with that attribute.
func Get(v cty.Value, name string) cty.Value {
	if v == cty.NilVal || v.IsNull() || !v.IsKnown() || !v.Type().IsObjectType() || !v.Type().HasAttribute(name) {
		return cty.NilVal
	}
	return v.GetAttr(name)
}

// String returns a string attribute, or "" when it is absent, null or unknown.
func String(v cty.Value, name string) string {
	a := Get(v, name)
	if a == cty.NilVal || a.IsNull() || !a.IsKnown() || a.Type() != cty.String {
		return ""
	}
	return a.AsString()
}

// Bool returns a bool attribute and whether it is set (known and not null).
func Bool(v cty.Value, name string) (value, set bool) {
	a := Get(v, name)
	if a == cty.NilVal || a.IsNull() || !a.IsKnown() || a.Type() != cty.Bool {
		return false, false
	}
	return a.True(), true
}

// Strings returns the strings of a set, list or tuple attribute and whether it is set (wholly
// known and not null; an empty collection is set).
func Strings(v cty.Value, name string) ([]string, bool) {
	a := Get(v, name)
	if a == cty.NilVal || a.IsNull() || !a.IsWhollyKnown() || !(a.Type().IsSetType() || a.Type().IsListType() || a.Type().IsTupleType()) {
		return nil, false
	}
	out := []string{}
	for it := a.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if !e.IsNull() && e.Type() == cty.String {
			out = append(out, e.AsString())
		}
	}
	return out, true
}

// StringOrNull is a string value, or a null string for "".
func StringOrNull(s string) cty.Value {
	if s == "" {
		return cty.NullVal(cty.String)
	}
	return cty.StringVal(s)
}

// StringSet is a set of strings (empty, not null, for none).
func StringSet(xs []string) cty.Value {
	if len(xs) == 0 {
		return cty.SetValEmpty(cty.String)
	}
	vs := make([]cty.Value, len(xs))
	for i, x := range xs {
		vs[i] = cty.StringVal(x)
	}
	return cty.SetVal(vs)
}

// HTTPSURL returns a schema validator for endpoint attributes: an https URL with a host and no
// query. example is shown in the error.
func HTTPSURL(example string) func(cty.Value) error {
	return func(v cty.Value) error {
		if v.IsNull() || !v.IsKnown() || v.Type() != cty.String {
			return nil
		}
		u, err := url.Parse(v.AsString())
		if err != nil || u.Scheme != "https" || u.Host == "" || u.RawQuery != "" {
			return fmt.Errorf("expected an https URL such as %s, got %q", example, v.AsString())
		}
		return nil
	}
}

// PathNotContent checks a setting that names a file (a private key's or certificate's path) for
// content pasted in its place: PEM armour ("-----BEGIN"), a line break, more than 4096 bytes, a
// name no file system takes (a component over 255 bytes), or base64 of a PEM or DER key on one
// line (CI secrets often hold the key so). The error names the setting and where such content
// belongs (instead), never the value, since it is likely a private key.
func PathNotContent(setting, value, instead string) error {
	if strings.Contains(value, "-----BEGIN") || strings.Contains(value, "PRIVATE KEY") || strings.ContainsAny(value, "\r\n") || len(value) > 4096 {
		return fmt.Errorf("%s holds what looks like PEM content, not a file path (its value is not shown): %s", setting, instead)
	}
	for _, c := range strings.FieldsFunc(value, func(r rune) bool { return r == '/' || r == '\\' }) {
		if len(c) > 255 {
			return fmt.Errorf("%s holds what looks like key content, not a file path (a name longer than any file system allows; its value is not shown): %s", setting, instead)
		}
	}
	if looksLikeBase64Key(strings.TrimSpace(value)) {
		return fmt.Errorf("%s holds what looks like a base64-encoded key, not a file path (its value is not shown): %s", setting, instead)
	}
	return nil
}

// looksLikeBase64Key tells whether s is base64 (standard or URL alphabet) whose first bytes are
// PEM armour or a DER SEQUENCE (0x30), as a key or certificate starts.
func looksLikeBase64Key(s string) bool {
	if len(s) < 64 || strings.ContainsAny(s, ". ") {
		return false
	}
	head := s[:64]
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		b, err := enc.DecodeString(head)
		if err != nil {
			continue
		}
		if strings.HasPrefix(string(b), "-----BEGIN") || len(b) > 2 && b[0] == 0x30 && (b[1] == 0x81 || b[1] == 0x82 || b[1] == 0x83) {
			return true
		}
	}
	return false
}
