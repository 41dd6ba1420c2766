package salesforce

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/providers/attrs"
	"github.com/c4sctl/c4sctl/pkg/schema"
	"github.com/zclconf/go-cty/cty"
	"golang.org/x/sync/errgroup"
)

var (
	apiNameRe    = regexp.MustCompile(`^[A-Za-z](?:[A-Za-z0-9]|_[A-Za-z0-9])*$`)
	userPermRe   = regexp.MustCompile(`^[A-Z][A-Za-z0-9]*$`)
	notSatisfied = regexp.MustCompile(` \(not satisfied: .*\)$`)
)

var permissionSetSchema = &schema.Resource{Type: "salesforce_permission_set", Provider: "salesforce",
	// The API name (PermissionSet.Name), compared as SOQL compares it: case-insensitively.
	Identity: func(v cty.Value) []schema.ObjectKey {
		return schema.AttrKey(v, "name", "salesforce:permission_set", "permission set", nil)
	},
	Description: "Step 4: a permission set that grants API Enabled (and other user permissions) to the sellers, assigned through PermissionSetAssignment.",
	Attributes: []*schema.Attribute{
		{Name: "name", Type: cty.String, Required: true, Caseless: true, Validate: func(v cty.Value) error {
			if s := v.AsString(); !apiNameRe.MatchString(s) || len(s) > 80 {
				return fmt.Errorf("expected a permission set API name (letters, digits and single underscores, starting with a letter, at most 80 characters) such as \"Copilot_for_Sales_Users\", got %q", s)
			}
			return nil
		}, Description: "API name of the permission set; created when missing."},
		{Name: "label", Type: cty.String, Optional: true, Validate: func(v cty.Value) error {
			if n := utf8.RuneCountInString(v.AsString()); n == 0 || n > maxLabel {
				return fmt.Errorf("a permission set label has 1 to %d characters (PermissionSet.Label); this one has %d", maxLabel, n)
			}
			return nil
		}, Description: "Label shown in Setup (at most 80 characters); default on create: the name."},
		{Name: "description", Type: cty.String, Optional: true, Validate: func(v cty.Value) error {
			if n := utf8.RuneCountInString(v.AsString()); n > maxDescription {
				return fmt.Errorf("a permission set description has at most %d characters (PermissionSet.Description); this one has %d", maxDescription, n)
			}
			return nil
		}, EmptyIsNull: true, Description: "At most 255 characters. \"\" and no description are the same (Salesforce stores empty text as null)."},
		{Name: "api_enabled", Type: cty.Bool, Optional: true, Description: "The API Enabled user permission every Copilot for Sales user needs (PermissionsApiEnabled)."},
		{Name: "user_permissions", Type: cty.Set(cty.String), Optional: true, Caseless: true, Subset: true, Validate: func(v cty.Value) error {
			for it := v.ElementIterator(); it.Next(); {
				_, e := it.Element()
				if e.IsNull() || !userPermRe.MatchString(e.AsString()) || strings.HasPrefix(e.AsString(), "Permissions") {
					return fmt.Errorf("user permissions are named as in the PermissionSet field without the \"Permissions\" prefix, e.g. \"ViewSetup\" or \"EditTask\"; got %q", e.GoString())
				}
			}
			return nil
		}, Description: "Other user permissions the set must enable, by field name without \"Permissions\" (e.g. \"EditTask\", \"ConvertLeads\"); others are left as they are."},
		{Name: "object_permissions", Type: cty.Map(cty.Set(cty.String)), Optional: true, Caseless: true, Subset: true, Validate: validateObjectPerms,
			Description: "Guide step 4 (users need permission to view, update and create records): per object API name, the permissions the set must enable, of read, create, edit, delete, view_all and modify_all. Salesforce's dependencies apply: create, edit and view_all need read; delete needs read and edit; modify_all needs read, edit, delete and view_all. Permissions not listed are left as they are."},
		{Name: "assignees", Type: cty.Set(cty.String), Optional: true, Caseless: true, Description: "Usernames assigned the permission set: exactly these (compared without case, as Salesforce compares usernames)."},
		{Name: "assignee_filter", Type: cty.String, Optional: true,
			Description: "Instead of assignees: a SOQL condition on User (e.g. \"Profile.Name = 'Standard User' AND IsActive = true\"); exactly the matching users are assigned."},
	}}

// Field lengths of PermissionSet (Object Reference, PermissionSet: Label "Limit: 80
// characters", Description "Limit: 255 characters"); Salesforce refuses longer values on create
// and update, after the other steps of the change may have run, so plan refuses them first.
const (
	maxLabel       = 80
	maxDescription = 255
)

type sfUser struct{ id, username, profileID string }

func (c *Client) findPermSet(ctx context.Context, id, name string, perms []string) (map[string]any, error) {
	fields := []string{"Id", "Name", "Label", "Description", "PermissionsApiEnabled"}
	for _, p := range perms {
		if p != "ApiEnabled" {
			fields = append(fields, "Permissions"+p)
		}
	}
	where := "Name = " + soqlQuote(name) + " AND IsOwnedByProfile = false"
	if id != "" {
		where = "Id = " + soqlQuote(id)
	}
	recs, err := c.query(ctx, "SELECT "+strings.Join(fields, ", ")+" FROM PermissionSet WHERE "+where)
	if err != nil {
		var ae *APIError
		if asAPIError(err, &ae) && ae.Code == "INVALID_FIELD" && len(perms) > 0 {
			return nil, fmt.Errorf("user_permissions: the org has no such user permission (%s); use the PermissionSet field names without \"Permissions\" (Setup > Object Manager does not list them: see the PermissionSet object reference)", ae.Message)
		}
		return nil, fmt.Errorf("read permission set %s: %w", name, err)
	}
	if len(recs) == 0 {
		return nil, nil
	}
	return recs[0], nil
}

func asAPIError(err error, target **APIError) bool {
	for err != nil {
		if e, ok := err.(*APIError); ok {
			*target = e
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}

// assignments lists the permission set's assignments: assignee id -> assignment id, and usernames.
func (c *Client) assignments(ctx context.Context, psID string) (map[string]string, map[string]string, error) {
	recs, err := c.query(ctx, "SELECT Id, AssigneeId, Assignee.Username FROM PermissionSetAssignment WHERE PermissionSetId = "+soqlQuote(psID))
	if err != nil {
		return nil, nil, fmt.Errorf("read the permission set's assignments: %w", err)
	}
	ids, names := map[string]string{}, map[string]string{}
	for _, r := range recs {
		if a := str(r, "AssigneeId"); a != "" {
			ids[a] = str(r, "Id")
			names[a] = str(r, "Assignee.Username")
		}
	}
	return ids, names, nil
}

// usersByName resolves usernames (in as many queries as the URI limit needs, in parallel:
// querybatch.go); the missing ones are returned apart.
func (c *Client) usersByName(ctx context.Context, names []string) ([]sfUser, []string, error) {
	recs, err := c.queryIn(ctx, "find the assignees", "SELECT Id, Username, ProfileId FROM User WHERE Username IN ", names, "")
	if err != nil {
		return nil, nil, err
	}
	var out []sfUser
	seen := map[string]bool{}
	for _, r := range recs {
		u := sfUser{str(r, "Id"), str(r, "Username"), str(r, "ProfileId")}
		out = append(out, u)
		seen[strings.ToLower(u.username)] = true
	}
	var missing []string
	for _, n := range names {
		if !seen[strings.ToLower(n)] {
			missing = append(missing, n)
		}
	}
	return out, missing, nil
}

func (c *Client) usersByFilter(ctx context.Context, filter string) ([]sfUser, error) {
	recs, err := c.query(ctx, "SELECT Id, Username, ProfileId FROM User WHERE "+filter)
	if err != nil {
		return nil, fmt.Errorf("assignee_filter %q: %w", filter, err)
	}
	out := make([]sfUser, 0, len(recs))
	for _, r := range recs {
		out = append(out, sfUser{str(r, "Id"), str(r, "Username"), str(r, "ProfileId")})
	}
	return out, nil
}

// desiredUsers resolves the users the value asks for; ok is false when assignments are not managed.
func (c *Client) desiredUsers(ctx context.Context, v cty.Value) (users []sfUser, missing []string, ok bool, err error) {
	if f := strings.TrimSpace(notSatisfied.ReplaceAllString(attrs.String(v, "assignee_filter"), "")); f != "" {
		users, err = c.usersByFilter(ctx, f)
		return users, nil, true, err
	}
	names, set := attrs.Strings(v, "assignees")
	if !set {
		return nil, nil, false, nil
	}
	users, missing, err = c.usersByName(ctx, names)
	return users, missing, true, err
}

// profilesLackingAPI maps the ids of the profiles without API Enabled to their names.
func (c *Client) profilesLackingAPI(ctx context.Context) (map[string]string, error) {
	recs, err := c.query(ctx, "SELECT Id, Name, PermissionsApiEnabled FROM Profile")
	if err != nil {
		return nil, fmt.Errorf("read the profiles' API Enabled permission: %w", err)
	}
	lacking := map[string]string{}
	for _, r := range recs {
		if on, _ := boolean(r, "PermissionsApiEnabled"); !on {
			lacking[str(r, "Id")] = str(r, "Name")
		}
	}
	return lacking, nil
}

// profileGaps names the profiles of users that lack API Enabled, with their user counts; lacking
// is profilesLackingAPI's answer when the caller read it already (nil: read it now).
func (c *Client) profileGaps(ctx context.Context, users []sfUser, lacking map[string]string) (string, error) {
	if len(users) == 0 {
		return "", nil
	}
	if lacking == nil {
		var err error
		if lacking, err = c.profilesLackingAPI(ctx); err != nil {
			return "", err
		}
	}
	counts := map[string]int{}
	for _, u := range users {
		if n, ok := lacking[u.profileID]; ok {
			counts[n]++
		}
	}
	var parts []string
	for n, k := range counts {
		parts = append(parts, fmt.Sprintf("%s (%d users)", n, k))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", "), nil
}

func (c *Client) readPermSet(ctx context.Context, req providers.ReadRequest) (providers.ReadResponse, error) {
	name := attrs.String(req.Config, "name")
	perms, _ := attrs.Strings(req.Config, "user_permissions")
	if req.ID == "" && name == "" {
		return providers.ReadResponse{Value: cty.NullVal(permissionSetSchema.ImpliedType())}, nil
	}
	// The requests that need no other's answer run at once: the permission set, the users the
	// configuration names and the profiles' API Enabled; then, with the set's id, its object
	// permissions and assignments. At 200 ms a request this keeps a read to the longest chain
	// (the set, then its assignments' pages) instead of the sum.
	var (
		rec              map[string]any
		desired          []sfUser
		missing          []string
		managed          bool
		lacking          map[string]string
		assigned, names  map[string]string
		rows             map[string]objectRow
		cfgObj, cfgObjOK = configuredObjectPerms(req.Config)
	)
	g, gctx := errgroup.WithContext(ctx)
	providers.Go(g, func() error {
		var err error
		if rec, err = c.findPermSet(gctx, req.ID, name, perms); err != nil {
			return err
		}
		if rec == nil && req.ID != "" && name != "" {
			rec, err = c.findPermSet(gctx, "", name, perms) // recreated outside c4sctl under the same name
			if err != nil {
				return err
			}
		}
		if rec == nil {
			return nil
		}
		id := str(rec, "Id")
		providers.Go(g, func() error {
			var err error
			assigned, names, err = c.assignments(gctx, id)
			return err
		})
		if cfgObjOK {
			providers.Go(g, func() error {
				var err error
				rows, err = c.objectRows(gctx, id)
				return err
			})
		}
		return nil
	})
	providers.Go(g, func() error {
		var err error
		desired, missing, managed, err = c.desiredUsers(gctx, req.Config)
		return err
	})
	if _, set := attrs.Strings(req.Config, "assignees"); set || attrs.String(req.Config, "assignee_filter") != "" {
		providers.Go(g, func() error {
			// Only for a warning: a failure loses the note (noteGaps asks again), not the read.
			lacking, _ = c.profilesLackingAPI(gctx)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return providers.ReadResponse{}, err
	}
	var warnings []string
	if len(missing) > 0 {
		warnings = append(warnings, fmt.Sprintf("%d assignees are not users of the org: %s", len(missing), strings.Join(firstN(missing, 10), ", ")))
	}
	if f := strings.TrimSpace(notSatisfied.ReplaceAllString(attrs.String(req.Config, "assignee_filter"), "")); f != "" && managed && len(desired) == 0 {
		warnings = append(warnings, fmt.Sprintf("assignee_filter %q matches 0 users: apply would assign the permission set to nobody (and unassign everyone it has). Profile names in a filter are compared in the language of the user c4sctl signs in as (Salesforce translates standard profiles' names); filter on ProfileId for a language-independent match", f))
	}
	if rec == nil && name != "" {
		// A new set whose filter matches nobody: planPermSet refuses to create it (0 entry).
		c.stateMu.Lock()
		if attrs.String(req.Config, "assignee_filter") != "" && managed && len(desired) == 0 {
			c.emptyFilter[strings.ToLower(name)] = 0
		} else {
			delete(c.emptyFilter, strings.ToLower(name))
		}
		c.stateMu.Unlock()
	}
	if rec == nil {
		// Not there yet: learn how Salesforce spells the user permissions (and refuse unknown ones)
		// now, so that the create sends them right.
		if err := c.learnPermissionFields(ctx, perms); err != nil {
			return providers.ReadResponse{}, err
		}
		c.noteGaps(ctx, name, desired, lacking)
		return providers.ReadResponse{Value: cty.NullVal(permissionSetSchema.ImpliedType()), Warnings: warnings}, nil
	}
	id := str(rec, "Id")
	apiOn, _ := boolean(rec, "PermissionsApiEnabled")
	vals := map[string]cty.Value{
		"name": cty.StringVal(c.nameAsConfigured(str(rec, "Name"), name)), "label": attrs.StringOrNull(str(rec, "Label")), "description": attrs.NullableString(str(rec, "Description"), req.Config, "description"),
		"api_enabled": cty.BoolVal(apiOn), "user_permissions": cty.NullVal(cty.Set(cty.String)), "object_permissions": cty.NullVal(cty.Map(cty.Set(cty.String))),
		"assignees": cty.NullVal(cty.Set(cty.String)), "assignee_filter": cty.NullVal(cty.String),
	}
	if _, set := attrs.Strings(req.Config, "user_permissions"); set {
		// Salesforce answers the fields in its spelling ("PermissionsViewSetup" for a configured
		// "Viewsetup"): look them up without case, report them in the configuration's.
		on := []string{}
		for _, p := range perms {
			if b, _ := c.foldField(rec, "Permissions"+p).(bool); b {
				on = append(on, p)
			}
		}
		vals["user_permissions"] = attrs.StringSet(on)
	}
	if cfgObjOK {
		vals["object_permissions"] = liveObjectPerms(rows, cfgObj)
	}
	if f := attrs.String(req.Config, "assignee_filter"); f != "" {
		c.stateMu.Lock()
		if managed && len(desired) == 0 && len(assigned) > 0 {
			c.emptyFilter[strings.ToLower(str(rec, "Name"))] = len(assigned)
		} else {
			delete(c.emptyFilter, strings.ToLower(str(rec, "Name")))
		}
		c.stateMu.Unlock()
		want := map[string]bool{}
		add := 0
		for _, u := range desired {
			want[u.id] = true
			if assigned[u.id] == "" {
				add++
			}
		}
		del := 0
		for uid := range assigned {
			if !want[uid] {
				del++
			}
		}
		if add+del == 0 {
			vals["assignee_filter"] = cty.StringVal(f)
		} else {
			vals["assignee_filter"] = cty.StringVal(fmt.Sprintf("%s (not satisfied: %d users to assign, %d to unassign)", f, add, del))
		}
	} else {
		spelled := map[string]string{}
		if cfgNames, ok := attrs.Strings(req.Config, "assignees"); ok {
			for _, n := range cfgNames {
				spelled[strings.ToLower(n)] = n
			}
		}
		var live []string
		for _, n := range names {
			if s := spelled[strings.ToLower(n)]; s != "" {
				n = s
			}
			live = append(live, n)
		}
		sort.Strings(live)
		vals["assignees"] = attrs.StringSet(live)
	}
	if !managed {
		for uid, n := range names {
			desired = append(desired, sfUser{id: uid, username: n})
		}
		if len(desired) > 0 {
			// Profiles of the current assignees.
			var err error
			if desired, _, err = c.usersByName(ctx, usernames(desired)); err != nil {
				return providers.ReadResponse{}, err
			}
		}
	}
	gaps := c.noteGaps(ctx, str(rec, "Name"), desired, lacking)
	if gaps != "" && !apiOn {
		warnings = append(warnings, fmt.Sprintf("assignees whose profile lacks API Enabled: %s; they cannot use Copilot for Sales unless this permission set (api_enabled = true) or another grants it", gaps))
	}
	if w := c.usageWarning(); w != "" {
		warnings = append(warnings, w)
	}
	return providers.ReadResponse{ID: id, Value: cty.ObjectVal(vals), Warnings: warnings}, nil
}

func usernames(us []sfUser) []string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.username
	}
	return out
}

func firstN(xs []string, n int) []string {
	if len(xs) > n {
		return append(xs[:n:n], fmt.Sprintf("… (%d more)", len(xs)-n))
	}
	return xs
}

// noteGaps remembers, for PlanChange, which profiles of the permission set's users lack API
// Enabled. Errors only lose the note.
func (c *Client) noteGaps(ctx context.Context, name string, users []sfUser, lacking map[string]string) string {
	gaps, err := c.profileGaps(ctx, users, lacking)
	if err != nil {
		c.log.Debug("salesforce: profile API Enabled check failed", "error", err.Error())
		return ""
	}
	c.stateMu.Lock()
	c.gaps[strings.ToLower(name)] = gaps
	c.stateMu.Unlock()
	return gaps
}

func (c *Client) planPermSet(ctx context.Context, req providers.PlanRequest) (providers.PlanResponse, error) {
	var resp providers.PlanResponse
	if req.Action == providers.Delete {
		if names, ok := attrs.Strings(req.Prior, "assignees"); ok && len(names) > 0 {
			resp.Notes = append(resp.Notes, fmt.Sprintf("its %d assignments are removed first", len(names)))
		}
		return resp, nil
	}
	if f := attrs.String(req.Config, "assignee_filter"); f != "" {
		if _, set := attrs.Strings(req.Config, "assignees"); set {
			return resp, fmt.Errorf("set either assignees or assignee_filter, not both")
		}
		// A filter that matches nobody would unassign every seller: a typo, or profile names in
		// another language, must not take Copilot for Sales away from them. Unassigning everyone
		// on purpose is said with assignees = [].
		c.stateMu.Lock()
		n := c.emptyFilter[strings.ToLower(attrs.String(req.Prior, "name"))]
		c.stateMu.Unlock()
		c.stateMu.Lock()
		_, emptyNew := c.emptyFilter[strings.ToLower(attrs.String(req.Planned, "name"))]
		c.stateMu.Unlock()
		if emptyNew && req.Action == providers.Create {
			// Created, it would give Copilot for Sales to nobody, and apply would still say
			// "Apply complete!": no green while no seller is covered.
			return resp, fmt.Errorf("assignee_filter %q matches 0 users: the new permission set would be assigned to nobody, so no seller would get it. Check the filter (profile names are compared in the language of the user c4sctl signs in as; filter on ProfileId for a language-independent match), or set assignees = [] to create it without assignees on purpose", strings.TrimSpace(notSatisfied.ReplaceAllString(f, "")))
		}
		if n > 0 && req.Action == providers.Update {
			return resp, fmt.Errorf("assignee_filter %q matches 0 users, and the permission set has %d assignee(s): apply would unassign every one of them. Check the filter (profile names are compared in the language of the user c4sctl signs in as; filter on ProfileId for a language-independent match), or set assignees = [] to unassign them on purpose", strings.TrimSpace(notSatisfied.ReplaceAllString(f, "")), n)
		}
	}
	if newName := attrs.String(req.Planned, "name"); req.Action == providers.Create ||
		req.Action == providers.Update && !strings.EqualFold(attrs.String(req.Prior, "name"), newName) {
		// A rename makes the new name exist as much as a create does.
		c.planningCreate(newName)
	}
	if n := attrs.String(req.Planned, "name"); n != "" {
		c.names.mu.Lock()
		canon := c.names.setNames[strings.ToLower(n)]
		c.names.mu.Unlock()
		if canon != "" && canon != n {
			resp.Notes = append(resp.Notes, attrs.CaseNote("name", []attrs.Respelled{{Configured: n, Canonical: canon}}))
		}
	}
	// What apply would refuse after creating the permission set is refused here, at the
	// resource's line: objects the org does not have.
	if cfg, ok := configuredObjectPerms(req.Planned); ok && req.Action != providers.NoOp {
		objs := make([]string, 0, len(cfg))
		for o := range cfg {
			objs = append(objs, o)
		}
		respelled, err := c.checkObjects(ctx, objs)
		if err != nil {
			return resp, err
		}
		var re []attrs.Respelled
		for o, canon := range respelled {
			re = append(re, attrs.Respelled{Configured: o, Canonical: canon})
		}
		sort.Slice(re, func(i, j int) bool { return re[i].Configured < re[j].Configured })
		if n := attrs.CaseNote("object_permissions", re); n != "" {
			resp.Notes = append(resp.Notes, n)
		}
	}
	if perms, ok := attrs.Strings(req.Planned, "user_permissions"); ok {
		var re []attrs.Respelled
		for _, p := range perms {
			if canon := strings.TrimPrefix(c.canonicalField("Permissions"+p), "Permissions"); canon != p {
				re = append(re, attrs.Respelled{Configured: p, Canonical: canon})
			}
		}
		if n := attrs.CaseNote("user_permissions", re); n != "" {
			resp.Notes = append(resp.Notes, n)
		}
	}
	name := attrs.String(req.Planned, "name")
	c.stateMu.Lock()
	gaps := c.gaps[strings.ToLower(name)]
	c.stateMu.Unlock()
	if gaps != "" && req.Action != providers.NoOp {
		if on, _ := attrs.Bool(req.Planned, "api_enabled"); on {
			resp.Notes = append(resp.Notes, fmt.Sprintf("profiles of its users that lack API Enabled: %s; this permission set grants it (a standard profile's permissions cannot be changed through the API in every edition)", gaps))
		} else if req.Action == providers.Create {
			resp.Warnings = append(resp.Warnings, fmt.Sprintf("profiles of its users that lack API Enabled: %s; set api_enabled = true so that they can use Copilot for Sales", gaps))
		}
	}
	if on, set := attrs.Bool(req.Planned, "api_enabled"); set && !on {
		resp.Warnings = append(resp.Warnings, "api_enabled = false: every Copilot for Sales user needs the API Enabled permission (guide step 4)")
	}
	return resp, nil
}

type createResult struct {
	ID      string `json:"id"`
	Success bool   `json:"success"`
}

func (c *Client) applyPermSet(ctx context.Context, req providers.ApplyRequest) (providers.ApplyResponse, error) {
	switch req.Action {
	case providers.Delete:
		name := attrs.String(req.Prior, "name")
		if req.ID == "" {
			return providers.ApplyResponse{}, nil
		}
		assigned, names, err := c.assignments(ctx, req.ID)
		if err != nil {
			return providers.ApplyResponse{}, err
		}
		var ids, labels []string
		for uid, aid := range assigned {
			ids, labels = append(ids, aid), append(labels, names[uid])
		}
		if err := c.deleteRecords(ctx, "unassign permission set "+name, ids, labels); err != nil {
			return providers.ApplyResponse{}, err
		}
		if err := c.rest(ctx, http.MethodDelete, "sobjects/PermissionSet/"+req.ID, nil, nil); err != nil {
			// Already gone (a DELETE replayed after its answer was lost finds it so) is done.
			var ae *APIError
			if !asAPIError(err, &ae) || (ae.Status != http.StatusNotFound && ae.Code != "ENTITY_IS_DELETED") {
				return providers.ApplyResponse{}, fmt.Errorf("delete permission set %s: %w", name, err)
			}
		}
		return providers.ApplyResponse{}, nil
	case providers.Create, providers.Update:
	default:
		return providers.ApplyResponse{}, fmt.Errorf("cannot apply %q to a permission set", req.Action)
	}
	planned := req.Planned
	name := attrs.String(planned, "name")
	if attrs.String(planned, "assignee_filter") != "" {
		if _, set := attrs.Strings(planned, "assignees"); set {
			return providers.ApplyResponse{}, fmt.Errorf("set either assignees or assignee_filter, not both")
		}
	}
	perms, _ := attrs.Strings(planned, "user_permissions")
	id := req.ID
	if req.Action == providers.Create || id == "" {
		body := map[string]any{"Name": name, "Label": name}
		if l := attrs.String(planned, "label"); l != "" {
			body["Label"] = l
		}
		if d := attrs.String(planned, "description"); d != "" {
			body["Description"] = d
		}
		if on, set := attrs.Bool(planned, "api_enabled"); set {
			body["PermissionsApiEnabled"] = on
		}
		if err := c.learnPermissionFields(ctx, perms); err != nil {
			return providers.ApplyResponse{}, err
		}
		for _, p := range perms {
			body[c.canonicalField("Permissions"+p)] = true
		}
		// A lost answer: look for the permission set by name, and send the create again only
		// when it is not there.
		created, err := providers.CreateOnce(ctx, func(ctx context.Context) (string, error) {
			var res createResult
			if err := c.rest(ctx, http.MethodPost, "sobjects/PermissionSet", body, &res); err != nil {
				return "", err
			}
			if res.ID == "" {
				return "", fmt.Errorf("Salesforce answered no id")
			}
			return res.ID, nil
		}, func(ctx context.Context) (string, bool, error) {
			rec, err := c.findPermSet(ctx, "", name, nil)
			if err != nil || rec == nil {
				return "", false, err
			}
			found, _ := rec["Id"].(string)
			return found, true, nil
		})
		if err != nil {
			return providers.ApplyResponse{}, fmt.Errorf("create permission set %s: %w", name, err)
		}
		id = created
	} else {
		body := map[string]any{}
		if prior := attrs.String(req.Prior, "name"); prior != "" && !strings.EqualFold(prior, name) {
			// Renamed in the configuration (PermissionSet.Name is updateable): the plan shows
			// ~ name, and the connected app may already name the new one.
			body["Name"] = name
		}
		if changed(req.Prior, planned, "label") {
			body["Label"] = attrs.String(planned, "label")
		}
		if changed(req.Prior, planned, "description") {
			body["Description"] = attrs.String(planned, "description")
		}
		if changed(req.Prior, planned, "api_enabled") {
			on, _ := attrs.Bool(planned, "api_enabled")
			body["PermissionsApiEnabled"] = on
		}
		have, _ := attrs.Strings(req.Prior, "user_permissions")
		add, _ := setDiff(perms, have)
		for _, p := range add {
			body[c.canonicalField("Permissions"+p)] = true
		}
		if len(body) > 0 {
			if err := c.rest(ctx, http.MethodPatch, "sobjects/PermissionSet/"+id, body, nil); err != nil {
				return providers.ApplyResponse{}, fmt.Errorf("update permission set %s: %w", name, err)
			}
		}
	}
	// partly returns the permission set's identity with the error of a later step: the set
	// exists now, so the engine records it in state (with what the re-read shows) rather than
	// losing it, and the next plan shows what is left to do.
	partly := func(err error) (providers.ApplyResponse, error) {
		if req.Action == providers.Create || req.ID == "" {
			return providers.ApplyResponse{ID: id, Notes: []string{fmt.Sprintf("permission set %s was created (%s); a later step failed", name, id)}},
				fmt.Errorf("permission set %s was created (%s), but: %w", name, id, err)
		}
		return providers.ApplyResponse{ID: id}, err
	}
	// Permissions first, then the users who get them.
	if err := c.reconcileObjectPermsRetrying(ctx, id, name, planned); err != nil {
		return partly(err)
	}
	// Reconciling reads the assignments first, so after a lost answer running it again creates
	// only those still missing.
	if _, err := providers.CreateOnce(ctx, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, c.reconcileAssignments(ctx, id, name, planned)
	}, nil); err != nil {
		return partly(err)
	}
	return providers.ApplyResponse{ID: id}, nil
}

// reconcileAssignments makes the assignments exactly the planned users: inserts and deletes
// through sObject Collections, 200 a request.
func (c *Client) reconcileAssignments(ctx context.Context, psID, name string, planned cty.Value) error {
	users, missing, managed, err := c.desiredUsers(ctx, planned)
	if err != nil || !managed {
		return err
	}
	if len(missing) > 0 {
		return fmt.Errorf("assign permission set %s: %d assignees are not users of the org: %s", name, len(missing), strings.Join(firstN(missing, 10), ", "))
	}
	assigned, names, err := c.assignments(ctx, psID)
	if err != nil {
		return err
	}
	want := map[string]bool{}
	var recs []map[string]any
	var labels []string
	for _, u := range users {
		if want[u.id] {
			continue
		}
		want[u.id] = true
		if assigned[u.id] == "" {
			recs = append(recs, map[string]any{"AssigneeId": u.id, "PermissionSetId": psID})
			labels = append(labels, u.username)
		}
	}
	if err := c.createRecords(ctx, "assign permission set "+name, "PermissionSetAssignment", recs, labels); err != nil {
		return err
	}
	var ids []string
	labels = nil
	uids := make([]string, 0, len(assigned))
	for uid := range assigned {
		uids = append(uids, uid)
	}
	sort.Strings(uids)
	for _, uid := range uids {
		if !want[uid] {
			ids, labels = append(ids, assigned[uid]), append(labels, names[uid])
		}
	}
	return c.deleteRecords(ctx, "unassign permission set "+name, ids, labels)
}
