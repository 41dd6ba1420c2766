package salesforce

import (
	"context"
	"fmt"
	"github.com/c4sctl/c4sctl/pkg/providers/attrs"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/schema"
	"github.com/zclconf/go-cty/cty"
	"golang.org/x/sync/errgroup"
)

// PowerPlatformApp is the connected app Copilot for Sales reaches Salesforce through.
const PowerPlatformApp = "Microsoft Power Platform"

// Configuration values and the Metadata API values they stand for (ConnectedAppOauthPolicy,
// ConnectedAppOauthConfig.isAdminApproved; see docs/api/salesforce.md).
var (
	permittedUsers = []string{"admin_approved_preauthorized", "all_users_self_authorize"}
	ipToAPI        = map[string]string{"enforce": "ENFORCE", "relax_with_second_factor": "BYPASS_2FACTOR", "relax": "BYPASS"}
	ipFromAPI      = map[string]string{"ENFORCE": "enforce", "BYPASS_2FACTOR": "relax_with_second_factor", "BYPASS": "relax", "ENFORCE_RELAXREFRESH": "enforce_relax_refresh"}
	refreshKinds   = []string{"valid_until_revoked", "immediately_expire", "expire_after", "expire_if_unused_for"}
	// Session timeouts offered by the connected app's session policy, and their minutes.
	sessionTimeouts = []struct {
		name    string
		minutes int
		label   string
	}{{"15m", 15, "15 minutes"}, {"30m", 30, "30 minutes"}, {"1h", 60, "1 hour"}, {"2h", 120, "2 hours"}, {"4h", 240, "4 hours"}, {"8h", 480, "8 hours"}, {"12h", 720, "12 hours"}, {"24h", 1440, "24 hours"}}
	durationRe = regexp.MustCompile(`^([1-9][0-9]{0,3})(h|d|mo)$`)
	unitToAPI  = map[string]string{"h": "HOURS", "d": "DAYS", "mo": "MONTHS"}
	unitFrom   = map[string]string{"HOURS": "h", "DAYS": "d", "MONTHS": "mo"}
	unitLabel  = map[string]string{"h": "hour(s)", "d": "day(s)", "mo": "month(s)"}
)

var ipLabels = map[string]string{"enforce": "Enforce IP restrictions", "relax_with_second_factor": "Relax IP restrictions with second factor", "relax": "Relax IP restrictions"}
var permittedLabels = map[string]string{"admin_approved_preauthorized": "Admin approved users are pre-authorized", "all_users_self_authorize": "All users may self-authorize"}

func sessionTimeoutNames() []string {
	out := []string{"none"}
	for _, t := range sessionTimeouts {
		out = append(out, t.name)
	}
	return out
}

var connectedAppSchema = &schema.Resource{Type: "salesforce_connected_app", Provider: "salesforce", Singleton: true,
	Identity: func(v cty.Value) []schema.ObjectKey {
		return schema.AttrKey(v, "name", "salesforce:connected_app", "connected app", nil)
	},
	// permission_sets names permission sets by API name: one this plan creates is created first.
	References: func(v cty.Value) []schema.ObjectKey {
		var out []schema.ObjectKey
		names, _ := attrs.Strings(v, "permission_sets")
		for _, n := range names {
			k := schema.AttrKey(cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal(n)}), "name", "salesforce:permission_set", "permission set", nil)
			for i := range k {
				k[i].Attr = "permission_sets"
			}
			out = append(out, k...)
		}
		return out
	},
	Description: "Step 6: the connected app Copilot for Sales uses (\"Microsoft Power Platform\") is installed, its OAuth and session policies do not block the connector, and the right profiles and permission sets may use it.",
	Attributes: []*schema.Attribute{
		{Name: "name", Type: cty.String, Optional: true, Default: cty.StringVal(PowerPlatformApp), Description: "Name of the connected app (ConnectedApplication.Name)."},
		{Name: "installed", Type: cty.Bool, Optional: true, Default: cty.True,
			Description: "Whether the app is installed in the org. Installing has no API: plan shows the manual steps (Connected Apps OAuth Usage > Install)."},
		{Name: "permitted_users", Type: cty.String, Optional: true, Enum: permittedUsers,
			Description: "OAuth policy Permitted Users: admin_approved_preauthorized (only the listed profiles and permission sets) or all_users_self_authorize."},
		{Name: "ip_relaxation", Type: cty.String, Optional: true, Enum: []string{"enforce", "relax_with_second_factor", "relax"},
			Description: "OAuth policy IP Relaxation; the guide wants relax (\"Relax IP restrictions\"). Read may show enforce_relax_refresh, set outside c4sctl."},
		{Name: "refresh_token_policy", Type: cty.String, Optional: true, Enum: refreshKinds,
			Description: "OAuth policy Refresh Token Policy; the guide wants valid_until_revoked. expire_after and expire_if_unused_for need refresh_token_duration."},
		{Name: "refresh_token_duration", Type: cty.String, Optional: true,
			Validate: func(v cty.Value) error {
				if !durationRe.MatchString(v.AsString()) {
					return fmt.Errorf("expected a number of hours, days or months such as \"12h\", \"30d\" or \"6mo\", got %q", v.AsString())
				}
				return nil
			}, Description: "Duration of expire_after / expire_if_unused_for: N followed by h, d or mo (\"30d\")."},
		{Name: "session_timeout", Type: cty.String, Optional: true,
			Validate: func(v cty.Value) error {
				for _, n := range sessionTimeoutNames() {
					if v.AsString() == n {
						return nil
					}
				}
				return fmt.Errorf("%q is not an allowed value for session_timeout; allowed values are %s", v.AsString(), strings.Join(sessionTimeoutNames(), ", "))
			}, Description: "Session policy Timeout Value: none (the guide's value) or 15m, 30m, 1h, 2h, 4h, 8h, 12h, 24h."},
		{Name: "profiles", Type: cty.Set(cty.String), Optional: true, Caseless: true, Description: "Profiles that may use the app, exactly these when set: by Id (00e..., language-independent) or by name as the user c4sctl signs in as reads it (Salesforce translates standard profiles' names into that user's language)."},
		{Name: "permission_sets", Type: cty.Set(cty.String), Optional: true, Caseless: true, Description: "Permission sets (API names) that may use the app; exactly these when set."},
		{Name: "policies_editable", Type: cty.Bool, Computed: true,
			Description: "Whether the Metadata API can change this app's policies in this org; when false c4sctl plans the changes as manual steps."},
	}}

// fullNameOf is the Metadata API name of a connected app: its name with every run of other
// characters than letters and digits made one underscore.
func fullNameOf(name string) string {
	var b strings.Builder
	us := false
	for _, r := range name {
		if (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			us = false
		} else if !us && b.Len() > 0 {
			b.WriteByte('_')
			us = true
		}
	}
	return strings.TrimSuffix(b.String(), "_")
}

func appName(v cty.Value) string {
	if n := attrs.String(v, "name"); n != "" {
		return n
	}
	return PowerPlatformApp
}

// appPolicies are the policy values as the configuration spells them ("" = unknown).
type appPolicies struct {
	permitted, ip, refresh, duration, session string
}

func policiesFromMetadata(rec *xnode) appPolicies {
	var p appPolicies
	if v, ok := rec.text("oauthConfig", "isAdminApproved"); ok && v == "true" {
		p.permitted = "admin_approved_preauthorized"
	} else {
		p.permitted = "all_users_self_authorize"
	}
	if v, ok := rec.text("oauthPolicy", "ipRelaxation"); ok {
		p.ip = ipFromAPI[v]
		if p.ip == "" {
			p.ip = strings.ToLower(v)
		}
	}
	if v, ok := rec.text("oauthPolicy", "refreshTokenPolicy"); ok {
		p.refresh, p.duration = refreshFromAPI(v)
	}
	p.session = "none"
	if v, ok := rec.text("sessionPolicy", "sessionTimeout"); ok && v != "" {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			p.session = fmt.Sprintf("%dm", n)
			for _, t := range sessionTimeouts {
				if t.minutes == n {
					p.session = t.name
				}
			}
		}
	}
	return p
}

func refreshFromAPI(v string) (kind, duration string) {
	switch v {
	case "infinite":
		return "valid_until_revoked", ""
	case "zero":
		return "immediately_expire", ""
	}
	parts := strings.Split(v, ":")
	if len(parts) == 3 && unitFrom[parts[2]] != "" {
		switch parts[0] {
		case "specific_lifetime":
			return "expire_after", parts[1] + unitFrom[parts[2]]
		case "specific_inactivity":
			return "expire_if_unused_for", parts[1] + unitFrom[parts[2]]
		}
	}
	return strings.ToLower(v), ""
}

func refreshToAPI(kind, duration string) (string, error) {
	switch kind {
	case "valid_until_revoked":
		return "infinite", nil
	case "immediately_expire":
		return "zero", nil
	case "expire_after", "expire_if_unused_for":
		m := durationRe.FindStringSubmatch(duration)
		if m == nil {
			return "", fmt.Errorf("refresh_token_policy = %q needs refresh_token_duration (e.g. \"30d\")", kind)
		}
		prefix := "specific_lifetime"
		if kind == "expire_if_unused_for" {
			prefix = "specific_inactivity"
		}
		return prefix + ":" + m[1] + ":" + unitToAPI[m[2]], nil
	}
	return "", fmt.Errorf("unknown refresh_token_policy %q", kind)
}

// appRow is the installed app as ConnectedApplication shows it.
type appRow struct {
	id            string
	adminApproved bool
}

func (c *Client) findApp(ctx context.Context, name string) (*appRow, error) {
	recs, err := c.query(ctx, "SELECT Id, Name, OptionsAllowAdminApprovedUsersOnly FROM ConnectedApplication WHERE Name = "+soqlQuote(name))
	if err != nil {
		return nil, fmt.Errorf("find connected app %q: %w", name, err)
	}
	if len(recs) == 0 {
		return nil, nil
	}
	id := str(recs[0], "Id")
	if id == "" {
		return nil, fmt.Errorf("find connected app %q: Salesforce answered a record without an Id", name)
	}
	adm, _ := boolean(recs[0], "OptionsAllowAdminApprovedUsersOnly")
	return &appRow{id: id, adminApproved: adm}, nil
}

// access is a SetupEntityAccess row reaching the app.
type access struct {
	id, parentID, profile, profileID, permSet string
}

// appAccess lists the profiles and permission sets that reach the app.
// appAccess reads who may use the app; names maps profile ids to names when the caller read them
// already (nil: read them when a profile has access).
func (c *Client) appAccess(ctx context.Context, appID string, names map[string]string) ([]access, error) {
	recs, err := c.query(ctx, "SELECT Id, ParentId, Parent.Name, Parent.IsOwnedByProfile, Parent.ProfileId FROM SetupEntityAccess WHERE SetupEntityId = "+soqlQuote(appID))
	if err != nil {
		return nil, fmt.Errorf("read who may use the connected app: %w", err)
	}
	var out []access
	needProfiles := false
	for _, r := range recs {
		a := access{id: str(r, "Id"), parentID: str(r, "ParentId")}
		if owned, _ := field(r, "Parent.IsOwnedByProfile").(bool); owned {
			a.profileID = str(r, "Parent.ProfileId")
			a.profile = a.profileID // resolved to a name below
			needProfiles = true
		} else {
			a.permSet = str(r, "Parent.Name")
		}
		if a.id != "" {
			out = append(out, a)
		}
	}
	if needProfiles {
		if names == nil {
			var err error
			if names, err = c.profileNames(ctx); err != nil {
				return nil, err
			}
		}
		for i := range out {
			if out[i].profile != "" {
				if n := names[out[i].profile]; n != "" {
					out[i].profile = n
				}
			}
		}
	}
	return out, nil
}

// profileNames maps profile ids to names.
func (c *Client) profileNames(ctx context.Context) (map[string]string, error) {
	recs, err := c.query(ctx, "SELECT Id, Name FROM Profile")
	if err != nil {
		return nil, fmt.Errorf("list profiles: %w", err)
	}
	out := map[string]string{}
	for _, r := range recs {
		out[str(r, "Id")] = str(r, "Name")
	}
	return out, nil
}

func accessNames(rows []access) (profiles, permSets []string) {
	profiles, permSets = []string{}, []string{}
	for _, a := range rows {
		if a.profile != "" {
			profiles = append(profiles, a.profile)
		} else if a.permSet != "" {
			permSets = append(permSets, a.permSet)
		}
	}
	sort.Strings(profiles)
	sort.Strings(permSets)
	return profiles, permSets
}

func nobodyWarning(name string) string {
	return fmt.Sprintf("nobody can use the connected app %q: Permitted Users is \"Admin approved users are pre-authorized\" but no profile or permission set is granted access; Copilot for Sales cannot reach Salesforce until profiles or permission_sets list the sellers' ones", name)
}

func (c *Client) readApp(ctx context.Context, req providers.ReadRequest) (providers.ReadResponse, error) {
	cfg := req.Config
	name := appName(cfg)
	null := func(t cty.Type) cty.Value { return cty.NullVal(t) }
	vals := map[string]cty.Value{
		"name": cty.StringVal(name), "installed": cty.False, "permitted_users": null(cty.String), "ip_relaxation": null(cty.String),
		"refresh_token_policy": null(cty.String), "refresh_token_duration": null(cty.String), "session_timeout": null(cty.String),
		"profiles": null(cty.Set(cty.String)), "permission_sets": null(cty.Set(cty.String)), "policies_editable": null(cty.Bool),
	}
	// The app's row, its policies (the Metadata API reads them by name) and the profiles' names
	// need nothing of each other: read them at once, then who may use the app (by the row's id).
	var (
		row          *appRow
		rec          *xnode
		recErr       error
		names        map[string]string
		g, gctx      = errgroup.WithContext(ctx)
		_, profilesO = attrs.Strings(cfg, "profiles")
	)
	providers.Go(g, func() error {
		var err error
		row, err = c.findApp(gctx, name)
		return err
	})
	providers.Go(g, func() error {
		rec, recErr = c.readConnectedApp(gctx, fullNameOf(name))
		return nil // reported below, where the app is installed
	})
	if profilesO {
		providers.Go(g, func() error {
			names, _ = c.profileNames(gctx) // a failure is asked again by appAccess
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return providers.ReadResponse{}, err
	}
	if row == nil {
		return providers.ReadResponse{Value: cty.ObjectVal(vals), Warnings: []string{fmt.Sprintf("the connected app %q is not installed in the org: Copilot for Sales cannot reach Salesforce until it is (since September 2025 uninstalled connected apps are blocked for most users)", name)}}, nil
	}
	vals["installed"] = cty.True
	if recErr != nil {
		return providers.ReadResponse{}, fmt.Errorf("read the policies of %q: %w", name, recErr)
	}
	c.stateMu.Lock()
	refused := c.refused[name]
	c.stateMu.Unlock()
	var warnings []string
	if rec != nil {
		p := policiesFromMetadata(rec)
		vals["permitted_users"], vals["ip_relaxation"], vals["refresh_token_policy"], vals["session_timeout"] = attrs.StringOrNull(p.permitted), attrs.StringOrNull(p.ip), attrs.StringOrNull(p.refresh), attrs.StringOrNull(p.session)
		if cfg.IsNull() || attrs.String(cfg, "refresh_token_duration") != "" {
			vals["refresh_token_duration"] = attrs.StringOrNull(p.duration)
		}
		vals["policies_editable"] = cty.BoolVal(!refused)
	} else {
		vals["policies_editable"] = cty.False
		if row.adminApproved {
			vals["permitted_users"] = cty.StringVal("admin_approved_preauthorized")
		} else {
			vals["permitted_users"] = cty.StringVal("all_users_self_authorize")
		}
		warnings = append(warnings, fmt.Sprintf("the Metadata API returns no ConnectedApp named %s for %q: its IP relaxation, refresh token and session policies cannot be read or changed through the API; c4sctl plans changes to them as manual steps", fullNameOf(name), name))
	}
	rows, err := c.appAccess(ctx, row.id, names)
	if err != nil {
		return providers.ReadResponse{}, err
	}
	profiles, permSets := accessNames(rows)
	// Reported in the configuration's spelling where it names the same profile (by Id, or by
	// name in another case) or permission set (in another case): Salesforce compares them so.
	cfgProfiles, _ := attrs.Strings(cfg, "profiles")
	shown := make([]string, 0, len(rows))
	// The profiles' names beside their ids in the plan: appAccess resolved them already
	// (profileNames, one query for all profiles), so they cost no request of their own.
	labels := map[string]string{}
	for _, a := range rows {
		if a.profileID == "" {
			continue
		}
		if a.profile != a.profileID {
			labels[a.profileID] = a.profile
		}
		n := a.profile
		for _, e := range cfgProfiles {
			if (profileIDRe.MatchString(e) && sameID(e, a.profileID)) || strings.EqualFold(e, a.profile) {
				n = e
				if n != a.profile && a.profile != a.profileID {
					labels[n] = a.profile
				}
				break
			}
		}
		shown = append(shown, n)
	}
	sort.Strings(shown)
	cfgPermSets, _ := attrs.Strings(cfg, "permission_sets")
	permSets, _ = attrs.AsConfigured(permSets, cfgPermSets)
	sort.Strings(permSets)
	vals["profiles"], vals["permission_sets"] = attrs.StringSet(shown), attrs.StringSet(permSets)
	if attrs.String(cty.ObjectVal(vals), "permitted_users") == "admin_approved_preauthorized" && len(profiles) == 0 && len(permSets) == 0 {
		warnings = append(warnings, nobodyWarning(name))
	}
	if w := c.usageWarning(); w != "" {
		warnings = append(warnings, w)
	}
	return providers.ReadResponse{ID: row.id, Value: cty.ObjectVal(vals), Warnings: warnings, Labels: labels}, nil
}

var policyAttrs = []string{"permitted_users", "ip_relaxation", "refresh_token_policy", "refresh_token_duration", "session_timeout"}

// checkRefresh validates the refresh token policy and duration together.
func checkRefresh(config, planned cty.Value) error {
	kind, dur := attrs.String(planned, "refresh_token_policy"), attrs.String(planned, "refresh_token_duration")
	switch kind {
	case "expire_after", "expire_if_unused_for":
		if dur == "" {
			return fmt.Errorf("refresh_token_policy = %q needs refresh_token_duration (e.g. \"30d\")", kind)
		}
	default:
		if attrs.String(config, "refresh_token_duration") != "" {
			return fmt.Errorf("refresh_token_duration only applies to refresh_token_policy = \"expire_after\" or \"expire_if_unused_for\"")
		}
	}
	return nil
}

func sessionLabel(v string) string {
	if v == "none" {
		return "--None--"
	}
	for _, t := range sessionTimeouts {
		if t.name == v {
			return t.label
		}
	}
	return v
}

func refreshLabel(kind, dur string) string {
	m := durationRe.FindStringSubmatch(dur)
	switch kind {
	case "valid_until_revoked":
		return "Refresh token is valid until revoked"
	case "immediately_expire":
		return "Immediately expire refresh token"
	case "expire_after":
		if m != nil {
			return "Expire refresh token after: " + m[1] + " " + unitLabel[m[2]]
		}
	case "expire_if_unused_for":
		if m != nil {
			return "Expire refresh token if not used for " + m[1] + " " + unitLabel[m[2]]
		}
	}
	return kind
}

// manualSteps names each setting to change by hand in Setup.
func manualSteps(name string, prior, planned cty.Value) []string {
	steps := []string{fmt.Sprintf("In Salesforce Setup, go to Platform Tools > Apps > Connected Apps > Manage Connected Apps and click %q.", name)}
	var policy []string
	if changed(prior, planned, "permitted_users") {
		policy = append(policy, fmt.Sprintf("OAuth Policies > Permitted Users: %q", permittedLabels[attrs.String(planned, "permitted_users")]))
	}
	if changed(prior, planned, "ip_relaxation") {
		policy = append(policy, fmt.Sprintf("OAuth Policies > IP Relaxation: %q", ipLabels[attrs.String(planned, "ip_relaxation")]))
	}
	if changed(prior, planned, "refresh_token_policy") || changed(prior, planned, "refresh_token_duration") {
		policy = append(policy, fmt.Sprintf("OAuth Policies > Refresh Token Policy: %q", refreshLabel(attrs.String(planned, "refresh_token_policy"), attrs.String(planned, "refresh_token_duration"))))
	}
	if changed(prior, planned, "session_timeout") {
		policy = append(policy, fmt.Sprintf("Session Policies > Timeout Value: %q", sessionLabel(attrs.String(planned, "session_timeout"))))
	}
	if len(policy) > 0 {
		steps = append(steps, "Click Edit Policies.")
		for _, p := range policy {
			steps = append(steps, "Set "+p+".")
		}
		steps = append(steps, "Click Save.")
	}
	for _, k := range []struct{ attr, button, what string }{{"profiles", "Manage Profiles", "profiles"}, {"permission_sets", "Manage Permission Sets", "permission sets"}} {
		want, ok := attrs.Strings(planned, k.attr)
		if !ok {
			continue
		}
		have, _ := attrs.Strings(prior, k.attr)
		add, remove := setDiff(want, have)
		if len(add) == 0 && len(remove) == 0 {
			continue
		}
		s := fmt.Sprintf("On the app's page, click %s", k.button)
		if len(add) > 0 {
			s += fmt.Sprintf(", select %s", strings.Join(add, ", "))
		}
		if len(remove) > 0 {
			s += fmt.Sprintf(", clear %s", strings.Join(remove, ", "))
		}
		steps = append(steps, s+" and click Save.")
	}
	return steps
}

func installSteps(name string) []string {
	return []string{
		"In Salesforce Setup, enter \"Connected Apps OAuth Usage\" in the Quick Find box and open Connected Apps OAuth Usage.",
		fmt.Sprintf("On the %q row, click Install, then click Install again to confirm.", name),
		"Run c4sctl plan again: once the app is installed, its policies, profiles and permission sets are planned through the API.",
	}
}

func (c *Client) planApp(ctx context.Context, req providers.PlanRequest) (providers.PlanResponse, error) {
	var resp providers.PlanResponse
	if req.Action == providers.Delete || req.Planned.IsNull() {
		return resp, nil
	}
	if err := checkRefresh(req.Config, req.Planned); err != nil {
		return resp, err
	}
	name := appName(req.Planned)
	installed, _ := attrs.Bool(req.Prior, "installed")
	wantInstalled, set := attrs.Bool(req.Planned, "installed")
	if !set {
		wantInstalled = true
	}
	switch {
	case !installed && wantInstalled:
		resp.Action = providers.Manual
		resp.Manual = &providers.ManualAction{Summary: fmt.Sprintf("Install the connected app %q (no API can install it)", name), Steps: installSteps(name),
			Sandbox: []string{"salesforce", "install-app"}}
		return resp, nil
	case installed && !wantInstalled:
		resp.Action = providers.Manual
		resp.Manual = &providers.ManualAction{Summary: fmt.Sprintf("Uninstall the connected app %q (no API can uninstall it)", name), Steps: []string{
			"In Salesforce Setup, enter \"Connected Apps OAuth Usage\" in the Quick Find box and open Connected Apps OAuth Usage.",
			fmt.Sprintf("On the %q row, click Uninstall and confirm. Copilot for Sales can no longer reach Salesforce afterwards.", name)}}
		return resp, nil
	case !installed:
		return resp, nil
	}
	if req.Action == providers.NoOp {
		return resp, nil
	}
	// Names apply would not find are refused here, at the resource's line.
	wantProfiles, _ := attrs.Strings(req.Planned, "profiles")
	wantPermSets, _ := attrs.Strings(req.Planned, "permission_sets")
	havePermSets, _ := attrs.Strings(req.Prior, "permission_sets")
	addPermSets, _ := setDiff(wantPermSets, havePermSets)
	canon, err := c.checkAccessNames(ctx, wantProfiles, addPermSets)
	if err != nil {
		return resp, err
	}
	if want := wantProfiles; len(want) > 0 {
		var re []attrs.Respelled
		for i, e := range want {
			if !profileIDRe.MatchString(e) && e != canon[i] {
				re = append(re, attrs.Respelled{Configured: e, Canonical: canon[i]})
			}
		}
		if n := attrs.CaseNote("profiles", re); n != "" {
			resp.Notes = append(resp.Notes, n)
		}
	}
	policyChange := false
	for _, a := range policyAttrs {
		policyChange = policyChange || changed(req.Prior, req.Planned, a)
	}
	if editable, ok := attrs.Bool(req.Prior, "policies_editable"); policyChange && ok && !editable {
		resp.Action = providers.Manual
		resp.Manual = &providers.ManualAction{Summary: fmt.Sprintf("Change the policies of %q in Setup (the Metadata API cannot change this installed app)", name), Steps: manualSteps(name, req.Prior, req.Planned)}
	}
	if attrs.String(req.Planned, "permitted_users") == "admin_approved_preauthorized" {
		p, _ := attrs.Strings(req.Planned, "profiles")
		s, _ := attrs.Strings(req.Planned, "permission_sets")
		if len(p) == 0 && len(s) == 0 {
			resp.Warnings = append(resp.Warnings, nobodyWarning(name))
		} else if changed(req.Prior, req.Planned, "permitted_users") {
			resp.Notes = append(resp.Notes, "only users of the listed profiles and permission sets will be able to use the app; others lose access")
		}
	}
	return resp, nil
}

// resolveParents maps profile names and permission set API names to the permission set ids that
// SetupEntityAccess rows hang from; unknown names are an error naming them.
func (c *Client) resolveParents(ctx context.Context, profiles, permSets []string) (map[string]string, map[string]string, error) {
	profIDs, psIDs := map[string]string{}, map[string]string{}
	var missing []string
	if len(profiles) > 0 {
		names, err := c.profileNames(ctx)
		if err != nil {
			return nil, nil, err
		}
		recs, err := c.query(ctx, "SELECT Id, ProfileId FROM PermissionSet WHERE IsOwnedByProfile = true")
		if err != nil {
			return nil, nil, fmt.Errorf("list the profiles' permission sets: %w", err)
		}
		byProfile := map[string]string{}
		for _, r := range recs {
			byProfile[strings.ToLower(names[str(r, "ProfileId")])] = str(r, "Id")
		}
		for _, p := range profiles {
			if id := byProfile[strings.ToLower(p)]; id != "" {
				profIDs[strings.ToLower(p)] = id
			} else {
				missing = append(missing, "profile "+strconv.Quote(p))
			}
		}
	}
	if len(permSets) > 0 {
		recs, err := c.queryIn(ctx, "find permission sets", "SELECT Id, Name FROM PermissionSet WHERE IsOwnedByProfile = false AND Name IN ", permSets, "")
		if err != nil {
			return nil, nil, err
		}
		for _, r := range recs {
			psIDs[strings.ToLower(str(r, "Name"))] = str(r, "Id")
		}
		for _, p := range permSets {
			if psIDs[strings.ToLower(p)] == "" {
				missing = append(missing, "permission set "+strconv.Quote(p))
			}
		}
	}
	if len(missing) > 0 {
		return nil, nil, fmt.Errorf("the org has no %s; check the names (permission sets by API name)", strings.Join(missing, ", no "))
	}
	return profIDs, psIDs, nil
}

func (c *Client) applyApp(ctx context.Context, req providers.ApplyRequest) (providers.ApplyResponse, error) {
	if req.Action == providers.Delete {
		return providers.ApplyResponse{}, fmt.Errorf("a connected app is not deleted by c4sctl; remove it from the configuration to stop managing it")
	}
	name := appName(req.Planned)
	if err := checkRefresh(req.Planned, req.Planned); err != nil {
		return providers.ApplyResponse{}, err
	}
	row, err := c.findApp(ctx, name)
	if err != nil {
		return providers.ApplyResponse{}, err
	}
	if row == nil {
		return providers.ApplyResponse{}, fmt.Errorf("the connected app %q is not installed; install it by hand first: %s", name, strings.Join(installSteps(name)[:2], " "))
	}
	if want, ok := attrs.Bool(req.Planned, "installed"); ok && !want {
		return providers.ApplyResponse{}, fmt.Errorf("c4sctl cannot uninstall %q; uninstall it in Setup > Connected Apps OAuth Usage", name)
	}
	rows, err := c.appAccess(ctx, row.id, nil)
	if err != nil {
		return providers.ApplyResponse{}, err
	}
	haveProfiles, havePermSets := accessNames(rows)
	wantProfiles, manageProfiles := attrs.Strings(req.Planned, "profiles")
	wantPermSets, managePermSets := attrs.Strings(req.Planned, "permission_sets")
	var addProfiles, delProfiles, addPermSets, delPermSets []string
	if manageProfiles {
		// Entries are Ids or names in any case: compare by the names the org answers.
		add, _ := setDiff(wantPermSets, havePermSets)
		if wantProfiles, err = c.checkAccessNames(ctx, wantProfiles, add); err != nil {
			return providers.ApplyResponse{}, err
		}
		addProfiles, delProfiles = setDiff(wantProfiles, haveProfiles)
	}
	if managePermSets {
		addPermSets, delPermSets = setDiff(wantPermSets, havePermSets)
	}
	// Grant first, change the policies, revoke last: users never lose access in between.
	if len(addProfiles)+len(addPermSets) > 0 {
		profIDs, psIDs, err := c.resolveParents(ctx, addProfiles, addPermSets)
		if err != nil {
			return providers.ApplyResponse{}, err
		}
		// A lost answer: read the app's access again and grant only what is still missing.
		if _, err := providers.CreateOnce(ctx, func(ctx context.Context) (struct{}, error) {
			var recs []map[string]any
			var labels []string
			for _, p := range addProfiles {
				recs = append(recs, map[string]any{"ParentId": profIDs[strings.ToLower(p)], "SetupEntityId": row.id})
				labels = append(labels, "profile "+p)
			}
			for _, p := range addPermSets {
				recs = append(recs, map[string]any{"ParentId": psIDs[strings.ToLower(p)], "SetupEntityId": row.id})
				labels = append(labels, "permission set "+p)
			}
			return struct{}{}, c.createRecords(ctx, fmt.Sprintf("grant access to %q", name), "SetupEntityAccess", recs, labels)
		}, func(ctx context.Context) (struct{}, bool, error) {
			now, err := c.appAccess(ctx, row.id, nil)
			if err != nil {
				return struct{}{}, false, err
			}
			hp, hps := accessNames(now)
			addProfiles, _ = setDiff(addProfiles, hp)
			addPermSets, _ = setDiff(addPermSets, hps)
			return struct{}{}, len(addProfiles)+len(addPermSets) == 0, nil
		}); err != nil {
			return providers.ApplyResponse{}, err
		}
	}
	if err := c.applyPolicies(ctx, name, req.Prior, req.Planned); err != nil {
		return providers.ApplyResponse{}, err
	}
	if len(delProfiles)+len(delPermSets) > 0 {
		var ids, labels []string
		for _, a := range rows {
			for _, p := range delProfiles {
				if a.profile != "" && strings.EqualFold(a.profile, p) {
					ids, labels = append(ids, a.id), append(labels, "profile "+p)
				}
			}
			for _, p := range delPermSets {
				if a.permSet != "" && strings.EqualFold(a.permSet, p) {
					ids, labels = append(ids, a.id), append(labels, "permission set "+p)
				}
			}
		}
		if err := c.deleteRecords(ctx, fmt.Sprintf("revoke access to %q", name), ids, labels); err != nil {
			return providers.ApplyResponse{}, err
		}
	}
	return providers.ApplyResponse{ID: row.id}, nil
}

// applyPolicies rewrites the app's ConnectedApp component with the planned policies, when any
// differs from the org's.
func (c *Client) applyPolicies(ctx context.Context, name string, prior, planned cty.Value) error {
	manage := false
	for _, a := range policyAttrs {
		manage = manage || attrs.String(planned, a) != ""
	}
	if !manage {
		return nil
	}
	rec, err := c.readConnectedApp(ctx, fullNameOf(name))
	if err != nil {
		return fmt.Errorf("read the policies of %q: %w", name, err)
	}
	if rec == nil {
		return fmt.Errorf("the Metadata API returns no ConnectedApp %s for %q, so its policies cannot be changed through the API. Change them by hand: %s", fullNameOf(name), name, strings.Join(manualSteps(name, prior, planned), " "))
	}
	live := policiesFromMetadata(rec)
	dirty := false
	if v := attrs.String(planned, "permitted_users"); v != "" && v != live.permitted {
		rec.set(strconv.FormatBool(v == "admin_approved_preauthorized"), "oauthConfig", "isAdminApproved")
		dirty = true
	}
	if v := attrs.String(planned, "ip_relaxation"); v != "" && v != live.ip {
		rec.set(ipToAPI[v], "oauthPolicy", "ipRelaxation")
		dirty = true
	}
	if kind := attrs.String(planned, "refresh_token_policy"); kind != "" {
		dur := attrs.String(planned, "refresh_token_duration")
		if kind != live.refresh || ((kind == "expire_after" || kind == "expire_if_unused_for") && dur != live.duration) {
			v, err := refreshToAPI(kind, dur)
			if err != nil {
				return err
			}
			rec.set(v, "oauthPolicy", "refreshTokenPolicy")
			dirty = true
		}
	}
	if v := attrs.String(planned, "session_timeout"); v != "" && v != live.session {
		if v == "none" {
			if sp := rec.child("sessionPolicy"); sp != nil {
				sp.remove("sessionTimeout")
			}
		} else {
			for _, t := range sessionTimeouts {
				if t.name == v {
					rec.set(strconv.Itoa(t.minutes), "sessionPolicy", "sessionTimeout")
				}
			}
		}
		dirty = true
	}
	if !dirty {
		return nil
	}
	err = c.updateConnectedApp(ctx, rec)
	var me *MetadataError
	if asMetadataError(err, &me) && me.refusedForManaged() {
		c.stateMu.Lock()
		c.refused[name] = true
		c.stateMu.Unlock()
		return fmt.Errorf("%v. Salesforce does not let the Metadata API change this installed app's policies; make these changes by hand: %s", err, strings.Join(manualSteps(name, prior, planned), " "))
	}
	return err
}

func asMetadataError(err error, target **MetadataError) bool {
	if err == nil {
		return false
	}
	me, ok := err.(*MetadataError)
	if ok {
		*target = me
	}
	return ok
}
