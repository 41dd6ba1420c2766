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
	"strings"
	"time"

	"github.com/c4sctl/c4sctl/pkg/httpx"
	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/providers/entra"
	"github.com/c4sctl/c4sctl/pkg/schema"
	"github.com/microsoftgraph/msgraph-sdk-go/appcatalogs"
	"github.com/zclconf/go-cty/cty"
)

// VisibilityNote is shown after a deployment change (guide steps 1 and 9).
const VisibilityNote = "it can take up to 24 hours for the app to show for users in Outlook (allow 48 hours before the welcome message, guide step 9)"

func integratedAppSchema() *schema.Resource {
	return &schema.Resource{
		Type: "m365_integrated_app", Provider: "microsoft365",
		// One deployment per app: by its package id, or its catalog display name (assumed compared
		// case-insensitively, as the adapter finds it).
		Identity: func(v cty.Value) []schema.ObjectKey {
			return append(schema.AttrKey(v, "package_id", "m365:integrated_app:id", "integrated app", nil),
				schema.AttrKey(v, "display_name", "m365:integrated_app:name", "integrated app", nil)...)
		},
		Description: "The Copilot for Sales app (Outlook add-in) deployed to users, groups or everyone (guide step 1; Microsoft 365 admin center > Agents > All agents, formerly Settings > Integrated apps). Changed through the Copilot package API where the tenant has it; otherwise planned as a manual action with the admin-centre steps.",
		Attributes: []*schema.Attribute{
			{Name: "display_name", Type: cty.String, Optional: true, Default: cty.StringVal(Defaults.AppName), Description: "Display name of the app in the admin centre's catalog."},
			{Name: "package_id", Type: cty.String, Optional: true, Computed: true, Description: "Copilot package id (by default found by display name)."},
			{Name: "everyone", Type: cty.Bool, Optional: true, Description: "Deployed to the entire organisation."},
			{Name: "groups", Type: cty.Set(cty.String), Optional: true, Description: "Groups (display names or ids) the app is deployed to."},
			{Name: "users", Type: cty.Set(cty.String), Optional: true, Description: "Users (principal names) the app is deployed to."},
			{Name: "deployed_to", Type: cty.String, Computed: true, Description: "Deployment scope as Graph reports it: none, some or all."},
			{Name: "publisher", Type: cty.String, Computed: true},
		},
	}
}

func teamsAppSchema() *schema.Resource {
	return &schema.Resource{
		Type: "teams_app", Provider: "microsoft365", DataSource: true,
		Description: "An app of the Teams app catalog (the Copilot for Sales app by default), found by external id or display name.",
		Attributes: []*schema.Attribute{
			{Name: "external_id", Type: cty.String, Optional: true, Description: "The app's external id (its manifest id)."},
			{Name: "display_name", Type: cty.String, Optional: true, Description: "The app's display name (default: " + Defaults.TeamsAppName + " when external_id is not set)."},
			{Name: "distribution_method", Type: cty.String, Optional: true, Computed: true, Enum: []string{"store", "organization", "sideloaded"}, Description: "Prefer this distribution when several apps match."},
			{Name: "id", Type: cty.String, Computed: true, Description: "The catalog id (the id Teams setup policies use)."},
			{Name: "version", Type: cty.String, Computed: true},
		},
	}
}

// ---- teams_app ----

func (c *Client) readTeamsApp(ctx context.Context, req providers.ReadRequest) (providers.ReadResponse, error) {
	typ := teamsAppSchema().ImpliedType()
	ext, name, dist := attrs.String(req.Config, "external_id"), attrs.String(req.Config, "display_name"), attrs.String(req.Config, "distribution_method")
	if ext == "" && name == "" {
		name = Defaults.TeamsAppName
	}
	var filter string
	if ext != "" {
		filter = "externalId eq '" + strings.ReplaceAll(ext, "'", "''") + "'"
	} else {
		filter = "displayName eq '" + strings.ReplaceAll(name, "'", "''") + "'"
	}
	ctx, note := entra.WithReauthNote(ctx)
	resp, err := c.sdk.AppCatalogs().TeamsApps().Get(ctx, &appcatalogs.TeamsAppsRequestBuilderGetRequestConfiguration{
		QueryParameters: &appcatalogs.TeamsAppsRequestBuilderGetQueryParameters{Filter: &filter, Expand: []string{"appDefinitions"}},
	})
	if err != nil {
		return providers.ReadResponse{Value: cty.NullVal(typ)}, sdkErr(note, "GET", "/v1.0/appCatalogs/teamsApps", err)
	}
	type hit struct{ id, ext, name, dist, version string }
	var hits []hit
	if resp != nil {
		for _, a := range resp.GetValue() {
			if a == nil || a.GetId() == nil {
				continue
			}
			h := hit{id: *a.GetId(), ext: deref(a.GetExternalId()), name: deref(a.GetDisplayName())}
			if d := a.GetDistributionMethod(); d != nil {
				h.dist = d.String()
			}
			for _, def := range a.GetAppDefinitions() {
				if def != nil && deref(def.GetVersion()) != "" {
					h.version = deref(def.GetVersion())
				}
			}
			if dist == "" || strings.EqualFold(dist, h.dist) {
				hits = append(hits, h)
			}
		}
	}
	what := fmt.Sprintf("display name %q", name)
	if ext != "" {
		what = fmt.Sprintf("external id %q", ext)
	}
	if len(hits) == 0 {
		return providers.ReadResponse{Value: cty.NullVal(typ), Warnings: []string{fmt.Sprintf("no app with %s in the Teams app catalog", what)}}, nil
	}
	if len(hits) > 1 {
		sort.Slice(hits, func(i, j int) bool { return hits[i].dist == "store" && hits[j].dist != "store" })
		if hits[0].dist != "store" || hits[1].dist == "store" {
			var ids []string
			for _, h := range hits {
				ids = append(ids, h.id+" ("+h.dist+")")
			}
			return providers.ReadResponse{Value: cty.NullVal(typ)}, fmt.Errorf("%d apps have %s: %s; set external_id or distribution_method", len(hits), what, strings.Join(ids, ", "))
		}
	}
	h := hits[0]
	return providers.ReadResponse{ID: h.id, Value: cty.ObjectVal(map[string]cty.Value{
		"external_id": attrs.StringOrNull(h.ext), "display_name": cty.StringVal(h.name), "distribution_method": attrs.StringOrNull(h.dist),
		"id": cty.StringVal(h.id), "version": attrs.StringOrNull(h.version),
	})}, nil
}

// ---- m365_integrated_app ----

type pkgAccess struct {
	ResourceType string `json:"resourceType"`
	ResourceID   string `json:"resourceId"`
}

type pkgDetail struct {
	ID          string      `json:"id"`
	DisplayName string      `json:"displayName"`
	Publisher   string      `json:"publisher"`
	AvailableTo string      `json:"availableTo"`
	DeployedTo  string      `json:"deployedTo"`
	Allowed     []pkgAccess `json:"allowedUsersAndGroups"`
	AppID       string      `json:"appId"`     // copilotPackageDetail: the Teams app id
	IsBlocked   bool        `json:"isBlocked"` // blocked by an admin
	// LastModified is the package's lastModifiedDateTime (DateTimeOffset, ISO 8601): "the
	// timestamp of the last change made to the package configuration or metadata" (Learn,
	// copilotPackage resource); "" when absent.
	LastModified string `json:"lastModifiedDateTime"`
}

// UnmarshalJSON reads a package and spells availableTo and deployedTo as none, some, all.
// Learn's copilotPackage page has two spellings of them: packageStatus none / some / all
// (the Frontier program revision, the one the sandbox serves), and in its newer revision
// (the Microsoft Agent 365 licence, agentIdentityId and createdDateTime added)
// packageAllowStatus allowedForNone / allowedForSome / allowedForAll and packageAcquireStatus
// acquiredForNone / acquiredForSome / acquiredForAll. A public Agent 365 package collector
// accepts both ("allowedforall", "all", ...). Read with only the first, every package of a
// tenant answering the second was "not none, some or all": seller coverage counted every seller
// not covered and m365_integrated_app read everyone = false.
func (p *pkgDetail) UnmarshalJSON(b []byte) error {
	type plain pkgDetail
	var q plain
	if err := json.Unmarshal(b, &q); err != nil {
		return err
	}
	*p = pkgDetail(q)
	p.AvailableTo = packageStatus(p.AvailableTo, "allowedFor")
	p.DeployedTo = packageStatus(p.DeployedTo, "acquiredFor")
	return nil
}

// packageStatus spells allowedForAll (acquiredForAll, ...) as all, allowedForSome as some and
// allowedForNone as none, without regard to case; other values are kept as they are.
func packageStatus(v, prefix string) string {
	if len(v) > len(prefix) && strings.EqualFold(v[:len(prefix)], prefix) {
		switch rest := strings.ToLower(v[len(prefix):]); rest {
		case "all", "some", "none":
			return rest
		}
	}
	return v
}

// Deployment is who the app is deployed to, as `c4sctl status` reads it.
type Deployment struct {
	PackageID string
	Everyone  bool     // availableTo all
	GroupIDs  []string // lower-case object ids of the groups it is deployed to
	UserIDs   []string // lower-case object ids of the users it is deployed to
	// LastModified is the package's lastModifiedDateTime: the last change to its configuration
	// (its deployment) or metadata; zero when the answer had none.
	LastModified time.Time
}

// AppDeployment reads the deployment of the app (display name, or package id when set) through
// the Copilot package API. unavailable says why it cannot be read (the API answered 400, 403 or
// 404: not enrolled, no licence; or the app is not in the catalog); then the Deployment is nil.
func (c *Client) AppDeployment(ctx context.Context, displayName, packageID string) (d *Deployment, unavailableWhy string, err error) {
	cfg := cty.ObjectVal(map[string]cty.Value{"package_id": attrs.StringOrNull(packageID), "display_name": attrs.StringOrNull(displayName)})
	p, err := c.findPackage(ctx, cfg)
	if err != nil {
		if why, ok := unavailable(err); ok {
			return nil, why, nil
		}
		return nil, "", err
	}
	if p == nil {
		return nil, fmt.Sprintf("%q is not in the tenant's Copilot package catalog", appName(cfg)), nil
	}
	d, err = deploymentOf(p)
	return d, "", err
}

// deploymentOf reads a package's deployment; a lastModifiedDateTime that is not ISO 8601 is an
// error (a wrong field would otherwise pass as "unknown").
func deploymentOf(p *pkgDetail) (*Deployment, error) {
	d := &Deployment{PackageID: p.ID, Everyone: p.AvailableTo == "all"}
	if p.LastModified != "" {
		t, err := time.Parse(time.RFC3339Nano, p.LastModified)
		if err != nil {
			return nil, fmt.Errorf("Copilot package %s: lastModifiedDateTime %q is not a date and time: %v", p.ID, p.LastModified, err)
		}
		d.LastModified = t.UTC()
	}
	for _, a := range allowedAccess(p) {
		switch a.ResourceType {
		case "group":
			d.GroupIDs = append(d.GroupIDs, strings.ToLower(a.ResourceID))
		case "user":
			d.UserIDs = append(d.UserIDs, strings.ToLower(a.ResourceID))
		}
	}
	return d, nil
}

// allowedAccess is the users and groups the package is in effect available to: its
// allowedUsersAndGroups, unless availableTo is "none" (No one): a list kept beside "none" reaches
// nobody, so it is read as empty (else m365_integrated_app would read as deployed to the groups
// it lists, plan would carry no change, and the sellers would stay without the app).
func allowedAccess(p *pkgDetail) []pkgAccess {
	if p.AvailableTo == "none" {
		return nil
	}
	return p.Allowed
}

// unavailable tells whether an error means the package API cannot be used for this tenant.
func unavailable(err error) (string, bool) {
	var ge *GraphError
	if errors.As(err, &ge) && (ge.Status == http.StatusForbidden || ge.Status == http.StatusNotFound || ge.Status == http.StatusBadRequest) {
		return fmt.Sprintf("the Copilot package API answered %d %s (%s)", ge.Status, http.StatusText(ge.Status), truncate(ge.Message, 160)), true
	}
	return "", false
}

// appKey identifies an app deployment's configuration across Read and PlanChange.
func appKey(cfg cty.Value) string {
	if id := attrs.String(cfg, "package_id"); id != "" {
		return "id:" + strings.ToLower(id)
	}
	return "name:" + strings.ToLower(appName(cfg))
}

func (c *Client) setPkgProblem(cfg cty.Value, s string) {
	c.mu.Lock()
	c.pkgProblem[appKey(cfg)] = s
	c.mu.Unlock()
}

func (c *Client) findPackage(ctx context.Context, cfg cty.Value) (*pkgDetail, error) {
	id := attrs.String(cfg, "package_id")
	name := attrs.String(cfg, "display_name")
	if name == "" {
		name = Defaults.AppName
	}
	if id == "" {
		var ids []string
		if _, err := c.pages(ctx, "/beta/copilot/admin/catalog/packages", func(raw json.RawMessage) error {
			var p pkgDetail
			if json.Unmarshal(raw, &p) == nil && p.ID != "" && strings.EqualFold(p.DisplayName, name) {
				ids = append(ids, p.ID)
			}
			return nil
		}); err != nil {
			return nil, err
		}
		switch len(ids) {
		case 0:
			return nil, nil
		case 1:
			id = ids[0]
		default:
			return nil, fmt.Errorf("%d Copilot packages are named %q (%s); set package_id", len(ids), name, strings.Join(ids, ", "))
		}
	}
	var p pkgDetail
	err := c.do(ctx, http.MethodGet, "/beta/copilot/admin/catalog/packages/"+url.PathEscape(id), nil, &p)
	if ge, ok := err.(*GraphError); ok && ge.Status == http.StatusNotFound && attrs.String(cfg, "package_id") == "" {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &p, nil
}

func (c *Client) readApp(ctx context.Context, req providers.ReadRequest) (providers.ReadResponse, error) {
	typ := integratedAppSchema().ImpliedType()
	cfg := req.Config
	if cfg.IsNull() {
		cfg = cty.ObjectVal(map[string]cty.Value{"package_id": attrs.StringOrNull(req.ID), "display_name": cty.NullVal(cty.String)})
	}
	p, err := c.findPackage(ctx, cfg)
	if err != nil {
		if why, ok := unavailable(err); ok {
			c.setPkgProblem(cfg, why)
			return providers.ReadResponse{Value: cty.NullVal(typ), Warnings: []string{why + ": c4sctl cannot see or change the deployment of " + appName(cfg) + "; the plan lists the admin-centre steps"}}, nil
		}
		return providers.ReadResponse{Value: cty.NullVal(typ)}, err
	}
	c.setPkgProblem(cfg, "")
	if p == nil {
		c.setPkgProblem(cfg, fmt.Sprintf("%q is not in the tenant's Copilot package catalog", appName(cfg)))
		return providers.ReadResponse{Value: cty.NullVal(typ), Warnings: []string{fmt.Sprintf("%q is not in the tenant's app catalog (Agents > All agents): get it from the admin centre first", appName(cfg))}}, nil
	}
	v, err := c.appValue(ctx, cfg, p)
	var missing *missingGroupError
	if errors.As(err, &missing) {
		// As for a licence: a group the configuration names that is not in the tenant (renamed,
		// deleted, misspelled) leaves the deployment unplannable. Deferred, it is "could not be
		// read" for a deployment in state (plan --detailed-exitcode and drift exit 2, naming
		// it), not an error that stops every other resource's check.
		return providers.ReadResponse{Value: cty.NullVal(typ), Deferred: fmt.Sprintf("group %q does not exist in the tenant yet: create it (or fix the name) before deploying %s to it", missing.ref, appName(cfg))}, nil
	}
	if err != nil {
		return providers.ReadResponse{Value: cty.NullVal(typ)}, err
	}
	if p.DeployedTo == "none" && p.AvailableTo == "none" {
		// Not deployed at all: the deployment does not exist (yet, or any more: the package
		// stays in the catalog after destroy un-deploys it, and the deployment, the object this
		// resource manages, is gone; apply's re-read after a delete relies on that).
		return providers.ReadResponse{Value: cty.NullVal(typ)}, nil
	}
	var ids []string
	for _, a := range allowedAccess(p) {
		if a.ResourceType == "group" {
			ids = append(ids, a.ResourceID)
		}
	}
	return providers.ReadResponse{ID: p.ID, Value: v, Labels: c.groupLabels(ids...)}, nil
}

func appName(cfg cty.Value) string {
	if n := attrs.String(cfg, "display_name"); n != "" {
		return n
	}
	return Defaults.AppName
}

// appValue spells the live deployment as the configuration does (group names or ids, UPNs).
func (c *Client) appValue(ctx context.Context, cfg cty.Value, p *pkgDetail) (cty.Value, error) {
	cfgGroups, _ := attrs.Strings(cfg, "groups")
	cfgUsers, _ := attrs.Strings(cfg, "users")
	groupIDs, err := c.resolveGroups(ctx, cfgGroups)
	if err != nil {
		return cty.NilVal, err
	}
	userIDs, err := c.resolveUsers(ctx, cfgUsers)
	if err != nil {
		return cty.NilVal, err
	}
	var groups, users []string
	var unknownUsers []string
	for _, a := range allowedAccess(p) {
		switch a.ResourceType {
		case "group":
			if n, ok := groupIDs[strings.ToLower(a.ResourceID)]; ok {
				groups = append(groups, n)
			} else {
				groups = append(groups, a.ResourceID)
			}
		case "user":
			if n, ok := userIDs[strings.ToLower(a.ResourceID)]; ok {
				users = append(users, n)
			} else {
				unknownUsers = append(unknownUsers, a.ResourceID)
			}
		}
	}
	users = append(users, unknownUsers...)
	name := p.DisplayName
	if strings.EqualFold(name, appName(cfg)) {
		name = appName(cfg)
	}
	return cty.ObjectVal(map[string]cty.Value{
		"display_name": cty.StringVal(name), "package_id": cty.StringVal(p.ID),
		"everyone": cty.BoolVal(p.AvailableTo == "all"), "groups": attrs.StringSet(groups), "users": attrs.StringSet(users),
		"deployed_to": attrs.StringOrNull(p.DeployedTo), "publisher": attrs.StringOrNull(p.Publisher),
	}), nil
}

// missingGroupError is a group reference (name or id) that names no group of the tenant.
type missingGroupError struct{ ref string }

func (e *missingGroupError) Error() string {
	return fmt.Sprintf("group %q does not exist in the tenant", e.ref)
}

// resolveGroups maps lower-case group ids to the configuration's spelling (name or id).
func (c *Client) resolveGroups(ctx context.Context, refs []string) (map[string]string, error) {
	out := map[string]string{}
	for _, r := range refs {
		g, err := c.findGroup(ctx, r, !looksLikeID(r))
		if err != nil {
			return nil, err
		}
		if g == nil {
			return nil, &missingGroupError{ref: r}
		}
		out[strings.ToLower(g.ID)] = r
	}
	return out, nil
}

// resolveUsers maps lower-case user ids to the configured principal names ($batch reads).
func (c *Client) resolveUsers(ctx context.Context, upns []string) (map[string]string, error) {
	out := map[string]string{}
	if len(upns) == 0 {
		return out, nil
	}
	found, missing, err := c.usersByUPN(ctx, upns)
	if err != nil {
		return nil, err
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("users do not exist in the tenant: %s", listSome(missing, 10))
	}
	for _, u := range found {
		for _, want := range upns {
			if strings.EqualFold(want, u.UPN) {
				out[strings.ToLower(u.ID)] = want
			}
		}
	}
	return out, nil
}

// ManualSteps are the admin-centre steps that deploy the app by hand.
func ManualSteps(name string, everyone bool, groups, users []string) []string {
	who := "Specific users/groups: "
	var parts []string
	if len(groups) > 0 {
		parts = append(parts, "groups "+strings.Join(groups, ", "))
	}
	if len(users) > 0 {
		parts = append(parts, "users "+listSome(users, 20))
	}
	if everyone {
		who = "Entire organization"
	} else if len(parts) == 0 {
		who = "nobody (remove every assignment)"
	} else {
		who += strings.Join(parts, "; ")
	}
	return []string{
		"Sign in to the Microsoft 365 admin center (https://admin.microsoft.com) as a Global Administrator (or an admin allowed to manage agents and apps).",
		"Go to Agents > All agents (older tenants: Settings > Integrated apps).",
		fmt.Sprintf("Find %q (publisher Microsoft); if it is not listed, choose Get apps / Deploy an app and search for it.", name),
		"Open it and choose Edit users / Manage availability (Integrated apps: Deploy / Edit deployment).",
		"Set who has it: " + who + ".",
		"Review and choose Update / Deploy, then Done.",
		"Run `c4sctl plan` again: it reads the deployment where the Copilot package API is available. " + VisibilityNote + ".",
	}
}

func (c *Client) planApp(_ context.Context, req providers.PlanRequest) (providers.PlanResponse, error) {
	if req.Action != providers.Create && req.Action != providers.Update && req.Action != providers.Delete {
		return providers.PlanResponse{}, nil
	}
	cfg := req.Config
	if cfg.IsNull() {
		cfg = req.Prior
	}
	c.mu.Lock()
	problem := c.pkgProblem[appKey(cfg)]
	c.mu.Unlock()
	everyone, _ := attrs.Bool(cfg, "everyone")
	groups, _ := attrs.Strings(cfg, "groups")
	users, _ := attrs.Strings(cfg, "users")
	if req.Action == providers.Delete {
		everyone, groups, users = false, nil, nil
	}
	if problem != "" {
		return providers.PlanResponse{Action: providers.Manual, Manual: &providers.ManualAction{
			Summary: fmt.Sprintf("deploy %s by hand in the Microsoft 365 admin center: %s", appName(cfg), problem),
			Steps:   ManualSteps(appName(cfg), everyone, groups, users),
		}, Notes: []string{VisibilityNote}}, nil
	}
	return providers.PlanResponse{Notes: []string{"changed through Graph beta PATCH /copilot/admin/catalog/packages/{id} (preview API); " + VisibilityNote}}, nil
}

func (c *Client) applyApp(ctx context.Context, req providers.ApplyRequest) (providers.ApplyResponse, error) {
	cfg := req.Planned
	if req.Action == providers.Delete {
		cfg = req.Prior
	}
	p, err := c.findPackage(ctx, cfg)
	if err == nil && p == nil {
		err = fmt.Errorf("%q is not in the tenant's Copilot package catalog", appName(cfg))
	}
	everyone, _ := attrs.Bool(cfg, "everyone")
	groups, _ := attrs.Strings(cfg, "groups")
	users, _ := attrs.Strings(cfg, "users")
	if req.Action == providers.Delete {
		everyone, groups, users = false, nil, nil
	}
	manual := func(err error) error {
		return fmt.Errorf("%w; deploy it by hand: %s", err, strings.Join(ManualSteps(appName(cfg), everyone, groups, users), " "))
	}
	if err != nil {
		return providers.ApplyResponse{}, manual(err)
	}
	access := []pkgAccess{}
	availableTo := "none"
	switch {
	case everyone:
		availableTo = "all"
	case len(groups)+len(users) > 0:
		availableTo = "some"
		gids, err := c.resolveGroups(ctx, groups)
		if err != nil {
			return providers.ApplyResponse{}, err
		}
		uids, err := c.resolveUsers(ctx, users)
		if err != nil {
			return providers.ApplyResponse{}, err
		}
		for _, id := range sortedKeys(gids) {
			access = append(access, pkgAccess{ResourceType: "group", ResourceID: id})
		}
		for _, id := range sortedKeys(uids) {
			access = append(access, pkgAccess{ResourceType: "user", ResourceID: id})
		}
	}
	body := map[string]any{"availableTo": availableTo, "allowedUsersAndGroups": access}
	// The PATCH sets who the package is available to (whole values): sending it again cannot
	// apply a change twice, so the HTTP layer may replay it when its answer is lost.
	if err := c.do(httpx.ReplaySafe(ctx), http.MethodPatch, "/beta/copilot/admin/catalog/packages/"+url.PathEscape(p.ID), body, nil); err != nil {
		if _, ok := unavailable(err); ok {
			return providers.ApplyResponse{}, manual(err)
		}
		return providers.ApplyResponse{}, err
	}
	return providers.ApplyResponse{ID: p.ID, Notes: []string{VisibilityNote}}, nil
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
