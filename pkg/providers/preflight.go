package providers

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"

	"github.com/c4sctl/c4sctl/pkg/httpx"
)

// Statuses of a preflight CheckLine.
const (
	CheckOK        = "ok"        // checked, fine
	CheckMissing   = "missing"   // checked, blocks apply
	CheckWarn      = "warn"      // checked, does not block (a manual fallback exists)
	CheckInfo      = "info"      // context
	CheckUnchecked = "unchecked" // could not be checked: the verdict must say so
)

// CheckLine is one line of `c4sctl preflight`'s checklist.
type CheckLine struct {
	Status string
	Text   string
}

// Preflighter is a client that checks, before a plan, that the identity it signs in as has what
// the configuration's resources need (resources: addresses by resource type, of this provider's
// types only).
type Preflighter interface {
	Preflight(ctx context.Context, resources map[string][]string) []CheckLine
}

// HTTPStatuser is an error that carries the HTTP status of a service's answer (the providers'
// APIError and GraphError types, the Salesforce and Entra sign-in errors).
type HTTPStatuser interface{ HTTPStatus() int }

// Inconclusive reports whether err says nothing about what the identity holds, so that a
// preflight line built on it must read "not checked" (with err as the reason), never "missing"
// or "ok": a server error (5xx), throttling that outlasted the retries (429), a request timeout
// (408), a token endpoint failing the same ways (entra.TokenError), a
// timeout or a broken connection, an answer whose outcome is unknown (httpx), or an answer of
// a shape c4sctl cannot read (ShapeError). Refusals (400 invalid_client, 401, 403, 404), a host
// that does not exist and configuration errors are verdicts: false.
func Inconclusive(err error) bool {
	if err == nil {
		return false
	}
	unanswered := func(status int) bool {
		// Below 400: an error on a success status is an answer of another shape.
		return status >= 500 || status < 400 || status == http.StatusTooManyRequests || status == http.StatusRequestTimeout
	}
	var hs HTTPStatuser
	if errors.As(err, &hs) {
		return unanswered(hs.HTTPStatus())
	}
	var shape *ShapeError
	var dns *net.DNSError
	var ne net.Error
	var op *net.OpError
	switch {
	case errors.As(err, &shape), httpx.IsOutcomeUnknown(err),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return true
	case errors.As(err, &dns):
		return !dns.IsNotFound // a host that does not exist is the configuration's to fix
	case errors.As(err, &ne) && ne.Timeout(), errors.As(err, &op):
		return true
	}
	return false
}
