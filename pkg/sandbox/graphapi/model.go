// Package graphapi emulates the part of Microsoft Graph c4sctl uses (service "graph", paths
// /graph/v1.0/... and /graph/beta/...): users, groups and their members, subscribed SKUs and
// licence assignment (users and groups), licence details, directory roles, the service
// principal's role memberships, the Teams app catalog, sendMail (stored, never sent), JSON
// batching, paging, throttling and the Copilot package catalog. Endpoints, fields, error codes
// and their sources: docs/api/graph.md.
package graphapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/c4sctl/c4sctl/pkg/sandbox"
)

// Identities and values of the seeded tenant.
const (
	// Audience is the token audience of Microsoft Graph.
	Audience = "https://graph.microsoft.com"
	// AudienceAppID is Microsoft Graph's application id (tokens may carry it as audience).
	AudienceAppID = "00000003-0000-0000-c000-000000000000"

	// CopilotSkuID / CopilotSkuPartNumber: the Microsoft 365 Copilot licence (the current guide
	// asks for one per seller). Source: Microsoft's "Product names and service plan identifiers
	// for licensing" list.
	CopilotSkuID         = "639dec6b-bb19-468b-871c-c5c441c4b0cb"
	CopilotSkuPartNumber = "Microsoft_365_Copilot"
	// E5SkuID / E5SkuPartNumber: Microsoft 365 E5, the base licence of every seeded user.
	E5SkuID         = "06ebc4ee-1bb5-47dd-8120-11324bc54e06"
	E5SkuPartNumber = "SPE_E5"

	SellersGroupID      = "5a11e500-0000-4000-8000-000000000001"
	AllSalesGroupID     = "5a11e500-0000-4000-8000-000000000002"
	AllEmployeesGroupID = "5a11e500-0000-4000-8000-000000000003"
	SellersGroupName    = "Sellers"
	AllSalesGroupName   = "All Sales"

	// SalesAppID is the Teams catalog id of the Copilot for Sales app in the sandbox (its
	// externalId is SalesAppExternalID); the Teams setup policy refers to it.
	SalesAppID         = "b1b0c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d"
	SalesAppExternalID = "c4s-sales-app-manifest-0001"
	SalesAppName       = "Copilot for Sales"
	// SalesPackageID is the Copilot package (admin centre: Agents > All agents) of the app.
	SalesPackageID = "P_b1b0c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d"

	// Directory role template ids (Microsoft Entra built-in roles).
	GlobalAdminTemplate   = "62e90394-69f5-4237-9190-012177145e10"
	TeamsAdminTemplate    = "69091246-20e8-4a56-aa4d-066075b2a7a8"
	LicenseAdminTemplate  = "4d6ac14f-3453-41d0-bef9-a3e0c569773a"
	UserAdminTemplate     = "fe930be7-5e62-47db-91af-98c3a49a38b1"
	ExchangeAdminTemplate = "29232cdf-9323-42fd-ade2-1d097af3e4de"

	// SenderUPN is a seeded mailbox that can send the welcome message.
	SenderUPN = "sales-enablement@" + sandbox.TenantDomain
)

// GraphRoles are the application permissions the sandbox grants c4sctl on Graph at Register.
var GraphRoles = []string{
	"User.Read.All", "GroupMember.Read.All", "LicenseAssignment.ReadWrite.All", "Organization.Read.All",
	"RoleManagement.Read.Directory", "AppCatalog.Read.All", "Mail.Send", "CopilotPackages.ReadWrite.All",
	"TeamsUserConfiguration.Read.All",
}

// License is one licence assigned to a user or a group.
type License struct {
	SkuID         string   `json:"skuId"`
	DisabledPlans []string `json:"disabledPlans"`
}

// User is a directory user.
type User struct {
	ID            string    `json:"id"`
	UPN           string    `json:"upn"`
	DisplayName   string    `json:"dn"`
	UsageLocation string    `json:"loc,omitempty"`
	Licenses      []License `json:"lic,omitempty"` // direct assignments
}

// Group is a security group.
type Group struct {
	ID          string    `json:"id"`
	DisplayName string    `json:"displayName"`
	Mail        string    `json:"mail,omitempty"`
	Members     []string  `json:"members"` // user ids, in order
	Licenses    []License `json:"licenses,omitempty"`

	set map[string]bool
}

// ServicePlan is a service plan of a SKU.
type ServicePlan struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Sku is a subscribed SKU of the tenant.
type Sku struct {
	SkuID         string        `json:"skuId"`
	SkuPartNumber string        `json:"skuPartNumber"`
	Enabled       int           `json:"enabled"`
	ServicePlans  []ServicePlan `json:"servicePlans"`
}

// DirectoryRole is an activated directory role and its members (user or service principal ids).
type DirectoryRole struct {
	ID          string   `json:"id"`
	TemplateID  string   `json:"roleTemplateId"`
	DisplayName string   `json:"displayName"`
	Members     []string `json:"members"`
}

// TeamsApp is an app of the Teams app catalog.
type TeamsApp struct {
	ID           string `json:"id"`
	ExternalID   string `json:"externalId,omitempty"`
	DisplayName  string `json:"displayName"`
	Distribution string `json:"distributionMethod"`
	Version      string `json:"version"`
}

// Access is a user or group a Copilot package is available to.
type Access struct {
	ResourceType string `json:"resourceType"`
	ResourceID   string `json:"resourceId"`
}

// Package is a Copilot package (an app or agent of the admin centre's Agents > All agents).
type Package struct {
	ID             string   `json:"id"`
	DisplayName    string   `json:"displayName"`
	Publisher      string   `json:"publisher"`
	AppID          string   `json:"appId"`
	Type           string   `json:"type"`
	SupportedHosts []string `json:"supportedHosts"`
	AvailableTo    string   `json:"availableTo"` // none, some, all
	DeployedTo     string   `json:"deployedTo"`
	Allowed        []Access `json:"allowedUsersAndGroups"`
	IsBlocked      bool     `json:"isBlocked"`
	LastModified   string   `json:"lastModifiedDateTime"`
}

// Message is a mail sendMail accepted (stored, never sent).
type Message struct {
	From        string    `json:"from"`
	To          []string  `json:"to"`
	Subject     string    `json:"subject"`
	ContentType string    `json:"contentType"`
	Body        string    `json:"body"`
	At          time.Time `json:"at"`
}

// Tenant is the directory.
type Tenant struct {
	Users    []*User          `json:"users"`
	Groups   []*Group         `json:"groups"`
	Skus     []*Sku           `json:"skus"`
	Roles    []*DirectoryRole `json:"roles"`
	Apps     []*TeamsApp      `json:"teamsApps"`
	Packages []*Package       `json:"packages"`
	Mail     []Message        `json:"mail"`
	// PackagesUnavailable makes the package API answer 403 (tenant without access to the preview).
	PackagesUnavailable bool `json:"packagesUnavailable,omitempty"`
	// UserConfigurationsUnavailable makes /admin/teams/userConfigurations answer 403, as for an
	// app without TeamsUserConfiguration.Read.All (seller coverage then computes from assignments).
	UserConfigurationsUnavailable bool `json:"userConfigurationsUnavailable,omitempty"`

	byID     map[string]*User
	byUPN    map[string]*User
	consumed map[string]int
}

var (
	firstNames = []string{"Ada", "Bruno", "Chloé", "Diego", "Emma", "Farid", "Greta", "Hugo", "Inès", "Jonas", "Kenji", "Léa", "Marco", "Nadia", "Omar", "Paula", "Quentin", "Rosa", "Sven", "Tara"}
	lastNames  = []string{"Martin", "Bernard", "Dubois", "Moreau", "Laurent", "Garcia", "Müller", "Rossi", "Smith", "Kowalski", "Silva", "Nguyen", "Haddad", "Jensen", "Tanaka", "Okafor", "Novak", "Costa", "Berg", "Leroy"}
	locations  = []string{"FR", "US", "DE", "GB", "ES", "IT", "NL", "BE"}
)

// UserID is the object id of the i-th seeded user (1-based).
func UserID(i int) string { return fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i) }

// UserUPN is the user principal name of the i-th seeded user (1-based).
func UserUPN(i int) string { return fmt.Sprintf("user%05d@%s", i, sandbox.TenantDomain) }

// NoUsageLocation lists the seeded users (indexes) without a usage location: three in All Sales
// but not in Sellers, two elsewhere.
var NoUsageLocation = []int{250, 275, 290, 1000, 1500}

func copilotPlans() []ServicePlan {
	return []ServicePlan{
		{"fe6c28b3-d468-44ea-bbd0-a10a5167435c", "COPILOT_STUDIO_IN_COPILOT_FOR_M365"},
		{"0aedf20c-091d-420b-aadf-30c042609612", "M365_COPILOT_SHAREPOINT"},
		{"82d30987-df9b-4486-b146-198b21d164c7", "GRAPH_CONNECTORS_COPILOT"},
		{"931e4a88-a67f-48b5-814f-16a5f1e6028d", "M365_COPILOT_INTELLIGENT_SEARCH"},
		{"b95945de-b3bd-46db-8437-f2beb6ea2347", "M365_COPILOT_TEAMS"},
		{"a62f8878-de10-42f3-b68f-6149a25ceb97", "M365_COPILOT_APPS"},
		{"3f30311c-6b1e-48a4-ab79-725b469da960", "M365_COPILOT_BUSINESS_CHAT"},
	}
}

// seed builds a tenant of n users with a Sellers group of `sellers` members (users 1..sellers)
// and an All Sales group of sellers+100 members. The Copilot SKU has 250 free seats over what a
// 50-user pilot (the last 50 users) consumes, plus `sellers` more seats beyond 200 so that large
// seeds can license their Sellers group.
func seed(n, sellers int) *Tenant {
	if n < 1 {
		n = 1
	}
	if sellers > n {
		sellers = n
	}
	allSales := sellers + 100
	if allSales > n {
		allSales = n
	}
	t := &Tenant{}
	noLoc := map[int]bool{}
	for _, i := range NoUsageLocation {
		noLoc[i] = true
	}
	for i := 1; i <= n; i++ {
		u := &User{ID: UserID(i), UPN: UserUPN(i), DisplayName: firstNames[i%len(firstNames)] + " " + lastNames[(i/len(firstNames))%len(lastNames)]}
		if !noLoc[i] {
			u.UsageLocation = locations[i%len(locations)]
		}
		t.Users = append(t.Users, u)
	}
	sender := &User{ID: "5e4d0000-0000-4000-8000-00000000ffff", UPN: SenderUPN, DisplayName: "Sales Enablement", UsageLocation: "FR"}
	t.Users = append(t.Users, sender)
	pilot := 50
	if pilot > n {
		pilot = n
	}
	for i := n - pilot + 1; i <= n; i++ {
		t.Users[i-1].Licenses = []License{{SkuID: CopilotSkuID, DisabledPlans: []string{}}}
	}
	members := func(from, to int) []string {
		var out []string
		for i := from; i <= to && i <= n; i++ {
			out = append(out, UserID(i))
		}
		return out
	}
	everyone := members(1, n)
	everyone = append(everyone, sender.ID)
	t.Groups = []*Group{
		{ID: SellersGroupID, DisplayName: SellersGroupName, Mail: "sellers@" + sandbox.TenantDomain, Members: members(1, sellers)},
		{ID: AllSalesGroupID, DisplayName: AllSalesGroupName, Mail: "allsales@" + sandbox.TenantDomain, Members: members(1, allSales)},
		{ID: AllEmployeesGroupID, DisplayName: "All Employees", Mail: "everyone@" + sandbox.TenantDomain, Members: everyone,
			Licenses: []License{{SkuID: E5SkuID, DisabledPlans: []string{}}}},
	}
	extra := 0
	if sellers > 200 {
		extra = sellers - 200
	}
	t.Skus = []*Sku{
		{SkuID: CopilotSkuID, SkuPartNumber: CopilotSkuPartNumber, Enabled: pilot + 250 + extra, ServicePlans: copilotPlans()},
		{SkuID: E5SkuID, SkuPartNumber: E5SkuPartNumber, Enabled: n + 100, ServicePlans: []ServicePlan{
			{"efb87545-963c-4e0d-99df-69c6916d9eb0", "EXCHANGE_S_ENTERPRISE"},
			{"57ff2da0-773e-42df-b2af-ffb7a2317929", "TEAMS1"},
			{"43de0ff5-c92c-492b-9116-175376d08c38", "OFFICESUBSCRIPTION"},
		}},
	}
	t.Roles = []*DirectoryRole{
		{ID: "d1r00000-0000-4000-8000-000000000001", TemplateID: GlobalAdminTemplate, DisplayName: "Global Administrator", Members: []string{UserID(1)}},
		{ID: "d1r00000-0000-4000-8000-000000000002", TemplateID: TeamsAdminTemplate, DisplayName: "Teams Administrator", Members: []string{sandbox.AppObjectID}},
		{ID: "d1r00000-0000-4000-8000-000000000003", TemplateID: LicenseAdminTemplate, DisplayName: "License Administrator", Members: []string{sandbox.AppObjectID}},
		{ID: "d1r00000-0000-4000-8000-000000000004", TemplateID: UserAdminTemplate, DisplayName: "User Administrator", Members: []string{}},
		{ID: "d1r00000-0000-4000-8000-000000000005", TemplateID: ExchangeAdminTemplate, DisplayName: "Exchange Administrator", Members: []string{}},
	}
	t.Apps = []*TeamsApp{
		{ID: SalesAppID, ExternalID: SalesAppExternalID, DisplayName: SalesAppName, Distribution: "store", Version: "3.1.0"},
		{ID: "0d820ecd-def2-4297-adad-78056cde7c78", DisplayName: "OneNote", Distribution: "store", Version: "1.0.0"},
		{ID: "com.microsoft.teamspace.tab.planner", DisplayName: "Planner", Distribution: "store", Version: "1.2.0"},
		{ID: "a3c1f4d2-7b6e-4c5d-9e8f-0a1b2c3d4e5f", ExternalID: "contoso-deals", DisplayName: "Contoso Deals", Distribution: "organization", Version: "0.9.0"},
	}
	t.Packages = []*Package{
		{ID: SalesPackageID, DisplayName: SalesAppName, Publisher: "Microsoft Corporation", AppID: SalesAppID, Type: "microsoft",
			SupportedHosts: []string{"Outlook", "Teams", "Copilot"}, AvailableTo: "none", DeployedTo: "none", Allowed: []Access{}, LastModified: "2026-09-01T08:00:00Z"},
		{ID: "P_0e1d2c3b-4a59-4867-9a8b-7c6d5e4f3a2b", DisplayName: "Contoso Deals", Publisher: "Contoso", AppID: "a3c1f4d2-7b6e-4c5d-9e8f-0a1b2c3d4e5f", Type: "custom",
			SupportedHosts: []string{"Teams"}, AvailableTo: "all", DeployedTo: "all", Allowed: []Access{}, LastModified: "2026-06-12T10:30:00Z"},
	}
	t.Mail = []Message{}
	t.index()
	return t
}

// index rebuilds the lookup maps and seat counts.
func (t *Tenant) index() {
	t.byID = make(map[string]*User, len(t.Users))
	t.byUPN = make(map[string]*User, len(t.Users))
	for _, u := range t.Users {
		t.byID[u.ID] = u
		t.byUPN[strings.ToLower(u.UPN)] = u
	}
	for _, g := range t.Groups {
		g.set = make(map[string]bool, len(g.Members))
		for _, m := range g.Members {
			g.set[m] = true
		}
	}
	t.recount()
}

func (t *Tenant) recount() {
	t.consumed = map[string]int{}
	for _, u := range t.Users {
		for _, s := range t.effectiveSkus(u) {
			t.consumed[strings.ToLower(s)]++
		}
	}
}

// user finds a user by object id or UPN.
func (t *Tenant) user(key string) *User {
	if u := t.byID[key]; u != nil {
		return u
	}
	return t.byUPN[strings.ToLower(key)]
}

func (t *Tenant) group(id string) *Group {
	for _, g := range t.Groups {
		if g.ID == id {
			return g
		}
	}
	return nil
}

func (t *Tenant) sku(id string) *Sku {
	for _, s := range t.Skus {
		if strings.EqualFold(s.SkuID, id) {
			return s
		}
	}
	return nil
}

// licenseFrom is where a user's licence of one SKU comes from.
type licenseFrom struct {
	License
	Group string // "" for a direct assignment
}

// licenses lists a user's licences, direct first, then inherited from groups (one per SKU).
func (t *Tenant) licenses(u *User) []licenseFrom {
	var out []licenseFrom
	seen := map[string]bool{}
	for _, l := range u.Licenses {
		out = append(out, licenseFrom{License: l})
		seen[l.SkuID] = true
	}
	for _, g := range t.Groups {
		if len(g.Licenses) == 0 || !g.set[u.ID] {
			continue
		}
		for _, l := range g.Licenses {
			if !seen[l.SkuID] {
				seen[l.SkuID] = true
				out = append(out, licenseFrom{License: l, Group: g.ID})
			}
		}
	}
	return out
}

func (t *Tenant) effectiveSkus(u *User) []string {
	var out []string
	for _, l := range t.licenses(u) {
		out = append(out, l.SkuID)
	}
	return out
}

func (t *Tenant) hasSku(u *User, sku string) bool {
	for _, l := range t.licenses(u) {
		if strings.EqualFold(l.SkuID, sku) {
			return true
		}
	}
	return false
}

// Consumed is the number of users holding the SKU (directly or through a group).
func (t *Tenant) Consumed(sku string) int { return t.consumed[strings.ToLower(sku)] }

// Service is the emulated Microsoft Graph.
type Service struct {
	t   *Tenant
	srv *sandbox.Server

	seedUsers, seedSellers int
	inner                  *http.ServeMux // routes for $batch sub-requests (no lock, no log)

	throttle   atomic.Int64
	retryAfter atomic.Int64
	batchItems atomic.Int64 // sub-requests answered 429 inside $batch
}

// New returns the Graph service with the standard seed (2,000 users, Sellers 200, All Sales 300).
func New() *Service { return &Service{seedUsers: 2000, seedSellers: 200} }

// Name is the URL prefix and data key.
func (s *Service) Name() string { return "graph" }

// Reset restores the seed.
func (s *Service) Reset() { s.t = seed(s.seedUsers, s.seedSellers) }

// SeedLarge replaces the tenant with a seed of n users whose Sellers group has `sellers` members
// (All Sales has sellers+100), keeping 250 free Copilot seats beyond what Sellers needs. Call it
// through Server.Mutate when the server is running. Later Resets keep this size.
func (s *Service) SeedLarge(users, sellers int) {
	s.seedUsers, s.seedSellers = users, sellers
	s.Reset()
}

// Tenant returns the directory (read or change it within Server.View / Server.Mutate).
func (s *Service) Tenant() *Tenant { return s.t }

// Reindex must be called after changing users, groups or licences directly (within Mutate).
func (s *Service) Reindex() { s.t.index() }

// Throttle makes the next n requests under /graph answer 429 with Retry-After.
func (s *Service) Throttle(n int, retryAfter time.Duration) {
	s.retryAfter.Store(int64(retryAfter / time.Second))
	s.throttle.Store(int64(n))
}

// ThrottleBatchItems makes the next n sub-requests of $batch answer 429 with Retry-After.
func (s *Service) ThrottleBatchItems(n int, retryAfter time.Duration) {
	s.retryAfter.Store(int64(retryAfter / time.Second))
	s.batchItems.Store(int64(n))
}

func take(c *atomic.Int64) bool {
	for {
		n := c.Load()
		if n <= 0 {
			return false
		}
		if c.CompareAndSwap(n, n-1) {
			return true
		}
	}
}

// Sent returns the messages sendMail accepted, oldest first.
func (s *Service) Sent() []Message {
	var out []Message
	read := func() { out = append(out, s.t.Mail...) }
	if s.srv != nil {
		s.srv.View(read)
	} else {
		read()
	}
	return out
}

// SetPackagesAvailable turns the Copilot package API on or off for the tenant (off: 403, as for
// a tenant outside the preview).
func (s *Service) SetPackagesAvailable(on bool) { s.t.PackagesUnavailable = !on }

// SetUserConfigurationsAvailable turns the Teams user configuration API (effective policies) on
// or off (off: 403, as without the permission).
func (s *Service) SetUserConfigurationsAvailable(on bool) { s.t.UserConfigurationsUnavailable = !on }

// RemoveRoleMember removes an object from a directory role (by template id). Call within Mutate.
func (s *Service) RemoveRoleMember(templateID, objectID string) {
	for _, r := range s.t.Roles {
		if r.TemplateID == templateID {
			out := r.Members[:0]
			for _, m := range r.Members {
				if m != objectID {
					out = append(out, m)
				}
			}
			r.Members = out
		}
	}
}

// MarshalState saves the tenant.
func (s *Service) MarshalState() ([]byte, error) { return json.Marshal(s.t) }

// UnmarshalState restores the tenant.
func (s *Service) UnmarshalState(b []byte) error {
	var t Tenant
	if err := json.Unmarshal(b, &t); err != nil {
		return err
	}
	if len(t.Users) == 0 {
		return fmt.Errorf("no users in the saved Graph tenant")
	}
	t.index()
	s.t = &t
	return nil
}
