package m365_test

import (
	"context"
	"testing"

	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/providers/m365"
	"github.com/c4sctl/c4sctl/pkg/providers/providertest"
	"github.com/c4sctl/c4sctl/pkg/sandbox/graphapi"
	"github.com/zclconf/go-cty/cty"
)

// BenchmarkPerUserLicensing licenses a 10,000-member group per user in a 50,000-user tenant and
// reports the Graph requests each run takes.
func BenchmarkPerUserLicensing(b *testing.B) {
	svc := graphapi.New()
	svc.SeedLarge(50000, 10000)
	cl, sb := providertest.Start(b, m365.New(), svc)
	c := cl.(*m365.Client)
	cfg := providertest.Object(licType(), map[string]cty.Value{"sku_part_number": cty.StringVal(m365.Defaults.SkuPartNumber), "all_licensed": cty.True,
		"users_from_group": cty.StringVal(graphapi.SellersGroupName)})
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		_ = sb.Mutate(func() error { svc.Reset(); return nil })
		sb.RequestLog().Reset()
		b.StartTimer()
		_, _ = c.Apply(context.Background(), providers.ApplyRequest{Type: "m365_license_assignment", Action: providers.Create, Planned: cfg})
		b.ReportMetric(float64(sb.RequestLog().Count("POST /graph/v1.0/$batch")), "batches/op")
		b.ReportMetric(float64(sb.RequestLog().Total()), "requests/op")
	}
}
