package teams_test

import (
	"errors"
	"testing"

	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/zclconf/go-cty/cty"
)

// exportedConfig is the configuration export writes for o: its non-null attributes over the
// schema defaults.
func (h *harness) exportedConfig(typ string, o providers.ExportedObject) cty.Value {
	set := map[string]cty.Value{}
	for name, v := range o.Value.AsValueMap() {
		if !v.IsNull() {
			set[name] = v
		}
	}
	return h.config(typ, set)
}

func TestExportReproducesEveryPolicy(t *testing.T) {
	h := newHarness(t)
	// A named app setup policy with installed and pinned apps and two group assignments, beside
	// the seed's policies.
	h.converge("teams_app_setup_policy", h.config("teams_app_setup_policy", map[string]cty.Value{
		"identity": cty.StringVal("Copilot for Sales"), "app_preset_list": strs(c4s), "pinned_app_bar_apps": pins(c4s, 1),
		"groups": groups("sellers", 1, "managers", 2),
	}))
	ex, ok := h.c.(providers.Exporter)
	if !ok {
		t.Fatal("the teams client does not implement providers.Exporter")
	}
	want := map[string][]string{
		"teams_meeting_policy":   {"Global", "AllOn", "AllOff", "Kiosk"},
		"teams_app_setup_policy": {"Global", "FirstlineWorker", "Copilot for Sales"},
	}
	for typ, names := range want {
		objs, err := ex.Export(ctx, typ)
		if err != nil {
			t.Fatalf("export %s: %v", typ, err)
		}
		got := map[string]providers.ExportedObject{}
		for _, o := range objs {
			got[o.Name] = o
		}
		for _, n := range names {
			if _, ok := got[n]; !ok {
				t.Errorf("export %s lacks %q (got %d objects)", typ, n, len(objs))
			}
		}
		for _, o := range objs {
			if o.ID == "" || o.Skipped != "" {
				t.Errorf("%s %q: id %q, skipped %q", typ, o.Name, o.ID, o.Skipped)
			}
			p, err := h.plan(typ, "", h.exportedConfig(typ, o))
			if err != nil {
				t.Fatalf("plan the export of %s %q: %v", typ, o.Name, err)
			}
			if p.action != providers.NoOp {
				t.Errorf("plan of the exported %s %q is %s of %v, want no-op", typ, o.Name, p.action, p.changes)
			}
		}
	}

	objs, _ := ex.Export(ctx, "teams_app_setup_policy")
	for _, o := range objs {
		v := o.Value
		switch o.Name {
		case "Copilot for Sales":
			if g := v.GetAttr("groups"); g.IsNull() || g.LengthInt() != 2 {
				t.Errorf("groups of the exported policy: %#v", g)
			}
			if !v.GetAttr("exclusive").IsNull() {
				t.Errorf("exclusive is written though it is the default: %#v", v.GetAttr("exclusive"))
			}
		case "FirstlineWorker":
			if p := v.GetAttr("pinned_app_bar_apps"); p.IsNull() || p.LengthInt() != 5 {
				t.Errorf("pinned apps of FirstlineWorker: %#v", p)
			}
		}
	}

	if _, err := ex.Export(ctx, "teams_nothing"); !errors.Is(err, providers.ErrExportNotImplemented) {
		t.Errorf("export of an unknown type: %v, want ErrExportNotImplemented", err)
	}
}
