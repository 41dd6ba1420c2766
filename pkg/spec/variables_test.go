package spec

import "testing"

func TestEvaluatorVariablesReportsValuesAndSensitivity(t *testing.T) {
	cfg := load(t, `
variable "region" { default = "EU" }
variable "secret" {
  type      = string
  sensitive = true
}
`)
	ev, diags := NewEvaluator(cfg, Inputs{Env: []string{"C4S_VAR_secret=s3cr3t"}, Vars: []string{"region=US"}})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	vars := ev.Variables()
	if v := vars["region"]; v.Value.AsString() != "US" || v.Sensitive {
		t.Errorf("region = %#v sensitive=%v, want US, not sensitive", v.Value, v.Sensitive)
	}
	if v := vars["secret"]; v.Value.IsMarked() || v.Value.AsString() != "s3cr3t" || !v.Sensitive {
		t.Errorf("secret = %#v sensitive=%v, want the unmarked value flagged sensitive", v.Value, v.Sensitive)
	}
}
