package m365_test

import (
	"context"
	"testing"
	"time"

	"github.com/c4sctl/c4sctl/pkg/httpx"
	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/sandbox/graphapi"
	"github.com/zclconf/go-cty/cty"
)

// Graph throttles $batch items one by one: the adapter sends them again after their Retry-After
// and tells the HTTP layer, which paces the whole API by them.
func TestThrottledBatchItemsReachTheHTTPLayer(t *testing.T) {
	c, _, svc, layer := startHTTPX(t)
	cfg := licCfg(map[string]cty.Value{"users": cty.SetVal([]cty.Value{cty.StringVal(graphapi.UserUPN(3)), cty.StringVal(graphapi.UserUPN(4))})})
	svc.ThrottleBatchItems(1, time.Second)
	began := time.Now()
	if _, err := c.Apply(context.Background(), providers.ApplyRequest{Type: "m365_license_assignment", Action: providers.Create, Planned: cfg}); err != nil {
		t.Fatalf("apply with a throttled batch item: %v", err)
	}
	if d := time.Since(began); d < time.Second {
		t.Fatalf("the throttled item was sent again after %s, before its Retry-After", d)
	}
	if s, _ := httpx.StatsOf(layer); s.ThrottledParts != 1 {
		t.Fatalf("the HTTP layer heard of %d throttled parts, want 1", s.ThrottledParts)
	}
}
