// Package powerplatform is the adapter for the Power Platform side of the deployment guide:
// data loss prevention policies (step 5) through the Power Platform admin API ("BAP"), the
// msdyn_viva environment and its System Administrators (step 7) and the Copilot for Sales admin
// settings (step 8) through the environment's Dataverse Web API. It talks plain HTTP through
// env.HTTPClient with azidentity tokens (pkg/providers/entra). Endpoints, fields and values with
// their sources: docs/api/powerplatform.md.
package powerplatform

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/c4sctl/c4sctl/pkg/providers/attrs"
	"io"
	"net/http"
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
	// DefaultBAPEndpoint is the public cloud's Power Platform admin API.
	DefaultBAPEndpoint = "https://api.bap.microsoft.com"
	// BAPScope is the token scope of the admin API (the PowerApps service).
	BAPScope = "https://service.powerapps.com/.default"
	// VivaEnvironment is the environment the first Copilot for Sales sign-in creates.
	VivaEnvironment = "msdyn_viva"
	// SystemAdministratorTemplate is the role template id of System Administrator.
	SystemAdministratorTemplate = "627090ff-40a3-4053-8790-584edc5be201"

	bapEnvironments = "/providers/Microsoft.BusinessAppPlatform/scopes/admin/environments?api-version=2023-06-01"
	bapPolicies     = "/providers/PowerPlatform.Governance/v2/policies"
	step7           = "it is created by the first seller's sign-in (guide step 7)"
)

// clouds are the admin API host and token scope per Microsoft cloud. Source:
// microsoft/terraform-provider-power-platform internal/constants/constants.go.
var clouds = map[string]struct{ bap, scope string }{
	"public":    {DefaultBAPEndpoint, BAPScope},
	"usgov":     {"https://gov.api.bap.microsoft.us", "https://service.powerapps.us/.default"},
	"usgovhigh": {"https://high.api.bap.microsoft.us", "https://high.service.apps.appsplatform.us/.default"},
	"dod":       {"https://api.bap.appsplatform.us", "https://service.apps.appsplatform.us/.default"},
	"china":     {"https://api.bap.partner.microsoftonline.cn", "https://service.powerapps.cn/.default"},
}

// Provider is the "powerplatform" provider.
type Provider struct{}

// New returns the provider.
func New() providers.Provider { return &Provider{} }

// Name is the provider block label.
func (*Provider) Name() string { return "powerplatform" }

// ConfigSchema: the Microsoft sign-in attributes and the endpoint overrides.
func (*Provider) ConfigSchema() *schema.Block {
	attrs := entra.Attributes()
	attrs = append(attrs,
		&schema.Attribute{Name: "bap_endpoint", Type: cty.String, Optional: true, Validate: httpsURL,
			Description: "Power Platform admin API base URL; default: the cloud's (https://api.bap.microsoft.com for public)."},
		&schema.Attribute{Name: "dataverse_url", Type: cty.String, Optional: true, Validate: httpsURL,
			Description: "Dataverse URL of the environment (https://ORG.crm.dynamics.com); by default taken from the environment list."},
	)
	return &schema.Block{Description: "Power Platform admin API and Dataverse (guide steps 5, 7 and 8).", Attributes: attrs}
}

// httpsURL validates endpoint settings.
var httpsURL = attrs.HTTPSURL("https://api.bap.microsoft.com")

// SandboxConfig points the provider at the sandbox's bap service (the Dataverse URL comes from
// the sandbox's environment list).
func (*Provider) SandboxConfig(baseURL string) map[string]cty.Value {
	vals := entra.SandboxValues(baseURL, sandbox.TenantID, sandbox.ClientID, sandbox.ClientSecret)
	vals["bap_endpoint"] = cty.StringVal(strings.TrimSuffix(baseURL, "/") + "/bap")
	return vals
}

// Configure builds the client.
func (p *Provider) Configure(_ context.Context, config cty.Value, env *providers.Env) (providers.Client, error) {
	s, env, cred, err := entra.Connect(config, env)
	if err != nil {
		return nil, err
	}
	cl, ok := clouds[s.Cloud]
	if !ok {
		return nil, fmt.Errorf("unknown cloud %q; use one of public, usgov, usgovhigh, dod, china", s.Cloud)
	}
	bap := attrs.String(config, "bap_endpoint")
	if bap == "" {
		bap = cl.bap
	}
	for name, v := range map[string]string{"bap_endpoint": bap, "dataverse_url": attrs.String(config, "dataverse_url")} {
		if v != "" {
			if err := httpx.CheckEndpoint(v); err != nil {
				return nil, fmt.Errorf("%s: %v", name, err)
			}
			if err := httpsURL(cty.StringVal(v)); err != nil {
				return nil, fmt.Errorf("%s: %v", name, err)
			}
		}
	}
	c := &Client{http: entra.Client(env.HTTPClient, cred), cred: cred, bapScope: cl.scope, bap: strings.TrimSuffix(bap, "/"), dataverse: strings.TrimSuffix(attrs.String(config, "dataverse_url"), "/"), pageSize: 500, clientID: s.ClientID}
	c.identity = s.Identity()
	c.identity["bap_endpoint"] = c.bap
	c.identity["dataverse_url"] = c.dataverse
	plain := func(f func(providers.PlanRequest) providers.PlanResponse) func(context.Context, providers.PlanRequest) (providers.PlanResponse, error) {
		return func(_ context.Context, req providers.PlanRequest) (providers.PlanResponse, error) { return f(req), nil }
	}
	c.Dispatch = providers.Dispatch{Provider: "powerplatform", Handlers: map[string]providers.Handler{
		"powerplatform_dlp_connector_rule": {Read: c.readRule, Apply: c.applyRule, Plan: plain(planRule)},
		"powerplatform_dlp_policy": {Read: c.readPolicy, Apply: c.applyPolicy, Plan: func(_ context.Context, req providers.PlanRequest) (providers.PlanResponse, error) {
			return planPolicy(req)
		}},
		"powerplatform_environment":    {Read: c.readEnvironment},
		"dataverse_environment_admins": {Read: c.readAdmins, Apply: c.applyAdmins, Plan: plain(c.planAdmins)},
		"copilot_for_sales_settings":   {Read: c.readSettings, Apply: c.applySettings, Plan: plain(c.planSettings)},
	}}
	return c, nil
}

// Identity is where the client signs in and sends its requests.
func (c *Client) Identity() providers.Identity { return c.identity }

// Client is the configured provider.
type Client struct {
	providers.Dispatch

	http      *http.Client
	cred      azcore.TokenCredential
	bap       string
	bapScope  string
	dataverse string // override of the environment's instance URL
	identity  providers.Identity
	pageSize  int
	clientID  string // the app c4sctl signs in as (named in the steps that add it to an environment)
}

// APIError is an error answer of the admin API or Dataverse.
type APIError struct {
	API        string // "Power Platform admin API" or "Dataverse"
	Method     string
	Path       string // without query
	Status     int
	Code       string
	Message    string
	RetryAfter string
	Reauthed   bool // the answer came after a new sign-in on a first 401 (entra.Transport)
}

// HTTPStatus is the answer's status (providers.HTTPStatuser).
func (e *APIError) HTTPStatus() int { return e.Status }

func (e *APIError) Error() string {
	msg := fmt.Sprintf("%s %s %s: %d %s", e.API, e.Method, e.Path, e.Status, http.StatusText(e.Status))
	if e.Code != "" || e.Message != "" {
		msg += fmt.Sprintf(" (%s: %s)", e.Code, e.Message)
	}
	switch {
	case e.Status == http.StatusTooManyRequests:
		wait := "a while"
		if e.RetryAfter != "" {
			wait = e.RetryAfter + " seconds"
		}
		msg += fmt.Sprintf(". The service is throttling requests and asked to retry after %s; run c4sctl again then", wait)
	case e.Status == http.StatusUnauthorized:
		msg += entra.UnauthorizedHint(e.Reauthed, "the "+e.API)
	case e.Status == http.StatusForbidden && e.API == "Dataverse":
		msg += ". Add the app c4sctl signs in with as an application user of the environment with the System Administrator role (Power Platform admin centre > Environments > the environment > Settings > Users + permissions > Application users)"
	case e.Status == http.StatusForbidden:
		msg += ". Register the app c4sctl signs in with as a Power Platform management application (`pac admin application register` or New-PowerAppManagementApp), or sign in as a Power Platform admin"
	case e.Status >= 500:
		msg += ". The service failed; try again later"
	}
	return msg
}

func (c *Client) token(ctx context.Context, scope string) (string, error) {
	tok, err := c.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{scope}})
	if err != nil {
		return "", fmt.Errorf("sign in to Microsoft Entra ID for %s: %w", strings.TrimSuffix(scope, "/.default"), err)
	}
	return tok.Token, nil
}

// do sends one request and decodes a JSON answer into out (when non-nil).
func (c *Client) do(ctx context.Context, api, scope, method, rawURL string, body, out any, hdr map[string]string) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, rawURL, rd)
	if err != nil {
		return fmt.Errorf("%s: bad request URL: %v", api, err)
	}
	tok, err := c.token(ctx, scope)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s %s: %w", api, method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return fmt.Errorf("%s %s %s: reading the answer: %w", api, method, req.URL.Path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := &APIError{API: api, Method: method, Path: req.URL.Path, Status: resp.StatusCode, RetryAfter: resp.Header.Get("Retry-After"), Reauthed: entra.Reauthenticated(resp)}
		e.decodeBody(b)
		return e
	}
	if out != nil && resp.StatusCode != http.StatusNoContent {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s %s: unexpected answer (not the expected JSON): %v", api, method, req.URL.Path, err)
		}
	}
	return nil
}

// decodeBody reads the error body both APIs answer, {"error":{"code":"...","message":"..."}}
// (Dataverse: Microsoft Learn, "Compose HTTP requests and handle errors"; admin API: ARM style,
// docs/api/powerplatform.md). A body of another shape leaves Code and Message empty.
func (e *APIError) decodeBody(b []byte) {
	var eb struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(b, &eb) == nil {
		e.Code, e.Message = eb.Error.Code, truncate(eb.Error.Message, 500)
	}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func (c *Client) bapDo(ctx context.Context, method, path string, body, out any) error {
	return c.do(ctx, "Power Platform admin API", c.bapScope, method, c.bap+path, body, out, nil)
}

func isStatus(err error, status int) bool {
	var e *APIError
	return errors.As(err, &e) && e.Status == status
}

// --- environments ---------------------------------------------------------------------------

// Environment is one entry of the admin API's environment list.
type Environment struct {
	Name, DisplayName, UniqueName, Sku, Location, Region, State, InstanceURL string
	IsDefault                                                                bool
}

func (c *Client) environments(ctx context.Context) ([]Environment, error) {
	type envDTO struct {
		Name       string `json:"name"`
		Location   string `json:"location"`
		Properties struct {
			DisplayName       string `json:"displayName"`
			AzureRegion       string `json:"azureRegion"`
			EnvironmentSku    string `json:"environmentSku"`
			IsDefault         bool   `json:"isDefault"`
			ProvisioningState string `json:"provisioningState"`
			States            struct {
				Runtime struct {
					ID string `json:"id"`
				} `json:"runtime"`
			} `json:"states"`
			Linked *struct {
				UniqueName  string `json:"uniqueName"`
				InstanceURL string `json:"instanceUrl"`
			} `json:"linkedEnvironmentMetadata"`
		} `json:"properties"`
	}
	var out []Environment
	err := c.bapList(ctx, bapEnvironments, func(m json.RawMessage) error {
		var e envDTO
		if err := json.Unmarshal(m, &e); err != nil {
			return fmt.Errorf("unexpected environment JSON: %v", err)
		}
		env := Environment{Name: e.Name, DisplayName: e.Properties.DisplayName, Sku: e.Properties.EnvironmentSku, Location: e.Location,
			Region: e.Properties.AzureRegion, State: e.Properties.States.Runtime.ID, IsDefault: e.Properties.IsDefault}
		if env.State == "" {
			env.State = e.Properties.ProvisioningState
		}
		if e.Properties.Linked != nil {
			env.UniqueName, env.InstanceURL = e.Properties.Linked.UniqueName, e.Properties.Linked.InstanceURL
		}
		out = append(out, env)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list environments: %w", err)
	}
	return out, nil
}

// maxListPages bounds how many pages one admin API list may have before c4sctl gives up.
const maxListPages = 1000

// bapList reads every page of an admin API collection ({"value":[...],"nextLink":"..."}; ARM's
// `nextLink`, or OData's `@odata.nextLink`), calling each for every element. A next link is
// followed only on the admin API's host, so the token never goes elsewhere; running past
// maxListPages is an error, never a silently short list.
func (c *Client) bapList(ctx context.Context, path string, each func(json.RawMessage) error) error {
	next := c.bap + path
	for page := 0; next != ""; page++ {
		if page >= maxListPages {
			return fmt.Errorf("%s: more than %d pages; giving up", strings.SplitN(path, "?", 2)[0], maxListPages)
		}
		var body struct {
			Value     []json.RawMessage `json:"value"`
			NextLink  string            `json:"nextLink"`
			ODataNext string            `json:"@odata.nextLink"`
		}
		if err := c.do(ctx, "Power Platform admin API", c.bapScope, "GET", next, nil, &body, nil); err != nil {
			return err
		}
		for _, v := range body.Value {
			if err := each(v); err != nil {
				return err
			}
		}
		next = body.NextLink
		if next == "" {
			next = body.ODataNext
		}
		if next != "" && !strings.HasPrefix(next, c.bap+"/") {
			return fmt.Errorf("%s: the next page link points outside the admin API (%s); refusing to follow it", strings.SplitN(path, "?", 2)[0], redactURL(next))
		}
	}
	return nil
}

// findEnvironment matches an environment by id, Dataverse unique name or display name; nil when
// none matches.
func (c *Client) findEnvironment(ctx context.Context, name string) (*Environment, error) {
	envs, err := c.environments(ctx)
	if err != nil {
		return nil, err
	}
	return matchEnvironment(envs, name)
}

func matchEnvironment(envs []Environment, name string) (*Environment, error) {
	for i := range envs {
		if strings.EqualFold(envs[i].Name, name) || (envs[i].UniqueName != "" && strings.EqualFold(envs[i].UniqueName, name)) {
			return &envs[i], nil
		}
	}
	var found []*Environment
	for i := range envs {
		if strings.EqualFold(envs[i].DisplayName, name) {
			found = append(found, &envs[i])
		}
	}
	switch len(found) {
	case 0:
		return nil, nil
	case 1:
		return found[0], nil
	}
	return nil, fmt.Errorf("%d environments are named %q; name the environment by its id (%s or %s)", len(found), name, found[0].Name, found[1].Name)
}

var environmentSchema = &schema.Resource{Type: "powerplatform_environment", Provider: "powerplatform", DataSource: true,
	Description: "A Power Platform environment (by default msdyn_viva, created by the first Copilot for Sales sign-in): whether it exists, its id, type, region, state and Dataverse URL.",
	Attributes: []*schema.Attribute{
		{Name: "name", Type: cty.String, Optional: true, Default: cty.StringVal(VivaEnvironment), Description: "Display name, Dataverse unique name or id of the environment."},
		{Name: "exists", Type: cty.Bool, Computed: true, Description: "Whether the environment exists."},
		{Name: "id", Type: cty.String, Computed: true, Description: "Environment id (name in the admin API)."},
		{Name: "display_name", Type: cty.String, Computed: true},
		{Name: "type", Type: cty.String, Computed: true, Description: "Environment SKU: Default, Production, Sandbox, Trial, Developer."},
		{Name: "region", Type: cty.String, Computed: true, Description: "Geography (location), e.g. europe."},
		{Name: "state", Type: cty.String, Computed: true, Description: "Runtime state, e.g. Enabled."},
		{Name: "url", Type: cty.String, Computed: true, Description: "Dataverse instance URL; null without Dataverse."},
	}}

func (c *Client) readEnvironment(ctx context.Context, req providers.ReadRequest) (providers.ReadResponse, error) {
	name := attrs.String(req.Config, "name")
	if name == "" {
		name = VivaEnvironment
	}
	env, err := c.findEnvironment(ctx, name)
	if err != nil {
		return providers.ReadResponse{}, err
	}
	null := cty.NullVal(cty.String)
	vals := map[string]cty.Value{"name": cty.StringVal(name), "exists": cty.False, "id": null, "display_name": null, "type": null, "region": null, "state": null, "url": null}
	if env == nil {
		msg := fmt.Sprintf("environment %s does not exist yet", name)
		if strings.EqualFold(name, VivaEnvironment) {
			msg += ": " + step7 + "; resources that depend on it are deferred until then"
		}
		return providers.ReadResponse{Value: cty.ObjectVal(vals), Warnings: []string{msg}}, nil
	}
	vals["exists"] = cty.True
	vals["id"] = cty.StringVal(env.Name)
	vals["display_name"] = cty.StringVal(env.DisplayName)
	vals["type"] = attrs.StringOrNull(env.Sku)
	vals["region"] = attrs.StringOrNull(env.Location)
	vals["state"] = attrs.StringOrNull(env.State)
	vals["url"] = attrs.StringOrNull(env.InstanceURL)
	return providers.ReadResponse{ID: env.Name, Value: cty.ObjectVal(vals)}, nil
}

// Resources lists the resource types and data sources.
func (*Provider) Resources() []*schema.Resource {
	return []*schema.Resource{ruleSchema, policySchema, environmentSchema, adminsSchema, settingsSchema}
}

// --- cty helpers ----------------------------------------------------------------------------

// getBool is a bool attribute, false when unset.
func getBool(v cty.Value, name string) bool {
	b, _ := attrs.Bool(v, name)
	return b
}

// configOr returns the config's attribute value or a null of type t.
func configOr(cfg cty.Value, name string, t cty.Type) cty.Value {
	a := attrs.Get(cfg, name)
	if a == cty.NilVal || !a.IsWhollyKnown() {
		return cty.NullVal(t)
	}
	return a
}

func containsFold(xs []string, s string) bool {
	for _, x := range xs {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
