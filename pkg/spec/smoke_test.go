package spec

import (
	"bytes"
	"testing"

	"github.com/zclconf/go-cty/cty"
)

func TestSmoke(t *testing.T) {
	src := `
variable "secret" {
  type = string
  sensitive = true
}
locals { app = data.teams_app.copilot.id }
provider "teams" { tenant_id = "t" }
data "teams_app" "copilot" { display_name = "Copilot" }
resource "teams_app_setup_policy" "sales" {
  identity = "Sales"
  pinned_apps = [{ id = local.app, order = 1 }]
  channels = ["web"]
  secret = var.secret
}
output "o" { value = var.secret }
`
	cfg, diags := LoadFiles("d", map[string][]byte{"main.c4s.hcl": []byte(src)}, testSchemas())
	if diags.HasErrors() {
		var b bytes.Buffer
		WriteDiagnostics(&b, diags, cfg.Sources, 100, false)
		t.Fatal(b.String())
	}
	ev, diags := NewEvaluator(cfg, Inputs{Vars: []string{"secret=s3"}})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	v, sens, diags := ev.ResourceConfig(cfg.Resources["teams_app_setup_policy.sales"], map[string]cty.Value{
		"data.teams_app.copilot": cty.ObjectVal(map[string]cty.Value{"display_name": cty.StringVal("Copilot"), "id": cty.StringVal("app-1")}),
	})
	t.Log(v.GoString(), sens, diags)
	order, diags := cfg.Order()
	t.Log(order, diags)
}
