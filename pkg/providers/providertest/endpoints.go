package providertest

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/zclconf/go-cty/cty"
)

// EndpointCases are endpoint settings and whether a provider must accept them: https with a
// host, never plain http to another machine (tokens and secrets travel in the requests), nothing
// that is not an absolute URL.
var EndpointCases = []struct {
	URL string
	OK  bool
}{
	{"https://api.example.com", true},
	{"https://api.example.com/base/", true},
	{"http://api.example.com", false},
	{"http://10.0.0.8:8443", false},
	{"HTTP://api.example.com", false},
	{"ftp://api.example.com", false},
	{"api.example.com", false},
	{"//api.example.com", false},
	{"https://", false},
	{"", true}, // unset: the cloud's default endpoint
}

// CheckEndpointSettings configures p with each of EndpointCases in each of the named attributes
// (the rest as SandboxConfig points at an https sandbox URL, plus base; environment variables
// from vars) and checks that Configure refuses exactly the bad ones, naming https. Configure must
// not need the network with these settings.
func CheckEndpointSettings(t *testing.T, p providers.Provider, attrs []string, base map[string]cty.Value, vars map[string]string) {
	t.Helper()
	env := &providers.Env{HTTPClient: &http.Client{}, Getenv: func(k string) string { return vars[k] }, Log: slog.New(slog.DiscardHandler)}
	for _, attr := range attrs {
		for _, tc := range EndpointCases {
			over := map[string]cty.Value{}
			for k, v := range base {
				over[k] = v
			}
			if tc.URL == "" {
				over[attr] = cty.NullVal(cty.String)
			} else {
				over[attr] = cty.StringVal(tc.URL)
			}
			_, err := p.Configure(context.Background(), ConfigValue(p, "https://sandbox.example.com", over), env)
			switch {
			case tc.OK && err != nil:
				t.Errorf("%s = %q: refused: %v", attr, tc.URL, err)
			case !tc.OK && err == nil:
				t.Errorf("%s = %q: accepted, want an error", attr, tc.URL)
			case !tc.OK && !strings.Contains(strings.ToLower(err.Error()), "https"):
				t.Errorf("%s = %q: the error does not say to use https: %v", attr, tc.URL, err)
			}
		}
	}
}
