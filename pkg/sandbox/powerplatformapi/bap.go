package powerplatformapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/c4sctl/c4sctl/pkg/sandbox"
)

// BAPService serves the Power Platform admin API under /bap.
type BAPService struct{ api *API }

// Name is the URL prefix and data key.
func (s *BAPService) Name() string { return "bap" }

// API returns the shared tenant (SignIn, SetConnectorGroup, Throttle, ...).
func (s *BAPService) API() *API { return s.api }

// SignIn simulates the first sign-in of a Copilot for Sales user (see API.SignIn).
func (s *BAPService) SignIn(user string) error { return s.api.SignIn(user) }

// Reset restores the seed (for both services: they share the tenant).
func (s *BAPService) Reset() { s.api.reset() }

// MarshalState saves the shared tenant.
func (s *BAPService) MarshalState() ([]byte, error) { return s.api.marshal() }

// UnmarshalState restores the shared tenant.
func (s *BAPService) UnmarshalState(b []byte) error { return s.api.unmarshal(b) }

const (
	envPath    = "/providers/Microsoft.BusinessAppPlatform/scopes/admin/environments"
	policyPath = "/providers/PowerPlatform.Governance/v2/policies"
)

// Register adds the routes and grants the sandbox's c4sctl app the management-app role.
func (s *BAPService) Register(r *sandbox.Router) {
	s.api.srv = r.Server()
	r.Server().Apps().GrantRoles(sandbox.ClientID, BAPAudience, ManagementAppRole)
	r.Handle("GET "+envPath, s.guard(s.listEnvironments))
	r.Handle("GET "+policyPath, s.guard(s.listPolicies))
	r.Handle("POST "+policyPath, s.guard(s.createPolicy))
	r.Handle("GET "+policyPath+"/{name}", s.guard(s.getPolicy))
	r.Handle("PATCH "+policyPath+"/{name}", s.guard(s.patchPolicy))
	r.Handle("DELETE "+policyPath+"/{name}", s.guard(s.deletePolicy))
}

// bapError writes the admin API's error body.
func bapError(w http.ResponseWriter, status int, code, msg string) {
	sandbox.WriteJSON(w, status, map[string]any{"error": map[string]any{"code": code, "message": msg}})
}

func (s *BAPService) guard(fn http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if ok, after := s.api.takeThrottle(); ok {
			w.Header().Set("Retry-After", strconv.FormatInt(after, 10))
			bapError(w, http.StatusTooManyRequests, "TooManyRequests", "The request was throttled. Retry after "+strconv.FormatInt(after, 10)+" seconds.")
			return
		}
		claims, err := s.api.srv.Tokens.Verify(r, BAPAudience)
		switch {
		case errors.Is(err, sandbox.ErrNoToken):
			bapError(w, http.StatusUnauthorized, "MissingAuthenticationToken", "The request is missing an authentication token (Authorization: Bearer).")
			return
		case errors.Is(err, sandbox.ErrWrongAudience):
			bapError(w, http.StatusUnauthorized, "InvalidAuthenticationTokenAudience", "The access token has an invalid audience; request it for "+BAPAudience+"/.default.")
			return
		case err != nil:
			bapError(w, http.StatusUnauthorized, "InvalidAuthenticationToken", "The access token is invalid or expired.")
			return
		}
		if claims.TenantID != sandbox.TenantID {
			bapError(w, http.StatusUnauthorized, "InvalidAuthenticationTokenTenant", "The access token is from the wrong tenant.")
			return
		}
		has := false
		for _, role := range claims.Roles {
			has = has || role == ManagementAppRole
		}
		if !has {
			bapError(w, http.StatusForbidden, "Forbidden", fmt.Sprintf("The application '%s' is not registered as a Power Platform management application; a Power Platform admin must register it (New-PowerAppManagementApp).", claims.AppID))
			return
		}
		if r.URL.Query().Get("api-version") == "" && strings.HasPrefix(r.URL.Path, "/bap"+envPath) {
			bapError(w, http.StatusBadRequest, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.")
			return
		}
		fn(w, r)
	}
}

func (s *BAPService) environmentJSON(r *http.Request, e *Environment) map[string]any {
	props := map[string]any{
		"tenantId": sandbox.TenantID, "azureRegion": e.AzureRegion, "displayName": e.DisplayName,
		"createdTime": e.Created, "provisioningState": "Succeeded", "environmentSku": e.Sku, "isDefault": e.IsDefault,
		"states": map[string]any{"management": map[string]any{"id": "NotSpecified"}, "runtime": map[string]any{"id": "Enabled"}},
	}
	if e.CreatedBy != "" {
		props["createdBy"] = map[string]any{"displayName": e.CreatedBy, "userPrincipalName": e.CreatedBy, "type": "User"}
	}
	if e.UniqueName != "" {
		props["databaseType"] = "CommonDataService"
		props["linkedEnvironmentMetadata"] = map[string]any{
			"uniqueName": e.UniqueName, "domainName": e.UniqueName, "friendlyName": e.DisplayName,
			"instanceUrl":    "https://" + r.Host + "/dataverse/" + e.UniqueName + "/",
			"instanceApiUrl": "https://" + r.Host + "/dataverse/" + e.UniqueName,
			"instanceState":  "Ready", "version": "9.2.25011.00180",
		}
	}
	return map[string]any{
		"id": "/providers/Microsoft.BusinessAppPlatform/scopes/admin/environments/" + e.Name, "type": "Microsoft.BusinessAppPlatform/scopes/environments",
		"location": e.Location, "name": e.Name, "properties": props,
	}
}

func (s *BAPService) listEnvironments(w http.ResponseWriter, r *http.Request) {
	out := []any{}
	for _, e := range s.api.t.Environments {
		out = append(out, s.environmentJSON(r, e))
	}
	sandbox.WriteJSON(w, http.StatusOK, map[string]any{"value": out})
}

// PolicyPageSize is how many policies one page of the policy list holds. The real service's page
// size is not documented (assumed to page like other admin API lists, with `nextLink`); the sandbox
// pages small so that a client reading only the first page misses policies.
var PolicyPageSize = 2

func (s *BAPService) listPolicies(w http.ResponseWriter, r *http.Request) {
	start := 0
	if tok := r.URL.Query().Get("$skiptoken"); tok != "" {
		n, err := strconv.Atoi(tok)
		if err != nil || n < 0 || n > len(s.api.t.Policies) {
			bapError(w, http.StatusBadRequest, "InvalidSkipToken", "The $skiptoken is not valid.")
			return
		}
		start = n
	}
	end := min(start+max(PolicyPageSize, 1), len(s.api.t.Policies))
	out := []any{}
	for _, p := range s.api.t.Policies[start:end] {
		d := map[string]any{}
		for k, v := range def(p) {
			if k != "connectorGroups" { // the list carries the definitions without their groups
				d[k] = v
			}
		}
		out = append(out, map[string]any{"policyDefinition": d})
	}
	body := map[string]any{"value": out}
	if end < len(s.api.t.Policies) {
		q := r.URL.Query()
		q.Set("$skiptoken", strconv.Itoa(end))
		body["nextLink"] = "https://" + r.Host + "/bap" + policyPath + "?" + q.Encode()
	}
	sandbox.WriteJSON(w, http.StatusOK, body)
}

func (s *BAPService) getPolicy(w http.ResponseWriter, r *http.Request) {
	p := s.find(r.PathValue("name"))
	if p == nil {
		bapError(w, http.StatusNotFound, "PolicyNotFound", fmt.Sprintf("The policy '%s' was not found.", r.PathValue("name")))
		return
	}
	sandbox.WriteJSON(w, http.StatusOK, p)
}

func (s *BAPService) find(name string) map[string]any {
	for _, p := range s.api.t.Policies {
		if strings.EqualFold(str(def(p)["name"]), name) {
			return p
		}
	}
	return nil
}

func (s *BAPService) deletePolicy(w http.ResponseWriter, r *http.Request) {
	for i, p := range s.api.t.Policies {
		if strings.EqualFold(str(def(p)["name"]), r.PathValue("name")) {
			s.api.t.Policies = append(s.api.t.Policies[:i], s.api.t.Policies[i+1:]...)
			w.WriteHeader(http.StatusOK)
			return
		}
	}
	bapError(w, http.StatusNotFound, "PolicyNotFound", fmt.Sprintf("The policy '%s' was not found.", r.PathValue("name")))
}

func (s *BAPService) createPolicy(w http.ResponseWriter, r *http.Request) {
	p, ok := s.decodePolicy(w, r)
	if !ok {
		return
	}
	d := def(p)
	for _, q := range s.api.t.Policies {
		if strings.EqualFold(str(def(q)["displayName"]), str(d["displayName"])) {
			bapError(w, http.StatusConflict, "PolicyNameConflict", fmt.Sprintf("A policy named '%s' already exists.", str(d["displayName"])))
			return
		}
	}
	d["name"] = s.api.t.nextID("8a")
	now := time.Now().UTC().Format(time.RFC3339Nano)
	d["createdTime"], d["lastModifiedTime"] = now, now
	d["createdBy"] = map[string]any{"displayName": "c4sctl"}
	d["lastModifiedBy"] = map[string]any{"displayName": "c4sctl"}
	d["etag"] = s.api.t.nextID("e0")
	d["isLegacySchemaVersion"] = false
	s.api.t.Policies = append(s.api.t.Policies, p)
	sandbox.WriteJSON(w, http.StatusCreated, p)
}

func (s *BAPService) patchPolicy(w http.ResponseWriter, r *http.Request) {
	old := s.find(r.PathValue("name"))
	if old == nil {
		bapError(w, http.StatusNotFound, "PolicyNotFound", fmt.Sprintf("The policy '%s' was not found.", r.PathValue("name")))
		return
	}
	p, ok := s.decodePolicy(w, r)
	if !ok {
		return
	}
	d, od := def(p), def(old)
	d["name"] = od["name"]
	d["createdTime"], d["createdBy"], d["isLegacySchemaVersion"] = od["createdTime"], od["createdBy"], od["isLegacySchemaVersion"]
	d["lastModifiedTime"] = time.Now().UTC().Format(time.RFC3339Nano)
	d["lastModifiedBy"] = map[string]any{"displayName": "c4sctl"}
	d["etag"] = s.api.t.nextID("e0")
	s.api.PutPolicy(p)
	sandbox.WriteJSON(w, http.StatusOK, p)
}

var classifications = map[string]bool{"Confidential": true, "General": true, "Blocked": true}

// decodePolicy reads and validates a policy body as the service would.
func (s *BAPService) decodePolicy(w http.ResponseWriter, r *http.Request) (map[string]any, bool) {
	var p map[string]any
	b, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	if err == nil {
		err = json.Unmarshal(b, &p)
	}
	bad := func(msg string) (map[string]any, bool) {
		bapError(w, http.StatusBadRequest, "InvalidPolicy", msg)
		return nil, false
	}
	if err != nil || p == nil {
		return bad("The request body is not a valid policy: expected a JSON object with policyDefinition.")
	}
	d, ok := p["policyDefinition"].(map[string]any)
	if !ok {
		return bad("policyDefinition is required.")
	}
	if strings.TrimSpace(str(d["displayName"])) == "" {
		return bad("policyDefinition.displayName is required.")
	}
	if !classifications[str(d["defaultConnectorsClassification"])] {
		return bad("policyDefinition.defaultConnectorsClassification must be Confidential, General or Blocked.")
	}
	for _, k := range []string{"etag", "createdBy", "createdTime", "lastModifiedBy", "lastModifiedTime", "isLegacySchemaVersion"} {
		if v, ok := d[k]; ok && !emptyValue(v) {
			// Sandbox strictness: the service sets these; a client that sends them back is echoing
			// a read, which the sandbox refuses so that it shows (docs/api/powerplatform.md). Empty
			// values pass: the TF provider sends createdBy and lastModifiedBy as {"displayName": ""}
			// on every create and update (its DTO's omitempty does not omit a struct), and the
			// service accepts them.
			return bad(fmt.Sprintf("policyDefinition.%s is read-only and cannot be set.", k))
		}
	}
	envs, _ := d["environments"].([]any)
	switch str(d["environmentType"]) {
	case "AllEnvironments":
	case "OnlyEnvironments", "ExceptEnvironments":
		if len(envs) == 0 && str(d["environmentType"]) == "OnlyEnvironments" {
			return bad("policyDefinition.environments must name at least one environment when environmentType is OnlyEnvironments.")
		}
	default:
		return bad(fmt.Sprintf("policyDefinition.environmentType '%s' is not valid: expected AllEnvironments, ExceptEnvironments or OnlyEnvironments.", str(d["environmentType"])))
	}
	for _, e := range envs {
		em, _ := e.(map[string]any)
		name := str(em["name"])
		var env *Environment
		for _, x := range s.api.t.Environments {
			if strings.EqualFold(x.Name, name) {
				env = x
			}
		}
		// Environments are named by id (TF provider dto.go dlpEnvironmentDto and test data): a
		// display name or unique name is not an environment here.
		if env == nil {
			return bad(fmt.Sprintf("Environment '%s' does not exist: policyDefinition.environments[].name must be an environment id.", name))
		}
		if id := str(em["id"]); id != "" && !strings.EqualFold(id, "/providers/Microsoft.BusinessAppPlatform/scopes/admin/environments/"+env.Name) {
			return bad(fmt.Sprintf("Environment id '%s' does not match its name '%s'.", id, name))
		}
	}
	groups, _ := d["connectorGroups"].([]any)
	seen := map[string]string{}
	for _, g := range groups {
		gm, _ := g.(map[string]any)
		class := str(gm["classification"])
		if !classifications[class] {
			return bad(fmt.Sprintf("connectorGroups: unknown classification '%s'.", class))
		}
		cs, _ := gm["connectors"].([]any)
		for i, c := range cs {
			cm, _ := c.(map[string]any)
			id := str(cm["id"])
			if id == "" {
				return bad("connectorGroups: every connector needs an id.")
			}
			if t := str(cm["type"]); t != connectorTypeValue {
				return bad(fmt.Sprintf("Connector '%s' has type '%s'; expected '%s'.", id, t, connectorTypeValue))
			}
			apiName, ok := strings.CutPrefix(strings.ToLower(id), strings.ToLower(connectorIDPrefix))
			conn := s.api.t.Connector(apiName)
			if !ok || conn == nil || strings.Contains(apiName, "/") {
				return bad(fmt.Sprintf("Connector '%s' does not exist.", id))
			}
			if prev, dup := seen[strings.ToLower(id)]; dup {
				return bad(fmt.Sprintf("Connector '%s' is in both the %s and %s groups.", id, prev, class))
			}
			seen[strings.ToLower(id)] = class
			// Stored as the service answers it: canonical id, display name in `name`.
			cs[i] = map[string]any{"id": connectorIDPrefix + conn.APIName, "name": conn.DisplayName, "type": connectorTypeValue}
		}
	}
	if msg := checkCustomConnectorRules(p); msg != "" {
		return bad(msg)
	}
	return p, true
}

// emptyValue tells whether a JSON value carries nothing: null, "", or an object of such values.
func emptyValue(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case map[string]any:
		for _, e := range x {
			if !emptyValue(e) {
				return false
			}
		}
		return true
	}
	return false
}

// customRuleClassifications are the classifications of a custom connector URL pattern rule (TF
// provider resource_dlp_policy.go data_group Business/NonBusiness/Blocked/Ignore, sent as
// Confidential/General/Blocked/Ignore by helpers.go convertConnectorRuleClassificationValues).
var customRuleClassifications = map[string]bool{"Confidential": true, "General": true, "Blocked": true, "Ignore": true}

// checkCustomConnectorRules validates customConnectorUrlPatternsDefinition.rules: known
// classifications, a non-empty pattern, orders 1..n without gaps or repeats, and the last rule the
// catch-all "*" (every policy the service returns in the TF provider's test data and examples ends
// with it; assumed that the service refuses a list without it).
func checkCustomConnectorRules(p map[string]any) string {
	def, _ := p["customConnectorUrlPatternsDefinition"].(map[string]any)
	if def == nil {
		return ""
	}
	rules, _ := def["rules"].([]any)
	orders := map[int]string{}
	for _, r := range rules {
		rm, _ := r.(map[string]any)
		class := str(rm["customConnectorRuleClassification"])
		if !customRuleClassifications[class] {
			return fmt.Sprintf("customConnectorUrlPatternsDefinition: unknown customConnectorRuleClassification '%s'.", class)
		}
		pattern := strings.TrimSpace(str(rm["pattern"]))
		if pattern == "" {
			return "customConnectorUrlPatternsDefinition: every rule needs a pattern."
		}
		o, ok := rm["order"].(float64)
		if !ok || o != float64(int(o)) || o < 1 {
			return "customConnectorUrlPatternsDefinition: every rule needs an order (1, 2, ...)."
		}
		if _, dup := orders[int(o)]; dup {
			return fmt.Sprintf("customConnectorUrlPatternsDefinition: two rules have order %d.", int(o))
		}
		orders[int(o)] = pattern
	}
	for i := 1; i <= len(orders); i++ {
		if _, ok := orders[i]; !ok {
			return fmt.Sprintf("customConnectorUrlPatternsDefinition: rule orders must run 1..%d without gaps.", len(orders))
		}
	}
	if len(orders) > 0 && orders[len(orders)] != "*" {
		return "customConnectorUrlPatternsDefinition: the last rule must be the \"*\" pattern."
	}
	return ""
}
