package providers_test

import (
	"context"
	"testing"

	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/zclconf/go-cty/cty"
)

// Dispatch hands a type's Read the value to locate the object by: the configuration when there
// is one; for an orphan (Config null) what state recorded (Prior); neither for an export or an
// import by id.
func TestDispatchReadLocatesAnOrphanByItsPrior(t *testing.T) {
	typ := cty.Object(map[string]cty.Type{"org": cty.String})
	cfg := cty.ObjectVal(map[string]cty.Value{"org": cty.StringVal("configured")})
	prior := cty.ObjectVal(map[string]cty.Value{"org": cty.StringVal("recorded")})
	var seen cty.Value
	d := providers.Dispatch{Provider: "p", Handlers: map[string]providers.Handler{"t": {Read: func(_ context.Context, req providers.ReadRequest) (providers.ReadResponse, error) {
		seen = req.Config
		return providers.ReadResponse{}, nil
	}}}}
	for _, c := range []struct {
		name          string
		config, prior cty.Value
		want          cty.Value
	}{
		{"configured", cfg, prior, cfg},
		{"configured, not in state", cfg, cty.NilVal, cfg},
		{"orphan", cty.NullVal(typ), prior, prior},
		{"export", cty.NullVal(typ), cty.NilVal, cty.NullVal(typ)},
		{"orphan whose prior is null", cty.NullVal(typ), cty.NullVal(typ), cty.NullVal(typ)},
	} {
		if _, err := d.Read(context.Background(), providers.ReadRequest{Type: "t", ID: "x", Config: c.config, Prior: c.prior}); err != nil {
			t.Fatal(err)
		}
		if !seen.RawEquals(c.want) {
			t.Errorf("%s: Read saw Config %#v, want %#v", c.name, seen, c.want)
		}
	}
}
