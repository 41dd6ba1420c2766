package m365

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strings"

	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/zclconf/go-cty/cty"
)

// Requirement is what one resource type (or command) needs from the identity c4sctl runs as.
// Sources per entry: docs/permissions.md.
type Requirement struct {
	// Roles are Microsoft Entra directory roles (display names) the identity must hold.
	Roles []string
	// DelegatedRoles are needed only when a person signs in (app-only sign-in uses Permissions).
	DelegatedRoles []string
	// Permissions are Graph permissions, each an alternative list: any one of it suffices.
	Permissions [][]string
	// Optional requirements do not block apply when missing (a manual fallback exists).
	Optional bool
}

// SellerCoverage is the Requirements key of the seller coverage's reads (a configuration with a
// teams_* resource and an m365_license_assignment: its group is the sellers).
const SellerCoverage = "seller_coverage"

// OptionalWithout says what happens without an optional Graph permission (alternatives joined
// by " or ").
func OptionalWithout(perm string) string {
	if perm == "TeamsUserConfiguration.Read.All" {
		return "the sellers' Teams policies are computed from the group assignments, and a seller's direct assignment is not seen"
	}
	return "manual steps or no mail"
}

// Requirements by resource type, plus "welcome" for `c4sctl welcome --send` and SellerCoverage.
var Requirements = map[string]Requirement{
	"teams_meeting_policy":   {Roles: []string{"Teams Administrator"}},
	"teams_app_setup_policy": {Roles: []string{"Teams Administrator"}},
	"m365_license_assignment": {DelegatedRoles: []string{"License Administrator"}, Permissions: [][]string{
		{"LicenseAssignment.ReadWrite.All", "Directory.ReadWrite.All"},
		{"User.Read.All", "User.ReadWrite.All", "Directory.Read.All"},
		{"GroupMember.Read.All", "Group.Read.All", "Directory.Read.All"},
		{"Organization.Read.All", "Directory.Read.All"},
	}},
	"m365_integrated_app":    {Optional: true, Permissions: [][]string{{"CopilotPackages.ReadWrite.All"}, {"GroupMember.Read.All", "Group.Read.All", "Directory.Read.All"}}},
	"teams_app":              {Permissions: [][]string{{"AppCatalog.Read.All", "AppCatalog.ReadWrite.All", "Directory.Read.All"}}},
	"teams_app_availability": {Permissions: [][]string{{"CopilotPackages.Read.All", "CopilotPackages.ReadWrite.All"}}},
	"welcome":                {Optional: true, Permissions: [][]string{{"Mail.Send"}, {"GroupMember.Read.All", "Group.Read.All", "Directory.Read.All"}}},
	// seller_coverage: the sellers' effective Teams policies (plan, drift, status) from Graph's
	// Teams user configurations; without it they are computed from the group assignments and
	// a seller's direct assignment (a policy with transcription off) is not seen.
	SellerCoverage: {Optional: true, Permissions: [][]string{{"TeamsUserConfiguration.Read.All"}}},
}

// PreflightResource is one resource of the configuration.
type PreflightResource struct {
	Addr, Type string
	Config     cty.Value // evaluated configuration (may be null or partly unknown)
}

// CheckLine is one line of the checklist (providers.CheckLine: statuses ok, missing (blocks
// apply), warn, info, unchecked).
type CheckLine = providers.CheckLine

// PreflightReport is the checklist.
type PreflightReport struct {
	Identity string
	// Sandbox: the checks ran against the c4sctl sandbox; Write says so first, and its clean
	// verdict is never a real tenant's.
	Sandbox bool
	Lines   []CheckLine
}

// Blocking counts the lines that block apply.
func (r *PreflightReport) Blocking() int {
	n := 0
	for _, l := range r.Lines {
		if l.Status == "missing" {
			n++
		}
	}
	return n
}

// Unchecked counts the lines that could not be checked.
func (r *PreflightReport) Unchecked() int {
	n := 0
	for _, l := range r.Lines {
		if l.Status == providers.CheckUnchecked {
			n++
		}
	}
	return n
}

// Write prints the checklist and its verdict. The verdict never says that nothing blocks apply
// while something was not checked.
func (r *PreflightReport) Write(w io.Writer) {
	if r.Sandbox {
		fmt.Fprintln(w, "sandbox: true — checked against the c4sctl sandbox (an emulator), not a real tenant or org")
	}
	fmt.Fprintf(w, "c4sctl runs as %s\n\n", r.Identity)
	marks := map[string]string{"ok": "[ok]         ", "missing": "[MISSING]    ", "warn": "[warn]       ", "info": "[info]       ", "unchecked": "[not checked]"}
	for _, l := range r.Lines {
		fmt.Fprintf(w, "%s %s\n", marks[l.Status], l.Text)
	}
	notChecked := ""
	if u := r.Unchecked(); u > 0 {
		notChecked = fmt.Sprintf("; %d item(s) were not checked (above)", u)
	}
	switch n := r.Blocking(); {
	case n > 0:
		fmt.Fprintf(w, "\n%d item(s) block apply%s: fix them (see docs/permissions.md and docs/getting-started-real.md), then run c4sctl preflight again.\n", n, notChecked)
	case notChecked != "":
		fmt.Fprintf(w, "\nNothing checked blocks apply, but %d item(s) were not checked (above): this is not a verdict on them.\n", r.Unchecked())
	case r.Sandbox:
		fmt.Fprintln(w, "\nNothing blocks apply (sandbox — not a real tenant).")
	default:
		fmt.Fprintln(w, "\nNothing blocks apply.")
	}
}

// TokenClaims are the claims preflight reads from the Graph access token (decoded, not
// verified: they only describe who c4sctl is).
type TokenClaims struct {
	AppID    string   `json:"appid"`
	AzpID    string   `json:"azp"`
	ObjectID string   `json:"oid"`
	TenantID string   `json:"tid"`
	Roles    []string `json:"roles"`
	Scopes   string   `json:"scp"`
	UPN      string   `json:"upn"`
	Username string   `json:"preferred_username"`
	IDType   string   `json:"idtyp"`
}

// Delegated tells whether a person signed in (the token has scopes, not app roles).
func (t TokenClaims) Delegated() bool { return t.Scopes != "" || t.UPN != "" || t.IDType == "user" }

// Permissions are the token's Graph permissions (roles or scopes).
func (t TokenClaims) Permissions() []string {
	if t.Delegated() {
		return strings.Fields(t.Scopes)
	}
	return t.Roles
}

// DecodeClaims decodes a JWT's payload without verifying it.
func DecodeClaims(token string) (TokenClaims, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return TokenClaims{}, errors.New("the access token is not a JWT")
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return TokenClaims{}, errors.New("the access token's payload is not base64url")
	}
	var c TokenClaims
	if err := json.Unmarshal(b, &c); err != nil {
		return TokenClaims{}, errors.New("the access token's payload is not JSON")
	}
	if c.AppID == "" {
		c.AppID = c.AzpID
	}
	return c, nil
}

// WhoAmI returns the claims of the Graph token c4sctl signs in with.
func (c *Client) WhoAmI(ctx context.Context) (TokenClaims, error) {
	tok, err := c.token(ctx)
	if err != nil {
		return TokenClaims{}, err
	}
	return DecodeClaims(tok)
}

// DirectoryRoles lists the display names of the directory roles the identity holds: through its
// memberOf (Application.Read.All or Directory.Read.All for a service principal), else through
// the activated roles and their members (RoleManagement.Read.Directory).
func (c *Client) DirectoryRoles(ctx context.Context, who TokenClaims) ([]string, error) {
	path := "/v1.0/servicePrincipals/" + url.PathEscape(who.ObjectID) + "/memberOf?$select=id,displayName,roleTemplateId"
	if who.Delegated() {
		path = "/v1.0/me/memberOf?$select=id,displayName,roleTemplateId"
	}
	var roles []string
	_, err := c.pages(ctx, path, func(raw json.RawMessage) error {
		var o struct {
			Type string `json:"@odata.type"`
			Name string `json:"displayName"`
		}
		if json.Unmarshal(raw, &o) == nil && o.Type == "#microsoft.graph.directoryRole" && o.Name != "" {
			roles = append(roles, o.Name)
		}
		return nil
	})
	var ge *GraphError
	if err != nil && errors.As(err, &ge) && ge.Status == 403 {
		roles, err = c.rolesByMembers(ctx, who.ObjectID)
	}
	sort.Strings(roles)
	return roles, err
}

func (c *Client) rolesByMembers(ctx context.Context, oid string) ([]string, error) {
	type role struct {
		ID   string `json:"id"`
		Name string `json:"displayName"`
	}
	var all []role
	if _, err := c.pages(ctx, "/v1.0/directoryRoles", func(raw json.RawMessage) error {
		var r role
		if json.Unmarshal(raw, &r) == nil && r.ID != "" {
			all = append(all, r)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	var out []string
	for _, r := range all {
		held := false
		if _, err := c.pages(ctx, "/v1.0/directoryRoles/"+url.PathEscape(r.ID)+"/members?$select=id", func(raw json.RawMessage) error {
			var m struct {
				ID string `json:"id"`
			}
			if json.Unmarshal(raw, &m) == nil && strings.EqualFold(m.ID, oid) {
				held = true
			}
			return nil
		}); err != nil {
			return nil, err
		}
		if held {
			out = append(out, r.Name)
		}
	}
	return out, nil
}

// Preflight reads who c4sctl runs as, its directory roles and permissions, the tenant's SKUs
// and their free seats, and checks them against what the resources need.
func (c *Client) Preflight(ctx context.Context, resources []PreflightResource, extra ...string) (*PreflightReport, error) {
	who, err := c.WhoAmI(ctx)
	if err != nil {
		return nil, err
	}
	rep := &PreflightReport{}
	if who.Delegated() {
		name := who.UPN
		if name == "" {
			name = who.Username
		}
		rep.Identity = fmt.Sprintf("user %s (object id %s) in tenant %s, through app %s", name, who.ObjectID, who.TenantID, who.AppID)
	} else {
		rep.Identity = fmt.Sprintf("app %s (service principal %s) in tenant %s", who.AppID, who.ObjectID, who.TenantID)
	}
	add := func(status, format string, args ...any) {
		rep.Lines = append(rep.Lines, CheckLine{Status: status, Text: fmt.Sprintf(format, args...)})
	}

	held, rolesErr := c.DirectoryRoles(ctx, who)
	holds := map[string]bool{}
	for _, r := range held {
		holds[strings.ToLower(r)] = true
	}
	if rolesErr != nil {
		hint := ""
		var ge *GraphError
		if errors.As(rolesErr, &ge) && ge.Status == 403 {
			hint = "; grant Application.Read.All or RoleManagement.Read.Directory to check them"
		}
		add("warn", "directory roles: cannot read them (%v)%s", rolesErr, hint)
	} else if len(held) == 0 {
		add("info", "directory roles held: none")
	} else {
		add("info", "directory roles held: %s", strings.Join(held, ", "))
	}
	perms := map[string]bool{}
	for _, p := range who.Permissions() {
		perms[strings.ToLower(p)] = true
	}
	kind := "application permissions"
	if who.Delegated() {
		kind = "delegated permissions"
	}
	if ps := who.Permissions(); len(ps) > 0 {
		sorted := append([]string{}, ps...)
		sort.Strings(sorted)
		add("info", "Graph %s in the token: %s", kind, strings.Join(sorted, ", "))
	} else {
		add("warn", "the Graph token carries no %s (admin consent missing?)", kind)
	}

	// What the configuration needs, grouped by role / permission.
	type need struct {
		by       []string
		optional bool
	}
	roleNeeds := map[string]*need{}
	permNeeds := map[string]*need{} // key: alternatives joined by " or "
	var unchecked []string
	addNeed := func(m map[string]*need, key, by string, optional bool) {
		n := m[key]
		if n == nil {
			n = &need{optional: true}
			m[key] = n
		}
		n.by = append(n.by, by)
		sort.Strings(n.by)
		n.optional = n.optional && optional
	}
	uses := func(typ, by string) {
		req, ok := Requirements[typ]
		if !ok {
			unchecked = append(unchecked, by)
			return
		}
		for _, r := range req.Roles {
			addNeed(roleNeeds, r, by, req.Optional)
		}
		if who.Delegated() {
			for _, r := range req.DelegatedRoles {
				addNeed(roleNeeds, r, by, req.Optional)
			}
		}
		for _, alts := range req.Permissions {
			addNeed(permNeeds, strings.Join(alts, " or "), by, req.Optional)
		}
	}
	for _, r := range resources {
		uses(r.Type, r.Addr)
	}
	for _, e := range extra {
		uses(e, "c4sctl "+e)
	}
	for _, name := range sortedNeedKeys(roleNeeds) {
		n := roleNeeds[name]
		switch {
		case rolesErr != nil:
			// Unknown is not fine: the verdict must count it.
			add(providers.CheckUnchecked, "%s: not checked (the directory roles could not be read, above), needed by %s", name, strings.Join(n.by, ", "))
		case holds[strings.ToLower(name)]:
			add("ok", "%s: held, needed by %s", name, strings.Join(n.by, ", "))
		case n.optional:
			add("warn", "%s: missing, used by %s (a manual fallback exists)", name, strings.Join(n.by, ", "))
		default:
			add("missing", "%s: missing, needed by %s", name, strings.Join(n.by, ", "))
		}
	}
	for _, key := range sortedNeedKeys(permNeeds) {
		n := permNeeds[key]
		ok := false
		for _, alt := range strings.Split(key, " or ") {
			ok = ok || perms[strings.ToLower(alt)]
		}
		switch {
		case ok:
			add("ok", "Graph permission %s: granted, needed by %s", key, strings.Join(n.by, ", "))
		case n.optional:
			add("warn", "Graph permission %s: missing, used by %s (without it: %s)", key, strings.Join(n.by, ", "), OptionalWithout(key))
		default:
			add("missing", "Graph permission %s: missing, needed by %s", key, strings.Join(n.by, ", "))
		}
	}

	// Licences and seats.
	skus, err := c.subscribedSkus(ctx)
	switch {
	case providers.Inconclusive(err):
		add(providers.CheckUnchecked, "licences: not checked: the tenant's subscriptions could not be read (%v)", err)
	case err != nil:
		add("missing", "licences: cannot read the tenant's subscriptions (%v)", err)
	default:
		for _, s := range skus {
			add("info", "licence %s: %d of %d seats free", s.PartNumber, max(s.Free(), 0), s.Enabled)
		}
	}
	type skuUse struct {
		users map[string]bool
		by    []string
		sku   skuInfo
	}
	perSku := map[string]*skuUse{}
	for _, r := range resources {
		if r.Type != "m365_license_assignment" || err != nil {
			continue
		}
		if r.Config.IsNull() || !r.Config.IsWhollyKnown() {
			add("warn", "%s: its configuration depends on other resources; seats are checked at plan time", r.Addr)
			continue
		}
		a, deferred, aerr := c.analyse(ctx, r.Config)
		switch {
		case providers.Inconclusive(aerr):
			add(providers.CheckUnchecked, "%s: not checked: %v", r.Addr, aerr)
			continue
		case aerr != nil:
			add("missing", "%s: %v", r.Addr, aerr)
			continue
		case deferred != "":
			status := "warn"
			if strings.Contains(deferred, "no subscription with SKU") {
				status = "missing"
			}
			add(status, "%s: %s", r.Addr, deferred)
			continue
		}
		for _, w := range a.warnings() {
			add("warn", "%s: %s", r.Addr, w)
		}
		u := perSku[a.sku.ID]
		if u == nil {
			u = &skuUse{sku: a.sku, users: map[string]bool{}}
			perSku[a.sku.ID] = u
		}
		for _, id := range a.newSeatIDs() {
			u.users[id] = true
		}
		u.by = append(u.by, r.Addr)
		sort.Strings(u.by)
		if serr := a.seatError(); serr != nil {
			add("missing", "%s: %v", r.Addr, serr)
		} else {
			add("ok", "%s: %s seats: %d needed, %d free (%d of %d targets hold it already)", r.Addr, a.sku.PartNumber, a.seatsNeeded(), max(a.sku.Free(), 0), a.compliant, a.targets)
		}
	}
	for _, id := range sortedNeedKeys(perSku) {
		u := perSku[id]
		if len(u.by) > 1 && len(u.users) > u.sku.Free() {
			add("missing", "%s: together %s need %d more seats but only %d are free", u.sku.PartNumber, strings.Join(u.by, ", "), len(u.users), max(u.sku.Free(), 0))
		}
	}
	if len(unchecked) > 0 {
		sort.Strings(unchecked)
		add(providers.CheckUnchecked, "what these need is not known to the Microsoft 365 check: %s", listSome(unchecked, 8))
	}
	return rep, nil
}

func sortedNeedKeys[T any](m map[string]T) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
