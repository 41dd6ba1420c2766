package salesforce

import (
	"context"
	"errors"
	"testing"

	"github.com/c4sctl/c4sctl/pkg/sandbox/salesforceapi"
)

// A query of several pages returns every record once, in order, with one query-more request per
// further page; a cancelled context ends it with the context's error.
func TestQueryMorePages(t *testing.T) {
	c, sb, svc := start(t)
	mutate(t, sb, func() error {
		_, err := svc.AddUsers(3*salesforceapi.PageSize+10, salesforceapi.ProfileStandardUser)
		return err
	})
	var want []string
	sb.View(func() {
		for _, u := range svc.Org().Users {
			want = append(want, u.ID)
		}
	})
	sb.RequestLog().Reset()
	recs, err := c.query(context.Background(), "SELECT Id FROM User")
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(want) {
		t.Fatalf("%d records, want %d", len(recs), len(want))
	}
	for i, r := range recs {
		if str(r, "Id") != want[i] {
			t.Fatalf("record %d is %s, want %s (order or duplicates)", i, str(r, "Id"), want[i])
		}
	}
	pages := (len(want) + salesforceapi.PageSize - 1) / salesforceapi.PageSize
	if n := sb.RequestLog().Count("GET /salesforce/services/data/{v}/query/{locator}"); n != pages-1 {
		t.Fatalf("%d query-more requests for %d pages", n, pages)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.query(ctx, "SELECT Id FROM User"); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled query: %v", err)
	}
}
