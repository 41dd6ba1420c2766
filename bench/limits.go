// Package bench is the large-tenant benchmark of c4sctl (`make bench`): the real c4sctl binary
// plans and applies the quickstart against an in-process sandbox seeded with a large tenant, next
// to a naive per-record client, and the figures are printed as a table. See bench_test.go.
//
// Environment: BENCH_USERS (50000), BENCH_SELLERS (20000), BENCH_LATENCY (20ms),
// BENCH_SF_ASSIGNMENTS (20000) and BENCH_SF_LATENCY (200ms) for BenchmarkSalesforceHeavy,
// BENCH_THROTTLE (50 requests/s), BENCH_THROTTLE_SELLERS (20000), BENCH_THROTTLE_CLIENT (the
// budgeted client's variable, default C4S_HTTP_LIMITS at 96% of the rate), BENCH_FAULT_SELLERS
// (2000), BENCH_FAULT_RATE (0.2); for digging: BENCH_ROUTES=1 (requests by route),
// BENCH_TIMELINE=1 (the plan's requests in time), BENCH_SKIP_NAIVE=1, BENCH_VERBOSE=1 (why
// faulted applies failed), BENCH_BUILD=1 (build c4sctl instead of using bin/c4sctl).
package bench

import "time"

// The APIs' documented limits the benchmark computes its minimums and lower bounds from.
const (
	// GraphBatchSize: Microsoft Graph JSON batching takes at most 20 requests in one $batch
	// (https://learn.microsoft.com/graph/json-batching, "Batch size limitations").
	GraphBatchSize = 20
	// GraphPageSize: $top on /groups/{id}/members and /users is at most 999
	// (https://learn.microsoft.com/graph/paging; the sandbox refuses more, as Graph does).
	GraphPageSize = 999
	// GraphBatchConcurrency: Graph publishes no concurrency limit for directory writes (its
	// identity limits are resource units per 10 s and a write quota of 3,000 per 150 s per app and
	// tenant: https://learn.microsoft.com/graph/throttling-limits, "Identity and access service
	// limits"). The lower bound uses the 4 $batch requests c4sctl's m365 adapter keeps in flight
	// (m365.Client.BatchConcurrency), i.e. 80 sub-requests at once.
	GraphBatchConcurrency = 4
	// SalesforceCollectionSize: sObject Collections create/delete take at most 200 records
	// (https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_composite_sobjects_collections.htm).
	SalesforceCollectionSize = 200
	// SalesforceQueryBatch: a SOQL query answers at most 2,000 records a page before
	// nextRecordsUrl (Sforce-Query-Options batchSize 200..2000, default 2000:
	// https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/headers_queryoptions.htm).
	SalesforceQueryBatch = 2000
	// SalesforceConcurrency: an org accepts 25 concurrent long-running (over 20 s) API requests in
	// production (https://developer.salesforce.com/docs/atlas.en-us.salesforce_app_limits_cheatsheet.meta/salesforce_app_limits_cheatsheet/salesforce_app_limits_platform_api.htm);
	// short requests have no concurrency cap, so 25 is a generous bound.
	SalesforceConcurrency = 25
	// NaiveConcurrency is the naive client's requests in flight per API: the same as c4sctl's
	// HTTP layer (httpx.DefaultConcurrency), so that the comparison is about request counts.
	NaiveConcurrency = 16
	// DefaultLatency is the latency the sandbox adds to every request.
	DefaultLatency = 20 * time.Millisecond
)
