package providers

import "context"

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
