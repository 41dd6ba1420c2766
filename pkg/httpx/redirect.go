package httpx

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// MaxRedirects is how many redirects one request may follow.
const MaxRedirects = 10

// RedirectError is a redirect c4sctl refused to follow. From and To are redacted URLs.
type RedirectError struct {
	From, To string
	Reason   string
}

func (e *RedirectError) Error() string {
	return fmt.Sprintf("refused the redirect from %s to %s: %s", e.From, e.To, e.Reason)
}

// CheckRedirect is the http.Client.CheckRedirect of every c4sctl client (NewClient sets it; the
// Salesforce and Graph clients built over an httpx client use it too). A redirect is followed
// only when CheckHopURLs allows it, and at most MaxRedirects times. The refusal is a
// *RedirectError naming both URLs.
func CheckRedirect(req *http.Request, via []*http.Request) error {
	if len(via) == 0 {
		return nil
	}
	if len(via) >= MaxRedirects {
		return fmt.Errorf("stopped after %d redirects (last to %s)", MaxRedirects, RedactURL(req.URL))
	}
	// Every hop so far passed this check, so the previous one stands for the first.
	return CheckHopURLs(via[len(via)-1].URL, req.URL)
}

// CheckHop checks a request that http.Client made to follow a redirect (req.Response is the
// 3xx answer that caused it) against CheckHopURLs; any other request passes. Transports that
// add credentials to every request they send (the Salesforce one adds its bearer token) call it
// before adding them, and Transport.RoundTrip calls it before sending, so that a client built
// with another CheckRedirect still sends nothing where a redirect may not go.
func CheckHop(req *http.Request) error {
	if req == nil || req.Response == nil || req.Response.Request == nil || req.Response.Request.URL == nil {
		return nil
	}
	return CheckHopURLs(req.Response.Request.URL, req.URL)
}

// CheckHopURLs says whether a redirect from `from` to `to` may be followed:
//   - never from a token request (a path with /oauth2/ ending in /token): its body carries the
//     client secret, the assertion or the refresh token, and http.Client re-sends the body on a
//     307 or 308;
//   - never to an endpoint CheckEndpoint refuses (plain http off loopback, not a URL);
//   - never from https to anything else;
//   - only to the same host and port: every API c4sctl calls is configured by its host, tokens
//     are minted for that host (audience), and none of the APIs used documents a redirect to
//     another host for the calls c4sctl makes (docs/security.md).
func CheckHopURLs(from, to *url.URL) error {
	refuse := func(reason string) error {
		return &RedirectError{From: RedactURL(from), To: RedactURL(to), Reason: reason}
	}
	if IsTokenRequest(from) {
		return refuse("token requests are never redirected (their body carries the credential)")
	}
	if err := CheckEndpoint(to.String()); err != nil {
		return refuse(err.Error())
	}
	if strings.EqualFold(from.Scheme, "https") && !strings.EqualFold(to.Scheme, "https") {
		return refuse("it leaves https")
	}
	if hostPort(from) != hostPort(to) {
		return refuse("it leads to another host; c4sctl follows redirects only within the host it was configured for")
	}
	return nil
}

// IsTokenRequest reports whether u is an OAuth token endpoint (Microsoft identity platform
// /{tenant}/oauth2/v2.0/token, Salesforce /services/oauth2/token).
func IsTokenRequest(u *url.URL) bool {
	if u == nil {
		return false
	}
	p := strings.ToLower(u.Path)
	return strings.Contains(p, "/oauth2/") && strings.HasSuffix(strings.TrimSuffix(p, "/"), "/token")
}

func hostPort(u *url.URL) string {
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	port := u.Port()
	if port == "" {
		switch strings.ToLower(u.Scheme) {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	return net.JoinHostPort(host, port)
}
