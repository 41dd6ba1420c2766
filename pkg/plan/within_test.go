package plan

import (
	"testing"

	"github.com/c4sctl/c4sctl/pkg/schema"
	"github.com/zclconf/go-cty/cty"
)

// A Subset attribute (Read reports only what the configuration names) narrowed in the
// configuration is no drift; a named element turned off outside c4sctl still is. Salesforce
// object_permissions: narrowing Lead to read made plan and drift say it had changed outside.
func TestDriftOfASubsetAttributeIsWithinTheConfiguration(t *testing.T) {
	perms := &schema.Attribute{Name: "object_permissions", Type: cty.Map(cty.Set(cty.String)), Optional: true, Caseless: true, Subset: true}
	users := &schema.Attribute{Name: "user_permissions", Type: cty.Set(cty.String), Optional: true, Caseless: true, Subset: true}
	s := &schema.Resource{Type: "x", Attributes: []*schema.Attribute{perms, users}}
	obj := func(m map[string][]string, u ...string) cty.Value {
		vals := map[string]cty.Value{}
		for k, ps := range m {
			var els []cty.Value
			for _, p := range ps {
				els = append(els, cty.StringVal(p))
			}
			vals[k] = cty.SetVal(els)
		}
		var us []cty.Value
		for _, p := range u {
			us = append(us, cty.StringVal(p))
		}
		return cty.ObjectVal(map[string]cty.Value{"object_permissions": cty.MapVal(vals), "user_permissions": cty.SetVal(us)})
	}
	managed := []string{"object_permissions", "user_permissions"}
	prior := obj(map[string][]string{"Lead": {"read", "create", "edit"}, "Account": {"read"}}, "ApiEnabled", "ViewSetup")

	// The configuration now names less (Lead: read; Account gone; ViewSetup gone): Read
	// reports only that, and it is all on.
	config := obj(map[string][]string{"lead": {"read"}}, "ApiEnabled")
	live := obj(map[string][]string{"lead": {"read"}}, "ApiEnabled")
	if d := driftDiff(s, managed, prior, live, config); len(d) != 0 {
		t.Fatalf("narrowed configuration reported as drift: %+v", d)
	}
	// Lead's read was turned off in Setup: drift, shown within what the configuration names.
	live = cty.ObjectVal(map[string]cty.Value{"object_permissions": cty.MapVal(map[string]cty.Value{"lead": cty.SetValEmpty(cty.String)}), "user_permissions": cty.SetVal([]cty.Value{cty.StringVal("ApiEnabled")})})
	d := driftDiff(s, managed, prior, live, config)
	if len(d) != 1 || d[0].Name != "object_permissions" {
		t.Fatalf("drift %+v, want object_permissions", d)
	}
	if want := cty.MapVal(map[string]cty.Value{"Lead": cty.SetVal([]cty.Value{cty.StringVal("read")})}); !d[0].Before.RawEquals(want) {
		t.Errorf("before %#v, want %#v", d[0].Before, want)
	}
	// A permission newly named in the configuration and not on yet is a change to make, not drift.
	config = obj(map[string][]string{"Lead": {"read", "delete"}}, "ApiEnabled")
	live = obj(map[string][]string{"Lead": {"read"}}, "ApiEnabled")
	if d := driftDiff(s, managed, prior, live, config); len(d) != 0 {
		t.Fatalf("a newly named permission reported as drift: %+v", d)
	}
	// Without the Subset flag the same narrowing is drift (the flag is what decides).
	perms.Subset, users.Subset = false, false
	config = obj(map[string][]string{"lead": {"read"}}, "ApiEnabled")
	live = obj(map[string][]string{"lead": {"read"}}, "ApiEnabled")
	if d := driftDiff(s, managed, prior, live, config); len(d) != 2 {
		t.Fatalf("without Subset: drift %+v, want both attributes", d)
	}
}
