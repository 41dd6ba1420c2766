package spec

import (
	"io"
	"testing"

	"github.com/zclconf/go-cty/cty"
)

// FuzzLoadFiles feeds arbitrary bytes through everything a CLI run does with a configuration,
// even after errors, asserting only that nothing panics.
func FuzzLoadFiles(f *testing.F) {
	f.Add([]byte(evalSrc))
	f.Add([]byte(okBase))
	f.Add([]byte(`resource "teams_meeting_policy" "a" { identity = teams_meeting_policy.a.identity }`))
	f.Fuzz(func(t *testing.T, src []byte) {
		s := testSchemas()
		cfg, diags := LoadFiles("cfg", map[string][]byte{"main.c4s.hcl": src, "extra.c4s.hcl": []byte(`variable "v" { default = "x" }`)}, s)
		_ = WriteDiagnostics(io.Discard, diags, cfg.Sources, 80, false)
		order, _ := cfg.Order()
		_ = order
		ev, diags := NewEvaluator(cfg, Inputs{Vars: []string{"v=1", "secret=2", "n=[1]"}, Env: []string{"C4S_VAR_tenant={"}})
		_ = WriteDiagnostics(io.Discard, diags, cfg.Sources, 80, true)
		known := map[string]cty.Value{}
		for addr, r := range cfg.Resources {
			_ = cfg.Dependencies(addr)
			v, _, _ := ev.ResourceConfig(r, known)
			known[addr] = v
		}
		for name, p := range s.providers {
			_, _ = ev.ProviderConfig(name, p)
		}
		_, _ = ev.Outputs(known)
		_, _ = Format("main.c4s.hcl", src)
	})
}
