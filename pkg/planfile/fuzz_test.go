package planfile_test

import (
	"bytes"
	"io"
	"testing"

	"github.com/c4sctl/c4sctl/pkg/plan"
	"github.com/c4sctl/c4sctl/pkg/planfile"
	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/providers/providertest"
)

// FuzzDecodePlanFile: any bytes give a File or an error, never a panic; a decoded File's plan
// either rebuilds and renders or gives an error, and what decodes encodes again. Seeds are in
// testdata/fuzz/FuzzDecodePlanFile.
func FuzzDecodePlanFile(f *testing.F) {
	var buf bytes.Buffer
	if err := planfile.Encode(&buf, sample()); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte("c4sctl-plan 1\n"))
	reg := providers.NewRegistry(providertest.NewMemory())
	f.Fuzz(func(t *testing.T, data []byte) {
		pf, err := planfile.Decode(bytes.NewReader(data))
		if err != nil {
			if pf != nil {
				t.Fatal("a file and an error")
			}
			return
		}
		if pl, err := plan.FromJSON(pf.Plan, reg.ResourceSchema); err == nil {
			plan.Render(io.Discard, pl, plan.Colors{}) // what `c4sctl show FILE` does
			plan.RenderMarkdown(io.Discard, pl, plan.MarkdownOptions{})
		}
		var out bytes.Buffer
		if err := planfile.Encode(&out, pf); err != nil {
			t.Fatalf("a decoded plan does not encode: %v", err)
		}
		if _, err := planfile.Decode(&out); err != nil {
			t.Fatalf("re-encoded plan does not decode: %v", err)
		}
	})
}
