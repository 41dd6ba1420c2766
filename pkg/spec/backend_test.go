package spec

import (
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"
)

func TestBackendBlock(t *testing.T) {
	cfg := load(t, `
c4sctl {
  backend "azurerm" {
    storage_account_name = "contosostate"
    container_name       = "c4sctl"
    key                  = "prod/state.json"
    use_azuread_auth     = true
  }
}
`)
	b := cfg.Backend
	if b == nil || b.Type != "azurerm" || b.String("storage_account_name") != "contosostate" || b.String("key") != "prod/state.json" ||
		!b.Bool("use_azuread_auth") || b.String("endpoint") != "" || b.DeclRange.Start.Line != 3 {
		t.Fatalf("backend %+v", b)
	}
	if load(t, `variable "x" {}`).Backend != nil {
		t.Error("a configuration without a c4sctl block has a backend")
	}
}

func TestBackendBlockErrors(t *testing.T) {
	for name, tc := range map[string]struct{ src, want string }{
		"access key in configuration": {`c4sctl {
  backend "azurerm" {
    storage_account_name = "a"
    container_name       = "c"
    key                  = "k"
    access_key           = "c2VjcmV0LWtleQ=="
  }
}`, "main.c4s.hcl:6,5-15: Secret in backend configuration; access_key must not be written in the configuration, where it would be committed: set the environment variable ARM_ACCESS_KEY"},
		"sas token in configuration": {`c4sctl {
  backend "azurerm" {
    storage_account_name = "a"
    container_name       = "c"
    key                  = "k"
    sas_token            = "sv=2024&sig=abc"
  }
}`, "main.c4s.hcl:6,5-14: Secret in backend configuration; sas_token must not be written in the configuration, where it would be committed: set the environment variable ARM_SAS_TOKEN"},
		"missing key": {`c4sctl {
  backend "azurerm" {
    storage_account_name = "a"
    container_name       = "c"
  }
}`, `The "azurerm" backend needs the argument "key"`},
		"variable": {`variable "k" {}
c4sctl {
  backend "azurerm" {
    storage_account_name = "a"
    container_name       = "c"
    key                  = var.k
  }
}`, "main.c4s.hcl:6,28-33: Variables not allowed"},
		"unknown type": {`c4sctl {
  backend "s3" {}
}`, `There is no backend type named "s3"`},
		"unknown argument": {`c4sctl {
  backend "azurerm" {
    storage_account_name = "a"
    container_name       = "c"
    key                  = "k"
    resource_group_name  = "rg"
  }
}`, `main.c4s.hcl:6,5-24: Unsupported argument; The "azurerm" backend has no argument named "resource_group_name"`},
		"two backends": {`c4sctl {
  backend "local" {}
}
c4sctl {
  backend "local" {}
}`, "Duplicate backend configuration"},
		"wrong type": {`c4sctl {
  backend "azurerm" {
    storage_account_name = "a"
    container_name       = "c"
    key                  = "k"
    use_azuread_auth     = "maybe"
  }
}`, "use_azuread_auth must be a bool"},
	} {
		t.Run(name, func(t *testing.T) {
			_, diags := LoadFiles("cfg", map[string][]byte{"main.c4s.hcl": []byte(tc.src)}, testSchemas())
			if !diags.HasErrors() {
				t.Fatal("no error")
			}
			if !strings.Contains(diags.Error(), tc.want) {
				t.Errorf("got %s\nwant it to contain %s", diags.Error(), tc.want)
			}
			if strings.Contains(diags.Error(), "c2VjcmV0") || strings.Contains(diags.Error(), "sig=abc") {
				t.Errorf("the error repeats the secret: %s", diags.Error())
			}
		})
	}
}

func TestWorkspaceInConfiguration(t *testing.T) {
	cfg := load(t, `
variable "tenants" {
  default = { default = "dev", contoso = "11111111-aaaa" }
}
locals {
  tenant = var.tenants[c4sctl.workspace]
}
output "tenant" { value = local.tenant }
output "ws" { value = "state for ${c4sctl.workspace}" }
`)
	for ws, want := range map[string]string{"": "dev", "contoso": "11111111-aaaa"} {
		ev, diags := NewEvaluator(cfg, Inputs{Workspace: ws})
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		out, diags := ev.Outputs(map[string]cty.Value{})
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		if got := out["tenant"].Value.AsString(); got != want {
			t.Errorf("workspace %q: tenant %q, want %q", ws, got, want)
		}
	}
	_, diags := LoadFiles("cfg", map[string][]byte{"main.c4s.hcl": []byte(`output "x" { value = c4sctl.workspaces }`)}, testSchemas())
	if !strings.Contains(diags.Error(), "The only c4sctl value is c4sctl.workspace") {
		t.Errorf("got %v", diags)
	}
}

// The error about a key written in the backend block is printed with its source snippet: the
// snippet must not print the key (a CI log would keep it), but still point at the line.
func TestBackendSecretNotInSnippet(t *testing.T) {
	src := []byte(`c4sctl {
  backend "azurerm" {
    storage_account_name = "a"
    container_name       = "c"
    key                  = "k"
    access_key           = "Q0FOQVJZLWtleS1jYW5hcnk="
    sas_token            = "sv=2024&sig=CANARYSIG"
    bogus                = 1
  }
}`)
	sources := map[string][]byte{"main.c4s.hcl": src}
	_, diags := LoadFiles("cfg", sources, testSchemas())
	if !diags.HasErrors() {
		t.Fatal("no error")
	}
	var out strings.Builder
	if err := WriteDiagnostics(&out, diags, sources, 100, false); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "Q0FOQVJZ") || strings.Contains(out.String(), "CANARYSIG") {
		t.Errorf("the diagnostics print the secret:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "line 6") || !strings.Contains(out.String(), "access_key           = ****") ||
		!strings.Contains(out.String(), "Unsupported argument") {
		t.Errorf("the diagnostics lost their location or other errors:\n%s", out.String())
	}
	if string(sources["main.c4s.hcl"]) != string(src) {
		t.Error("the configuration's source was changed")
	}
}
