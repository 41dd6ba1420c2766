package cli

import (
	"context"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/providers/providertest"
	"github.com/c4sctl/c4sctl/pkg/schema"
)

// gatedProvider is the memory provider under another name whose Configure runs a hook first.
type gatedProvider struct {
	providers.Provider
	name string
	hook func() error
}

func (p gatedProvider) Name() string                  { return p.name }
func (p gatedProvider) Resources() []*schema.Resource { return nil }
func (p gatedProvider) Configure(ctx context.Context, v cty.Value, env *providers.Env) (providers.Client, error) {
	if err := p.hook(); err != nil {
		return nil, err
	}
	return p.Provider.Configure(ctx, v, env)
}

// Providers are configured beside each other: one whose Configure waits for a round trip (a
// Salesforce sign-in) does not hold up another's (Microsoft Graph's first request starts the
// plan's longest chain). Callers of one provider share its configuration.
func TestProvidersAreConfiguredBesideEachOther(t *testing.T) {
	entered := make(chan struct{})
	var slowCalls, fastCalls int
	var mu sync.Mutex
	slow := gatedProvider{Provider: providertest.NewMemory(), name: "slowsignin", hook: func() error {
		mu.Lock()
		slowCalls++
		mu.Unlock()
		select {
		case <-entered: // the other provider was configured meanwhile
			return nil
		case <-time.After(5 * time.Second):
			return errors.New("the other provider was not configured while this one signed in")
		}
	}}
	fast := gatedProvider{Provider: providertest.NewMemory(), name: "fastsignin", hook: func() error {
		mu.Lock()
		fastCalls++
		mu.Unlock()
		close(entered)
		return nil
	}}
	dir := writeConfig(t, map[string]string{"main.c4s.hcl": "provider \"slowsignin\" {}\nprovider \"fastsignin\" {}\n"})
	g := &Globals{Dir: dir, Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }, extraProviders: []providers.Provider{slow, fast}}
	var wg sync.WaitGroup
	errs := make([]error, 3)
	clients := make([]providers.Client, 3)
	for i, name := range []string{"slowsignin", "slowsignin", "fastsignin"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i == 2 {
				time.Sleep(50 * time.Millisecond) // after the slow one has started
			}
			clients[i], errs[i] = g.Client(context.Background(), name)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
	}
	if slowCalls != 1 || fastCalls != 1 || clients[0] != clients[1] {
		t.Fatalf("Configure ran %d and %d times (want once each; two callers of one provider share it)", slowCalls, fastCalls)
	}
	if c, err := g.Client(context.Background(), "slowsignin"); err != nil || c != clients[0] {
		t.Fatalf("a later call configured again: %v", err)
	}
}
