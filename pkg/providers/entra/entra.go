// Package entra builds Microsoft Entra ID (azidentity) credentials from a provider block. It is
// shared by the providers that sign in to Microsoft clouds (teams, microsoft365, powerplatform).
package entra

import (
	"context"
	"crypto"
	"crypto/x509"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/c4sctl/c4sctl/pkg/httpx"
	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/providers/attrs"
	"github.com/c4sctl/c4sctl/pkg/schema"
	"github.com/zclconf/go-cty/cty"
)

// Cloud is a Microsoft cloud's sign-in and Graph endpoints.
type Cloud struct {
	Name      string
	LoginHost string // authority host, e.g. https://login.microsoftonline.com/
	Graph     string // e.g. https://graph.microsoft.com
}

// Clouds are the national clouds c4sctl knows, by the names used in provider blocks.
// Sources: https://learn.microsoft.com/graph/deployments
var Clouds = map[string]Cloud{
	"public":    {"public", "https://login.microsoftonline.com/", "https://graph.microsoft.com"},
	"usgov":     {"usgov", "https://login.microsoftonline.com/", "https://graph.microsoft.com"}, // GCC uses the commercial endpoints
	"usgovhigh": {"usgovhigh", "https://login.microsoftonline.us/", "https://graph.microsoft.us"},
	"dod":       {"dod", "https://login.microsoftonline.us/", "https://dod-graph.microsoft.us"},
	"china":     {"china", "https://login.chinacloudapi.cn/", "https://microsoftgraph.chinacloudapi.cn"},
}

// AuthMethods are the values of the `auth` attribute.
var AuthMethods = []string{"client_secret", "client_certificate", "workload_identity", "azure_cli", "managed_identity", "device_code", "environment"}

// Methods document AuthMethods (in the same order): what each needs. Sources: azidentity's
// credential constructors (NewClientSecretCredential, NewClientCertificateCredential,
// NewWorkloadIdentityCredential reads AZURE_FEDERATED_TOKEN_FILE, NewAzureCLICredential runs
// `az account get-access-token`, NewManagedIdentityCredential, NewDeviceCodeCredential,
// NewEnvironmentCredential reads the AZURE_* variables).
var Methods = []schema.AuthMethod{
	{Name: "client_secret", Summary: "an app registration with a client secret (pipelines, a first try)", Needs: []string{"tenant_id", "client_id", "client_secret"}},
	{Name: "client_certificate", Summary: "an app registration with a certificate (preferred to a secret)", Needs: []string{"tenant_id", "client_id", "client_certificate_path"}, Optional: []string{"client_certificate_password"}},
	{Name: "workload_identity", Summary: "federation from a CI system (GitHub Actions, Azure DevOps, Kubernetes): no secret at all", Needs: []string{"tenant_id", "client_id"}, Extra: []string{"AZURE_FEDERATED_TOKEN_FILE (the CI system's OIDC token, written to a file)"}},
	{Name: "azure_cli", Summary: "the person or service principal signed in to the Azure CLI", Optional: []string{"tenant_id"}, Extra: []string{"az on PATH", "az login --tenant TENANT_ID --allow-no-subscriptions"}},
	{Name: "managed_identity", Summary: "an Azure VM, container or Functions identity (a user-assigned one: its client_id)", Optional: []string{"client_id"}},
	{Name: "device_code", Summary: "a person signs in in a browser (delegated: the person's roles count, not the app's)", Optional: []string{"tenant_id", "client_id"}, Extra: []string{"an app registration that allows public client flows (client_id), or azidentity's default public client"}},
	{Name: "environment", Summary: "whatever the AZURE_* variables describe (azidentity's EnvironmentCredential): a secret or a certificate", Extra: []string{"AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH"}},
}

// Attributes are the sign-in attributes every Microsoft provider block has.
func Attributes() []*schema.Attribute {
	return []*schema.Attribute{
		{Name: "tenant_id", Type: cty.String, Optional: true, Env: "AZURE_TENANT_ID", Description: "Microsoft Entra tenant id or primary domain (default: AZURE_TENANT_ID)."},
		{Name: "cloud", Type: cty.String, Optional: true, Default: cty.StringVal("public"), Enum: []string{"public", "usgov", "usgovhigh", "dod", "china"}, Description: "Microsoft cloud; selects the sign-in and API endpoints."},
		{Name: "auth", Type: cty.String, Optional: true, Default: cty.StringVal("environment"), Enum: AuthMethods, Description: "How c4sctl signs in: client_secret, client_certificate, workload_identity (CI federation), azure_cli, managed_identity, device_code (a person), or environment (azidentity's EnvironmentCredential: the AZURE_* variables)."},
		{Name: "client_id", Type: cty.String, Optional: true, Env: "AZURE_CLIENT_ID", Description: "Application (client) id of the app registration (default: AZURE_CLIENT_ID)."},
		{Name: "client_secret", Type: cty.String, Optional: true, Env: "AZURE_CLIENT_SECRET", Sensitive: true, Description: "Client secret (default: AZURE_CLIENT_SECRET). Prefer the environment variable to writing it in a file."},
		{Name: "client_certificate_path", Type: cty.String, Optional: true, Env: "AZURE_CLIENT_CERTIFICATE_PATH", Description: "PEM or PKCS#12 file with the certificate and private key (default: AZURE_CLIENT_CERTIFICATE_PATH)."},
		{Name: "client_certificate_password", Type: cty.String, Optional: true, Env: "AZURE_CLIENT_CERTIFICATE_PASSWORD", Sensitive: true, Description: "Password of the certificate file (default: AZURE_CLIENT_CERTIFICATE_PASSWORD)."},
		{Name: "login_endpoint", Type: cty.String, Optional: true, Description: "Override of the sign-in authority host (https), e.g. for a sovereign cloud or the sandbox."},
		{Name: "ca_file", Type: cty.String, Optional: true, Description: "Extra PEM certificate authority to trust (the standalone sandbox's ca.pem, a TLS-inspecting proxy)."},
	}
}

// SandboxValues are the sign-in values that point a Microsoft provider at the sandbox.
func SandboxValues(baseURL, tenantID, clientID, secret string) map[string]cty.Value {
	return map[string]cty.Value{
		"tenant_id":      cty.StringVal(tenantID),
		"auth":           cty.StringVal("client_secret"),
		"client_id":      cty.StringVal(clientID),
		"client_secret":  cty.StringVal(secret),
		"login_endpoint": cty.StringVal(strings.TrimSuffix(baseURL, "/") + "/"),
	}
}

// Settings are the decoded sign-in attributes.
type Settings struct {
	TenantID, Cloud, Auth, ClientID, ClientSecret, CertPath, CertPassword, LoginEndpoint, CAFile string
}

// Decode reads the sign-in attributes from a provider block value, filling gaps from the
// AZURE_* environment variables.
func Decode(cfg cty.Value, getenv func(string) string) Settings {
	s := Settings{
		TenantID:      str(cfg, "tenant_id"),
		Cloud:         str(cfg, "cloud"),
		Auth:          str(cfg, "auth"),
		ClientID:      str(cfg, "client_id"),
		ClientSecret:  str(cfg, "client_secret"),
		CertPath:      str(cfg, "client_certificate_path"),
		CertPassword:  str(cfg, "client_certificate_password"),
		LoginEndpoint: str(cfg, "login_endpoint"),
		CAFile:        str(cfg, "ca_file"),
	}
	fill := func(dst *string, env string) {
		if *dst == "" {
			*dst = getenv(env)
		}
	}
	fill(&s.TenantID, "AZURE_TENANT_ID")
	fill(&s.ClientID, "AZURE_CLIENT_ID")
	fill(&s.ClientSecret, "AZURE_CLIENT_SECRET")
	fill(&s.CertPath, "AZURE_CLIENT_CERTIFICATE_PATH")
	fill(&s.CertPassword, "AZURE_CLIENT_CERTIFICATE_PASSWORD")
	if s.Cloud == "" {
		s.Cloud = "public"
	}
	if s.Auth == "" {
		s.Auth = "environment"
	}
	return s
}

// CloudEndpoints returns the cloud's endpoints with the login override applied.
func (s Settings) CloudEndpoints() (Cloud, error) {
	c, ok := Clouds[s.Cloud]
	if !ok {
		return Cloud{}, fmt.Errorf("unknown cloud %q; use one of public, usgov, usgovhigh, dod, china", s.Cloud)
	}
	if s.LoginEndpoint != "" {
		c.LoginHost = strings.TrimSuffix(s.LoginEndpoint, "/") + "/"
	}
	return c, nil
}

// Credential builds the azidentity credential the settings describe. Every credential sends its
// requests through env.HTTPClient, so retries, logging redaction and sandbox trust apply.
func Credential(s Settings, env *providers.Env) (azcore.TokenCredential, error) {
	c, err := s.CloudEndpoints()
	if err != nil {
		return nil, err
	}
	if err := httpx.CheckEndpoint(c.LoginHost); err != nil {
		return nil, fmt.Errorf("login_endpoint: %v", err)
	}
	if !strings.HasPrefix(c.LoginHost, "https://") {
		return nil, fmt.Errorf("login_endpoint %q must be an https URL", c.LoginHost)
	}
	opts := azcore.ClientOptions{
		Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: c.LoginHost, Services: map[cloud.ServiceName]cloud.ServiceConfiguration{}},
		Transport: env.HTTPClient,
		Retry:     policy.RetryOptions{MaxRetries: -1}, // the shared HTTP layer retries
	}
	// The sandbox and private clouds have no instance-discovery metadata.
	disco := c.LoginHost != Clouds[s.Cloud].LoginHost
	need := func(v, attr, envName string) error {
		if v == "" {
			return fmt.Errorf("auth = %q needs %s (or the %s environment variable)", s.Auth, attr, envName)
		}
		return nil
	}
	// Checked for every method: azidentity's EnvironmentCredential reads
	// AZURE_CLIENT_CERTIFICATE_PATH itself and quotes it in its errors.
	if s.CertPath != "" {
		if err := attrs.PathNotContent("client_certificate_path (or AZURE_CLIENT_CERTIFICATE_PATH)", s.CertPath, "write the PEM (certificate and key) to a file only you can read (mode 0600) and give its path"); err != nil {
			return nil, err
		}
	}
	switch s.Auth {
	case "client_secret":
		for _, e := range []error{need(s.TenantID, "tenant_id", "AZURE_TENANT_ID"), need(s.ClientID, "client_id", "AZURE_CLIENT_ID"), need(s.ClientSecret, "client_secret", "AZURE_CLIENT_SECRET")} {
			if e != nil {
				return nil, e
			}
		}
		return azidentity.NewClientSecretCredential(s.TenantID, s.ClientID, s.ClientSecret, &azidentity.ClientSecretCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: disco})
	case "client_certificate":
		for _, e := range []error{need(s.TenantID, "tenant_id", "AZURE_TENANT_ID"), need(s.ClientID, "client_id", "AZURE_CLIENT_ID"), need(s.CertPath, "client_certificate_path", "AZURE_CLIENT_CERTIFICATE_PATH")} {
			if e != nil {
				return nil, e
			}
		}
		certs, key, err := loadCert(s.CertPath, s.CertPassword)
		if err != nil {
			return nil, err
		}
		return azidentity.NewClientCertificateCredential(s.TenantID, s.ClientID, certs, key, &azidentity.ClientCertificateCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: disco})
	case "workload_identity":
		return azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{ClientOptions: opts, TenantID: s.TenantID, ClientID: s.ClientID, DisableInstanceDiscovery: disco})
	case "azure_cli":
		// azidentity runs `az account get-access-token`; without az its error comes at the first
		// request, once per provider, and does not say what to do.
		if _, err := lookPath("az"); err != nil {
			return nil, fmt.Errorf("auth = \"azure_cli\" needs the Azure CLI (az) on PATH, and it was not found: install it (https://learn.microsoft.com/cli/azure/install-azure-cli), sign in with `az login --tenant %s --allow-no-subscriptions`, then run c4sctl again", orPlaceholder(s.TenantID, "TENANT_ID"))
		}
		return azidentity.NewAzureCLICredential(&azidentity.AzureCLICredentialOptions{TenantID: s.TenantID})
	case "managed_identity":
		o := &azidentity.ManagedIdentityCredentialOptions{ClientOptions: opts}
		if s.ClientID != "" {
			o.ID = azidentity.ClientID(s.ClientID)
		}
		return azidentity.NewManagedIdentityCredential(o)
	case "device_code":
		return azidentity.NewDeviceCodeCredential(&azidentity.DeviceCodeCredentialOptions{ClientOptions: opts, TenantID: s.TenantID, ClientID: s.ClientID, DisableInstanceDiscovery: disco,
			UserPrompt: func(_ context.Context, m azidentity.DeviceCodeMessage) error {
				fmt.Fprintln(os.Stderr, m.Message)
				return nil
			}})
	case "environment":
		return azidentity.NewEnvironmentCredential(&azidentity.EnvironmentCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: disco})
	}
	return nil, fmt.Errorf("unknown auth %q; use one of %s", s.Auth, strings.Join(AuthMethods, ", "))
}

// lookPath finds a program on PATH (a variable so that tests can take az away).
var lookPath = exec.LookPath

func orPlaceholder(v, placeholder string) string {
	if v == "" {
		return placeholder
	}
	return v
}

func loadCert(path, password string) ([]*x509.Certificate, crypto.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read client certificate: %w", err)
	}
	var pw []byte
	if password != "" {
		pw = []byte(password)
	}
	certs, key, err := azidentity.ParseCertificates(b, pw)
	if err != nil {
		return nil, nil, fmt.Errorf("client certificate %s: %v (expected PEM with certificate and key, or PKCS#12)", path, err)
	}
	return certs, key, nil
}

func str(v cty.Value, name string) string {
	if v.IsNull() || !v.IsKnown() || !v.Type().IsObjectType() || !v.Type().HasAttribute(name) {
		return ""
	}
	a := v.GetAttr(name)
	if a.IsNull() || !a.IsKnown() || a.Type() != cty.String {
		return ""
	}
	return a.AsString()
}

// Identity is where these settings sign in: tenant, client id, cloud and authority host.
func (s Settings) Identity() providers.Identity {
	id := providers.Identity{"tenant_id": s.TenantID, "client_id": s.ClientID, "cloud": s.Cloud}
	if c, err := s.CloudEndpoints(); err == nil {
		id["login_endpoint"] = c.LoginHost
	}
	return id
}

// WithCAFile returns env with its HTTP client also trusting the settings' ca_file, if any.
func (s Settings) WithCAFile(env *providers.Env) (*providers.Env, error) {
	if s.CAFile == "" {
		return env, nil
	}
	hc, err := httpx.TrustPEMFile(env.HTTPClient, s.CAFile)
	if err != nil {
		return nil, err
	}
	e := *env
	e.HTTPClient = hc
	return &e, nil
}

// Connect is the start of every Microsoft provider's Configure: it decodes the sign-in
// attributes, makes env's HTTP client trust ca_file, and builds the credential over it (a
// *Reauth: send the provider's API requests through Client or Transport so that a 401 signs in
// again once).
func Connect(config cty.Value, env *providers.Env) (Settings, *providers.Env, azcore.TokenCredential, error) {
	s := Decode(config, env.Getenv)
	env, err := s.WithCAFile(env)
	if err != nil {
		return s, nil, nil, err
	}
	// The credential is renewable (Reauth): a token refused mid-run is replaced by one new
	// sign-in. Providers send their requests through Client/Transport with it.
	cred, err := NewReauth(func() (azcore.TokenCredential, error) { return Credential(s, env) })
	if err != nil {
		return s, nil, nil, err
	}
	return s, env, cred, nil
}
