package entra

import (
	"context"
	"errors"
	"fmt"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// Reauth is a credential that can sign in again. A token refused with 401 before it expires was
// revoked (an admin revoked the app's sessions, a Conditional Access or continuous access
// evaluation event) or expired while a long run used it; azidentity keeps serving it from its
// cache until its own expiry. A renewal drops that cache by building a new credential, so that
// the next GetToken signs in again.
//
// Renewals are per kind of token (scopes, tenant, CAE): a refusal says only that that token is
// bad. Each kind is served by the credential it was first asked of until one of its tokens is
// refused, and then moves to the newest credential, which is built only when the kind is already
// served by the newest. So a token of another kind that is still good is not thrown away with the
// refused one's cache: one signed in for after a revocation but before the renewal (the race
// TestRevokedTokensMidPlanAreRecoveredWithOneSignIn met under load: dataverse signed in twice
// after the revocation, its first token never refused). Each kind whose token is refused signs
// in again once.
//
// Renewals are bounded: a token is renewed at most once (requests that saw the same refused token
// share one new sign-in), and a kind's new sign-in whose token is refused before any request
// succeeded with it is not renewed again (the service refuses this app's tokens; signing in again
// would loop).
type Reauth struct {
	build func() (azcore.TokenCredential, error)

	mu        sync.Mutex
	creds     []azcore.TokenCredential // by generation; the last is the newest
	serving   map[string]int           // the generation serving each kind of token (tokenKind)
	renewedTo map[string]int           // the generation a kind moved to on its last renewal
	worked    map[kindGen]bool         // kinds and generations whose tokens were accepted at least once
	tokens    map[string]tok           // tokens handed out, by value (kept in memory only)
	signIns   int                      // credentials built after the first
}

type tok struct {
	gen  int
	kind string
	opts policy.TokenRequestOptions // what it was asked for (no claims), to ask again
}

type kindGen struct {
	kind string
	gen  int
}

// tokenKind names the tokens a request for opts gets: azidentity caches one per scopes and
// tenant, apart for CAE.
func tokenKind(opts policy.TokenRequestOptions) string {
	return fmt.Sprintf("%q|%s|%v", opts.Scopes, opts.TenantID, opts.EnableCAE)
}

// NewReauth builds the first credential with build and returns the renewable credential.
func NewReauth(build func() (azcore.TokenCredential, error)) (*Reauth, error) {
	c, err := build()
	if err != nil {
		return nil, err
	}
	return &Reauth{build: build, creds: []azcore.TokenCredential{c}, serving: map[string]int{}, renewedTo: map[string]int{},
		worked: map[kindGen]bool{}, tokens: map[string]tok{}}, nil
}

// GetToken returns a token of the credential serving its kind (the newest when the kind is new)
// and remembers what it was asked for, for a renewal.
func (r *Reauth) GetToken(ctx context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	kind := tokenKind(opts)
	r.mu.Lock()
	gen, ok := r.serving[kind]
	if !ok {
		gen = len(r.creds) - 1
		r.serving[kind] = gen
	}
	c := r.creds[gen]
	r.mu.Unlock()
	t, err := c.GetToken(ctx, opts)
	if err != nil {
		return t, withStatus(err)
	}
	r.mu.Lock()
	if len(r.tokens) > 256 { // a long run: forget old tokens rather than grow
		r.tokens = map[string]tok{}
	}
	if _, seen := r.tokens[t.Token]; !seen {
		r.tokens[t.Token] = tok{gen: gen, kind: kind, opts: policy.TokenRequestOptions{Scopes: append([]string(nil), opts.Scopes...), TenantID: opts.TenantID, EnableCAE: opts.EnableCAE}}
	}
	r.mu.Unlock()
	return t, nil
}

// Renewals is the number of times a new credential was built to sign in again.
func (r *Reauth) Renewals() int { r.mu.Lock(); defer r.mu.Unlock(); return r.signIns }

// accepted records that a token was accepted by a service.
func (r *Reauth) accepted(token string) {
	r.mu.Lock()
	if t, ok := r.tokens[token]; ok {
		r.worked[kindGen{t.kind, t.gen}] = true
	}
	r.mu.Unlock()
}

// errNoRenew says a refused token is not renewed (not ours, or a renewal already failed).
var errNoRenew = errors.New("not renewed")

// errFreshRefused is errNoRenew for a token of a new sign-in refused before any request succeeded
// with it: the service refuses the app's fresh tokens. A request that took its token after
// another request's renewal meets this on its first answer.
var errFreshRefused = fmt.Errorf("%w: the token of a new sign-in was refused", errNoRenew)

// renew signs in again for a refused token (once per kind and generation) and returns a new
// token of the same kind.
func (r *Reauth) renew(ctx context.Context, refused string) (string, error) {
	r.mu.Lock()
	t, ok := r.tokens[refused]
	if !ok {
		r.mu.Unlock()
		return "", errNoRenew
	}
	if g, renewed := r.renewedTo[t.kind]; renewed && g == t.gen && !r.worked[kindGen{t.kind, t.gen}] {
		r.mu.Unlock()
		return "", errFreshRefused
	}
	if r.serving[t.kind] == t.gen { // the first to see this refusal; others share its sign-in
		if newest := len(r.creds) - 1; t.gen == newest {
			c, err := r.build()
			if err != nil {
				r.mu.Unlock()
				return "", err
			}
			r.creds = append(r.creds, c)
			r.signIns++
		}
		// The newest credential never served this kind (kinds only move forward), so its
		// GetToken signs in.
		r.serving[t.kind] = len(r.creds) - 1
		r.renewedTo[t.kind] = len(r.creds) - 1
	}
	r.mu.Unlock()
	nt, err := r.GetToken(ctx, t.opts)
	if err != nil {
		return "", err
	}
	return nt.Token, nil
}

type reauthKey struct{}

// Reauthenticated reports whether resp is the answer to a request sent again after a new sign-in
// (a 401 then means the service refuses this app's fresh tokens, not an old one).
func Reauthenticated(resp *http.Response) bool {
	return resp != nil && resp.Request != nil && resp.Request.Context().Value(reauthKey{}) != nil
}

// ReauthenticatedRequest reports the same for the request an error answer was to.
func ReauthenticatedRequest(req *http.Request) bool {
	return req != nil && req.Context().Value(reauthKey{}) != nil
}

// ReauthNote records whether a request sent with its context was answered 401 after a new
// sign-in. It is for clients that see only an error, not the answer (the typed Graph SDK turns
// the answer into an error value without the request): Reauthenticated cannot be asked there.
type ReauthNote struct{ refused atomic.Bool }

type reauthNoteKey struct{}

// WithReauthNote returns ctx carrying a new note that Transport fills in for the requests sent
// with it.
func WithReauthNote(ctx context.Context) (context.Context, *ReauthNote) {
	n := &ReauthNote{}
	return context.WithValue(ctx, reauthNoteKey{}, n), n
}

// RefusedAfterSignIn reports whether a request of the note's context was answered 401 with the
// token c4sctl had just signed in again for (nil: false).
func (n *ReauthNote) RefusedAfterSignIn() bool { return n != nil && n.refused.Load() }

// Transport wraps base: an answer 401 to a request that carried a bearer token of cred makes cred
// sign in again (Reauth's bounds) and the request is sent once more with the new token. The
// second answer is returned as it is, 401 or not; Reauthenticated tells which it was. A request
// whose body cannot be sent again (no GetBody) is not repeated. Every Microsoft provider's
// requests go through it (teams, microsoft365, powerplatform): one mechanism, not one per adapter.
func Transport(base http.RoundTripper, cred azcore.TokenCredential) http.RoundTripper {
	r, ok := cred.(*Reauth)
	if !ok {
		return base
	}
	if base == nil {
		base = http.DefaultTransport
	}
	return &reauthTransport{base: base, cred: r}
}

// Client returns a copy of hc (its timeout and redirect policy kept) whose transport is
// Transport(hc.Transport, cred).
func Client(hc *http.Client, cred azcore.TokenCredential) *http.Client {
	if _, ok := cred.(*Reauth); !ok || hc == nil {
		return hc
	}
	c := *hc
	c.Transport = Transport(hc.Transport, cred)
	return &c
}

type reauthTransport struct {
	base http.RoundTripper
	cred *Reauth
}

func (t *reauthTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	old, bearer := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer ")
	if !bearer || old == "" {
		return resp, nil
	}
	if resp.StatusCode != http.StatusUnauthorized {
		t.cred.accepted(old)
		return resp, nil
	}
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		return resp, nil
	}
	fresh, rerr := t.cred.renew(req.Context(), old)
	if rerr != nil {
		if errors.Is(rerr, errNoRenew) {
			if errors.Is(rerr, errFreshRefused) {
				// The refused token is one c4sctl had just signed in again for (another
				// request renewed it first), so the note says what a resend would have.
				if n, _ := req.Context().Value(reauthNoteKey{}).(*ReauthNote); n != nil {
					n.refused.Store(true)
				}
			}
			return resp, nil
		}
		_ = resp.Body.Close()
		return nil, fmt.Errorf("the service refused the access token (401) and signing in again failed: %w", rerr)
	}
	// The first answer is dropped: drain a little of it so the connection can be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	again := req.Clone(context.WithValue(req.Context(), reauthKey{}, true))
	again.Header.Set("Authorization", "Bearer "+fresh)
	if req.GetBody != nil {
		b, gerr := req.GetBody()
		if gerr != nil {
			return nil, gerr
		}
		again.Body = b
	}
	resp, err = t.base.RoundTrip(again)
	if err == nil && resp.StatusCode != http.StatusUnauthorized {
		t.cred.accepted(fresh)
	} else if err == nil {
		if n, _ := req.Context().Value(reauthNoteKey{}).(*ReauthNote); n != nil {
			n.refused.Store(true)
		}
	}
	return resp, err
}

// UnauthorizedHint is what a provider's error adds to a 401 answer. reauthed tells whether the
// answer came after a new sign-in (Reauthenticated): then the old token was not the problem.
// audience names the token audience the API wants, for the message.
func UnauthorizedHint(reauthed bool, audience string) string {
	if reauthed {
		return ". The service refused the access token, then refused the new one c4sctl signed in for: signing in works, " +
			"but this API does not accept the app's tokens. Check that tenant_id is the tenant that owns the API, that the app " +
			"registration is enabled there with admin consent for " + audience + ", and that no Conditional Access policy blocks the app"
	}
	return ". The access token was refused: check tenant_id, client_id and the credential; the token must be issued for " + audience
}

// TokenError is a failed sign-in of azidentity that carries the token endpoint's status, so that
// preflight can tell a refusal (400 invalid_client, 401) from an outage (5xx) without the engine
// importing the Azure SDK (providers.HTTPStatuser). Its text is azidentity's.
type TokenError struct {
	Status int
	err    error
}

func (e *TokenError) Error() string   { return e.err.Error() }
func (e *TokenError) Unwrap() error   { return e.err }
func (e *TokenError) HTTPStatus() int { return e.Status }

func withStatus(err error) error {
	var af *azidentity.AuthenticationFailedError
	if errors.As(err, &af) && af.RawResponse != nil {
		return &TokenError{Status: af.RawResponse.StatusCode, err: err}
	}
	return err
}
