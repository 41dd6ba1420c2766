package spec

import (
	"io"
	"os"
	"path/filepath"
	"testing"
)

// FuzzVariableInputs feeds arbitrary --var flags, C4S_VAR_ environment values and var-file
// contents to variables of every kind of type, asserting only that nothing panics.
func FuzzVariableInputs(f *testing.F) {
	f.Add("s=text", "[1, 2]", "n = 3\nl = [\"a\"]\n")
	f.Add("m={a=1}", "{", "o = { x = true }")
	f.Add("=", "\x00", "n = \"not a number\"\n")
	f.Add("l=[", "null", "undeclared = 1\n")
	f.Fuzz(func(t *testing.T, flag, env, file string) {
		cfg, diags := LoadFiles("cfg", map[string][]byte{"main.c4s.hcl": []byte(`
variable "s" { type = string }
variable "n" {
  type    = number
  default = 1
  validation {
    condition     = var.n >= 0
    error_message = "n must not be negative."
  }
}
variable "l" { default = [] }
variable "m" {
  type    = map(number)
  default = {}
}
variable "o" {
  type      = object({ x = bool })
  default   = { x = false }
  sensitive = true
}
`)}, testSchemas())
		if diags.HasErrors() {
			t.Fatal(diags.Error())
		}
		path := filepath.Join(t.TempDir(), "in.c4svars")
		if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
			t.Fatal(err)
		}
		ev, diags := NewEvaluator(cfg, Inputs{Vars: []string{flag}, Env: []string{"C4S_VAR_l=" + env, "C4S_VAR_s=" + env}, VarFiles: []string{path}})
		_ = WriteDiagnostics(io.Discard, diags, cfg.Sources, 80, false)
		if ev != nil {
			_ = ev.Variables()
		}
	})
}
