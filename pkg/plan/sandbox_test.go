package plan_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/c4sctl/c4sctl/pkg/plan"
	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/providers/providertest"
	"github.com/zclconf/go-cty/cty"
)

// Every rendering of a sandbox plan says sandbox: true, and it survives the JSON document (a
// saved plan shown with `show`); a real tenant's plan says nothing of it.
func TestSandboxPlanSaysSoInEveryFormat(t *testing.T) {
	reg := providers.NewRegistry(providertest.NewMemory())
	for _, sb := range []bool{true, false} {
		pl := richPlan(t)
		pl.Sandbox = sb
		doc, err := plan.ToJSON(pl, plan.JSONOptions{C4sctlVersion: "test"})
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := json.Marshal(doc)
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil || m["sandbox"] != sb {
			t.Errorf("sandbox=%v: JSON sandbox = %v (%v)", sb, m["sandbox"], err)
		}
		var back plan.JSONPlan
		if err := json.Unmarshal(raw, &back); err != nil {
			t.Fatal(err)
		}
		shown, err := plan.FromJSON(&back, reg.ResourceSchema)
		if err != nil {
			t.Fatal(err)
		}
		for name, p := range map[string]*plan.Plan{"plan": pl, "show": shown} {
			var human, md bytes.Buffer
			plan.Render(&human, p, plan.Colors{})
			plan.RenderMarkdown(&md, p, plan.MarkdownOptions{})
			first, _, _ := strings.Cut(human.String(), "\n")
			if strings.HasPrefix(first, "sandbox: true") != sb {
				t.Errorf("sandbox=%v %s: human plan starts %q", sb, name, first)
			}
			head, _, _ := strings.Cut(md.String(), "\n")
			if strings.Contains(head, "sandbox: true") != sb {
				t.Errorf("sandbox=%v %s: markdown heading %q", sb, name, head)
			}
		}
	}
}

// A clean plan or drift check against the sandbox never reads like a real tenant's green.
func TestCleanSandboxVerdicts(t *testing.T) {
	src := `
resource "mem_setting" "a" {
  identity = "a"
  value    = "a"
}
`
	for _, refresh := range []bool{false, true} {
		m := providertest.NewMemory()
		m.Put("mem_setting", "a", map[string]cty.Value{"identity": cty.StringVal("a"), "value": cty.StringVal("a")})
		pl := planFor(t, src, m, stateOf(t, m, "mem_setting.a=a"), plan.Options{RefreshOnly: refresh})
		if pl.HasChanges() {
			t.Fatalf("refresh=%v: plan not clean", refresh)
		}
		real, verdict := "No changes.", "No changes (sandbox — not a real tenant)."
		if refresh {
			real, verdict = "No drift.", "No drift (sandbox — not a real tenant)."
		}
		for _, sb := range []bool{false, true} {
			pl.Sandbox = sb
			var human, md bytes.Buffer
			plan.Render(&human, pl, plan.Colors{})
			plan.RenderMarkdown(&md, pl, plan.MarkdownOptions{})
			for f, out := range map[string]string{"human": human.String(), "markdown": md.String()} {
				if strings.Contains(out, real) == sb || strings.Contains(out, verdict) != sb {
					t.Errorf("refresh=%v sandbox=%v %s:\n%s", refresh, sb, f, out)
				}
			}
		}
	}
}
