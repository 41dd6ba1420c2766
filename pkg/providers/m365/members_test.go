package m365_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
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

// reorderedWriter keeps an answer to write it again with its keys in another order.
type reorderedWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (w *reorderedWriter) WriteHeader(code int)        { w.status = code }
func (w *reorderedWriter) Write(b []byte) (int, error) { return w.body.Write(b) }
func (w *reorderedWriter) Flush()                      {}

// OData lets a service write @odata.nextLink after value (the JSON format allows control
// information at the end of the object). Graph writes it first (docs/api/graph.md, Paging) and
// c4sctl asks for the next page as soon as it has read it; written last, every page is still
// read, each once, and the items are the same.
func TestPagingWithTheNextLinkAfterValue(t *testing.T) {
	svc := graphapi.New()
	svc.SeedLarge(3000, 2500) // Sellers: 3 pages of 999
	cl, sb := providertest.Start(t, m365.New(), svc)
	c := cl.(*m365.Client)
	want, _, err := c.GroupMemberIDs(context.Background(), graphapi.SellersGroupID)
	if err != nil || len(want) != 2500 {
		t.Fatalf("members with the link first: %d, %v", len(want), err)
	}
	var pages, last atomic.Int64
	sb.Use(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !strings.HasSuffix(r.URL.Path, "/groups/"+graphapi.SellersGroupID+"/members") {
				next.ServeHTTP(w, r)
				return
			}
			pages.Add(1)
			rw := &reorderedWriter{ResponseWriter: w, status: http.StatusOK}
			next.ServeHTTP(rw, r)
			var page map[string]json.RawMessage
			if err := json.Unmarshal(rw.body.Bytes(), &page); err != nil {
				t.Errorf("page: %v", err)
				return
			}
			var b bytes.Buffer
			b.WriteString(`{"@odata.context":` + string(page["@odata.context"]) + `,"value":` + string(page["value"]))
			if l, ok := page["@odata.nextLink"]; ok {
				b.WriteString(`,"@odata.nextLink":` + string(l))
				last.Store(int64(b.Len()) - int64(len(l)))
			}
			b.WriteString("}")
			w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
			w.WriteHeader(rw.status)
			_, _ = w.Write(b.Bytes())
		})
	})
	got, _, err := c.GroupMemberIDs(context.Background(), graphapi.SellersGroupID)
	if err != nil {
		t.Fatal(err)
	}
	if pages.Load() != 3 || last.Load() == 0 {
		t.Fatalf("%d pages read (want 3), link written last: %v", pages.Load(), last.Load() != 0)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("%d members with the link last, %d with it first", len(got), len(want))
	}
}
