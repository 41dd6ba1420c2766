// Package archtest holds tests of the layout's rules: which packages may depend on which.
package archtest

import (
	"os/exec"
	"strings"
	"testing"
)

func goList(t *testing.T, args ...string) []string {
	t.Helper()
	out, err := exec.Command("go", append([]string{"list"}, args...)...).Output()
	if err != nil {
		t.Fatalf("go list %v: %v", args, err)
	}
	return strings.Split(strings.TrimSpace(string(out)), "\n")
}

// The engine (configuration, planning, applying, state) never depends on a cloud SDK: it talks
// to clouds only through the providers interface.
func TestEngineImportsNoCloudSDK(t *testing.T) {
	forbidden := []string{"github.com/microsoftgraph/", "github.com/microsoft/kiota", "github.com/Azure/", "github.com/AzureAD/", "github.com/simpleforce/"}
	engine := []string{"../../pkg/spec", "../../pkg/plan", "../../pkg/apply", "../../pkg/state", "../../pkg/graph", "../../pkg/schema", "../../pkg/providers"}
	for _, dep := range goList(t, append([]string{"-deps"}, engine...)...) {
		for _, f := range forbidden {
			if strings.HasPrefix(dep, f) {
				t.Errorf("the engine depends on %s", dep)
			}
		}
	}
}

// msgraph-sdk-go is heavy: only the microsoft365 adapter imports it.
func TestOnlyTheM365AdapterImportsMsgraph(t *testing.T) {
	for _, line := range goList(t, "-f", `{{.ImportPath}} {{join .Imports " "}}`, "github.com/c4sctl/c4sctl/...") {
		pkg, imports, _ := strings.Cut(line, " ")
		if strings.Contains(imports, "github.com/microsoftgraph/") && pkg != "github.com/c4sctl/c4sctl/pkg/providers/m365" {
			t.Errorf("%s imports msgraph-sdk-go; keep it inside pkg/providers/m365", pkg)
		}
	}
}
