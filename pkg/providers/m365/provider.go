// Package m365 is the "microsoft365" provider: the Microsoft 365 side of the deployment guide
// through Microsoft Graph (github.com/microsoftgraph/msgraph-sdk-go, the only package that may
// import it). It serves licence assignment (prerequisites), the Copilot for Sales app's
// deployment (step 1: m365_integrated_app), the Teams app catalog (data source teams_app), and
// the logic of `c4sctl preflight` and `c4sctl welcome` (step 9). Endpoints, fields and sources:
// docs/api/graph.md; permissions: docs/permissions.md.
package m365

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/c4sctl/c4sctl/pkg/httpx"
	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/providers/attrs"
	"github.com/c4sctl/c4sctl/pkg/providers/entra"
	"github.com/c4sctl/c4sctl/pkg/sandbox"
	"github.com/c4sctl/c4sctl/pkg/schema"
	abs "github.com/microsoft/kiota-abstractions-go"
	khttp "github.com/microsoft/kiota-http-go"
	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"github.com/zclconf/go-cty/cty"
	"golang.org/x/sync/singleflight"
)

// Defaults are the product settings that drift with Microsoft's naming and licensing (the
// product is now documented as the "Sales agent"; the current guide asks for a Microsoft 365
// Copilot licence per seller). Resource schemas take their defaults from here; nothing in the
// logic compares against these values.
var Defaults = struct {
	// SkuPartNumber is the licence every seller needs (Microsoft 365 Copilot, skuId
	// 639dec6b-bb19-468b-871c-c5c441c4b0cb).
	SkuPartNumber string
	// AppName is the display name of the app / agent in the admin centre and the Teams catalog.
	AppName string
	// TeamsAppName is the display name looked up in the Teams app catalog.
	TeamsAppName string
}{SkuPartNumber: "Microsoft_365_Copilot", AppName: "Copilot for Sales", TeamsAppName: "Copilot for Sales"}

// MaxRetries bounds the retries of one throttled (429) or unavailable (503/504) request.
const MaxRetries = 3

// Provider is the "microsoft365" provider.
type Provider struct{}

// New returns the provider.
func New() providers.Provider { return &Provider{} }

// Name is the provider block label.
func (*Provider) Name() string { return "microsoft365" }

// ConfigSchema: the Microsoft sign-in attributes and the Graph endpoint override.
func (*Provider) ConfigSchema() *schema.Block {
	attrs := entra.Attributes()
	attrs = append(attrs, &schema.Attribute{Name: "graph_endpoint", Type: cty.String, Optional: true, Validate: httpsURL,
		Description: "Microsoft Graph base URL without version (default: the cloud's, e.g. https://graph.microsoft.com; set it for the sandbox or a proxy)."})
	return &schema.Block{Description: "Microsoft 365 through Microsoft Graph: licences, the Copilot for Sales app deployment, the Teams app catalog, preflight and the welcome message.", Attributes: attrs}
}

// httpsURL validates endpoint settings.
var httpsURL = attrs.HTTPSURL("https://graph.microsoft.com")

// SandboxConfig points the provider at the sandbox's graph service.
func (*Provider) SandboxConfig(baseURL string) map[string]cty.Value {
	vals := entra.SandboxValues(baseURL, sandbox.TenantID, sandbox.ClientID, sandbox.ClientSecret)
	vals["graph_endpoint"] = cty.StringVal(strings.TrimSuffix(baseURL, "/") + "/graph")
	return vals
}

// Endpoints returns the Graph base URL (without version) and the token scope for a provider
// block value: the cloud's Graph endpoint unless graph_endpoint overrides it. The scope always
// names the cloud's Graph resource.
func Endpoints(config cty.Value, getenv func(string) string) (base, scope string, err error) {
	s := entra.Decode(config, getenv)
	c, err := s.CloudEndpoints()
	if err != nil {
		return "", "", err
	}
	base = c.Graph
	if o := attrs.String(config, "graph_endpoint"); o != "" {
		if err := httpx.CheckEndpoint(o); err != nil {
			return "", "", fmt.Errorf("graph_endpoint: %v", err)
		}
		if err := httpsURL(cty.StringVal(o)); err != nil {
			return "", "", fmt.Errorf("graph_endpoint: %v", err)
		}
		base = o
	}
	return strings.TrimSuffix(base, "/"), strings.TrimSuffix(c.Graph, "/") + "/.default", nil
}

// Configure builds the client.
func (p *Provider) Configure(_ context.Context, config cty.Value, env *providers.Env) (providers.Client, error) {
	if env == nil || env.HTTPClient == nil {
		return nil, errors.New("microsoft365: no HTTP client")
	}
	base, scope, err := Endpoints(config, env.Getenv)
	if err != nil {
		return nil, err
	}
	s, env, cred, err := entra.Connect(config, env)
	if err != nil {
		return nil, err
	}
	c, err := newClient(cred, env, base, scope)
	if err != nil {
		return nil, err
	}
	c.identity = s.Identity()
	c.identity["graph_endpoint"] = base
	return c, nil
}

// Client is the configured provider.
type Client struct {
	providers.Dispatch

	cred azcore.TokenCredential
	// identity: tenant, client id, authority and Graph endpoint (Configure).
	identity providers.Identity
	hc       *http.Client // env.HTTPClient's transport behind the Kiota middleware (retry, redirect, ...)
	layer    *http.Client // env.HTTPClient itself: the HTTP layer (httpx) told of throttled batch items
	base     string       // e.g. https://graph.microsoft.com (no version)
	scope    string
	adapter  *msgraphsdk.GraphRequestAdapter
	sdk      *msgraphsdk.GraphServiceClient

	retries atomic.Int64
	log     *slog.Logger

	mu         sync.Mutex
	skus       []skuInfo
	analyses   map[string]*analysis
	pkgProblem map[string]string // per app (appKey): why the Copilot package API could not be used
	groupNames map[string]string // lower-case group id -> displayName, as findGroup read them

	memberReads singleflight.Group // group member reads under way, by lower-case group id

	// BatchConcurrency is how many $batch requests run at once (default 4).
	BatchConcurrency int
}

type authProvider struct{ c *Client }

func (a authProvider) AuthenticateRequest(ctx context.Context, req *abs.RequestInformation, _ map[string]interface{}) error {
	tok, err := a.c.token(ctx)
	if err != nil {
		return err
	}
	req.Headers.Add("Authorization", "Bearer "+tok)
	return nil
}

func newClient(cred azcore.TokenCredential, env *providers.Env, base, scope string) (*Client, error) {
	c := &Client{cred: cred, base: base, scope: scope, analyses: map[string]*analysis{}, pkgProblem: map[string]string{}, BatchConcurrency: 4, log: env.Log}
	c.Dispatch = providers.Dispatch{Provider: "microsoft365", Handlers: map[string]providers.Handler{
		"m365_license_assignment": {Read: c.readLicense, Apply: c.applyLicense, Plan: c.planLicense},
		"m365_integrated_app":     {Read: c.readApp, Apply: c.applyApp, Plan: c.planApp},
		"teams_app":               {Read: c.readTeamsApp},
		"teams_app_availability":  {Read: c.readTeamsAppAvailability},
	}}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	parent := env.HTTPClient.Transport
	if parent == nil {
		parent = http.DefaultTransport
	}
	// A token refused mid-run (revoked, expired) is replaced by one new sign-in; the transport
	// sits under Kiota's handlers so typed-SDK and raw requests both get it.
	parent = entra.Transport(parent, cred)
	opts := msgraphsdk.GetDefaultClientOptions()
	// Below an httpx client (the CLI's), the shared HTTP layer has already retried a 429, 503 or
	// 504 as far as its bounds allow when Kiota sees it: retrying again here would multiply the
	// attempts (up to MaxRetries+1 times httpx's), so Kiota's retry handler only acts for other
	// clients.
	_, layered := httpx.StatsOf(env.HTTPClient)
	retry := khttp.NewRetryHandlerWithOptions(khttp.RetryHandlerOptions{
		MaxRetries: MaxRetries, DelaySeconds: 2,
		ShouldRetry: func(_ time.Duration, _ int, _ *http.Request, resp *http.Response) bool {
			if layered {
				return false
			}
			// Called last, only when every other condition allows the retry: the answer is dropped.
			c.retries.Add(1)
			if resp != nil {
				c.log.Debug("graph: retrying", "status", resp.StatusCode, "retry_after", resp.Header.Get("Retry-After"))
			}
			if resp != nil && resp.Body != nil {
				_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
				_ = resp.Body.Close()
			}
			return true
		},
	})
	mws := []khttp.Middleware{
		msgraphcore.NewGraphTelemetryHandler(&opts),
		retry,
		// No Kiota redirect handler: it follows redirects to any host and scheme (dropping only
		// the Authorization header). The client below follows them under httpx.CheckRedirect.
		khttp.NewParametersNameDecodingHandler(),
		khttp.NewUserAgentHandler(),
		khttp.NewHeadersInspectionHandler(),
	}
	c.hc = &http.Client{Transport: khttp.NewCustomTransportWithParentTransport(parent, mws...), Timeout: env.HTTPClient.Timeout, CheckRedirect: httpx.CheckRedirect}
	c.layer = env.HTTPClient
	adapter, err := msgraphsdk.NewGraphRequestAdapterWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(authProvider{c}, nil, nil, c.hc)
	if err != nil {
		return nil, fmt.Errorf("microsoft365: build the Graph request adapter: %w", err)
	}
	adapter.SetBaseUrl(base + "/v1.0")
	c.adapter = adapter
	c.sdk = msgraphsdk.NewGraphServiceClient(adapter)
	return c, nil
}

// Identity is where the client signs in and sends its requests.
func (c *Client) Identity() providers.Identity { return c.identity }

// Retries is the number of requests retried after 429/503/504 answers so far.
func (c *Client) Retries() int { return int(c.retries.Load()) }

// GraphBase is the Graph base URL the client uses (without version).
func (c *Client) GraphBase() string { return c.base }

func (c *Client) token(ctx context.Context) (string, error) {
	tok, err := c.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{c.scope}})
	if err != nil {
		return "", fmt.Errorf("sign in to Microsoft Entra ID for Microsoft Graph: %w", err)
	}
	return tok.Token, nil
}

// GraphError is an error answer of Microsoft Graph.
type GraphError struct {
	Method, Path string // path without query
	Status       int
	Code         string
	Message      string
	RetryAfter   string
	// Reauthed: the answer came after c4sctl signed in again on a first 401 (entra.Transport;
	// for typed-SDK calls, through the call's entra.ReauthNote).
	Reauthed bool
}

// HTTPStatus is the answer's status (providers.HTTPStatuser).
func (e *GraphError) HTTPStatus() int { return e.Status }

func (e *GraphError) Error() string {
	msg := fmt.Sprintf("Microsoft Graph %s %s: %d %s", e.Method, e.Path, e.Status, http.StatusText(e.Status))
	if e.Code != "" || e.Message != "" {
		msg += fmt.Sprintf(" (%s: %s)", e.Code, e.Message)
	}
	switch {
	case e.Status == http.StatusTooManyRequests:
		wait := "a while"
		if e.RetryAfter != "" {
			wait = e.RetryAfter + " seconds"
		}
		msg += fmt.Sprintf(". Graph is still throttling after %d retries and asked to wait %s; run c4sctl again then", MaxRetries, wait)
	case e.Status == http.StatusUnauthorized:
		msg += entra.UnauthorizedHint(e.Reauthed, "Microsoft Graph (check the cloud too)")
	case e.Status == http.StatusForbidden:
		msg += ". The app c4sctl signs in with lacks a permission or role: run `c4sctl preflight` and see docs/permissions.md"
	case e.Status >= 500:
		msg += ". Graph failed; try again later"
	}
	return msg
}

// seekBody is a request body the retry handler can rewind.
type seekBody struct{ *bytes.Reader }

func (seekBody) Close() error { return nil }

// do sends one Graph request (rawURL absolute, or a path such as "/v1.0/users") and decodes a
// JSON answer into out when non-nil.
func (c *Client) do(ctx context.Context, method, rawURL string, body, out any) error {
	resp, err := c.send(ctx, method, rawURL, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	path := answerPath(resp, rawURL)
	rb, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return fmt.Errorf("Microsoft Graph %s %s: reading the answer: %w", method, path, err)
	}
	if out != nil && len(bytes.TrimSpace(rb)) > 0 {
		if err := providers.DecodeJSON(rb, out); err != nil {
			return fmt.Errorf("Microsoft Graph %s %s: unexpected answer: %v", method, path, err)
		}
	}
	return nil
}

// answerPath is the path of the request an answer is to, for messages (fallback when the
// transport did not set resp.Request).
func answerPath(resp *http.Response, fallback string) string {
	if resp.Request != nil && resp.Request.URL != nil {
		return resp.Request.URL.Path
	}
	if u, err := url.Parse(fallback); err == nil {
		return u.Path
	}
	return fallback
}

// maxAnswer bounds the bytes read from one answer.
const maxAnswer = 64 << 20

// send sends one Graph request and returns its answer when it succeeded (2xx); the caller closes
// the body. Any other answer becomes a *GraphError.
func (c *Client) send(ctx context.Context, method, rawURL string, body any) (*http.Response, error) {
	if strings.HasPrefix(rawURL, "/") {
		rawURL = c.base + rawURL
	}
	var b []byte
	if body != nil {
		var err error
		if b, err = json.Marshal(body); err != nil {
			return nil, err
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, rawURL, nil)
	if err != nil {
		return nil, fmt.Errorf("Microsoft Graph: bad request URL: %v", err)
	}
	if body != nil {
		req.Body = seekBody{bytes.NewReader(b)}
		req.ContentLength = int64(len(b))
		req.GetBody = func() (io.ReadCloser, error) { return seekBody{bytes.NewReader(b)}, nil }
		req.Header.Set("Content-Type", "application/json")
	}
	tok, err := c.token(ctx)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("Microsoft Graph %s %s: %w", method, req.URL.Path, redactErr(err))
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		defer resp.Body.Close()
		rb, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
		if err != nil {
			return nil, fmt.Errorf("Microsoft Graph %s %s: reading the answer: %w", method, req.URL.Path, err)
		}
		ge := graphErr(method, req.URL.Path, resp.StatusCode, resp.Header.Get("Retry-After"), rb)
		ge.Reauthed = entra.Reauthenticated(resp)
		return nil, ge
	}
	return resp, nil
}

func redactErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func graphErr(method, path string, status int, retryAfter string, body []byte) *GraphError {
	e := &GraphError{Method: method, Path: path, Status: status, RetryAfter: retryAfter}
	var eb struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &eb) == nil {
		e.Code, e.Message = eb.Error.Code, truncate(eb.Error.Message, 400)
	}
	return e
}

// sdkErr turns an error of the typed SDK into a GraphError where it can. note is the
// entra.ReauthNote of the call's context: the typed SDK's error does not carry the answer, so
// whether a 401 came after a new sign-in is learnt from it.
func sdkErr(note *entra.ReauthNote, method, path string, err error) error {
	var oe *odataerrors.ODataError
	if errors.As(err, &oe) {
		e := &GraphError{Method: method, Path: path, Status: oe.ResponseStatusCode, Reauthed: note.RefusedAfterSignIn()}
		if m := oe.GetErrorEscaped(); m != nil {
			e.Code, e.Message = deref(m.GetCode()), truncate(deref(m.GetMessage()), 400)
		}
		return e
	}
	return fmt.Errorf("Microsoft Graph %s %s: %w", method, path, redactErr(err))
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// sameOrigin refuses @odata.nextLink values that leave the Graph host (the token goes with them).
func (c *Client) sameOrigin(link string) error {
	u, err := url.Parse(link)
	b, _ := url.Parse(c.base)
	if err != nil || b == nil || u.Scheme != "https" || !strings.EqualFold(u.Host, b.Host) {
		return fmt.Errorf("Microsoft Graph answered a next page link outside %s; refusing to follow it", c.base)
	}
	return nil
}

// pages GETs a collection and every following page (@odata.nextLink), calling each per item.
// It returns the number of pages read. Pages must come one after the other, and that chain is
// what a large group's read takes, so the next page is requested as soon as its link is known:
// Graph writes @odata.nextLink before value, and the answer is decoded as it arrives, so that
// reading and decoding one page's items overlaps the wait for the next.
func (c *Client) pages(ctx context.Context, first string, each func(json.RawMessage) error) (int, error) {
	return pagesOf(ctx, c, first, each)
}

// pagesOf is pages decoding each item straight into a T (one pass over the bytes instead of
// two). An item whose fields do not fit T is skipped.
func pagesOf[T any](ctx context.Context, c *Client, first string, each func(T) error) (int, error) {
	ctx, cancel := context.WithCancel(ctx)
	type result struct {
		resp *http.Response
		path string // the URL asked for
		err  error
	}
	var cur chan result
	fetch := func(u string) {
		cur = make(chan result, 1)
		// Decoding the current page must not delay the next request on a busy machine: wait
		// until it is on the wire (or for a few milliseconds at most).
		sent := make(chan struct{})
		var once sync.Once
		trace := &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { once.Do(func() { close(sent) }) }}
		go func(ch chan<- result) {
			var resp *http.Response
			err := providers.Guard(func() (err error) {
				resp, err = c.send(httptrace.WithClientTrace(ctx, trace), http.MethodGet, u, nil)
				return err
			})
			once.Do(func() { close(sent) })
			ch <- result{resp, u, err}
		}(cur)
		t := time.NewTimer(5 * time.Millisecond)
		defer t.Stop()
		select {
		case <-sent:
		case <-t.C:
		}
	}
	defer func() {
		// A page requested ahead of an error is not read.
		cancel()
		if cur != nil {
			if r := <-cur; r.resp != nil {
				r.resp.Body.Close()
			}
		}
	}()
	n := 0
	for fetch(first); cur != nil; {
		r := <-cur
		cur = nil
		if r.err != nil {
			return n, r.err
		}
		n++
		items, err := readPage(r.resp, r.path, func(next string) error {
			if err := c.sameOrigin(next); err != nil {
				return err
			}
			if n > 100000 {
				return errors.New("Microsoft Graph: too many pages")
			}
			if cur != nil {
				return errors.New("Microsoft Graph: a page with two next page links")
			}
			fetch(next)
			return nil
		}, each)
		r.resp.Body.Close()
		if err != nil {
			return n, err
		}
		c.log.Debug("graph: page", "n", n, "items", items)
	}
	return n, nil
}

// readPage decodes one page as it arrives: next is called with its @odata.nextLink when it has
// one, each with every item of its value. It returns the number of items.
func readPage[T any](resp *http.Response, path string, next func(string) error, each func(T) error) (int, error) {
	what := "Microsoft Graph GET " + answerPath(resp, path)
	bad := func(err error) error {
		return fmt.Errorf("%s: unexpected answer: %v", what, providers.DescribeJSONError(err))
	}
	dec := json.NewDecoder(io.LimitReader(resp.Body, maxAnswer))
	if t, err := dec.Token(); err != nil {
		return 0, bad(err)
	} else if t != json.Delim('{') {
		return 0, bad(errors.New("not a JSON object"))
	}
	items := 0
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return items, bad(err)
		}
		switch key, _ := t.(string); key {
		case "@odata.nextLink":
			var link string
			if err := dec.Decode(&link); err != nil {
				return items, bad(err)
			}
			if link != "" {
				if err := next(link); err != nil {
					return items, err
				}
			}
		case "value":
			if t, err := dec.Token(); err != nil {
				return items, bad(err)
			} else if t != json.Delim('[') {
				return items, bad(errors.New("value is not an array"))
			}
			for dec.More() {
				var v T
				if err := dec.Decode(&v); err != nil {
					var typeErr *json.UnmarshalTypeError
					if errors.As(err, &typeErr) {
						continue // the decoder has read past the item
					}
					return items, bad(err)
				}
				items++
				if err := each(v); err != nil {
					return items, err
				}
			}
			if _, err := dec.Token(); err != nil {
				return items, bad(err)
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return items, bad(err)
			}
		}
	}
	if _, err := dec.Token(); err != nil {
		return items, bad(err)
	}
	// Read to the end, so that the connection is reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	return items, nil
}

// Resources lists the resource types and data sources.
func (*Provider) Resources() []*schema.Resource {
	return []*schema.Resource{licenseSchema(), integratedAppSchema(), teamsAppSchema(), teamsAppAvailabilitySchema()}
}
