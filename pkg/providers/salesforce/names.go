package salesforce

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// names caches, for one run, what the org calls things: its objects (describeGlobal) and the
// spelling Salesforce answers for names the configuration may write in another case.
type names struct {
	mu      sync.Mutex
	objects map[string]string // lower-case object API name -> Salesforce's spelling
	fields  map[string]string // lower-case PermissionSet field -> Salesforce's spelling
	// creating holds the permission sets (lower-case API names) this run plans to create: the
	// connected app may name them (it depends on them, so they are planned first).
	creating map[string]bool
	// setNames holds Salesforce's spelling of permission set names read this run whose
	// configuration spells them in another case (lower-case configured name -> Salesforce's).
	setNames map[string]string
}

// nameAsConfigured is a permission set's API name as read, in the configuration's spelling when
// the two differ only in case (Salesforce compares API names without case: a configuration in
// another case plans no rename and passes the check that a change stuck); plan notes
// Salesforce's spelling.
func (c *Client) nameAsConfigured(live, configured string) string {
	if live == configured || !strings.EqualFold(live, configured) {
		return live
	}
	c.names.mu.Lock()
	defer c.names.mu.Unlock()
	if c.names.setNames == nil {
		c.names.setNames = map[string]string{}
	}
	c.names.setNames[strings.ToLower(configured)] = live
	return configured
}

// planningCreate notes that this run plans to create the permission set name.
func (c *Client) planningCreate(name string) {
	c.names.mu.Lock()
	defer c.names.mu.Unlock()
	if c.names.creating == nil {
		c.names.creating = map[string]bool{}
	}
	c.names.creating[strings.ToLower(name)] = true
}

// foldField reads a field of a record by name without case (Salesforce field names are
// case-insensitive; answers spell them Salesforce's way); nil when absent. It remembers the
// spelling for canonicalField.
func (c *Client) foldField(rec map[string]any, name string) any {
	if v, ok := rec[name]; ok {
		return v
	}
	for k, v := range rec {
		if strings.EqualFold(k, name) {
			c.names.mu.Lock()
			if c.names.fields == nil {
				c.names.fields = map[string]string{}
			}
			c.names.fields[strings.ToLower(name)] = k
			c.names.mu.Unlock()
			return v
		}
	}
	return nil
}

// canonicalField is Salesforce's spelling of a field name read before, else the name as given.
func (c *Client) canonicalField(name string) string {
	c.names.mu.Lock()
	defer c.names.mu.Unlock()
	if k := c.names.fields[strings.ToLower(name)]; k != "" {
		return k
	}
	return name
}

// describeGlobal is the answer of GET /services/data/vXX.X/sobjects (REST API Developer Guide,
// "Describe Global"; fixture testdata/describe_global.json): the org's objects. c4sctl reads
// only name.
type describeGlobal struct {
	Encoding     string `json:"encoding"`
	MaxBatchSize int    `json:"maxBatchSize"`
	SObjects     []struct {
		Name   string `json:"name"`
		Custom bool   `json:"custom"`
	} `json:"sobjects"`
}

// orgObjects returns the org's object API names (lower-case -> Salesforce's spelling), read once
// a run with describeGlobal.
func (c *Client) orgObjects(ctx context.Context) (map[string]string, error) {
	c.names.mu.Lock()
	have := c.names.objects
	c.names.mu.Unlock()
	if have != nil {
		return have, nil
	}
	var dg describeGlobal
	if err := c.rest(ctx, http.MethodGet, "sobjects", nil, &dg); err != nil {
		return nil, fmt.Errorf("list the org's objects (describeGlobal): %w", err)
	}
	if len(dg.SObjects) == 0 {
		return nil, fmt.Errorf("list the org's objects (describeGlobal): Salesforce answered no objects")
	}
	out := make(map[string]string, len(dg.SObjects))
	for _, o := range dg.SObjects {
		out[strings.ToLower(o.Name)] = o.Name
	}
	c.names.mu.Lock()
	c.names.objects = out
	c.names.mu.Unlock()
	return out, nil
}

// checkObjects refuses object_permissions keys that name no object of the org, before apply
// would create the permission set and then fail on the object permission (Salesforce refuses an
// unknown SobjectType, a restricted picklist of the org's objects). Objects written in another
// case come back as name -> Salesforce's spelling.
func (c *Client) checkObjects(ctx context.Context, objs []string) (map[string]string, error) {
	if len(objs) == 0 {
		return nil, nil
	}
	org, err := c.orgObjects(ctx)
	if err != nil {
		return nil, err
	}
	respelled := map[string]string{}
	var unknown []string
	for _, o := range objs {
		canon, ok := org[strings.ToLower(o)]
		switch {
		case !ok:
			msg := fmt.Sprintf("%q", o)
			if s := closest(o, org); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			unknown = append(unknown, msg)
		case canon != o:
			respelled[o] = canon
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, fmt.Errorf("object_permissions: the org has no object %s; use the object's API name as Setup > Object Manager shows it (custom objects end in __c)", strings.Join(unknown, ", no object "))
	}
	return respelled, nil
}

// closest is the org's object nearest to name by edit distance (at most a third of its length),
// or "".
func closest(name string, org map[string]string) string {
	best, bestD := "", len(name)/3+1
	for low, canon := range org {
		if d := editDistance(strings.ToLower(name), low); d < bestD || (d == bestD && best != "" && canon < best) {
			best, bestD = canon, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// profileIDRe is a Profile record id: key prefix 00e, 15 or 18 characters.
var profileIDRe = regexp.MustCompile(`^00e[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?$`)

// orgProfile is a profile as the signed-in user reads it.
type orgProfile struct{ id, name string }

// profiles lists the org's profiles. Salesforce translates standard profiles' names into the
// language of the user c4sctl signs in as ("System Administrator" reads "Systemadministrator"
// to a German user; a SOQL filter on the English name then finds nothing:
// salesforce.stackexchange.com/questions/156802); the Id is the key that does not change.
func (c *Client) profiles(ctx context.Context) ([]orgProfile, error) {
	recs, err := c.query(ctx, "SELECT Id, Name FROM Profile")
	if err != nil {
		return nil, fmt.Errorf("list profiles: %w", err)
	}
	out := make([]orgProfile, 0, len(recs))
	for _, r := range recs {
		out = append(out, orgProfile{id: str(r, "Id"), name: str(r, "Name")})
	}
	return out, nil
}

// sameID compares record ids in their 15- or 18-character forms (the first 15 characters are
// the case-sensitive id; the 3 more are a checksum for case-insensitive systems).
func sameID(a, b string) bool {
	if len(a) < 15 || len(b) < 15 {
		return false
	}
	return a[:15] == b[:15]
}

// resolveProfiles maps each configured profile (an Id, or a name as the signed-in user reads
// it, without case) to a profile; the entries that match nothing are returned apart.
func resolveProfiles(entries []string, org []orgProfile) (map[string]orgProfile, []string) {
	out := map[string]orgProfile{}
	var missing []string
	for _, e := range entries {
		found := false
		for _, p := range org {
			if (profileIDRe.MatchString(e) && sameID(e, p.id)) || strings.EqualFold(e, p.name) {
				out[e], found = p, true
				break
			}
		}
		if !found {
			missing = append(missing, e)
		}
	}
	return out, missing
}

// profilesMissing is the plan error for profiles entries that match no profile: it lists the
// names the signed-in user reads, with their ids, since a translated name is the usual cause.
func profilesMissing(missing []string, org []orgProfile) error {
	sort.Strings(missing)
	shown := make([]string, 0, len(org))
	for _, p := range org {
		shown = append(shown, fmt.Sprintf("%q (%s)", p.name, p.id))
	}
	sort.Strings(shown)
	if len(shown) > 15 {
		shown = append(shown[:15], fmt.Sprintf("and %d more", len(shown)-15))
	}
	q := make([]string, len(missing))
	for i, m := range missing {
		q[i] = fmt.Sprintf("%q", m)
	}
	return fmt.Errorf("profiles: the org has no profile %s. Salesforce shows standard profiles' names in the language of the user c4sctl signs in as, so an English name finds nothing when that user reads another language; name the profile as that user reads it or by its Id (language-independent). The org's profiles: %s",
		strings.Join(q, ", "), strings.Join(shown, ", "))
}

// canonicalObject is Salesforce's spelling of an object name (SobjectType is a restricted
// picklist: its values are spelled one way), or the name as given when describeGlobal fails or
// does not list it (the create then reports Salesforce's refusal).
func (c *Client) canonicalObject(ctx context.Context, name string) string {
	org, err := c.orgObjects(ctx)
	if err != nil {
		return name
	}
	if canon := org[strings.ToLower(name)]; canon != "" {
		return canon
	}
	return name
}

// checkAccessNames returns the profiles entries (Ids or names in any case) as the names the org
// answers, or one error naming every profile and permission set (API name) that matches nothing.
func (c *Client) checkAccessNames(ctx context.Context, profiles, permSets []string) ([]string, error) {
	var errs []string
	out := []string{}
	if len(profiles) > 0 {
		org, err := c.profiles(ctx)
		if err != nil {
			return nil, err
		}
		resolved, missing := resolveProfiles(profiles, org)
		if len(missing) > 0 {
			errs = append(errs, profilesMissing(missing, org).Error())
		}
		for _, e := range profiles {
			out = append(out, resolved[e].name)
		}
	}
	if len(permSets) > 0 {
		recs, err := c.queryIn(ctx, "find permission sets", "SELECT Id, Name FROM PermissionSet WHERE IsOwnedByProfile = false AND Name IN ", permSets, "")
		if err != nil {
			return nil, err
		}
		found := map[string]bool{}
		for _, r := range recs {
			found[strings.ToLower(str(r, "Name"))] = true
		}
		var missing []string
		c.names.mu.Lock()
		for p := range c.names.creating {
			found[p] = true
		}
		c.names.mu.Unlock()
		for _, p := range permSets {
			if !found[strings.ToLower(p)] {
				missing = append(missing, fmt.Sprintf("%q", p))
			}
		}
		if len(missing) > 0 {
			sort.Strings(missing)
			errs = append(errs, "permission_sets: the org has no permission set "+strings.Join(missing, ", ")+" (permission sets are named by API name, as in Setup > Permission Sets > API Name)")
		}
	}
	if len(errs) > 0 {
		return nil, errors.New(strings.Join(errs, "; "))
	}
	return out, nil
}

// learnPermissionFields reads Salesforce's spelling of PermissionSet permission fields
// ("Permissions"+name for each configured user permission) from one row, so that a create sends
// them as Salesforce spells them; a name the org does not have fails here, at plan.
func (c *Client) learnPermissionFields(ctx context.Context, perms []string) error {
	var unknown []string
	for _, p := range perms {
		if c.canonicalField("Permissions"+p) == "Permissions"+p {
			unknown = append(unknown, "Permissions"+p)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	recs, err := c.query(ctx, "SELECT Id, "+strings.Join(unknown, ", ")+" FROM PermissionSet LIMIT 1")
	if err != nil {
		var ae *APIError
		if asAPIError(err, &ae) && ae.Code == "INVALID_FIELD" {
			return fmt.Errorf("user_permissions: the org has no such user permission (%s); use the PermissionSet field names without \"Permissions\" (see the PermissionSet object reference)", ae.Message)
		}
		return fmt.Errorf("read the user permission fields: %w", err)
	}
	for _, r := range recs {
		for _, f := range unknown {
			c.foldField(r, f)
		}
	}
	return nil
}
