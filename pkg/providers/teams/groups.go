package teams

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/zclconf/go-cty/cty"
)

// Group policy assignments, shared by teams_meeting_policy and teams_app_setup_policy: the
// MicrosoftTeams module's routes (docs/api/teams.md, T6–T9), one policy type at a time. Ranks
// are tenant-wide per policy type (1 = highest).

const groupNote = "group policy assignments reach direct members of the groups only, within up to 24 hours"

// policyNoun names a policy type in messages.
func policyNoun(typ string) string {
	if typ == meetingType {
		return "meeting policy"
	}
	return "app setup policy"
}

// policyGroups lists the tenant's group assignments of one policy type, by rank (T6).
func (c *Client) policyGroups(ctx context.Context, typ string) ([]liveGroup, error) {
	var gs []liveGroup
	if err := c.do(ctx, http.MethodGet, groupsPath+"?policyType="+typ, nil, &gs); err != nil {
		return nil, fmt.Errorf("read %s group assignments: %w", policyNoun(typ), err)
	}
	return assignmentsOf(gs, typ), nil
}

// assignmentsOf keeps the assignments of one policy type of a list, by rank.
func assignmentsOf(gs []liveGroup, typ string) []liveGroup {
	out := gs[:0]
	for _, g := range gs {
		if strings.EqualFold(g.PolicyType, typ) && g.GroupID != "" {
			out = append(out, g)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Priority < out[j].Priority })
	return out
}

// readGroups is the groups attribute as Read reports it: the policy's assignments, declared
// groups first in the configuration's order, with their live ranks (an empty list for Global,
// which cannot be assigned). A declared group assigned another policy of the type is a warning.
func (c *Client) readGroups(ctx context.Context, typ, identity string, cfg cty.Value) (cty.Value, []string, error) {
	if isGlobal(identity) {
		return cty.ListValEmpty(groupObj), nil, nil
	}
	all, err := c.policyGroups(ctx, typ)
	if err != nil {
		return cty.NilVal, nil, err
	}
	var warnings []string
	name := displayIdentity(identity)
	var mine []liveGroup
	byID := map[string]liveGroup{}
	for _, g := range all {
		byID[strings.ToLower(g.GroupID)] = g
		if strings.EqualFold(displayIdentity(g.PolicyName), name) {
			mine = append(mine, g)
		}
	}
	var out []group
	used := map[string]bool{}
	for _, d := range declaredGroups(cfg) {
		g, ok := byID[strings.ToLower(d.ID)]
		switch {
		case ok && strings.EqualFold(displayIdentity(g.PolicyName), name):
			out = append(out, group{d.ID, int(g.Priority)})
			used[strings.ToLower(d.ID)] = true
		case ok:
			warnings = append(warnings, fmt.Sprintf("group %s gets %s %q now; apply assigns it %q instead", d.ID, policyNoun(typ), g.PolicyName, name))
		}
	}
	for _, g := range mine {
		if !used[strings.ToLower(g.GroupID)] {
			out = append(out, group{g.GroupID, int(g.Priority)})
		}
	}
	if len(out) == 0 {
		return cty.ListValEmpty(groupObj), warnings, nil
	}
	lv := make([]cty.Value, len(out))
	for i, g := range out {
		lv[i] = cty.ObjectVal(map[string]cty.Value{"group_id": cty.StringVal(g.ID), "rank": cty.NumberIntVal(int64(g.Rank))})
	}
	return cty.ListVal(lv), warnings, nil
}

// planGroups checks declared groups against the tenant's assignments of the type: at most 64
// groups per policy type after the change, and every rank within the resulting count.
func (c *Client) planGroups(ctx context.Context, typ, identity string, groups []group) error {
	if isGlobal(identity) && len(groups) > 0 {
		return fmt.Errorf("groups: the Global %s applies to everyone without another assignment and cannot be assigned to groups; declare a named policy (identity = \"Sellers\") for group assignment", policyNoun(typ))
	}
	all, err := c.policyGroups(ctx, typ)
	if err != nil {
		return err
	}
	name := displayIdentity(identity)
	declared := map[string]bool{}
	for _, g := range groups {
		declared[strings.ToLower(g.ID)] = true
	}
	total := 0
	assigned := map[string]bool{}
	for _, g := range all {
		assigned[strings.ToLower(g.GroupID)] = true
		if strings.EqualFold(displayIdentity(g.PolicyName), name) && !declared[strings.ToLower(g.GroupID)] {
			continue // removed by this change
		}
		total++
	}
	for _, g := range groups {
		if !assigned[strings.ToLower(g.ID)] {
			total++
		}
	}
	noun := policyNoun(typ)
	if total > maxGroups {
		return fmt.Errorf("groups: a Teams policy type can be assigned to at most %d groups, and after this change %ss would be assigned to %d; remove group assignments of other %ss (Get-CsGroupPolicyAssignment -PolicyType %s) or use fewer groups", maxGroups, noun, total, noun, typ)
	}
	for _, g := range groups {
		if g.Rank > total {
			return fmt.Errorf("groups: group %s has rank %d, but %ss will have %d group assignments: use a rank from 1 to %d", g.ID, g.Rank, noun, total, total)
		}
	}
	return nil
}

// syncGroups makes the policy's group assignments of the type exactly the declared ones.
func (c *Client) syncGroups(ctx context.Context, typ, name string, declared []group) error {
	noun := policyNoun(typ)
	all, err := c.policyGroups(ctx, typ)
	if err != nil {
		return err
	}
	want := map[string]bool{}
	for _, d := range declared {
		want[strings.ToLower(d.ID)] = true
	}
	removed := false
	for _, g := range all {
		if strings.EqualFold(displayIdentity(g.PolicyName), name) && !want[strings.ToLower(g.GroupID)] {
			if err := c.do(ctx, http.MethodDelete, groupOnePath(typ, g.GroupID), nil, nil); err != nil && !IsNotFound(err) {
				return fmt.Errorf("remove %s %q from group %s: %w", noun, name, g.GroupID, err)
			}
			removed = true
		}
	}
	if removed {
		if all, err = c.policyGroups(ctx, typ); err != nil {
			return err
		}
	}
	sorted := append([]group{}, declared...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Rank < sorted[j].Rank })
	for _, d := range sorted {
		var cur *liveGroup
		for i := range all {
			if strings.EqualFold(all[i].GroupID, d.ID) {
				cur = &all[i]
			}
		}
		switch {
		case cur == nil:
			// New-CsGroupPolicyAssignment: PUT to the assignment's own path, {policyName, priority}.
			body := map[string]any{"policyName": name, "priority": d.Rank}
			assigned := func(ctx context.Context) (bool, error) {
				now, err := c.policyGroups(ctx, typ)
				for _, g := range now {
					if strings.EqualFold(g.GroupID, d.ID) {
						return true, nil
					}
				}
				return false, err
			}
			err := c.doCreate(ctx, http.MethodPut, groupOnePath(typ, d.ID), body, nil, assigned)
			var ae *APIError
			if errors.As(err, &ae) && ae.Status == http.StatusConflict {
				// A PUT is idempotent to the HTTP layer, which sends it again when its answer is
				// lost; the service then answers 409 for the assignment the first one made. Read
				// it back: the loop's next pass changes it if it is not the declared one.
				if all, err = c.policyGroups(ctx, typ); err != nil {
					return err
				}
				for i := range all {
					if strings.EqualFold(all[i].GroupID, d.ID) {
						cur = &all[i]
					}
				}
				if cur == nil {
					return fmt.Errorf("assign %s %q to group %s: %w", noun, name, d.ID, ae)
				}
				if strings.EqualFold(displayIdentity(cur.PolicyName), name) && int(cur.Priority) == d.Rank {
					continue
				}
				body := map[string]any{"policyName": name, "priority": d.Rank}
				if err := c.do(ctx, http.MethodPatch, groupOnePath(typ, cur.GroupID), body, nil); err != nil {
					return fmt.Errorf("change the %s assignment of group %s: %w", noun, d.ID, err)
				}
			} else if err != nil {
				return fmt.Errorf("assign %s %q to group %s: %w", noun, name, d.ID, err)
			}
		case !strings.EqualFold(displayIdentity(cur.PolicyName), name) || int(cur.Priority) != d.Rank:
			// Set-CsGroupPolicyAssignment: PATCH the assignment, {policyName, priority}.
			body := map[string]any{"policyName": name, "priority": d.Rank}
			if err := c.do(ctx, http.MethodPatch, groupOnePath(typ, cur.GroupID), body, nil); err != nil {
				return fmt.Errorf("change the %s assignment of group %s: %w", noun, d.ID, err)
			}
		default:
			continue
		}
		if all, err = c.policyGroups(ctx, typ); err != nil { // ranks of the others shifted
			return err
		}
	}
	return nil
}

func groupOnePath(typ, groupID string) string {
	return groupsPath + "/" + url.PathEscape(groupID) + "/policyTypes/" + typ
}

// unnamedGroups are the group ids a policy's plan shows (assigned now, or declared), whose names
// the Teams policy service does not give: the plan names them through Microsoft Graph
// (providers.Namer), in one batched lookup for the whole plan.
func unnamedGroups(live, cfg cty.Value) map[string][]string {
	var ids []string
	if live != cty.NilVal && live.IsKnown() && !live.IsNull() {
		for it := live.ElementIterator(); it.Next(); {
			_, e := it.Element()
			if id := e.GetAttr("group_id"); id.IsKnown() && !id.IsNull() {
				ids = append(ids, id.AsString())
			}
		}
	}
	for _, d := range declaredGroups(cfg) {
		ids = append(ids, d.ID)
	}
	if len(ids) == 0 {
		return nil
	}
	return map[string][]string{providers.KindEntraGroup: ids}
}
