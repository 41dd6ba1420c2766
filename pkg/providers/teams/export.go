package teams

import (
	"context"
	"fmt"
	"net/http"

	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/zclconf/go-cty/cty"
)

var _ providers.Exporter = (*Client)(nil)

// Export lists every meeting or app setup policy of the tenant (Global and named ones) as the
// configuration that reproduces it. App setup policies are exported additively (exclusive left
// at its default): the installed and pinned apps are declared as they are, group assignments
// as they are.
func (c *Client) Export(ctx context.Context, typ string) ([]providers.ExportedObject, error) {
	var policyType string
	switch typ {
	case "teams_meeting_policy":
		policyType = meetingType
	case "teams_app_setup_policy":
		policyType = setupType
	default:
		return nil, fmt.Errorf("%s: %w", typ, providers.ErrExportNotImplemented)
	}
	var list []map[string]any
	if err := c.do(ctx, http.MethodGet, configPrefix+policyType, nil, &list); err != nil {
		return nil, fmt.Errorf("list %s instances: %w", policyType, err)
	}
	var out []providers.ExportedObject
	seen := map[string]bool{}
	for _, p := range list {
		id, _ := p["Identity"].(string)
		if id == "" || seen[displayIdentity(id)] {
			continue
		}
		seen[displayIdentity(id)] = true
		req := providers.ReadRequest{Type: typ, ID: id, Config: cty.NullVal(cty.DynamicPseudoType)}
		var resp providers.ReadResponse
		var err error
		if typ == "teams_meeting_policy" {
			resp, err = c.readMeeting(ctx, req)
		} else {
			resp, err = c.readSetup(ctx, req)
		}
		if err != nil {
			return nil, err
		}
		if resp.ID == "" || resp.Value.IsNull() {
			continue // removed while listing
		}
		v := resp.Value
		if typ == "teams_app_setup_policy" {
			v = exportableSetup(v)
		} else if g := v.GetAttr("groups"); g.IsKnown() && !g.IsNull() && g.LengthInt() == 0 {
			m := v.AsValueMap() // an empty groups list need not be said
			m["groups"] = cty.NullVal(g.Type())
			v = cty.ObjectVal(m)
		}
		out = append(out, providers.ExportedObject{Name: displayIdentity(resp.ID), ID: resp.ID, Value: v})
	}
	return out, nil
}

// exportableSetup drops what an additive configuration need not say: exclusive (its default),
// and empty app, pin and group lists.
func exportableSetup(v cty.Value) cty.Value {
	m := v.AsValueMap()
	m["exclusive"] = cty.NullVal(cty.Bool)
	for _, name := range []string{"app_preset_list", "pinned_app_bar_apps", "groups"} {
		if a, ok := m[name]; ok && !a.IsNull() && a.IsKnown() && a.LengthInt() == 0 {
			m[name] = cty.NullVal(a.Type())
		}
	}
	return cty.ObjectVal(m)
}
