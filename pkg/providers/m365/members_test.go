package m365_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/c4sctl/c4sctl/pkg/providers/m365"
	"github.com/c4sctl/c4sctl/pkg/providers/providertest"
	"github.com/c4sctl/c4sctl/pkg/sandbox/graphapi"
)

// A plan reads the seller group for the licence assignment and for the seller coverage at the
// same time: a second read of a group whose read is under way gets that read's answer (one set of
// member pages), while a read after it has ended reads again (apply reads after its writes).
func TestGroupMemberReadsUnderWayAreShared(t *testing.T) {
	svc := graphapi.New()
	svc.SeedLarge(3000, 2500) // Sellers: 3 pages of 999
	cl, sb := providertest.Start(t, m365.New(), svc)
	c := cl.(*m365.Client)
	var pages atomic.Int64
	firstPage := make(chan struct{})
	release := make(chan struct{})
	var once sync.Once
	sb.Use(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/groups/"+graphapi.SellersGroupID+"/members") {
				if pages.Add(1) == 1 {
					once.Do(func() { close(firstPage) })
					<-release // hold the first read's first page until the second caller has asked
				}
			}
			next.ServeHTTP(w, r)
		})
	})
	ctx := context.Background()
	var wg sync.WaitGroup
	var ids []string
	var idsErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		ids, _, idsErr = c.GroupMemberIDs(ctx, graphapi.SellersGroupID)
	}()
	<-firstPage
	wg.Add(1)
	var gid string
	var members []m365.Member
	var membersErr error
	go func() {
		defer wg.Done()
		gid, members, membersErr = c.GroupMembers(ctx, graphapi.SellersGroupName) // by name: a group lookup, then the members
	}()
	time.Sleep(300 * time.Millisecond) // the second caller has looked the group up and is waiting on the read
	close(release)
	wg.Wait()
	if idsErr != nil || membersErr != nil {
		t.Fatalf("reads: %v, %v", idsErr, membersErr)
	}
	if !strings.EqualFold(gid, graphapi.SellersGroupID) || len(ids) == 0 || len(ids) != len(members) {
		t.Fatalf("group %s: %d ids, %d members", gid, len(ids), len(members))
	}
	if n := pages.Load(); n != 3 {
		t.Fatalf("%d member pages for two reads under way at once, want 3 (one read)", n)
	}
	if _, _, err := c.GroupMemberIDs(ctx, graphapi.SellersGroupID); err != nil {
		t.Fatal(err)
	}
	if n := pages.Load(); n != 6 {
		t.Fatalf("%d member pages after a later read, want 6: a read that has ended is not reused", n)
	}
}
