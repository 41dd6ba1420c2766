// Package httpx is the one HTTP layer of c4sctl: every provider's traffic (msgraph-sdk-go through
// its request adapter, azidentity through azcore's ClientOptions.Transport, simpleforce through
// SetHttpClient, and the plain REST clients) goes through the *http.Client built by NewClient.
//
// It adds, below the SDKs:
//   - retries of 429, 503 and 504 answers and of connection errors (dial errors, resets, EOF
//     before an answer), with exponential backoff and full jitter, honouring Retry-After
//     (seconds or HTTP date) and x-ms-retry-after-ms, bounded by Options.MaxAttempts (429s that
//     say when to return by Options.MaxThrottled instead) and
//     Options.MaxElapsed, and stopped at once when the request's context ends;
//   - a concurrency limit and a request-rate budget per API (see Options.Limits and Key);
//     a 429 with Retry-After pauses every request to that API, not only the one that got it,
//     and 429s under load teach the API a budget of its own (cut on each round of 429s, grown
//     back along a cubic curve; see adaptive.go), so that a throttled API is sent what it
//     accepts instead of being met with bunches of requests at the end of each pause; adapters
//     report 429s inside a successful answer (Graph $batch items) with Throttled;
//   - debug request logging (method, redacted URL, status, duration, attempt; never headers or
//     bodies) and Redact for error messages;
//   - trust: Options.RootCAs (the sandbox), TrustPEMFile / WithRootCAs (a provider's ca_file,
//     sharing the limits and counters), TLS 1.2 at least, HTTP/2;
//   - counters for benchmarks: Transport.Stats, StatsOf(client);
//   - CheckEndpoint: an endpoint that is not loopback must be https;
//   - redirects (redirect.go): token requests are never redirected; other requests follow a
//     redirect only to the same host and port, never leaving https, through CheckEndpoint
//     (CheckRedirect on the client, CheckHop again in RoundTrip for clients with another
//     policy); a refusal is a *RedirectError naming both URLs.
//
// # Which requests are replayed
//
// A request is replayed only when doing so cannot apply a change twice:
//   - idempotent methods (GET, HEAD, PUT, DELETE, OPTIONS), requests carrying an
//     Idempotency-Key header, token requests (…/oauth2/…/token) and requests whose context was
//     marked with ReplaySafe are retried on every retryable failure;
//   - any other request (POST, PATCH) is retried only when the server said it did not process it
//     (429, or 503 with Retry-After) or when the connection failed before a byte of the request
//     was written (dial error, TLS handshake error).
//
// # The OutcomeUnknownError contract
//
// When a POST or PATCH may have been processed (the connection broke after the request was
// written, the answer was lost, or the server answered 504 or 503 without Retry-After), the
// client returns an error wrapping *OutcomeUnknownError instead of retrying blindly. Adapters
// must check for it with errors.As and, before trying again, re-read the object (by its name or
// identity) to learn whether the change was made:
//
//	resp, err := hc.Do(req)
//	var ou *httpx.OutcomeUnknownError
//	if errors.As(err, &ou) {
//		// re-read; create again only if the object is really absent
//	}
//
// This is how apply never creates anything twice under faults.
//
// Request bodies are buffered in memory (unless GetBody is set) so that they can be replayed.
// Errors returned by http.Client embed the request URL; pass them through Redact before showing
// them. SDK-level retry policies above this layer (Kiota's retry handler, azcore's retry policy)
// should be disabled or kept small, since retries multiply.
package httpx
