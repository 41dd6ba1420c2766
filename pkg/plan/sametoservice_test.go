package plan

import (
	"testing"

	"github.com/c4sctl/c4sctl/pkg/schema"
	"github.com/zclconf/go-cty/cty"
)

func TestSameToService(t *testing.T) {
	desc := &schema.Attribute{Name: "description", Type: cty.String, EmptyIsNull: true}
	objs := &schema.Attribute{Name: "object_permissions", Type: cty.Map(cty.Set(cty.String)), Caseless: true}
	plain := &schema.Attribute{Name: "name", Type: cty.String}
	perms := func(k string, ps ...string) cty.Value {
		var vs []cty.Value
		for _, p := range ps {
			vs = append(vs, cty.StringVal(p))
		}
		return cty.MapVal(map[string]cty.Value{k: cty.SetVal(vs)})
	}
	for _, c := range []struct {
		a    *schema.Attribute
		x, y cty.Value
		same bool
	}{
		{desc, cty.StringVal(""), cty.NullVal(cty.String), true},
		{desc, cty.NullVal(cty.String), cty.StringVal(""), true},
		{desc, cty.StringVal("x"), cty.NullVal(cty.String), false},
		{desc, cty.StringVal("X"), cty.StringVal("x"), false},
		{plain, cty.StringVal(""), cty.NullVal(cty.String), false},
		{objs, perms("account", "read"), perms("Account", "read"), true},
		{objs, perms("account", "read"), perms("Account", "read", "edit"), false},
		{objs, perms("Account", "read"), perms("Contact", "read"), false},
		{objs, cty.MapValEmpty(cty.Set(cty.String)), perms("Account", "read"), false},
		{&schema.Attribute{Name: "profiles", Type: cty.Set(cty.String), Caseless: true}, cty.SetVal([]cty.Value{cty.StringVal("standard user")}), cty.SetVal([]cty.Value{cty.StringVal("Standard User")}), true},
		{nil, cty.StringVal("a"), cty.StringVal("A"), false},
	} {
		if got := SameToService(c.a, c.x, c.y); got != c.same {
			t.Errorf("SameToService(%v, %#v, %#v) = %v, want %v", c.a, c.x, c.y, got, c.same)
		}
	}
}
