package graphapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"time"

	"github.com/c4sctl/c4sctl/pkg/sandbox"
)

type ctxKey int

const claimsKey ctxKey = 1

// graphError writes Graph's error body; innerError carries the answer's request ids
// (requestIDs set them on the headers).
func graphError(w http.ResponseWriter, status int, code, msg string) {
	rid, cid := w.Header().Get("request-id"), w.Header().Get("client-request-id")
	if rid == "" {
		rid = newRequestID()
	}
	if cid == "" {
		cid = rid
	}
	sandbox.WriteJSON(w, status, map[string]any{"error": map[string]any{
		"code": code, "message": msg,
		"innerError": map[string]any{"date": time.Now().UTC().Format("2006-01-02T15:04:05"), "request-id": rid, "client-request-id": cid},
	}})
}

func notFound(w http.ResponseWriter, id string) {
	graphError(w, http.StatusNotFound, "Request_ResourceNotFound", fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", id))
}

// Register adds the routes and grants the sandbox's c4sctl app its Graph application permissions.
func (s *Service) Register(r *sandbox.Router) {
	s.srv = r.Server()
	r.Server().Apps().GrantRoles(sandbox.ClientID, Audience, GraphRoles...)
	s.inner = http.NewServeMux()
	read := []string{"User.Read.All", "Directory.Read.All"}
	groupRead := []string{"GroupMember.Read.All", "Group.Read.All", "Directory.Read.All"}
	lic := []string{"LicenseAssignment.ReadWrite.All", "User.ReadWrite.All", "Directory.ReadWrite.All"}
	skus := []string{"Organization.Read.All", "Organization.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
	roles := []string{"RoleManagement.Read.Directory", "Directory.Read.All"}
	pkgs := []string{"CopilotPackages.Read.All", "CopilotPackages.ReadWrite.All"}
	for _, v := range []string{"v1.0", "beta"} {
		s.route(r, "GET", v, "/users", read, s.listUsers)
		s.route(r, "GET", v, "/users/{id}", read, s.getUser)
		s.route(r, "GET", v, "/users/{id}/licenseDetails", read, s.licenseDetails)
		s.route(r, "POST", v, "/users/{id}/assignLicense", lic, s.assignUser)
		s.route(r, "POST", v, "/users/{id}/sendMail", []string{"Mail.Send"}, s.sendMail)
		s.route(r, "GET", v, "/groups", groupRead, s.listGroups)
		s.route(r, "GET", v, "/groups/{id}", groupRead, s.getGroup)
		s.route(r, "GET", v, "/groups/{id}/members", groupRead, s.members)
		s.route(r, "POST", v, "/groups/{id}/assignLicense", lic, s.assignGroup)
		s.route(r, "GET", v, "/subscribedSkus", skus, s.subscribedSkus)
		s.route(r, "GET", v, "/directoryRoles", roles, s.directoryRoles)
		s.route(r, "GET", v, "/directoryRoles/{id}/members", roles, s.roleMembers)
		s.route(r, "GET", v, "/servicePrincipals/{id}/memberOf", []string{"Application.Read.All", "Directory.Read.All"}, s.memberOf)
		s.route(r, "GET", v, "/appCatalogs/teamsApps", []string{"AppCatalog.Read.All", "AppCatalog.ReadWrite.All", "Directory.Read.All"}, s.teamsApps)
		s.route(r, "GET", v, "/copilot/admin/catalog/packages", pkgs, s.listPackages)
		s.route(r, "GET", v, "/copilot/admin/catalog/packages/{id}", pkgs, s.getPackage)
		s.route(r, "PATCH", v, "/copilot/admin/catalog/packages/{id}", []string{"CopilotPackages.ReadWrite.All"}, s.patchPackage)
		s.route(r, "GET", v, "/admin/teams/userConfigurations", []string{"TeamsUserConfiguration.Read.All"}, s.listUserConfigurations)
		s.route(r, "GET", v, "/admin/teams/userConfigurations/{id}", []string{"TeamsUserConfiguration.Read.All"}, s.getUserConfiguration)
		ver := v
		r.HandleUnlocked("POST /"+ver+"/$batch", func(w http.ResponseWriter, req *http.Request) { s.batch(w, req, ver) })
	}
}

func (s *Service) route(r *sandbox.Router, method, ver, path string, perms []string, fn http.HandlerFunc) {
	h := s.guard(perms, fn)
	r.Handle(method+" /"+ver+path, h)
	s.inner.HandleFunc(method+" /graph/"+ver+path, h)
}

func (s *Service) guard(perms []string, fn http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		requestIDs(w, r)
		claims, inBatch := r.Context().Value(claimsKey).(*sandbox.Claims)
		if !inBatch {
			if take(&s.throttle) {
				after := strconv.FormatInt(s.retryAfter.Load(), 10)
				w.Header().Set("Retry-After", after)
				graphError(w, http.StatusTooManyRequests, "TooManyRequests", "Too many requests. Retry after "+after+" seconds.")
				return
			}
			var err error
			claims, err = s.verify(w, r)
			if err != nil {
				return
			}
		}
		if !hasAny(claims.Roles, perms) {
			graphError(w, http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation. The application needs one of these permissions: "+strings.Join(perms, ", ")+".")
			return
		}
		fn(w, r)
	}
}

func (s *Service) verify(w http.ResponseWriter, r *http.Request) (*sandbox.Claims, error) {
	claims, err := s.srv.Tokens.Verify(r, Audience, AudienceAppID)
	switch {
	case errors.Is(err, sandbox.ErrNoToken):
		graphError(w, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token is empty.")
	case errors.Is(err, sandbox.ErrWrongAudience):
		graphError(w, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience.")
	case err != nil:
		graphError(w, http.StatusUnauthorized, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired.")
	case claims.TenantID != sandbox.TenantID:
		graphError(w, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token validation failure. Invalid tenant.")
		err = errors.New("tenant")
	}
	return claims, err
}

func hasAny(have, want []string) bool {
	for _, h := range have {
		for _, w := range want {
			if strings.EqualFold(h, w) {
				return true
			}
		}
	}
	return false
}

// ---- query options ----

type cond struct{ field, value string }

// parseFilter understands `field eq 'value'` clauses joined by `and` (the subset c4sctl sends).
func parseFilter(f string) ([]cond, error) {
	if strings.TrimSpace(f) == "" {
		return nil, nil
	}
	var out []cond
	rest := strings.TrimSpace(f)
	for rest != "" {
		field, after, ok := strings.Cut(rest, " ")
		if !ok {
			return nil, fmt.Errorf("invalid filter clause")
		}
		after = strings.TrimLeft(after, " ")
		op, after, ok := strings.Cut(after, " ")
		if !ok || !strings.EqualFold(op, "eq") {
			return nil, fmt.Errorf("unsupported filter operator %q", op)
		}
		after = strings.TrimLeft(after, " ")
		if !strings.HasPrefix(after, "'") {
			return nil, fmt.Errorf("expected a quoted string after eq")
		}
		var val strings.Builder
		i := 1
		for ; i < len(after); i++ {
			if after[i] == '\'' {
				if i+1 < len(after) && after[i+1] == '\'' {
					val.WriteByte('\'')
					i++
					continue
				}
				break
			}
			val.WriteByte(after[i])
		}
		if i >= len(after) {
			return nil, fmt.Errorf("unterminated string")
		}
		out = append(out, cond{field, val.String()})
		rest = strings.TrimSpace(after[i+1:])
		if rest == "" {
			break
		}
		and, r2, ok := strings.Cut(rest, " ")
		if !ok || !strings.EqualFold(and, "and") {
			return nil, fmt.Errorf("only 'and' joins filter clauses here")
		}
		rest = strings.TrimSpace(r2)
	}
	return out, nil
}

func matches(obj map[string]any, conds []cond) (bool, error) {
	for _, c := range conds {
		v, ok := obj[c.field]
		if !ok {
			return false, &filterError{c.field}
		}
		sv, _ := v.(string)
		if !strings.EqualFold(sv, c.value) {
			return false, nil
		}
	}
	return true, nil
}

// filterError names the property of a clause the sandbox does not filter on.
type filterError struct{ prop string }

func (e *filterError) Error() string { return "property '" + e.prop + "' cannot be filtered on" }

// selectKeys returns the properties $select asks for, or the defaults.
func selectKeys(sel string, defaults []string) []string {
	if strings.TrimSpace(sel) == "" {
		return defaults
	}
	keys := strings.Split(sel, ",")
	for i := range keys {
		keys[i] = strings.TrimSpace(keys[i])
	}
	return keys
}

func project(obj map[string]any, sel string, defaults []string) map[string]any {
	return projectKeys(obj, selectKeys(sel, defaults), false)
}

// projectKeys keeps the keys of obj (null for a property without a value, as Graph answers a
// selected property that is not set) and, with withType, its @odata.type: Graph annotates the
// items of a directoryObject collection (members, memberOf) with their derived type, and adds
// nothing else a $select did not ask for (not even id). Source: Learn "Use query parameters"
// ($select), group-list-members (the @odata.type of each member).
func projectKeys(obj map[string]any, keys []string, withType bool) map[string]any {
	out := make(map[string]any, len(keys)+1)
	for _, k := range keys {
		out[k] = obj[k]
	}
	if t, ok := obj["@odata.type"]; ok && withType {
		out["@odata.type"] = t
	}
	return out
}

// page answers one page of items with an @odata.nextLink when more remain.
func page(w http.ResponseWriter, r *http.Request, total int, item func(i int) map[string]any, defTop int) {
	q := r.URL.Query()
	top := defTop
	if t := q.Get("$top"); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 1 || n > 999 {
			graphError(w, http.StatusBadRequest, "Request_BadRequest", fmt.Sprintf("Invalid page size specified: '%s'. Must be between 1 and 999 inclusive.", t))
			return
		}
		top = n
	}
	start := 0
	if tok := q.Get("$skiptoken"); tok != "" {
		b, err := base64.RawURLEncoding.DecodeString(tok)
		n, err2 := strconv.Atoi(strings.TrimPrefix(string(b), "o="))
		if err != nil || err2 != nil || n < 0 {
			graphError(w, http.StatusBadRequest, "Request_BadRequest", "The specified page token value has expired or is invalid.")
			return
		}
		start = n
	}
	n := max(0, min(total, start+top)-start)
	next := ""
	if start+top < total {
		q.Set("$skiptoken", base64.RawURLEncoding.EncodeToString([]byte("o="+strconv.Itoa(start+top))))
		q.Set("$top", strconv.Itoa(top))
		next = "https://" + r.Host + r.URL.Path + "?" + q.Encode()
	}
	writePage(w, "https://graph.microsoft.com/v1.0/$metadata", next, n, func(i int) map[string]any { return item(start + i) })
}

// filteredPage applies $select and $filter to a list of objects of type t and pages the result.
// A filter the sandbox cannot read or apply answers as Graph does: a clause on a property it
// does not filter on is Request_UnsupportedQuery naming the property; a clause it cannot parse
// is 400 BadRequest "Invalid filter clause" (Graph's answer to a malformed clause, quoted in
// microsoftgraph/msgraph-sdk-dotnet#1190 and microsoftgraph-postman-collections#41).
func filteredPage(w http.ResponseWriter, r *http.Request, n int, obj func(i int) map[string]any, t *gtype, sel []string, defTop int) {
	keys, ok := selected(w, r, sel, t)
	if !ok {
		return
	}
	conds, err := parseFilter(r.URL.Query().Get("$filter"))
	if err != nil {
		graphError(w, http.StatusBadRequest, "BadRequest", "Invalid filter clause")
		return
	}
	for _, c := range conds {
		if !t.props[c.field] {
			unsupportedFilter(w, t, c.field)
			return
		}
	}
	if len(conds) == 0 {
		page(w, r, n, func(i int) map[string]any { return projectKeys(obj(i), keys, false) }, defTop)
		return
	}
	var hits []map[string]any
	for i := 0; i < n; i++ {
		o := obj(i)
		ok, err := matches(o, conds)
		var fe *filterError
		if errors.As(err, &fe) {
			unsupportedFilter(w, t, fe.prop)
			return
		}
		if ok {
			hits = append(hits, o)
		}
	}
	page(w, r, len(hits), func(i int) map[string]any { return projectKeys(hits[i], keys, false) }, defTop)
}

// ---- users ----

var userDefault = []string{"id", "displayName", "userPrincipalName", "mail", "givenName", "surname", "jobTitle", "businessPhones"}

func (s *Service) userJSON(u *User) map[string]any {
	out := make(map[string]any, len(userFields)+1)
	out["@odata.type"] = "#microsoft.graph.user"
	for k, f := range userFields {
		out[k] = f(s, u)
	}
	return out
}

// userFields are a user's properties, each built only when asked for: a page of 999 members
// with $select builds just the selected ones.
var userFields = map[string]func(*Service, *User) any{
	"id":                func(_ *Service, u *User) any { return u.ID },
	"displayName":       func(_ *Service, u *User) any { return u.DisplayName },
	"userPrincipalName": func(_ *Service, u *User) any { return u.UPN },
	"mail":              func(_ *Service, u *User) any { return u.UPN },
	"givenName":         func(_ *Service, u *User) any { first, _, _ := strings.Cut(u.DisplayName, " "); return first },
	"surname":           func(_ *Service, u *User) any { _, last, _ := strings.Cut(u.DisplayName, " "); return last },
	"jobTitle":          func(*Service, *User) any { return nil },
	"businessPhones":    func(*Service, *User) any { return []string{} },
	"accountEnabled":    func(*Service, *User) any { return true },
	"usageLocation": func(_ *Service, u *User) any {
		if u.UsageLocation == "" {
			return nil
		}
		return u.UsageLocation
	},
	"assignedLicenses": func(s *Service, u *User) any {
		lics := []map[string]any{}
		for _, l := range s.t.licenses(u) {
			lics = append(lics, map[string]any{"skuId": l.SkuID, "disabledPlans": nonNil(l.DisabledPlans)})
		}
		return lics
	},
	"licenseAssignmentStates": func(s *Service, u *User) any {
		states := []map[string]any{}
		for _, l := range s.t.licenses(u) {
			var by any
			if l.Group != "" {
				by = l.Group
			}
			states = append(states, map[string]any{"skuId": l.SkuID, "disabledPlans": nonNil(l.DisabledPlans), "assignedByGroup": by, "state": "Active", "error": "None"})
		}
		return states
	},
}

// userSelected is project(s.userJSON(u), ..., keys) building only the selected properties; keys
// come from selectKeys.
func (s *Service) userSelected(u *User, keys []string) map[string]any {
	out := make(map[string]any, len(keys)+1)
	for _, k := range keys {
		if f, ok := userFields[k]; ok {
			out[k] = f(s, u)
		} else {
			out[k] = nil
		}
	}
	out["@odata.type"] = "#microsoft.graph.user"
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (s *Service) listUsers(w http.ResponseWriter, r *http.Request) {
	filteredPage(w, r, len(s.t.Users), func(i int) map[string]any { return s.userJSON(s.t.Users[i]) }, userType, userDefault, 100)
}

func (s *Service) getUser(w http.ResponseWriter, r *http.Request) {
	keys, ok := selected(w, r, userDefault, userType) // the query is read before the object is looked up
	if !ok {
		return
	}
	u := s.t.user(r.PathValue("id"))
	if u == nil {
		notFound(w, r.PathValue("id"))
		return
	}
	sandbox.WriteJSON(w, http.StatusOK, projectKeys(s.userJSON(u), keys, false))
}

func (s *Service) licenseDetails(w http.ResponseWriter, r *http.Request) {
	u := s.t.user(r.PathValue("id"))
	if u == nil {
		notFound(w, r.PathValue("id"))
		return
	}
	out := []any{}
	for _, l := range s.t.licenses(u) {
		sku := s.t.sku(l.SkuID)
		if sku == nil {
			continue
		}
		disabled := map[string]bool{}
		for _, d := range l.DisabledPlans {
			disabled[strings.ToLower(d)] = true
		}
		plans := []any{}
		for _, p := range sku.ServicePlans {
			st := "Success"
			if disabled[strings.ToLower(p.ID)] {
				st = "Disabled"
			}
			plans = append(plans, map[string]any{"servicePlanId": p.ID, "servicePlanName": p.Name, "provisioningStatus": st, "appliesTo": "User"})
		}
		out = append(out, map[string]any{"id": u.ID + "_" + sku.SkuID, "skuId": sku.SkuID, "skuPartNumber": sku.SkuPartNumber, "servicePlans": plans})
	}
	sandbox.WriteJSON(w, http.StatusOK, map[string]any{"value": out})
}

type assignBody struct {
	AddLicenses    *[]License `json:"addLicenses"`
	RemoveLicenses *[]string  `json:"removeLicenses"`
}

func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	b, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	if err == nil {
		err = json.Unmarshal(b, v)
	}
	if err != nil {
		graphError(w, http.StatusBadRequest, "BadRequest", "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.")
		return false
	}
	return true
}

func (s *Service) parseAssign(w http.ResponseWriter, r *http.Request) (*assignBody, bool) {
	var body assignBody
	if !readJSON(w, r, &body) {
		return nil, false
	}
	var missing []string
	if body.AddLicenses == nil {
		missing = append(missing, "addLicenses")
	}
	if body.RemoveLicenses == nil {
		missing = append(missing, "removeLicenses")
	}
	if len(missing) > 0 {
		graphError(w, http.StatusBadRequest, "Request_BadRequest", "One or more parameters of the function import 'assignLicense' are missing from the request payload. The missing parameters are: "+strings.Join(missing, ", ")+".")
		return nil, false
	}
	for _, l := range *body.AddLicenses {
		sku := s.t.sku(l.SkuID)
		if sku == nil {
			graphError(w, http.StatusBadRequest, "Request_BadRequest", fmt.Sprintf("License %s does not correspond to a valid company License.", l.SkuID))
			return nil, false
		}
		for _, d := range l.DisabledPlans {
			ok := false
			for _, p := range sku.ServicePlans {
				ok = ok || strings.EqualFold(p.ID, d)
			}
			if !ok {
				graphError(w, http.StatusBadRequest, "Request_BadRequest", fmt.Sprintf("Service plan %s is not part of the license %s.", d, sku.SkuID))
				return nil, false
			}
		}
	}
	for _, id := range *body.RemoveLicenses {
		if s.t.sku(id) == nil {
			graphError(w, http.StatusBadRequest, "Request_BadRequest", fmt.Sprintf("License %s does not correspond to a valid company License.", id))
			return nil, false
		}
	}
	return &body, true
}

func seatsError(w http.ResponseWriter, sku string) {
	graphError(w, http.StatusBadRequest, "Request_BadRequest", fmt.Sprintf("Subscription with SKU %s does not have any available licenses.", sku))
}

func (s *Service) assignUser(w http.ResponseWriter, r *http.Request) {
	u := s.t.user(r.PathValue("id"))
	if u == nil {
		notFound(w, r.PathValue("id"))
		return
	}
	body, ok := s.parseAssign(w, r)
	if !ok {
		return
	}
	if len(*body.AddLicenses) > 0 && u.UsageLocation == "" {
		graphError(w, http.StatusBadRequest, "Request_BadRequest", "License assignment cannot be done for user with invalid usage location.")
		return
	}
	for _, l := range *body.AddLicenses {
		sku := s.t.sku(l.SkuID)
		if !s.t.hasSku(u, sku.SkuID) && s.t.Consumed(sku.SkuID) >= sku.Enabled {
			seatsError(w, sku.SkuID)
			return
		}
	}
	before := s.t.effectiveSkus(u)
	for _, id := range *body.RemoveLicenses {
		out := u.Licenses[:0]
		for _, l := range u.Licenses {
			if !strings.EqualFold(l.SkuID, id) {
				out = append(out, l)
			}
		}
		u.Licenses = out
	}
	for _, l := range *body.AddLicenses {
		l.DisabledPlans = nonNil(l.DisabledPlans)
		replaced := false
		for i := range u.Licenses {
			if strings.EqualFold(u.Licenses[i].SkuID, l.SkuID) {
				u.Licenses[i].DisabledPlans = l.DisabledPlans
				replaced = true
			}
		}
		if !replaced {
			u.Licenses = append(u.Licenses, License{SkuID: strings.ToLower(l.SkuID), DisabledPlans: l.DisabledPlans})
		}
	}
	for _, sk := range before {
		s.t.consumed[strings.ToLower(sk)]--
	}
	for _, sk := range s.t.effectiveSkus(u) {
		s.t.consumed[strings.ToLower(sk)]++
	}
	sandbox.WriteJSON(w, http.StatusOK, project(s.userJSON(u), "", userDefault))
}

func (s *Service) sendMail(w http.ResponseWriter, r *http.Request) {
	u := s.t.user(r.PathValue("id"))
	if u == nil {
		notFound(w, r.PathValue("id"))
		return
	}
	if !s.t.hasSku(u, E5SkuID) {
		graphError(w, http.StatusNotFound, "MailboxNotEnabledForRESTAPI", "The mailbox is either inactive, soft-deleted, or is hosted on-premise.")
		return
	}
	var body struct {
		Message struct {
			Subject string `json:"subject"`
			Body    struct {
				ContentType string `json:"contentType"`
				Content     string `json:"content"`
			} `json:"body"`
			ToRecipients []struct {
				EmailAddress struct {
					Address string `json:"address"`
				} `json:"emailAddress"`
			} `json:"toRecipients"`
		} `json:"message"`
	}
	if !readJSON(w, r, &body) {
		return
	}
	var to []string
	for _, rc := range body.Message.ToRecipients {
		if rc.EmailAddress.Address == "" || !strings.Contains(rc.EmailAddress.Address, "@") {
			graphError(w, http.StatusBadRequest, "ErrorInvalidRecipients", "At least one recipient isn't valid.")
			return
		}
		to = append(to, rc.EmailAddress.Address)
	}
	if len(to) == 0 {
		graphError(w, http.StatusBadRequest, "ErrorInvalidRecipients", "At least one recipient is required, but none were found.")
		return
	}
	s.t.Mail = append(s.t.Mail, Message{From: u.UPN, To: to, Subject: body.Message.Subject, ContentType: body.Message.Body.ContentType, Body: body.Message.Body.Content, At: time.Now().UTC()})
	w.WriteHeader(http.StatusAccepted)
}

// ---- groups ----

var groupDefault = []string{"id", "displayName", "mail", "description", "securityEnabled", "mailEnabled", "groupTypes"}

func groupJSON(g *Group) map[string]any {
	lics := []map[string]any{}
	for _, l := range g.Licenses {
		lics = append(lics, map[string]any{"skuId": l.SkuID, "disabledPlans": nonNil(l.DisabledPlans)})
	}
	return map[string]any{"@odata.type": "#microsoft.graph.group", "id": g.ID, "displayName": g.DisplayName, "mail": g.Mail, "description": nil,
		"securityEnabled": true, "mailEnabled": g.Mail != "", "groupTypes": []string{}, "assignedLicenses": lics}
}

func (s *Service) listGroups(w http.ResponseWriter, r *http.Request) {
	filteredPage(w, r, len(s.t.Groups), func(i int) map[string]any { return groupJSON(s.t.Groups[i]) }, groupType, groupDefault, 100)
}

func (s *Service) getGroup(w http.ResponseWriter, r *http.Request) {
	keys, ok := selected(w, r, groupDefault, groupType) // the query is read before the object is looked up
	if !ok {
		return
	}
	g := s.t.group(r.PathValue("id"))
	if g == nil {
		notFound(w, r.PathValue("id"))
		return
	}
	sandbox.WriteJSON(w, http.StatusOK, projectKeys(groupJSON(g), keys, false))
}

func (s *Service) members(w http.ResponseWriter, r *http.Request) {
	g := s.t.group(r.PathValue("id"))
	if g == nil {
		notFound(w, r.PathValue("id"))
		return
	}
	if f := r.URL.Query().Get("$filter"); f != "" {
		// Filtering members needs the advanced query parameters (ConsistencyLevel: eventual and
		// $count), which the sandbox does not emulate: it answers as Graph does without them.
		prop, _, _ := strings.Cut(strings.TrimSpace(f), " ")
		unsupportedFilter(w, userType, prop)
		return
	}
	keys, ok := selected(w, r, userDefault, userType, groupType)
	if !ok {
		return
	}
	page(w, r, len(g.Members), func(i int) map[string]any {
		u := s.t.byID[g.Members[i]]
		if u == nil {
			return projectKeys(map[string]any{"@odata.type": "#microsoft.graph.directoryObject", "id": g.Members[i]}, keys, true)
		}
		return s.userSelected(u, keys)
	}, 100)
}

func (s *Service) assignGroup(w http.ResponseWriter, r *http.Request) {
	g := s.t.group(r.PathValue("id"))
	if g == nil {
		notFound(w, r.PathValue("id"))
		return
	}
	body, ok := s.parseAssign(w, r)
	if !ok {
		return
	}
	for _, l := range *body.AddLicenses {
		sku := s.t.sku(l.SkuID)
		need := 0
		for _, m := range g.Members {
			if u := s.t.byID[m]; u != nil && !s.t.hasSku(u, sku.SkuID) {
				need++
			}
		}
		if need > sku.Enabled-s.t.Consumed(sku.SkuID) {
			// Real Graph accepts and leaves members in error (CountViolation); the sandbox refuses
			// up front so that seats never go negative.
			seatsError(w, sku.SkuID)
			return
		}
	}
	for _, id := range *body.RemoveLicenses {
		out := g.Licenses[:0]
		for _, l := range g.Licenses {
			if !strings.EqualFold(l.SkuID, id) {
				out = append(out, l)
			}
		}
		g.Licenses = out
	}
	for _, l := range *body.AddLicenses {
		replaced := false
		for i := range g.Licenses {
			if strings.EqualFold(g.Licenses[i].SkuID, l.SkuID) {
				g.Licenses[i].DisabledPlans = nonNil(l.DisabledPlans)
				replaced = true
			}
		}
		if !replaced {
			g.Licenses = append(g.Licenses, License{SkuID: strings.ToLower(l.SkuID), DisabledPlans: nonNil(l.DisabledPlans)})
		}
	}
	s.t.recount()
	sandbox.WriteJSON(w, http.StatusAccepted, project(groupJSON(g), "", groupDefault))
}

// ---- licences, roles, apps ----

func (s *Service) subscribedSkus(w http.ResponseWriter, _ *http.Request) {
	out := []any{}
	for _, k := range s.t.Skus {
		plans := []any{}
		for _, p := range k.ServicePlans {
			plans = append(plans, map[string]any{"servicePlanId": p.ID, "servicePlanName": p.Name, "provisioningStatus": "Success", "appliesTo": "User"})
		}
		out = append(out, map[string]any{
			"id": sandbox.TenantID + "_" + k.SkuID, "accountId": sandbox.TenantID, "accountName": "contoso-sandbox", "skuId": k.SkuID, "skuPartNumber": k.SkuPartNumber,
			"appliesTo": "User", "capabilityStatus": "Enabled", "consumedUnits": s.t.Consumed(k.SkuID),
			"prepaidUnits": map[string]any{"enabled": k.Enabled, "suspended": 0, "warning": 0, "lockedOut": 0}, "servicePlans": plans,
		})
	}
	sandbox.WriteJSON(w, http.StatusOK, map[string]any{"value": out})
}

func roleJSON(d *DirectoryRole) map[string]any {
	return map[string]any{"@odata.type": "#microsoft.graph.directoryRole", "id": d.ID, "displayName": d.DisplayName, "roleTemplateId": d.TemplateID, "description": d.DisplayName}
}

func (s *Service) directoryRoles(w http.ResponseWriter, _ *http.Request) {
	out := []any{}
	for _, d := range s.t.Roles {
		out = append(out, roleJSON(d))
	}
	sandbox.WriteJSON(w, http.StatusOK, map[string]any{"value": out})
}

func (s *Service) principalJSON(id string) map[string]any {
	if id == sandbox.AppObjectID {
		return map[string]any{"@odata.type": "#microsoft.graph.servicePrincipal", "id": id, "appId": sandbox.ClientID, "displayName": "c4sctl"}
	}
	if u := s.t.byID[id]; u != nil {
		return projectKeys(s.userJSON(u), userDefault, true)
	}
	return map[string]any{"@odata.type": "#microsoft.graph.directoryObject", "id": id}
}

func (s *Service) roleMembers(w http.ResponseWriter, r *http.Request) {
	keys, ok := selected(w, r, nil, userType, servicePrincipalType)
	if !ok {
		return
	}
	for _, d := range s.t.Roles {
		if d.ID == r.PathValue("id") || d.TemplateID == r.PathValue("id") {
			page(w, r, len(d.Members), func(i int) map[string]any {
				p := s.principalJSON(d.Members[i])
				if keys == nil {
					return p
				}
				return projectKeys(p, keys, true)
			}, 100)
			return
		}
	}
	notFound(w, r.PathValue("id"))
}

func (s *Service) memberOf(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if id != sandbox.AppObjectID {
		notFound(w, id)
		return
	}
	keys, ok := selected(w, r, nil, roleType, groupType)
	if !ok {
		return
	}
	var out []map[string]any
	for _, d := range s.t.Roles {
		for _, m := range d.Members {
			if m == id {
				o := roleJSON(d)
				if keys != nil {
					o = projectKeys(o, keys, true)
				}
				out = append(out, o)
			}
		}
	}
	page(w, r, len(out), func(i int) map[string]any { return out[i] }, 100)
}

func (s *Service) teamsApps(w http.ResponseWriter, r *http.Request) {
	expand := strings.Contains(r.URL.Query().Get("$expand"), "appDefinitions")
	filteredPage(w, r, len(s.t.Apps), func(i int) map[string]any {
		a := s.t.Apps[i]
		var ext any
		if a.ExternalID != "" {
			ext = a.ExternalID
		}
		o := map[string]any{"id": a.ID, "externalId": ext, "displayName": a.DisplayName, "distributionMethod": a.Distribution}
		if expand {
			o["appDefinitions"] = []any{map[string]any{"id": base64.StdEncoding.EncodeToString([]byte(a.ID + "##" + a.Version)), "teamsAppId": a.ID, "displayName": a.DisplayName, "version": a.Version, "publishingState": "published"}}
		}
		return o
	}, teamsAppType, teamsAppDefault(expand), 100)
}

// teamsAppDefault: a teamsApp's properties, with appDefinitions when $expand asks for them.
func teamsAppDefault(expand bool) []string {
	if expand {
		return []string{"id", "externalId", "displayName", "distributionMethod", "appDefinitions"}
	}
	return []string{"id", "externalId", "displayName", "distributionMethod"}
}

// ---- Copilot packages ----

func (s *Service) packagesGate(w http.ResponseWriter, r *http.Request) bool {
	if s.t.PackagesUnavailable {
		graphError(w, http.StatusForbidden, "Forbidden", "Access to the package management API requires enrollment in the Frontier program or a Microsoft Agent 365 license for this tenant.")
		return false
	}
	return true
}

func packageJSON(p *Package, detail bool) map[string]any {
	o := map[string]any{"id": p.ID, "displayName": p.DisplayName, "publisher": p.Publisher, "type": p.Type, "supportedHosts": p.SupportedHosts,
		"availableTo": p.AvailableTo, "deployedTo": p.DeployedTo, "isBlocked": p.IsBlocked, "lastModifiedDateTime": p.LastModified, "elementTypes": []string{"bot"}}
	if detail {
		o["appId"] = p.AppID
		o["allowedUsersAndGroups"] = p.Allowed
		o["acquireUsersAndGroups"] = p.Allowed
	}
	return o
}

func (s *Service) listPackages(w http.ResponseWriter, r *http.Request) {
	if !s.packagesGate(w, r) {
		return
	}
	filteredPage(w, r, len(s.t.Packages), func(i int) map[string]any { return packageJSON(s.t.Packages[i], false) }, packageType,
		[]string{"id", "displayName", "publisher", "type", "supportedHosts", "availableTo", "deployedTo", "isBlocked", "lastModifiedDateTime", "elementTypes"}, 100)
}

func (s *Service) pkg(id string) *Package {
	for _, p := range s.t.Packages {
		if p.ID == id {
			return p
		}
	}
	return nil
}

func (s *Service) getPackage(w http.ResponseWriter, r *http.Request) {
	if !s.packagesGate(w, r) {
		return
	}
	p := s.pkg(r.PathValue("id"))
	if p == nil {
		notFound(w, r.PathValue("id"))
		return
	}
	sandbox.WriteJSON(w, http.StatusOK, packageJSON(p, true))
}

func (s *Service) patchPackage(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, "/graph/beta/") {
		graphError(w, http.StatusMethodNotAllowed, "Request_BadRequest", "Updating Copilot packages is available in the beta endpoint only.")
		return
	}
	if !s.packagesGate(w, r) {
		return
	}
	p := s.pkg(r.PathValue("id"))
	if p == nil {
		notFound(w, r.PathValue("id"))
		return
	}
	var body struct {
		AvailableTo *string   `json:"availableTo"`
		Allowed     *[]Access `json:"allowedUsersAndGroups"`
	}
	if !readJSON(w, r, &body) {
		return
	}
	if body.AvailableTo != nil {
		switch *body.AvailableTo {
		case "none", "some", "all":
		default:
			graphError(w, http.StatusBadRequest, "BadRequest", fmt.Sprintf("Invalid value '%s' for availableTo; expected none, some or all.", *body.AvailableTo))
			return
		}
	}
	if body.Allowed != nil {
		for _, a := range *body.Allowed {
			ok := false
			switch a.ResourceType {
			case "user":
				ok = s.t.byID[a.ResourceID] != nil
			case "group":
				ok = s.t.group(a.ResourceID) != nil
			}
			if !ok {
				graphError(w, http.StatusBadRequest, "BadRequest", fmt.Sprintf("Invalid access entity %s '%s'.", a.ResourceType, a.ResourceID))
				return
			}
		}
		p.Allowed = append([]Access{}, (*body.Allowed)...)
	}
	if body.AvailableTo != nil {
		p.AvailableTo = *body.AvailableTo
	}
	if p.AvailableTo != "some" {
		p.Allowed = []Access{}
	}
	p.DeployedTo = p.AvailableTo
	p.LastModified = time.Now().UTC().Format(time.RFC3339)
	w.WriteHeader(http.StatusNoContent)
}

// ---- $batch ----

type batchRequest struct {
	ID        string            `json:"id"`
	Method    string            `json:"method"`
	URL       string            `json:"url"`
	Headers   map[string]string `json:"headers"`
	Body      json.RawMessage   `json:"body"`
	DependsOn []string          `json:"dependsOn"`
}

func (s *Service) batch(w http.ResponseWriter, r *http.Request, ver string) {
	if take(&s.throttle) {
		after := strconv.FormatInt(s.retryAfter.Load(), 10)
		w.Header().Set("Retry-After", after)
		graphError(w, http.StatusTooManyRequests, "TooManyRequests", "Too many requests. Retry after "+after+" seconds.")
		return
	}
	claims, err := s.verify(w, r)
	if err != nil {
		return
	}
	var body struct {
		Requests []batchRequest `json:"requests"`
	}
	if !readJSON(w, r, &body) {
		return
	}
	if len(body.Requests) == 0 {
		graphError(w, http.StatusBadRequest, "BadRequest", "Invalid batch payload format: no requests.")
		return
	}
	if len(body.Requests) > 20 {
		graphError(w, http.StatusBadRequest, "BadRequest", fmt.Sprintf("Invalid batch payload format: %d requests; a batch holds at most 20.", len(body.Requests)))
		return
	}
	status := map[string]int{}
	for _, q := range body.Requests {
		if q.ID == "" {
			graphError(w, http.StatusBadRequest, "BadRequest", "Invalid batch payload format: every request needs an id.")
			return
		}
		if _, dup := status[q.ID]; dup {
			graphError(w, http.StatusBadRequest, "BadRequest", "Invalid batch payload format: duplicate request id '"+q.ID+"'.")
			return
		}
		status[q.ID] = 0
	}
	ctx := context.WithValue(r.Context(), claimsKey, claims)
	out := []any{}
	for _, q := range body.Requests {
		failedDep := ""
		for _, d := range q.DependsOn {
			if st, ok := status[d]; !ok || st == 0 || st >= 400 {
				failedDep = d
			}
		}
		var resp map[string]any
		switch {
		case failedDep != "":
			resp = errResp(q.ID, http.StatusFailedDependency, "FailedDependency", "The request depends on request '"+failedDep+"', which failed or was not run first.")
		case take(&s.batchItems):
			after := strconv.FormatInt(s.retryAfter.Load(), 10)
			resp = errResp(q.ID, http.StatusTooManyRequests, "TooManyRequests", "Too many requests. Retry after "+after+" seconds.")
			resp["headers"] = map[string]string{"Retry-After": after, "Content-Type": "application/json"}
		default:
			resp = s.runSub(ctx, r, ver, q)
		}
		st, _ := resp["status"].(int)
		status[q.ID] = st
		out = append(out, resp)
	}
	sandbox.WriteJSON(w, http.StatusOK, map[string]any{"responses": out})
}

func errResp(id string, status int, code, msg string) map[string]any {
	return map[string]any{"id": id, "status": status, "headers": map[string]string{"Content-Type": "application/json"},
		"body": map[string]any{"error": map[string]any{"code": code, "message": msg}}}
}

func (s *Service) runSub(ctx context.Context, outer *http.Request, ver string, q batchRequest) map[string]any {
	u := q.URL
	if !strings.HasPrefix(u, "/") {
		u = "/" + u
	}
	var rd io.Reader
	if len(q.Body) > 0 && string(q.Body) != "null" {
		rd = bytes.NewReader(q.Body)
	}
	req, err := http.NewRequestWithContext(ctx, strings.ToUpper(q.Method), "https://"+outer.Host+"/graph/"+ver+u, rd)
	if err != nil {
		return errResp(q.ID, http.StatusBadRequest, "BadRequest", "Invalid request URL or method.")
	}
	req.Host = outer.Host
	for k, v := range q.Headers {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	run := func() { s.inner.ServeHTTP(rec, req) }
	if req.Method == http.MethodGet {
		s.srv.View(run)
	} else {
		_ = s.srv.Mutate(func() error { run(); return nil })
	}
	resp := map[string]any{"id": q.ID, "status": rec.Code}
	hdr := map[string]string{}
	for k := range rec.Header() {
		hdr[k] = rec.Header().Get(k)
	}
	resp["headers"] = hdr
	if b := bytes.TrimSpace(rec.Body.Bytes()); len(b) > 0 {
		if json.Valid(b) {
			resp["body"] = json.RawMessage(b)
		} else {
			resp["body"] = map[string]any{"error": map[string]any{"code": "BadRequest", "message": string(b)}}
		}
	}
	return resp
}

// ---- Teams user configurations (effective policies) ----

// TeamsPolicies is what the Teams policy service of the same sandbox tells about a user's
// policies: the effective assignments, as Graph's effectivePolicyAssignment objects. It is
// called under the server's lock (a GET handler's shared lock), so it must not take it.
type TeamsPolicies interface {
	EffectivePolicyAssignments(upn string, memberOf func(groupID string) bool) []map[string]any
}

// userConfigJSON is a teamsUserConfiguration (Learn "teamsUserConfiguration resource type",
// v1.0): the user's id and UPN, the tenant id, and the effective policy assignments the Teams
// service computes (direct, else the group of the best rank; a type the user gets from Global
// is left out, as a public client of the API reads it: docs/api/teams.md).
func (s *Service) userConfigJSON(u *User, tp TeamsPolicies) map[string]any {
	eff := []map[string]any{}
	if tp != nil {
		eff = tp.EffectivePolicyAssignments(u.UPN, func(gid string) bool {
			g := s.t.group(gid)
			return g != nil && g.set[u.ID]
		})
	}
	return map[string]any{
		"@odata.type": "#microsoft.graph.teamsAdministration.teamsUserConfiguration",
		"id":          u.ID, "userPrincipalName": u.UPN, "tenantId": sandbox.TenantID,
		"effectivePolicyAssignments": eff, "telephoneNumbers": []any{}, "isEnterpriseVoiceEnabled": false,
		"featureTypes": []string{"Teams"}, "accountType": "user",
		"createdDateTime": "2024-03-01T09:00:00Z", "modifiedDateTime": "2024-03-01T09:00:00Z",
	}
}

func (s *Service) teamsPolicies() TeamsPolicies {
	if s.srv == nil {
		return nil
	}
	tp, _ := s.srv.Service("teams").(TeamsPolicies)
	return tp
}

func (s *Service) userConfigGate(w http.ResponseWriter) bool {
	if s.t.UserConfigurationsUnavailable {
		graphError(w, http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation. The application needs one of these permissions: TeamsUserConfiguration.Read.All.")
		return false
	}
	return true
}

// listUserConfigurations is GET /admin/teams/userConfigurations: every user of the tenant, paged
// (100 a page unless $top says otherwise, at most 999: assumed, as Graph's directory lists),
// with $select.
func (s *Service) listUserConfigurations(w http.ResponseWriter, r *http.Request) {
	if !s.userConfigGate(w) {
		return
	}
	tp := s.teamsPolicies()
	filteredPage(w, r, len(s.t.Users), func(i int) map[string]any { return s.userConfigJSON(s.t.Users[i], tp) }, userConfigType,
		[]string{"id", "userPrincipalName", "tenantId", "effectivePolicyAssignments", "telephoneNumbers", "isEnterpriseVoiceEnabled", "featureTypes", "accountType", "createdDateTime", "modifiedDateTime"}, 100)
}

// getUserConfiguration is GET /admin/teams/userConfigurations/{id}. Learn's example wraps the
// object in "value" ({"value": {…}}), and a public client unwraps it; the sandbox answers so.
func (s *Service) getUserConfiguration(w http.ResponseWriter, r *http.Request) {
	if !s.userConfigGate(w) {
		return
	}
	u := s.t.byID[r.PathValue("id")]
	if u == nil {
		notFound(w, r.PathValue("id"))
		return
	}
	keys, ok := selected(w, r, nil, userConfigType)
	if !ok {
		return
	}
	o := s.userConfigJSON(u, s.teamsPolicies())
	if keys != nil {
		o = projectKeys(o, keys, false)
	}
	sandbox.WriteJSON(w, http.StatusOK, map[string]any{"value": o})
}
