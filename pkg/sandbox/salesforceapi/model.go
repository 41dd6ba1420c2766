// Package salesforceapi emulates the Salesforce org side of the deployment guide (steps 4 and 6):
// the OAuth 2.0 token endpoint (client credentials, JWT bearer), the REST API's SOQL query with
// paging, Tooling query, sObject rows and sObject Collections, and the Metadata API's SOAP
// readMetadata/updateMetadata for ConnectedApp. It is served under /salesforce, which is both
// the sandbox org's instance URL and its login URL. Endpoints, fields and values, with their
// sources: docs/api/salesforce.md.
package salesforceapi

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/c4sctl/c4sctl/pkg/sandbox"
)

// Identities and test credentials of the sandbox org. The consumer secret is a sandbox test value,
// but c4sctl still treats it as a secret.
const (
	OrgID          = "00D5g00000SBXORGAA"
	ConsumerKey    = "3MVG9sandboxC4sctlIntegrationConsumerKey000000000000000000000000000000000"
	ConsumerSecret = "SANDBOX0CONSUMER0SECRET0DO0NOT0USE0IN0PRODUCTION"
	// IntegrationUser runs the client credentials flow (the app's execution user).
	IntegrationUser = "c4sctl.integration@contoso-sandbox.example"
	AdminUser       = "admin@contoso-sandbox.example"
	// PowerPlatformApp is the connected app Copilot for Sales reaches Salesforce through.
	PowerPlatformApp = "Microsoft Power Platform"
	// PowerPlatformAppFullName is its Metadata API name (sandbox assumption: the label with
	// underscores).
	PowerPlatformAppFullName = "Microsoft_Power_Platform"
	// Audience is the token audience of the sandbox org.
	Audience = "salesforce"
	// DefaultAPILimit is the seeded daily API request limit (Sforce-Limit-Info).
	DefaultAPILimit = 100000
	// SeededUsers is the number of seller users seeded besides the admins.
	SeededUsers = 500
	// UnfederatedSeller is the seeded seller whose user has no Federation ID and an email of
	// another domain: single sign-on never set up for them, so Entra's seller of the same number
	// matches no Salesforce user (the reconciliation's "missing in Salesforce" case).
	UnfederatedSeller = 13
)

// SellerFederationID is the Federation ID of the i-th seeded seller user: the user principal
// name of the Entra tenant's i-th seeded user (graphapi.UserUPN), as single sign-on with
// Microsoft Entra ID sets it. Users 1..200 are the tenant's Sellers group.
func SellerFederationID(i int) string {
	return fmt.Sprintf("user%05d@%s", i, sandbox.TenantDomain)
}

// Profile names of the seed.
const (
	ProfileSystemAdministrator = "System Administrator"
	ProfileStandardUser        = "Standard User"
	ProfileReadOnly            = "Read Only"
	ProfileMinimumAccess       = "Minimum Access - Salesforce"
)

// UserPermissions are the PermissionSet / Profile user permission fields the sandbox knows
// (each is a "Permissions"+name boolean field).
var UserPermissions = []string{"ApiEnabled", "ApiUserOnly", "AssignPermissionSets", "ConvertLeads", "CustomizeApplication", "EditEvent", "EditTask",
	"ManageConnectedApps", "ManageProfilesPermissionsets", "ManageUsers", "ModifyAllData", "ViewAllData", "ViewAllUsers", "ViewSetup"}

// userPermissionAccess is the UserPermissionAccess row of user id: a permission is true when the
// user's profile or a permission set assigned to the user grants it. LastCacheUpdate is the
// seed's fixed instant (the sandbox has no cache).
func (o *Org) userPermissionAccess(userID string) []map[string]any {
	u := o.User(userID)
	if u == nil {
		return nil
	}
	row := map[string]any{"LastCacheUpdate": "2026-01-01T00:00:00.000+0000"}
	for _, k := range UserPermissions {
		row["Permissions"+k] = false
	}
	grant := func(perms map[string]bool) {
		for k, v := range perms {
			if v {
				row["Permissions"+k] = true
			}
		}
	}
	if p := o.Profile(u.ProfileID); p != nil {
		grant(p.Perms)
	}
	for _, a := range o.Assignments {
		if a.AssigneeID != u.ID {
			continue
		}
		for _, ps := range o.PermissionSets {
			if ps.ID == a.PermissionSetID {
				grant(ps.Perms)
			}
		}
	}
	return []map[string]any{row}
}

// Profile is a user profile.
type Profile struct {
	ID    string          `json:"id"`
	Name  string          `json:"name"`
	Perms map[string]bool `json:"perms"`
}

// PermissionSet is a permission set (profile-owned ones mirror their profile's permissions).
type PermissionSet struct {
	ID          string          `json:"id"`
	Name        string          `json:"name"`
	Label       string          `json:"label"`
	Description string          `json:"description,omitempty"`
	ProfileID   string          `json:"profileId,omitempty"` // IsOwnedByProfile when set
	Perms       map[string]bool `json:"perms"`
}

// User is an org user.
type User struct {
	ID        string `json:"id"`
	Username  string `json:"username"`
	Name      string `json:"name"`
	Email     string `json:"email"`
	IsActive  bool   `json:"isActive"`
	ProfileID string `json:"profileId"`
	// FederationIdentifier is the SAML Federation ID single sign-on matches the identity
	// provider's subject against ("" is null): with Microsoft Entra ID, usually the user
	// principal name.
	FederationIdentifier string `json:"federationIdentifier,omitempty"`
}

// Assignment is a PermissionSetAssignment row.
type Assignment struct {
	ID              string `json:"id"`
	AssigneeID      string `json:"assigneeId"`
	PermissionSetID string `json:"permissionSetId"`
}

// EntityAccess is a SetupEntityAccess row (a permission set, or a profile's owned permission set,
// reaching a connected app).
type EntityAccess struct {
	ID              string `json:"id"`
	ParentID        string `json:"parentId"`
	SetupEntityID   string `json:"setupEntityId"`
	SetupEntityType string `json:"setupEntityType"`
}

// ObjectPermission is an ObjectPermissions row: what the users of a permission set may do with
// the records of one object. Salesforce requires Read for Create, Edit and ViewAllRecords, Read
// and Edit for Delete, and Read, Edit, Delete and ViewAllRecords for ModifyAllRecords.
type ObjectPermission struct {
	ID          string `json:"id"`
	ParentID    string `json:"parentId"`
	SobjectType string `json:"sobjectType"`
	Read        bool   `json:"read"`
	Create      bool   `json:"create"`
	Edit        bool   `json:"edit"`
	Delete      bool   `json:"delete"`
	ViewAll     bool   `json:"viewAllRecords"`
	ModifyAll   bool   `json:"modifyAllRecords"`
}

// ObjectTypes are the objects the sandbox org has (besides custom objects, named Name__c or
// ns__Name__c): the values ObjectPermissions.SobjectType accepts.
var ObjectTypes = []string{"Account", "Campaign", "Case", "Contact", "Contract", "Lead", "Opportunity", "Order", "Pricebook2", "Product2", "Quote"}

// ConnectedApp is a connected app known to the org. Before it is installed it only shows in
// "Connected Apps OAuth Usage" (it is not a ConnectedApplication row).
type ConnectedApp struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	FullName    string `json:"fullName"`
	Installed   bool   `json:"installed"`
	ContactMail string `json:"contactEmail"`
	CallbackURL string `json:"callbackUrl"`
	// Policies (Metadata API values).
	IsAdminApproved    bool   `json:"isAdminApproved"`
	IPRelaxation       string `json:"ipRelaxation"`       // ENFORCE, BYPASS_2FACTOR, BYPASS, ENFORCE_RELAXREFRESH
	RefreshTokenPolicy string `json:"refreshTokenPolicy"` // zero, infinite, specific_lifetime:N:UNIT, specific_inactivity:N:UNIT
	SessionTimeout     int    `json:"sessionTimeout"`     // minutes; 0 = none
	// PoliciesLocked makes updateMetadata refuse changes (an installed, managed app whose
	// policies the Metadata API may not change); MetadataHidden makes readMetadata find nothing.
	PoliciesLocked bool `json:"policiesLocked,omitempty"`
	MetadataHidden bool `json:"metadataHidden,omitempty"`
}

// Org is the sandbox org's data.
type Org struct {
	Profiles       []*Profile          `json:"profiles"`
	PermissionSets []*PermissionSet    `json:"permissionSets"`
	Users          []*User             `json:"users"`
	Assignments    []*Assignment       `json:"assignments"`
	EntityAccess   []*EntityAccess     `json:"entityAccess"`
	ObjectPerms    []*ObjectPermission `json:"objectPermissions"`
	Apps           []*ConnectedApp     `json:"apps"`
	Seq            int                 `json:"seq"`
	APIUsage       int                 `json:"apiUsage"`
	APILimit       int                 `json:"apiLimit"`
	// Language is the language of the user the API signs in as (User.LanguageSidKey), "" for
	// English: standard profiles' names are answered in it (language.go).
	Language string `json:"language,omitempty"`

	userIdxMu sync.Mutex
	userIdx   map[string]*User // by id and lower-case username (see User)
	userIdxN  int              // len(Users) when userIdx was built
}

func (o *Org) nextID(prefix string) string {
	o.Seq++
	return ID18(fmt.Sprintf("%s5g%010d", prefix, o.Seq))
}

// ID18 is the 18-character form of a 15-character id: the 15 followed by three characters that
// encode, for each run of 5, which of its characters are upper-case letters (bit i for the i-th),
// as an index into A-Z then 0-5: the form Salesforce's APIs answer and clients compute
// (CASESAFEID). An id of another length is returned as it is.
func ID18(id string) string {
	if len(id) != 15 {
		return id
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
	out := []byte(id)
	for chunk := 0; chunk < 3; chunk++ {
		flags := 0
		for i := 0; i < 5; i++ {
			if c := id[chunk*5+i]; c >= 'A' && c <= 'Z' {
				flags |= 1 << i
			}
		}
		out = append(out, alphabet[flags])
	}
	return string(out)
}

// SameID tells whether id names the record whose id is full. Salesforce ids have a
// case-sensitive 15-character form and an 18-character form (the 15 plus a case checksum); the
// APIs return the 18-character form and accept either wherever an id is taken ("Salesforce
// Object IDs": https://help.salesforce.com/s/articleView?id=000385008; the REST API's sObject
// Rows resource takes "the 15- or 18-character record ID").
func SameID(full, id string) bool {
	if len(full) == 18 && len(id) == 15 {
		return full[:15] == id
	}
	return full == id
}

// Profile returns the profile with that name or id, or nil.
func (o *Org) Profile(nameOrID string) *Profile {
	for _, p := range o.Profiles {
		if SameID(p.ID, nameOrID) || strings.EqualFold(p.Name, nameOrID) {
			return p
		}
	}
	return nil
}

// PermissionSet returns the permission set with that API name or id, or nil.
func (o *Org) PermissionSet(nameOrID string) *PermissionSet {
	for _, p := range o.PermissionSets {
		if SameID(p.ID, nameOrID) || strings.EqualFold(p.Name, nameOrID) {
			return p
		}
	}
	return nil
}

// ProfilePermissionSet returns the permission set a profile owns.
func (o *Org) ProfilePermissionSet(profileID string) *PermissionSet {
	for _, p := range o.PermissionSets {
		if p.ProfileID == profileID {
			return p
		}
	}
	return nil
}

// User returns the user with that username or id, or nil. Lookups go through an index rebuilt
// when users were added (users are only ever appended), so that a collection of 200 records in
// an org of tens of thousands of users does not scan them all for each record.
func (o *Org) User(nameOrID string) *User {
	o.userIdxMu.Lock()
	if len(o.userIdx) == 0 || o.userIdxN != len(o.Users) {
		o.userIdx = make(map[string]*User, 2*len(o.Users))
		for _, u := range o.Users {
			if _, dup := o.userIdx[u.ID]; !dup {
				o.userIdx[u.ID] = u
			}
			if _, dup := o.userIdx[u.ID[:min(15, len(u.ID))]]; !dup && len(u.ID) == 18 {
				o.userIdx[u.ID[:15]] = u
			}
			if k := strings.ToLower(u.Username); o.userIdx[k] == nil {
				o.userIdx[k] = u
			}
		}
		o.userIdxN = len(o.Users)
	}
	u := o.userIdx[nameOrID]
	if u == nil {
		u = o.userIdx[strings.ToLower(nameOrID)]
	}
	o.userIdxMu.Unlock()
	if u != nil && (SameID(u.ID, nameOrID) || strings.EqualFold(u.Username, nameOrID)) {
		return u
	}
	for _, u := range o.Users { // a username changed since the index was built
		if SameID(u.ID, nameOrID) || strings.EqualFold(u.Username, nameOrID) {
			return u
		}
	}
	return nil
}

// App returns the connected app with that name, or nil.
func (o *Org) App(name string) *ConnectedApp {
	for _, a := range o.Apps {
		if strings.EqualFold(a.Name, name) || strings.EqualFold(a.FullName, name) || SameID(a.ID, name) {
			return a
		}
	}
	return nil
}

// AssignedUsernames lists the usernames assigned a permission set, sorted.
func (o *Org) AssignedUsernames(permSet string) []string {
	ps := o.PermissionSet(permSet)
	if ps == nil {
		return nil
	}
	var out []string
	for _, a := range o.Assignments {
		if a.PermissionSetID == ps.ID {
			if u := o.User(a.AssigneeID); u != nil {
				out = append(out, u.Username)
			}
		}
	}
	sort.Strings(out)
	return out
}

// AppAccess lists the profiles and the permission sets (API names) that reach an app, sorted.
func (o *Org) AppAccess(appName string) (profiles, permSets []string) {
	app := o.App(appName)
	if app == nil {
		return nil, nil
	}
	for _, e := range o.EntityAccess {
		if e.SetupEntityID != app.ID {
			continue
		}
		ps := o.PermissionSet(e.ParentID)
		if ps == nil {
			continue
		}
		if ps.ProfileID != "" {
			if p := o.Profile(ps.ProfileID); p != nil {
				profiles = append(profiles, p.Name)
			}
		} else {
			permSets = append(permSets, ps.Name)
		}
	}
	sort.Strings(profiles)
	sort.Strings(permSets)
	return profiles, permSets
}

// Service is the "salesforce" sandbox service.
type Service struct {
	org *Org
	srv *sandbox.Server

	// Secret is the consumer secret the client credentials flow accepts; "" means
	// ConsumerSecret. Tests set it to a canary to check that it never leaks.
	Secret string

	cursorMu sync.Mutex
	cursors  map[string]cursor
	order    []string
	curSeq   int
}

// New returns the service with a fresh org.
func New() *Service {
	s := &Service{}
	s.Reset()
	return s
}

// Name is the URL prefix and data key.
func (s *Service) Name() string { return "salesforce" }

func (s *Service) consumerSecret() string {
	if s.Secret != "" {
		return s.Secret
	}
	return ConsumerSecret
}

// Org gives direct access to the data (tests and sandbox commands: hold the sandbox lock through
// Server.Mutate or Server.View).
func (s *Service) Org() *Org { return s.org }

// MarshalState saves the org.
func (s *Service) MarshalState() ([]byte, error) { return json.Marshal(s.org) }

// UnmarshalState restores the org.
func (s *Service) UnmarshalState(b []byte) error {
	var o Org
	if err := json.Unmarshal(b, &o); err != nil {
		return err
	}
	if o.APILimit == 0 {
		o.APILimit = DefaultAPILimit
	}
	s.org = &o
	return nil
}

// Reset restores the seed: a fresh org in which the Microsoft Power Platform connected app is not
// installed, no permission set grants API Enabled, and Standard User lacks it.
func (s *Service) Reset() {
	o := &Org{APILimit: DefaultAPILimit}
	perms := func(on ...string) map[string]bool {
		m := map[string]bool{}
		for _, p := range UserPermissions {
			m[p] = false
		}
		for _, p := range on {
			m[p] = true
		}
		return m
	}
	for _, p := range []struct {
		name string
		on   []string
	}{
		{ProfileSystemAdministrator, []string{"ApiEnabled", "ViewSetup", "ModifyAllData", "ViewAllData", "ManageUsers", "CustomizeApplication", "ConvertLeads", "EditTask", "EditEvent", "ViewAllUsers",
			"ManageProfilesPermissionsets", "AssignPermissionSets", "ManageConnectedApps"}},
		{ProfileStandardUser, []string{"ConvertLeads", "EditTask", "EditEvent"}},
		{ProfileReadOnly, nil},
		{ProfileMinimumAccess, nil},
	} {
		pr := &Profile{ID: o.nextID("00e"), Name: p.name, Perms: perms(p.on...)}
		o.Profiles = append(o.Profiles, pr)
		o.PermissionSets = append(o.PermissionSets, &PermissionSet{ID: o.nextID("0PS"), Name: fmt.Sprintf("X00e%s_profile", strings.ReplaceAll(pr.ID[3:12], " ", "")), Label: pr.Name, ProfileID: pr.ID, Perms: pr.Perms})
	}
	o.PermissionSets = append(o.PermissionSets, &PermissionSet{ID: o.nextID("0PS"), Name: "Sales_Operations", Label: "Sales Operations", Description: "Reports and dashboards for sales ops", Perms: perms("ViewSetup")})
	admin := o.Profile(ProfileSystemAdministrator).ID
	std := o.Profile(ProfileStandardUser).ID
	o.Users = append(o.Users,
		&User{ID: o.nextID("005"), Username: AdminUser, Name: "Org Admin", Email: AdminUser, IsActive: true, ProfileID: admin},
		&User{ID: o.nextID("005"), Username: IntegrationUser, Name: "c4sctl Integration", Email: IntegrationUser, IsActive: true, ProfileID: admin})
	for i := 1; i <= SeededUsers; i++ {
		prof := std
		if i%50 == 0 {
			prof = o.Profile(ProfileReadOnly).ID
		}
		u := fmt.Sprintf("seller%03d@contoso-sandbox.example", i)
		fed := SellerFederationID(i)
		if i == UnfederatedSeller {
			fed = ""
		}
		o.Users = append(o.Users, &User{ID: o.nextID("005"), Username: u, Name: fmt.Sprintf("Seller %03d", i), Email: u, IsActive: i%97 != 0, ProfileID: prof, FederationIdentifier: fed})
	}
	o.Apps = append(o.Apps, &ConnectedApp{ID: o.nextID("0H4"), Name: PowerPlatformApp, FullName: PowerPlatformAppFullName, ContactMail: "powerplatform@microsoft.example",
		CallbackURL: "https://global.consent.azure-apim.net/redirect", IPRelaxation: "ENFORCE", RefreshTokenPolicy: "infinite"})
	s.org = o
	s.cursorMu.Lock()
	s.cursors, s.order = map[string]cursor{}, nil
	s.cursorMu.Unlock()
}

// InstallConnectedApp does what Setup > Connected Apps OAuth Usage > Install does: the app
// becomes a ConnectedApplication with Salesforce's defaults for an installed app (all users may
// self-authorize, IP restrictions enforced, refresh token valid until revoked, no session
// timeout, no profile or permission set). Call it under Server.Mutate.
func (s *Service) InstallConnectedApp(name string) error {
	app := s.org.App(name)
	if app == nil {
		return fmt.Errorf("the org has no connected app named %q in Connected Apps OAuth Usage", name)
	}
	if app.Installed {
		return nil
	}
	app.Installed = true
	app.IsAdminApproved = false
	app.IPRelaxation = "ENFORCE"
	app.RefreshTokenPolicy = "infinite"
	app.SessionTimeout = 0
	return nil
}

// SetPolicy changes one policy of an installed app by hand, as an admin would in Setup (for
// tests and `c4sctl sandbox salesforce set-policy`). Policies and their values:
// permitted_users (admin_approved_preauthorized | all_users_self_authorize), ip_relaxation
// (Metadata API value, e.g. ENFORCE, BYPASS), refresh_token_policy (Metadata API value, e.g.
// infinite, zero, specific_lifetime:30:DAYS), session_timeout (minutes, 0 = none). Call it under
// Server.Mutate.
func (s *Service) SetPolicy(appName, policy, value string) error {
	app := s.org.App(appName)
	if app == nil || !app.Installed {
		return fmt.Errorf("connected app %q is not installed", appName)
	}
	switch policy {
	case "permitted_users":
		switch value {
		case "admin_approved_preauthorized":
			app.IsAdminApproved = true
		case "all_users_self_authorize":
			app.IsAdminApproved = false
		default:
			return fmt.Errorf("permitted_users: use admin_approved_preauthorized or all_users_self_authorize")
		}
	case "ip_relaxation":
		if !validIPRelaxation(value) {
			return fmt.Errorf("ip_relaxation: use ENFORCE, BYPASS_2FACTOR, BYPASS or ENFORCE_RELAXREFRESH")
		}
		app.IPRelaxation = value
	case "refresh_token_policy":
		if !validRefreshPolicy(value) {
			return fmt.Errorf("refresh_token_policy: use zero, infinite, specific_lifetime:N:HOURS|DAYS|MONTHS or specific_inactivity:N:HOURS|DAYS|MONTHS")
		}
		app.RefreshTokenPolicy = value
	case "session_timeout":
		var n int
		if _, err := fmt.Sscanf(value, "%d", &n); err != nil || n < 0 {
			return fmt.Errorf("session_timeout: minutes, 0 for none")
		}
		app.SessionTimeout = n
	default:
		return fmt.Errorf("unknown policy %q: use permitted_users, ip_relaxation, refresh_token_policy or session_timeout", policy)
	}
	return nil
}

// LockPolicies makes updateMetadata refuse to change the app's policies (locked) or accept it.
// Call it under Server.Mutate.
func (s *Service) LockPolicies(appName string, locked bool) error {
	app := s.org.App(appName)
	if app == nil {
		return fmt.Errorf("no connected app %q", appName)
	}
	app.PoliciesLocked = locked
	return nil
}

// HideMetadata makes readMetadata return no record for the app. Call it under Server.Mutate.
func (s *Service) HideMetadata(appName string, hidden bool) error {
	app := s.org.App(appName)
	if app == nil {
		return fmt.Errorf("no connected app %q", appName)
	}
	app.MetadataHidden = hidden
	return nil
}

// SetAPILimit sets the daily API request limit and usage (REQUEST_LIMIT_EXCEEDED once usage
// reaches the limit). Call it under Server.Mutate.
func (s *Service) SetAPILimit(used, limit int) {
	s.org.APIUsage, s.org.APILimit = used, limit
}

func validIPRelaxation(v string) bool {
	switch v {
	case "ENFORCE", "BYPASS_2FACTOR", "BYPASS", "ENFORCE_RELAXREFRESH":
		return true
	}
	return false
}

func validRefreshPolicy(v string) bool {
	if v == "zero" || v == "infinite" {
		return true
	}
	parts := strings.Split(v, ":")
	if len(parts) != 3 || (parts[0] != "specific_lifetime" && parts[0] != "specific_inactivity") {
		return false
	}
	var n int
	if _, err := fmt.Sscanf(parts[1], "%d", &n); err != nil || n <= 0 || fmt.Sprint(n) != parts[1] {
		return false
	}
	switch parts[2] {
	case "HOURS", "DAYS", "MONTHS":
		return true
	}
	return false
}

// AddUsers adds n active users with the profile (for paging tests and benchmarks) and returns
// their usernames. Call it under Server.Mutate.
func (s *Service) AddUsers(n int, profile string) ([]string, error) {
	p := s.org.Profile(profile)
	if p == nil {
		return nil, fmt.Errorf("no profile %q", profile)
	}
	out := make([]string, 0, n)
	for i := 0; i < n; i++ {
		s.org.Seq++
		u := fmt.Sprintf("extra%06d@contoso-sandbox.example", s.org.Seq)
		s.org.Users = append(s.org.Users, &User{ID: fmt.Sprintf("0055g%010dAAA", s.org.Seq), Username: u, Name: "Extra " + u, Email: u, IsActive: true, ProfileID: p.ID})
		out = append(out, u)
	}
	return out, nil
}

// UserEdit is what `c4sctl sandbox salesforce edit-user` changes: the fields of Setup > Users >
// Edit the seller reconciliation reads. nil fields are left as they are.
type UserEdit struct {
	Active       *bool
	FederationID *string // Single Sign On Information > Federation ID ("" clears it)
	Profile      string  // a profile name or id ("" leaves it)
}

// EditUser does what an admin does in Setup > Users > Edit for one user, for the sandbox's
// demos and tests: reactivate or deactivate them, set their Federation ID, change their profile.
// A Federation ID another user holds is refused with Salesforce's message ("This Federation ID
// is already in use. Use a different Federation ID.", quoted in Okta's support article
// "Salesforce Federated ID Provisioning Error", support.okta.com); compared without case, which
// is at least as strict as Salesforce (whose Federation IDs are case-sensitive: assumed).
// Call it under Server.Mutate.
func (s *Service) EditUser(username string, e UserEdit) error {
	u := s.org.User(username)
	if u == nil {
		return fmt.Errorf("the org has no user %q", username)
	}
	next := *u
	if e.Active != nil {
		next.IsActive = *e.Active
	}
	if e.FederationID != nil {
		if *e.FederationID != "" {
			for _, o := range s.org.Users {
				if o != u && strings.EqualFold(o.FederationIdentifier, *e.FederationID) {
					return fmt.Errorf("This Federation ID is already in use. Use a different Federation ID. (%q is the Federation ID of %s)", *e.FederationID, o.Username)
				}
			}
		}
		next.FederationIdentifier = *e.FederationID
	}
	if e.Profile != "" {
		p := s.org.Profile(e.Profile)
		if p == nil {
			return fmt.Errorf("the org has no profile %q", e.Profile)
		}
		next.ProfileID = p.ID
	}
	*u = next
	return nil
}
