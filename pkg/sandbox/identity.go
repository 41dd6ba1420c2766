package sandbox

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/golang-jwt/jwt/v5"
)

// The sandbox tenant and the app registration c4sctl signs in with. The secret is a test value
// of the sandbox, but c4sctl still treats it as a secret (never printed or stored).
const (
	TenantID     = "7c4f5e2a-1b3d-4e6f-8a9b-0c1d2e3f4a5b"
	TenantDomain = "contoso-sandbox.onmicrosoft.com"
	ClientID     = "5e1d7c2a-3b4f-4a6e-8d9c-0b1a2c3d4e5f"
	ClientSecret = "sandbox-client-secret-do-not-use-in-production"
	// AppObjectID is the service principal's object id in the directory.
	AppObjectID = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
)

// App is an app registration of the sandbox tenant.
type App struct {
	ClientID    string
	Secret      string
	ObjectID    string
	DisplayName string
	// CertificatesPEM are the certificates whose keys may sign client assertions.
	CertificatesPEM [][]byte
	// Roles are the admin-consented application permissions per token audience.
	Roles map[string][]string
}

// Apps is the sandbox tenant's app registrations.
type Apps struct {
	mu   sync.Mutex
	apps map[string]*App
}

// Get returns the app with that client id, or nil.
func (a *Apps) Get(clientID string) *App {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.apps[clientID]
}

// Put adds or replaces an app.
func (a *Apps) Put(app *App) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.apps[app.ClientID] = app
}

// GrantRoles adds application permissions for an audience to an app.
func (a *Apps) GrantRoles(clientID, audience string, roles ...string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	app := a.apps[clientID]
	if app == nil {
		return
	}
	if app.Roles == nil {
		app.Roles = map[string][]string{}
	}
	app.Roles[audience] = append(app.Roles[audience], roles...)
}

// Apps returns the tenant's app registrations.
func (s *Server) Apps() *Apps { return s.appRegs }

func newApps() *Apps {
	return &Apps{apps: map[string]*App{
		ClientID: {ClientID: ClientID, Secret: ClientSecret, ObjectID: AppObjectID, DisplayName: "c4sctl", Roles: map[string][]string{}},
	}}
}

// aadError writes an error body shaped like the Microsoft identity platform's.
func aadError(w http.ResponseWriter, status int, code, aadsts, msg string) {
	WriteJSON(w, status, map[string]any{
		"error":             code,
		"error_description": aadsts + ": " + msg,
		"error_codes":       []int{atoiSafe(strings.TrimPrefix(aadsts, "AADSTS"))},
	})
}

func atoiSafe(s string) int {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// registerIdentity serves the Microsoft identity platform's endpoints used by MSAL / azidentity
// for the client credentials grant: tenant discovery, instance discovery and the token endpoint.
func registerIdentity(s *Server) {
	s.root.HandleFunc("GET /common/discovery/instance", func(w http.ResponseWriter, r *http.Request) {
		s.log.record("GET /common/discovery/instance")
		host := r.Host
		WriteJSON(w, http.StatusOK, map[string]any{
			"tenant_discovery_endpoint": fmt.Sprintf("https://%s/%s/v2.0/.well-known/openid-configuration", host, TenantID),
			"api-version":               "1.1",
			"metadata":                  []map[string]any{{"preferred_network": host, "preferred_cache": host, "aliases": []string{host}}},
		})
	})
	s.root.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		s.log.record("GET /{tenant}/v2.0/.well-known/openid-configuration")
		tenant := r.PathValue("tenant")
		if !knownTenant(tenant) {
			aadError(w, http.StatusBadRequest, "invalid_tenant", "AADSTS90002", fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID.", tenant))
			return
		}
		base := "https://" + r.Host + "/" + TenantID
		WriteJSON(w, http.StatusOK, map[string]any{
			"token_endpoint":                        base + "/oauth2/v2.0/token",
			"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
			"device_authorization_endpoint":         base + "/oauth2/v2.0/devicecode",
			"issuer":                                base + "/v2.0",
			"jwks_uri":                              base + "/discovery/v2.0/keys",
			"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
			"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
			"tenant_region_scope":                   "EU",
		})
	})
	s.root.HandleFunc("POST /{tenant}/oauth2/v2.0/token", func(w http.ResponseWriter, r *http.Request) {
		s.log.record("POST /{tenant}/oauth2/v2.0/token")
		s.tokenEndpoint(w, r)
	})
}

func knownTenant(t string) bool {
	return strings.EqualFold(t, TenantID) || strings.EqualFold(t, TenantDomain) || t == "organizations"
}

func (s *Server) tokenEndpoint(w http.ResponseWriter, r *http.Request) {
	if !knownTenant(r.PathValue("tenant")) {
		aadError(w, http.StatusBadRequest, "invalid_request", "AADSTS90002", fmt.Sprintf("Tenant '%s' not found.", r.PathValue("tenant")))
		return
	}
	if err := r.ParseForm(); err != nil {
		aadError(w, http.StatusBadRequest, "invalid_request", "AADSTS900144", "The request body must contain the following parameter: 'grant_type'.")
		return
	}
	if gt := r.PostForm.Get("grant_type"); gt != "client_credentials" {
		aadError(w, http.StatusBadRequest, "unsupported_grant_type", "AADSTS70003", fmt.Sprintf("The app requested an unsupported grant type '%s'. The sandbox supports client_credentials.", gt))
		return
	}
	clientID := r.PostForm.Get("client_id")
	app := s.appRegs.Get(clientID)
	if app == nil {
		aadError(w, http.StatusBadRequest, "unauthorized_client", "AADSTS700016", fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'.", clientID, TenantDomain))
		return
	}
	switch {
	case r.PostForm.Get("client_secret") != "":
		if r.PostForm.Get("client_secret") != app.Secret {
			aadError(w, http.StatusUnauthorized, "invalid_client", "AADSTS7000215", "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.")
			return
		}
	case r.PostForm.Get("client_assertion") != "":
		if !verifyAssertion(app, r.PostForm.Get("client_assertion")) {
			aadError(w, http.StatusUnauthorized, "invalid_client", "AADSTS700027", "The certificate with identifier used to sign the client assertion is not registered on application.")
			return
		}
	default:
		aadError(w, http.StatusUnauthorized, "invalid_client", "AADSTS7000218", "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
		return
	}
	scope := r.PostForm.Get("scope")
	aud, ok := strings.CutSuffix(strings.Fields(scope + " x")[0], "/.default")
	if !ok {
		aadError(w, http.StatusBadRequest, "invalid_scope", "AADSTS1002012", fmt.Sprintf("The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", scope))
		return
	}
	tok, exp, err := s.Tokens.Issue(Claims{
		TenantID: TenantID, AppID: app.ClientID, ObjectID: app.ObjectID, Roles: app.Roles[aud],
		RegisteredClaims: jwt.RegisteredClaims{Audience: jwt.ClaimStrings{aud}, Issuer: "https://" + r.Host + "/" + TenantID + "/v2.0", Subject: app.ObjectID},
	})
	if err != nil {
		aadError(w, http.StatusInternalServerError, "server_error", "AADSTS50000", "could not issue token")
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"token_type": "Bearer", "expires_in": exp, "ext_expires_in": exp, "access_token": tok})
}

func verifyAssertion(app *App, assertion string) bool {
	for _, pemBytes := range app.CertificatesPEM {
		blk, _ := pem.Decode(pemBytes)
		if blk == nil {
			continue
		}
		cert, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			continue
		}
		_, err = jwt.Parse(assertion, func(*jwt.Token) (any, error) { return cert.PublicKey, nil },
			jwt.WithValidMethods([]string{"RS256", "PS256", "ES256"}), jwt.WithAudience(""), jwt.WithoutClaimsValidation())
		if err == nil {
			return true
		}
	}
	return false
}
