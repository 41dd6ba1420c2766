package cli

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/providers/m365"
	"github.com/c4sctl/c4sctl/pkg/providers/providertest"
	"github.com/c4sctl/c4sctl/pkg/providers/salesforce"
	"github.com/c4sctl/c4sctl/pkg/providers/teams"
	"github.com/c4sctl/c4sctl/pkg/sandbox/salesforceapi"
)

// The reconciliation with Salesforce needs the sellers, not their Teams policies: it runs while
// the Teams user configurations are read (the plan's longest chain of requests), not after them.
// The sandbox holds the user configurations' answer until a Salesforce query arrives (or gives
// up after a while, as it would when the reconciliation waited for that answer).
func TestReconciliationRunsBesideTheUserConfigurations(t *testing.T) {
	s := startStandalone(t, "overlap-secret-7f3a")
	configure := func(p providers.Provider) providers.Client {
		c, err := providertest.Configure(p, s.sb, map[string]cty.Value{"client_secret": cty.StringVal(s.secret)})
		if err != nil {
			t.Fatalf("configure %s: %v", p.Name(), err)
		}
		return c
	}
	spec := CoverageSpec{Group: "Sellers", Sku: m365.Defaults.SkuPartNumber, PermissionSet: "Copilot_for_Sales_Users", ConnectedApp: salesforceapi.PowerPlatformApp,
		M365: configure(m365.New()).(*m365.Client), Teams: configure(teams.New()).(*teams.Client), Salesforce: configure(salesforce.New()).(*salesforce.Client)}
	queried := make(chan struct{})
	var once sync.Once
	var mu sync.Mutex
	held, beside := 0, 0
	s.sb.Use(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch p := r.URL.Path; {
			case strings.HasPrefix(p, "/salesforce/services/data/") && strings.Contains(p, "/query"):
				once.Do(func() { close(queried) })
			case strings.HasSuffix(p, "/admin/teams/userConfigurations"):
				ok := false
				select {
				case <-queried:
					ok = true
				case <-time.After(5 * time.Second):
				}
				mu.Lock()
				held++
				if ok {
					beside++
				}
				mu.Unlock()
			}
			next.ServeHTTP(w, r)
		})
	})
	cov, err := ComputeCoverage(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if cov.Reconciliation == nil {
		t.Fatalf("no reconciliation: %+v", cov)
	}
	if held == 0 || beside != held {
		t.Fatalf("%d of %d user configuration pages were answered after a Salesforce query had arrived: the reconciliation waited for them", beside, held)
	}
}
