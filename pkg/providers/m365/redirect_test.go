package m365_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/providers/m365"
	"github.com/c4sctl/c4sctl/pkg/providers/providertest"
	"github.com/c4sctl/c4sctl/pkg/sandbox"
	"github.com/c4sctl/c4sctl/pkg/sandbox/graphapi"
	"github.com/zclconf/go-cty/cty"
)

const canary = "CANARY-SECRET-m365-5d1e"

func startPlain(t *testing.T) *sandbox.Server {
	sb, err := sandbox.Start(sandbox.Options{}, graphapi.New())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sb.Close() })
	return sb
}

// The token request (client secret in its body) meets a 307 to another loopback server: it is
// not followed, the other server sees nothing, and the error names both URLs.
func TestTokenRequestRedirectSendsNoSecret(t *testing.T) {
	sb := startPlain(t)
	trap := providertest.NewRedirectTrap(t, sb, canary, func(r *http.Request) bool {
		return r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token")
	}, nil)
	p := m365.New()
	c, err := p.Configure(context.Background(), providertest.ConfigValue(p, trap.Front.URL, map[string]cty.Value{"client_secret": cty.StringVal(canary)}), trap.Env)
	if err == nil {
		_, err = c.Read(context.Background(), providers.ReadRequest{Type: "m365_license_assignment", Config: licCfg(map[string]cty.Value{"group_name": cty.StringVal(graphapi.AllSalesGroupName)})})
	}
	trap.Check(t, err)
}

// A Graph call redirected to another host is refused before the bearer token leaves: Kiota's
// own redirect handler is not in the chain, the client's CheckRedirect is httpx's.
func TestGraphRedirectToAnotherHostSendsNoToken(t *testing.T) {
	sb := startPlain(t)
	trap := providertest.NewRedirectTrap(t, sb, "Bearer", func(r *http.Request) bool {
		return strings.HasPrefix(r.URL.Path, "/graph/")
	}, nil)
	p := m365.New()
	c, err := p.Configure(context.Background(), providertest.ConfigValue(p, trap.Front.URL, nil), trap.Env)
	if err == nil {
		_, err = c.Read(context.Background(), providers.ReadRequest{Type: "m365_license_assignment", Config: licCfg(map[string]cty.Value{"group_name": cty.StringVal(graphapi.AllSalesGroupName)})})
	}
	trap.Check(t, err)
}
