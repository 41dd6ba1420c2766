package cli

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/c4sctl/c4sctl/pkg/httpx"
)

// parseHTTPLimits reads C4S_HTTP_LIMITS, the request-rate budget (and optionally the concurrency)
// of each API: comma-separated entries "API=RPS" or "API=RPS/CONCURRENCY", where API is a host
// ("graph.microsoft.com"), a sandbox service ("graph", "salesforce") or "*" for every API, and a
// bare "RPS" means "*=RPS". Keep the budget a few per cent under the API's allowed rate: httpx
// then sends no more than the API accepts instead of learning it from 429 answers.
func parseHTTPLimits(spec string, o *httpx.Options) error {
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		key, val, ok := strings.Cut(part, "=")
		if !ok {
			key, val = "*", part
		}
		key = strings.TrimSpace(key)
		rpsText, concText, hasConc := strings.Cut(strings.TrimSpace(val), "/")
		rps, err := strconv.ParseFloat(strings.TrimSpace(rpsText), 64)
		if err != nil || rps < 0 {
			return fmt.Errorf("C4S_HTTP_LIMITS: %q: expected API=RPS or API=RPS/CONCURRENCY (e.g. graph.microsoft.com=50/4)", part)
		}
		l := httpx.Limit{RPS: rps}
		if hasConc {
			c, err := strconv.Atoi(strings.TrimSpace(concText))
			if err != nil || c < 1 {
				return fmt.Errorf("C4S_HTTP_LIMITS: %q: the concurrency must be a positive integer", part)
			}
			l.Concurrency = c
		}
		if key == "*" || key == "" {
			o.RPS = l.RPS
			if l.Concurrency > 0 {
				o.Concurrency = l.Concurrency
			}
			continue
		}
		if o.Limits == nil {
			o.Limits = map[string]httpx.Limit{}
		}
		if !strings.ContainsAny(key, ".:/") {
			key = "/" + key // a sandbox service: its path prefix on loopback
		}
		o.Limits[strings.ToLower(key)] = l
	}
	return nil
}
