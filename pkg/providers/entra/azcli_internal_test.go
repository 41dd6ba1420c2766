package entra

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/c4sctl/c4sctl/pkg/providers"
)

// auth = "azure_cli" without az on PATH says how to install it and sign in, at once (not at the
// first request of each provider); with az found, the credential is built.
func TestAzureCLIWithoutAzSaysHowToInstall(t *testing.T) {
	saved := lookPath
	t.Cleanup(func() { lookPath = saved })
	env := &providers.Env{HTTPClient: &http.Client{}}
	s := Settings{Auth: "azure_cli", Cloud: "public", TenantID: "contoso.onmicrosoft.com"}

	lookPath = func(string) (string, error) { return "", errors.New("executable file not found in $PATH") }
	_, err := Credential(s, env)
	if err == nil {
		t.Fatal("no error without az")
	}
	for _, want := range []string{"Azure CLI (az)", "install-azure-cli", "az login --tenant contoso.onmicrosoft.com"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	lookPath = func(string) (string, error) { return "/usr/bin/az", nil }
	if _, err := Credential(s, env); err != nil {
		t.Errorf("with az: %v", err)
	}
}
