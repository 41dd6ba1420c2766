package cli

import (
	"testing"

	"github.com/c4sctl/c4sctl/pkg/httpx"
)

func TestParseHTTPLimits(t *testing.T) {
	var o httpx.Options
	if err := parseHTTPLimits("48, graph=45/4, graph.microsoft.com=50", &o); err != nil {
		t.Fatal(err)
	}
	if o.RPS != 48 || o.Limits["/graph"] != (httpx.Limit{RPS: 45, Concurrency: 4}) || o.Limits["graph.microsoft.com"].RPS != 50 {
		t.Fatalf("got RPS %v, limits %+v", o.RPS, o.Limits)
	}
	for _, bad := range []string{"graph=fast", "graph=5/0", "-1"} {
		if err := parseHTTPLimits(bad, &httpx.Options{}); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
