package salesforce

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/simpleforce/simpleforce"
)

// Preflight checks the user c4sctl signs in as against Requirements, through UserPermissionAccess:
// "the permissions accessibility for a current user", one row whose Permissions<Name> booleans
// say what the session may do, readable without View Setup (Salesforce object reference,
// UserPermissionAccess, API 41.0 and later). A permission the org does not know, or a query that
// gets no verdict (a 5xx, a timeout), makes the lines "not checked", never "ok"; a query the org
// refuses (401, 403) makes them missing.
func (c *Client) Preflight(ctx context.Context, resources map[string][]string) []providers.CheckLine {
	var lines []providers.CheckLine
	add := func(status, format string, args ...any) {
		lines = append(lines, providers.CheckLine{Status: status, Text: fmt.Sprintf(format, args...)})
	}
	by := map[string][]string{} // alternatives joined by " or " -> addresses
	fields := map[string]bool{}
	for typ, addrs := range resources {
		reqs, ok := Requirements[typ]
		if !ok {
			add(providers.CheckUnchecked, "Salesforce: what %s needs is not known to this check", strings.Join(addrs, ", "))
			continue
		}
		for _, alts := range reqs {
			k := strings.Join(alts, " or ")
			by[k] = append(by[k], addrs...)
			for _, f := range alts {
				fields[f] = true
			}
		}
	}
	if len(by) == 0 {
		return lines
	}
	var names []string
	for f := range fields {
		names = append(names, f)
	}
	sort.Strings(names)
	who := c.username
	if who == "" {
		who = "the signed-in user"
	}
	recs, err := c.query(ctx, "SELECT "+strings.Join(names, ", ")+" FROM UserPermissionAccess")
	if err != nil || len(recs) != 1 {
		if err == nil {
			err = fmt.Errorf("%d rows, expected the one of the current user", len(recs))
		}
		if status := refusal(err); status != 0 {
			// A refusal is a verdict: UserPermissionAccess is readable by any user the API
			// answers, so a 401/403 (API_DISABLED_FOR_ORG: the user lacks API Enabled, or the
			// org has no API access) stops plan too.
			for _, k := range sortedKeys(by) {
				add(providers.CheckMissing, "Salesforce %s: missing for %s: the org refused the permission check (%d), so c4sctl cannot work as this user (API Enabled, or the org's API access); needed by %s (UserPermissionAccess: %v)", labels(k), who, status, strings.Join(by[k], ", "), err)
			}
			return lines
		}
		for _, k := range sortedKeys(by) {
			add(providers.CheckUnchecked, "Salesforce %s: not checked for %s (UserPermissionAccess: %v)", labels(k), who, err)
		}
		return lines
	}
	for _, k := range sortedKeys(by) {
		addrs := by[k]
		sort.Strings(addrs)
		held := false
		for _, f := range strings.Split(k, " or ") {
			if b, _ := recs[0][f].(bool); b {
				held = true
			}
		}
		if held {
			add(providers.CheckOK, "Salesforce %s: held by %s, needed by %s", labels(k), who, strings.Join(addrs, ", "))
		} else {
			add(providers.CheckMissing, "Salesforce %s: missing for %s, needed by %s (a permission set with it, assigned to the user: c4sctl bootstrap)", labels(k), who, strings.Join(addrs, ", "))
		}
	}
	return lines
}

func labels(key string) string {
	var out []string
	for _, f := range strings.Split(key, " or ") {
		if l := PermissionLabels[f]; l != "" {
			out = append(out, l)
		} else {
			out = append(out, f)
		}
	}
	return strings.Join(out, " or ")
}

func sortedKeys[T any](m map[string]T) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// refusal is the status of a refused request (401, 403) in err, 0 for anything else: simpleforce's
// error for a REST call, or an error of c4sctl's that carries a status.
func refusal(err error) int {
	status := 0
	var se simpleforce.SalesforceError
	var hs providers.HTTPStatuser
	switch {
	case errors.As(err, &se):
		status = se.HttpCode
	case errors.As(err, &hs):
		status = hs.HTTPStatus()
	}
	if status == http.StatusUnauthorized || status == http.StatusForbidden {
		return status
	}
	return 0
}
