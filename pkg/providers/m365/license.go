package m365

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/c4sctl/c4sctl/pkg/providers/attrs"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/c4sctl/c4sctl/pkg/httpx"
	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/providers/entra"
	"github.com/c4sctl/c4sctl/pkg/schema"
	"github.com/zclconf/go-cty/cty"
)

func licenseSchema() *schema.Resource {
	return &schema.Resource{
		Type: "m365_license_assignment", Provider: "microsoft365",
		// A SKU for one group: two resources would each set the group's disabled plans.
		Identity: func(v cty.Value) []schema.ObjectKey {
			sku := schema.Fold(attrs.String(v, "sku_part_number"))
			if sku == "" {
				return nil
			}
			var out []schema.ObjectKey
			for _, a := range []string{"group_id", "group_name", "users_from_group"} {
				for _, k := range schema.AttrKey(v, a, "m365:license:"+sku+":"+a, "group", nil) {
					k.Label = fmt.Sprintf("licence %s of %s", attrs.String(v, "sku_part_number"), k.Label)
					out = append(out, k)
				}
			}
			return out
		},
		Description: "A licence (by SKU part number) assigned to a group (group-based licensing), to listed users, or to each member of a group (per-user assignment through JSON batching). Prerequisite of the deployment guide: every seller holds the licence.",
		Attributes: []*schema.Attribute{
			{Name: "sku_part_number", Type: cty.String, Optional: true, Default: cty.StringVal(Defaults.SkuPartNumber),
				Description: "SKU part number of the licence (subscribedSkus.skuPartNumber); default: the Microsoft 365 Copilot licence the current guide asks for."},
			{Name: "group_id", Type: cty.String, Optional: true, Description: "Object id of the group the licence is assigned to (group-based licensing)."},
			{Name: "group_name", Type: cty.String, Optional: true, Description: "Display name of the group the licence is assigned to (group-based licensing)."},
			{Name: "users", Type: cty.Set(cty.String), Optional: true, Description: "User principal names licensed directly."},
			{Name: "users_from_group", Type: cty.String, Optional: true, Description: "Display name or object id of a group whose members are each licensed directly (per-user assignment, batched)."},
			{Name: "disabled_plans", Type: cty.Set(cty.String), Optional: true, Caseless: true, Description: "Service plans of the SKU to turn off, by name (servicePlanName) or id."},
			{Name: "all_licensed", Type: cty.Bool, Optional: true, Default: cty.True, Description: "Every target holds the licence (with the declared disabled plans). Read reports whether it is so; leave the default."},
			{Name: "sku_id", Type: cty.String, Computed: true, Description: "The SKU's id."},
			{Name: "licensed_count", Type: cty.Number, Computed: true, Description: "How many targets hold the licence now."},
		},
	}
}

// skuInfo is a subscribed SKU and its seats.
type skuInfo struct {
	ID, PartNumber    string
	Enabled, Consumed int
	Plans             map[string]string // lower-case plan name -> plan id
	PlanNames         map[string]string // lower-case plan id -> plan name
}

// Free is the number of unassigned seats.
func (s skuInfo) Free() int { return s.Enabled - s.Consumed }

// subscribedSkus reads the tenant's SKUs through the typed SDK.
func (c *Client) subscribedSkus(ctx context.Context) ([]skuInfo, error) {
	ctx, note := entra.WithReauthNote(ctx)
	resp, err := c.sdk.SubscribedSkus().Get(ctx, nil)
	if err != nil {
		return nil, sdkErr(note, "GET", "/v1.0/subscribedSkus", err)
	}
	var out []skuInfo
	if resp == nil {
		return out, nil
	}
	for _, s := range resp.GetValue() {
		if s == nil || s.GetSkuId() == nil {
			continue
		}
		k := skuInfo{ID: s.GetSkuId().String(), PartNumber: deref(s.GetSkuPartNumber()), Consumed: int(deref(s.GetConsumedUnits())),
			Plans: map[string]string{}, PlanNames: map[string]string{}}
		if pu := s.GetPrepaidUnits(); pu != nil {
			k.Enabled = int(deref(pu.GetEnabled()))
		}
		for _, p := range s.GetServicePlans() {
			if p == nil || p.GetServicePlanId() == nil {
				continue
			}
			id, name := p.GetServicePlanId().String(), deref(p.GetServicePlanName())
			k.Plans[strings.ToLower(name)] = id
			k.PlanNames[strings.ToLower(id)] = name
		}
		out = append(out, k)
	}
	c.mu.Lock()
	c.skus = out
	c.mu.Unlock()
	return out, nil
}

func (c *Client) findSku(ctx context.Context, part string) (skuInfo, error) {
	skus, err := c.subscribedSkus(ctx)
	if err != nil {
		return skuInfo{}, err
	}
	var have []string
	for _, s := range skus {
		if strings.EqualFold(s.PartNumber, part) || strings.EqualFold(s.ID, part) {
			return s, nil
		}
		have = append(have, s.PartNumber)
	}
	sort.Strings(have)
	return skuInfo{}, &missingSku{part, have}
}

// missingSku: the tenant has no subscription with that part number.
type missingSku struct {
	part string
	have []string
}

func (m *missingSku) Error() string {
	return fmt.Sprintf("the tenant has no subscription with SKU part number %q (it has: %s); buy the licence or set sku_part_number", m.part, strings.Join(m.have, ", "))
}

// target is what a licence assignment applies to.
type target struct {
	mode     string // "group", "users" or "members"
	groupRef string // id or name (group, members)
	byName   bool
	users    []string
}

func licenseTarget(cfg cty.Value) (target, error) {
	gid, gname, from := attrs.String(cfg, "group_id"), attrs.String(cfg, "group_name"), attrs.String(cfg, "users_from_group")
	users, hasUsers := attrs.Strings(cfg, "users")
	n := 0
	for _, set := range []bool{gid != "" || gname != "", hasUsers, from != ""} {
		if set {
			n++
		}
	}
	if n != 1 {
		return target{}, fmt.Errorf("m365_license_assignment needs exactly one target: group_id or group_name (group-based licensing), users, or users_from_group (per-user)")
	}
	switch {
	case gid != "":
		return target{mode: "group", groupRef: gid}, nil
	case gname != "":
		return target{mode: "group", groupRef: gname, byName: true}, nil
	case hasUsers:
		sort.Strings(users)
		return target{mode: "users", users: users}, nil
	}
	return target{mode: "members", groupRef: from, byName: !looksLikeID(from)}, nil
}

func looksLikeID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if r != '-' {
				return false
			}
		} else if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
			return false
		}
	}
	return true
}

type groupInfo struct {
	ID, Name string
	Licenses map[string][]string // lower sku id -> disabled plan ids
}

type assignedLicense struct {
	SkuID         string   `json:"skuId"`
	DisabledPlans []string `json:"disabledPlans"`
}

func licMap(ls []assignedLicense) map[string][]string {
	m := map[string][]string{}
	for _, l := range ls {
		m[strings.ToLower(l.SkuID)] = l.DisabledPlans
	}
	return m
}

// findGroup reads a group by id or display name (nil when absent).
// noteGroup remembers a group's name as a read found it, for the plan's labels.
func (c *Client) noteGroup(id, name string) {
	if id == "" || name == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.groupNames == nil {
		c.groupNames = map[string]string{}
	}
	c.groupNames[strings.ToLower(id)] = name
}

// groupLabels are the names of those of ids whose group a read of this client found (no
// request: providers.ReadResponse.Labels).
func (c *Client) groupLabels(ids ...string) map[string]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out map[string]string
	for _, id := range ids {
		if n := c.groupNames[strings.ToLower(id)]; n != "" {
			if out == nil {
				out = map[string]string{}
			}
			out[id] = n
		}
	}
	return out
}

func (c *Client) findGroup(ctx context.Context, ref string, byName bool) (*groupInfo, error) {
	type g struct {
		ID          string            `json:"id"`
		DisplayName string            `json:"displayName"`
		Licenses    []assignedLicense `json:"assignedLicenses"`
	}
	if !byName {
		var one g
		err := c.do(ctx, http.MethodGet, "/v1.0/groups/"+url.PathEscape(ref)+"?$select=id,displayName,assignedLicenses", nil, &one)
		if ge, ok := err.(*GraphError); ok && ge.Status == http.StatusNotFound {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		c.noteGroup(one.ID, one.DisplayName)
		return &groupInfo{ID: one.ID, Name: one.DisplayName, Licenses: licMap(one.Licenses)}, nil
	}
	q := url.Values{"$filter": {"displayName eq '" + strings.ReplaceAll(ref, "'", "''") + "'"}, "$select": {"id,displayName,assignedLicenses"}}
	var found []g
	if _, err := c.pages(ctx, "/v1.0/groups?"+q.Encode(), func(raw json.RawMessage) error {
		var x g
		if json.Unmarshal(raw, &x) == nil && x.ID != "" {
			found = append(found, x)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	switch len(found) {
	case 0:
		return nil, nil
	case 1:
		c.noteGroup(found[0].ID, found[0].DisplayName)
		return &groupInfo{ID: found[0].ID, Name: found[0].DisplayName, Licenses: licMap(found[0].Licenses)}, nil
	}
	var ids []string
	for _, f := range found {
		ids = append(ids, f.ID)
	}
	return nil, fmt.Errorf("%d groups are named %q (%s); use group_id or the group's id", len(found), ref, strings.Join(ids, ", "))
}

// member is a user as the licence logic needs it.
type member struct {
	ID, UPN, Loc string
	Lic          map[string][]string
}

type rawUser struct {
	Type     string            `json:"@odata.type"`
	ID       string            `json:"id"`
	UPN      string            `json:"userPrincipalName"`
	Mail     string            `json:"mail"`
	Name     string            `json:"displayName"`
	Loc      *string           `json:"usageLocation"`
	Licenses []assignedLicense `json:"assignedLicenses"`
}

const userSelect = "id,userPrincipalName,displayName,mail,usageLocation,assignedLicenses"

// groupMembers pages through a group's direct members (users only), 999 a page. Callers that
// ask for a group whose read is under way get that read's answer instead of a second one: a plan
// reads the seller group for the licence assignment and for the seller coverage at the same
// time, and 20,000 members are 21 pages one after the other. A read that has ended is not
// reused (apply reads again after its writes). The slice is shared: callers only read it.
func (c *Client) groupMembers(ctx context.Context, groupID string) ([]rawUser, error) {
	v, err, shared := c.memberReads.Do(strings.ToLower(groupID), func() (any, error) { return c.readGroupMembers(ctx, groupID) })
	if shared && err != nil && ctx.Err() == nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		// The read we joined was its caller's, and that caller gave up: read for ourselves.
		return c.readGroupMembers(ctx, groupID)
	}
	us, _ := v.([]rawUser)
	return us, err
}

func (c *Client) readGroupMembers(ctx context.Context, groupID string) ([]rawUser, error) {
	var out []rawUser
	_, err := pagesOf(ctx, c, "/v1.0/groups/"+url.PathEscape(groupID)+"/members?$select="+userSelect+"&$top=999", func(u rawUser) error {
		if isUserMember(u) {
			out = append(out, u)
		}
		return nil
	})
	return out, err
}

// isUserMember tells whether an item of a group's members is a user: members are
// directoryObjects, each annotated with its @odata.type (Learn group-list-members); nested
// groups, devices and contacts are not licensed through this group's members.
func isUserMember(u rawUser) bool {
	return u.ID != "" && (u.Type == "" || u.Type == "#microsoft.graph.user")
}

// usersByUPN reads users by principal name through $batch (20 a request); missing UPNs are
// returned separately.
func (c *Client) usersByUPN(ctx context.Context, upns []string) ([]rawUser, []string, error) {
	reqs := make([]subReq, len(upns))
	for i, u := range upns {
		reqs[i] = subReq{ID: fmt.Sprint(i + 1), Method: http.MethodGet, URL: "/users/" + url.PathEscape(u) + "?$select=" + userSelect}
	}
	resps, err := c.batch(httpx.ReplaySafe(ctx), reqs, "") // reads only: safe to send again
	if err != nil {
		return nil, nil, err
	}
	var found []rawUser
	var missing []string
	for i, u := range upns {
		r := resps[fmt.Sprint(i+1)]
		if r.Status == http.StatusNotFound {
			missing = append(missing, u)
			continue
		}
		if r.Status != http.StatusOK {
			return nil, nil, r.err("GET /users/" + u)
		}
		var x rawUser
		if json.Unmarshal(r.Body, &x) != nil || x.ID == "" {
			return nil, nil, fmt.Errorf("Microsoft Graph GET /users/%s: unexpected answer", u)
		}
		found = append(found, x)
	}
	return found, missing, nil
}

// analysis is what a licence assignment would change.
type analysis struct {
	t         target
	sku       skuInfo
	group     *groupInfo
	disabled  []string // desired disabled plan ids; nil when unmanaged
	targets   int
	compliant int
	pending   []member // need an assignment (missing licence or other disabled plans)
	newSeats  int      // pending users without the SKU at all: each takes a seat
	noLoc     []string // pending users without a usage location (cannot be licensed directly)
	missing   []string // listed users that do not exist
	groupHas  bool     // group mode: the group holds the licence
	groupDis  []string // group mode: the group's disabled plans (ids)
	members   []member // per-user modes: every target; group mode: members
}

func (c *Client) disabledIDs(cfg cty.Value, sku skuInfo) ([]string, error) {
	names, ok := attrs.Strings(cfg, "disabled_plans")
	if !ok {
		return nil, nil
	}
	out := []string{}
	for _, n := range names {
		if id, ok := sku.Plans[strings.ToLower(n)]; ok {
			out = append(out, id)
			continue
		}
		if _, ok := sku.PlanNames[strings.ToLower(n)]; ok {
			out = append(out, strings.ToLower(n))
			continue
		}
		var valid []string
		for _, name := range sku.PlanNames {
			valid = append(valid, name)
		}
		sort.Strings(valid)
		return nil, fmt.Errorf("disabled_plans: %s has no service plan %q; its plans are %s", sku.PartNumber, n, strings.Join(valid, ", "))
	}
	sort.Strings(out)
	return out, nil
}

func sameIDs(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	x := map[string]bool{}
	for _, s := range a {
		x[strings.ToLower(s)] = true
	}
	for _, s := range b {
		if !x[strings.ToLower(s)] {
			return false
		}
	}
	return true
}

func (c *Client) analyse(ctx context.Context, cfg cty.Value) (*analysis, string, error) {
	t, err := licenseTarget(cfg)
	if err != nil {
		return nil, "", err
	}
	part := attrs.String(cfg, "sku_part_number")
	if part == "" {
		part = Defaults.SkuPartNumber
	}
	// The group does not depend on the SKU: look both up at once (the group's members, the long
	// read, can start one round trip sooner).
	type found struct {
		g   *groupInfo
		err error
	}
	var groupCh chan found
	if t.mode != "users" {
		groupCh = make(chan found, 1)
		go func() {
			var g *groupInfo
			err := providers.Guard(func() (err error) {
				g, err = c.findGroup(ctx, t.groupRef, t.byName)
				return err
			})
			groupCh <- found{g, err}
		}()
		// An early return waits for the lookup, so that no request outlives the read.
		defer func() {
			if groupCh != nil {
				<-groupCh
			}
		}()
	}
	sku, err := c.findSku(ctx, part)
	var missing *missingSku
	if errors.As(err, &missing) {
		return nil, missing.Error(), nil
	}
	if err != nil {
		return nil, "", err
	}
	a := &analysis{t: t, sku: sku}
	if a.disabled, err = c.disabledIDs(cfg, sku); err != nil {
		return nil, "", err
	}
	skuKey := strings.ToLower(sku.ID)
	var users []rawUser
	if t.mode == "users" {
		users, a.missing, err = c.usersByUPN(ctx, t.users)
		if err != nil {
			return nil, "", err
		}
	} else {
		f := <-groupCh
		groupCh = nil
		if a.group, err = f.g, f.err; err != nil {
			return nil, "", err
		}
		if a.group == nil {
			return nil, fmt.Sprintf("group %q does not exist in the tenant yet: create it (or fix the name) before licensing it", t.groupRef), nil
		}
		if dis, ok := a.group.Licenses[skuKey]; ok {
			a.groupHas, a.groupDis = true, dis
		}
		if users, err = c.groupMembers(ctx, a.group.ID); err != nil {
			return nil, "", err
		}
	}
	for _, u := range users {
		m := member{ID: u.ID, UPN: u.UPN, Loc: deref(u.Loc), Lic: licMap(u.Licenses)}
		a.members = append(a.members, m)
		dis, has := m.Lic[skuKey]
		ok := has && (a.disabled == nil || sameIDs(dis, a.disabled))
		if ok {
			a.compliant++
			continue
		}
		a.pending = append(a.pending, m)
		if !has {
			a.newSeats++
		}
		if m.Loc == "" {
			a.noLoc = append(a.noLoc, m.UPN)
		}
	}
	a.targets = len(users)
	return a, "", nil
}

func (a *analysis) id() string {
	switch a.t.mode {
	case "group":
		return a.sku.ID + ":group:" + a.group.ID
	case "members":
		return a.sku.ID + ":members:" + a.group.ID
	}
	return a.sku.ID + ":users"
}

func listSome(xs []string, n int) string {
	if len(xs) <= n {
		return strings.Join(xs, ", ")
	}
	return strings.Join(xs[:n], ", ") + fmt.Sprintf(" and %d more", len(xs)-n)
}

func (a *analysis) warnings() []string {
	var w []string
	if len(a.missing) > 0 {
		w = append(w, fmt.Sprintf("%d listed users do not exist in the tenant: %s", len(a.missing), listSome(a.missing, 10)))
	}
	if len(a.noLoc) > 0 {
		if a.t.mode == "group" {
			w = append(w, fmt.Sprintf("%d members of %s have no usage location: group-based licensing gives them the tenant's country; set their usage location if that is wrong: %s", len(a.noLoc), a.group.Name, listSome(a.noLoc, 10)))
		} else {
			w = append(w, fmt.Sprintf("%d users to license have no usage location and cannot be licensed until one is set (Microsoft 365 admin center > Users > Active users > the user > Account > Usage location): %s", len(a.noLoc), listSome(a.noLoc, 10)))
		}
	}
	return w
}

// seatsNeeded is how many new seats applying would take.
func (a *analysis) seatsNeeded() int {
	if a.t.mode == "group" {
		if a.groupHas {
			return 0
		}
		return a.newSeats
	}
	n := 0
	for _, m := range a.pending {
		if _, has := m.Lic[strings.ToLower(a.sku.ID)]; !has && m.Loc != "" {
			n++
		}
	}
	return n
}

// newSeatIDs are the users applying would give a seat (seatsNeeded of them).
func (a *analysis) newSeatIDs() []string {
	if a.t.mode == "group" && a.groupHas {
		return nil
	}
	var out []string
	for _, m := range a.pending {
		if _, has := m.Lic[strings.ToLower(a.sku.ID)]; !has && (m.Loc != "" || a.t.mode == "group") {
			out = append(out, m.ID)
		}
	}
	return out
}

func (a *analysis) seatError() error {
	need := a.seatsNeeded()
	if need <= a.sku.Free() {
		return nil
	}
	free := a.sku.Free()
	if free < 0 {
		free = 0
	}
	return fmt.Errorf("not enough %s seats: this assignment needs %d more but only %d are free (%d bought, %d assigned); buy %d more or license fewer users",
		a.sku.PartNumber, need, free, a.sku.Enabled, a.sku.Consumed, need-free)
}

func (c *Client) value(cfg cty.Value, a *analysis) cty.Value {
	vals := map[string]cty.Value{}
	for _, at := range licenseSchema().Attributes {
		if cfg.IsNull() || !cfg.Type().HasAttribute(at.Name) {
			vals[at.Name] = cty.NullVal(at.Type)
		} else {
			vals[at.Name] = cfg.GetAttr(at.Name)
		}
	}
	part := attrs.String(cfg, "sku_part_number")
	if !strings.EqualFold(part, a.sku.PartNumber) && !strings.EqualFold(part, a.sku.ID) {
		part = a.sku.PartNumber
	}
	vals["sku_part_number"] = cty.StringVal(part)
	vals["sku_id"] = cty.StringVal(a.sku.ID)
	if a.t.mode == "group" {
		vals["group_id"] = cty.StringVal(a.group.ID)
		vals["group_name"] = cty.StringVal(a.group.Name)
		vals["all_licensed"] = cty.BoolVal(a.groupHas)
		vals["licensed_count"] = cty.NumberIntVal(int64(a.compliant))
		if a.groupHas {
			cfgNames, _ := attrs.Strings(cfg, "disabled_plans")
			// Service plan names compare without case in Graph's lookups (disabledIDs): a name
			// configured in another case reads in the configuration's spelling.
			names, _ := attrs.AsConfigured(a.planNames(a.groupDis, cfgNames), cfgNames)
			vals["disabled_plans"] = attrs.StringSet(names)
		}
		return cty.ObjectVal(vals)
	}
	vals["all_licensed"] = cty.BoolVal(len(a.pending) == 0 && len(a.missing) == 0)
	vals["licensed_count"] = cty.NumberIntVal(int64(a.compliant))
	return cty.ObjectVal(vals)
}

// planNames spells plan ids as the configuration does (names or ids).
func (a *analysis) planNames(ids, cfg []string) []string {
	useIDs := false
	for _, c := range cfg {
		if looksLikeID(c) {
			useIDs = true
		}
	}
	var out []string
	for _, id := range ids {
		if name, ok := a.sku.PlanNames[strings.ToLower(id)]; ok && !useIDs {
			out = append(out, name)
		} else {
			out = append(out, strings.ToLower(id))
		}
	}
	return out
}

func (c *Client) readLicense(ctx context.Context, req providers.ReadRequest) (providers.ReadResponse, error) {
	typ := licenseSchema().ImpliedType()
	absent := providers.ReadResponse{Value: cty.NullVal(typ)}
	cfg := req.Config
	if !cfg.IsNull() && !cfg.IsWhollyKnown() {
		// The target depends on changes not applied yet (a group created in the same run):
		// nothing to read; the assignment is planned as new and checked at apply.
		return absent, nil
	}
	if _, terr := licenseTarget(cfg); !cfg.IsNull() && terr != nil && req.Prior != cty.NilVal && !req.Prior.IsNull() && cfg.RawEquals(req.Prior) && req.ID != "" {
		// An orphan located by what state recorded, but state holds no target (edited by
		// hand, or written before group_id was recorded): the id says which it was.
		cfg = cty.NullVal(cfg.Type())
	}
	if cfg.IsNull() {
		// Removed from configuration: rebuild the target from the id.
		var err error
		if cfg, err = configFromID(req.ID); err != nil {
			return absent, err
		}
	}
	a, deferred, err := c.analyse(ctx, cfg)
	if err != nil {
		return absent, err
	}
	if deferred != "" {
		return providers.ReadResponse{Value: cty.NullVal(typ), Deferred: deferred}, nil
	}
	c.mu.Lock()
	c.analyses[analysisKey(cfg)] = a
	c.mu.Unlock()
	resp := providers.ReadResponse{Warnings: a.warnings()}
	if a.group != nil {
		resp.Labels = c.groupLabels(a.group.ID)
	}
	exists := (a.t.mode == "group" && a.groupHas) || (a.t.mode != "group" && (req.ID != "" || a.compliant > 0))
	if !exists {
		resp.Value = cty.NullVal(typ)
		return resp, nil
	}
	resp.ID = a.id()
	resp.Value = c.value(cfg, a)
	return resp, nil
}

// configFromID rebuilds a minimal configuration from a state id (for deletes).
func configFromID(id string) (cty.Value, error) {
	parts := strings.Split(id, ":")
	vals := map[string]cty.Value{}
	for _, at := range licenseSchema().Attributes {
		vals[at.Name] = cty.NullVal(at.Type)
	}
	if len(parts) < 2 {
		return cty.NilVal, fmt.Errorf("malformed id %q", id)
	}
	vals["sku_part_number"] = cty.StringVal(parts[0])
	switch {
	case parts[1] == "group" && len(parts) == 3:
		vals["group_id"] = cty.StringVal(parts[2])
	case parts[1] == "members" && len(parts) == 3:
		vals["users_from_group"] = cty.StringVal(parts[2])
	case parts[1] == "users":
		vals["users"] = cty.SetValEmpty(cty.String)
	default:
		return cty.NilVal, fmt.Errorf("malformed id %q", id)
	}
	return cty.ObjectVal(vals), nil
}

func analysisKey(cfg cty.Value) string {
	t, _ := licenseTarget(cfg)
	d, _ := attrs.Strings(cfg, "disabled_plans")
	sort.Strings(d)
	return fmt.Sprint(t.mode, "|", t.groupRef, "|", t.users, "|", strings.ToLower(attrs.String(cfg, "sku_part_number")), "|", d)
}

func (c *Client) cachedAnalysis(ctx context.Context, cfg cty.Value) (*analysis, error) {
	c.mu.Lock()
	a := c.analyses[analysisKey(cfg)]
	c.mu.Unlock()
	if a != nil {
		return a, nil
	}
	a, deferred, err := c.analyse(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if deferred != "" {
		return nil, nil
	}
	return a, nil
}

func (c *Client) planLicense(ctx context.Context, req providers.PlanRequest) (providers.PlanResponse, error) {
	if req.Action != providers.Create && req.Action != providers.Update {
		if req.Action == providers.Delete {
			return providers.PlanResponse{Notes: []string{"the licence is removed from the group or from the users' direct assignments; inherited (group) licences stay"}}, nil
		}
		return providers.PlanResponse{}, nil
	}
	if req.Config.IsNull() || !req.Config.IsWhollyKnown() {
		return providers.PlanResponse{}, nil
	}
	a, err := c.cachedAnalysis(ctx, req.Config)
	if err != nil {
		return providers.PlanResponse{}, err
	}
	if a == nil {
		return providers.PlanResponse{}, nil
	}
	resp := providers.PlanResponse{Warnings: a.warnings()}
	need := a.seatsNeeded()
	free := a.sku.Free()
	if free < 0 {
		free = 0
	}
	resp.Notes = append(resp.Notes, fmt.Sprintf("seats: %d needed, %d free (%s: %d bought, %d assigned)", need, free, a.sku.PartNumber, a.sku.Enabled, a.sku.Consumed))
	if names, ok := attrs.Strings(req.Config, "disabled_plans"); ok {
		var re []attrs.Respelled
		for _, n := range names {
			if canon := a.sku.PlanNames[strings.ToLower(a.sku.Plans[strings.ToLower(n)])]; canon != "" && canon != n {
				re = append(re, attrs.Respelled{Configured: n, Canonical: canon})
			}
		}
		if n := attrs.CaseNote("disabled_plans", re); n != "" {
			resp.Notes = append(resp.Notes, n)
		}
	}
	switch a.t.mode {
	case "group":
		resp.Notes = append(resp.Notes, fmt.Sprintf("group-based licensing of %s (%d members, %d without the licence yet): Microsoft Entra ID licenses the members in the background, which can take a few minutes", a.group.Name, a.targets, a.newSeats))
	default:
		n := len(a.pending) - len(a.noLoc)
		resp.Notes = append(resp.Notes, fmt.Sprintf("%d of %d users to license directly, in %d batched requests of up to 20", n, a.targets, (n+19)/20))
	}
	if err := a.seatError(); err != nil {
		return resp, err
	}
	return resp, nil
}

func (c *Client) applyLicense(ctx context.Context, req providers.ApplyRequest) (providers.ApplyResponse, error) {
	cfg := req.Planned
	if req.Action == providers.Delete {
		cfg = req.Prior
		if cfg.IsNull() {
			var err error
			if cfg, err = configFromID(req.ID); err != nil {
				return providers.ApplyResponse{}, err
			}
		}
	}
	a, deferred, err := c.analyse(ctx, cfg)
	if err != nil {
		return providers.ApplyResponse{}, err
	}
	if deferred != "" {
		return providers.ApplyResponse{}, fmt.Errorf("%s", deferred)
	}
	c.mu.Lock()
	delete(c.analyses, analysisKey(cfg))
	c.mu.Unlock()
	if req.Action == providers.Delete {
		return c.unassign(ctx, a)
	}
	if err := a.seatError(); err != nil {
		return providers.ApplyResponse{}, err
	}
	add := map[string]any{"skuId": a.sku.ID, "disabledPlans": nonNilIDs(a.disabled)}
	body := map[string]any{"addLicenses": []any{add}, "removeLicenses": []string{}}
	if a.t.mode == "group" {
		if a.groupHas && (a.disabled == nil || sameIDs(a.groupDis, a.disabled)) {
			return providers.ApplyResponse{ID: a.id()}, nil
		}
		// assignLicense sets the group's licences (adding one it has replaces it): sending it again
		// cannot apply a change twice, so the HTTP layer may replay it when its answer is lost.
		if err := c.do(httpx.ReplaySafe(ctx), http.MethodPost, "/v1.0/groups/"+url.PathEscape(a.group.ID)+"/assignLicense", body, nil); err != nil {
			return providers.ApplyResponse{}, fmt.Errorf("assign %s to group %s: %w", a.sku.PartNumber, a.group.Name, err)
		}
		return providers.ApplyResponse{ID: a.id(), Notes: []string{fmt.Sprintf("%s assigned to group %s; Microsoft Entra ID licenses its %d members in the background", a.sku.PartNumber, a.group.Name, a.targets)}}, nil
	}
	var reqs []subReq
	var who []string
	for _, m := range a.pending {
		if m.Loc == "" {
			continue
		}
		b := body
		if a.disabled == nil {
			// Unmanaged disabled plans: keep the user's current ones when re-assigning.
			if dis, ok := m.Lic[strings.ToLower(a.sku.ID)]; ok {
				b = map[string]any{"addLicenses": []any{map[string]any{"skuId": a.sku.ID, "disabledPlans": nonNilIDs(dis)}}, "removeLicenses": []string{}}
			}
		}
		reqs = append(reqs, subReq{ID: fmt.Sprint(len(reqs) + 1), Method: http.MethodPost, URL: "/users/" + url.PathEscape(m.ID) + "/assignLicense", Body: b})
		who = append(who, m.UPN)
	}
	// Assigning a licence a user already holds (with the same disabled plans) changes nothing, so a
	// $batch of assignLicense whose answer was lost (503, dropped connection) may be sent again.
	resps, err := c.batch(httpx.ReplaySafe(ctx), reqs, "users")
	if err != nil {
		return providers.ApplyResponse{}, err
	}
	var failed []string
	for i, r := range reqs {
		if st := resps[r.ID]; st.Status < 200 || st.Status > 299 {
			failed = append(failed, who[i]+": "+st.err("assignLicense").Error())
		}
	}
	ok := len(reqs) - len(failed)
	resp := providers.ApplyResponse{ID: a.id(), Notes: []string{fmt.Sprintf("%s assigned to %d users in %d batched requests", a.sku.PartNumber, ok, (len(reqs)+19)/20)}}
	var problems []string
	if len(failed) > 0 {
		problems = append(problems, fmt.Sprintf("%d assignments failed: %s", len(failed), listSome(failed, 5)))
	}
	if len(a.noLoc) > 0 {
		problems = append(problems, fmt.Sprintf("%d users were not licensed because they have no usage location (set it, then apply again): %s", len(a.noLoc), listSome(a.noLoc, 10)))
	}
	if len(a.missing) > 0 {
		problems = append(problems, fmt.Sprintf("%d listed users do not exist: %s", len(a.missing), listSome(a.missing, 10)))
	}
	if len(problems) > 0 {
		return resp, fmt.Errorf("licensed %d users; %s", ok, strings.Join(problems, "; "))
	}
	return resp, nil
}

func nonNilIDs(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (c *Client) unassign(ctx context.Context, a *analysis) (providers.ApplyResponse, error) {
	body := map[string]any{"addLicenses": []any{}, "removeLicenses": []string{a.sku.ID}}
	if a.t.mode == "group" {
		if !a.groupHas {
			return providers.ApplyResponse{}, nil
		}
		if err := c.do(httpx.ReplaySafe(ctx), http.MethodPost, "/v1.0/groups/"+url.PathEscape(a.group.ID)+"/assignLicense", body, nil); err != nil {
			return providers.ApplyResponse{}, fmt.Errorf("remove %s from group %s: %w", a.sku.PartNumber, a.group.Name, err)
		}
		return providers.ApplyResponse{}, nil
	}
	var reqs []subReq
	for _, m := range a.members {
		if _, has := m.Lic[strings.ToLower(a.sku.ID)]; has {
			reqs = append(reqs, subReq{ID: fmt.Sprint(len(reqs) + 1), Method: http.MethodPost, URL: "/users/" + url.PathEscape(m.ID) + "/assignLicense", Body: body})
		}
	}
	// Removing a licence a user no longer holds changes nothing: safe to send again.
	resps, err := c.batch(httpx.ReplaySafe(ctx), reqs, "users")
	if err != nil {
		return providers.ApplyResponse{}, err
	}
	var failed []string
	for _, r := range reqs {
		if st := resps[r.ID]; st.Status < 200 || st.Status > 299 {
			failed = append(failed, st.err("assignLicense").Error())
		}
	}
	if len(failed) > 0 {
		// Users licensed through a group cannot lose it directly: Graph says so per user.
		return providers.ApplyResponse{}, fmt.Errorf("%d removals failed: %s", len(failed), listSome(failed, 5))
	}
	return providers.ApplyResponse{}, nil
}

// Names names Microsoft Entra groups by id for the plan's labels (providers.Namer): those a read
// of this client found already cost nothing; the others are read with GET /v1.0/groups/{id}
// ?$select=id,displayName in Graph $batch requests of 20 (the requests count among the plan's).
// A group Graph does not answer for (404, deleted) is left out.
func (c *Client) Names(ctx context.Context, kind string, ids []string) (map[string]string, error) {
	if kind != providers.KindEntraGroup {
		return nil, nil
	}
	out := c.groupLabels(ids...)
	if out == nil {
		out = map[string]string{}
	}
	var reqs []subReq
	for _, id := range ids {
		if _, ok := out[id]; !ok && looksLikeID(id) {
			reqs = append(reqs, subReq{ID: strconv.Itoa(len(reqs)), Method: http.MethodGet, URL: "/groups/" + url.PathEscape(id) + "?$select=id,displayName"})
		}
	}
	res, err := c.batch(ctx, reqs, "")
	if err != nil {
		return out, err
	}
	for _, r := range res {
		if r.Status != http.StatusOK {
			continue
		}
		var g struct {
			ID          string `json:"id"`
			DisplayName string `json:"displayName"`
		}
		if providers.DecodeJSON(r.Body, &g) == nil && g.ID != "" && g.DisplayName != "" {
			c.noteGroup(g.ID, g.DisplayName)
			for _, id := range ids {
				if strings.EqualFold(id, g.ID) {
					out[id] = g.DisplayName
				}
			}
		}
	}
	return out, nil
}
