package providertest

import (
	"context"
	"testing"

	"github.com/c4sctl/c4sctl/pkg/plan"
	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/schema"
	"github.com/zclconf/go-cty/cty"
)

// Config builds a resource's configuration value as the decoder would: schema defaults, then
// the given attributes, every other attribute null.
func Config(r *schema.Resource, set map[string]cty.Value) cty.Value {
	vals := map[string]cty.Value{}
	for _, a := range r.Attributes {
		if a.Default != cty.NilVal {
			vals[a.Name] = a.Default
		}
	}
	for k, v := range set {
		vals[k] = v
	}
	return Object(r.ImpliedType(), vals)
}

// Planned is what the engine would plan for an object: the value it will have and the names
// of the attributes that change ("(create)" when it does not exist yet, with the configuration
// as its value). It calls the engine's own diff, so adapter tests converge exactly as plan does.
func Planned(r *schema.Resource, live, config cty.Value) (cty.Value, []string) {
	if live.IsNull() {
		return config, []string{"(create)"}
	}
	managed := plan.Managed(r, config, nil)
	after := plan.Planned(r, live, config, managed)
	var changed []string
	for _, c := range plan.Diff(managed, live, after) {
		changed = append(changed, c.Name)
	}
	return after, changed
}

// PlanOfExport plans, as the engine would for a fresh configuration without state, the block
// export writes for o, and returns the attributes that would change: none, when export is right.
func PlanOfExport(t testing.TB, c providers.Client, r *schema.Resource, o providers.ExportedObject) []string {
	t.Helper()
	set := map[string]cty.Value{}
	for name, v := range o.Value.AsValueMap() {
		if !v.IsNull() {
			set[name] = v
		}
	}
	config := Config(r, set)
	live, err := c.Read(context.Background(), providers.ReadRequest{Type: r.Type, Config: config})
	if err != nil {
		t.Fatalf("read %s %q: %v", r.Type, o.Name, err)
	}
	if live.Deferred != "" || live.Value.IsNull() {
		t.Fatalf("%s %q: the exported configuration finds nothing (deferred %q)", r.Type, o.Name, live.Deferred)
	}
	if live.ID != o.ID {
		t.Errorf("%s %q: the export finds id %q, exported %q", r.Type, o.Name, live.ID, o.ID)
	}
	_, changed := Planned(r, live.Value, config)
	return changed
}
