package providers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
)

type statusErr int

func (e statusErr) Error() string   { return fmt.Sprintf("status %d", int(e)) }
func (e statusErr) HTTPStatus() int { return int(e) }

// What preflight may call a verdict: refusals and configuration errors are; server errors,
// timeouts, broken connections and answers of another shape are not.
func TestInconclusive(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("provider %q: %w", "x", err) }
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"500", wrap(statusErr(500)), true},
		{"503", statusErr(503), true},
		{"429 after retries", statusErr(429), true},
		{"200 without a token", statusErr(200), true},
		{"401", wrap(statusErr(401)), false},
		{"403", statusErr(403), false},
		{"400 invalid_client", statusErr(400), false},
		{"shape", wrap(DescribeJSONError(errors.New("json: cannot unmarshal"))), true},
		{"timeout", wrap(context.DeadlineExceeded), true},
		{"connection refused", &net.OpError{Op: "dial", Err: errors.New("connection refused")}, true},
		{"no such host", &net.DNSError{Name: "contso.my.salesforce.com", IsNotFound: true}, false},
		{"configuration", errors.New(`auth = "client_secret" needs client_id`), false},
		{"nil", nil, false},
	} {
		if got := Inconclusive(tc.err); got != tc.want {
			t.Errorf("%s: Inconclusive(%v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
}
