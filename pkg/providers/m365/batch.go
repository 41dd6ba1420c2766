package m365

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/c4sctl/c4sctl/pkg/httpx"
	"github.com/c4sctl/c4sctl/pkg/providers"
	"golang.org/x/sync/errgroup"
)

// BatchSize is Graph's limit of requests in one $batch.
const BatchSize = 20

// maxItemRounds bounds how often throttled sub-requests of one batch are sent again.
const maxItemRounds = 4

type subReq struct {
	ID     string
	Method string
	URL    string // relative to the version, e.g. /users/{id}/assignLicense
	Body   any
}

type subResp struct {
	ID         string
	Status     int
	Body       json.RawMessage
	RetryAfter string
}

func (r subResp) err(what string) error {
	if r.Status == 0 {
		return fmt.Errorf("%s: no answer in the batch", what)
	}
	e := graphErr("POST", "$batch "+what, r.Status, r.RetryAfter, r.Body)
	return fmt.Errorf("%d %s: %s", e.Status, e.Code, e.Message)
}

// batch sends requests through POST /v1.0/$batch, 20 a request, BatchConcurrency batches at a
// time. Sub-requests Graph throttles (429 inside the batch) are sent again after their
// Retry-After, at most maxItemRounds times; the batch request itself is retried by the Kiota
// retry handler. The answer maps request ids to their responses. Each request is about one
// unit (e.g. "users"): how many are done is reported to the engine as the batches complete
// ("" for lookups, which report nothing).
func (c *Client) batch(ctx context.Context, reqs []subReq, unit string) (map[string]subResp, error) {
	out := make(map[string]subResp, len(reqs))
	if len(reqs) == 0 {
		return out, nil
	}
	c.log.Debug("graph: $batch", "requests", len(reqs), "batches", (len(reqs)+BatchSize-1)/BatchSize)
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	conc := c.BatchConcurrency
	if conc < 1 {
		conc = 1
	}
	g.SetLimit(conc)
	for start := 0; start < len(reqs); start += BatchSize {
		chunk := reqs[start:min(start+BatchSize, len(reqs))]
		providers.Go(g, func() error {
			res, err := c.sendBatch(gctx, chunk)
			if err != nil {
				return err
			}
			mu.Lock()
			for k, v := range res {
				out[k] = v
			}
			// Under the lock, so that reports never go backwards.
			if unit != "" {
				providers.ReportProgress(ctx, providers.Progress{Done: len(out), Total: len(reqs), Unit: unit})
			}
			mu.Unlock()
			return nil
		})
	}
	return out, g.Wait()
}

func (c *Client) sendBatch(ctx context.Context, chunk []subReq) (map[string]subResp, error) {
	done := map[string]subResp{}
	pending := chunk
	for round := 0; len(pending) > 0; round++ {
		type item struct {
			ID      string            `json:"id"`
			Method  string            `json:"method"`
			URL     string            `json:"url"`
			Headers map[string]string `json:"headers,omitempty"`
			Body    any               `json:"body,omitempty"`
		}
		var body struct {
			Requests []item `json:"requests"`
		}
		for _, r := range pending {
			it := item{ID: r.ID, Method: r.Method, URL: r.URL, Body: r.Body}
			if r.Body != nil {
				it.Headers = map[string]string{"Content-Type": "application/json"}
			}
			body.Requests = append(body.Requests, it)
		}
		var resp struct {
			Responses []struct {
				ID      string            `json:"id"`
				Status  int               `json:"status"`
				Headers map[string]string `json:"headers"`
				Body    json.RawMessage   `json:"body"`
			} `json:"responses"`
		}
		// When the batch was written (its last attempt): a 429 inside it counts against the
		// learned budget only when it was sent after the budget's last cut.
		var sent atomic.Int64
		trace := &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { sent.Store(time.Now().UnixNano()) }}
		if err := c.do(httptrace.WithClientTrace(ctx, trace), http.MethodPost, "/v1.0/$batch", body, &resp); err != nil {
			return nil, err
		}
		byID := map[string]subResp{}
		for _, r := range resp.Responses {
			ra := ""
			for k, v := range r.Headers {
				if http.CanonicalHeaderKey(k) == "Retry-After" {
					ra = v
				}
			}
			byID[r.ID] = subResp{ID: r.ID, Status: r.Status, Body: r.Body, RetryAfter: ra}
		}
		var again []subReq
		wait := time.Duration(0)
		for _, r := range pending {
			sr, ok := byID[r.ID]
			if !ok {
				sr = subResp{ID: r.ID}
			}
			if sr.Status == http.StatusTooManyRequests && round < maxItemRounds {
				again = append(again, r)
				if d := retryAfter(sr.RetryAfter); d > wait {
					wait = d
				}
				continue
			}
			done[r.ID] = sr
		}
		if len(again) > 0 {
			// Graph throttles a batch item by item: the HTTP layer paces the API by these too.
			if u, err := url.Parse(c.base + "/v1.0/$batch"); err == nil {
				httpx.Throttled(c.layer, http.MethodPost, u, time.Unix(0, sent.Load()), wait, len(again))
			}
			c.retries.Add(int64(len(again)))
			c.log.Debug("graph: $batch items throttled", "count", len(again), "wait", wait)
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, ctx.Err()
			case <-t.C:
			}
		}
		pending = again
	}
	return done, nil
}

func retryAfter(h string) time.Duration {
	if n, err := strconv.Atoi(h); err == nil && n >= 0 {
		if n > 120 {
			n = 120
		}
		return time.Duration(n) * time.Second
	}
	return 2 * time.Second
}
