package powerplatform

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/c4sctl/c4sctl/pkg/providers"
)

// Preflight checks the two things Requirements names: that the admin API answers the app (it is
// a management application; a 403 says it is not), and, when the configuration has Dataverse
// resources, that the app is an application user of msdyn_viva (Dataverse WhoAmI; 403
// 0x80072560 says it is not) or that msdyn_viva does not exist yet, in which case the application
// user cannot be checked and the line says so.
func (c *Client) Preflight(ctx context.Context, resources map[string][]string) []providers.CheckLine {
	var lines []providers.CheckLine
	add := func(status, format string, args ...any) {
		lines = append(lines, providers.CheckLine{Status: status, Text: fmt.Sprintf(format, args...)})
	}
	by := map[string][]string{}
	for typ, addrs := range resources {
		needs, ok := Requirements[typ]
		if !ok {
			add(providers.CheckUnchecked, "Power Platform: what %s needs is not known to this check", strings.Join(addrs, ", "))
			continue
		}
		for _, n := range needs {
			by[n] = append(by[n], addrs...)
		}
	}
	for _, v := range by {
		sort.Strings(v)
	}
	if len(by[NeedManagementApp]) == 0 {
		return lines
	}
	envs, err := c.environments(ctx)
	var ae *APIError
	switch {
	case errors.As(err, &ae) && (ae.Status == http.StatusForbidden || ae.Status == http.StatusUnauthorized):
		add(providers.CheckMissing, "Power Platform admin API: refused (%d): the app (client id %s) is not a Power Platform management application; a Power Platform Administrator runs `pac admin application register --application-id %s` (c4sctl bootstrap); needed by %s",
			ae.Status, c.clientID, c.clientID, strings.Join(by[NeedManagementApp], ", "))
		if len(by[NeedApplicationUser]) > 0 {
			add(providers.CheckUnchecked, "Dataverse application user in %s: not checked (the admin API refused the app, so the environment could not be found)", VivaEnvironment)
		}
		return lines
	case err != nil:
		add(providers.CheckUnchecked, "Power Platform admin API: could not be checked: %v", err)
		if len(by[NeedApplicationUser]) > 0 {
			add(providers.CheckUnchecked, "Dataverse application user in %s: not checked (the admin API did not answer)", VivaEnvironment)
		}
		return lines
	}
	add(providers.CheckOK, "Power Platform admin API: answers the app (%d environments), needed by %s", len(envs), strings.Join(by[NeedManagementApp], ", "))
	users := by[NeedApplicationUser]
	if len(users) == 0 {
		return lines
	}
	dv, deferred, err := c.openDataverse(ctx, VivaEnvironment)
	switch {
	case err != nil:
		add(providers.CheckUnchecked, "Dataverse application user in %s: could not be checked: %v", VivaEnvironment, err)
		return lines
	case deferred != "":
		add(providers.CheckUnchecked, "Dataverse application user in %s: not checked: %s does not exist yet, %s; plan defers %s until then, and the app is added as an application user after it (c4sctl bootstrap)",
			VivaEnvironment, VivaEnvironment, step7, strings.Join(users, ", "))
		return lines
	}
	var who struct {
		UserID string `json:"UserId"`
	}
	err = dv.do(ctx, "GET", "WhoAmI", nil, &who)
	switch {
	case isNotAppUser(err):
		add(providers.CheckMissing, "Dataverse application user in %s: missing: Dataverse refuses the app (client id %s) until a Power Platform Administrator adds it with System Administrator (`pac admin assign-user --environment %s --user %s --role \"System Administrator\" --application-user`); needed by %s",
			VivaEnvironment, c.clientID, dv.env.Name, c.clientID, strings.Join(users, ", "))
	case refused(err):
		// Refused for another reason (a disabled application user, a token Dataverse does not
		// accept): a verdict, which plan would meet too.
		add(providers.CheckMissing, "Dataverse application user in %s: refused: %v; needed by %s", VivaEnvironment, err, strings.Join(users, ", "))
	case err != nil:
		add(providers.CheckUnchecked, "Dataverse application user in %s: could not be checked: %v", VivaEnvironment, err)
	default:
		add(providers.CheckOK, "Dataverse application user in %s: the app is a user (systemuserid %s; its security role is checked at plan time), needed by %s", VivaEnvironment, who.UserID, strings.Join(users, ", "))
	}
	return lines
}

// refused reports whether err is a refusal (401 or 403) rather than no answer.
func refused(err error) bool {
	var hs providers.HTTPStatuser
	if err == nil || providers.Inconclusive(err) || !errors.As(err, &hs) {
		return false
	}
	return hs.HTTPStatus() == http.StatusUnauthorized || hs.HTTPStatus() == http.StatusForbidden
}
