package attrs

import (
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"
)

func TestNullableString(t *testing.T) {
	cfg := func(v cty.Value) cty.Value { return cty.ObjectVal(map[string]cty.Value{"description": v}) }
	if v := NullableString("", cfg(cty.StringVal("")), "description"); v.IsNull() || v.AsString() != "" {
		t.Errorf("configured \"\": %#v", v)
	}
	if v := NullableString("", cfg(cty.NullVal(cty.String)), "description"); !v.IsNull() {
		t.Errorf("configured null: %#v", v)
	}
	if v := NullableString("", cty.NullVal(cty.Object(map[string]cty.Type{"description": cty.String})), "description"); !v.IsNull() {
		t.Errorf("no configuration: %#v", v)
	}
	if v := NullableString("x", cfg(cty.StringVal("")), "description"); v.AsString() != "x" {
		t.Errorf("live text: %#v", v)
	}
}

func TestAsConfigured(t *testing.T) {
	out, re := AsConfigured([]string{"Standard User", "Read Only", "ViewSetup"}, []string{"standard user", "ViewSetup", "Other"})
	if strings.Join(out, "|") != "standard user|Read Only|ViewSetup" {
		t.Fatalf("out %v", out)
	}
	if len(re) != 1 || re[0] != (Respelled{"standard user", "Standard User"}) {
		t.Fatalf("respelled %v", re)
	}
	if n := CaseNote("profiles", re); !strings.Contains(n, `the service spells "standard user" as "Standard User"`) {
		t.Fatalf("note %q", n)
	}
	if CaseNote("profiles", nil) != "" {
		t.Fatal("note without differences")
	}
}
