package salesforce

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

// pageServer answers every request with body and records the paths asked for.
func pageServer(t *testing.T, body string) (*Client, *[]string) {
	t.Helper()
	var paths []string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.URL.Path)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	c := &Client{instance: srv.URL, log: slog.New(slog.DiscardHandler), token: "00Dxx0000001gPL!AR8AQ", gen: 1}
	c.hc = &http.Client{Transport: &transport{c: c, base: srv.Client().Transport}}
	return c, &paths
}

// The streaming query-more decoder reads a page written from Salesforce's documentation: its
// records (relationships nested) and its nextRecordsUrl, which it hands on before reading the
// records.
func TestStreamPageDecodesTheDocumentedShape(t *testing.T) {
	b, err := os.ReadFile("testdata/query_more_page.json")
	if err != nil {
		t.Fatal(err)
	}
	c, _ := pageServer(t, string(b))
	var got string
	recs, err := c.streamPage(context.Background(), "/services/data/v62.0/query/01gD0000002HU6KIAW-2000", func(link string) error {
		got = link
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got != "/services/data/v62.0/query/01gD0000002HU6KIAW-4000" {
		t.Fatalf("nextRecordsUrl %q", got)
	}
	if len(recs) != 2 || str(recs[1], "Assignee.Username") != "seller2002@contoso.example" || str(recs[0], "AssigneeId") != "0055g00000AbCdEAAV" {
		t.Fatalf("records %v", recs)
	}

	// The link after the records is followed too; done without a link ends; done false without
	// one, a link to another host and a body that is not the shape are errors, never a silent
	// short list.
	for body, want := range map[string]string{
		`{"records":[{"Id":"a"}],"done":false,"nextRecordsUrl":"/services/data/v62.0/query/x-4000","totalSize":3}`: "link",
		`{"totalSize":1,"done":true,"records":[{"Id":"a"}]}`:                                                       "done",
		`{"totalSize":3,"done":false,"records":[{"Id":"a"}]}`:                                                      "error: done is false",
		`{"totalSize":3,"done":false,"nextRecordsUrl":"https://evil.example/x","records":[]}`:                      "error: unexpected nextRecordsUrl",
		`[{"Id":"a"}]`: "error: not a JSON object",
	} {
		c, _ := pageServer(t, body)
		link := ""
		_, err := c.streamPage(context.Background(), "/services/data/v62.0/query/x-2000", func(l string) error {
			link = l
			return checkNextRecordsURL(l)
		})
		switch {
		case strings.HasPrefix(want, "error: "):
			if err == nil || !strings.Contains(err.Error(), strings.TrimPrefix(want, "error: ")) {
				t.Errorf("%s: %v, want an error naming %q", body, err, strings.TrimPrefix(want, "error: "))
			}
		case want == "link" && (err != nil || link != "/services/data/v62.0/query/x-4000"):
			t.Errorf("%s: link %q, %v", body, link, err)
		case want == "done" && (err != nil || link != ""):
			t.Errorf("%s: link %q, %v", body, link, err)
		}
	}
}
