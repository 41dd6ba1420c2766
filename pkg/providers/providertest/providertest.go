// Package providertest starts a sandbox and configures a real provider against it over HTTPS,
// for adapter tests. Nothing here is a mock: the provider talks HTTP to the sandbox server.
package providertest

import (
	"context"
	"log/slog"
	"testing"

	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/sandbox"
	"github.com/zclconf/go-cty/cty"
)

// Env returns a provider environment whose HTTP client trusts the sandbox and whose
// environment variables are empty (tests must not read the developer's AZURE_* or SF_*).
func Env(sb *sandbox.Server) *providers.Env {
	return &providers.Env{HTTPClient: sb.Client(), Getenv: func(string) string { return "" }, Log: slog.New(slog.DiscardHandler)}
}

// Start starts a sandbox with the given services (closed at the end of the test) and returns
// the provider configured against it with its SandboxConfig values merged over overrides.
func Start(t testing.TB, p providers.Provider, services ...sandbox.Service) (providers.Client, *sandbox.Server) {
	t.Helper()
	sb, err := sandbox.Start(sandbox.Options{}, services...)
	if err != nil {
		t.Fatalf("start sandbox: %v", err)
	}
	t.Cleanup(func() { _ = sb.Close() })
	c, err := Configure(p, sb, nil)
	if err != nil {
		t.Fatalf("configure %s against the sandbox: %v", p.Name(), err)
	}
	return c, sb
}

// Configure configures p against sb: the block's attributes are null except the sandbox values
// and then the given overrides.
func Configure(p providers.Provider, sb *sandbox.Server, overrides map[string]cty.Value) (providers.Client, error) {
	return p.Configure(context.Background(), ConfigValue(p, sb.URL, overrides), Env(sb))
}

// ConfigValue builds a provider block value: schema defaults, then the sandbox values, then overrides.
func ConfigValue(p providers.Provider, baseURL string, overrides map[string]cty.Value) cty.Value {
	vals := map[string]cty.Value{}
	for _, a := range p.ConfigSchema().Attributes {
		if a.Default != cty.NilVal {
			vals[a.Name] = a.Default
		} else {
			vals[a.Name] = cty.NullVal(a.Type)
		}
	}
	for k, v := range p.SandboxConfig(baseURL) {
		vals[k] = v
	}
	for k, v := range overrides {
		vals[k] = v
	}
	return cty.ObjectVal(vals)
}

// Object returns a resource value of the schema type with every attribute null but the given ones.
func Object(typ cty.Type, set map[string]cty.Value) cty.Value {
	vals := map[string]cty.Value{}
	for name, at := range typ.AttributeTypes() {
		if v, ok := set[name]; ok {
			vals[name] = v
		} else {
			vals[name] = cty.NullVal(at)
		}
	}
	return cty.ObjectVal(vals)
}
