package powerplatform

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/providers/attrs"
	"github.com/zclconf/go-cty/cty"
)

var _ providers.Exporter = (*Client)(nil)

// Export lists the live objects of a resource type as the configuration that reproduces them:
// every DLP policy; the Salesforce connector rule and the System Administrators and Copilot for
// Sales settings of msdyn_viva (the deployment's environment), when they can be expressed.
func (c *Client) Export(ctx context.Context, typ string) ([]providers.ExportedObject, error) {
	switch typ {
	case "powerplatform_dlp_policy":
		return c.exportPolicies(ctx)
	case "powerplatform_dlp_connector_rule":
		return c.exportRule(ctx)
	case "dataverse_environment_admins":
		return c.exportAdmins(ctx)
	case "copilot_for_sales_settings":
		return c.exportSettings(ctx)
	}
	return nil, fmt.Errorf("%s: %w", typ, providers.ErrExportNotImplemented)
}

func (c *Client) exportPolicies(ctx context.Context) ([]providers.ExportedObject, error) {
	names, err := c.policyNames(ctx)
	if err != nil {
		return nil, err
	}
	var out []providers.ExportedObject
	byDisplay := map[string][]int{}
	for _, n := range names {
		resp, err := c.readPolicy(ctx, providers.ReadRequest{Type: "powerplatform_dlp_policy", ID: n, Config: cty.NullVal(policySchema.ImpliedType())})
		if err != nil {
			return nil, err
		}
		if resp.ID == "" || resp.Value.IsNull() {
			continue // deleted while listing
		}
		display := attrs.String(resp.Value, "display_name")
		byDisplay[strings.ToLower(display)] = append(byDisplay[strings.ToLower(display)], len(out))
		out = append(out, providers.ExportedObject{Name: display, ID: resp.ID, Value: resp.Value})
	}
	// c4sctl finds a policy by its display name: policies that share one cannot be told apart.
	for _, idx := range byDisplay {
		if len(idx) < 2 {
			continue
		}
		var ids []string
		for _, i := range idx {
			ids = append(ids, out[i].ID)
		}
		sort.Strings(ids)
		for _, i := range idx {
			out[i].Skipped = fmt.Sprintf("%d DLP policies are named %q (%s), and c4sctl finds a policy by its display name; rename all but one in the Power Platform admin centre and export again", len(idx), out[i].Name, strings.Join(ids, ", "))
		}
	}
	return out, nil
}

// exportRule exports the guide's step 5 rule (shared_salesforce in msdyn_viva) when it holds:
// the rule asserts that no policy blocks the connector, which configuration cannot undo.
func (c *Client) exportRule(ctx context.Context) ([]providers.ExportedObject, error) {
	resp, err := c.readRule(ctx, providers.ReadRequest{Type: "powerplatform_dlp_connector_rule", Config: cty.NullVal(ruleSchema.ImpliedType())})
	if err != nil {
		return nil, err
	}
	v := resp.Value
	connector := attrs.String(v, "connector")
	o := providers.ExportedObject{Name: strings.TrimPrefix(connector, "shared_"), ID: resp.ID, Live: v}
	if getBool(v, "blocked") {
		var blockers []string
		if pols := attrs.Get(v, "policies"); pols != cty.NilVal && !pols.IsNull() && pols.IsWhollyKnown() {
			for it := pols.ElementIterator(); it.Next(); {
				_, p := it.Element()
				if attrs.String(p, "connector_group") == "blocked" {
					blockers = append(blockers, fmt.Sprintf("%q", attrs.String(p, "display_name")))
				}
			}
		}
		o.Skipped = fmt.Sprintf("%s is blocked for %s by DLP policy %s (guide step 5 is not done), and this rule can only declare it unblocked; add the rule by hand to have apply move it out of Blocked",
			connector, attrs.String(v, "environment"), strings.Join(blockers, ", "))
		return []providers.ExportedObject{o}, nil
	}
	o.Value = cty.ObjectVal(map[string]cty.Value{
		"environment": cty.StringVal(attrs.String(v, "environment")), "connector": cty.StringVal(connector),
	})
	o.Comment = "Guide step 5: no DLP policy that applies to the environment blocks the connector."
	return []providers.ExportedObject{o}, nil
}

func (c *Client) exportAdmins(ctx context.Context) ([]providers.ExportedObject, error) {
	cfg := cty.ObjectVal(map[string]cty.Value{"environment": cty.StringVal(VivaEnvironment)})
	st, deferred, err := c.adminsState(ctx, cfg)
	if err != nil {
		return nil, err
	}
	o := providers.ExportedObject{Name: VivaEnvironment}
	if deferred != "" {
		o.Skipped = deferred
		return []providers.ExportedObject{o}, nil
	}
	if st.noAppUser != nil {
		o.Skipped = c.addAppUserAction(st.envName, st.noAppUser).Summary
		return []providers.ExportedObject{o}, nil
	}
	var principals []string
	for _, h := range st.holders {
		if h.Service {
			continue // Microsoft's service accounts keep their role whatever is declared
		}
		principals = append(principals, h.exportKey())
	}
	o.ID = st.dv.env.Name + "/system-administrators"
	o.Value = cty.ObjectVal(map[string]cty.Value{"environment": cty.StringVal(st.envName), "principals": attrs.StringSet(principals)})
	o.Comment = "Guide step 7: the principals holding System Administrator in " + st.envName + " now (enforce = true would remove others)."
	return []providers.ExportedObject{o}, nil
}

// exportKey is the principals entry that names the holder: its label when that is one of its
// keys (user principal name, application id), else its system user id.
func (h *holder) exportKey() string {
	for _, k := range h.Keys {
		if k != "" && strings.EqualFold(k, h.Label) {
			return h.Label
		}
	}
	return h.ID
}

func (c *Client) exportSettings(ctx context.Context) ([]providers.ExportedObject, error) {
	cfg := cty.ObjectVal(map[string]cty.Value{"environment": cty.StringVal(VivaEnvironment)})
	st, deferred, err := c.settingsState(ctx, cfg)
	o := providers.ExportedObject{Name: VivaEnvironment}
	var unidentified *unidentifiedOrgError
	if errors.As(err, &unidentified) {
		o.Skipped = err.Error()
		return []providers.ExportedObject{o}, nil
	}
	if err != nil {
		return nil, err
	}
	if deferred != "" {
		o.Skipped = deferred
		return []providers.ExportedObject{o}, nil
	}
	if st.noAppUser != nil {
		o.Skipped = c.addAppUserAction(st.envName, st.noAppUser).Summary
		return []providers.ExportedObject{o}, nil
	}
	o.ID = st.dv.env.Name + "/copilot-for-sales-settings"
	vals := map[string]cty.Value{"environment": cty.StringVal(st.envName)}
	if st.orgID != "" {
		vals["salesforce_org_id"] = cty.StringVal(st.orgID)
	}
	var notes []string
	if r, _ := findRow(st.org, featureCopilot); r != nil {
		if b, ok := r.JSON["aiFeaturesEnabled"].(bool); ok {
			vals["ai_features_enabled"] = cty.BoolVal(b)
		}
		if ch := strings.ToLower(s(r.JSON["releaseChannel"])); ch != "" {
			vals["ai_release_channel"] = cty.StringVal(ch)
		}
	}
	fields := map[string]cty.Value{}
	seen := map[string]bool{}
	for _, r := range st.entities {
		k := strings.ToLower(r.Key)
		if r.Bad || r.Key == "" || seen[k] {
			continue
		}
		seen[k] = true
		var list []cty.Value
		fs, _ := r.JSON["fields"].([]any)
		for _, f := range fs {
			if name, ok := f.(string); ok {
				list = append(list, cty.StringVal(name))
			}
		}
		if len(list) == 0 {
			fields[r.Key] = cty.ListValEmpty(cty.String)
		} else {
			fields[r.Key] = cty.ListVal(list)
		}
	}
	if len(fields) > 0 {
		vals["record_fields"] = cty.MapVal(fields)
	}
	if r, _ := findRow(st.org, featureIntegrations); r != nil {
		ints := map[string]cty.Value{}
		m, _ := r.JSON["integrations"].(map[string]any)
		for k, v := range m {
			if b, ok := v.(bool); ok {
				ints[k] = cty.BoolVal(b)
			}
		}
		if len(ints) > 0 {
			vals["integrations"] = cty.MapVal(ints)
		}
	}
	for _, w := range st.warnings {
		notes = append(notes, "Not exported: "+w)
	}
	o.Value = cty.ObjectVal(vals)
	o.Comment = strings.Join(append([]string{"Guide step 8: Copilot for Sales admin settings (changed on the admin page; c4sctl plans them as manual changes)."}, notes...), "\n")
	return []providers.ExportedObject{o}, nil
}
