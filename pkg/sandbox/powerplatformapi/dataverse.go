package powerplatformapi

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/c4sctl/c4sctl/pkg/sandbox"
)

// DataverseService serves the Dataverse Web API of each organisation under
// /dataverse/{uniqueName}/api/data/v9.2/.
type DataverseService struct{ api *API }

// Name is the URL prefix and data key.
func (s *DataverseService) Name() string { return "dataverse" }

// API returns the shared tenant.
func (s *DataverseService) API() *API { return s.api }

// Reset does nothing: the bap service resets the shared tenant.
func (s *DataverseService) Reset() {}

// MarshalState saves nothing: the tenant is saved by the bap service.
func (s *DataverseService) MarshalState() ([]byte, error) { return []byte("{}"), nil }

// UnmarshalState ignores its input (see MarshalState).
func (s *DataverseService) UnmarshalState([]byte) error { return nil }

// Register adds the routes.
func (s *DataverseService) Register(r *sandbox.Router) {
	if s.api == nil {
		// Share the tenant of the bap service mounted in the same sandbox.
		if b, ok := r.Server().Service("bap").(*BAPService); ok {
			s.api = b.api
		} else {
			s.api = New()
		}
	}
	s.api.srv = r.Server()
	for _, m := range []string{"GET", "POST", "PATCH", "DELETE"} {
		r.Handle(m+" /{org}/api/data/v9.2/{path...}", s.serve)
	}
}

// odataError writes Dataverse's error body.
func odataError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("OData-Version", "4.0")
	sandbox.WriteJSON(w, status, map[string]any{"error": map[string]any{"code": code, "message": msg}})
}

type dvRequest struct {
	w      http.ResponseWriter
	r      *http.Request
	org    *Org
	base   string // https://host/dataverse/org/api/data/v9.2/
	caller *SystemUser
}

var (
	keyed      = regexp.MustCompile(`^(\w+)\(([0-9a-fA-F-]{36})\)$`)
	refAdd     = regexp.MustCompile(`^systemusers\(([0-9a-fA-F-]{36})\)/systemuserroles_association/\$ref$`)
	refRemove  = regexp.MustCompile(`^systemusers\(([0-9a-fA-F-]{36})\)/systemuserroles_association\(([0-9a-fA-F-]{36})\)/\$ref$`)
	anyRole    = regexp.MustCompile(`^systemuserroles_association/any\((\w+):(\w+)/roleid eq ([0-9a-fA-F-]{36})\)$`)
	roleTmpl   = regexp.MustCompile(`^_roletemplateid_value eq ([0-9a-fA-F-]{36})$`)
	roleName   = regexp.MustCompile(`^name eq '([^']*)'$`)
	odataIDRef = regexp.MustCompile(`roles\(([0-9a-fA-F-]{36})\)$`)
)

func (s *DataverseService) serve(w http.ResponseWriter, r *http.Request) {
	if ok, after := s.api.takeThrottle(); ok {
		w.Header().Set("Retry-After", strconv.FormatInt(after, 10))
		odataError(w, http.StatusTooManyRequests, "0x80072322", "Number of requests exceeded the limit of 6000 over time window of 300 seconds.")
		return
	}
	orgName := r.PathValue("org")
	org := s.api.Org(orgName)
	if org == nil {
		odataError(w, http.StatusNotFound, "0x80040217", fmt.Sprintf("Organization '%s' does not exist.", orgName))
		return
	}
	audience := "https://" + r.Host + "/dataverse/" + org.UniqueName
	claims, err := s.api.srv.Tokens.Verify(r, audience)
	if err != nil {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer authorization_uri=https://%s/%s/oauth2/authorize, resource_id=%s`, r.Host, sandbox.TenantID, audience))
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	req := &dvRequest{w: w, r: r, org: org, base: audience + "/api/data/v9.2/"}
	for _, u := range org.Users {
		if u.ApplicationID != "" && strings.EqualFold(u.ApplicationID, claims.AppID) && !u.IsDisabled {
			req.caller = u
		}
	}
	if req.caller == nil {
		odataError(w, http.StatusForbidden, "0x80072560", "The user is not a member of the organization.")
		return
	}
	path := r.PathValue("path")
	switch {
	case r.Method == "GET" && (path == "WhoAmI" || path == "WhoAmI()"):
		sandbox.WriteJSON(w, http.StatusOK, map[string]any{"@odata.context": req.base + "$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse",
			"BusinessUnitId": org.BusinessUnitID, "UserId": req.caller.ID, "OrganizationId": org.OrganizationID})
	case r.Method == "GET" && path == "systemusers":
		s.listUsers(req)
	case r.Method == "GET" && path == "roles":
		s.listRoles(req)
	case r.Method == "GET" && path == "msdyn_vivaorgsettings":
		s.listSettings(req, "msdyn_vivaorgsetting", org.OrgSettings)
	case r.Method == "GET" && path == "msdyn_vivaentitysettings":
		s.listSettings(req, "msdyn_vivaentitysetting", org.EntitySettings)
	case r.Method == "PATCH" && keyed.MatchString(path):
		m := keyed.FindStringSubmatch(path)
		switch m[1] {
		case "msdyn_vivaorgsettings":
			s.patchSetting(req, "msdyn_orgsettings", org.OrgSettings, m[2])
		case "msdyn_vivaentitysettings":
			s.patchSetting(req, "msdyn_entitysettings", org.EntitySettings, m[2])
		default:
			odataError(w, http.StatusMethodNotAllowed, "0x80060888", "The sandbox does not update '"+m[1]+"'.")
		}
	case r.Method == "POST" && refAdd.MatchString(path):
		s.associate(req, refAdd.FindStringSubmatch(path)[1])
	case r.Method == "DELETE" && refRemove.MatchString(path):
		m := refRemove.FindStringSubmatch(path)
		s.disassociate(req, m[1], m[2])
	default:
		seg := strings.SplitN(path, "/", 2)[0]
		odataError(w, http.StatusNotFound, "0x8006088a", fmt.Sprintf("Resource not found for the segment '%s'.", seg))
	}
}

// page writes a collection with OData paging (Prefer: odata.maxpagesize, $skiptoken).
func (s *DataverseService) page(req *dvRequest, entitySet string, rows []map[string]any) {
	q := req.r.URL.Query()
	size := 5000
	applied := ""
	for _, pref := range strings.Split(req.r.Header.Get("Prefer"), ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(pref), "odata.maxpagesize="); ok {
			if n, err := strconv.Atoi(v); err == nil && n > 0 {
				size = min(n, 5000)
				applied = "odata.maxpagesize=" + strconv.Itoa(size)
			}
		}
	}
	start := 0
	if tok := q.Get("$skiptoken"); tok != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(tok, "sbx-"))
		if err != nil || n < 0 {
			odataError(req.w, http.StatusBadRequest, "0x80040203", "The $skiptoken is not valid.")
			return
		}
		start = min(n, len(rows))
	}
	end := min(start+size, len(rows))
	body := map[string]any{"@odata.context": req.base + "$metadata#" + entitySet, "value": rows[start:end]}
	if end < len(rows) {
		q.Set("$skiptoken", "sbx-"+strconv.Itoa(end))
		body["@odata.nextLink"] = req.base + strings.TrimPrefix(req.r.PathValue("path"), "/") + "?" + q.Encode()
	}
	if applied != "" {
		req.w.Header().Set("Preference-Applied", applied)
	}
	req.w.Header().Set("OData-Version", "4.0")
	sandbox.WriteJSON(req.w, http.StatusOK, body)
}

// project applies $select (unknown columns are an error, as in Dataverse).
func project(req *dvRequest, typ string, row map[string]any) (map[string]any, bool) {
	sel := req.r.URL.Query().Get("$select")
	if sel == "" {
		return row, true
	}
	out := map[string]any{"@odata.etag": row["@odata.etag"]}
	for _, c := range strings.Split(sel, ",") {
		c = strings.TrimSpace(c)
		v, ok := row[c]
		if !ok {
			odataError(req.w, http.StatusBadRequest, "0x80060888", fmt.Sprintf("Could not find a property named '%s' on type 'Microsoft.Dynamics.CRM.%s'.", c, typ))
			return nil, false
		}
		out[c] = v
	}
	return out, true
}

func unsupportedQuery(req *dvRequest) bool {
	for k := range req.r.URL.Query() {
		switch k {
		case "$select", "$filter", "$skiptoken":
		default:
			odataError(req.w, http.StatusBadRequest, "0x80060888", fmt.Sprintf("The query parameter '%s' is not supported by the sandbox.", k))
			return true
		}
	}
	return false
}

func userRow(u *SystemUser) map[string]any {
	var app, aad any
	if u.ApplicationID != "" {
		app = u.ApplicationID
	}
	if u.AADObjectID != "" {
		aad = u.AADObjectID
	}
	return map[string]any{"@odata.etag": `W/"` + strconv.Itoa(len(u.RoleIDs)+1000) + `"`, "systemuserid": u.ID, "domainname": u.DomainName, "fullname": u.FullName,
		"internalemailaddress": u.Email, "applicationid": app, "azureactivedirectoryobjectid": aad, "isdisabled": u.IsDisabled, "accessmode": map[bool]int{true: 4, false: 0}[u.ApplicationID != ""]}
}

func (s *DataverseService) listUsers(req *dvRequest) {
	if unsupportedQuery(req) {
		return
	}
	roleID := ""
	if f := strings.TrimSpace(req.r.URL.Query().Get("$filter")); f != "" {
		m := anyRole.FindStringSubmatch(f)
		if m == nil || m[1] != m[2] {
			odataError(req.w, http.StatusBadRequest, "0x80060888", "The sandbox supports only $filter=systemuserroles_association/any(r:r/roleid eq GUID) on systemusers.")
			return
		}
		roleID = m[3]
	}
	var rows []map[string]any
	for _, u := range req.org.Users {
		if roleID != "" && !u.hasRole(roleID) {
			continue
		}
		row, ok := project(req, "systemuser", userRow(u))
		if !ok {
			return
		}
		rows = append(rows, row)
	}
	s.page(req, "systemusers", rows)
}

func (s *DataverseService) listRoles(req *dvRequest) {
	if unsupportedQuery(req) {
		return
	}
	f := strings.TrimSpace(req.r.URL.Query().Get("$filter"))
	var tmpl, name string
	switch {
	case f == "":
	case roleTmpl.MatchString(f):
		tmpl = roleTmpl.FindStringSubmatch(f)[1]
	case roleName.MatchString(f):
		name = roleName.FindStringSubmatch(f)[1]
	default:
		odataError(req.w, http.StatusBadRequest, "0x80060888", "The sandbox supports only $filter=_roletemplateid_value eq GUID or name eq '...' on roles.")
		return
	}
	var rows []map[string]any
	for _, ro := range req.org.Roles {
		if (tmpl != "" && !strings.EqualFold(ro.TemplateID, tmpl)) || (name != "" && !strings.EqualFold(ro.Name, name)) {
			continue
		}
		row, ok := project(req, "role", map[string]any{"@odata.etag": `W/"1"`, "roleid": ro.ID, "name": ro.Name, "_roletemplateid_value": ro.TemplateID, "_businessunitid_value": req.org.BusinessUnitID})
		if !ok {
			return
		}
		rows = append(rows, row)
	}
	s.page(req, "roles", rows)
}

func settingColumns(entity string) (id, key, js string) {
	if entity == "msdyn_vivaorgsetting" {
		return "msdyn_vivaorgsettingid", "msdyn_featurename", "msdyn_orgsettings"
	}
	return "msdyn_vivaentitysettingid", "msdyn_entitytype", "msdyn_entitysettings"
}

func (s *DataverseService) listSettings(req *dvRequest, entity string, rows []*SettingRow) {
	if unsupportedQuery(req) {
		return
	}
	if req.r.URL.Query().Get("$filter") != "" {
		odataError(req.w, http.StatusBadRequest, "0x80060888", "The sandbox does not filter "+entity+"s.")
		return
	}
	idc, keyc, jsc := settingColumns(entity)
	var out []map[string]any
	for _, r := range rows {
		row := map[string]any{"@odata.etag": `W/"` + strconv.Itoa(len(r.JSON)) + `"`, idc: r.ID, keyc: r.Key, jsc: r.JSON}
		if entity == "msdyn_vivaorgsetting" {
			row["msdyn_producttype"] = r.ProductType
			row["msdyn_orgid"] = r.OrgID
		}
		p, ok := project(req, entity, row)
		if !ok {
			return
		}
		out = append(out, p)
	}
	s.page(req, entity+"s", out)
}

func (s *DataverseService) requireAdmin(req *dvRequest, privilege string) bool {
	sa := req.org.roleByTemplate(SystemAdministratorTemplateID)
	if sa != nil && req.caller.hasRole(sa.ID) {
		return true
	}
	odataError(req.w, http.StatusForbidden, "0x80040220", fmt.Sprintf("Principal user (Id=%s, type=8, roleCount=%d) is missing %s privilege.", req.caller.ID, len(req.caller.RoleIDs), privilege))
	return false
}

func (s *DataverseService) patchSetting(req *dvRequest, column string, rows []*SettingRow, id string) {
	if !s.requireAdmin(req, "prvWritemsdyn_vivaorgsetting") {
		return
	}
	var body map[string]any
	if err := json.NewDecoder(io.LimitReader(req.r.Body, 1<<20)).Decode(&body); err != nil {
		odataError(req.w, http.StatusBadRequest, "0x80040203", "The request body is not valid JSON.")
		return
	}
	for _, r := range rows {
		if strings.EqualFold(r.ID, id) {
			for k, v := range body {
				if k != column {
					odataError(req.w, http.StatusBadRequest, "0x80060888", fmt.Sprintf("The property '%s' does not exist or cannot be updated by the sandbox.", k))
					return
				}
				js, ok := v.(string)
				if !ok || !json.Valid([]byte(js)) {
					odataError(req.w, http.StatusBadRequest, "0x80040203", column+" must be a string holding JSON.")
					return
				}
				r.JSON = js
			}
			req.w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	odataError(req.w, http.StatusNotFound, "0x80040217", fmt.Sprintf("Entity with Id = %s Does Not Exist", id))
}

func (s *DataverseService) user(req *dvRequest, id string) *SystemUser {
	for _, u := range req.org.Users {
		if strings.EqualFold(u.ID, id) {
			return u
		}
	}
	odataError(req.w, http.StatusNotFound, "0x80040217", fmt.Sprintf("systemuser With Id = %s Does Not Exist", id))
	return nil
}

func (s *DataverseService) associate(req *dvRequest, userID string) {
	if !s.requireAdmin(req, "prvAssignRole") {
		return
	}
	u := s.user(req, userID)
	if u == nil {
		return
	}
	var body struct {
		ID string `json:"@odata.id"`
	}
	if err := json.NewDecoder(io.LimitReader(req.r.Body, 1<<16)).Decode(&body); err != nil || body.ID == "" {
		odataError(req.w, http.StatusBadRequest, "0x80040203", "The request body must be {\"@odata.id\": \"<org>/api/data/v9.2/roles(<id>)\"}.")
		return
	}
	ref, _ := url.PathUnescape(body.ID)
	m := odataIDRef.FindStringSubmatch(ref)
	var role *Role
	if m != nil {
		for _, ro := range req.org.Roles {
			if strings.EqualFold(ro.ID, m[1]) {
				role = ro
			}
		}
	}
	if role == nil {
		odataError(req.w, http.StatusBadRequest, "0x80040217", "role referenced by @odata.id does not exist.")
		return
	}
	if !u.hasRole(role.ID) {
		u.RoleIDs = append(u.RoleIDs, role.ID)
	}
	req.w.WriteHeader(http.StatusNoContent)
}

func (s *DataverseService) disassociate(req *dvRequest, userID, roleID string) {
	if !s.requireAdmin(req, "prvAssignRole") {
		return
	}
	u := s.user(req, userID)
	if u == nil {
		return
	}
	keep := u.RoleIDs[:0]
	for _, r := range u.RoleIDs {
		if !strings.EqualFold(r, roleID) {
			keep = append(keep, r)
		}
	}
	u.RoleIDs = keep
	req.w.WriteHeader(http.StatusNoContent)
}
