package salesforceapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/c4sctl/c4sctl/pkg/sandbox"
	"github.com/golang-jwt/jwt/v5"
)

// PageSize is the number of records a query answer holds before nextRecordsUrl (the real API's
// default batch size).
const PageSize = 2000

var usageMu sync.Mutex

// Register adds the routes.
func (s *Service) Register(r *sandbox.Router) {
	s.srv = r.Server()
	r.Handle("POST /services/oauth2/token", s.token)
	r.Handle("GET /services/data/{v}/query", s.guard(s.query(false)))
	r.Handle("GET /services/data/{v}/query/{locator}", s.guard(s.queryMore))
	r.Handle("GET /services/data/{v}/tooling/query", s.guard(s.query(true)))
	r.Handle("GET /services/data/{v}/sobjects", s.guard(s.describeGlobal))
	r.Handle("GET /services/data/{v}/sobjects/{type}/{id}", s.guard(s.getRecord))
	r.Handle("POST /services/data/{v}/sobjects/{type}", s.guard(s.createRecord))
	r.Handle("PATCH /services/data/{v}/sobjects/{type}/{id}", s.guard(s.updateRecord))
	r.Handle("DELETE /services/data/{v}/sobjects/{type}/{id}", s.guard(s.deleteRecord))
	r.Handle("POST /services/data/{v}/composite/sobjects", s.guard(s.collectionCreate))
	r.Handle("DELETE /services/data/{v}/composite/sobjects", s.guard(s.collectionDelete))
	r.Handle("PATCH /services/data/{v}/composite/sobjects", s.guard(s.collectionUpdate))
	r.Handle("GET /services/data/{v}/composite/sobjects/{type}", s.guard(s.collectionRetrieve))
	r.Handle("POST /services/data/{v}/composite/sobjects/{type}", s.guard(s.collectionRetrieve))
	r.Handle("GET /services/data/{v}/sobjects/{$}", s.guard(s.describeGlobal))
	r.Handle("GET /services/data/{v}/sobjects/{type}", s.guard(s.describeObject(true)))
	r.Handle("GET /services/data/{v}/sobjects/{type}/describe", s.guard(s.describeObject(false)))
	r.Handle("POST /services/Soap/m/{v}", s.soap)
	r.Handle("GET /services/data", s.versions)
	r.Handle("GET /services/data/{$}", s.versions)
	r.HandleFallback(s.unknownPath)
}

// unknownPath answers what no route takes as Salesforce's REST API does: its JSON error body,
// 404 NOT_FOUND for a resource that does not exist, 405 METHOD_NOT_ALLOWED naming the allowed
// methods for a wrong method (REST API Developer Guide, "Status Codes and Error Responses").
func (s *Service) unknownPath(w http.ResponseWriter, r *http.Request, allowed []string) {
	if len(allowed) > 0 {
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		sfError(w, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", fmt.Sprintf("HTTP Method '%s' not allowed. Allowed are %s", r.Method, strings.Join(allowed, ",")))
		return
	}
	sfError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
}

// versions lists the API versions the org serves (GET /services/data/, no session needed):
// [{"label", "url", "version"}], oldest first (REST API Developer Guide, "Versions").
func (s *Service) versions(w http.ResponseWriter, r *http.Request) {
	out := []map[string]string{}
	for n := MinAPIVersion; n <= MaxAPIVersion; n++ {
		v := fmt.Sprintf("%d.0", n)
		out = append(out, map[string]string{"label": releaseLabel(n), "url": "/services/data/v" + v, "version": v})
	}
	sandbox.WriteJSON(w, http.StatusOK, out)
}

// releaseLabel names the release of API version n: three a year, 62.0 = Winter '25 (the
// documentation's version list pairs every release with its version).
func releaseLabel(n int) string {
	season := []string{"Winter", "Spring", "Summer"}[(n-62+300)%3]
	year := 25 + (n-62+300)/3 - 100
	return fmt.Sprintf("%s '%02d", season, year)
}

// sfError writes Salesforce's REST error body: [{"message", "errorCode"}].
func sfError(w http.ResponseWriter, status int, code, msg string) {
	sandbox.WriteJSON(w, status, []map[string]any{{"message": msg, "errorCode": code}})
}

var versionRe = regexp.MustCompile(`^v(\d+)\.0$`)

// The API versions the sandbox org serves. MaxAPIVersion is the current GA release, Summer '26
// (the REST API Developer Guide's version list: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_versions.htm);
// versions 7.0 to 30.0 are retired (Summer '25) and answer 410 GONE
// (https://help.salesforce.com/s/articleView?id=000354473).
const (
	MinAPIVersion = 31
	MaxAPIVersion = 67
)

// servedVersion tells whether a version segment ("v62.0") names a version the org serves.
func servedVersion(v string) bool {
	m := versionRe.FindStringSubmatch(v)
	if m == nil {
		return false
	}
	n, _ := strconv.Atoi(m[1])
	return n >= MinAPIVersion && n <= MaxAPIVersion
}

// checkVersion tells whether the path's version segment ("v62.0") is served; otherwise it answers
// 410 GONE for a retired version and 404 NOT_FOUND for one that does not exist.
func checkVersion(w http.ResponseWriter, v string) bool {
	m := versionRe.FindStringSubmatch(v)
	n := 0
	if m != nil {
		n, _ = strconv.Atoi(m[1])
	}
	switch {
	case n >= MinAPIVersion && n <= MaxAPIVersion:
		return true
	case n >= 7 && n < MinAPIVersion:
		// The body is assumed: Salesforce documents the status only.
		sfError(w, http.StatusGone, "GONE", "The requested version is no longer supported.")
	default:
		sfError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
	}
	return false
}

// guard checks the session (401 INVALID_SESSION_ID), the API version and the daily API limit
// (403 REQUEST_LIMIT_EXCEEDED), and reports usage in Sforce-Limit-Info.
func (s *Service) guard(fn http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if refuseOversized(w, r) {
			return
		}
		if _, err := s.srv.Tokens.VerifySession(r, Audience); err != nil {
			sfError(w, http.StatusUnauthorized, "INVALID_SESSION_ID", "Session expired or invalid")
			return
		}
		if !checkVersion(w, r.PathValue("v")) {
			return
		}
		usageMu.Lock()
		used, limit := s.org.APIUsage, s.org.APILimit
		over := used >= limit
		if !over {
			s.org.APIUsage++
			used++
		}
		usageMu.Unlock()
		w.Header().Set("Sforce-Limit-Info", fmt.Sprintf("api-usage=%d/%d", used, limit))
		if over {
			sfError(w, http.StatusForbidden, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
			return
		}
		fn(w, r)
	}
}

// --- OAuth ------------------------------------------------------------------------------------

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	sandbox.WriteJSON(w, status, map[string]any{"error": code, "error_description": desc})
}

func (s *Service) instanceURL(r *http.Request) string { return "https://" + r.Host + "/salesforce" }

func (s *Service) token(w http.ResponseWriter, r *http.Request) {
	if refuseOversized(w, r) {
		return
	}
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "invalid request body")
		return
	}
	var user *User
	switch gt := r.PostForm.Get("grant_type"); gt {
	case "client_credentials":
		if r.PostForm.Get("client_id") != ConsumerKey {
			oauthError(w, http.StatusBadRequest, "invalid_client_id", "client identifier invalid")
			return
		}
		if r.PostForm.Get("client_secret") != s.consumerSecret() {
			oauthError(w, http.StatusBadRequest, "invalid_client", "invalid client credentials")
			return
		}
		user = s.org.User(IntegrationUser)
	case "urn:ietf:params:oauth:grant-type:jwt-bearer":
		u, desc := s.verifyAssertion(r, r.PostForm.Get("assertion"))
		if u == nil {
			oauthError(w, http.StatusBadRequest, "invalid_grant", desc)
			return
		}
		user = u
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "grant type not supported")
		return
	}
	if user == nil || !user.IsActive {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "user is not active")
		return
	}
	// An opaque session id ("00D...!..."), as a real org answers: Salesforce issues JWT-based
	// access tokens only when the app opts in, and they work for REST only (the Metadata API
	// refuses them), so c4sctl must not rely on a token's structure.
	tok, _, err := s.srv.Tokens.IssueSession(OrgID[:15], sandbox.Claims{Username: user.Username, AppID: ConsumerKey,
		RegisteredClaims: jwt.RegisteredClaims{Audience: jwt.ClaimStrings{Audience}, Subject: user.ID, Issuer: s.instanceURL(r)}})
	if err != nil {
		oauthError(w, http.StatusInternalServerError, "server_error", "could not issue a token")
		return
	}
	inst := s.instanceURL(r)
	sandbox.WriteJSON(w, http.StatusOK, map[string]any{
		"access_token": tok, "instance_url": inst, "id": inst + "/id/" + OrgID + "/" + user.ID,
		"token_type": "Bearer", "issued_at": strconv.FormatInt(time.Now().UnixMilli(), 10), "scope": "api",
	})
}

// verifyAssertion checks a JWT bearer assertion: RS256 signature against the connected app's
// certificate, iss = consumer key, aud = the login URL, sub = an active user, exp in the future.
func (s *Service) verifyAssertion(r *http.Request, assertion string) (*User, string) {
	if assertion == "" {
		return nil, "invalid assertion"
	}
	pub, err := jwtPublicKey()
	if err != nil {
		return nil, "the sandbox has no certificate for the JWT bearer flow"
	}
	var claims jwt.RegisteredClaims
	_, err = jwt.ParseWithClaims(assertion, &claims, func(*jwt.Token) (any, error) { return pub, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithExpirationRequired())
	if err != nil {
		if errors.Is(err, jwt.ErrTokenExpired) {
			return nil, "expired authorization code"
		}
		return nil, "invalid assertion"
	}
	if claims.Issuer != ConsumerKey {
		return nil, "invalid_client_id: client identifier invalid"
	}
	if !singleAudience(assertion) {
		return nil, "audience is invalid"
	}
	audOK := false
	for _, a := range claims.Audience {
		a = strings.TrimSuffix(a, "/")
		audOK = audOK || a == s.instanceURL(r) || a == "https://login.salesforce.com" || a == "https://test.salesforce.com"
	}
	if !audOK {
		return nil, "audience is invalid"
	}
	u := s.org.User(claims.Subject)
	if u == nil || !u.IsActive {
		return nil, "user hasn't approved this consumer"
	}
	return u, ""
}

// --- query ------------------------------------------------------------------------------------

func apiPath(r *http.Request) string { return "/services/data/" + r.PathValue("v") }

func (s *Service) query(tooling bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query().Get("q")
		if q == "" {
			sfError(w, http.StatusBadRequest, "MALFORMED_QUERY", "A query string has to be specified")
			return
		}
		pq, err := parseSOQL(q)
		if err == nil {
			if c, verr := s.srv.Tokens.VerifySession(r, Audience); verr == nil {
				pq.user = c.Subject
			}
			var recs []map[string]any
			recs, err = s.run(pq, apiPath(r), tooling)
			if err == nil && pq.count {
				sandbox.WriteJSON(w, http.StatusOK, map[string]any{"totalSize": len(recs), "done": true, "records": []any{}})
				return
			}
			if err == nil {
				s.writePage(w, r, recs, len(recs))
				return
			}
		}
		var se *soqlError
		if errors.As(err, &se) {
			sfError(w, http.StatusBadRequest, se.code, se.msg)
			return
		}
		sfError(w, http.StatusInternalServerError, "UNKNOWN_EXCEPTION", "An unexpected error occurred.")
	}
}

// cursor is what a query locator keeps: the records not answered yet and the query's total.
type cursor struct {
	recs  []map[string]any
	total int
}

// writePage answers the first PageSize records and keeps the rest behind a query locator.
// totalSize is the query's total on every page, the first and those of nextRecordsUrl alike
// (REST API Developer Guide, "Execute a SOQL Query": "totalSize" is the total number of rows
// the query returns).
func (s *Service) writePage(w http.ResponseWriter, r *http.Request, recs []map[string]any, total int) {
	body := map[string]any{"totalSize": total, "done": true}
	page := recs
	if len(recs) > PageSize {
		page = recs[:PageSize]
		s.cursorMu.Lock()
		s.curSeq++
		loc := fmt.Sprintf("01g5g%010dSBX", s.curSeq)
		s.cursors[loc] = cursor{recs: recs[PageSize:], total: total}
		s.order = append(s.order, loc)
		if len(s.order) > 64 { // the real API keeps a limited number of open locators too
			delete(s.cursors, s.order[0])
			s.order = s.order[1:]
		}
		s.cursorMu.Unlock()
		body["done"] = false
		body["nextRecordsUrl"] = fmt.Sprintf("%s/query/%s-%d", apiPath(r), loc, total-len(recs)+PageSize)
	}
	body["records"] = page
	sandbox.WriteJSON(w, http.StatusOK, body)
}

func (s *Service) queryMore(w http.ResponseWriter, r *http.Request) {
	loc, _, _ := strings.Cut(r.PathValue("locator"), "-")
	s.cursorMu.Lock()
	c, ok := s.cursors[loc]
	if ok {
		delete(s.cursors, loc)
	}
	s.cursorMu.Unlock()
	if !ok {
		sfError(w, http.StatusBadRequest, "INVALID_QUERY_LOCATOR", "invalid query locator")
		return
	}
	s.writePage(w, r, c.recs, c.total)
}

// --- sObject rows -----------------------------------------------------------------------------

type recErr struct {
	StatusCode string   `json:"statusCode"`
	Message    string   `json:"message"`
	Fields     []string `json:"fields"`
}

var apiNameRe = regexp.MustCompile(`^[A-Za-z](?:[A-Za-z0-9]|_(?:[A-Za-z0-9]))*$`)

func fieldString(f map[string]any, k string) string { v, _ := f[k].(string); return v }

// create creates one record of type typ; commit=false only validates.
func (s *Service) create(typ string, f map[string]any, commit bool) (string, *recErr) {
	o := s.org
	known := func(allowed ...string) *recErr {
		for k := range f {
			if k == "attributes" {
				continue
			}
			ok := false
			for _, a := range allowed {
				ok = ok || a == k
			}
			if !ok {
				return &recErr{"INVALID_FIELD", fmt.Sprintf("No such column '%s' on sobject of type %s", k, typ), []string{k}}
			}
		}
		return nil
	}
	switch strings.ToLower(typ) {
	case "permissionset":
		if e := known(append([]string{"Name", "Label", "Description"}, permFields()...)...); e != nil {
			return "", e
		}
		name, label := fieldString(f, "Name"), fieldString(f, "Label")
		if name == "" || label == "" {
			return "", &recErr{"REQUIRED_FIELD_MISSING", "Required fields are missing: [Name, Label]", []string{"Name", "Label"}}
		}
		if !apiNameRe.MatchString(name) || len(name) > 80 {
			return "", &recErr{"INVALID_FIELD", "Name: The API name must begin with a letter, contain only letters, numbers and single underscores, and not end with an underscore.", []string{"Name"}}
		}
		if o.PermissionSet(name) != nil {
			return "", &recErr{"DUPLICATE_DEVELOPER_NAME", "The API name you entered is already in use.", []string{"Name"}}
		}
		ps := &PermissionSet{Name: name, Label: label, Description: fieldString(f, "Description"), Perms: map[string]bool{}}
		for _, p := range UserPermissions {
			v, _ := f["Permissions"+p].(bool)
			ps.Perms[p] = v
		}
		if commit {
			ps.ID = o.nextID("0PS")
			o.PermissionSets = append(o.PermissionSets, ps)
		}
		return ps.ID, nil
	case "permissionsetassignment":
		if e := known("AssigneeId", "PermissionSetId"); e != nil {
			return "", e
		}
		u, ps := o.User(fieldString(f, "AssigneeId")), o.PermissionSet(fieldString(f, "PermissionSetId"))
		if u == nil || ps == nil {
			return "", &recErr{"INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", []string{"AssigneeId", "PermissionSetId"}}
		}
		if ps.ProfileID != "" {
			return "", &recErr{"INVALID_CROSS_REFERENCE_KEY", "You can't assign a permission set that's owned by a profile.", []string{"PermissionSetId"}}
		}
		for _, a := range o.Assignments {
			if a.AssigneeID == u.ID && a.PermissionSetID == ps.ID {
				return "", &recErr{"DUPLICATE_VALUE", "Duplicate PermissionSetAssignment. Assignment already exists for " + u.Username, nil}
			}
		}
		a := &Assignment{AssigneeID: u.ID, PermissionSetID: ps.ID}
		if commit {
			a.ID = o.nextID("0Pa")
			o.Assignments = append(o.Assignments, a)
		}
		return a.ID, nil
	case "setupentityaccess":
		if e := known("ParentId", "SetupEntityId"); e != nil {
			return "", e
		}
		ps := o.PermissionSet(fieldString(f, "ParentId"))
		var app *ConnectedApp
		for _, a := range o.Apps {
			if SameID(a.ID, fieldString(f, "SetupEntityId")) && a.Installed {
				app = a
			}
		}
		if ps == nil || app == nil {
			return "", &recErr{"INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", []string{"ParentId", "SetupEntityId"}}
		}
		for _, e := range o.EntityAccess {
			if e.ParentID == ps.ID && e.SetupEntityID == app.ID {
				return "", &recErr{"DUPLICATE_VALUE", "duplicate value found: SetupEntityId duplicates value on record with id: " + e.ID, nil}
			}
		}
		e := &EntityAccess{ParentID: ps.ID, SetupEntityID: app.ID, SetupEntityType: "ConnectedApplication"}
		if commit {
			e.ID = o.nextID("0J0")
			o.EntityAccess = append(o.EntityAccess, e)
		}
		return e.ID, nil
	case "objectpermissions":
		if e := known(append([]string{"ParentId", "SobjectType"}, objectPermFields...)...); e != nil {
			return "", e
		}
		ps := o.PermissionSet(fieldString(f, "ParentId"))
		if ps == nil || !SameID(ps.ID, fieldString(f, "ParentId")) {
			return "", &recErr{"INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", []string{"ParentId"}}
		}
		if ps.ProfileID != "" {
			return "", &recErr{"INSUFFICIENT_ACCESS_OR_READONLY", "The object permissions of a standard profile cannot be edited.", []string{"ParentId"}}
		}
		typ := fieldString(f, "SobjectType")
		if !knownObject(typ) {
			return "", &recErr{"INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", "bad value for restricted picklist field: " + typ, []string{"SobjectType"}}
		}
		for _, op := range o.ObjectPerms {
			if op.ParentID == ps.ID && strings.EqualFold(op.SobjectType, typ) {
				return "", &recErr{"DUPLICATE_VALUE", "duplicate value found: <unknown> duplicates value on record with id: " + op.ID, nil}
			}
		}
		op := &ObjectPermission{ParentID: ps.ID, SobjectType: typ}
		if e := op.set(f); e != nil {
			return "", e
		}
		if commit {
			op.ID = o.nextID("110")
			o.ObjectPerms = append(o.ObjectPerms, op)
		}
		return op.ID, nil
	}
	return "", &recErr{"INVALID_TYPE", fmt.Sprintf("sObject type '%s' cannot be created through the sandbox", typ), nil}
}

// objectPermFields are ObjectPermissions' permission fields.
var objectPermFields = []string{"PermissionsRead", "PermissionsCreate", "PermissionsEdit", "PermissionsDelete", "PermissionsViewAllRecords", "PermissionsModifyAllRecords"}

func knownObject(typ string) bool {
	for _, t := range CustomObjectTypes {
		if t == typ {
			return true
		}
	}
	for _, t := range ObjectTypes {
		if t == typ {
			return true
		}
	}
	return false
}

// fields returns the row's permission fields by name.
func (op *ObjectPermission) fields() map[string]*bool {
	return map[string]*bool{"PermissionsRead": &op.Read, "PermissionsCreate": &op.Create, "PermissionsEdit": &op.Edit,
		"PermissionsDelete": &op.Delete, "PermissionsViewAllRecords": &op.ViewAll, "PermissionsModifyAllRecords": &op.ModifyAll}
}

// set applies the permission fields of f, then checks the dependencies Salesforce enforces.
func (op *ObjectPermission) set(f map[string]any) *recErr {
	fs := op.fields()
	for k, v := range f {
		p, ok := fs[k]
		if !ok {
			continue
		}
		b, ok := v.(bool)
		if !ok {
			return &recErr{"INVALID_FIELD", fmt.Sprintf("%s: value not of required type: %v", k, v), []string{k}}
		}
		*p = b
	}
	need := func(on bool, perm string, required ...string) *recErr {
		if !on {
			return nil
		}
		for _, r := range required {
			if !*fs["Permissions"+r] {
				return &recErr{"FIELD_INTEGRITY_EXCEPTION", fmt.Sprintf("Permission %s depends on permission(s): %s", perm, strings.Join(required, ", ")), []string{"Permissions" + perm}}
			}
		}
		return nil
	}
	for _, e := range []*recErr{
		need(op.Create, "Create", "Read"), need(op.Edit, "Edit", "Read"), need(op.Delete, "Delete", "Read", "Edit"),
		need(op.ViewAll, "ViewAllRecords", "Read"), need(op.ModifyAll, "ModifyAllRecords", "Read", "Edit", "Delete", "ViewAllRecords"),
	} {
		if e != nil {
			return e
		}
	}
	return nil
}

// remove deletes one record by id; commit=false only validates.
func (s *Service) remove(id string, commit bool) *recErr {
	o := s.org
	for i, a := range o.Assignments {
		if SameID(a.ID, id) {
			if commit {
				o.Assignments = append(o.Assignments[:i], o.Assignments[i+1:]...)
			}
			return nil
		}
	}
	for i, e := range o.EntityAccess {
		if SameID(e.ID, id) {
			if commit {
				o.EntityAccess = append(o.EntityAccess[:i], o.EntityAccess[i+1:]...)
			}
			return nil
		}
	}
	for i, op := range o.ObjectPerms {
		if SameID(op.ID, id) {
			if commit {
				o.ObjectPerms = append(o.ObjectPerms[:i], o.ObjectPerms[i+1:]...)
			}
			return nil
		}
	}
	for i, p := range o.PermissionSets {
		if !SameID(p.ID, id) {
			continue
		}
		id = p.ID
		if p.ProfileID != "" {
			return &recErr{"INSUFFICIENT_ACCESS_OR_READONLY", "A permission set owned by a profile cannot be deleted.", nil}
		}
		for _, a := range o.Assignments {
			if a.PermissionSetID == id {
				return &recErr{"DELETE_FAILED", "Your attempt to delete " + p.Name + " could not be completed because it is assigned to users.", nil}
			}
		}
		if commit {
			o.PermissionSets = append(o.PermissionSets[:i], o.PermissionSets[i+1:]...)
			kept := o.EntityAccess[:0]
			for _, e := range o.EntityAccess {
				if e.ParentID != id {
					kept = append(kept, e)
				}
			}
			o.EntityAccess = kept
			keptOP := o.ObjectPerms[:0]
			for _, op := range o.ObjectPerms {
				if op.ParentID != id {
					keptOP = append(keptOP, op)
				}
			}
			o.ObjectPerms = keptOP
		}
		return nil
	}
	return &recErr{"ENTITY_IS_DELETED", "entity is deleted", nil}
}

func readJSON(r *http.Request, v any) error {
	b, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// readObject reads a record's fields (a JSON object), answering JSON_PARSER_ERROR when the body
// is not one.
func readObject(w http.ResponseWriter, r *http.Request) (map[string]any, bool) {
	var f map[string]any
	if err := readJSON(r, &f); err != nil || f == nil {
		sfError(w, http.StatusBadRequest, "JSON_PARSER_ERROR", "The request body is not a JSON object.")
		return nil, false
	}
	return f, true
}

// unknownType answers 404 NOT_FOUND for a path naming an object the org does not have, as the
// REST API does for a resource that does not exist; it tells whether it answered.
func (s *Service) unknownType(w http.ResponseWriter, r *http.Request) bool {
	if s.knownSObject(r.PathValue("type")) {
		return false
	}
	sfError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
	return true
}

func (s *Service) createRecord(w http.ResponseWriter, r *http.Request) {
	if s.unknownType(w, r) {
		return
	}
	f, ok := readObject(w, r)
	if !ok {
		return
	}
	id, e := s.create(r.PathValue("type"), f, true)
	if e != nil {
		sfError(w, http.StatusBadRequest, e.StatusCode, e.Message)
		return
	}
	sandbox.WriteJSON(w, http.StatusCreated, map[string]any{"id": id, "success": true, "errors": []any{}})
}

func (s *Service) getRecord(w http.ResponseWriter, r *http.Request) {
	if s.unknownType(w, r) {
		return
	}
	q := &query{fields: nil, object: r.PathValue("type"), limit: -1, where: &cond{field: "Id", op: "=", vals: []any{r.PathValue("id")}}}
	objs := s.objects()
	obj := objs[strings.ToLower(q.object)]
	if obj == nil {
		sfError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return
	}
	q.fields = obj.fields
	recs, err := s.run(q, apiPath(r), false)
	if err != nil || len(recs) == 0 {
		sfError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return
	}
	sandbox.WriteJSON(w, http.StatusOK, recs[0])
}

func (s *Service) updateRecord(w http.ResponseWriter, r *http.Request) {
	if s.unknownType(w, r) {
		return
	}
	f, ok := readObject(w, r)
	if !ok {
		return
	}
	if e := s.update(r.PathValue("type"), r.PathValue("id"), f, true); e != nil {
		status := http.StatusBadRequest
		if e.StatusCode == "NOT_FOUND" {
			status = http.StatusNotFound
		}
		sfError(w, status, e.StatusCode, e.Message)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// update sets fields of one record (a PermissionSet's label, description and user permissions,
// an ObjectPermissions row's permissions); commit=false only validates.
func (s *Service) update(typ, id string, f map[string]any, commit bool) *recErr {
	switch {
	case strings.EqualFold(typ, "ObjectPermissions"):
		return s.updateObjectPermission(id, f, commit)
	case !strings.EqualFold(typ, "PermissionSet"):
		return &recErr{"INVALID_TYPE", "sObject type '" + typ + "' cannot be updated through the sandbox", []string{}}
	}
	ps := s.org.PermissionSet(id)
	if ps == nil || !SameID(ps.ID, id) {
		return &recErr{"NOT_FOUND", "The requested resource does not exist", []string{}}
	}
	if ps.ProfileID != "" {
		return &recErr{"INSUFFICIENT_ACCESS_OR_READONLY", "The permissions of a standard profile cannot be edited through this permission set.", []string{}}
	}
	next := *ps
	next.Perms = map[string]bool{}
	for k, v := range ps.Perms {
		next.Perms[k] = v
	}
	for k, v := range f {
		switch {
		case k == "attributes" || k == "id" || k == "Id":
		case k == "Name":
			// PermissionSet.Name is updateable (Create, Filter, Group, Sort, Update).
			name, ok := v.(string)
			if !ok || name == "" {
				return &recErr{"REQUIRED_FIELD_MISSING", "Required fields are missing: [Name]", []string{"Name"}}
			}
			if !apiNameRe.MatchString(name) || len(name) > 80 {
				return &recErr{"INVALID_FIELD", "Name: The API name must begin with a letter, contain only letters, numbers and single underscores, and not end with an underscore.", []string{"Name"}}
			}
			if other := s.org.PermissionSet(name); other != nil && other != ps {
				return &recErr{"DUPLICATE_DEVELOPER_NAME", "The API name you entered is already in use.", []string{"Name"}}
			}
			next.Name = name
		case k == "Label":
			s, ok := v.(string)
			if !ok || s == "" {
				return &recErr{"REQUIRED_FIELD_MISSING", "Required fields are missing: [Label]", []string{"Label"}}
			}
			next.Label = s
		case k == "Description":
			s, _ := v.(string)
			next.Description = s
		case strings.HasPrefix(k, "Permissions"):
			name := strings.TrimPrefix(k, "Permissions")
			b, ok := v.(bool)
			if _, known := next.Perms[name]; !known || !ok {
				return &recErr{"INVALID_FIELD", fmt.Sprintf("No such column '%s' on sobject of type PermissionSet", k), []string{k}}
			}
			next.Perms[name] = b
		default:
			return &recErr{"INVALID_FIELD", fmt.Sprintf("No such column '%s' on sobject of type PermissionSet", k), []string{k}}
		}
	}
	if commit {
		*ps = next
	}
	return nil
}

func (s *Service) updateObjectPermission(id string, f map[string]any, commit bool) *recErr {
	var op *ObjectPermission
	for _, x := range s.org.ObjectPerms {
		if SameID(x.ID, id) {
			op = x
		}
	}
	if op == nil {
		return &recErr{"NOT_FOUND", "The requested resource does not exist", []string{}}
	}
	for k := range f {
		if _, ok := op.fields()[k]; !ok && k != "attributes" && k != "id" && k != "Id" {
			// ParentId and SobjectType cannot be updated (Create, Filter only).
			return &recErr{"INVALID_FIELD_FOR_INSERT_UPDATE", fmt.Sprintf("Unable to create/update fields: %s. Please check the security settings of this field and verify that it is read/write for your profile or permission set.", k), []string{k}}
		}
	}
	next := *op
	if e := next.set(f); e != nil {
		return e
	}
	if commit {
		*op = next
	}
	return nil
}

func (s *Service) deleteRecord(w http.ResponseWriter, r *http.Request) {
	if s.unknownType(w, r) {
		return
	}
	if e := s.remove(r.PathValue("id"), true); e != nil {
		status := http.StatusBadRequest
		if e.StatusCode == "ENTITY_IS_DELETED" {
			status = http.StatusNotFound
		}
		sfError(w, status, e.StatusCode, e.Message)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// --- sObject Collections ----------------------------------------------------------------------

const collectionLimit = 200

type saveResult struct {
	ID      *string  `json:"id"`
	Success bool     `json:"success"`
	Errors  []recErr `json:"errors"`
}

// result is one record's save result. A failed one carries "fields": [] when the error names no
// field, as Salesforce answers (never null: REST API Developer Guide, "sObject Collections",
// example responses; jsforce's SaveError type declares fields as string[]).
func result(id string, e *recErr) saveResult {
	if e != nil {
		err := *e
		if err.Fields == nil {
			err.Fields = []string{}
		}
		return saveResult{Errors: []recErr{err}}
	}
	return saveResult{ID: &id, Success: true, Errors: []recErr{}}
}

func rollback(results []saveResult) {
	for i := range results {
		if results[i].Success {
			results[i] = saveResult{Errors: []recErr{{"ALL_OR_NONE_OPERATION_ROLLED_BACK", "Record rolled back because not all records were valid and the request was using AllOrNone header", []string{}}}}
		}
	}
}

// collectionBody is the body of a composite sobjects create or update request.
type collectionBody struct {
	AllOrNone bool             `json:"allOrNone"`
	Records   []map[string]any `json:"records"`
}

// readCollection reads a composite sobjects create or update body, answering Salesforce's error
// (bad JSON, more than 200 records) itself when it cannot be served; create and update reject
// the same bodies in the same way.
func readCollection(w http.ResponseWriter, r *http.Request) (collectionBody, bool) {
	var body collectionBody
	if err := readJSON(r, &body); err != nil {
		sfError(w, http.StatusBadRequest, "JSON_PARSER_ERROR", "The request body is not valid JSON: "+err.Error())
		return body, false
	}
	if len(body.Records) > collectionLimit {
		sfError(w, http.StatusBadRequest, "EXCEEDED_ID_LIMIT", "record limit reached. cannot submit more than 200 records into this call")
		return body, false
	}
	return body, true
}

func (s *Service) collectionCreate(w http.ResponseWriter, r *http.Request) {
	body, ok := readCollection(w, r)
	if !ok {
		return
	}
	typeOf := func(rec map[string]any) string {
		a, _ := rec["attributes"].(map[string]any)
		t, _ := a["type"].(string)
		return t
	}
	// Records are created in order, each seeing those before it (a duplicate within the request
	// is a duplicate); with allOrNone, any failure undoes the request's creates.
	results := make([]saveResult, len(body.Records))
	failed := false
	var created []string
	for i, rec := range body.Records {
		t := typeOf(rec)
		if t == "" {
			results[i] = result("", &recErr{"INVALID_TYPE", "Must send a concrete entity type.", nil})
			failed = true
			continue
		}
		id, e := s.create(t, rec, true)
		results[i] = result(id, e)
		if e != nil {
			failed = true
		} else {
			created = append(created, id)
		}
	}
	if body.AllOrNone && failed {
		for i := len(created) - 1; i >= 0; i-- {
			_ = s.remove(created[i], true)
		}
		rollback(results)
	}
	sandbox.WriteJSON(w, http.StatusOK, results)
}

func (s *Service) collectionDelete(w http.ResponseWriter, r *http.Request) {
	raw := r.URL.Query().Get("ids")
	if raw == "" {
		sfError(w, http.StatusBadRequest, "MISSING_ARGUMENT", "ids parameter is required")
		return
	}
	ids := strings.Split(raw, ",")
	if len(ids) > collectionLimit {
		sfError(w, http.StatusBadRequest, "EXCEEDED_ID_LIMIT", "record limit reached. cannot submit more than 200 records into this call")
		return
	}
	allOrNone, _ := strconv.ParseBool(r.URL.Query().Get("allOrNone"))
	results := make([]saveResult, len(ids))
	failed := false
	for i, id := range ids {
		e := s.remove(id, !allOrNone)
		results[i] = result(id, e)
		failed = failed || e != nil
	}
	if allOrNone {
		if failed {
			rollback(results)
		} else {
			for _, id := range ids {
				s.remove(id, true)
			}
		}
	}
	sandbox.WriteJSON(w, http.StatusOK, results)
}

// collectionUpdate answers PATCH .../composite/sobjects: {"allOrNone", "records": [{"attributes":
// {"type"}, "id", fields...}]}, at most 200, each answered by a save result in order; with
// allOrNone nothing is changed unless every record can be (REST API Developer Guide, "Update
// Multiple Records": https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_composite_sobjects_collections_update.htm).
func (s *Service) collectionUpdate(w http.ResponseWriter, r *http.Request) {
	body, ok := readCollection(w, r)
	if !ok {
		return
	}
	results := make([]saveResult, len(body.Records))
	failed := false
	for pass := 0; pass < 2; pass++ {
		commit := pass == 1 || !body.AllOrNone
		for i, rec := range body.Records {
			a, _ := rec["attributes"].(map[string]any)
			typ, _ := a["type"].(string)
			id, _ := rec["id"].(string)
			var e *recErr
			switch {
			case typ == "":
				e = &recErr{"INVALID_TYPE", "Must send a concrete entity type.", []string{}}
			case id == "":
				e = &recErr{"MISSING_ARGUMENT", "Id not specified in an update call", []string{}}
			default:
				e = s.update(typ, id, rec, commit)
			}
			if e != nil && e.StatusCode == "NOT_FOUND" {
				e = &recErr{"ENTITY_IS_DELETED", "entity is deleted", []string{}}
			}
			results[i] = result(id, e)
			failed = failed || e != nil
		}
		if commit {
			break
		}
		if failed {
			rollback(results)
			break
		}
	}
	sandbox.WriteJSON(w, http.StatusOK, results)
}

// collectionRetrieve answers GET .../composite/sobjects/{type}?ids=...&fields=... (at most 200
// ids in the URL) and POST with {"ids": [...], "fields": [...]} (at most 2,000): the records in
// the order of ids, null for an id that names no record (REST API Developer Guide, "Get Multiple
// Records": https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_composite_sobjects_collections_retrieve.htm).
func (s *Service) collectionRetrieve(w http.ResponseWriter, r *http.Request) {
	if s.unknownType(w, r) {
		return
	}
	var ids, fields []string
	limit := collectionLimit
	if r.Method == http.MethodPost {
		var body struct {
			IDs    []string `json:"ids"`
			Fields []string `json:"fields"`
		}
		if err := readJSON(r, &body); err != nil {
			sfError(w, http.StatusBadRequest, "JSON_PARSER_ERROR", "The request body is not valid JSON: "+err.Error())
			return
		}
		ids, fields, limit = body.IDs, body.Fields, 2000
	} else {
		if v := r.URL.Query().Get("ids"); v != "" {
			ids = strings.Split(v, ",")
		}
		if v := r.URL.Query().Get("fields"); v != "" {
			fields = strings.Split(v, ",")
		}
	}
	if len(ids) == 0 || len(fields) == 0 {
		// The body is assumed: the guide names both parameters required.
		sfError(w, http.StatusBadRequest, "MISSING_ARGUMENT", "The ids and fields parameters are required")
		return
	}
	if len(ids) > limit {
		sfError(w, http.StatusBadRequest, "EXCEEDED_ID_LIMIT", fmt.Sprintf("record limit reached. cannot submit more than %d records into this call", limit))
		return
	}
	obj := s.objects()[strings.ToLower(r.PathValue("type"))]
	if obj == nil {
		sfError(w, http.StatusBadRequest, "INVALID_TYPE", "sObject type '"+r.PathValue("type")+"' cannot be retrieved through the sandbox")
		return
	}
	vals := make([]any, len(ids))
	for i, id := range ids {
		vals[i] = strings.TrimSpace(id)
	}
	q := &query{fields: fields, object: obj.name, limit: -1, where: &cond{field: "Id", op: "IN", vals: vals}}
	recs, err := s.run(q, apiPath(r), false)
	var se *soqlError
	if errors.As(err, &se) {
		sfError(w, http.StatusBadRequest, se.code, se.msg)
		return
	}
	if err != nil {
		sfError(w, http.StatusInternalServerError, "UNKNOWN_EXCEPTION", "An unexpected error occurred.")
		return
	}
	out := make([]any, len(ids))
	for i, id := range ids {
		id = strings.TrimSpace(id)
		for _, rec := range recs {
			a, _ := rec["attributes"].(map[string]any)
			u, _ := a["url"].(string)
			if full := u[strings.LastIndex(u, "/")+1:]; SameID(full, id) {
				out[i] = rec
			}
		}
	}
	sandbox.WriteJSON(w, http.StatusOK, out)
}
