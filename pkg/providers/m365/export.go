package m365

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/providers/attrs"
	"github.com/zclconf/go-cty/cty"
)

var _ providers.Exporter = (*Client)(nil)

// Export lists the live objects of a resource type as the configuration that reproduces them:
// group-based licence assignments, and the deployments of the Copilot packages of the catalog.
func (c *Client) Export(ctx context.Context, typ string) ([]providers.ExportedObject, error) {
	switch typ {
	case "m365_license_assignment":
		return c.exportLicenses(ctx)
	case "m365_integrated_app":
		return c.exportApps(ctx)
	}
	return nil, fmt.Errorf("%s: %w", typ, providers.ErrExportNotImplemented)
}

type exportGroup struct {
	ID          string            `json:"id"`
	DisplayName string            `json:"displayName"`
	Licenses    []assignedLicense `json:"assignedLicenses"`
}

// allGroups pages through the tenant's groups with their group-based licences.
func (c *Client) allGroups(ctx context.Context) ([]exportGroup, error) {
	var out []exportGroup
	_, err := c.pages(ctx, "/v1.0/groups?$select=id,displayName,assignedLicenses&$top=999", func(raw json.RawMessage) error {
		var g exportGroup
		if json.Unmarshal(raw, &g) == nil && g.ID != "" {
			out = append(out, g)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list groups: %w", err)
	}
	return out, nil
}

func (c *Client) exportLicenses(ctx context.Context) ([]providers.ExportedObject, error) {
	skus, err := c.subscribedSkus(ctx)
	if err != nil {
		return nil, err
	}
	byID := map[string]skuInfo{}
	for _, s := range skus {
		byID[strings.ToLower(s.ID)] = s
	}
	groups, err := c.allGroups(ctx)
	if err != nil {
		return nil, err
	}
	named := map[string]int{}
	for _, g := range groups {
		named[strings.ToLower(g.DisplayName)]++
	}
	sort.Slice(groups, func(i, j int) bool {
		return strings.ToLower(groups[i].DisplayName) < strings.ToLower(groups[j].DisplayName)
	})
	var out []providers.ExportedObject
	for _, g := range groups {
		for _, l := range g.Licenses {
			sku, ok := byID[strings.ToLower(l.SkuID)]
			o := providers.ExportedObject{Name: g.DisplayName + " " + sku.PartNumber}
			if !ok {
				o.Name = g.DisplayName + " " + l.SkuID
				o.Skipped = fmt.Sprintf("group %s holds licence %s, which the tenant's subscribed SKUs do not list", g.DisplayName, l.SkuID)
				out = append(out, o)
				continue
			}
			o.ID = sku.ID + ":group:" + g.ID
			var plans []string
			for _, id := range l.DisabledPlans {
				if name, ok := sku.PlanNames[strings.ToLower(id)]; ok {
					plans = append(plans, name)
				} else {
					plans = append(plans, strings.ToLower(id))
				}
			}
			vals := map[string]cty.Value{"sku_part_number": cty.StringVal(sku.PartNumber), "disabled_plans": attrs.StringSet(plans)}
			if g.DisplayName != "" && named[strings.ToLower(g.DisplayName)] == 1 {
				vals["group_name"] = cty.StringVal(g.DisplayName)
			} else {
				vals["group_id"] = cty.StringVal(g.ID)
			}
			o.Value = cty.ObjectVal(vals)
			out = append(out, o)
		}
	}
	// Licences assigned to users directly cannot be told from inherited ones without reading
	// every user's assignment states: say so rather than leave them out silently.
	out = append(out, providers.ExportedObject{Name: "direct assignments",
		Skipped: "licences assigned to users directly (not through a group) are not exported; declare them with users or users_from_group"})
	return out, nil
}

func (c *Client) exportApps(ctx context.Context) ([]providers.ExportedObject, error) {
	var list []pkgDetail
	_, err := c.pages(ctx, "/beta/copilot/admin/catalog/packages", func(raw json.RawMessage) error {
		var p pkgDetail
		if json.Unmarshal(raw, &p) == nil && p.ID != "" {
			list = append(list, p)
		}
		return nil
	})
	if err != nil {
		if why, ok := unavailable(err); ok {
			return []providers.ExportedObject{{Name: Defaults.AppName, Skipped: why + ": the deployments of the catalog's apps cannot be read"}}, nil
		}
		return nil, fmt.Errorf("list Copilot packages: %w", err)
	}
	named := map[string]int{}
	for _, p := range list {
		named[strings.ToLower(p.DisplayName)]++
	}
	var out []providers.ExportedObject
	for _, item := range list {
		if item.AvailableTo == "none" && item.DeployedTo == "none" {
			continue // in the catalog, deployed to nobody: no deployment to reproduce
		}
		var p pkgDetail
		if err := c.do(ctx, http.MethodGet, "/beta/copilot/admin/catalog/packages/"+url.PathEscape(item.ID), nil, &p); err != nil {
			return nil, fmt.Errorf("read Copilot package %s: %w", item.ID, err)
		}
		var groups, userIDs []string
		for _, a := range p.Allowed {
			switch a.ResourceType {
			case "group":
				name := a.ResourceID
				if g, err := c.findGroup(ctx, a.ResourceID, false); err == nil && g != nil && g.Name != "" {
					if n, err := c.findGroup(ctx, g.Name, true); err == nil && n != nil && strings.EqualFold(n.ID, g.ID) {
						name = g.Name // only a name that finds this group again
					}
				}
				groups = append(groups, name)
			case "user":
				userIDs = append(userIDs, a.ResourceID)
			}
		}
		users := userIDs
		if len(userIDs) > 0 {
			found, _, err := c.usersByUPN(ctx, userIDs)
			if err != nil {
				return nil, err
			}
			upn := map[string]string{}
			for _, u := range found {
				upn[strings.ToLower(u.ID)] = u.UPN
			}
			users = nil
			for _, id := range userIDs {
				if n := upn[strings.ToLower(id)]; n != "" {
					users = append(users, n)
				} else {
					users = append(users, id)
				}
			}
		}
		vals := map[string]cty.Value{"display_name": cty.StringVal(p.DisplayName), "everyone": cty.BoolVal(p.AvailableTo == "all")}
		if named[strings.ToLower(p.DisplayName)] > 1 {
			vals["package_id"] = cty.StringVal(p.ID)
		}
		if len(groups) > 0 {
			vals["groups"] = attrs.StringSet(groups)
		}
		if len(users) > 0 {
			vals["users"] = attrs.StringSet(users)
		}
		out = append(out, providers.ExportedObject{Name: p.DisplayName, ID: p.ID, Value: cty.ObjectVal(vals)})
	}
	return out, nil
}
