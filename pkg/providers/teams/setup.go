package teams

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strings"

	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/schema"
	"github.com/zclconf/go-cty/cty"
)

// Diff semantics of teams_app_setup_policy (the engine diffs Read's value against the
// configuration, attribute by attribute; a second plan after apply must be a no-op):
//
//   - app_preset_list (set) is additive unless exclusive = true: the declared apps must be
//     installed, other installed apps are left alone. Read therefore reports, when the
//     configuration declares the list, only the declared apps that are installed (live ∩
//     declared): the plan shows exactly the apps that will be added, and after apply Read
//     reports the declared set. Apply sends live ∪ declared. Without a declared list (or with
//     exclusive = true) Read reports the full live list, and exclusive apply sends the
//     declared list as is (removing the others).
//   - pinned_app_bar_apps (list of {id, order}) likewise: each declared app ends up pinned at
//     its declared position (1 = first); the policy's other pinned apps keep their relative
//     order and are renumbered around them. Read reports, for the declared apps that are
//     pinned, {id, live order} in the configuration's order; so a moved or missing app shows
//     as a change. With exclusive = true the pinned list is exactly the declared one (orders
//     must then be 1..n).
//   - groups (list of {group_id, rank}) is authoritative for this policy: the policy is
//     assigned to exactly the declared groups (assignments of this policy to other groups are
//     removed; a declared group assigned another setup policy is moved to this one). Read
//     reports the policy's assignments, declared groups first in the configuration's order,
//     with their live ranks. Ranks are tenant-wide per policy type (1 = highest): inserting a
//     group at a rank shifts the others down, so give every group a distinct rank across all
//     app setup policies.
//   - exclusive is not a property of the policy: Read echoes the configuration's value.

var (
	pinnedObj = cty.Object(map[string]cty.Type{"id": cty.String, "order": cty.Number})
	groupObj  = cty.Object(map[string]cty.Type{"group_id": cty.String, "rank": cty.Number})
)

func appSetupPolicySchema() *schema.Resource {
	return &schema.Resource{
		Type:        "teams_app_setup_policy",
		Provider:    "teams",
		Identity:    policyIdentity("teams:app_setup_policy", "Teams app setup policy"),
		NormalizeID: policyKey,
		Description: "A Teams app setup policy (guide step 2: install and pin Copilot for Sales). The Global policy always exists " +
			"and is never created or deleted; named policies are, and can be assigned to groups. Declared apps are added to " +
			"the installed and pinned apps without disturbing the others unless exclusive = true.",
		Attributes: []*schema.Attribute{
			{Name: "identity", Type: cty.String, Optional: true, Default: cty.StringVal("Global"), Validate: validIdentity,
				Description: "\"Global\" (default) or the name of a custom policy (\"Sales\" or \"Tag:Sales\")."},
			{Name: "description", Type: cty.String, Optional: true, Description: "Free text shown in the Teams admin center."},
			{Name: "app_preset_list", Type: cty.Set(cty.String), Optional: true, Validate: validAppIDs,
				Description: "Teams app ids that must be installed for the policy's users (AppPresetList)."},
			{Name: "pinned_app_bar_apps", Type: cty.List(pinnedObj), Optional: true, Validate: validPins,
				Description: "Apps pinned to the app bar, each at a position (order 1 = first); other pinned apps are renumbered around them (PinnedAppBarApps)."},
			{Name: "allow_user_pinning", Type: cty.Bool, Optional: true, Description: "Users may pin apps themselves (AllowUserPinning)."},
			{Name: "allow_side_loading", Type: cty.Bool, Optional: true, Description: "Users may upload custom apps (AllowSideLoading)."},
			{Name: "exclusive", Type: cty.Bool, Optional: true, Default: cty.False, Echo: true,
				Description: "When true, the installed and pinned apps are exactly the declared ones (others are removed)."},
			{Name: "groups", Type: cty.List(groupObj), Optional: true, Validate: validGroups,
				Description: "Groups the (named) policy is assigned to, with their rank among the tenant's app setup policy group assignments (1 = highest; at most 64 groups per policy type; direct members only; propagation takes up to 24 hours)."},
		},
		// Teams app ids are GUIDs, compared without case (as validPins compares the pinned ones).
		Distinct: []schema.Distinct{{Attributes: []string{"app_preset_list"}, What: "app", Key: strings.ToLower}},
	}
}

// --- validation ---

func whole(n cty.Value, lo, hi int64) (int64, bool) {
	if n.IsNull() || !n.IsKnown() {
		return 0, false
	}
	f, _ := n.AsBigFloat().Float64()
	if f != math.Trunc(f) || f < float64(lo) || f > float64(hi) {
		return 0, false
	}
	return int64(f), true
}

func validAppIDs(v cty.Value) error {
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if e.IsKnown() && e.IsNull() {
			return fmt.Errorf("expected Teams app ids, got null")
		}
		if e.IsKnown() && (strings.TrimSpace(e.AsString()) == "" || len(e.AsString()) > 256) {
			return fmt.Errorf("expected Teams app ids (non-empty, at most 256 characters), got %q", e.AsString())
		}
	}
	return nil
}

func validPins(v cty.Value) error {
	ids, orders := map[string]bool{}, map[int64]bool{}
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if !e.IsKnown() || e.IsNull() {
			continue
		}
		id, o := e.GetAttr("id"), e.GetAttr("order")
		if id.IsKnown() {
			if id.IsNull() || strings.TrimSpace(id.AsString()) == "" {
				return fmt.Errorf("every pinned app needs an id")
			}
			k := strings.ToLower(id.AsString())
			if ids[k] {
				return fmt.Errorf("app %q is pinned twice", id.AsString())
			}
			ids[k] = true
		}
		if o.IsKnown() {
			n, ok := whole(o, 1, 1000)
			if !ok {
				return fmt.Errorf("order must be a whole number from 1 (first) to 1000, got %s", o.GoString())
			}
			if orders[n] {
				return fmt.Errorf("two pinned apps have order %d", n)
			}
			orders[n] = true
		}
	}
	return nil
}

func validGroups(v cty.Value) error {
	ids, ranks := map[string]bool{}, map[int64]bool{}
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if !e.IsKnown() || e.IsNull() {
			continue
		}
		id, r := e.GetAttr("group_id"), e.GetAttr("rank")
		if id.IsKnown() {
			if id.IsNull() || strings.TrimSpace(id.AsString()) == "" || strings.ContainsAny(id.AsString(), "/\\?#%") {
				return fmt.Errorf("every group needs a group_id (the group's object id)")
			}
			k := strings.ToLower(id.AsString())
			if ids[k] {
				return fmt.Errorf("group %q is listed twice", id.AsString())
			}
			ids[k] = true
		}
		if r.IsKnown() {
			n, ok := whole(r, 1, maxGroups)
			if !ok {
				return fmt.Errorf("rank must be a whole number from 1 (highest) to %d, got %s", maxGroups, r.GoString())
			}
			if ranks[n] {
				return fmt.Errorf("two groups have rank %d", n)
			}
			ranks[n] = true
		}
	}
	return nil
}

// --- live model ---

type pin struct {
	ID    string
	Order int
}

type liveSetup struct {
	Identity         string
	Description      *string
	Apps             []string
	Pins             []pin // sorted by order
	AllowUserPinning *bool
	AllowSideLoading *bool
}

// liveGroup is a group policy assignment as the service lists it. The wire names are those of
// the MicrosoftTeams module's GroupAssignment model (docs/api/teams.md): the rank is "priority"
// (the admin centre and the module's table label it "Rank"; no field of that name exists).
// encoding/json matches names case-insensitively, so "Priority" is read too.
type liveGroup struct {
	GroupID    string  `json:"groupId"`
	PolicyType string  `json:"policyType"`
	PolicyName string  `json:"policyName"`
	Priority   float64 `json:"priority"`
	// CreatedTime is when the assignment was made (yyyy-MM-ddTHH:mm:ss.fffffffK; the module's
	// GroupAssignment model, docs/api/teams.md).
	CreatedTime string `json:"createdTime"`
}

func (c *Client) getSetup(ctx context.Context, identity string) (*liveSetup, error) {
	var raw struct {
		Identity      string  `json:"Identity"`
		Description   *string `json:"Description"`
		AppPresetList []struct {
			ID string `json:"Id"`
		} `json:"AppPresetList"`
		PinnedAppBarApps []struct {
			ID    string  `json:"Id"`
			Order float64 `json:"Order"`
		} `json:"PinnedAppBarApps"`
		AllowUserPinning *bool `json:"AllowUserPinning"`
		AllowSideLoading *bool `json:"AllowSideLoading"`
	}
	if err := c.getOne(ctx, policyPath(setupType, identity), identity, &raw); err != nil {
		return nil, err
	}
	l := &liveSetup{Identity: raw.Identity, Description: raw.Description, AllowUserPinning: raw.AllowUserPinning, AllowSideLoading: raw.AllowSideLoading}
	if l.Identity == "" {
		l.Identity = identity
	}
	for _, a := range raw.AppPresetList {
		if a.ID != "" {
			l.Apps = append(l.Apps, a.ID)
		}
	}
	for _, p := range raw.PinnedAppBarApps {
		if p.ID != "" {
			l.Pins = append(l.Pins, pin{p.ID, int(p.Order)})
		}
	}
	sort.SliceStable(l.Pins, func(i, j int) bool { return l.Pins[i].Order < l.Pins[j].Order })
	return l, nil
}

// --- declared values ---

func declaredApps(v cty.Value) []string {
	var out []string
	a := getAttr(v, "app_preset_list")
	if a.IsNull() || !a.IsWhollyKnown() {
		return nil
	}
	for it := a.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if !e.IsNull() {
			out = append(out, e.AsString())
		}
	}
	sort.Strings(out)
	return out
}

func declaredPins(v cty.Value) []pin {
	var out []pin
	a := getAttr(v, "pinned_app_bar_apps")
	if a.IsNull() || !a.IsWhollyKnown() {
		return nil
	}
	for it := a.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if e.IsNull() || e.GetAttr("id").IsNull() {
			continue // refused by validPins; never panic here
		}
		n, _ := whole(e.GetAttr("order"), math.MinInt32, math.MaxInt32)
		out = append(out, pin{e.GetAttr("id").AsString(), int(n)})
	}
	return out
}

type group struct {
	ID   string
	Rank int
}

func declaredGroups(v cty.Value) []group {
	var out []group
	a := getAttr(v, "groups")
	if a.IsNull() || !a.IsWhollyKnown() {
		return nil
	}
	for it := a.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if e.IsNull() || e.GetAttr("group_id").IsNull() {
			continue // refused by validGroups; never panic here
		}
		n, _ := whole(e.GetAttr("rank"), math.MinInt32, math.MaxInt32)
		out = append(out, group{e.GetAttr("group_id").AsString(), int(n)})
	}
	return out
}

func exclusive(v cty.Value) bool {
	e := getAttr(v, "exclusive")
	return !e.IsNull() && e.IsKnown() && e.True()
}

// mergePins places each declared app at its order and fills the other positions with the live
// pinned apps (declared ones excluded) in their current order; the result is numbered 1..n.
func mergePins(live, declared []pin) ([]pin, error) {
	isDeclared := map[string]bool{}
	for _, d := range declared {
		isDeclared[strings.ToLower(d.ID)] = true
	}
	var others []pin
	for _, l := range live {
		if !isDeclared[strings.ToLower(l.ID)] {
			others = append(others, l)
		}
	}
	n := len(others) + len(declared)
	slots := make([]*pin, n)
	for i := range declared {
		d := declared[i]
		if d.Order < 1 || d.Order > n {
			return nil, fmt.Errorf("pinned app %s has order %d, but the pinned list will hold %d apps: use an order from 1 to %d", d.ID, d.Order, n, n)
		}
		if slots[d.Order-1] != nil {
			return nil, fmt.Errorf("two pinned apps have order %d", d.Order)
		}
		slots[d.Order-1] = &d
	}
	out := make([]pin, 0, n)
	k := 0
	for _, s := range slots {
		if s != nil {
			out = append(out, *s)
			continue
		}
		out = append(out, others[k])
		k++
	}
	for i := range out {
		out[i].Order = i + 1
	}
	return out, nil
}

// builtinApps names the Teams apps of the default Global app setup policy by their fixed ids
// (docs/api/teams.md: Get-CsTeamsAppSetupPolicy example 1 on Microsoft Learn; Calling and
// OneDrive from Microsoft365DSC's tests). Other ids are shown bare (the plan names those a
// data.teams_app of the same plan read).
var builtinApps = map[string]string{
	"14d6962d-6eeb-4f48-8890-de55454bb136": "Activity",
	"86fcd49b-61a2-4701-b771-54728cd291fb": "Chat",
	"2a84919f-59d8-4441-a975-2a8c2643b741": "Teams",
	"ef56c0de-36fc-4ef8-b417-3d82ba9d073c": "Calendar",
	"20c3440d-c67e-4420-9f80-0e50c39693df": "Calling",
	"5af6a76b-40fc-4ba1-af29-8f49b08e44fd": "OneDrive",
	"d2c6f111-ffad-42a0-b65e-ee00425598aa": "Viva Connections",
}

// pinOrderNote shows the whole pinned list apply leaves, when apply renumbers pinned apps the
// configuration does not declare (mergePins): the diff shows only the declared apps, so a
// reviewer would not see the others move. "" when no undeclared app moves.
func pinOrderNote(live, merged, declared []pin) string {
	isDeclared := map[string]bool{}
	for _, d := range declared {
		isDeclared[strings.ToLower(d.ID)] = true
	}
	liveOrder := map[string]int{}
	for _, l := range live {
		liveOrder[strings.ToLower(l.ID)] = l.Order
	}
	moved := false
	for _, m := range merged {
		if o, ok := liveOrder[strings.ToLower(m.ID)]; ok && !isDeclared[strings.ToLower(m.ID)] && o != m.Order {
			moved = true
		}
	}
	if !moved {
		return ""
	}
	parts := make([]string, len(merged))
	for i, m := range merged {
		parts[i] = fmt.Sprintf("%d. %s", m.Order, m.ID)
		if name := builtinApps[strings.ToLower(m.ID)]; name != "" {
			parts[i] += " (" + name + ")"
		}
	}
	return "apply renumbers the policy's other pinned apps; the pinned apps after apply, in order: " + strings.Join(parts, ", ")
}

func unionApps(live, declared []string) []string {
	out := append([]string{}, live...)
	have := map[string]bool{}
	for _, l := range live {
		have[strings.ToLower(l)] = true
	}
	for _, d := range declared {
		if !have[strings.ToLower(d)] {
			out = append(out, d)
			have[strings.ToLower(d)] = true
		}
	}
	return out
}

func sameApps(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	set := map[string]bool{}
	for _, x := range a {
		set[strings.ToLower(x)] = true
	}
	for _, x := range b {
		if !set[strings.ToLower(x)] {
			return false
		}
	}
	return true
}

func samePins(a, b []pin) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !strings.EqualFold(a[i].ID, b[i].ID) || a[i].Order != b[i].Order {
			return false
		}
	}
	return true
}

func appsJSON(ids []string) []map[string]any {
	out := []map[string]any{}
	for _, id := range ids {
		out = append(out, map[string]any{"Id": id})
	}
	return out
}

func pinsJSON(ps []pin) []map[string]any {
	out := []map[string]any{}
	for _, p := range ps {
		out = append(out, map[string]any{"Id": p.ID, "Order": p.Order})
	}
	return out
}

// --- Read ---

func (c *Client) readSetup(ctx context.Context, req providers.ReadRequest) (providers.ReadResponse, error) {
	typ := appSetupPolicySchema().ImpliedType()
	identity := identityOf(req.Config, req.ID)
	l, err := c.getSetup(ctx, identity)
	if IsNotFound(err) {
		if isGlobal(identity) {
			return providers.ReadResponse{}, fmt.Errorf("the Global app setup policy was not found, but it exists in every tenant: check the endpoint and that the app has the Teams Administrator role (%v)", err)
		}
		return providers.ReadResponse{Value: cty.NullVal(typ), Unnamed: unnamedGroups(cty.NilVal, req.Config)}, nil
	}
	if err != nil {
		return providers.ReadResponse{}, fmt.Errorf("read app setup policy %q: %w", identity, err)
	}
	cfg := req.Config
	excl := exclusive(cfg)
	vals := map[string]cty.Value{
		"identity":           cty.StringVal(attrIdentity(cfg, l.Identity)),
		"description":        cty.NullVal(cty.String),
		"allow_user_pinning": cty.NullVal(cty.Bool),
		"allow_side_loading": cty.NullVal(cty.Bool),
		"exclusive":          cty.BoolVal(excl),
	}
	if l.Description != nil {
		vals["description"] = cty.StringVal(*l.Description)
	}
	if l.AllowUserPinning != nil {
		vals["allow_user_pinning"] = cty.BoolVal(*l.AllowUserPinning)
	}
	if l.AllowSideLoading != nil {
		vals["allow_side_loading"] = cty.BoolVal(*l.AllowSideLoading)
	}

	// Installed apps: live ∩ declared when additive and declared (see the comment at the top).
	apps := l.Apps
	if !excl && known(cfg, "app_preset_list") {
		liveSet := map[string]bool{}
		for _, a := range l.Apps {
			liveSet[strings.ToLower(a)] = true
		}
		apps = nil
		for _, d := range declaredApps(cfg) {
			if liveSet[strings.ToLower(d)] {
				apps = append(apps, d)
			}
		}
	}
	vals["app_preset_list"] = cty.SetValEmpty(cty.String)
	if len(apps) > 0 {
		sv := make([]cty.Value, len(apps))
		for i, a := range apps {
			sv[i] = cty.StringVal(a)
		}
		vals["app_preset_list"] = cty.SetVal(sv)
	}

	// Pinned apps: the declared ones with their live order, in the configuration's order.
	pins := l.Pins
	if !excl && known(cfg, "pinned_app_bar_apps") {
		liveOrder := map[string]int{}
		for _, p := range l.Pins {
			liveOrder[strings.ToLower(p.ID)] = p.Order
		}
		pins = nil
		for _, d := range declaredPins(cfg) {
			if o, ok := liveOrder[strings.ToLower(d.ID)]; ok {
				pins = append(pins, pin{d.ID, o})
			}
		}
	}
	vals["pinned_app_bar_apps"] = cty.ListValEmpty(pinnedObj)
	if len(pins) > 0 {
		lv := make([]cty.Value, len(pins))
		for i, p := range pins {
			lv[i] = cty.ObjectVal(map[string]cty.Value{"id": cty.StringVal(p.ID), "order": cty.NumberIntVal(int64(p.Order))})
		}
		vals["pinned_app_bar_apps"] = cty.ListVal(lv)
	}

	// Group assignments (named policies only: Global cannot be assigned to groups).
	groups, warnings, err := c.readGroups(ctx, setupType, l.Identity, cfg)
	if err != nil {
		return providers.ReadResponse{}, err
	}
	vals["groups"] = groups
	return providers.ReadResponse{ID: l.Identity, Value: cty.ObjectVal(vals), Warnings: warnings, Unnamed: unnamedGroups(groups, cfg)}, nil
}

// --- Plan ---

func (c *Client) planSetup(ctx context.Context, req providers.PlanRequest) (providers.PlanResponse, error) {
	var resp providers.PlanResponse
	if req.Action == providers.Delete {
		identity := identityOf(req.Prior, req.ID)
		if isGlobal(identity) {
			resp.Action = providers.Forget
			resp.Notes = append(resp.Notes, "the Global app setup policy cannot be deleted; c4sctl stops managing it and leaves its apps as they are")
			return resp, nil
		}
		if g := getAttr(req.Prior, "groups"); !g.IsNull() && g.IsKnown() && g.LengthInt() > 0 {
			resp.Notes = append(resp.Notes, fmt.Sprintf("its %d group assignment(s) are removed first; those users fall back to their next-ranked group's policy or Global", g.LengthInt()))
		}
		return resp, nil
	}
	if req.Action != providers.Create && req.Action != providers.Update {
		return resp, nil
	}
	identity := identityOf(req.Config, req.ID)
	groups := declaredGroups(req.Config)
	if isGlobal(identity) && len(groups) > 0 {
		return resp, fmt.Errorf("groups: the Global app setup policy applies to everyone without another assignment and cannot be assigned to groups; declare a named policy (identity = \"Copilot for Sales\") for group assignment")
	}
	pins := declaredPins(req.Config)
	if pins != nil {
		var live []pin
		if req.Action == providers.Update && !exclusive(req.Config) {
			l, err := c.getSetup(ctx, identityOf(req.Config, req.ID))
			if err != nil {
				return resp, fmt.Errorf("read app setup policy %q: %w", identity, err)
			}
			live = l.Pins
		}
		merged, err := mergePins(live, pins)
		if err != nil {
			return resp, fmt.Errorf("pinned_app_bar_apps: %v", err)
		}
		if n := pinOrderNote(live, merged, pins); n != "" {
			resp.Notes = append(resp.Notes, n)
		}
	}
	if groups != nil {
		if err := c.planGroups(ctx, setupType, identity, groups); err != nil {
			return resp, err
		}
		resp.Notes = append(resp.Notes, groupNote)
	}
	return resp, nil
}

// --- Apply ---

func (c *Client) applySetup(ctx context.Context, req providers.ApplyRequest) (providers.ApplyResponse, error) {
	note := "app setup policy changes can take up to 24 hours to reach users"
	switch req.Action {
	case providers.Create:
		identity := identityOf(req.Planned, "")
		if isGlobal(identity) {
			return providers.ApplyResponse{}, fmt.Errorf("the Global app setup policy cannot be created; it exists in every tenant (its read failed?)")
		}
		body := map[string]any{"Identity": displayIdentity(identity)} // the bare name, as New-Cs*Policy -Identity
		setScalars(body, req.Planned, nil)
		if apps := declaredApps(req.Planned); apps != nil {
			body["AppPresetList"] = appsJSON(apps)
		}
		if pins := declaredPins(req.Planned); pins != nil {
			merged, err := mergePins(nil, pins)
			if err != nil {
				return providers.ApplyResponse{}, fmt.Errorf("pinned_app_bar_apps: %v", err)
			}
			body["PinnedAppBarApps"] = pinsJSON(merged)
		}
		var out map[string]any
		if err := c.createPolicy(ctx, setupType, identity, body, &out); err != nil {
			return providers.ApplyResponse{}, fmt.Errorf("create app setup policy %q: %w", identity, err)
		}
		id, _ := out["Identity"].(string)
		if id == "" {
			id = "Tag:" + displayIdentity(identity)
		}
		if groups := declaredGroups(req.Planned); groups != nil {
			if err := c.syncGroups(ctx, setupType, displayIdentity(id), groups); err != nil {
				return providers.ApplyResponse{ID: id}, err
			}
		}
		return providers.ApplyResponse{ID: id, Notes: []string{note}}, nil

	case providers.Update:
		identity := req.ID
		if identity == "" {
			identity = identityOf(req.Planned, "")
		}
		l, err := c.getSetup(ctx, identity) // re-read: merge with what is live now, not at plan time
		if err != nil {
			return providers.ApplyResponse{}, fmt.Errorf("read app setup policy %q: %w", displayIdentity(identity), err)
		}
		body := map[string]any{}
		setScalars(body, req.Planned, l)
		excl := exclusive(req.Planned)
		if apps := declaredApps(req.Planned); apps != nil {
			want := apps
			if !excl {
				want = unionApps(l.Apps, apps)
			}
			if !sameApps(want, l.Apps) {
				body["AppPresetList"] = appsJSON(want)
			}
		}
		if pins := declaredPins(req.Planned); pins != nil {
			var base []pin
			if !excl {
				base = l.Pins
			}
			want, err := mergePins(base, pins)
			if err != nil {
				return providers.ApplyResponse{}, fmt.Errorf("pinned_app_bar_apps: %v", err)
			}
			if !samePins(want, l.Pins) {
				body["PinnedAppBarApps"] = pinsJSON(want)
			}
		}
		if len(body) > 0 {
			if err := c.do(ctx, http.MethodPut, policyPath(setupType, l.Identity), body, nil); err != nil {
				return providers.ApplyResponse{}, fmt.Errorf("update app setup policy %q: %w", displayIdentity(l.Identity), err)
			}
		}
		if groups := declaredGroups(req.Planned); groups != nil {
			if isGlobal(l.Identity) {
				if len(groups) > 0 {
					return providers.ApplyResponse{ID: l.Identity}, fmt.Errorf("groups: the Global app setup policy cannot be assigned to groups")
				}
			} else if err := c.syncGroups(ctx, setupType, displayIdentity(l.Identity), groups); err != nil {
				return providers.ApplyResponse{ID: l.Identity}, err
			}
		}
		return providers.ApplyResponse{ID: l.Identity, Notes: []string{note}}, nil

	case providers.Delete:
		identity := req.ID
		if identity == "" {
			identity = identityOf(req.Prior, "")
		}
		if isGlobal(identity) {
			return providers.ApplyResponse{}, fmt.Errorf("the Global app setup policy cannot be deleted (a DELETE would reset it to Microsoft's defaults); remove it from the configuration to stop managing it")
		}
		if err := c.syncGroups(ctx, setupType, displayIdentity(identity), []group{}); err != nil {
			return providers.ApplyResponse{}, err
		}
		if err := c.do(ctx, http.MethodDelete, policyPath(setupType, identity), nil, nil); err != nil && !IsNotFound(err) {
			return providers.ApplyResponse{}, fmt.Errorf("delete app setup policy %q: %w", displayIdentity(identity), err)
		}
		return providers.ApplyResponse{ID: identity}, nil
	}
	return providers.ApplyResponse{}, fmt.Errorf("teams_app_setup_policy: unsupported action %q", req.Action)
}

// setScalars adds the planned description and Booleans that differ from live (all set ones
// when live is nil).
func setScalars(body map[string]any, planned cty.Value, l *liveSetup) {
	if d := getAttr(planned, "description"); !d.IsNull() && d.IsKnown() {
		if l == nil || l.Description == nil || *l.Description != d.AsString() {
			body["Description"] = d.AsString()
		}
	}
	for _, b := range []struct {
		attr, prop string
		live       func() *bool
	}{
		{"allow_user_pinning", "AllowUserPinning", func() *bool { return l.AllowUserPinning }},
		{"allow_side_loading", "AllowSideLoading", func() *bool { return l.AllowSideLoading }},
	} {
		v := getAttr(planned, b.attr)
		if v.IsNull() || !v.IsKnown() {
			continue
		}
		if l == nil || b.live() == nil || *b.live() != v.True() {
			body[b.prop] = v.True()
		}
	}
}
