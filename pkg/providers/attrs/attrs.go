// Package attrs reads and builds the cty values adapters exchange with the engine: an attribute
// of a configuration or live object, as a Go string, bool or string list, and back.
package attrs

import (
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
// content pasted in its place: PEM armour ("-----BEGIN"), a line break, or more than 4096 bytes.
// The error names the setting and where such content belongs (instead), never the value, since
// it is likely a private key.
func PathNotContent(setting, value, instead string) error {
	if strings.Contains(value, "-----BEGIN") || strings.Contains(value, "PRIVATE KEY") || strings.ContainsAny(value, "\r\n") || len(value) > 4096 {
		return fmt.Errorf("%s holds what looks like PEM content, not a file path (its value is not shown): %s", setting, instead)
	}
	return nil
}
