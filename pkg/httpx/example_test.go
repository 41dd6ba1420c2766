package httpx_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/c4sctl/c4sctl/pkg/httpx"
)

// An adapter creating an object: on an unknown outcome, re-read before creating again.
func Example_outcomeUnknown() {
	hc := httpx.NewClient(httpx.Options{
		MaxAttempts: 6,
		MaxElapsed:  2 * time.Minute,
		Limits:      map[string]httpx.Limit{"graph.microsoft.com": {Concurrency: 4, RPS: 50}},
	})
	create := func(ctx context.Context, name string) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, "https://graph.microsoft.com/v1.0/groups", strings.NewReader(`{"displayName":"`+name+`"}`))
		if err != nil {
			return err
		}
		resp, err := hc.Do(req)
		var ou *httpx.OutcomeUnknownError
		if errors.As(err, &ou) {
			// The group may exist now: look it up by name; create again only if it is absent.
			return fmt.Errorf("create %s: %w", name, err)
		}
		if err != nil {
			return fmt.Errorf("create %s: %s", name, httpx.Redact(err.Error()))
		}
		defer resp.Body.Close()
		return nil
	}
	_ = create
	fmt.Println(httpx.CheckEndpoint("http://graph.microsoft.com/v1.0") != nil)
	// Output: true
}
