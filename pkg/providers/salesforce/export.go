package salesforce

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/providers/attrs"
	"github.com/zclconf/go-cty/cty"
)

var _ providers.Exporter = (*Client)(nil)

// Export lists the live objects of a resource type as the configuration that reproduces them:
// the connected app of guide step 6 (when installed) and the org's own permission sets (not
// profile-owned, not from a managed package).
func (c *Client) Export(ctx context.Context, typ string) ([]providers.ExportedObject, error) {
	switch typ {
	case connectedAppSchema.Type:
		return c.exportApp(ctx)
	case permissionSetSchema.Type:
		return c.exportPermSets(ctx)
	}
	return nil, fmt.Errorf("%s: %w", typ, providers.ErrExportNotImplemented)
}

func (c *Client) exportApp(ctx context.Context) ([]providers.ExportedObject, error) {
	resp, err := c.readApp(ctx, providers.ReadRequest{Type: connectedAppSchema.Type, Config: cty.NullVal(connectedAppSchema.ImpliedType())})
	if err != nil {
		return nil, err
	}
	v := resp.Value
	o := providers.ExportedObject{Name: appName(v), ID: resp.ID}
	if installed, _ := attrs.Bool(v, "installed"); !installed {
		o.Skipped = fmt.Sprintf("the connected app %q is not installed in the org (guide step 6 is not done); declare it to have plan list the installation steps", appName(v))
		return []providers.ExportedObject{o}, nil
	}
	vals := v.AsValueMap()
	vals["installed"] = cty.NullVal(cty.Bool) // the default
	o.Value = cty.ObjectVal(vals)
	o.Comment = "Guide step 6: the connected app Copilot for Sales reaches Salesforce through, and its policies."
	return []providers.ExportedObject{o}, nil
}

func (c *Client) exportPermSets(ctx context.Context) ([]providers.ExportedObject, error) {
	recs, err := c.query(ctx, "SELECT Id, Name FROM PermissionSet WHERE IsOwnedByProfile = false AND NamespacePrefix = null")
	if err != nil {
		return nil, fmt.Errorf("list permission sets: %w", err)
	}
	sort.Slice(recs, func(i, j int) bool {
		return strings.ToLower(str(recs[i], "Name")) < strings.ToLower(str(recs[j], "Name"))
	})
	var out []providers.ExportedObject
	for _, r := range recs {
		id := str(r, "Id")
		if id == "" {
			continue
		}
		resp, err := c.readPermSet(ctx, providers.ReadRequest{Type: permissionSetSchema.Type, ID: id, Config: cty.NullVal(permissionSetSchema.ImpliedType())})
		if err != nil {
			return nil, err
		}
		if resp.ID == "" || resp.Value.IsNull() {
			continue // deleted while listing
		}
		rows, err := c.objectRows(ctx, resp.ID)
		if err != nil {
			return nil, err
		}
		vals := resp.Value.AsValueMap()
		vals["object_permissions"] = exportedObjectPerms(rows)
		out = append(out, providers.ExportedObject{Name: str(r, "Name"), ID: resp.ID, Value: cty.ObjectVal(vals),
			Comment: "Only api_enabled of the user permissions is exported: list in user_permissions the others this set must keep on."})
	}
	return out, nil
}
