package plan_test

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/c4sctl/c4sctl/pkg/plan"
	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/providers/providertest"
)

// FuzzFromJSON: a plan document from a saved plan file is untrusted input; rebuilding and
// rendering it gives a plan or an error, never a panic.
func FuzzFromJSON(f *testing.F) {
	if seed, err := os.ReadFile(filepath.Join("testdata", "plan.json")); err == nil {
		f.Add(seed)
	}
	f.Add([]byte(`{"resource_changes":[{"address":"mem_setting.a","type":"mem_setting","action":"create","after":{"tags":["x","x"]},"after_unknown":{"*":true}}]}`))
	reg := providers.NewRegistry(providertest.NewMemory())
	f.Fuzz(func(t *testing.T, data []byte) {
		var doc plan.JSONPlan
		if json.Unmarshal(data, &doc) != nil {
			return
		}
		pl, err := plan.FromJSON(&doc, reg.ResourceSchema)
		if err != nil {
			return
		}
		plan.Render(io.Discard, pl, plan.Colors{})
		plan.RenderMarkdown(io.Discard, pl, plan.MarkdownOptions{})
		if _, err := plan.ToJSON(pl, plan.JSONOptions{}); err != nil {
			t.Fatalf("a rebuilt plan does not encode: %v", err)
		}
	})
}
