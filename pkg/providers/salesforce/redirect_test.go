package salesforce

import (
	"net/http"
	"strings"
	"testing"

	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/providers/providertest"
	"github.com/c4sctl/c4sctl/pkg/sandbox"
	"github.com/c4sctl/c4sctl/pkg/sandbox/salesforceapi"
	"github.com/zclconf/go-cty/cty"
)

const canary = "CANARY-SECRET-sf-90b2"

func plainSandbox(t *testing.T) *sandbox.Server {
	sb, err := sandbox.Start(sandbox.Options{}, salesforceapi.New())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sb.Close() })
	return sb
}

// The client credentials token request carries the consumer secret: a 307 is not followed.
func TestTokenRequestRedirectSendsNoSecret(t *testing.T) {
	sb := plainSandbox(t)
	trap := providertest.NewRedirectTrap(t, sb, canary, func(r *http.Request) bool {
		return strings.HasSuffix(r.URL.Path, "/services/oauth2/token")
	}, nil)
	_, err := New().Configure(ctx, providertest.ConfigValue(New(), trap.Front.URL, map[string]cty.Value{"client_secret": cty.StringVal(canary)}), trap.Env)
	trap.Check(t, err)
}

// The Salesforce transport sets the bearer token on every request it sends, redirect hops
// included: a redirect to another host must be refused before that.
func TestAPIRedirectToAnotherHostSendsNoToken(t *testing.T) {
	sb := plainSandbox(t)
	trap := providertest.NewRedirectTrap(t, sb, canary, func(r *http.Request) bool {
		return strings.Contains(r.URL.Path, "/services/data/")
	}, map[string]string{"SF_ACCESS_TOKEN": canary})
	c, err := New().Configure(ctx, providertest.ConfigValue(New(), trap.Front.URL, map[string]cty.Value{"auth": cty.StringVal(AuthAccessToken)}), trap.Env)
	if err == nil {
		_, err = c.Read(ctx, providers.ReadRequest{Type: permissionSetSchema.Type, Config: providertest.Object(permissionSetSchema.ImpliedType(), map[string]cty.Value{"name": cty.StringVal("Copilot_for_Sales")})})
	}
	trap.Check(t, err)
}

// A PEM pasted into private_key_file (or SF_PRIVATE_KEY_FILE) is detected: the error says to
// use SF_PRIVATE_KEY and never shows the key (os.ReadFile's error would quote it as a path).
func TestPEMInKeyPathIsNotEchoed(t *testing.T) {
	sb := plainSandbox(t)
	pemText := "-----BEGIN RSA PRIVATE KEY-----\n" + canary + "\n-----END RSA PRIVATE KEY-----\n"
	over := map[string]cty.Value{"auth": cty.StringVal(AuthJWTBearer), "client_secret": cty.NullVal(cty.String),
		"username": cty.StringVal("admin@example.com"), "private_key_file": cty.StringVal(pemText)}
	_, err := providertest.Configure(New(), sb, over)
	if err == nil || strings.Contains(err.Error(), canary) || !strings.Contains(err.Error(), "SF_PRIVATE_KEY") {
		t.Fatalf("err = %v: want the PEM-content variable named and the key not shown", err)
	}
}
