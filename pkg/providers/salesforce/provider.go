// Package salesforce is the adapter for the Salesforce side of the deployment guide: the
// "Microsoft Power Platform" connected app and its policies (step 6) and a permission set that
// grants API Enabled to the sellers (step 4). SOQL reads go through simpleforce's Query (with
// nextRecordsUrl paging), sObject writes through its ApexREST (single rows and sObject
// Collections, 200 records a request), and the connected app's policies through the Metadata
// API's SOAP readMetadata/updateMetadata written with encoding/xml. Tokens come from the OAuth
// 2.0 JWT bearer or client credentials flows, an existing access token, or the Salesforce CLI.
// Endpoints, fields and values with their sources: docs/api/salesforce.md.
package salesforce

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"github.com/c4sctl/c4sctl/pkg/providers/attrs"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/c4sctl/c4sctl/pkg/httpx"
	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/schema"
	"github.com/golang-jwt/jwt/v5"
	"github.com/simpleforce/simpleforce"
	"github.com/zclconf/go-cty/cty"
	"golang.org/x/sync/errgroup"
)

const (
	// DefaultLoginURL is the production login host.
	DefaultLoginURL = "https://login.salesforce.com"
	// DefaultAPIVersion is the REST / Metadata API version c4sctl speaks (Winter '25).
	DefaultAPIVersion = "62.0"

	// The sandbox org's test consumer (pkg/sandbox/salesforceapi defines the same values; a test
	// checks that they agree). Not a secret of any real org.
	sandboxConsumerKey    = "3MVG9sandboxC4sctlIntegrationConsumerKey000000000000000000000000000000000"
	sandboxConsumerSecret = "SANDBOX0CONSUMER0SECRET0DO0NOT0USE0IN0PRODUCTION"
)

// Auth methods of the provider block.
const (
	AuthJWTBearer         = "jwt_bearer"
	AuthClientCredentials = "client_credentials"
	AuthAccessToken       = "access_token"
	AuthSFCLI             = "sf_cli"
)

// Methods document the values of the `auth` attribute: what each needs. Sources:
// docs/api/salesforce.md (OAuth 2.0 JWT bearer and client credentials flows, `sf org display`).
var Methods = []schema.AuthMethod{
	{Name: AuthJWTBearer, Summary: "a connected app or external client app with a certificate; c4sctl signs in as username (pipelines)", Needs: []string{"client_id", "username", "private_key_file"}, Optional: []string{"instance_url", "login_url"},
		Extra: []string{"SF_PRIVATE_KEY (the PEM itself) instead of private_key_file"}},
	{Name: AuthClientCredentials, Summary: "a connected app or external client app with the client credentials flow and a run-as user", Needs: []string{"instance_url", "client_id", "client_secret"}},
	{Name: AuthAccessToken, Summary: "a session someone already has", Needs: []string{"instance_url"}, Extra: []string{"SF_ACCESS_TOKEN"}},
	{Name: AuthSFCLI, Summary: "the org the Salesforce CLI is signed in to (a person at a terminal)", Optional: []string{"target_org"}, Extra: []string{"sf on PATH", "sf org login web --instance-url https://MYDOMAIN.my.salesforce.com --alias ALIAS"}},
}

// Provider is the "salesforce" provider.
type Provider struct{}

// New returns the provider.
func New() providers.Provider { return &Provider{} }

// Name is the provider block label.
func (*Provider) Name() string { return "salesforce" }

var apiVersionRe = regexp.MustCompile(`^[1-9][0-9]\.0$`)

// httpsURL validates endpoint settings.
var httpsURL = attrs.HTTPSURL("https://contoso.my.salesforce.com")

// ConfigSchema describes the provider block.
func (*Provider) ConfigSchema() *schema.Block {
	return &schema.Block{Description: "A Salesforce org (guide steps 4 and 6). Secrets come from the environment or files and are never printed or stored.",
		Attributes: []*schema.Attribute{
			{Name: "instance_url", Type: cty.String, Optional: true, Env: "SF_INSTANCE_URL", Validate: httpsURL,
				Description: "The org's My Domain URL (https://contoso.my.salesforce.com); default: env SF_INSTANCE_URL, else the instance the token endpoint names. Required for client_credentials."},
			{Name: "login_url", Type: cty.String, Optional: true, Default: cty.StringVal(DefaultLoginURL), Validate: httpsURL,
				Description: "Login host of the JWT bearer flow: https://login.salesforce.com for production, https://test.salesforce.com for sandboxes."},
			{Name: "api_version", Type: cty.String, Optional: true, Default: cty.StringVal(DefaultAPIVersion),
				Validate: func(v cty.Value) error {
					if !apiVersionRe.MatchString(v.AsString()) {
						return fmt.Errorf("expected an API version such as %q, got %q", DefaultAPIVersion, v.AsString())
					}
					return nil
				}, Description: "REST and Metadata API version, e.g. \"62.0\"."},
			{Name: "auth", Type: cty.String, Optional: true, Default: cty.StringVal(AuthJWTBearer), Enum: []string{AuthJWTBearer, AuthClientCredentials, AuthAccessToken, AuthSFCLI},
				Description: "jwt_bearer (client_id, username, private key), client_credentials (client_id, client_secret), access_token (env SF_ACCESS_TOKEN and SF_INSTANCE_URL) or sf_cli (`sf org display --json`)."},
			{Name: "client_id", Type: cty.String, Optional: true, Env: "SF_CLIENT_ID", Description: "Consumer key of the connected app / external client app c4sctl signs in with; default: env SF_CLIENT_ID."},
			{Name: "username", Type: cty.String, Optional: true, Env: "SF_USERNAME", Description: "User the JWT bearer flow signs in as; default: env SF_USERNAME."},
			{Name: "private_key_file", Type: cty.String, Optional: true, Env: "SF_PRIVATE_KEY_FILE", Description: "PEM private key file of the JWT bearer flow; default: env SF_PRIVATE_KEY_FILE, or the PEM itself in env SF_PRIVATE_KEY."},
			{Name: "client_secret", Type: cty.String, Optional: true, Env: "SF_CLIENT_SECRET", Sensitive: true, Description: "Consumer secret of the client credentials flow; default: env SF_CLIENT_SECRET. Prefer the environment."},
			{Name: "target_org", Type: cty.String, Optional: true, Description: "Alias or username of the Salesforce CLI org (sf_cli); default: the CLI's default org."},
			{Name: "ca_file", Type: cty.String, Optional: true, Description: "Extra PEM certificate authority to trust (the standalone sandbox's tls.pem, a TLS-inspecting proxy)."},
			{Name: "seller_match_by", Type: cty.List(cty.String), Optional: true, Validate: validMatchBy,
				Description: "How plan's seller reconciliation finds each licensed seller's Salesforce user, rules tried in order: \"federation_id\" (the seller's user principal name equals User.FederationIdentifier, the SAML Federation ID single sign-on matches) and \"email\" (the seller's mail equals User.Email); both compare without regard to case. Default: [\"federation_id\", \"email\"]."},
		}}
}

// validMatchBy accepts a non-empty list of distinct MatchRules.
func validMatchBy(v cty.Value) error {
	if v.LengthInt() == 0 {
		return fmt.Errorf("name at least one rule: %s", strings.Join(MatchRules, ", "))
	}
	seen := map[string]bool{}
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if e.IsNull() || !e.IsKnown() {
			return fmt.Errorf("a rule is null or unknown")
		}
		r := e.AsString()
		if r != MatchFederationID && r != MatchEmail {
			return fmt.Errorf("unknown rule %q: use %s", r, strings.Join(MatchRules, " or "))
		}
		if seen[r] {
			return fmt.Errorf("rule %q is listed twice", r)
		}
		seen[r] = true
	}
	return nil
}

// MatchBy is the provider block's seller_match_by (DefaultMatchBy when not set).
func (c *Client) MatchBy() []string {
	if len(c.matchBy) == 0 {
		return DefaultMatchBy
	}
	return c.matchBy
}

// SandboxConfig points the provider at the sandbox org: /salesforce is both its instance and
// its login URL, and it signs in with the sandbox's test consumer (client credentials).
func (*Provider) SandboxConfig(baseURL string) map[string]cty.Value {
	u := strings.TrimSuffix(baseURL, "/") + "/salesforce"
	return map[string]cty.Value{
		"instance_url": cty.StringVal(u), "login_url": cty.StringVal(u), "auth": cty.StringVal(AuthClientCredentials),
		"client_id": cty.StringVal(sandboxConsumerKey), "client_secret": cty.StringVal(sandboxConsumerSecret),
	}
}

// settings are the decoded provider block and environment.
type settings struct {
	instance, login, version, auth           string
	clientID, username, keyFile, keyPEM, org string
	secret                                   string
}

func decode(config cty.Value, getenv func(string) string) settings {
	or := func(name, env string) string {
		if v := attrs.String(config, name); v != "" {
			return v
		}
		if env != "" {
			return getenv(env)
		}
		return ""
	}
	s := settings{instance: or("instance_url", "SF_INSTANCE_URL"), login: or("login_url", ""), version: or("api_version", ""), auth: or("auth", ""),
		clientID: or("client_id", "SF_CLIENT_ID"), username: or("username", "SF_USERNAME"), keyFile: or("private_key_file", "SF_PRIVATE_KEY_FILE"),
		secret: or("client_secret", "SF_CLIENT_SECRET"), org: or("target_org", "")}
	if s.keyFile == "" {
		s.keyPEM = getenv("SF_PRIVATE_KEY")
	}
	if s.login == "" {
		s.login = DefaultLoginURL
	}
	if s.version == "" {
		s.version = DefaultAPIVersion
	}
	if s.auth == "" {
		s.auth = AuthJWTBearer
	}
	s.instance, s.login = strings.TrimSuffix(s.instance, "/"), strings.TrimSuffix(s.login, "/")
	return s
}

// Configure validates the block and signs in once (so that a wrong credential fails early).
func (p *Provider) Configure(ctx context.Context, config cty.Value, env *providers.Env) (providers.Client, error) {
	getenv := env.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	s := decode(config, getenv)
	for _, a := range p.ConfigSchema().Attributes {
		v := attrs.Get(config, a.Name)
		if v == cty.NilVal || v.IsNull() || !v.IsKnown() {
			continue
		}
		if err := a.CheckEnum(v); err != nil {
			return nil, err
		}
		if a.Validate != nil {
			if err := a.Validate(v); err != nil {
				return nil, fmt.Errorf("%s: %v", a.Name, err)
			}
		}
	}
	for name, v := range map[string]string{"instance_url (or SF_INSTANCE_URL)": s.instance, "login_url": s.login} {
		if v == "" {
			continue
		}
		if err := httpx.CheckEndpoint(v); err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
	}
	if s.instance != "" {
		if err := httpsURL(cty.StringVal(s.instance)); err != nil {
			return nil, fmt.Errorf("instance_url (or SF_INSTANCE_URL): %v", err)
		}
	}
	base := env.HTTPClient
	if base == nil {
		base = http.DefaultClient
	}
	if f := attrs.String(config, "ca_file"); f != "" {
		var err error
		if base, err = httpx.TrustPEMFile(base, f); err != nil {
			return nil, err
		}
	}
	log := env.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Client{version: s.version, instance: s.instance, log: log, refused: map[string]bool{}, gaps: map[string]string{}, emptyFilter: map[string]int{}}
	c.Dispatch = providers.Dispatch{Provider: "salesforce", Handlers: map[string]providers.Handler{
		connectedAppSchema.Type:  {Read: c.readApp, Apply: c.applyApp, Plan: c.planApp},
		permissionSetSchema.Type: {Read: c.readPermSet, Apply: c.applyPermSet, Plan: c.planPermSet},
	}}
	rt := base.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	// Redirects: httpx's policy whatever the base client's, since this transport adds the token to
	// every request it sends, redirect hops included.
	c.hc = &http.Client{Transport: &transport{c: c, base: rt}, Timeout: base.Timeout, CheckRedirect: httpx.CheckRedirect, Jar: base.Jar}
	if c.hc.Timeout == 0 {
		c.hc.Timeout = 2 * time.Minute
	}
	switch s.auth {
	case AuthJWTBearer:
		var missing []string
		if s.clientID == "" {
			missing = append(missing, "client_id (or SF_CLIENT_ID)")
		}
		if s.username == "" {
			missing = append(missing, "username (or SF_USERNAME)")
		}
		if s.keyFile == "" && s.keyPEM == "" {
			missing = append(missing, "private_key_file (or SF_PRIVATE_KEY_FILE / SF_PRIVATE_KEY)")
		}
		if len(missing) > 0 {
			return nil, fmt.Errorf("auth = %q needs %s", s.auth, strings.Join(missing, ", "))
		}
		key, err := loadKey(s)
		if err != nil {
			return nil, err
		}
		c.canReauth = true
		c.login = func(ctx context.Context) (string, string, error) { return c.jwtLogin(ctx, s, key) }
	case AuthClientCredentials:
		var missing []string
		if s.instance == "" {
			missing = append(missing, "instance_url (or SF_INSTANCE_URL): the client credentials flow runs on the org's My Domain")
		}
		if s.clientID == "" {
			missing = append(missing, "client_id (or SF_CLIENT_ID)")
		}
		if s.secret == "" {
			missing = append(missing, "client_secret (or SF_CLIENT_SECRET)")
		}
		if len(missing) > 0 {
			return nil, fmt.Errorf("auth = %q needs %s", s.auth, strings.Join(missing, ", "))
		}
		c.canReauth = true
		c.login = func(ctx context.Context) (string, string, error) {
			form := url.Values{"grant_type": {"client_credentials"}, "client_id": {s.clientID}, "client_secret": {s.secret}}
			return c.tokenRequest(ctx, s.instance, form)
		}
	case AuthAccessToken:
		tok := getenv("SF_ACCESS_TOKEN")
		if tok == "" || s.instance == "" {
			return nil, fmt.Errorf("auth = %q needs the environment variables SF_ACCESS_TOKEN and SF_INSTANCE_URL (or instance_url)", s.auth)
		}
		c.login = func(context.Context) (string, string, error) { return tok, s.instance, nil }
	case AuthSFCLI:
		c.canReauth = true
		c.login = func(ctx context.Context) (string, string, error) { return sfCLILogin(ctx, s.org) }
	default:
		return nil, fmt.Errorf("auth: unknown method %q", s.auth)
	}
	tok, inst, err := c.login(ctx)
	if err != nil {
		return nil, err
	}
	if c.instance == "" {
		c.instance = strings.TrimSuffix(inst, "/")
	}
	if err := httpx.CheckEndpoint(c.instance); err != nil {
		return nil, fmt.Errorf("the sign-in named an unusable instance URL: %v", err)
	}
	if err := httpsURL(cty.StringVal(c.instance)); err != nil {
		return nil, fmt.Errorf("the sign-in named an unusable instance URL: %v", err)
	}
	c.token, c.gen = tok, 1
	c.loginURL, c.clientID = s.login, s.clientID
	c.username = s.username
	if v := attrs.Get(config, "seller_match_by"); v != cty.NilVal && !v.IsNull() && v.IsWhollyKnown() {
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			c.matchBy = append(c.matchBy, e.AsString())
		}
	}
	return c, nil
}

func loadKey(s settings) (any, error) {
	b := []byte(s.keyPEM)
	src := "SF_PRIVATE_KEY"
	if s.keyFile != "" {
		if err := attrs.PathNotContent("private_key_file (or SF_PRIVATE_KEY_FILE)", s.keyFile, "put the PEM itself in the environment variable SF_PRIVATE_KEY, or name the key's file"); err != nil {
			return nil, err
		}
		var err error
		if b, err = os.ReadFile(s.keyFile); err != nil {
			return nil, fmt.Errorf("private_key_file: %v", err)
		}
		src = s.keyFile
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("%s holds no PEM private key", src)
	}
	if k, err := x509.ParsePKCS1PrivateKey(blk.Bytes); err == nil {
		return k, nil
	}
	if k, err := x509.ParsePKCS8PrivateKey(blk.Bytes); err == nil {
		return k, nil
	}
	return nil, fmt.Errorf("%s: not an RSA private key in PKCS#1 or PKCS#8 PEM form", src)
}

// jwtLogin runs the OAuth 2.0 JWT bearer flow: an RS256 assertion (iss = consumer key, sub =
// username, aud = login URL, exp = now + 3 minutes) posted to the login host's token endpoint.
// aud is one string, not an array: Salesforce documents a single audience (the login, test or My
// Domain URL) and refuses an array with invalid_grant "audience is invalid" (docs/api/salesforce.md);
// jwt.RegisteredClaims would marshal it as an array (jwt.MarshalSingleStringAsArray).
func (c *Client) jwtLogin(ctx context.Context, s settings, key any) (string, string, error) {
	now := time.Now()
	assertion, err := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"iss": s.clientID, "sub": s.username, "aud": s.login, "exp": jwt.NewNumericDate(now.Add(3 * time.Minute)),
	}).SignedString(key)
	if err != nil {
		return "", "", fmt.Errorf("sign the JWT bearer assertion: %v", err)
	}
	return c.tokenRequest(ctx, s.login, url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {assertion}})
}

// tokenRequest posts to HOST/services/oauth2/token and returns the access token and instance URL.
func (c *Client) tokenRequest(ctx context.Context, host string, form url.Values) (string, string, error) {
	req, err := http.NewRequestWithContext(context.WithValue(ctx, rawKey{}, true), http.MethodPost, host+"/services/oauth2/token", strings.NewReader(form.Encode()))
	if err != nil {
		return "", "", fmt.Errorf("Salesforce sign-in: bad token URL: %v", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return "", "", fmt.Errorf("Salesforce sign-in at %s: %w", host, unwrapURLError(err))
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var body struct {
		AccessToken string `json:"access_token"`
		InstanceURL string `json:"instance_url"`
		ID          string `json:"id"`
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	_ = json.Unmarshal(b, &body)
	if resp.StatusCode != http.StatusOK || body.AccessToken == "" {
		msg := fmt.Sprintf("Salesforce sign-in (%s flow) at %s failed: %d", form.Get("grant_type"), host, resp.StatusCode)
		if body.Error != "" {
			msg += fmt.Sprintf(" %s: %s", body.Error, truncate(body.Description, 300))
		}
		switch body.Error {
		case "invalid_client_id", "invalid_client":
			msg += ". Check client_id and the secret (SF_CLIENT_SECRET), and that the app allows this flow"
		case "invalid_grant":
			msg += ". Check the username, that the app's certificate matches the private key, that the user is pre-authorized for the app (admin-approved users, profile or permission set), and login_url (test.salesforce.com for sandboxes)"
		}
		return "", "", &SignInError{Status: resp.StatusCode, msg: msg}
	}
	c.setOrgID(orgIDOf(body.ID))
	return body.AccessToken, body.InstanceURL, nil
}

// SignInError is a refused or failed token request; Status is the token endpoint's answer.
type SignInError struct {
	Status int
	msg    string
}

func (e *SignInError) Error() string { return e.msg }

// HTTPStatus is the token endpoint's status (providers.HTTPStatuser): a 5xx is no verdict on
// the credentials, nor is a 200 without an access token (an answer of another shape).
func (e *SignInError) HTTPStatus() int { return e.Status }

// orgIDOf reads the org id from the token response's identity URL
// (https://login.salesforce.com/id/{orgId}/{userId}; OAuth 2.0 token response, "id":
// https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_endpoints.htm). "" when it
// has another shape.
func orgIDOf(idURL string) string {
	u, err := url.Parse(idURL)
	if err != nil {
		return ""
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	for i := 0; i+2 < len(parts); i++ {
		if parts[i] == "id" {
			return parts[i+1]
		}
	}
	return ""
}

func (c *Client) setOrgID(id string) {
	if id == "" {
		return
	}
	c.idMu.Lock()
	c.orgID = id
	c.idMu.Unlock()
}

// Identity is where the client signs in and sends its requests: the org (from the sign-in's
// identity URL, when the flow gives one), its instance, the login URL, the connected app's
// consumer key and the user.
func (c *Client) Identity() providers.Identity {
	c.idMu.Lock()
	defer c.idMu.Unlock()
	id := providers.Identity{"instance_url": c.instance, "login_url": c.loginURL, "client_id": c.clientID, "username": c.username}
	if c.orgID != "" {
		id["org_id"] = c.orgID
	}
	return id
}

// sfCLILogin reads the Salesforce CLI's stored org (`sf org display --json`).
func sfCLILogin(ctx context.Context, org string) (string, string, error) {
	args := []string{"org", "display", "--json"}
	if org != "" {
		args = append(args, "--target-org", org)
	}
	cmd := exec.CommandContext(ctx, "sf", args...)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	err := cmd.Run()
	var body struct {
		Status int `json:"status"`
		Result struct {
			AccessToken string `json:"accessToken"`
			InstanceURL string `json:"instanceUrl"`
		} `json:"result"`
		Message string `json:"message"`
	}
	_ = json.Unmarshal(stdout.Bytes(), &body)
	if body.Result.AccessToken == "" || body.Result.InstanceURL == "" {
		why := "it printed no access token"
		if err != nil {
			why = err.Error()
		}
		if body.Message != "" {
			why = truncate(body.Message, 300)
		}
		return "", "", fmt.Errorf("auth = \"sf_cli\": `sf %s` failed (%s); install the Salesforce CLI and sign in with `sf org login web`, or name the org with target_org", strings.Join(args, " "), why)
	}
	return body.Result.AccessToken, body.Result.InstanceURL, nil
}

// --- the client -----------------------------------------------------------------------------

// Client is the configured provider.
type Client struct {
	providers.Dispatch

	version  string
	instance string
	log      *slog.Logger
	hc       *http.Client // the Salesforce transport over the HTTP layer (pkg/httpx)

	login     func(context.Context) (token, instance string, err error)
	canReauth bool

	mu    sync.Mutex // token, gen
	token string
	gen   int

	// idMu guards orgID apart from mu: reauth signs in again while it holds mu.
	idMu  sync.Mutex
	orgID string // from the sign-in's identity URL; "" when the flow gives none

	username string // the JWT bearer flow's user, for Identity

	matchBy []string // seller_match_by: the seller reconciliation's rules, in order

	loginURL, clientID string // simpleforce's own settings (it never signs in itself)

	limitMu  sync.Mutex
	apiUsage string // last Sforce-Limit-Info api-usage, e.g. "25/5000"

	stateMu sync.Mutex
	refused map[string]bool   // apps whose policies updateMetadata refused in this run
	gaps    map[string]string // permission set -> profiles of its users lacking API Enabled
	// emptyFilter: permission set -> its assignees, when its assignee_filter matches nobody
	// (0: a set that does not exist yet)
	emptyFilter map[string]int
	logins      int

	names names // the org's objects and the service's spelling of names (names.go)
}

// APIUsage is the org's API usage as last reported (Sforce-Limit-Info), e.g. "25/5000".
func (c *Client) APIUsage() string { c.limitMu.Lock(); defer c.limitMu.Unlock(); return c.apiUsage }

// usageWarning warns when the org has used 90% of its daily API requests (Sforce-Limit-Info).
func (c *Client) usageWarning() string {
	var used, limit int
	if _, err := fmt.Sscanf(c.APIUsage(), "%d/%d", &used, &limit); err != nil || limit <= 0 || used*10 < limit*9 {
		return ""
	}
	return fmt.Sprintf("the Salesforce org has used %d of its %d API requests for the rolling 24 hours; at the limit every call fails with REQUEST_LIMIT_EXCEEDED", used, limit)
}

// Logins is the number of times the client signed in again after a refused session.
func (c *Client) Logins() int { c.mu.Lock(); defer c.mu.Unlock(); return c.logins }

func (c *Client) current() (string, int) { c.mu.Lock(); defer c.mu.Unlock(); return c.token, c.gen }

// reauth signs in again once for the session generation gen (callers that saw the same expired
// session share one sign-in).
func (c *Client) reauth(ctx context.Context, gen int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return nil
	}
	tok, _, err := c.login(ctx)
	if err != nil {
		return fmt.Errorf("the Salesforce session expired and signing in again failed: %w", err)
	}
	c.token, c.gen = tok, c.gen+1
	c.logins++
	c.log.Debug("salesforce: signed in again after INVALID_SESSION_ID")
	return nil
}

// APIError is an error answer of the Salesforce REST API ([{"message","errorCode"}]).
type APIError struct {
	Method, Path string // path without query
	Status       int
	Code         string
	Message      string
	Usage        string // Sforce-Limit-Info api-usage
	Reauthed     bool   // the request was retried after signing in again
}

// HTTPStatus is the answer's status (providers.HTTPStatuser).
func (e *APIError) HTTPStatus() int { return e.Status }

func (e *APIError) Error() string {
	msg := fmt.Sprintf("Salesforce %s %s: %d", e.Method, e.Path, e.Status)
	if e.Code != "" || e.Message != "" {
		msg += fmt.Sprintf(" %s: %s", e.Code, e.Message)
	}
	switch {
	case e.Code == "INVALID_SESSION_ID" && e.Reauthed:
		msg += ". The org refused a fresh session too: check that the user is active, has API Enabled, and may use the app c4sctl signs in with"
	case e.Code == "INVALID_SESSION_ID":
		msg += ". The session expired or was revoked and cannot be renewed with this auth method: get a new access token (e.g. `sf org display`) and run again"
	case e.Code == "REQUEST_LIMIT_EXCEEDED":
		usage := ""
		if e.Usage != "" {
			usage = " (api-usage " + e.Usage + ")"
		}
		msg += ". The org has used up its API request allowance for the rolling 24 hours" + usage + "; nothing was changed by this request. Wait until usage falls below the limit (Setup > Company Information shows it) or ask Salesforce to raise it, then run c4sctl again"
	case strings.HasPrefix(e.Code, "INSUFFICIENT_ACCESS") || e.Status == http.StatusForbidden:
		msg += ". The user c4sctl signs in as lacks a permission: it needs View Setup and Configuration, Customize Application, Manage Profiles and Permission Sets, Assign Permission Sets and Manage Connected Apps (System Administrator has them)"
	case e.Code == "MALFORMED_QUERY" || e.Code == "INVALID_FIELD":
		msg += ". A filter or name in the configuration is not valid SOQL or names no such field"
	case e.Status == http.StatusRequestURITooLong || e.Status == http.StatusRequestHeaderFieldsTooLarge:
		msg += ". The request's URI and headers exceed Salesforce's 16,384-byte limit (a long assignee_filter?); shorten the filter or list the users in assignees, which c4sctl splits into requests that fit"
	case e.Status >= 500:
		msg += ". Salesforce failed; try again later"
	}
	return msg
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func parseAPIError(method string, u *url.URL, status int, b []byte, usage string) *APIError {
	e := &APIError{Method: method, Path: u.Path, Status: status, Usage: usage}
	var arr []struct {
		Message   string `json:"message"`
		ErrorCode string `json:"errorCode"`
	}
	var obj struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	switch {
	case json.Unmarshal(b, &arr) == nil && len(arr) > 0:
		e.Code, e.Message = arr[0].ErrorCode, truncate(arr[0].Message, 500)
		if len(arr) > 1 {
			e.Message += fmt.Sprintf(" (and %d more errors)", len(arr)-1)
		}
	case json.Unmarshal(b, &obj) == nil && obj.Error != "":
		e.Code, e.Message = obj.Error, truncate(obj.Description, 500)
	default:
		e.Message = fmt.Sprintf("unexpected answer (%d bytes, not a Salesforce error body)", len(b))
	}
	return e
}

type rawKey struct{}

// transport sets the session on every REST request, reads Sforce-Limit-Info, signs in again once
// on 401 INVALID_SESSION_ID, and turns error answers into *APIError. Requests marked rawKey (the
// token endpoint, the SOAP Metadata API) pass through untouched.
type transport struct {
	c    *Client
	base http.RoundTripper
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Context().Value(rawKey{}) != nil {
		return t.base.RoundTrip(req)
	}
	if req.Method == http.MethodPatch {
		// simpleforce's PATCHes update fields of a record to given values: sending one again
		// cannot apply a change twice, so the HTTP layer may replay it when its answer is lost.
		req = req.WithContext(httpx.ReplaySafe(req.Context()))
	}
	return t.do(req)
}

// callTransport is the transport of one simpleforce call. simpleforce builds its requests
// without a context (http.NewRequest), so this puts the call's context on each of them: a
// cancelled plan stops the request in flight. It also keeps the call's failure: simpleforce
// gets an empty 200 answer instead, so that it neither logs error bodies nor panics on them,
// and sfCall returns the failure (an *APIError, or the context's error).
type callTransport struct {
	ctx  context.Context
	next http.RoundTripper
	err  error // the first failure of the call; simpleforce sends its requests one at a time
}

func (t *callTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req.WithContext(t.ctx))
	if err != nil {
		if t.err == nil {
			t.err = err
		}
		return &http.Response{StatusCode: http.StatusOK, Status: "200 OK", Header: http.Header{}, Body: io.NopCloser(strings.NewReader("{}")), Request: req}, nil
	}
	return resp, nil
}

func (t *transport) send(req *http.Request) (*http.Response, int, error) {
	// A redirect hop is checked before the token is set on it.
	if err := httpx.CheckHop(req); err != nil {
		return nil, 0, err
	}
	tok, gen := t.c.current()
	r := req.Clone(req.Context())
	if req.GetBody != nil && req.Body != nil && req.Body != http.NoBody {
		body, err := req.GetBody()
		if err != nil {
			return nil, gen, err
		}
		r.Body = body
	}
	r.Header.Set("Authorization", "Bearer "+tok)
	r.Header.Set("Accept", "application/json")
	resp, err := t.base.RoundTrip(r)
	if err != nil {
		return nil, gen, err
	}
	if li := resp.Header.Get("Sforce-Limit-Info"); li != "" {
		for _, part := range strings.Split(li, ";") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(part), "api-usage="); ok {
				t.c.limitMu.Lock()
				t.c.apiUsage = v
				t.c.limitMu.Unlock()
			}
		}
	}
	return resp, gen, nil
}

func (t *transport) do(req *http.Request) (*http.Response, error) {
	resp, gen, err := t.send(req)
	if err != nil {
		// %w: an unknown outcome (httpx.OutcomeUnknownError) must stay recognisable.
		return nil, fmt.Errorf("Salesforce %s %s: %w", req.Method, req.URL.Path, err)
	}
	reauthed := false
	if resp.StatusCode == http.StatusUnauthorized && t.c.canReauth {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		e := parseAPIError(req.Method, req.URL, resp.StatusCode, b, t.c.APIUsage())
		if e.Code != "INVALID_SESSION_ID" {
			return nil, e
		}
		ctx := req.Context()
		if err := t.c.reauth(ctx, gen); err != nil {
			return nil, err
		}
		if resp, _, err = t.send(req); err != nil {
			return nil, fmt.Errorf("Salesforce %s %s: %w", req.Method, req.URL.Path, err)
		}
		reauthed = true
	}
	if loc := resp.Header.Get("Location"); loc != "" && resp.StatusCode >= 300 && resp.StatusCode <= 399 {
		// A redirect is followed by the client (CheckRedirect, then send's CheckHop) only where
		// httpx's policy allows; a refused one is an error naming both URLs.
		to, perr := req.URL.Parse(loc)
		if perr != nil {
			resp.Body.Close()
			return nil, fmt.Errorf("Salesforce %s %s: %d with an unreadable Location", req.Method, req.URL.Path, resp.StatusCode)
		}
		if err := httpx.CheckHopURLs(req.URL, to); err != nil {
			resp.Body.Close()
			return nil, fmt.Errorf("Salesforce %s %s: %w", req.Method, req.URL.Path, err)
		}
		return resp, nil
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		e := parseAPIError(req.Method, req.URL, resp.StatusCode, b, t.c.APIUsage())
		e.Reauthed = reauthed
		return nil, e
	}
	return resp, nil
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// sfCall runs one simpleforce call on a simpleforce client of its own and returns the failure
// the transport saw, if any. simpleforce's Client keeps no state c4sctl relies on between calls
// (the session is set from Client.token on every request by the transport), so a client per call
// is what lets calls run in parallel and each carry its context; the HTTP layer bounds how many
// are in flight (httpx's per-API concurrency). A panic inside simpleforce (an answer it does not
// expect) becomes an error.
func (c *Client) sfCall(ctx context.Context, what string, fn func(sf *simpleforce.Client) error) (err error) {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	ct := &callTransport{ctx: ctx, next: c.hc.Transport}
	sf := simpleforce.NewClient(c.loginURL, c.clientID, c.version)
	sf.SetHttpClient(&http.Client{Transport: ct, Timeout: c.hc.Timeout, CheckRedirect: c.hc.CheckRedirect, Jar: c.hc.Jar})
	// The transport sets the current token on every request; the session given here only makes
	// simpleforce consider itself logged in.
	tok, _ := c.current()
	sf.SetSidLoc(tok, c.instance)
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: unexpected answer from Salesforce (%v)", what, r)
		}
	}()
	ferr := fn(sf)
	if ct.err != nil {
		return ct.err
	}
	if ferr != nil {
		if cerr := ctx.Err(); cerr != nil {
			return fmt.Errorf("%s: %w", what, cerr)
		}
		return fmt.Errorf("%s: %w", what, unwrapURLError(ferr))
	}
	return nil
}

// parallelCalls is how many requests one read sends at once at most (the batches of a lookup,
// the independent queries of a resource). The HTTP layer bounds the requests in flight to the
// org further (httpx's per-API concurrency, 16 unless C4S_HTTP_LIMITS says otherwise), across
// all resources read at once.
const parallelCalls = httpx.DefaultConcurrency

// fanOut runs fn for 0..n-1, at most parallelCalls at a time, and returns the first error (the
// others are cancelled through ctx).
func (c *Client) fanOut(ctx context.Context, n int, fn func(ctx context.Context, i int) error) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(parallelCalls)
	for i := 0; i < n; i++ {
		providers.Go(g, func() error { return fn(gctx, i) })
	}
	return g.Wait()
}

const maxPages = 500

// query runs a SOQL query and follows nextRecordsUrl to the end. The first page comes from
// simpleforce's Query; the query-more pages are read with a streaming decoder beside it, so that
// the next page is requested as soon as its link has arrived (Salesforce, like the sandbox,
// writes nextRecordsUrl before the records) and its latency overlaps reading this page's 2,000
// records: simpleforce reads and decodes a whole page before it returns.
func (c *Client) query(ctx context.Context, soql string) ([]map[string]any, error) {
	var res *simpleforce.QueryResult
	if err := c.sfCall(ctx, "SOQL query", func(sf *simpleforce.Client) error {
		var err error
		res, err = sf.Query(soql)
		return err
	}); err != nil {
		return nil, err
	}
	if res == nil {
		return nil, fmt.Errorf("SOQL query: empty answer from Salesforce")
	}
	out := make([]map[string]any, 0, len(res.Records))
	for _, r := range res.Records {
		out = append(out, map[string]any(r))
	}
	if res.Done || res.NextRecordsURL == "" {
		return out, nil
	}
	if err := checkNextRecordsURL(res.NextRecordsURL); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // a page still in flight when a later one failed
	for ch := c.queryMore(ctx, res.NextRecordsURL, 1); ch != nil; {
		p := <-ch
		if p.err != nil {
			return nil, p.err
		}
		out = append(out, p.recs...)
		ch = p.next
	}
	return out, nil
}

// checkNextRecordsURL refuses a link that is not a query-more path of this instance.
func checkNextRecordsURL(next string) error {
	if !strings.HasPrefix(next, "/services/data/") || strings.Contains(next, "://") || strings.Contains(next, "?") {
		return fmt.Errorf("SOQL query: Salesforce answered an unexpected nextRecordsUrl; stopping")
	}
	return nil
}

// morePage is one query-more page: its records, and the following page's answer when there is
// one (already requested).
type morePage struct {
	recs []map[string]any
	next <-chan morePage
	err  error
}

// queryMore requests the page at next (a nextRecordsUrl) and answers on the channel; the page
// after it is requested as soon as this page's nextRecordsUrl is read.
func (c *Client) queryMore(ctx context.Context, next string, page int) <-chan morePage {
	ch := make(chan morePage, 1)
	go func() {
		var after <-chan morePage
		var recs []map[string]any
		err := providers.Guard(func() (err error) {
			recs, err = c.streamPage(ctx, next, func(link string) error {
				if page+1 >= maxPages {
					return fmt.Errorf("SOQL query: more than %d pages; stopping", maxPages)
				}
				if err := checkNextRecordsURL(link); err != nil {
					return err
				}
				after = c.queryMore(ctx, link, page+1)
				return nil
			})
			return err
		})
		if err != nil {
			after = nil
		}
		ch <- morePage{recs: recs, next: after, err: err}
	}()
	return ch
}

// streamPage GETs a query-more page through the Salesforce transport (session, 401 sign-in again,
// error bodies as *APIError) and decodes {"totalSize","done","nextRecordsUrl","records":[...]}
// as it arrives, calling onNext with nextRecordsUrl when done is false.
func (c *Client) streamPage(ctx context.Context, next string, onNext func(string) error) ([]map[string]any, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.instance+next, nil)
	if err != nil {
		return nil, fmt.Errorf("SOQL query: %v", err)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("SOQL query: %w", unwrapURLError(err))
	}
	defer resp.Body.Close()
	bad := func(why string) error {
		return fmt.Errorf("SOQL query: unexpected answer from Salesforce (%s)", why)
	}
	dec := json.NewDecoder(resp.Body)
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, bad("not a JSON object")
	}
	var recs []map[string]any
	done, link, asked := true, "", false
	for dec.More() {
		t, err := dec.Token()
		key, ok := t.(string)
		if err != nil || !ok {
			return nil, bad("a malformed object")
		}
		switch key {
		case "done":
			if err := dec.Decode(&done); err != nil {
				return nil, bad("done")
			}
		case "nextRecordsUrl":
			if err := dec.Decode(&link); err != nil {
				return nil, bad("nextRecordsUrl")
			}
		case "records":
			if !done && link != "" {
				// The link came first: ask for the next page before reading these records.
				if err := onNext(link); err != nil {
					return nil, err
				}
				asked = true
			}
			if t, err := dec.Token(); err != nil || t != json.Delim('[') {
				if t == nil && err == nil {
					continue // "records": null
				}
				return nil, bad("records is not an array")
			}
			for dec.More() {
				var r map[string]any
				if err := dec.Decode(&r); err != nil {
					if cerr := ctx.Err(); cerr != nil {
						return nil, fmt.Errorf("SOQL query: %w", cerr)
					}
					return nil, bad("a record")
				}
				recs = append(recs, r)
			}
			if _, err := dec.Token(); err != nil {
				return nil, bad("records")
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, bad(key)
			}
		}
	}
	if !done && !asked {
		if link == "" {
			return nil, bad("done is false without nextRecordsUrl")
		}
		if err := onNext(link); err != nil { // the link came after the records
			return nil, err
		}
	}
	return recs, nil
}

// rest sends a REST request (path relative to /services/data/vXX.X/) through simpleforce's
// ApexREST and decodes the JSON answer into out (when non-nil).
func (c *Client) rest(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	var resp []byte
	if err := c.sfCall(ctx, method+" "+path, func(sf *simpleforce.Client) error {
		var err error
		resp, err = sf.ApexREST(method, "services/data/v"+c.version+"/"+path, rd)
		return err
	}); err != nil {
		return err
	}
	if out != nil && len(bytes.TrimSpace(resp)) > 0 {
		if err := json.Unmarshal(resp, out); err != nil {
			return fmt.Errorf("Salesforce %s %s: unexpected answer (not the expected JSON): %v", method, path, err)
		}
	}
	return nil
}

// soqlQuote quotes a string literal for SOQL.
func soqlQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`, "\r", `\r`, "\t", `\t`)
	return "'" + r.Replace(s) + "'"
}

// field reads a field of a record, following relationships ("Parent.Name"); nil when absent.
func field(rec map[string]any, path string) any {
	cur := any(rec)
	for _, p := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[p]
	}
	return cur
}

// str reads a string field of a record (nil, missing or not a string: "").
func str(rec map[string]any, path string) string {
	s, _ := field(rec, path).(string)
	return s
}

func sortStrings(xs []string) { sort.Strings(xs) }

func boolean(rec map[string]any, field string) (bool, bool) {
	b, ok := rec[field].(bool)
	return b, ok
}

// --- sObject Collections ----------------------------------------------------------------------

// collectionSize is the most records an sObject Collections request takes.
const collectionSize = 200

type saveResult struct {
	ID      string `json:"id"`
	Success bool   `json:"success"`
	Errors  []struct {
		StatusCode string `json:"statusCode"`
		Message    string `json:"message"`
	} `json:"errors"`
}

// collectionErrors summarises failed records (labels[i] names record i).
func collectionErrors(what string, results []saveResult, labels []string) error {
	var fails []string
	for i, r := range results {
		if r.Success {
			continue
		}
		why := "failed"
		if len(r.Errors) > 0 {
			why = r.Errors[0].StatusCode + ": " + truncate(r.Errors[0].Message, 200)
		}
		name := fmt.Sprintf("record %d", i+1)
		if i < len(labels) {
			name = labels[i]
		}
		fails = append(fails, name+" ("+why+")")
	}
	if len(fails) == 0 {
		return nil
	}
	shown := fails
	if len(shown) > 10 {
		shown = shown[:10]
	}
	more := ""
	if len(fails) > len(shown) {
		more = fmt.Sprintf(" and %d more", len(fails)-len(shown))
	}
	return fmt.Errorf("%s: %d of %d failed: %s%s", what, len(fails), len(results), strings.Join(shown, "; "), more)
}

// createRecords inserts records of one type through sObject Collections, 200 a request, one
// request at a time: the records are children of one parent (the permission set, the connected
// app), and Salesforce locks the parent while it writes each child, so that parallel writes risk
// UNABLE_TO_LOCK_ROW (Salesforce's "Record-Level Locking" guide). deleteRecords likewise.
func (c *Client) createRecords(ctx context.Context, what, typ string, records []map[string]any, labels []string) error {
	for start := 0; start < len(records); start += collectionSize {
		providers.ReportProgress(ctx, providers.Progress{Done: start, Total: len(records), Unit: "records"})
		end := min(start+collectionSize, len(records))
		batch := make([]map[string]any, 0, end-start)
		for _, r := range records[start:end] {
			rec := map[string]any{"attributes": map[string]any{"type": typ}}
			for k, v := range r {
				rec[k] = v
			}
			batch = append(batch, rec)
		}
		var results []saveResult
		if err := c.rest(ctx, http.MethodPost, "composite/sobjects", map[string]any{"allOrNone": false, "records": batch}, &results); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if len(results) != len(batch) {
			return fmt.Errorf("%s: Salesforce answered %d results for %d records", what, len(results), len(batch))
		}
		if err := collectionErrors(what, results, labels[start:end]); err != nil {
			return err
		}
	}
	return nil
}

// deleteRecords deletes records by id through sObject Collections, 200 a request.
func (c *Client) deleteRecords(ctx context.Context, what string, ids, labels []string) error {
	for start := 0; start < len(ids); start += collectionSize {
		providers.ReportProgress(ctx, providers.Progress{Done: start, Total: len(ids), Unit: "records"})
		end := min(start+collectionSize, len(ids))
		var results []saveResult
		if err := c.rest(ctx, http.MethodDelete, "composite/sobjects?allOrNone=false&ids="+strings.Join(ids[start:end], ","), nil, &results); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if len(results) != end-start {
			return fmt.Errorf("%s: Salesforce answered %d results for %d records", what, len(results), end-start)
		}
		// A record already gone is what a delete wants (a DELETE replayed after its answer was
		// lost finds them so).
		for i := range results {
			if !results[i].Success && len(results[i].Errors) > 0 && results[i].Errors[0].StatusCode == "ENTITY_IS_DELETED" {
				results[i].Success = true
			}
		}
		if err := collectionErrors(what, results, labels[start:end]); err != nil {
			return err
		}
	}
	return nil
}

// --- dispatch ---------------------------------------------------------------------------------

// Resources lists the resource types.
func (*Provider) Resources() []*schema.Resource {
	return []*schema.Resource{connectedAppSchema, permissionSetSchema}
}

// --- cty helpers ------------------------------------------------------------------------------

// changed tells whether the planned value of name is set and differs from the prior one.
func changed(prior, planned cty.Value, name string) bool {
	p, n := attrs.Get(prior, name), attrs.Get(planned, name)
	if n == cty.NilVal || n.IsNull() {
		return false
	}
	if p == cty.NilVal || p.IsNull() {
		return true
	}
	if !n.IsWhollyKnown() || !p.IsWhollyKnown() {
		return true
	}
	eq := p.Equals(n)
	return !eq.IsKnown() || eq.False()
}

// setDiff returns the elements of want missing from have and those of have missing from want,
// compared case-insensitively, sorted.
func setDiff(want, have []string) (add, remove []string) {
	in := func(xs []string, s string) bool {
		for _, x := range xs {
			if strings.EqualFold(x, s) {
				return true
			}
		}
		return false
	}
	for _, w := range want {
		if !in(have, w) {
			add = append(add, w)
		}
	}
	for _, h := range have {
		if !in(want, h) {
			remove = append(remove, h)
		}
	}
	sortStrings(add)
	sortStrings(remove)
	return add, remove
}
