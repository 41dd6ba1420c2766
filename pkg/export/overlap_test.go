package export

import (
	"strings"
	"testing"

	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/providers/providertest"
	"github.com/zclconf/go-cty/cty"
)

// An object acting on part of another exported object (known only from its live value) is left
// out; the whole owner, and parts of objects not exported, are kept.
func TestSkipOverlapsLeavesOutAPartOfAnExportedWhole(t *testing.T) {
	m := providertest.NewMemory()
	var setting, part = m.Resources()[0], m.Resources()[3]
	obj := func(s string, attrs map[string]cty.Value) providers.ExportedObject {
		return providers.ExportedObject{Name: s, ID: s, Value: providertest.Config(setting, attrs)}
	}
	partOf := func(name, of string) providers.ExportedObject {
		live := providertest.Config(part, map[string]cty.Value{"identity": cty.StringVal(name), "of": cty.StringVal(of)})
		// The written value leaves out what the identity depends on; Live has it.
		return providers.ExportedObject{Name: name, ID: name, Value: cty.ObjectVal(map[string]cty.Value{"identity": cty.StringVal(name), "of": cty.StringVal("x")}), Live: live}
	}
	f := &File{Provider: "mem", Resources: []Resource{
		{Schema: setting, Name: "baseline", Object: obj("Baseline", map[string]cty.Value{"identity": cty.StringVal("Baseline")})},
		{Schema: part, Name: "rule", Object: partOf("rule", "baseline")},
		{Schema: part, Name: "other", Object: partOf("other", "not exported")},
	}}
	SkipOverlaps([]*File{f})
	if f.Resources[0].skipReason() != "" || f.Resources[2].skipReason() != "" {
		t.Errorf("kept objects were skipped: %q, %q", f.Resources[0].skipReason(), f.Resources[2].skipReason())
	}
	if r := f.Resources[1].skipReason(); !strings.Contains(r, `mem_setting "baseline"`) || !strings.Contains(r, "mem_setting.baseline (exported here) owns whole") {
		t.Errorf("rule: skip reason %q", r)
	}
	if !strings.Contains(string(f.Bytes()), "# Not exported: mem_part \"rule\"") || f.Written() != 2 {
		t.Errorf("written %d:\n%s", f.Written(), f.Bytes())
	}
}
