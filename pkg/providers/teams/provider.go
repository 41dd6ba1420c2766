// Package teams is the adapter for the Teams side of the deployment guide: the app setup policy
// that installs and pins Copilot for Sales (step 2) and the meeting policy that allows
// transcription (step 3). Microsoft Graph has no API for either policy, so it talks to the Teams
// admin policy service the MicrosoftTeams PowerShell module uses (undocumented), with plain
// net/http through env.HTTPClient and an azidentity token (pkg/providers/entra). Endpoints,
// fields and values with their sources: docs/api/teams.md. The adapter is kept small so that it
// can follow Microsoft's changes.
package teams

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/c4sctl/c4sctl/pkg/providers/attrs"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/c4sctl/c4sctl/pkg/httpx"
	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/providers/entra"
	"github.com/c4sctl/c4sctl/pkg/sandbox"
	"github.com/c4sctl/c4sctl/pkg/schema"
	"github.com/zclconf/go-cty/cty"
)

const (
	// DefaultEndpoint is the public cloud's Teams admin policy service.
	DefaultEndpoint = "https://api.interfaces.records.teams.microsoft.com"
	// Scope is the token scope of the "Skype and Teams Tenant Admin API".
	Scope = "48ac35b8-9aa8-4d74-927d-1f4a14a0b239/.default"

	meetingType  = "TeamsMeetingPolicy"
	setupType    = "TeamsAppSetupPolicy"
	configPrefix = "/Skype.Policy/configurations/"
	groupsPath   = "/Skype.Policy/groupPolicyAssignments"
	// maxGroups is the documented limit of group assignments per policy type.
	maxGroups = 64
)

// Provider is the "teams" provider.
type Provider struct{}

// New returns the provider.
func New() providers.Provider { return &Provider{} }

// Name is the provider block label.
func (*Provider) Name() string { return "teams" }

// ConfigSchema: the Microsoft sign-in attributes and the policy service endpoint.
func (*Provider) ConfigSchema() *schema.Block {
	attrs := entra.Attributes()
	attrs = append(attrs, &schema.Attribute{Name: "endpoint", Type: cty.String, Optional: true, Default: cty.StringVal(DefaultEndpoint), Validate: httpsURL,
		Description: "Teams admin policy service base URL (e.g. https://api.interfaces.records.gov.teams.microsoft.us for GCC High, or the sandbox)."})
	return &schema.Block{Description: "Teams admin policy service (guide steps 2 and 3). The app needs the Teams Administrator role.", Attributes: attrs}
}

// httpsURL validates endpoint settings.
var httpsURL = attrs.HTTPSURL(DefaultEndpoint)

// SandboxConfig points the provider at the sandbox's teams service.
func (*Provider) SandboxConfig(baseURL string) map[string]cty.Value {
	vals := entra.SandboxValues(baseURL, sandbox.TenantID, sandbox.ClientID, sandbox.ClientSecret)
	vals["endpoint"] = cty.StringVal(strings.TrimSuffix(baseURL, "/") + "/teams")
	return vals
}

// Configure builds the client.
func (p *Provider) Configure(_ context.Context, config cty.Value, env *providers.Env) (providers.Client, error) {
	s, env, cred, err := entra.Connect(config, env)
	if err != nil {
		return nil, err
	}
	ep := getStr(config, "endpoint")
	if ep == "" {
		ep = DefaultEndpoint
	}
	if err := httpx.CheckEndpoint(ep); err != nil {
		return nil, fmt.Errorf("endpoint: %v", err)
	}
	if err := httpsURL(cty.StringVal(ep)); err != nil {
		return nil, fmt.Errorf("endpoint: %v", err)
	}
	log := env.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Client{http: entra.Client(env.HTTPClient, cred), cred: cred, endpoint: strings.TrimSuffix(ep, "/"), log: log}
	c.identity = s.Identity()
	c.identity["endpoint"] = c.endpoint
	c.Dispatch = providers.Dispatch{Provider: "teams", Handlers: map[string]providers.Handler{
		"teams_meeting_policy":   {Read: c.readMeeting, Apply: c.applyMeeting, Plan: c.planMeeting},
		"teams_app_setup_policy": {Read: c.readSetup, Apply: c.applySetup, Plan: c.planSetup},
	}}
	return c, nil
}

// Client is the configured provider.
type Client struct {
	providers.Dispatch

	http     *http.Client
	cred     azcore.TokenCredential
	endpoint string
	log      *slog.Logger // method, path and status only: never headers or bodies
	identity providers.Identity
}

// Identity is where the client signs in and sends its requests.
func (c *Client) Identity() providers.Identity { return c.identity }

// APIError is an error answer of the Teams admin policy service.
type APIError struct {
	Method  string
	Path    string
	Status  int
	Code    string
	Message string
	// Reauthed: the answer came after c4sctl signed in again on a first 401 (entra.Transport).
	Reauthed bool
}

// HTTPStatus is the answer's status (providers.HTTPStatuser).
func (e *APIError) HTTPStatus() int { return e.Status }

func (e *APIError) Error() string {
	msg := strings.TrimSuffix(e.Message, ".") // the hints below start a sentence
	if msg == "" {
		msg = "(no message)"
	}
	s := fmt.Sprintf("Teams admin policy service: %s %s answered %d %s: %s", e.Method, e.Path, e.Status, http.StatusText(e.Status), msg)
	switch e.Status {
	case http.StatusUnauthorized:
		s += entra.UnauthorizedHint(e.Reauthed, "the Teams admin API (scope "+Scope+")") + "."
	case http.StatusForbidden:
		s += ". The app's service principal needs the Teams Administrator role: Entra admin center > Roles and administrators > Teams Administrator > Add assignments (role changes can take a while to apply)."
	case http.StatusTooManyRequests:
		s += ". The service is throttling; wait a few minutes and run again."
	default:
		if e.Status >= 500 {
			s += ". The service had a problem; run again later."
		}
	}
	return s
}

// IsNotFound reports whether err is a 404 answer.
func IsNotFound(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == http.StatusNotFound
}

// do sends one request. body (if any) is JSON-encoded; out (if any) receives the JSON answer.
func (c *Client) do(ctx context.Context, method, path string, body, out any) error {
	tok, err := c.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{Scope}})
	if err != nil {
		return fmt.Errorf("sign in for the Teams admin API: %w", err)
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.endpoint+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("Teams admin policy service: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	c.log.Debug("teams admin policy service", "method", method, "path", path, "status", resp.StatusCode)
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return fmt.Errorf("Teams admin policy service: %s %s: reading the answer: %w", method, path, err)
	}
	if resp.StatusCode >= 400 {
		err := parseError(method, path, resp.StatusCode, raw)
		err.Reauthed = entra.Reauthenticated(resp)
		return err
	}
	if out == nil || len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	if err := providers.DecodeJSON(raw, out); err != nil {
		return fmt.Errorf("Teams admin policy service: %s %s: unexpected answer: %v", method, path, err)
	}
	return nil
}

// getOne reads one object (a policy, an assignment) into out. Several public clients of the
// service ([GT] decodeValue, [GT] PolicyGet) see single reads answered as a JSON array; a
// one-element array is read like the object, an empty one as absent (404), and a longer one by
// the element whose Identity is identity (when identity is not empty).
func (c *Client) getOne(ctx context.Context, path, identity string, out any) error {
	var raw json.RawMessage
	if err := c.do(ctx, http.MethodGet, path, nil, &raw); err != nil {
		return err
	}
	return decodeOne(path, identity, raw, out)
}

// decodeOne is getOne's reading of an answer.
func decodeOne(path, identity string, raw []byte, out any) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '[' {
		var list []json.RawMessage
		if err := providers.DecodeJSON(raw, &list); err != nil {
			return fmt.Errorf("Teams admin policy service: GET %s: unexpected answer: %v", path, err)
		}
		switch {
		case len(list) == 0:
			return &APIError{Method: http.MethodGet, Path: path, Status: http.StatusNotFound, Message: "the service answered an empty list"}
		case len(list) == 1:
			raw = list[0]
		default:
			var pick json.RawMessage
			for _, el := range list {
				var id struct {
					Identity string `json:"Identity"`
				}
				if json.Unmarshal(el, &id) == nil && identity != "" && sameIdentity(id.Identity, identity) {
					pick = el
				}
			}
			if pick == nil {
				return fmt.Errorf("Teams admin policy service: GET %s: unexpected answer: a list of %d objects where one was expected", path, len(list))
			}
			raw = pick
		}
	}
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return fmt.Errorf("Teams admin policy service: GET %s: the answer is empty where one object was expected", path)
	}
	if err := providers.DecodeJSON(raw, out); err != nil {
		return fmt.Errorf("Teams admin policy service: GET %s: unexpected answer: %v", path, err)
	}
	return nil
}

// doCreate sends a request (a POST, or a PUT to a new path) that creates something, through
// providers.CreateOnce: when its answer is lost, exists says whether the object is there now,
// and the request is sent again only when it is not. out is left empty when the object was
// found by exists.
func (c *Client) doCreate(ctx context.Context, method, path string, body, out any, exists func(context.Context) (bool, error)) error {
	_, err := providers.CreateOnce(ctx, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, c.do(ctx, method, path, body, out)
	}, func(ctx context.Context) (struct{}, bool, error) {
		found, err := exists(ctx)
		if found {
			c.log.Debug("teams admin policy service: the answer to a create was lost, and the object exists", "path", path)
		} else if err == nil {
			c.log.Debug("teams admin policy service: the answer to a create was lost, and the object does not exist", "path", path)
		}
		return struct{}{}, found, err
	})
	return err
}

// parseError reads the service's error body: {"error":{"code","message"}} or {"Message"}; any
// other body is quoted (shortened), never the request.
func parseError(method, path string, status int, raw []byte) *APIError {
	e := &APIError{Method: method, Path: path, Status: status}
	var env struct {
		Error *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
		Message string `json:"Message"`
	}
	if json.Unmarshal(raw, &env) == nil {
		if env.Error != nil {
			e.Code, e.Message = env.Error.Code, env.Error.Message
		} else {
			e.Message = env.Message
		}
	}
	if e.Message == "" {
		e.Message = strings.TrimSpace(string(raw))
	}
	e.Message = clip(strings.Join(strings.Fields(e.Message), " "), 400)
	return e
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// createPolicy creates a named policy of type typ. Public clients disagree on the request
// (docs/api/teams.md, "Creating a named policy"): [GT] POSTs the properties with Identity to the
// type's collection, [CIPP] PUTs them to the new instance ("best-effort"). c4sctl sends the POST
// and, when the service answers 404 or 405 (no such route or verb), logs that and sends the PUT.
// out receives the created policy when the service returns it.
func (c *Client) createPolicy(ctx context.Context, typ, identity string, body map[string]any, out any) error {
	exists := c.policyExists(typ, identity)
	err := c.doCreate(ctx, http.MethodPost, configPrefix+typ, body, out, exists)
	var ae *APIError
	if err == nil || !errors.As(err, &ae) || (ae.Status != http.StatusNotFound && ae.Status != http.StatusMethodNotAllowed) {
		return err
	}
	c.log.Info("teams admin policy service: creating a policy by POST to its collection was refused; creating it by PUT to the instance instead",
		"type", typ, "status", ae.Status)
	return c.doCreate(ctx, http.MethodPut, policyPath(typ, displayIdentity(identity)), body, out, exists)
}

func policyPath(typ, identity string) string {
	return configPrefix + typ + "/configuration/" + url.PathEscape(identity)
}

// Resources lists the resource types.
func (*Provider) Resources() []*schema.Resource {
	return []*schema.Resource{meetingPolicySchema(), appSetupPolicySchema()}
}

// --- identities ---

// identityOf returns the identity a resource value or ID names: "Global" or a policy name.
func identityOf(v cty.Value, id string) string {
	if s := getStr(v, "identity"); s != "" {
		return s
	}
	if id != "" {
		return displayIdentity(id)
	}
	return "Global"
}

func isGlobal(identity string) bool { return strings.EqualFold(strings.TrimSpace(identity), "Global") }

// displayIdentity is the attribute form of an API Identity: "Global" or the bare policy name.
func displayIdentity(apiIdentity string) string {
	if isGlobal(apiIdentity) {
		return "Global"
	}
	if len(apiIdentity) >= 4 && strings.EqualFold(apiIdentity[:4], "tag:") {
		return apiIdentity[4:]
	}
	return apiIdentity
}

// policyKey is a policy Identity as the Teams policy service compares it: "Tag:Sales", "sales"
// and " Sales " name one policy (docs/api/teams.md: both forms accepted; case: assumed).
func policyKey(identity string) string {
	return strings.ToLower(displayIdentity(strings.TrimSpace(identity)))
}

// policyIdentity is the identity of a policy type: its identity attribute, as policyKey.
func policyIdentity(kind, noun string) func(cty.Value) []schema.ObjectKey {
	return func(v cty.Value) []schema.ObjectKey { return schema.AttrKey(v, "identity", kind, noun, policyKey) }
}

func sameIdentity(a, b string) bool {
	return strings.EqualFold(displayIdentity(strings.TrimSpace(a)), displayIdentity(strings.TrimSpace(b)))
}

// attrIdentity is the identity Read reports: the configuration's spelling when it names the
// same policy (so "Tag:Sales" and "Sales" never show as a change), else the bare name.
func attrIdentity(config cty.Value, apiIdentity string) string {
	if s := getStr(config, "identity"); s != "" && sameIdentity(s, apiIdentity) {
		return s
	}
	return displayIdentity(apiIdentity)
}

func validIdentity(v cty.Value) error {
	s := strings.TrimSpace(v.AsString())
	if s == "" || len(s) > 128 || strings.ContainsAny(s, "/\\?#%") {
		return fmt.Errorf("expected \"Global\" or a policy name (at most 128 characters, none of / \\ ? # %%), got %q", v.AsString())
	}
	return nil
}

// --- cty helpers ---

func getStr(v cty.Value, name string) string {
	a := getAttr(v, name)
	if a.IsNull() || !a.IsKnown() || a.Type() != cty.String {
		return ""
	}
	return a.AsString()
}

func getAttr(v cty.Value, name string) cty.Value {
	if v == cty.NilVal || v.IsNull() || !v.IsKnown() || !v.Type().IsObjectType() || !v.Type().HasAttribute(name) {
		return cty.NullVal(cty.DynamicPseudoType)
	}
	return v.GetAttr(name)
}

// known reports whether the attribute is set and wholly known.
func known(v cty.Value, name string) bool {
	a := getAttr(v, name)
	return !a.IsNull() && a.IsWhollyKnown()
}

func boolVal(b any) cty.Value {
	if x, ok := b.(bool); ok {
		return cty.BoolVal(x)
	}
	return cty.NullVal(cty.Bool)
}

func strVal(s any) cty.Value {
	if x, ok := s.(string); ok {
		return cty.StringVal(x)
	}
	return cty.NullVal(cty.String)
}
