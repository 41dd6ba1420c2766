package m365_test

import (
	"context"
	"strings"
	"testing"

	"github.com/c4sctl/c4sctl/pkg/providers"
	_ "github.com/c4sctl/c4sctl/pkg/providers/m365"
	"github.com/c4sctl/c4sctl/pkg/sandbox/graphapi"
)

// Names reads every group it was not told already in one $batch (20 ids a request), leaves out
// an id Graph has no group for, and asks nothing for a kind it does not name.
func TestNamesGroupsInOneBatch(t *testing.T) {
	c, sb, _ := start(t)
	ctx := context.Background()
	sb.RequestLog().Reset()
	const gone = "5a11e500-0000-4000-8000-0000000000ff"
	got, err := c.Names(ctx, providers.KindEntraGroup, []string{graphapi.SellersGroupID, graphapi.AllSalesGroupID, gone})
	if err != nil {
		t.Fatal(err)
	}
	if got[graphapi.SellersGroupID] != graphapi.SellersGroupName || got[graphapi.AllSalesGroupID] != graphapi.AllSalesGroupName || got[gone] != "" {
		t.Errorf("names: %v", got)
	}
	if graph, b := strings.Count(sb.RequestLog().String(), "/graph/"), sb.RequestLog().Count("POST /graph/v1.0/$batch"); graph != 1 || b != 1 {
		t.Errorf("%d Graph requests (%d $batch), want one $batch:\n%s", graph, b, sb.RequestLog())
	}
	sb.RequestLog().Reset()
	if got, err := c.Names(ctx, providers.KindEntraGroup, []string{graphapi.SellersGroupID}); err != nil || got[graphapi.SellersGroupID] != graphapi.SellersGroupName || strings.Contains(sb.RequestLog().String(), "/graph/") {
		t.Errorf("a name read before: %v %v:\n%s", got, err, sb.RequestLog())
	}
	if got, _ := c.Names(ctx, "salesforce_profile", []string{graphapi.SellersGroupID}); got != nil {
		t.Errorf("another kind: %v", got)
	}
}
