package teams

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/c4sctl/c4sctl/pkg/providers"
	"golang.org/x/sync/errgroup"
)

// Seller coverage: which meeting policy and app setup policy each seller gets, computed from the
// tenant's assignments (docs/api/teams.md, "Which policy a user gets"). Microsoft's precedence
// (Learn "Assign policies to users and groups", and New-CsGroupPolicyAssignment): a policy
// assigned to the user directly wins; otherwise the group assignment of the highest rank
// (lowest number) among the user's groups of that policy type; otherwise Global. Group
// assignments reach direct members only.

// Via tells where a user's policy comes from.
type Via string

const (
	ViaDirect Via = "direct"
	ViaGroup  Via = "group"
	ViaGlobal Via = "global"
)

// GroupAssignment is one group policy assignment of a policy type.
type GroupAssignment struct {
	GroupID    string
	PolicyName string // bare name, without "Tag:"
	Rank       int    // 1 = highest
	Created    string // the assignment's createdTime as the service wrote it ("" when absent)
}

// Effective is the policy a user gets and why.
type Effective struct {
	Policy  string // "Global" or a bare policy name
	Via     Via
	GroupID string // ViaGroup only
	Rank    int    // ViaGroup only
	Created string // ViaGroup only: when the group assignment was made, as the service wrote it
}

// EffectivePolicy applies the precedence to one user: direct is the user's direct assignment
// ("" for none; "Global" counts as none), memberOf tells whether the user is a direct member of
// a group (by lower-case id), and groups are the type's group assignments in any order.
func EffectivePolicy(direct string, memberOf func(groupID string) bool, groups []GroupAssignment) Effective {
	if direct != "" && !isGlobal(direct) {
		return Effective{Policy: displayIdentity(direct), Via: ViaDirect}
	}
	best := -1
	for i, g := range groups {
		if memberOf(strings.ToLower(g.GroupID)) && (best < 0 || g.Rank < groups[best].Rank) {
			best = i
		}
	}
	if best >= 0 {
		g := groups[best]
		return Effective{Policy: displayIdentity(g.PolicyName), Via: ViaGroup, GroupID: g.GroupID, Rank: g.Rank, Created: g.Created}
	}
	return Effective{Policy: "Global", Via: ViaGlobal}
}

// Seller is a member of the seller group.
type Seller struct{ ID, UPN string }

// CoverageInput is what Coverage needs besides the Teams service: the sellers, and a way to list
// a group's direct member ids (the Microsoft 365 provider's paged member read).
type CoverageInput struct {
	Sellers []Seller
	// found is false for a group that no longer exists.
	Members func(ctx context.Context, groupID string) (ids []string, found bool, err error)
	// AppID is the Copilot for Sales Teams app id whose installation the setup policy must carry
	// ("" skips the app check).
	AppID string
	// UserPolicies, when not nil, are the sellers' effective policies as Graph's Teams user
	// configurations report them (lower-case object id -> assignments; a policy type absent is
	// Global): they include direct assignments, which the assignment lists do not. nil computes
	// every seller's policies from the group assignments; a seller absent from a non-nil map is
	// computed so too.
	UserPolicies map[string][]UserPolicy
	// LoadSellers and LoadUserPolicies, when set, give Sellers and UserPolicies in their place
	// and run while Coverage reads the assignment lists: a plan's seller group (21 pages for
	// 20,000 members) and the tenant's user configurations (a page per 999 users) are its longest
	// chains of requests, and the Teams reads need not wait for them.
	LoadSellers      func(ctx context.Context) ([]Seller, error)
	LoadUserPolicies func(ctx context.Context) (map[string][]UserPolicy, error)
	// LoadAppID, when set, gives AppID in its place, run beside the other loads (the caller's
	// app id may be known only once its plan is finished).
	LoadAppID func(ctx context.Context) (string, error)
}

// UserPolicy is one effective policy assignment of a user as Graph reports it (see
// m365.UserPolicy): AssignmentType "direct" or "group", GroupID for a group.
type UserPolicy struct {
	PolicyType, Name, AssignmentType, GroupID string
}

// Coverage sources (CoverageResult.Source).
const (
	SourceGraph       = "graph"       // Graph's per-user effective policies
	SourceAssignments = "assignments" // computed from the group assignments (direct ones unseen)
)

// CoverageGroup counts sellers who get the same pair of policies the same way.
type CoverageGroup struct {
	Meeting, Setup Effective
	Transcription  bool   // the meeting policy has AllowTranscription true
	Copilot        string // the meeting policy's Copilot value ("" when the service did not say)
	AppInstalled   bool   // the setup policy's AppPresetList holds AppID (true when AppID is "")
	Sellers        int
	Example        string   // one seller's UPN
	SellerIDs      []string // the sellers' object ids (the app availability check's input)
	// AppNotAllowed counts the sellers of the group the app is not available to (set by the
	// caller's app availability check; 0 when not checked).
	AppNotAllowed int
	// AppNotAllowedIDs are those sellers' object ids (per-seller readiness: `c4sctl status`).
	AppNotAllowedIDs []string
}

// Covered tells whether these sellers get what Copilot for Sales needs: transcription on (guide
// step 3), Copilot not turned off in their meetings, and the app installed by their setup policy.
func (g CoverageGroup) Covered() bool {
	return g.Transcription && !CopilotOff(g.Copilot) && g.AppInstalled && g.AppNotAllowed == 0
}

// CoverageResult is the coverage of all sellers, by group of identical outcome (covered first,
// then by size).
type CoverageResult struct {
	Sellers    int
	Groups     []CoverageGroup
	Requests   int      // requests sent to the Teams service
	GroupsRead int      // groups whose members were read
	Missing    []string // assigned groups that no longer exist (no members)
	// SellerGroup gives, for each seller of the input (Sellers, or what LoadSellers listed; same
	// order), the index in Groups of the outcome that seller gets: per-seller readiness
	// (`c4sctl status`, `welcome --ready-only`).
	SellerGroup []int
	Source      string // SourceGraph or SourceAssignments
	// NotInGraph counts the sellers Graph's user configurations did not list (SourceGraph):
	// their policies were computed from the group assignments.
	NotInGraph int
	// AppAvailabilityUnread says why whether the sellers may use the app could not be read (set
	// by the caller's app availability check; "" when it was read or not checked).
	AppAvailabilityUnread string
}

// Uncovered counts the sellers who lack transcription or the app.
func (r *CoverageResult) Uncovered() int {
	n := 0
	for _, g := range r.Groups {
		switch {
		case !g.Transcription || CopilotOff(g.Copilot) || !g.AppInstalled:
			n += g.Sellers
		case g.AppNotAllowed > 0:
			n += g.AppNotAllowed
		}
	}
	return n
}

// Coverage computes which policies every seller gets: from Graph's per-user effective policies
// (in.UserPolicies, direct assignments included) where the caller could read them, otherwise
// from the tenant's group assignments of both policy types. Requests to the Teams service: one
// list per policy type (the ranks), one read per policy in use; and, when computing, the member
// pages of each assigned group (at most 64 a type) through in.Members: never one request per
// seller. Computed, direct user assignments are not seen (the Teams service has no public bulk
// route for them: docs/api/teams.md); res.Source says which, and the caller says so.
func (c *Client) Coverage(ctx context.Context, in CoverageInput) (*CoverageResult, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var eg errgroup.Group
	load := func(f func() error) {
		providers.Go(&eg, func() error {
			err := f()
			if err != nil {
				cancel(err) // the other reads are of no use without it
			}
			return err
		})
	}
	if in.LoadSellers != nil {
		load(func() (err error) { in.Sellers, err = in.LoadSellers(ctx); return err })
	}
	if in.LoadUserPolicies != nil {
		load(func() (err error) { in.UserPolicies, err = in.LoadUserPolicies(ctx); return err })
	}
	if in.LoadAppID != nil {
		load(func() (err error) { in.AppID, err = in.LoadAppID(ctx); return err })
	}
	assigned, err := c.assignmentLists(ctx)
	if werr := eg.Wait(); werr != nil {
		// The first failure's reason: the loads it cancelled fail with the context's error.
		if cause := context.Cause(ctx); cause != nil {
			return nil, cause
		}
		return nil, werr
	}
	if err != nil {
		return nil, err
	}
	res := &CoverageResult{Sellers: len(in.Sellers), Source: SourceAssignments, Requests: 2}
	if in.UserPolicies != nil {
		res.Source = SourceGraph
		for _, sl := range in.Sellers {
			if _, ok := in.UserPolicies[strings.ToLower(sl.ID)]; !ok {
				res.NotInGraph++
			}
		}
	}
	// The assigned groups' members are read only when some seller's policies are computed.
	members := map[string]map[string]bool{}
	if in.UserPolicies == nil || res.NotInGraph > 0 {
		for _, typ := range []string{meetingType, setupType} {
			for _, g := range assigned[typ] {
				k := strings.ToLower(g.GroupID)
				if _, ok := members[k]; ok {
					continue
				}
				ids, found, err := in.Members(ctx, g.GroupID)
				if err != nil {
					return nil, fmt.Errorf("read the members of group %s (assigned %s %q): %w", g.GroupID, policyNoun(typ), g.PolicyName, err)
				}
				res.GroupsRead++
				if !found {
					res.Missing = append(res.Missing, g.GroupID)
				}
				set := make(map[string]bool, len(ids))
				for _, id := range ids {
					set[strings.ToLower(id)] = true
				}
				members[k] = set
			}
		}
	}
	// fromGraph is a seller's effective policy of one type from Graph's assignments; the rank
	// of a group assignment is the assignment list's (Graph does not report it; 0 if unlisted).
	fromGraph := func(ups []UserPolicy, typ string) Effective {
		for _, u := range ups {
			if !strings.EqualFold(u.PolicyType, typ) || isGlobal(u.Name) {
				continue
			}
			if u.AssignmentType == "direct" {
				return Effective{Policy: displayIdentity(u.Name), Via: ViaDirect}
			}
			e := Effective{Policy: displayIdentity(u.Name), Via: ViaGroup, GroupID: u.GroupID}
			for _, g := range assigned[typ] {
				if strings.EqualFold(g.GroupID, u.GroupID) {
					e.Rank, e.Created = g.Rank, g.Created
				}
			}
			return e
		}
		return Effective{Policy: "Global", Via: ViaGlobal}
	}
	transcription := map[string]bool{}
	copilot := map[string]string{}
	apps := map[string]bool{}
	// policyOf reads one policy in use (each is read once: the caller lists them without
	// repeats) and records what the coverage needs of it under mu.
	policyOf := func(typ, name string, mu *sync.Mutex) error {
		k := strings.ToLower(name)
		if typ == meetingType {
			p, err := c.getPolicy(ctx, meetingType, name)
			mu.Lock()
			defer mu.Unlock()
			res.Requests++
			if err != nil {
				return fmt.Errorf("read meeting policy %q: %w", name, err)
			}
			on, _ := p["AllowTranscription"].(bool)
			transcription[k] = on
			copilot[k], _ = p["Copilot"].(string)
			return nil
		}
		if in.AppID == "" {
			mu.Lock()
			defer mu.Unlock()
			apps[k] = true
			return nil
		}
		l, err := c.getSetup(ctx, name)
		mu.Lock()
		defer mu.Unlock()
		res.Requests++
		if err != nil {
			return fmt.Errorf("read app setup policy %q: %w", name, err)
		}
		apps[k] = false
		for _, a := range l.Apps {
			if strings.EqualFold(a, in.AppID) {
				apps[k] = true
			}
		}
		return nil
	}
	// Each seller's effective policies first, then the policies in use, read beside each other
	// (a handful at most: each distinct policy once), then the groups. The reads come after the
	// user configurations' pages, at the end of the plan's longest chain: read one after the
	// other, they added a latency each to it.
	type effective struct{ m, st Effective }
	effs := make([]effective, len(in.Sellers))
	type policyRef struct{ typ, name string }
	var inUse []policyRef
	seen := map[policyRef]bool{}
	for i, s := range in.Sellers {
		id := strings.ToLower(s.ID)
		var m, st Effective
		if ups, ok := in.UserPolicies[id]; ok {
			m, st = fromGraph(ups, meetingType), fromGraph(ups, setupType)
		} else {
			memberOf := func(gid string) bool { return members[gid][id] }
			m = EffectivePolicy("", memberOf, assigned[meetingType])
			st = EffectivePolicy("", memberOf, assigned[setupType])
		}
		effs[i] = effective{m, st}
		for _, r := range []policyRef{{meetingType, m.Policy}, {setupType, st.Policy}} {
			if k := (policyRef{r.typ, strings.ToLower(r.name)}); !seen[k] {
				seen[k] = true
				inUse = append(inUse, r)
			}
		}
	}
	// policyOf records into maps: the reads run beside each other, their results are recorded
	// one at a time, and the first failure in the order of use is the error, as when they ran
	// one after the other.
	var mu sync.Mutex
	errs := make([]error, len(inUse))
	var reads errgroup.Group
	reads.SetLimit(8)
	for i, r := range inUse {
		providers.Go(&reads, func() error {
			errs[i] = policyOf(r.typ, r.name, &mu)
			return nil
		})
	}
	if err := reads.Wait(); err != nil {
		return nil, err // a panic, as an error (providers.Go)
	}
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	byKey := map[string]*CoverageGroup{}
	keys := make([]*CoverageGroup, len(in.Sellers))
	for i, s := range in.Sellers {
		m, st := effs[i].m, effs[i].st
		key := fmt.Sprintf("%v|%v", m, st)
		g := byKey[key]
		if g == nil {
			g = &CoverageGroup{Meeting: m, Setup: st, Transcription: transcription[strings.ToLower(m.Policy)], Copilot: copilot[strings.ToLower(m.Policy)], AppInstalled: apps[strings.ToLower(st.Policy)], Example: s.UPN}
			byKey[key] = g
		}
		g.Sellers++
		g.SellerIDs = append(g.SellerIDs, s.ID)
		keys[i] = g
	}
	ptrs := make([]*CoverageGroup, 0, len(byKey))
	for _, g := range byKey {
		ptrs = append(ptrs, g)
	}
	sort.Slice(ptrs, func(i, j int) bool {
		a, b := *ptrs[i], *ptrs[j]
		if a.Covered() != b.Covered() {
			return a.Covered()
		}
		if a.Sellers != b.Sellers {
			return a.Sellers > b.Sellers
		}
		return a.Example < b.Example
	})
	index := make(map[*CoverageGroup]int, len(ptrs))
	for i, g := range ptrs {
		res.Groups = append(res.Groups, *g)
		index[g] = i
	}
	res.SellerGroup = make([]int, len(keys))
	for i, g := range keys {
		res.SellerGroup[i] = index[g]
	}
	return res, nil
}

// assignmentLists reads the group assignments of both policy types (two requests).
func (c *Client) assignmentLists(ctx context.Context) (map[string][]GroupAssignment, error) {
	assigned := map[string][]GroupAssignment{}
	for _, typ := range []string{meetingType, setupType} {
		gs, err := c.policyGroups(ctx, typ)
		if err != nil {
			return nil, err
		}
		for _, g := range gs {
			assigned[typ] = append(assigned[typ], GroupAssignment{GroupID: g.GroupID, PolicyName: g.PolicyName, Rank: int(g.Priority), Created: g.CreatedTime})
		}
	}
	return assigned, nil
}
