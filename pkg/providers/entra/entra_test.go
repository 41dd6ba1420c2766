package entra_test

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/providers/entra"
	"github.com/c4sctl/c4sctl/pkg/sandbox"
	"github.com/zclconf/go-cty/cty"
)

func TestClientSecretAgainstSandbox(t *testing.T) {
	sb, err := sandbox.Start(sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	env := &providers.Env{HTTPClient: sb.Client(), Getenv: func(string) string { return "" }, Log: slog.New(slog.DiscardHandler)}
	vals := entra.SandboxValues(sb.URL, sandbox.TenantID, sandbox.ClientID, sandbox.ClientSecret)
	cred, err := entra.Credential(entra.Decode(cty.ObjectVal(vals), os.Getenv), env)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{"https://graph.microsoft.com/.default"}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(tok.Token, ".") != 2 {
		t.Fatalf("token is not a JWT: %q", tok.Token)
	}

	vals["client_secret"] = cty.StringVal("wrong")
	cred, _ = entra.Credential(entra.Decode(cty.ObjectVal(vals), os.Getenv), env)
	_, err = cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{"https://graph.microsoft.com/.default"}})
	if err == nil || !strings.Contains(err.Error(), "AADSTS7000215") {
		t.Fatalf("wrong secret: got %v, want AADSTS7000215", err)
	}
	if strings.Contains(err.Error(), "wrong") && strings.Contains(err.Error(), "client_secret=wrong") {
		t.Fatalf("error leaks the secret: %v", err)
	}
}

func TestConnectTrustsCAFile(t *testing.T) {
	sb, err := sandbox.Start(sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	caFile := t.TempDir() + "/ca.pem"
	if err := os.WriteFile(caFile, sb.CACertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	// A client that trusts only the system's authorities, as on a real machine.
	env := &providers.Env{HTTPClient: &http.Client{Transport: &http.Transport{}}, Getenv: func(string) string { return "" }, Log: slog.New(slog.DiscardHandler)}
	vals := entra.SandboxValues(sb.URL, sandbox.TenantID, sandbox.ClientID, sandbox.ClientSecret)
	scope := policy.TokenRequestOptions{Scopes: []string{"https://graph.microsoft.com/.default"}}

	_, _, cred, err := entra.Connect(cty.ObjectVal(vals), env)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cred.GetToken(context.Background(), scope); err == nil {
		t.Fatal("signed in to the sandbox without trusting its certificate")
	}
	vals["ca_file"] = cty.StringVal(caFile)
	_, _, cred, err = entra.Connect(cty.ObjectVal(vals), env)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cred.GetToken(context.Background(), scope); err != nil {
		t.Fatalf("with ca_file: %v", err)
	}
}

// A PEM pasted into client_certificate_path is detected and never shown.
func TestPEMInCertificatePathIsNotEchoed(t *testing.T) {
	const canary = "CANARY-entra-pem-31"
	pemText := "-----BEGIN PRIVATE KEY-----\n" + canary + "\n-----END PRIVATE KEY-----"
	for _, s := range []entra.Settings{
		{TenantID: "t", ClientID: "c", Auth: "client_certificate", Cloud: "public", CertPath: pemText},
		{TenantID: "t", ClientID: "c", Auth: "environment", Cloud: "public", CertPath: pemText},
	} {
		_, err := entra.Credential(s, &providers.Env{HTTPClient: &http.Client{}, Getenv: func(string) string { return "" }})
		if err == nil || strings.Contains(err.Error(), canary) || !strings.Contains(err.Error(), "client_certificate_path") {
			t.Errorf("auth %s: err = %v", s.Auth, err)
		}
	}
}

// Every attribute that declares an environment variable (schema.Attribute.Env, which the docs,
// `sandbox env` and `bootstrap` print) is read from it by Decode when the block leaves it unset.
func TestDecodeHonoursDeclaredEnv(t *testing.T) {
	field := map[string]func(entra.Settings) string{
		"tenant_id": func(s entra.Settings) string { return s.TenantID }, "client_id": func(s entra.Settings) string { return s.ClientID },
		"client_secret": func(s entra.Settings) string { return s.ClientSecret }, "client_certificate_path": func(s entra.Settings) string { return s.CertPath },
		"client_certificate_password": func(s entra.Settings) string { return s.CertPassword },
	}
	n := 0
	for _, a := range entra.Attributes() {
		if a.Env == "" {
			continue
		}
		n++
		get, ok := field[a.Name]
		if !ok {
			t.Errorf("%s declares %s but the test does not know its Settings field", a.Name, a.Env)
			continue
		}
		s := entra.Decode(cty.EmptyObjectVal, func(k string) string {
			if k == a.Env {
				return "from-" + k
			}
			return ""
		})
		if got := get(s); got != "from-"+a.Env {
			t.Errorf("%s: Decode read %q with only %s set", a.Name, got, a.Env)
		}
	}
	if n != len(field) {
		t.Errorf("%d attributes declare an environment variable, want %d", n, len(field))
	}
}

// The methods that check their settings before signing in ask for exactly what Methods declares
// they need, one at a time in the declared order.
func TestMethodsDeclareWhatCredentialAsksFor(t *testing.T) {
	if len(entra.Methods) != len(entra.AuthMethods) {
		t.Fatalf("%d methods documented, %d accepted", len(entra.Methods), len(entra.AuthMethods))
	}
	env := &providers.Env{HTTPClient: &http.Client{}}
	for i, m := range entra.Methods {
		if m.Name != entra.AuthMethods[i] {
			t.Errorf("Methods[%d] = %s, AuthMethods[%d] = %s", i, m.Name, i, entra.AuthMethods[i])
		}
		if m.Name != "client_secret" && m.Name != "client_certificate" {
			continue
		}
		vals := map[string]string{}
		for _, need := range m.Needs {
			cfg := map[string]cty.Value{"auth": cty.StringVal(m.Name)}
			for k, v := range vals {
				cfg[k] = cty.StringVal(v)
			}
			_, err := entra.Credential(entra.Decode(cty.ObjectVal(cfg), func(string) string { return "" }), env)
			if err == nil || !strings.Contains(err.Error(), need) {
				t.Errorf("%s without %s: %v", m.Name, need, err)
			}
			vals[need] = "x"
		}
	}
}
