// Package powerplatformapi emulates the Power Platform admin API ("BAP": environments and data
// loss prevention policies, service "bap") and the Dataverse Web API of the msdyn_viva
// environment (users, security roles, Copilot for Sales settings tables, service "dataverse").
// Both services share one tenant: the environment list lives in bap, and dataverse serves an
// organisation only once its environment exists. Endpoints, fields and values, with their
// sources, are listed in docs/api/powerplatform.md.
package powerplatformapi

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/c4sctl/c4sctl/pkg/sandbox"
	"github.com/c4sctl/c4sctl/pkg/sandbox/salesforceapi"
)

// Fixed identities of the seeded tenant.
const (
	// BAPAudience is the token audience of the Power Platform admin API.
	BAPAudience = "https://service.powerapps.com"
	// ManagementAppRole is the sandbox's stand-in for registering an app as a Power Platform
	// management application (New-PowerAppManagementApp): a role on the BAP audience.
	ManagementAppRole = "PowerPlatform.ManagementApp"

	DefaultEnvironmentID  = "Default-" + sandbox.TenantID
	SalesOpsEnvironmentID = "3f6b2d1e-8a4c-4e5f-9b7a-1c2d3e4f5a6b"
	VivaEnvironmentID     = "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a"
	// VivaUniqueName is the Dataverse unique name (and display name) of the environment the first
	// Copilot for Sales sign-in creates.
	VivaUniqueName = "msdyn_viva"

	TenantWidePolicyID = "6a1e2b3c-4d5e-4f60-8a71-b2c3d4e5f601"
	SalesOpsPolicyID   = "6a1e2b3c-4d5e-4f60-8a71-b2c3d4e5f602"

	// SystemAdministratorTemplateID is the role template id of System Administrator.
	SystemAdministratorTemplateID = "627090ff-40a3-4053-8790-584edc5be201"
	// BasicUserTemplateID is the role template id of Basic User.
	BasicUserTemplateID = "d58407f2-48d5-e711-a82c-000d3a37c848"

	GlobalAdminUPN = "admin@" + sandbox.TenantDomain
	PPAdminUPN     = "ppadmin@" + sandbox.TenantDomain

	// SalesforceOrgID is the sandbox Salesforce org Copilot for Sales is connected to; OtherSalesforceOrgID
	// a second connected org (a tenant can connect several, each with its own settings rows).
	SalesforceOrgID      = salesforceapi.OrgID
	OtherSalesforceOrgID = "00D8d000001OTHERAA"

	// SalesforceConnectorID is the connector id of the Salesforce connector in DLP policies.
	SalesforceConnectorID = "/providers/Microsoft.PowerApps/apis/shared_salesforce"
)

// TenantAdmin is a seeded admin of the tenant: global admins and Power Platform admins get System
// Administrator in msdyn_viva when it is created (guide step 7).
type TenantAdmin struct {
	UPN         string `json:"upn"`
	DisplayName string `json:"displayName"`
	ObjectID    string `json:"objectId"`
	Role        string `json:"role"` // "Global Administrator" or "Power Platform Administrator"
}

// Environment is a Power Platform environment.
type Environment struct {
	Name        string `json:"name"` // environment id
	DisplayName string `json:"displayName"`
	Location    string `json:"location"`
	AzureRegion string `json:"azureRegion"`
	Sku         string `json:"sku"` // Default, Production, Sandbox, Trial, Developer
	IsDefault   bool   `json:"isDefault"`
	// UniqueName is the Dataverse organisation's unique name; "" without Dataverse.
	UniqueName string `json:"uniqueName,omitempty"`
	CreatedBy  string `json:"createdBy,omitempty"`
	Created    string `json:"created"`
}

// SystemUser is a Dataverse user (a person or an application user).
type SystemUser struct {
	ID            string   `json:"systemuserid"`
	DomainName    string   `json:"domainname"`
	FullName      string   `json:"fullname"`
	Email         string   `json:"internalemailaddress,omitempty"`
	ApplicationID string   `json:"applicationid,omitempty"`
	AADObjectID   string   `json:"azureactivedirectoryobjectid,omitempty"`
	IsDisabled    bool     `json:"isdisabled"`
	RoleIDs       []string `json:"roleIds"`
}

// Role is a Dataverse security role.
type Role struct {
	ID         string `json:"roleid"`
	Name       string `json:"name"`
	TemplateID string `json:"roletemplateid"`
}

// SettingRow is a row of msdyn_vivaorgsettings (Key = msdyn_featurename, OrgID = msdyn_orgid, the
// connected CRM org the row belongs to) or msdyn_vivaentitysettings (Key = msdyn_entitytype); JSON
// is the settings memo.
type SettingRow struct {
	ID          string `json:"id"`
	Key         string `json:"key"`
	OrgID       string `json:"orgId,omitempty"`
	ProductType int    `json:"productType,omitempty"`
	JSON        string `json:"json"`
}

// Org is a Dataverse organisation.
type Org struct {
	UniqueName     string        `json:"uniqueName"`
	OrganizationID string        `json:"organizationId"`
	BusinessUnitID string        `json:"businessUnitId"`
	Users          []*SystemUser `json:"users"`
	Roles          []*Role       `json:"roles"`
	OrgSettings    []*SettingRow `json:"orgSettings"`
	EntitySettings []*SettingRow `json:"entitySettings"`
}

// Connector is one connector of the tenant's catalogue (GET .../Microsoft.PowerApps/apis: API
// name in `name`, display name in properties.displayName; TF provider
// internal/services/connectors/tests/Validate_Read/get_apis.json).
type Connector struct {
	APIName     string `json:"apiName"`     // shared_salesforce
	DisplayName string `json:"displayName"` // Salesforce
}

// Tenant is the data both services share.
type Tenant struct {
	Connectors   []Connector      `json:"connectors"`
	Admins       []TenantAdmin    `json:"admins"`
	Environments []*Environment   `json:"environments"`
	Policies     []map[string]any `json:"policies"` // DLP policies as the API's JSON
	Orgs         map[string]*Org  `json:"orgs"`     // by lower-case unique name
	Seq          int              `json:"seq"`
}

// API is the shared state of the two services. Create it with New and mount BAP() and
// Dataverse() in the same sandbox.
type API struct {
	t *Tenant

	throttle   atomic.Int64 // number of next requests answered 429
	retryAfter atomic.Int64 // seconds
	srv        *sandbox.Server
}

// New returns the shared Power Platform tenant, seeded.
func New() *API {
	a := &API{}
	a.reset()
	return a
}

// BAP is the "bap" service: the Power Platform admin API.
func (a *API) BAP() *BAPService { return &BAPService{api: a} }

// Dataverse is the "dataverse" service: the Dataverse Web API of each organisation.
func (a *API) Dataverse() *DataverseService { return &DataverseService{api: a} }

// NewBAP returns a bap service with a fresh tenant; NewDataverse returns a dataverse service
// that shares the tenant of the bap service mounted in the same sandbox.
func NewBAP() *BAPService { return New().BAP() }

// NewDataverse: see NewBAP.
func NewDataverse() *DataverseService { return &DataverseService{} }

// Tenant gives direct access to the data (tests and sandbox commands; hold the sandbox lock
// through Server.Mutate or Server.View).
func (a *API) Tenant() *Tenant { return a.t }

// Throttle makes the next n requests to either service answer 429 with Retry-After.
func (a *API) Throttle(n int, retryAfter time.Duration) {
	a.retryAfter.Store(int64(retryAfter / time.Second))
	a.throttle.Store(int64(n))
}

func (a *API) takeThrottle() (bool, int64) {
	for {
		n := a.throttle.Load()
		if n <= 0 {
			return false, 0
		}
		if a.throttle.CompareAndSwap(n, n-1) {
			return true, a.retryAfter.Load()
		}
	}
}

func (a *API) reset() {
	now := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC).Format(time.RFC3339)
	a.t = &Tenant{
		Admins: []TenantAdmin{
			{UPN: GlobalAdminUPN, DisplayName: "Contoso Admin", ObjectID: "1b2c3d4e-5f60-4a71-8b82-93a4b5c6d7e8", Role: "Global Administrator"},
			{UPN: PPAdminUPN, DisplayName: "Power Platform Admin", ObjectID: "2c3d4e5f-6071-4b82-9c93-a4b5c6d7e8f9", Role: "Power Platform Administrator"},
		},
		Environments: []*Environment{
			{Name: DefaultEnvironmentID, DisplayName: "Contoso Sandbox (default)", Location: "europe", AzureRegion: "northeurope", Sku: "Default", IsDefault: true, Created: now},
			{Name: SalesOpsEnvironmentID, DisplayName: "Sales Operations", Location: "europe", AzureRegion: "westeurope", Sku: "Production", UniqueName: "unq3f6b2d1e8a4c", Created: now},
		},
		Orgs: map[string]*Org{},
	}
	a.t.Connectors = seedConnectors()
	a.t.Policies = []map[string]any{
		policyJSON(TenantWidePolicyID, "Contoso tenant-wide baseline", "AllEnvironments", nil, "General",
			[]string{"shared_sharepointonline", "shared_office365", "shared_teams"},
			[]string{"shared_twitter", "shared_rss"},
			[]string{"shared_salesforce", "shared_dropbox"}, now),
		policyJSON(SalesOpsPolicyID, "Sales Operations apps", "OnlyEnvironments", []*Environment{a.t.Environments[1]}, "Blocked",
			[]string{"shared_salesforce", "shared_commondataserviceforapps"},
			[]string{"shared_office365users"},
			nil, now),
	}
}

// seedConnectors is the sandbox's connector catalogue: API names and display names as the
// service lists them (TF provider connectors/tests/Validate_Read/get_apis.json and DLP test data;
// display names of connectors absent there are Microsoft Learn's connector reference titles).
func seedConnectors() []Connector {
	return []Connector{
		{"shared_salesforce", "Salesforce"}, {"shared_sharepointonline", "SharePoint"}, {"shared_office365", "Office 365 Outlook"},
		{"shared_teams", "Microsoft Teams"}, {"shared_twitter", "X"}, {"shared_rss", "RSS"}, {"shared_dropbox", "Dropbox"},
		{"shared_commondataserviceforapps", "Microsoft Dataverse"}, {"shared_office365users", "Office 365 Users"},
		{"shared_azureblob", "Azure Blob Storage"}, {"shared_sql", "SQL Server"},
	}
}

// Connector returns the catalogue entry with that API name, or nil.
func (t *Tenant) Connector(apiName string) *Connector {
	for i := range t.Connectors {
		if strings.EqualFold(t.Connectors[i].APIName, apiName) {
			return &t.Connectors[i]
		}
	}
	return nil
}

// connectorIDPrefix is the id of a standard connector less its API name.
const connectorIDPrefix = "/providers/Microsoft.PowerApps/apis/"

// connectorTypeValue is the `type` of a standard connector in a policy.
const connectorTypeValue = "Microsoft.PowerApps/apis"

// connectorJSON is a connector as a policy holds it: `name` is the display name, as the service
// answers (TF provider test data get_policy_*.json: "name": "Office 365 Users").
func connectorJSON(apiName string) map[string]any {
	display := apiName
	for _, c := range seedConnectors() {
		if strings.EqualFold(c.APIName, apiName) {
			display = c.DisplayName
		}
	}
	return map[string]any{"id": connectorIDPrefix + apiName, "name": display, "type": connectorTypeValue}
}

func envRef(e *Environment) map[string]any {
	return map[string]any{"id": "/providers/Microsoft.BusinessAppPlatform/scopes/admin/environments/" + e.Name, "name": e.Name, "type": "Microsoft.BusinessAppPlatform/scopes/environments"}
}

func policyJSON(name, display, envType string, envs []*Environment, def string, business, nonBusiness, blocked []string, now string) map[string]any {
	group := func(class string, names []string) map[string]any {
		cs := []any{}
		for _, n := range names {
			cs = append(cs, connectorJSON(n))
		}
		return map[string]any{"classification": class, "connectors": cs}
	}
	es := []any{}
	for _, e := range envs {
		es = append(es, envRef(e))
	}
	return map[string]any{
		"policyDefinition": map[string]any{
			"name": name, "displayName": display, "defaultConnectorsClassification": def,
			"connectorGroups": []any{group("Confidential", business), group("General", nonBusiness), group("Blocked", blocked)},
			"environmentType": envType, "environments": es,
			"createdBy": map[string]any{"displayName": "Contoso Admin"}, "createdTime": now,
			"lastModifiedBy": map[string]any{"displayName": "Contoso Admin"}, "lastModifiedTime": now,
			"etag": "e-" + name + "-1", "isLegacySchemaVersion": false,
		},
		"customConnectorUrlPatternsDefinition": map[string]any{"rules": []any{map[string]any{"order": 1, "customConnectorRuleClassification": "Ignore", "pattern": "*"}}},
	}
}

func (t *Tenant) nextID(prefix string) string {
	t.Seq++
	return fmt.Sprintf("%s%06x-0000-4000-8000-%012x", prefix, t.Seq, t.Seq)
}

// Environment returns the environment whose id, display name or unique name is name, or nil.
func (t *Tenant) Environment(name string) *Environment {
	for _, e := range t.Environments {
		if strings.EqualFold(e.Name, name) || strings.EqualFold(e.DisplayName, name) || (e.UniqueName != "" && strings.EqualFold(e.UniqueName, name)) {
			return e
		}
	}
	return nil
}

// Policy returns the DLP policy with that name (id) or display name, or nil.
func (t *Tenant) Policy(name string) map[string]any {
	for _, p := range t.Policies {
		d := def(p)
		if strings.EqualFold(str(d["name"]), name) || strings.EqualFold(str(d["displayName"]), name) {
			return p
		}
	}
	return nil
}

func def(p map[string]any) map[string]any {
	d, _ := p["policyDefinition"].(map[string]any)
	if d == nil {
		d = map[string]any{}
		p["policyDefinition"] = d
	}
	return d
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// ConnectorGroup returns the classification of a connector (by name, e.g. shared_salesforce) in
// a policy: the group listing it, else the policy's default classification.
func ConnectorGroup(p map[string]any, connector string) string {
	d := def(p)
	groups, _ := d["connectorGroups"].([]any)
	for _, g := range groups {
		gm, _ := g.(map[string]any)
		cs, _ := gm["connectors"].([]any)
		for _, c := range cs {
			cm, _ := c.(map[string]any)
			if connectorMatches(cm, connector) {
				return str(gm["classification"])
			}
		}
	}
	return str(d["defaultConnectorsClassification"])
}

// connectorMatches matches a connector of a policy by id or by the id's last segment (the API
// name); never by `name`, which is the display name.
func connectorMatches(c map[string]any, connector string) bool {
	id := str(c["id"])
	return strings.EqualFold(id, connector) || strings.EqualFold(id[strings.LastIndex(id, "/")+1:], connector)
}

// ConnectorGroups returns every classification whose group lists the connector in the policy.
func ConnectorGroups(p map[string]any, connector string) []string {
	var out []string
	groups, _ := def(p)["connectorGroups"].([]any)
	for _, g := range groups {
		gm, _ := g.(map[string]any)
		cs, _ := gm["connectors"].([]any)
		for _, c := range cs {
			if cm, _ := c.(map[string]any); cm != nil && connectorMatches(cm, connector) {
				out = append(out, str(gm["classification"]))
			}
		}
	}
	return out
}

// AddConnectorToGroup lists a connector in one more group of a policy without removing it from
// the others: the inconsistent policy the admin API can hold (issue 11).
func (a *API) AddConnectorToGroup(policy, connector, classification string) error {
	p := a.t.Policy(policy)
	if p == nil {
		return fmt.Errorf("no DLP policy %q", policy)
	}
	groups, _ := def(p)["connectorGroups"].([]any)
	for _, g := range groups {
		gm, _ := g.(map[string]any)
		if gm != nil && str(gm["classification"]) == classification {
			cs, _ := gm["connectors"].([]any)
			gm["connectors"] = append(cs, connectorJSON(connector))
			return nil
		}
	}
	return fmt.Errorf("policy %q has no %s group", policy, classification)
}

// SetConnectorGroup moves a connector into a classification (Confidential, General, Blocked) of
// the named policy, as an admin would in the admin centre.
func (a *API) SetConnectorGroup(policy, connector, classification string) error {
	p := a.t.Policy(policy)
	if p == nil {
		return fmt.Errorf("no DLP policy %q", policy)
	}
	d := def(p)
	groups, _ := d["connectorGroups"].([]any)
	var moved map[string]any
	for _, g := range groups {
		gm, ok := g.(map[string]any)
		if !ok {
			continue
		}
		cs, _ := gm["connectors"].([]any)
		keep := []any{}
		for _, c := range cs {
			cm, _ := c.(map[string]any)
			if connectorMatches(cm, connector) {
				moved = cm
				continue
			}
			keep = append(keep, c)
		}
		gm["connectors"] = keep
	}
	if moved == nil {
		moved = connectorJSON(connector)
	}
	for _, g := range groups {
		gm, _ := g.(map[string]any)
		if gm != nil && str(gm["classification"]) == classification {
			cs, _ := gm["connectors"].([]any)
			gm["connectors"] = append(cs, moved)
			return nil
		}
	}
	return fmt.Errorf("policy %q has no %s group", policy, classification)
}

// PutPolicy adds or replaces a DLP policy (the API's JSON, policyDefinition.name set).
func (a *API) PutPolicy(p map[string]any) {
	name := str(def(p)["name"])
	for i, q := range a.t.Policies {
		if str(def(q)["name"]) == name {
			a.t.Policies[i] = p
			return
		}
	}
	a.t.Policies = append(a.t.Policies, p)
}

// NewPolicy builds a DLP policy's JSON for PutPolicy: scope AllEnvironments, ExceptEnvironments
// or OnlyEnvironments over the named environments, the Salesforce connector in classification.
func (a *API) NewPolicy(name, display, envType string, envNames []string, salesforce string) map[string]any {
	var envs []*Environment
	for _, n := range envNames {
		if e := a.t.Environment(n); e != nil {
			envs = append(envs, e)
		} else {
			envs = append(envs, &Environment{Name: n})
		}
	}
	var b, g, x []string
	switch salesforce {
	case "Confidential":
		b = []string{"shared_salesforce"}
	case "General":
		g = []string{"shared_salesforce"}
	case "Blocked":
		x = []string{"shared_salesforce"}
	}
	return policyJSON(name, display, envType, envs, "General", append(b, "shared_office365"), g, x, time.Now().UTC().Format(time.RFC3339))
}

// MicrosoftServiceAccounts are the special system and application users Dataverse creates with
// System Administrator in every environment (Microsoft Learn, "System and application users",
// https://learn.microsoft.com/power-platform/admin/system-application-users: "Don't delete or
// modify these users including changing or reassigning security role"). The sandbox seeds those
// the page lists with System admin; their application ids are sandbox values (the page gives none).
var MicrosoftServiceAccounts = []struct{ DomainName, FullName, ApplicationID string }{
	{"crmoln2@microsoft.com", "Delegated admin", ""},
	{"bap_sa@microsoft.com", "Business Application Platform Service account", "5a0e0000-0000-4000-8000-00000000b001"},
	{"capam@microsoft.com", "App Management User", "5a0e0000-0000-4000-8000-00000000b002"},
	{"CAPPackageDeployerServiceDVClient@onmicrosoft.com", "CAP Package Deployer Service DVClient", "5a0e0000-0000-4000-8000-00000000b003"},
	{"RelevanceSearch@onmicrosoft.com", "Dataverse Dataverse search", "5a0e0000-0000-4000-8000-00000000b004"},
}

// SignIn simulates the first sign-in of a Copilot for Sales user (guide step 7): it creates the
// msdyn_viva environment (a Trial with Dataverse) in which every global admin and Power Platform
// admin of the tenant and Microsoft's service accounts hold System Administrator, with the default
// Copilot for Sales settings. c4sctl's own app is not an application user there until an admin
// adds it (AddAppUser): Dataverse answers its requests 403 until then. Later sign-ins only add
// the user.
func (a *API) SignIn(user string) error {
	user = strings.TrimSpace(user)
	if user == "" || !strings.Contains(user, "@") || strings.ContainsAny(user, " \t/\\") {
		return fmt.Errorf("sign-in: %q is not a user principal name (expected name@domain)", user)
	}
	t := a.t
	org := t.Orgs[strings.ToLower(VivaUniqueName)]
	if org == nil {
		t.Environments = append(t.Environments, &Environment{Name: VivaEnvironmentID, DisplayName: VivaUniqueName, Location: "europe", AzureRegion: "northeurope",
			Sku: "Trial", UniqueName: VivaUniqueName, CreatedBy: user, Created: time.Now().UTC().Format(time.RFC3339)})
		org = &Org{UniqueName: VivaUniqueName, OrganizationID: "b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d5e", BusinessUnitID: "c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f"}
		sysadmin := &Role{ID: "e0f1a2b3-c4d5-4e6f-8a7b-9c0d1e2f3a4b", Name: "System Administrator", TemplateID: SystemAdministratorTemplateID}
		basic := &Role{ID: "e0f1a2b3-c4d5-4e6f-8a7b-9c0d1e2f3a4c", Name: "Basic User", TemplateID: BasicUserTemplateID}
		org.Roles = []*Role{sysadmin, basic}
		for _, sa := range MicrosoftServiceAccounts {
			org.Users = append(org.Users, &SystemUser{ID: t.nextID("5e"), DomainName: sa.DomainName, FullName: sa.FullName, ApplicationID: sa.ApplicationID, RoleIDs: []string{sysadmin.ID}})
		}
		for _, ad := range t.Admins {
			org.Users = append(org.Users, &SystemUser{ID: t.nextID("5a"), DomainName: ad.UPN, FullName: ad.DisplayName, Email: ad.UPN, AADObjectID: ad.ObjectID, RoleIDs: []string{sysadmin.ID}})
		}
		org.OrgSettings, org.EntitySettings = seedSettings(t)
		t.Orgs[strings.ToLower(VivaUniqueName)] = org
	}
	for _, u := range org.Users {
		if strings.EqualFold(u.DomainName, user) {
			return nil
		}
	}
	org.Users = append(org.Users, &SystemUser{ID: t.nextID("5c"), DomainName: user, FullName: user[:strings.Index(user, "@")], Email: user, RoleIDs: []string{org.Roles[1].ID}})
	return nil
}

// seedSettings are the Copilot for Sales settings rows of a new msdyn_viva: per connected Salesforce
// org (msdyn_orgid), a SalesChatConfig row (Microsoft Learn, "Set up glossary terms for Salesforce":
// rows whose FeatureName starts with "SalesChatConfig", one per org, told apart by OrgId) and the
// rows c4sctl reads (feature names assumed, docs/api/powerplatform.md). The other org's rows come
// first, so a reader that takes the first match reads the wrong org.
func seedSettings(t *Tenant) (org, entity []*SettingRow) {
	for _, o := range []struct {
		id, suffix string
		ai         bool
		channel    string
	}{{OtherSalesforceOrgID, "2", false, "Preview"}, {SalesforceOrgID, "1", true, "GA"}} {
		org = append(org,
			&SettingRow{ID: t.nextID("6c"), Key: "SalesChatConfig_" + o.id, OrgID: o.id, ProductType: 1, JSON: `{"qnaSearchConfigName":"SalesChatSalesforceQnA ` + o.suffix + `"}`},
			&SettingRow{ID: t.nextID("6a"), Key: "CopilotFeatures", OrgID: o.id, ProductType: 1, JSON: fmt.Sprintf(`{"aiFeaturesEnabled":%t,"releaseChannel":%q,"lastModifiedBy":"system"}`, o.ai, o.channel)},
			&SettingRow{ID: t.nextID("6b"), Key: "Integrations", OrgID: o.id, ProductType: 1, JSON: fmt.Sprintf(`{"integrations":{"docusign":%t,"zoominfo":false}}`, !o.ai)},
		)
	}
	entity = []*SettingRow{
		{ID: t.nextID("7a"), Key: "opportunity", JSON: `{"fields":["name","estimatedvalue","estimatedclosedate"],"layoutVersion":2}`},
		{ID: t.nextID("7b"), Key: "account", JSON: `{"fields":["name","industry"],"layoutVersion":2}`},
	}
	return org, entity
}

// AddAppUser does what an admin does in the Power Platform admin centre (Environments > msdyn_viva
// > Settings > Users + permissions > Application users > New app user, security role System Administrator): the app
// becomes an application user of the organisation. Adding it twice changes nothing.
func (a *API) AddAppUser(uniqueName, appID string) error {
	org := a.Org(uniqueName)
	if org == nil {
		return fmt.Errorf("no environment %q with Dataverse yet: a seller's first sign-in creates msdyn_viva (c4sctl sandbox sign-in USER)", uniqueName)
	}
	for _, u := range org.Users {
		if strings.EqualFold(u.ApplicationID, appID) {
			return nil
		}
	}
	role := org.roleByTemplate(SystemAdministratorTemplateID)
	if role == nil {
		return fmt.Errorf("environment %s has no System Administrator role", uniqueName)
	}
	objectID := ""
	if strings.EqualFold(appID, sandbox.ClientID) {
		objectID = sandbox.AppObjectID
	}
	// Application users are named "# <app name>" in Dataverse (Microsoft Learn, manage application users).
	org.Users = append(org.Users, &SystemUser{ID: a.t.nextID("5b"), DomainName: "# c4sctl", FullName: "# c4sctl", ApplicationID: appID, AADObjectID: objectID, RoleIDs: []string{role.ID}})
	return nil
}

// Org returns the organisation with that unique name, or nil.
func (a *API) Org(uniqueName string) *Org { return a.t.Orgs[strings.ToLower(uniqueName)] }

// AddUsers adds n users (name prefix-i@domain) to an organisation with the given role template
// (paging tests), returning an error when the organisation or role does not exist.
func (a *API) AddUsers(uniqueName, prefix string, n int, roleTemplateID string) error {
	org := a.Org(uniqueName)
	if org == nil {
		return fmt.Errorf("no organisation %q", uniqueName)
	}
	role := org.roleByTemplate(roleTemplateID)
	if role == nil {
		return fmt.Errorf("no role with template %s", roleTemplateID)
	}
	for i := 0; i < n; i++ {
		upn := fmt.Sprintf("%s%03d@%s", prefix, i, sandbox.TenantDomain)
		org.Users = append(org.Users, &SystemUser{ID: a.t.nextID("5d"), DomainName: upn, FullName: upn, Email: upn, RoleIDs: []string{role.ID}})
	}
	return nil
}

// Holders lists the domain names (application id for application users) of the users holding
// System Administrator in an organisation.
func (a *API) Holders(uniqueName string) []string {
	org := a.Org(uniqueName)
	if org == nil {
		return nil
	}
	role := org.roleByTemplate(SystemAdministratorTemplateID)
	var out []string
	for _, u := range org.Users {
		if role != nil && u.hasRole(role.ID) {
			if u.ApplicationID != "" {
				out = append(out, u.ApplicationID)
			} else {
				out = append(out, u.DomainName)
			}
		}
	}
	return out
}

// SetOrgSetting replaces the JSON of the msdyn_vivaorgsettings row of a feature for the sandbox
// Salesforce org (SalesforceOrgID).
func (a *API) SetOrgSetting(uniqueName, feature, js string) error {
	return a.SetOrgSettingFor(uniqueName, SalesforceOrgID, feature, js)
}

// SetOrgSettingFor replaces the JSON of the msdyn_vivaorgsettings row of a feature and CRM org.
func (a *API) SetOrgSettingFor(uniqueName, orgID, feature, js string) error {
	org := a.Org(uniqueName)
	if org == nil {
		return fmt.Errorf("no organisation %q", uniqueName)
	}
	for _, r := range org.OrgSettings {
		if strings.EqualFold(r.Key, feature) && strings.EqualFold(r.OrgID, orgID) {
			r.JSON = js
			return nil
		}
	}
	return fmt.Errorf("no msdyn_vivaorgsettings row %q for org %s", feature, orgID)
}

// OrgSetting returns the JSON of the msdyn_vivaorgsettings row of a feature and CRM org ("" when none).
func (a *API) OrgSetting(uniqueName, orgID, feature string) string {
	if org := a.Org(uniqueName); org != nil {
		for _, r := range org.OrgSettings {
			if strings.EqualFold(r.Key, feature) && strings.EqualFold(r.OrgID, orgID) {
				return r.JSON
			}
		}
	}
	return ""
}

func (o *Org) roleByTemplate(tid string) *Role {
	for _, r := range o.Roles {
		if strings.EqualFold(r.TemplateID, tid) {
			return r
		}
	}
	return nil
}

func (u *SystemUser) hasRole(id string) bool {
	for _, r := range u.RoleIDs {
		if strings.EqualFold(r, id) {
			return true
		}
	}
	return false
}

// marshal / unmarshal are shared by both services (the tenant is saved under "bap"; "dataverse"
// saves nothing of its own).
func (a *API) marshal() ([]byte, error) { return json.Marshal(a.t) }

func (a *API) unmarshal(b []byte) error {
	var t Tenant
	if err := json.Unmarshal(b, &t); err != nil {
		return err
	}
	if t.Orgs == nil {
		t.Orgs = map[string]*Org{}
	}
	if len(t.Connectors) == 0 {
		t.Connectors = seedConnectors() // state saved before the catalogue existed
	}
	a.t = &t
	return nil
}
