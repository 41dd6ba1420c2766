package attrs

import (
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"
)

func TestReaders(t *testing.T) {
	obj := cty.ObjectVal(map[string]cty.Value{
		"s":       cty.StringVal("x"),
		"null":    cty.NullVal(cty.String),
		"unknown": cty.UnknownVal(cty.String),
		"b":       cty.False,
		"set":     cty.SetVal([]cty.Value{cty.StringVal("a"), cty.StringVal("b")}),
		"empty":   cty.SetValEmpty(cty.String),
	})
	if String(obj, "s") != "x" || String(obj, "null") != "" || String(obj, "unknown") != "" || String(obj, "missing") != "" || String(cty.NullVal(obj.Type()), "s") != "" {
		t.Error("String")
	}
	if v, set := Bool(obj, "b"); v || !set {
		t.Error("Bool of false should be set")
	}
	if _, set := Bool(obj, "null"); set {
		t.Error("Bool of a null should not be set")
	}
	if xs, set := Strings(obj, "set"); !set || strings.Join(xs, ",") != "a,b" {
		t.Errorf("Strings = %v %v", xs, set)
	}
	if xs, set := Strings(obj, "empty"); !set || xs == nil || len(xs) != 0 {
		t.Errorf("an empty set is set: %v %v", xs, set)
	}
	if _, set := Strings(obj, "unknown"); set {
		t.Error("an unknown collection is not set")
	}
	if !StringOrNull("").IsNull() || StringSet(nil).LengthInt() != 0 {
		t.Error("builders")
	}
}

func TestHTTPSURL(t *testing.T) {
	check := HTTPSURL("https://graph.microsoft.com")
	for in, ok := range map[string]bool{
		"https://graph.microsoft.com":     true,
		"https://127.0.0.1:8443/graph":    true,
		"http://graph.microsoft.com":      false,
		"https://":                        false,
		"https://x.example/?token=secret": false,
		"graph.microsoft.com":             false,
	} {
		if err := check(cty.StringVal(in)); (err == nil) != ok {
			t.Errorf("%q: %v", in, err)
		}
	}
}
