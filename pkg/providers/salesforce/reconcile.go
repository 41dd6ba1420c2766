package salesforce

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/simpleforce/simpleforce"
)

// Seller reconciliation (issue 16): each licensed seller of the Entra seller group side by side
// with the Salesforce user they sign in as. Facts and sources: docs/api/salesforce.md, "Seller
// reconciliation".

// Match rules, tried in the configured order (provider block's seller_match_by).
const (
	// MatchFederationID compares the seller's user principal name with User.FederationIdentifier
	// (the SAML Federation ID single sign-on with Microsoft Entra ID matches its subject against).
	MatchFederationID = "federation_id"
	// MatchEmail compares the seller's mail with User.Email.
	MatchEmail = "email"
)

// MatchRules are the rules seller_match_by accepts.
var MatchRules = []string{MatchFederationID, MatchEmail}

// DefaultMatchBy is the rule when the provider block names none.
var DefaultMatchBy = []string{MatchFederationID, MatchEmail}

// EntraSeller is a member of the seller group as Microsoft Graph lists it.
type EntraSeller struct {
	UPN, Mail string
	Licensed  bool // holds the Copilot for Sales licence (the configured SKU)
}

// ReconcileInput is what Reconcile compares.
type ReconcileInput struct {
	Sellers       []EntraSeller
	MatchBy       []string // rules in order; nil: DefaultMatchBy
	PermissionSet string   // API name of the permission set c4sctl manages for sellers
	ConnectedApp  string   // name of the connected app Copilot for Sales uses ("" skips the check)
}

// SellerUser pairs a seller with the Salesforce user matched to them.
type SellerUser struct {
	Seller   string `json:"seller"`   // user principal name in Entra
	Username string `json:"username"` // Salesforce username
}

// Reconciliation is the comparison's outcome. Lists are sorted.
type Reconciliation struct {
	Licensed   int            // licensed sellers compared
	Matched    int            // licensed sellers matched to a Salesforce user
	MatchedBy  map[string]int // matches per rule
	Ready      int            // matched, active, holding the permission set, API Enabled, allowed through the app
	Missing    []string       // licensed sellers without a Salesforce user (UPN)
	Inactive   []SellerUser   // matched to an inactive user
	NoPermSet  []SellerUser   // whose user lacks the permission set
	NoAPI      []SellerUser   // whose user has API Enabled from neither profile nor permission set
	NotAllowed []SellerUser   // whose user the connected app does not let through
	// Unlicensed are the Salesforce users holding the permission set that match no licensed
	// seller (username).
	Unlicensed []string
	// FederationCase are the sellers matched by federation_id only without regard to case (the
	// Federation ID and the user principal name differ in case). Salesforce compares Federation
	// IDs with case unless the org turns on "Make Federation ID case-insensitive" (Setup >
	// Single Sign-On Settings; Salesforce Summer '20 release notes, "Seamlessly Integrate
	// Federation IDs with Identity Providers"), which c4sctl does not read: their single sign-on
	// may fail although every check passes.
	FederationCase []SellerUser
	// AppNote says why the connected app was not checked per seller, or that every active user
	// may use it ("" when its access rows were read).
	AppNote string
	// AppChecked: NotAllowed is meaningful (the app is installed; either every active user may
	// self-authorize or its admin-approved profiles and permission sets were read).
	AppChecked bool
	// Minimum is the fewest requests its reads could take at 2,000 records a page: the user
	// count, the users' pages, the assignments' pages, the app's row and access rows.
	Minimum int
}

// sfSeller is a User row as the reconciliation reads it.
type sfSeller struct {
	id, username, email, fed, profileID string
	active, profileAPI                  bool
}

// queryPage is the most records a SOQL query answers a page (the default batch size; REST API
// Developer Guide, "Query": "the default is 2,000").
const queryPage = 2000

const userFields = "SELECT Id, Username, Email, FederationIdentifier, IsActive, ProfileId, Profile.PermissionsApiEnabled FROM User"

// Reconcile matches the licensed sellers to Salesforce users and checks each user, and lists the
// holders of the permission set who are not licensed sellers. Reads: the number of users (one
// COUNT() query), then either every user (paged) or the users by FederationIdentifier / Email IN
// (...), whichever takes fewer requests; one paged query of the assignments that matter (the
// permission set's, those granting API Enabled, those reaching the app); the app's row and its
// access rows. Never one request per seller.
func (c *Client) Reconcile(ctx context.Context, in ReconcileInput) (*Reconciliation, error) {
	rules := in.MatchBy
	if len(rules) == 0 {
		rules = DefaultMatchBy
	}
	for _, r := range rules {
		if r != MatchFederationID && r != MatchEmail {
			return nil, fmt.Errorf("seller_match_by: unknown rule %q (use %s)", r, strings.Join(MatchRules, ", "))
		}
	}
	res := &Reconciliation{MatchedBy: map[string]int{}}
	var licensed []EntraSeller
	for _, s := range in.Sellers {
		if s.Licensed {
			licensed = append(licensed, s)
		}
	}
	res.Licensed = len(licensed)

	// The connected app: who may use it.
	allowAll, noApp, appSets, appProfiles := true, false, map[string]bool{}, map[string]bool{}
	if in.ConnectedApp != "" {
		app, err := c.findApp(ctx, in.ConnectedApp)
		if err != nil {
			return nil, err
		}
		switch {
		case app == nil:
			noApp = true
			res.AppNote = fmt.Sprintf("the connected app %q is not installed: nobody reaches Salesforce through it yet (not checked per seller)", in.ConnectedApp)
		case !app.adminApproved:
			res.AppChecked = true
			res.AppNote = fmt.Sprintf("the connected app %q lets all users self-authorize: every active user may use it", in.ConnectedApp)
		default:
			allowAll, res.AppChecked = false, true
			rows, err := c.appAccess(ctx, app.id, map[string]string{})
			if err != nil {
				return nil, err
			}
			for _, a := range rows {
				if a.profileID != "" {
					appProfiles[id15(a.profileID)] = true
				} else if a.parentID != "" {
					appSets[id15(a.parentID)] = true
				}
			}
		}
	} else {
		res.AppNote = "no salesforce_connected_app is declared: who may use the connected app was not checked"
	}

	// The users.
	users, err := c.sellerUsers(ctx, licensed, rules)
	if err != nil {
		return nil, err
	}
	res.Minimum += pages(len(users)) + 1 // their pages, and the count
	byFed, byEmail := map[string][]*sfSeller{}, map[string][]*sfSeller{}
	for _, u := range users {
		if u.fed != "" {
			byFed[strings.ToLower(u.fed)] = append(byFed[strings.ToLower(u.fed)], u)
		}
		if u.email != "" {
			byEmail[strings.ToLower(u.email)] = append(byEmail[strings.ToLower(u.email)], u)
		}
	}
	matched := map[string]*sfSeller{} // UPN -> user
	matchedIDs := map[string]bool{}
	for _, s := range licensed {
		for _, r := range rules {
			key, idx := strings.ToLower(s.UPN), byFed
			if r == MatchEmail {
				key, idx = strings.ToLower(s.Mail), byEmail
			}
			if key == "" || len(idx[key]) == 0 {
				continue
			}
			cands := idx[key]
			if r == MatchFederationID {
				// The user whose Federation ID is the UPN as Entra ID sends it, case included,
				// is the one a case-sensitive org signs the seller in as.
				var exact []*sfSeller
				for _, u := range cands {
					if u.fed == s.UPN {
						exact = append(exact, u)
					}
				}
				if len(exact) > 0 {
					cands = exact
				}
			}
			u := pick(cands)
			if r == MatchFederationID && u.fed != s.UPN {
				res.FederationCase = append(res.FederationCase, SellerUser{Seller: s.UPN, Username: u.username})
			}
			matched[s.UPN] = u
			matchedIDs[id15(u.id)] = true
			res.MatchedBy[r]++
			break
		}
	}
	res.Matched = len(matched)

	// The assignments that matter, in one paged query.
	where := "PermissionSet.IsOwnedByProfile = false AND (PermissionSet.PermissionsApiEnabled = true OR PermissionSet.Name = " + soqlQuote(in.PermissionSet)
	var setIDs []string
	for id := range appSets {
		setIDs = append(setIDs, id)
	}
	sort.Strings(setIDs)
	if len(setIDs) > 0 {
		quoted := make([]string, len(setIDs))
		for i, id := range setIDs {
			quoted[i] = soqlQuote(id)
		}
		where += " OR PermissionSetId IN (" + strings.Join(quoted, ", ") + ")"
	}
	where += ")"
	recs, err := c.query(ctx, "SELECT AssigneeId, Assignee.Username, PermissionSetId, PermissionSet.Name, PermissionSet.PermissionsApiEnabled FROM PermissionSetAssignment WHERE "+where)
	res.Minimum += pages(len(recs))
	if err != nil {
		return nil, fmt.Errorf("read the permission set assignments: %w", err)
	}
	holds, api, allowed := map[string]bool{}, map[string]bool{}, map[string]bool{}
	holders := map[string]string{} // assignee id -> username, of the managed set
	for _, r := range recs {
		a := id15(str(r, "AssigneeId"))
		if strings.EqualFold(str(r, "PermissionSet.Name"), in.PermissionSet) {
			holds[a] = true
			holders[a] = str(r, "Assignee.Username")
		}
		if on, _ := field(r, "PermissionSet.PermissionsApiEnabled").(bool); on {
			api[a] = true
		}
		if appSets[id15(str(r, "PermissionSetId"))] {
			allowed[a] = true
		}
	}
	for id, name := range holders {
		if !matchedIDs[id] {
			res.Unlicensed = append(res.Unlicensed, name)
		}
	}

	for _, s := range licensed {
		u := matched[s.UPN]
		if u == nil {
			res.Missing = append(res.Missing, s.UPN)
			continue
		}
		pair, id, ok := SellerUser{Seller: s.UPN, Username: u.username}, id15(u.id), true
		if !u.active {
			res.Inactive, ok = append(res.Inactive, pair), false
		}
		if !holds[id] {
			res.NoPermSet, ok = append(res.NoPermSet, pair), false
		}
		if !u.profileAPI && !api[id] {
			res.NoAPI, ok = append(res.NoAPI, pair), false
		}
		if !allowAll && !appProfiles[id15(u.profileID)] && !allowed[id] {
			res.NotAllowed, ok = append(res.NotAllowed, pair), false
		}
		if ok && !noApp {
			res.Ready++
		}
	}
	sort.Strings(res.Missing)
	sort.Strings(res.Unlicensed)
	for _, l := range [][]SellerUser{res.Inactive, res.NoPermSet, res.NoAPI, res.NotAllowed, res.FederationCase} {
		sort.Slice(l, func(i, j int) bool { return l[i].Seller < l[j].Seller })
	}
	if in.ConnectedApp != "" {
		res.Minimum += 1 + btoi(!allowAll)
	}
	return res, nil
}

// sellerUsers reads the Salesforce users the sellers may match: every user when the org's users
// fit in fewer pages than the IN (...) queries of the first rule would take, else the users by
// each rule's values (Email only for the sellers an earlier rule did not match).
func (c *Client) sellerUsers(ctx context.Context, sellers []EntraSeller, rules []string) ([]*sfSeller, error) {
	if len(sellers) == 0 {
		return nil, nil
	}
	total, err := c.count(ctx, "SELECT COUNT() FROM User")
	if err != nil {
		return nil, fmt.Errorf("count the org's users: %w", err)
	}
	values := func(r string, skip map[string]bool) []string {
		var out []string
		for _, s := range sellers {
			v := s.UPN
			if r == MatchEmail {
				v = s.Mail
			}
			if v != "" && !skip[strings.ToLower(s.UPN)] {
				out = append(out, v)
			}
		}
		return out
	}
	column := func(r string) string {
		if r == MatchEmail {
			return "Email"
		}
		return "FederationIdentifier"
	}
	if pages(total) <= len(c.inQueries(userFields+" WHERE "+column(rules[0])+" IN ", values(rules[0], nil), "")) {
		recs, err := c.query(ctx, userFields)
		if err != nil {
			return nil, fmt.Errorf("read the org's users: %w", err)
		}
		return decodeSellerUsers(recs), nil
	}
	var out []*sfSeller
	found := map[string]bool{} // lower-case UPN of the sellers an earlier rule matched
	for _, r := range rules {
		recs, err := c.queryIn(ctx, "read the sellers' Salesforce users", userFields+" WHERE "+column(r)+" IN ", values(r, found), "")
		if err != nil {
			return nil, err
		}
		us := decodeSellerUsers(recs)
		out = append(out, us...)
		byKey := map[string]bool{}
		for _, u := range us {
			if r == MatchEmail {
				byKey[strings.ToLower(u.email)] = true
			} else {
				byKey[strings.ToLower(u.fed)] = true
			}
		}
		for _, s := range sellers {
			k := strings.ToLower(s.UPN)
			if r == MatchEmail {
				k = strings.ToLower(s.Mail)
			}
			if k != "" && byKey[k] {
				found[strings.ToLower(s.UPN)] = true
			}
		}
	}
	return out, nil
}

// decodeSellerUsers reads User rows of userFields.
func decodeSellerUsers(recs []map[string]any) []*sfSeller {
	out := make([]*sfSeller, 0, len(recs))
	for _, r := range recs {
		u := &sfSeller{id: str(r, "Id"), username: str(r, "Username"), email: str(r, "Email"), fed: str(r, "FederationIdentifier"), profileID: str(r, "ProfileId")}
		u.active, _ = boolean(r, "IsActive")
		u.profileAPI, _ = field(r, "Profile.PermissionsApiEnabled").(bool)
		if u.id != "" {
			out = append(out, u)
		}
	}
	return out
}

// count runs a SELECT COUNT() query and answers its totalSize (REST API Developer Guide, "Query":
// COUNT() answers totalSize and no records).
func (c *Client) count(ctx context.Context, soql string) (int, error) {
	var res *simpleforce.QueryResult
	if err := c.sfCall(ctx, "SOQL query", func(sf *simpleforce.Client) error {
		var err error
		res, err = sf.Query(soql)
		return err
	}); err != nil {
		return 0, err
	}
	if res == nil {
		return 0, fmt.Errorf("SOQL query: empty answer from Salesforce")
	}
	return res.TotalSize, nil
}

// pick prefers an active user among users sharing a key (emails are not unique in an org).
func pick(us []*sfSeller) *sfSeller {
	for _, u := range us {
		if u.active {
			return u
		}
	}
	return us[0]
}

// id15 is the case-sensitive 15-character form of a Salesforce id: the API answers 18-character
// ids, whose last three characters only encode the case of the first 15.
func id15(id string) string {
	if len(id) == 18 {
		return id[:15]
	}
	return id
}

// pages is how many requests n records take (at least one: an empty answer is one request).
func pages(n int) int {
	if n <= queryPage {
		return 1
	}
	return (n + queryPage - 1) / queryPage
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
