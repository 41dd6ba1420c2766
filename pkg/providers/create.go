package providers

import (
	"context"
	"fmt"

	"github.com/c4sctl/c4sctl/pkg/httpx"
)

// CreateAttempts bounds how many times one create is sent while its outcome stays unknown.
const CreateAttempts = 3

// CreateOnce sends a request that creates something and makes sure that an answer lost on the
// way back never creates it twice. httpx does not replay a non-idempotent request whose outcome
// is unknown (the connection broke after it was written, or 504/503 without Retry-After: see
// httpx.OutcomeUnknownError); CreateOnce then calls lookup, which reads the service again by
// the object's natural key: found, the create was made and its value is returned; not found,
// the create is sent again, up to CreateAttempts sends in all. Any other error of send, and a
// lookup error (wrapped with the lost answer's), is returned at once.
//
// lookup may be nil when send itself reads what exists before creating what is missing (a
// reconcile): sending it again is then the lookup.
func CreateOnce[T any](ctx context.Context, send func(context.Context) (T, error), lookup func(context.Context) (T, bool, error)) (T, error) {
	for attempt := 1; ; attempt++ {
		v, err := send(ctx)
		if err == nil || !httpx.IsOutcomeUnknown(err) {
			return v, err
		}
		if lookup != nil {
			found, ok, lerr := lookup(ctx)
			if lerr != nil {
				return v, fmt.Errorf("%w; reading it back to learn whether it was made failed too: %v", err, lerr)
			}
			if ok {
				return found, nil
			}
		}
		if attempt >= CreateAttempts {
			return v, err
		}
	}
}
