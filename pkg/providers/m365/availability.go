package m365

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// AppAvailability is who may use a Teams app under app-centric management, as the Copilot package
// API reports it (Graph `copilotPackageDetail`: `isBlocked`, `availableTo` none / some / all,
// `allowedUsersAndGroups[]{resourceType user|group, resourceId}`; docs/api/graph.md, "Copilot
// packages", and docs/api/teams.md, "App availability"). The Teams admin center shows the same
// state under Teams apps > Manage apps (Get-M365TeamsApp: IsBlocked, AvailableTo.AssignmentType
// Everyone / UsersAndGroups / NoOne).
type AppAvailability struct {
	PackageID, DisplayName string
	IsBlocked              bool
	AvailableTo            string          // none, some, all
	Users, Groups          map[string]bool // lower-case object ids (AvailableTo "some")
}

// AppAvailabilityOf finds the Copilot package of a Teams app (by its appId) and reads who may
// use it. Requests: the package list pages, then one GET per package detail until the one with
// that appId (packages named preferName first). found is false when no package has the app.
func (c *Client) AppAvailabilityOf(ctx context.Context, teamsAppID, preferName string) (a *AppAvailability, found bool, err error) {
	var first, rest []string
	if _, err := c.pages(ctx, "/v1.0/copilot/admin/catalog/packages", func(raw json.RawMessage) error {
		var p pkgDetail
		if json.Unmarshal(raw, &p) == nil && p.ID != "" {
			if strings.EqualFold(p.DisplayName, preferName) {
				first = append(first, p.ID)
			} else {
				rest = append(rest, p.ID)
			}
		}
		return nil
	}); err != nil {
		return nil, false, err
	}
	for _, id := range append(first, rest...) {
		var p pkgDetail
		if err := c.do(ctx, http.MethodGet, "/v1.0/copilot/admin/catalog/packages/"+url.PathEscape(id), nil, &p); err != nil {
			return nil, false, err
		}
		if !strings.EqualFold(p.AppID, teamsAppID) {
			continue
		}
		return availabilityOf(&p)
	}
	return nil, false, nil
}

// availabilityOf checks a package detail's availability fields.
func availabilityOf(p *pkgDetail) (*AppAvailability, bool, error) {
	a := &AppAvailability{PackageID: p.ID, DisplayName: p.DisplayName, IsBlocked: p.IsBlocked, AvailableTo: p.AvailableTo, Users: map[string]bool{}, Groups: map[string]bool{}}
	switch p.AvailableTo {
	case "none", "some", "all":
	default:
		return nil, true, fmt.Errorf("Copilot package %s (%s): availableTo is %q, not none, some or all: cannot tell who may use the app", p.ID, p.DisplayName, p.AvailableTo)
	}
	for _, e := range p.Allowed {
		switch e.ResourceType {
		case "user":
			a.Users[strings.ToLower(e.ResourceID)] = true
		case "group":
			a.Groups[strings.ToLower(e.ResourceID)] = true
		default:
			return nil, true, fmt.Errorf("Copilot package %s (%s): an allowed entry has resourceType %q, not user or group: cannot tell who may use the app", p.ID, p.DisplayName, e.ResourceType)
		}
	}
	return a, true, nil
}

// DecodeAppAvailability decodes one copilotPackageDetail answer (the fixtures' test entry).
func DecodeAppAvailability(raw []byte) (*AppAvailability, error) {
	var p pkgDetail
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, err
	}
	a, _, err := availabilityOf(&p)
	return a, err
}
