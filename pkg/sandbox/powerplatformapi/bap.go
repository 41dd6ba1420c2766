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

func (s *BAPService) listPolicies(w http.ResponseWriter, _ *http.Request) {
	out := []any{}
	for _, p := range s.api.t.Policies {
		d := map[string]any{}
		for k, v := range def(p) {
			if k != "connectorGroups" { // the list carries the definitions without their groups
				d[k] = v
			}
		}
		out = append(out, map[string]any{"policyDefinition": d})
	}
	sandbox.WriteJSON(w, http.StatusOK, map[string]any{"value": out})
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
	d["createdTime"], d["createdBy"] = od["createdTime"], od["createdBy"]
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
	envs, _ := d["environments"].([]any)
	switch str(d["environmentType"]) {
	case "AllEnvironments":
	case "OnlyEnvironments", "ExceptEnvironments":
		if len(envs) == 0 && str(d["environmentType"]) == "OnlyEnvironments" {
			return bad("policyDefinition.environments must name at least one environment when environmentType is OnlyEnvironments.")
		}
	default:
		return bad("policyDefinition.environmentType must be AllEnvironments, ExceptEnvironments or OnlyEnvironments.")
	}
	for _, e := range envs {
		em, _ := e.(map[string]any)
		if s.api.t.Environment(str(em["name"])) == nil {
			return bad(fmt.Sprintf("Environment '%s' does not exist.", str(em["name"])))
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
		for _, c := range cs {
			cm, _ := c.(map[string]any)
			id := strings.ToLower(str(cm["id"]))
			if id == "" {
				return bad("connectorGroups: every connector needs an id.")
			}
			if prev, dup := seen[id]; dup {
				return bad(fmt.Sprintf("Connector '%s' is in both the %s and %s groups.", str(cm["id"]), prev, class))
			}
			seen[id] = class
		}
	}
	return p, true
}
