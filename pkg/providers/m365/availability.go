package m365

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/providers/attrs"
	"github.com/c4sctl/c4sctl/pkg/schema"
	"github.com/zclconf/go-cty/cty"
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
	if _, err := c.pages(ctx, "/beta/copilot/admin/catalog/packages", func(raw json.RawMessage) error {
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
		if err := c.do(ctx, http.MethodGet, "/beta/copilot/admin/catalog/packages/"+url.PathEscape(id), nil, &p); err != nil {
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

// ---- data.teams_app_availability ----

func teamsAppAvailabilitySchema() *schema.Resource {
	return &schema.Resource{
		Type: "teams_app_availability", Provider: "microsoft365", DataSource: true,
		Description: "Who may use a Teams app under app-centric management (Teams admin center > Teams apps > Manage apps: blocked or allowed, available to everyone, specific users or groups, or no one), read from the app's Copilot package. Seller coverage checks the same state for the app the setup policy installs (docs/api/teams.md, \"App availability\").",
		Attributes: []*schema.Attribute{
			{Name: "app_id", Type: cty.String, Required: true, Description: "The Teams app id (the catalog id setup policies use, e.g. data.teams_app.copilot_for_sales.id)."},
			{Name: "package_id", Type: cty.String, Computed: true, Description: "The app's Copilot package id."},
			{Name: "display_name", Type: cty.String, Computed: true},
			{Name: "is_blocked", Type: cty.Bool, Computed: true, Description: "Blocked by an admin (isBlocked)."},
			{Name: "available_to", Type: cty.String, Computed: true, Description: "none, some or all (availableTo: No one, Specific users or groups, Everyone)."},
			{Name: "group_ids", Type: cty.Set(cty.String), Computed: true, Description: "Groups the app is available to (available_to = some; lower-case object ids)."},
			{Name: "user_ids", Type: cty.Set(cty.String), Computed: true, Description: "Users the app is available to (available_to = some; lower-case object ids)."},
		},
	}
}

func (c *Client) readTeamsAppAvailability(ctx context.Context, req providers.ReadRequest) (providers.ReadResponse, error) {
	typ := teamsAppAvailabilitySchema().ImpliedType()
	appID := attrs.String(req.Config, "app_id")
	if appID == "" {
		return providers.ReadResponse{Value: cty.NullVal(typ)}, fmt.Errorf("app_id is required")
	}
	a, found, err := c.AppAvailabilityOf(ctx, appID, Defaults.TeamsAppName)
	if err != nil {
		return providers.ReadResponse{Value: cty.NullVal(typ)}, fmt.Errorf("read the availability of Teams app %s: %w", appID, err)
	}
	if !found {
		return providers.ReadResponse{Value: cty.NullVal(typ), Warnings: []string{fmt.Sprintf("no Copilot package of the tenant has Teams app id %s: its availability cannot be read", appID)}}, nil
	}
	set := func(m map[string]bool) cty.Value {
		if len(m) == 0 {
			return cty.SetValEmpty(cty.String)
		}
		var vs []cty.Value
		for k := range m {
			vs = append(vs, cty.StringVal(k))
		}
		return cty.SetVal(vs)
	}
	return providers.ReadResponse{ID: a.PackageID, Value: cty.ObjectVal(map[string]cty.Value{
		"app_id": cty.StringVal(appID), "package_id": cty.StringVal(a.PackageID), "display_name": cty.StringVal(a.DisplayName),
		"is_blocked": cty.BoolVal(a.IsBlocked), "available_to": cty.StringVal(a.AvailableTo),
		"group_ids": set(a.Groups), "user_ids": set(a.Users),
	})}, nil
}
