package teamsapi

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/c4sctl/c4sctl/pkg/sandbox"
)

const (
	configPath = "/Skype.Policy/configurations/{type}"
	onePath    = "/Skype.Policy/configurations/{type}/configuration/{identity}"
	groupPath  = "/Skype.Policy/groupPolicyAssignments"
	groupOne   = "/Skype.Policy/groupPolicyAssignments/{groupId}/policyTypes/{policyType}"
)

// Service is the emulated Teams admin policy service.
type Service struct {
	srv *sandbox.Server
	d   *data
	now func() time.Time

	// CreateByPut switches how a named policy is created. Public clients disagree
	// (docs/api/teams.md, "Creating a named policy"): by default the sandbox serves the POST to
	// the type's collection and answers a PUT to an absent instance with 404; with CreateByPut
	// it serves the PUT to the instance and answers the POST with 405, so that the adapter's
	// fallback from one form to the other is tested both ways. Set it before serving.
	CreateByPut bool
}

// New returns the service with its seed.
func New() *Service { return &Service{d: seed(), now: time.Now} }

// Name is the URL prefix and the key in the data file.
func (s *Service) Name() string { return "teams" }

// Reset restores the seed: transcription off in Global, no Copilot for Sales app anywhere.
func (s *Service) Reset() { s.d = seed() }

// MarshalState persists the policies and group assignments.
func (s *Service) MarshalState() ([]byte, error) { return json.Marshal(s.d) }

// UnmarshalState restores persisted data, checking every property against the schema.
func (s *Service) UnmarshalState(b []byte) error {
	d, err := restore(b)
	if err != nil {
		return err
	}
	s.d = d
	return nil
}

// Register adds the routes and grants the sandbox's c4sctl app the Teams admin role.
func (s *Service) Register(r *sandbox.Router) {
	s.srv = r.Server()
	r.Server().Apps().GrantRoles(sandbox.ClientID, Audience, AdminRole)
	r.Handle("GET "+configPath, s.guard(s.list))
	r.Handle("POST "+configPath, s.guard(s.create))
	r.Handle("GET "+onePath, s.guard(s.get))
	r.Handle("PUT "+onePath, s.guard(s.set))
	r.Handle("PATCH "+onePath, s.guard(s.set))
	r.Handle("DELETE "+onePath, s.guard(s.remove))
	r.Handle("GET "+groupPath, s.guard(s.listGroups))
	r.Handle("POST "+groupPath, s.guard(s.rootPost))
	r.Handle("GET "+groupPath+"/{groupId}/policyTypes", s.guard(s.groupOf))
	r.Handle("GET "+groupOne, s.guard(s.getGroup))
	r.Handle("PUT "+groupOne, s.guard(s.createGroup))
	r.Handle("PATCH "+groupOne, s.guard(s.setGroup))
	r.Handle("DELETE "+groupOne, s.guard(s.removeGroup))
}

// apiError writes the service's error body (shape assumed: see docs/api/teams.md).
func apiError(w http.ResponseWriter, status int, code, msg string) {
	sandbox.WriteJSON(w, status, map[string]any{"error": map[string]any{"code": code, "message": msg}})
}

func (s *Service) guard(fn http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		claims, err := s.srv.Tokens.Verify(r, Audience)
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="api.interfaces.records.teams.microsoft.com", error="invalid_token"`)
		}
		switch {
		case errors.Is(err, sandbox.ErrNoToken):
			apiError(w, http.StatusUnauthorized, "Unauthorized", "Authorization has been denied for this request: no bearer token.")
			return
		case errors.Is(err, sandbox.ErrWrongAudience):
			apiError(w, http.StatusUnauthorized, "Unauthorized", "Authorization has been denied for this request: the token's audience is not "+Audience+".")
			return
		case err != nil:
			apiError(w, http.StatusUnauthorized, "Unauthorized", "Authorization has been denied for this request: the token is invalid or expired.")
			return
		}
		if claims.TenantID != sandbox.TenantID {
			apiError(w, http.StatusUnauthorized, "Unauthorized", "Authorization has been denied for this request: the token is for another tenant.")
			return
		}
		has := false
		for _, role := range claims.Roles {
			has = has || role == AdminRole
		}
		if !has {
			apiError(w, http.StatusForbidden, "Forbidden", fmt.Sprintf("The caller (application %s) is not authorized to manage Teams policies in this tenant; it needs the Teams Administrator role.", claims.AppID))
			return
		}
		fn(w, r)
	}
}

func (s *Service) policyType(w http.ResponseWriter, r *http.Request) (string, bool) {
	t := r.PathValue("type")
	for known := range fields {
		if strings.EqualFold(known, t) {
			return known, true
		}
	}
	apiError(w, http.StatusNotFound, "NotFound", fmt.Sprintf("Configuration type '%s' was not found.", t))
	return "", false
}

func (s *Service) list(w http.ResponseWriter, r *http.Request) {
	typ, ok := s.policyType(w, r)
	if !ok {
		return
	}
	out := []Policy{}
	for _, p := range s.d.Policies[typ] {
		out = append(out, copyPolicy(p))
	}
	sandbox.WriteJSON(w, http.StatusOK, out)
}

func (s *Service) get(w http.ResponseWriter, r *http.Request) {
	typ, ok := s.policyType(w, r)
	if !ok {
		return
	}
	_, p := s.d.find(typ, r.PathValue("identity"))
	if p == nil {
		apiError(w, http.StatusNotFound, "NotFound", fmt.Sprintf("%s '%s' was not found.", typ, r.PathValue("identity")))
		return
	}
	sandbox.WriteJSON(w, http.StatusOK, copyPolicy(p))
}

func readBody(w http.ResponseWriter, r *http.Request) (map[string]any, bool) {
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		apiError(w, http.StatusBadRequest, "BadRequest", "The request body could not be read.")
		return nil, false
	}
	var m map[string]any
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil || m == nil {
		apiError(w, http.StatusBadRequest, "BadRequest", "The request body must be a JSON object of policy properties.")
		return nil, false
	}
	return m, true
}

// apply validates every property of body and returns the canonical values (Identity excluded).
func apply(typ string, body map[string]any) (Policy, error) {
	out := Policy{}
	for k, v := range body {
		if strings.EqualFold(k, "Identity") || strings.EqualFold(k, "Key") {
			continue
		}
		n, cv, err := normalize(typ, k, v)
		if err != nil {
			return nil, err
		}
		out[n] = cv
	}
	return out, nil
}

func (s *Service) create(w http.ResponseWriter, r *http.Request) {
	typ, ok := s.policyType(w, r)
	if !ok {
		return
	}
	if s.CreateByPut {
		w.Header().Set("Allow", "GET")
		sandbox.WriteJSON(w, http.StatusMethodNotAllowed, map[string]any{"Message": "The requested resource does not support http method 'POST'."})
		return
	}
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	var identity string
	for k, v := range body {
		if strings.EqualFold(k, "Identity") {
			identity, _ = v.(string)
		}
	}
	s.createPolicy(w, typ, identity, body)
}

// createPolicy makes a named policy from a creation body (POST to the collection, or PUT to an
// absent instance with CreateByPut).
func (s *Service) createPolicy(w http.ResponseWriter, typ, identity string, body map[string]any) {
	if err := validName(identity); err != nil {
		apiError(w, http.StatusBadRequest, "BadRequest", err.Error())
		return
	}
	if identityKey(identity) == "global" {
		apiError(w, http.StatusConflict, "Conflict", fmt.Sprintf("%s 'Global' already exists and cannot be created; update it instead.", typ))
		return
	}
	if _, p := s.d.find(typ, identity); p != nil {
		apiError(w, http.StatusConflict, "Conflict", fmt.Sprintf("%s '%s' already exists.", typ, canonicalIdentity(identity)))
		return
	}
	props, err := apply(typ, body)
	if err != nil {
		apiError(w, http.StatusBadRequest, "BadRequest", err.Error())
		return
	}
	p := defaults(typ)
	for k, v := range props {
		p[k] = v
	}
	p["Identity"] = canonicalIdentity(identity)
	s.d.Policies[typ] = append(s.d.Policies[typ], p)
	sandbox.WriteJSON(w, http.StatusCreated, copyPolicy(p))
}

func (s *Service) set(w http.ResponseWriter, r *http.Request) {
	typ, ok := s.policyType(w, r)
	if !ok {
		return
	}
	_, p := s.d.find(typ, r.PathValue("identity"))
	if p == nil && s.CreateByPut && r.Method == http.MethodPut {
		if body, ok := readBody(w, r); ok {
			s.createPolicy(w, typ, r.PathValue("identity"), body)
		}
		return
	}
	if p == nil {
		apiError(w, http.StatusNotFound, "NotFound", fmt.Sprintf("%s '%s' was not found.", typ, r.PathValue("identity")))
		return
	}
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	props, err := apply(typ, body)
	if err != nil {
		apiError(w, http.StatusBadRequest, "BadRequest", err.Error())
		return
	}
	for k, v := range props { // merge: properties the body does not name are kept
		p[k] = v
	}
	sandbox.WriteJSON(w, http.StatusOK, copyPolicy(p))
}

func (s *Service) remove(w http.ResponseWriter, r *http.Request) {
	typ, ok := s.policyType(w, r)
	if !ok {
		return
	}
	i, p := s.d.find(typ, r.PathValue("identity"))
	if p == nil {
		apiError(w, http.StatusNotFound, "NotFound", fmt.Sprintf("%s '%s' was not found.", typ, r.PathValue("identity")))
		return
	}
	if p["Identity"] == "Global" {
		// Remove-Cs*Policy -Identity Global resets the global policy to its defaults.
		g := defaults(typ)
		if typ == AppSetupPolicyType {
			g = globalSetupDefaults()
		}
		g["Identity"] = "Global"
		s.d.Policies[typ][i] = g
		w.WriteHeader(http.StatusNoContent)
		return
	}
	name := strings.TrimPrefix(p["Identity"].(string), "Tag:")
	n := 0
	for _, g := range s.d.Groups {
		if g.PolicyType == typ && strings.EqualFold(g.PolicyName, name) {
			n++
		}
	}
	if n > 0 {
		apiError(w, http.StatusConflict, "Conflict", fmt.Sprintf("%s '%s' is assigned to %d group(s); remove the group policy assignments first.", typ, p["Identity"], n))
		return
	}
	s.d.Policies[typ] = append(s.d.Policies[typ][:i], s.d.Policies[typ][i+1:]...)
	w.WriteHeader(http.StatusNoContent)
}

// --- group policy assignments ---

func (s *Service) listGroups(w http.ResponseWriter, r *http.Request) {
	pt := r.URL.Query().Get("policyType")
	out := []GroupAssignment{}
	for _, g := range s.d.Groups {
		if pt == "" || strings.EqualFold(pt, g.PolicyType) {
			out = append(out, *g)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].PolicyType != out[j].PolicyType {
			return out[i].PolicyType < out[j].PolicyType
		}
		return out[i].Priority < out[j].Priority
	})
	sandbox.WriteJSON(w, http.StatusOK, out)
}

// groupBody reads a PUT (create) or PATCH (change) body: {"policyName", "priority"}, the
// module's payload (docs/api/teams.md). Property names match case-insensitively, as ASP.NET
// binds them (assumed); any other property, "Rank" included, is refused with 400 so that a
// client sending the admin centre's label instead of the API's field is caught (stricter than
// the service may be: assumed).
func groupBody(w http.ResponseWriter, r *http.Request) (name string, priority *int, ok bool) {
	body, ok := readBody(w, r)
	if !ok {
		return "", nil, false
	}
	for k, v := range body {
		switch strings.ToLower(k) {
		case "policyname":
			s, isStr := v.(string)
			if !isStr {
				apiError(w, http.StatusBadRequest, "BadRequest", "policyName must be a string.")
				return "", nil, false
			}
			name = s
		case "priority":
			n, isNum := v.(json.Number)
			i, err := n.Int64()
			if !isNum || err != nil || i < 1 || i > 1<<20 {
				apiError(w, http.StatusBadRequest, "BadRequest", fmt.Sprintf("priority must be a whole number from 1, got %v.", v))
				return "", nil, false
			}
			p := int(i)
			priority = &p
		default:
			apiError(w, http.StatusBadRequest, "BadRequest", fmt.Sprintf("The request body has an unknown property '%s'; a group policy assignment takes policyName and priority.", k))
			return "", nil, false
		}
	}
	return name, priority, true
}

// rootPost answers the old POST to the collection root as an ASP.NET Web API service answers a
// verb its route does not have: 405 with the Allow header and a {"Message"} body (the module's
// client has no POST on this path: docs/api/teams.md; status and body assumed).
func (s *Service) rootPost(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Allow", "GET")
	sandbox.WriteJSON(w, http.StatusMethodNotAllowed, map[string]any{"Message": "The requested resource does not support http method 'POST'."})
}

// groupOf lists one group's assignments (GET …/{groupId}/policyTypes).
func (s *Service) groupOf(w http.ResponseWriter, r *http.Request) {
	out := []GroupAssignment{}
	for _, g := range s.d.Groups {
		if strings.EqualFold(g.GroupID, r.PathValue("groupId")) {
			out = append(out, *g)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].PolicyType < out[j].PolicyType })
	sandbox.WriteJSON(w, http.StatusOK, out)
}

func (s *Service) getGroup(w http.ResponseWriter, r *http.Request) {
	g := s.findGroup(r.PathValue("groupId"), r.PathValue("policyType"))
	if g == nil {
		apiError(w, http.StatusNotFound, "NotFound", fmt.Sprintf("Group '%s' has no %s assignment.", r.PathValue("groupId"), r.PathValue("policyType")))
		return
	}
	sandbox.WriteJSON(w, http.StatusOK, *g)
}

// createGroup is New-CsGroupPolicyAssignment: PUT …/{groupId}/policyTypes/{policyType}.
func (s *Service) createGroup(w http.ResponseWriter, r *http.Request) {
	name, priority, ok := groupBody(w, r)
	if !ok {
		return
	}
	rank := 0
	if priority != nil {
		rank = *priority
	}
	gid, pt := r.PathValue("groupId"), r.PathValue("policyType")
	if err := s.assign(gid, pt, name, rank, false); err != nil {
		writeAssignError(w, err)
		return
	}
	sandbox.WriteJSON(w, http.StatusCreated, *s.findGroup(gid, pt))
}

// setGroup is Set-CsGroupPolicyAssignment: PATCH …/{groupId}/policyTypes/{policyType}.
func (s *Service) setGroup(w http.ResponseWriter, r *http.Request) {
	name, priority, ok := groupBody(w, r)
	if !ok {
		return
	}
	g := s.findGroup(r.PathValue("groupId"), r.PathValue("policyType"))
	if g == nil {
		apiError(w, http.StatusNotFound, "NotFound", fmt.Sprintf("Group '%s' has no %s assignment.", r.PathValue("groupId"), r.PathValue("policyType")))
		return
	}
	rank := g.Priority
	if name == "" {
		name = g.PolicyName
	}
	if priority != nil {
		rank = *priority
	}
	if err := s.assign(g.GroupID, g.PolicyType, name, rank, true); err != nil {
		writeAssignError(w, err)
		return
	}
	sandbox.WriteJSON(w, http.StatusOK, *s.findGroup(g.GroupID, g.PolicyType))
}

func (s *Service) removeGroup(w http.ResponseWriter, r *http.Request) {
	gid, pt := r.PathValue("groupId"), r.PathValue("policyType")
	for i, g := range s.d.Groups {
		if strings.EqualFold(g.GroupID, gid) && strings.EqualFold(g.PolicyType, pt) {
			s.d.Groups = append(s.d.Groups[:i], s.d.Groups[i+1:]...)
			s.renumber(g.PolicyType)
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	apiError(w, http.StatusNotFound, "NotFound", fmt.Sprintf("Group '%s' has no %s assignment.", gid, pt))
}

type assignError struct {
	status int
	code   string
	msg    string
}

func (e *assignError) Error() string { return e.msg }

func writeAssignError(w http.ResponseWriter, err error) {
	var ae *assignError
	if errors.As(err, &ae) {
		apiError(w, ae.status, ae.code, ae.msg)
		return
	}
	apiError(w, http.StatusBadRequest, "BadRequest", err.Error())
}

func (s *Service) findGroup(groupID, policyType string) *GroupAssignment {
	for _, g := range s.d.Groups {
		if strings.EqualFold(g.GroupID, groupID) && strings.EqualFold(g.PolicyType, policyType) {
			return g
		}
	}
	return nil
}

// assign creates (or, with update, changes) the assignment of a group for a policy type. A rank
// is the position among the type's assignments (1 = highest); 0 or past the end appends;
// the others shift and ranks are renumbered 1..n, as New-CsGroupPolicyAssignment documents.
func (s *Service) assign(groupID, policyType, policyName string, rank int, update bool) error {
	bad := func(status int, code, f string, a ...any) error {
		return &assignError{status, code, fmt.Sprintf(f, a...)}
	}
	typ := ""
	for known := range fields {
		if strings.EqualFold(known, policyType) {
			typ = known
		}
	}
	switch {
	case strings.TrimSpace(groupID) == "" || len(groupID) > 256:
		return bad(http.StatusBadRequest, "BadRequest", "GroupId is required.")
	case typ == "":
		return bad(http.StatusBadRequest, "BadRequest", "PolicyType '%s' does not support group policy assignment in this service.", policyType)
	case rank < 0:
		return bad(http.StatusBadRequest, "BadRequest", "priority must be a positive number.")
	case identityKey(policyName) == "global" || identityKey(policyName) == "":
		return bad(http.StatusBadRequest, "BadRequest", "PolicyName must name a custom policy; the Global policy applies to everyone without an assignment.")
	}
	_, p := s.d.find(typ, policyName)
	if p == nil {
		return bad(http.StatusNotFound, "NotFound", "%s '%s' was not found.", typ, policyName)
	}
	name := strings.TrimPrefix(p["Identity"].(string), "Tag:")
	existing := s.findGroup(groupID, typ)
	if existing != nil && !update {
		return bad(http.StatusConflict, "Conflict", "Group '%s' already has a %s assignment (%s); change it with Set-CsGroupPolicyAssignment or remove it first.", groupID, typ, existing.PolicyName)
	}
	if existing == nil {
		n := 0
		for _, g := range s.d.Groups {
			if g.PolicyType == typ {
				n++
			}
		}
		if n >= MaxGroupsPerPolicyType {
			return bad(http.StatusBadRequest, "BadRequest", "A policy type can be assigned to at most %d groups; %s already has %d group policy assignments.", MaxGroupsPerPolicyType, typ, n)
		}
		existing = &GroupAssignment{GroupID: groupID, PolicyType: typ, CreatedTime: s.now().UTC().Format(time.RFC3339), CreatedBy: sandbox.AppObjectID}
	} else {
		for i, g := range s.d.Groups {
			if g == existing {
				s.d.Groups = append(s.d.Groups[:i], s.d.Groups[i+1:]...)
				break
			}
		}
	}
	existing.PolicyName = name
	// Insert at the rank's position among this type's assignments.
	var same []*GroupAssignment
	var others []*GroupAssignment
	for _, g := range s.d.Groups {
		if g.PolicyType == typ {
			same = append(same, g)
		} else {
			others = append(others, g)
		}
	}
	sort.SliceStable(same, func(i, j int) bool { return same[i].Priority < same[j].Priority })
	pos := len(same)
	if rank > 0 && rank-1 < pos {
		pos = rank - 1
	}
	same = append(same[:pos], append([]*GroupAssignment{existing}, same[pos:]...)...)
	for i, g := range same {
		g.Priority = i + 1
	}
	s.d.Groups = append(others, same...)
	return nil
}

func (s *Service) renumber(typ string) {
	var same []*GroupAssignment
	for _, g := range s.d.Groups {
		if g.PolicyType == typ {
			same = append(same, g)
		}
	}
	sort.SliceStable(same, func(i, j int) bool { return same[i].Priority < same[j].Priority })
	for i, g := range same {
		g.Priority = i + 1
	}
}

// --- helpers for tests and `c4sctl sandbox set` ---
//
// They take the server's data lock themselves once the service is mounted (through
// Server.Mutate / Server.View), so they must not be called from inside Mutate or View.

func (s *Service) mutate(fn func() error) error {
	if s.srv == nil {
		return fn()
	}
	return s.srv.Mutate(fn)
}

func (s *Service) view(fn func()) {
	if s.srv == nil {
		fn()
		return
	}
	s.srv.View(fn)
}

// SetPolicyField changes one property of a policy "by hand", e.g.
// SetPolicyField("TeamsMeetingPolicy", "Global", "AllowTranscription", true). Values are
// checked as the API checks them: lists are []AppRef / []PinnedApp (or their JSON shapes).
func (s *Service) SetPolicyField(policyType, identity, field string, value any) error {
	return s.mutate(func() error {
		typ := ""
		for known := range fields {
			if strings.EqualFold(known, policyType) {
				typ = known
			}
		}
		if typ == "" {
			return fmt.Errorf("unknown policy type %q; use %s or %s", policyType, MeetingPolicyType, AppSetupPolicyType)
		}
		_, p := s.d.find(typ, identity)
		if p == nil {
			return fmt.Errorf("%s %q does not exist", typ, identity)
		}
		n, v, err := normalize(typ, field, value)
		if err != nil {
			return err
		}
		p[n] = v
		return nil
	})
}

// SetMeetingPolicyField changes one property of a meeting policy.
func (s *Service) SetMeetingPolicyField(identity, field string, value any) error {
	return s.SetPolicyField(MeetingPolicyType, identity, field, value)
}

// SetAppSetupPolicyField changes one property of an app setup policy.
func (s *Service) SetAppSetupPolicyField(identity, field string, value any) error {
	return s.SetPolicyField(AppSetupPolicyType, identity, field, value)
}

// Policy returns a copy of a policy, or nil.
func (s *Service) Policy(policyType, identity string) Policy {
	var out Policy
	s.view(func() {
		if _, p := s.d.find(policyType, identity); p != nil {
			out = copyPolicy(p)
		}
	})
	return out
}

// MeetingPolicy returns a copy of a meeting policy, or nil.
func (s *Service) MeetingPolicy(identity string) Policy {
	return s.Policy(MeetingPolicyType, identity)
}

// AppSetupPolicy returns a copy of an app setup policy, or nil.
func (s *Service) AppSetupPolicy(identity string) Policy {
	return s.Policy(AppSetupPolicyType, identity)
}

// CreatePolicy adds a named policy with default values plus props.
func (s *Service) CreatePolicy(policyType, identity string, props map[string]any) error {
	return s.mutate(func() error {
		if err := validName(identity); err != nil {
			return err
		}
		if _, ok := fields[policyType]; !ok {
			return fmt.Errorf("unknown policy type %q", policyType)
		}
		if _, p := s.d.find(policyType, identity); p != nil {
			return fmt.Errorf("%s %q already exists", policyType, identity)
		}
		vals, err := apply(policyType, props)
		if err != nil {
			return err
		}
		p := defaults(policyType)
		for k, v := range vals {
			p[k] = v
		}
		p["Identity"] = canonicalIdentity(identity)
		s.d.Policies[policyType] = append(s.d.Policies[policyType], p)
		return nil
	})
}

// AssignGroup adds a group policy assignment (rank 0 appends), with the API's checks.
func (s *Service) AssignGroup(groupID, policyType, policyName string, rank int) error {
	return s.mutate(func() error { return s.assign(groupID, policyType, policyName, rank, false) })
}

// SetGroupAssignment assigns a policy to a group at a rank, or changes the group's assignment of
// that type (New- or Set-CsGroupPolicyAssignment), with the API's checks.
func (s *Service) SetGroupAssignment(groupID, policyType, policyName string, rank int) error {
	return s.mutate(func() error {
		return s.assign(groupID, policyType, policyName, rank, s.findGroup(groupID, policyType) != nil)
	})
}

// GroupAssignments lists the assignments of a policy type ("" for all), by rank.
func (s *Service) GroupAssignments(policyType string) []GroupAssignment {
	var out []GroupAssignment
	s.view(func() {
		for _, g := range s.d.Groups {
			if policyType == "" || strings.EqualFold(policyType, g.PolicyType) {
				out = append(out, *g)
			}
		}
	})
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].PolicyType != out[j].PolicyType {
			return out[i].PolicyType < out[j].PolicyType
		}
		return out[i].Priority < out[j].Priority
	})
	return out
}

// knownType returns the canonical spelling of a policy type, or "".
func knownType(policyType string) string {
	for known := range fields {
		if strings.EqualFold(known, policyType) {
			return known
		}
	}
	return ""
}

// AssignUser assigns a named policy to one user directly, as Grant-Cs<PolicyType> -Identity
// UPN -PolicyName NAME does; policyName "Global" removes the direct assignment (the admin
// centre's "Global (Org-wide default)"). A direct assignment wins over every group assignment
// (docs/api/teams.md, "Which policy a user gets").
func (s *Service) AssignUser(upn, policyType, policyName string) error {
	return s.mutate(func() error {
		typ := knownType(policyType)
		if typ == "" {
			return fmt.Errorf("unknown policy type %q; use %s or %s", policyType, MeetingPolicyType, AppSetupPolicyType)
		}
		if strings.TrimSpace(upn) == "" {
			return fmt.Errorf("a user principal name is required")
		}
		if s.d.Users == nil {
			s.d.Users = map[string]map[string]string{}
		}
		if identityKey(policyName) == "global" {
			delete(s.d.Users[typ], strings.ToLower(upn))
			return nil
		}
		_, p := s.d.find(typ, policyName)
		if p == nil {
			return fmt.Errorf("%s %q does not exist", typ, policyName)
		}
		if s.d.Users[typ] == nil {
			s.d.Users[typ] = map[string]string{}
		}
		s.d.Users[typ][strings.ToLower(upn)] = strings.TrimPrefix(p["Identity"].(string), "Tag:")
		return nil
	})
}

// UserAssignments returns the direct user assignments of a policy type (lower-case UPN -> name).
func (s *Service) UserAssignments(policyType string) map[string]string {
	out := map[string]string{}
	s.view(func() {
		for k, v := range s.d.Users[knownType(policyType)] {
			out[k] = v
		}
	})
	return out
}

// EffectivePolicyAssignments is what Graph's teamsUserConfiguration reports for one user
// (graphapi.TeamsPolicies): for each policy type the user does not get from Global, the direct
// assignment, else the group assignment of the best rank among the groups memberOf says the
// user is a direct member of; shaped as effectivePolicyAssignment objects (Learn, v1.0:
// policyType, policyAssignment{displayName, assignmentType direct|group, policyId, groupId}).
// It reads without the lock: the caller (a Graph GET handler) holds the server's shared lock.
func (s *Service) EffectivePolicyAssignments(upn string, memberOf func(groupID string) bool) []map[string]any {
	out := []map[string]any{}
	for _, typ := range []string{AppSetupPolicyType, MeetingPolicyType} {
		pa := map[string]any{}
		if name, ok := s.d.Users[typ][strings.ToLower(upn)]; ok {
			pa["displayName"], pa["assignmentType"] = name, "direct"
		} else {
			var best *GroupAssignment
			for _, g := range s.d.Groups {
				if g.PolicyType == typ && (best == nil || g.Priority < best.Priority) && memberOf(g.GroupID) {
					best = g
				}
			}
			if best == nil {
				continue
			}
			pa["displayName"], pa["assignmentType"], pa["groupId"] = best.PolicyName, "group", best.GroupID
		}
		pa["policyId"] = base64.RawURLEncoding.EncodeToString([]byte(typ + ":" + identityKey(pa["displayName"].(string))))
		out = append(out, map[string]any{"policyType": typ, "policyAssignment": pa})
	}
	return out
}
