package cli

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/c4sctl/c4sctl/pkg/plan"
	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/providers/attrs"
	"github.com/c4sctl/c4sctl/pkg/providers/m365"
	"github.com/c4sctl/c4sctl/pkg/providers/salesforce"
	"github.com/c4sctl/c4sctl/pkg/providers/teams"
	"github.com/c4sctl/c4sctl/pkg/spec"
)

// startSellerCoverage computes what the members of the configuration's seller group actually get
// (issue 16): in Teams, when the configuration manages a Teams policy (the app check uses the
// app a teams_app_setup_policy installs as the plan evaluated it, setupAppID; without one only
// transcription is checked); in Salesforce, when it manages a salesforce_permission_set (the reconciliation:
// reconcileSellers). nil when it names no seller group (no m365_license_assignment) or neither
// applies. The group's members are read once for both.
//
// It evaluates what it needs from the configuration at once and starts the reads
// (ComputeCoverage), which run beside the plan's refresh. wait takes the finished plan: the
// Copilot for Sales app id comes from its evaluated configuration (setupAppID; data.teams_app's
// id is known only then), and the app's availability is read once it is known; wait returns the
// coverage. When the plan fails, cancelling ctx stops the reads (wait(nil) then waits for them).
func startSellerCoverage(ctx context.Context, g *Globals) (wait func(pl *plan.Plan) (*plan.Coverage, error), err error) {
	none := func(*plan.Plan) (*plan.Coverage, error) { return nil, nil }
	cfg, err := g.LoadConfig()
	if err != nil {
		return nil, err
	}
	hasTeams, permSet, app, managesApp := false, "", "", false
	for _, r := range sortedResources(cfg) {
		if r.Mode != spec.ManagedResource {
			continue
		}
		if r.Type == "m365_integrated_app" {
			managesApp = true
		}
		switch {
		case r.Type == "salesforce_permission_set" && permSet == "":
			if v, err := g.ResourceConfig(ctx, r.Addr()); err == nil && v.IsKnown() && !v.IsNull() {
				permSet = attrs.String(v, "name")
			}
		case r.Type == "salesforce_connected_app" && app == "":
			if v, err := g.ResourceConfig(ctx, r.Addr()); err == nil && v.IsKnown() && !v.IsNull() {
				app = attrs.String(v, "name")
			}
		}
		if strings.HasPrefix(r.Type, "teams_") {
			hasTeams = true
		}
	}
	if !hasTeams && permSet == "" {
		return none, nil
	}
	group, sku, err := sellerLicence(ctx, g)
	if err != nil {
		return none, nil // no seller group declared: nothing to measure against
	}
	// The app id comes from the plan's evaluated configuration: app_preset_list usually refers
	// to data.teams_app's id, which is known only once the plan has read the data source (the
	// configuration evaluated alone left it unknown, and the app was never checked).
	planned := make(chan *plan.Plan, 1)
	in := CoverageSpec{Group: group, Sku: sku, ManagesApp: managesApp, PermissionSet: permSet, ConnectedApp: app}
	in.AppIDOf = func(ctx context.Context) (string, error) {
		select {
		case pl := <-planned:
			if pl == nil {
				return "", context.Canceled // the plan failed
			}
			return setupAppID(pl), nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	type result struct {
		cov *plan.Coverage
		err error
	}
	done := make(chan result, 1)
	// The providers are configured in the goroutine too: Salesforce's Configure signs in (a round
	// trip), and the plan's refresh, which starts when this returns, and the coverage's own
	// Graph reads (the plan's longest chain) must not wait for it.
	go func() {
		var r result
		if err := providers.Guard(func() error { r.cov, r.err = configureAndCompute(ctx, g, in, hasTeams, permSet != ""); return nil }); err != nil {
			r.err = err
		}
		done <- r
	}()
	return func(pl *plan.Plan) (*plan.Coverage, error) {
		planned <- pl
		r := <-done
		return r.cov, r.err
	}, nil
}

// configureAndCompute configures the clients the coverage reads through (Microsoft Graph; Teams
// and Salesforce when they apply) and runs ComputeCoverage.
func configureAndCompute(ctx context.Context, g *Globals, in CoverageSpec, hasTeams, withSalesforce bool) (*plan.Coverage, error) {
	var err error
	if in.M365, err = m365Client(ctx, g); err != nil {
		return nil, err
	}
	if hasTeams {
		cl, err := g.Client(ctx, "teams")
		if err != nil {
			return nil, err
		}
		tc, ok := cl.(*teams.Client)
		if !ok {
			return nil, fmt.Errorf("provider teams is not the Teams policy client")
		}
		in.Teams = tc
	}
	if withSalesforce {
		// Salesforce's Configure signs in: the Graph reads start meanwhile, and the
		// reconciliation (which alone needs the client) waits for it.
		type configured struct {
			c   *salesforce.Client
			err error
		}
		ch := make(chan configured, 1)
		go func() {
			var r configured
			if err := providers.Guard(func() error {
				cl, err := g.Client(ctx, "salesforce")
				if err != nil {
					r.err = err
					return nil
				}
				var ok bool
				if r.c, ok = cl.(*salesforce.Client); !ok {
					r.err = fmt.Errorf("provider salesforce is not the Salesforce client")
				}
				return nil
			}); err != nil {
				r.err = err
			}
			ch <- r
		}()
		// The configuration ends before this returns (no goroutine outlives the call), whether
		// the reconciliation asked for it or the coverage failed first.
		defer func() { <-ch }() // LoadSalesforce puts back what it takes
		in.LoadSalesforce = func(ctx context.Context) (*salesforce.Client, error) {
			select {
			case r := <-ch:
				ch <- r // for the deferred wait
				return r.c, r.err
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
	}
	return ComputeCoverage(ctx, in)
}

// CoverageSpec is what ComputeCoverage measures, and with which clients.
type CoverageSpec struct {
	Group, Sku string // the seller group (name or id) and the licence's SKU part number
	AppID      string // the Copilot for Sales Teams app id the setup policy must install ("" skips)
	// AppIDOf, when set, gives AppID in its place and may wait (for the plan that evaluates
	// data.teams_app): the other reads run meanwhile. Used only when Teams is set.
	AppIDOf func(ctx context.Context) (string, error)
	// ManagesApp: the configuration manages the app's availability (m365_integrated_app), so an
	// availability that keeps sellers out is a change plan shows, not an error.
	ManagesApp bool
	// PermissionSet and ConnectedApp name the sellers' Salesforce permission set and the
	// connected app to check ("" skips the app).
	PermissionSet, ConnectedApp string
	// EveryMember compares every member of the group with Salesforce, not only the licensed
	// ones (status: each seller's Salesforce user is checked whatever their licence).
	EveryMember bool
	M365        *m365.Client
	Teams       *teams.Client      // nil: Teams policies not computed
	Salesforce  *salesforce.Client // nil: no reconciliation, unless LoadSalesforce
	// LoadSalesforce, when Salesforce is nil, gives the Salesforce client (it may wait: a
	// provider signing in); called once, by the reconciliation, which then runs.
	LoadSalesforce func(ctx context.Context) (*salesforce.Client, error)
	// skuID, set by ComputeCoverage, reads the licence's SKU id once for the Teams coverage
	// (the sellers' licences) and the reconciliation.
	skuID func(ctx context.Context) (string, error)
}

// licenceSkuID is the id of the licence's SKU (in.skuID's, read once, when set).
func (in CoverageSpec) licenceSkuID(ctx context.Context) (string, error) {
	if in.skuID != nil {
		return in.skuID(ctx)
	}
	return in.M365.SkuID(ctx, in.Sku)
}

// onceSkuID reads the SKU id at its first call; later calls get the same answer.
func onceSkuID(m *m365.Client, sku string) func(ctx context.Context) (string, error) {
	var mu sync.Mutex
	var done bool
	var id string
	var err error
	return func(ctx context.Context) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		if !done {
			id, err = m.SkuID(ctx, sku)
			// A cancelled read is not the answer: the next caller asks again.
			done = ctx.Err() == nil
		}
		return id, err
	}
}

// reconciles tells whether ComputeCoverage reconciles the sellers with Salesforce.
func (in CoverageSpec) reconciles() bool { return in.Salesforce != nil || in.LoadSalesforce != nil }

// withSalesforce returns in with its Salesforce client (LoadSalesforce's when it is nil).
func (in CoverageSpec) withSalesforce(ctx context.Context) (CoverageSpec, error) {
	if in.Salesforce != nil || in.LoadSalesforce == nil {
		return in, nil
	}
	sc, err := in.LoadSalesforce(ctx)
	if err != nil {
		return in, err
	}
	in.Salesforce = sc
	return in, nil
}

// ComputeCoverage reads the seller group's members once and computes their Teams coverage and
// their reconciliation with Salesforce (what plan, show and drift print; the large-tenant
// benchmark runs it for 20,000 sellers).
func ComputeCoverage(ctx context.Context, in CoverageSpec) (*plan.Coverage, error) {
	if in.skuID == nil && in.M365 != nil {
		in.skuID = onceSkuID(in.M365, in.Sku)
	}
	var gid string
	var members []m365.Member
	var cov *plan.Coverage
	if in.Teams == nil {
		var err error
		if gid, members, err = in.M365.GroupMembers(ctx, in.Group); err != nil {
			return nil, fmt.Errorf("seller coverage: read the members of %q: %w", in.Group, err)
		}
		cov = &plan.Coverage{Group: in.Group, Sellers: len(members)}
	} else {
		// The reads run beside each other: the seller group's member pages, the tenant's Teams
		// user configurations (a page per 999 users; every user's, as the sellers are not known
		// yet) and the Teams assignment lists; the app's availability once the app id is known
		// (at once with AppID; with AppIDOf, when the plan has evaluated it).
		appID := in.AppID
		var avail chan appAvailability
		readAvailability := func(id string) {
			avail = make(chan appAvailability, 1)
			go func() {
				var a appAvailability
				if err := providers.Guard(func() error { a = readAppAvailability(ctx, in.M365, id); return nil }); err != nil {
					a.err = err
				}
				avail <- a
			}()
		}
		// The reconciliation with Salesforce needs only the members: it runs beside the Teams
		// coverage from the moment they are known (LoadSellers), instead of after the user
		// configurations' pages, which are the plan's longest chain of requests.
		type reconciled struct {
			r   *plan.Reconciliation
			err error
		}
		rctx, rcancel := context.WithCancel(ctx)
		var recon chan reconciled
		defer func() {
			rcancel()
			if recon != nil {
				<-recon // it stops at once when cancelled: no goroutine outlives the call
			}
		}()
		graph := graphSource{}
		tin := teams.CoverageInput{Members: in.M365.GroupMemberIDs, AppID: appID}
		if in.AppIDOf != nil {
			tin.LoadAppID = func(ctx context.Context) (string, error) {
				id, err := in.AppIDOf(ctx)
				if err != nil {
					return "", err
				}
				if appID = id; id != "" {
					readAvailability(id)
				}
				return id, nil
			}
		} else if appID != "" {
			readAvailability(appID)
		}
		tin.LoadSellers = func(ctx context.Context) ([]teams.Seller, error) {
			id, ms, err := in.M365.GroupMembers(ctx, in.Group)
			if err != nil {
				return nil, fmt.Errorf("read the members of %q: %w", in.Group, err)
			}
			gid, members = id, ms
			if in.reconciles() {
				ch := make(chan reconciled, 1)
				recon = ch
				go func() {
					var r reconciled
					if err := providers.Guard(func() error {
						spec, err := in.withSalesforce(rctx)
						if err != nil {
							r.err = err
							return nil
						}
						r.r, r.err = reconcileSellers(rctx, spec, ms)
						return nil
					}); err != nil {
						r.err = err
					}
					ch <- r
				}()
			}
			sellers := make([]teams.Seller, 0, len(ms))
			for _, u := range ms {
				sellers = append(sellers, teams.Seller{ID: u.ID, UPN: u.UPN})
			}
			return sellers, nil
		}
		tin.LoadUserPolicies = func(ctx context.Context) (map[string][]teams.UserPolicy, error) {
			return readUserPolicies(ctx, in.M365, nil, &graph), nil
		}
		res, err := in.Teams.Coverage(ctx, tin)
		var av appAvailability
		if avail != nil {
			av = <-avail
		}
		if err != nil {
			return nil, fmt.Errorf("seller coverage: %w", err)
		}
		var appNotes []string
		if appID != "" {
			if appNotes, err = checkAppAvailability(ctx, in.M365, av, in.Group, gid, appID, in.ManagesApp, res); err != nil {
				return nil, err
			}
		}
		cov = coverageSummary(in.Group, gid, appID, res, graph)
		cov.Notes = append(cov.Notes, appNotes...)
		licenceCoverage(ctx, in, cov, res, members)
		if recon != nil {
			r := <-recon
			recon = nil
			if r.err != nil {
				return nil, fmt.Errorf("seller reconciliation: %w", r.err)
			}
			cov.Reconciliation = r.r
			return cov, nil
		}
	}
	if in.reconciles() {
		spec, err := in.withSalesforce(ctx)
		if err != nil {
			return nil, fmt.Errorf("seller reconciliation: %w", err)
		}
		if cov.Reconciliation, err = reconcileSellers(ctx, spec, members); err != nil {
			return nil, fmt.Errorf("seller reconciliation: %w", err)
		}
	}
	return cov, nil
}

// reconcileSellers puts the licensed members of the seller group side by side with their
// Salesforce users (salesforce.Client.Reconcile), with the provider block's seller_match_by.
// With spec.EveryMember (status), every member is compared, licensed or not: the licence and the
// Salesforce user are separate fixes, and status reports both at once.
func reconcileSellers(ctx context.Context, spec CoverageSpec, members []m365.Member) (*plan.Reconciliation, error) {
	var skuID string
	var err error
	if !spec.EveryMember {
		skuID, err = spec.licenceSkuID(ctx)
	}
	if err != nil {
		// A tenant without the licence (the m365_license_assignment's plan says so) has no
		// licensed seller to compare: say why instead of failing the whole plan.
		return &plan.Reconciliation{PermissionSet: spec.PermissionSet, ConnectedApp: spec.ConnectedApp, MatchBy: spec.Salesforce.MatchBy(), MatchedBy: map[string]int{},
			Missing: []string{}, Inactive: []plan.SellerUser{}, NoPermSet: []plan.SellerUser{}, NoAPI: []plan.SellerUser{}, NotAllowed: []plan.SellerUser{},
			Unlicensed: []string{}, Notes: []string{fmt.Sprintf("not compared: which sellers hold the licence %s could not be read: %v", spec.Sku, err)}}, nil
	}
	sc, permSet, app, sku := spec.Salesforce, spec.PermissionSet, spec.ConnectedApp, spec.Sku
	in := salesforce.ReconcileInput{MatchBy: sc.MatchBy(), PermissionSet: permSet, ConnectedApp: app}
	for _, u := range members {
		in.Sellers = append(in.Sellers, salesforce.EntraSeller{UPN: u.UPN, Mail: u.Mail, Licensed: spec.EveryMember || u.Licensed(skuID)})
	}
	res, err := sc.Reconcile(ctx, in)
	if err != nil {
		return nil, err
	}
	pairs := func(ps []salesforce.SellerUser) []plan.SellerUser {
		out := make([]plan.SellerUser, len(ps))
		for i, p := range ps {
			out[i] = plan.SellerUser{Seller: p.Seller, Username: p.Username}
		}
		return out
	}
	nonNil := func(xs []string) []string {
		if xs == nil {
			return []string{}
		}
		return xs
	}
	r := &plan.Reconciliation{PermissionSet: permSet, ConnectedApp: app, MatchBy: in.MatchBy, Licensed: res.Licensed, Matched: res.Matched,
		MatchedBy: res.MatchedBy, Ready: res.Ready, Missing: nonNil(res.Missing), Inactive: pairs(res.Inactive), NoPermSet: pairs(res.NoPermSet),
		NoAPI: pairs(res.NoAPI), NotAllowed: pairs(res.NotAllowed), Unlicensed: nonNil(res.Unlicensed), AppChecked: res.AppChecked, Notes: []string{}}
	if unl := len(members) - res.Licensed; unl > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d member(s) of %s do not hold the licence %s and were not compared", unl, spec.Group, sku))
	}
	if res.AppNote != "" {
		r.Notes = append(r.Notes, res.AppNote)
	}
	if n := len(res.FederationCase); n > 0 {
		ex := res.FederationCase[0]
		r.Notes = append(r.Notes, fmt.Sprintf("%d seller(s) matched by federation_id only without regard to case (the Federation ID and the user principal name differ in case), e.g. %s (Salesforce user %s): Salesforce compares Federation IDs with case unless Setup > Single Sign-On Settings > Make Federation ID case-insensitive is on, so their single sign-on may fail; set the Federation ID to the user principal name as Entra ID spells it", n, ex.Seller, ex.Username))
	}
	r.Notes = append(r.Notes, "these are warnings: c4sctl manages no users, so plan stays clean; fix the users in Salesforce (or seller_match_by in the provider block)")
	return r, nil
}

// licenceCoverage counts the sellers without the licence (Graph's assignedLicenses, direct or
// through a group: a member group-based licensing left in error, out of seats for one, has
// none) as not covered, beside those the Teams policies leave out (each seller once): the
// issue's "200 sellers: 200 licensed, ...". Without it plan and drift were clean while status
// found sellers without the licence. A SKU that cannot be read is a note (the licence
// assignment's own plan says why).
func licenceCoverage(ctx context.Context, in CoverageSpec, cov *plan.Coverage, res *teams.CoverageResult, members []m365.Member) {
	skuID, err := in.licenceSkuID(ctx)
	if err != nil {
		cov.Notes = append(cov.Notes, fmt.Sprintf("licences not checked: %s", clipNote(err.Error())))
		return
	}
	sku := in.Sku
	if sku == "" {
		sku = m365.Defaults.SkuPartNumber
	}
	var unlicensed []string
	for _, m := range members {
		if !m.Licensed(skuID) {
			unlicensed = append(unlicensed, m.UPN)
		}
	}
	licensed := len(members) - len(unlicensed)
	cov.Licensed = &licensed
	if len(unlicensed) == 0 {
		return
	}
	out := map[string]bool{}
	for _, g := range res.Groups {
		ids := g.AppNotAllowedIDs
		if !g.Transcription || teams.CopilotOff(g.Copilot) || !g.AppInstalled {
			ids = g.SellerIDs
		}
		for _, id := range ids {
			out[strings.ToLower(id)] = true
		}
	}
	for _, m := range members {
		if !m.Licensed(skuID) {
			out[strings.ToLower(m.ID)] = true
		}
	}
	cov.Uncovered = len(out)
	cov.Lines = append(cov.Lines, fmt.Sprintf("%d NOT covered: no %s licence (assignedLicenses, directly or through a group), e.g. %s", len(unlicensed), sku, unlicensed[0]))
}

// appAvailability is the Copilot for Sales app's availability as read for the coverage.
type appAvailability struct {
	a     *m365.AppAvailability
	found bool
	err   error // why it could not be read
}

// readAppAvailability reads the app's availability under app-centric management. It needs no
// seller: the coverage reads it beside the seller group's pages. The members of the groups it is
// available to are read by checkAppAvailability, which knows the seller group.
func readAppAvailability(ctx context.Context, m *m365.Client, appID string) appAvailability {
	a, found, err := m.AppAvailabilityOf(ctx, appID, m365.Defaults.TeamsAppName)
	return appAvailability{a: a, found: found, err: err}
}

// checkAppAvailability checks, from the availability read beforehand (readAppAvailability),
// that the sellers whose setup policy installs the Copilot for Sales app may use it under app-centric management (docs/api/teams.md, "App availability"): the app
// not blocked by an admin, and available to everyone or to the seller (directly or through one
// of the allowed groups, direct members). It sets AppNotAllowed on res's groups. A blocked app,
// or an availability the configuration does not manage (no m365_integrated_app), is an error
// with the reason and the admin-centre steps: installing or pinning an app its users may not use
// does nothing for them. An availability c4sctl manages is counted as not covered (the plan
// shows its change). What could not be read counts every such seller as not covered.
func checkAppAvailability(ctx context.Context, m *m365.Client, av appAvailability, group, groupID, appID string, managesApp bool, res *teams.CoverageResult) ([]string, error) {
	installed := 0
	for _, cg := range res.Groups {
		if cg.AppInstalled {
			installed += cg.Sellers
		}
	}
	if installed == 0 {
		return nil, nil
	}
	notRead := func(why string) []string {
		for i := range res.Groups {
			if res.Groups[i].AppInstalled {
				res.Groups[i].AppNotAllowed = res.Groups[i].Sellers
				res.Groups[i].AppNotAllowedIDs = append([]string(nil), res.Groups[i].SellerIDs...)
			}
		}
		res.AppAvailabilityUnread = why
		return []string{fmt.Sprintf("whether the %d seller(s) whose setup policy installs the Copilot for Sales app may use it could not be read (%s); they are counted as not covered", installed, why)}
	}
	if av.err != nil {
		return notRead(av.err.Error()), nil
	}
	if !av.found {
		return notRead(fmt.Sprintf("no Copilot package of the tenant has Teams app id %s", appID)), nil
	}
	a := av.a
	allowedGroupMembers := map[string]bool{}
	if a.AvailableTo == "some" {
		for gid := range a.Groups {
			if strings.EqualFold(gid, groupID) {
				// The seller group itself: its members are the sellers, read already (20,000
				// sellers: 21 pages not read again).
				for _, cg := range res.Groups {
					for _, id := range cg.SellerIDs {
						allowedGroupMembers[strings.ToLower(id)] = true
					}
				}
				continue
			}
			ids, _, err := m.GroupMemberIDs(ctx, gid)
			if err != nil {
				return notRead(fmt.Sprintf("read the members of group %s the app is available to: %v", gid, err)), nil
			}
			for _, id := range ids {
				allowedGroupMembers[strings.ToLower(id)] = true
			}
		}
	}
	allowed := func(id string) bool {
		id = strings.ToLower(id)
		switch {
		case a.IsBlocked || a.AvailableTo == "none":
			return false
		case a.AvailableTo == "all":
			return true
		}
		return a.Users[id] || allowedGroupMembers[id]
	}
	// available: the availability alone (blocked or not) lets this seller use the app.
	available := func(id string) bool {
		id = strings.ToLower(id)
		return a.AvailableTo == "all" || a.AvailableTo == "some" && (a.Users[id] || allowedGroupMembers[id])
	}
	notAllowed, notAvailable, example := 0, 0, ""
	for i := range res.Groups {
		cg := &res.Groups[i]
		if !cg.AppInstalled {
			continue
		}
		for _, id := range cg.SellerIDs {
			if !available(id) {
				notAvailable++
			}
			if !allowed(id) {
				cg.AppNotAllowed++
				cg.AppNotAllowedIDs = append(cg.AppNotAllowedIDs, id)
				notAllowed++
				if example == "" {
					example = cg.Example
				}
			}
		}
	}
	src := fmt.Sprintf("app availability read from app-centric management (Copilot package %s: isBlocked %t, availableTo %s); app permission policies of tenants not migrated to app-centric management are not read", a.PackageID, a.IsBlocked, a.AvailableTo)
	if notAllowed == 0 {
		return []string{src}, nil
	}
	reason := "the app is available to no one"
	switch {
	case a.IsBlocked:
		reason = "the app is blocked by an admin"
	case a.AvailableTo == "some":
		reason = fmt.Sprintf("the app is available to specific users and groups only, and they are not among them (nor direct members of its %d allowed group(s))", len(a.Groups))
	}
	if !a.IsBlocked && managesApp {
		return []string{src, fmt.Sprintf("%d seller(s) get a setup policy that installs the Copilot for Sales app but may not use it: %s; they are counted as not covered until the m365_integrated_app change in this plan is applied", notAllowed, reason)}, nil
	}
	var steps []string
	if a.IsBlocked {
		steps = append(steps, "Teams admin center > Teams apps > Manage apps > search \"Copilot for Sales\" > select it > Actions > Allow (unblock the app)")
	}
	if notAvailable > 0 {
		steps = append(steps, fmt.Sprintf("Teams admin center > Teams apps > Manage apps > Copilot for Sales > Users and groups > Edit availability > Everyone, or Specific users or groups with the group %q (the Microsoft 365 admin center shows the same setting under Agents > All agents > Copilot for Sales > Availability; or declare an m365_integrated_app with groups = [%q])", group, group))
	}
	return nil, fmt.Errorf("seller coverage: the app setup policy installs the Copilot for Sales app (%s) for %d seller(s) of %q (e.g. %s) who are not allowed to use it: %s (Copilot package %s); installing or pinning it does nothing for them. Allow it: %s",
		appID, notAllowed, group, example, reason, a.PackageID, strings.Join(steps, "; then "))
}

// graphSource is what became of the read of Graph's Teams user configurations: its page
// requests, or why it could not be used.
// coverageInput is the seller coverage's input for these sellers (plan, drift and status):
// Graph's per-user effective policies where the tenant (and the app's permission) has them;
// otherwise coverage is computed from the group assignments, and graphSource says why.
func coverageInput(ctx context.Context, m *m365.Client, members []m365.Member, appID string) (teams.CoverageInput, graphSource) {
	in := teams.CoverageInput{Members: m.GroupMemberIDs, AppID: appID}
	want := make(map[string]bool, len(members))
	for _, u := range members {
		in.Sellers = append(in.Sellers, teams.Seller{ID: u.ID, UPN: u.UPN})
		want[strings.ToLower(u.ID)] = true
	}
	graph := graphSource{}
	in.UserPolicies = readUserPolicies(ctx, m, want, &graph)
	return in, graph
}

// readUserPolicies reads the effective policies of the users in want (nil: every user) from
// Graph's Teams user configurations, as teams.CoverageInput's UserPolicies; nil, with why in
// graph, when Graph could not be read (the coverage is then computed from the assignments).
func readUserPolicies(ctx context.Context, m *m365.Client, want map[string]bool, graph *graphSource) map[string][]teams.UserPolicy {
	ups, n, err := m.TeamsUserPolicies(ctx, want)
	if err != nil {
		graph.why = err.Error()
		return nil
	}
	graph.requests = n
	out := make(map[string][]teams.UserPolicy, len(ups))
	for id, ps := range ups {
		for _, p := range ps {
			out[id] = append(out[id], teams.UserPolicy(p))
		}
		if out[id] == nil {
			out[id] = []teams.UserPolicy{}
		}
	}
	return out
}

type graphSource struct {
	requests int
	why      string
}

// coverageSummary turns the computed coverage into the plan's section.
func coverageSummary(group, groupID, appID string, res *teams.CoverageResult, graph graphSource) *plan.Coverage {
	cov := &plan.Coverage{Group: group, Sellers: res.Sellers, Teams: true, Uncovered: res.Uncovered()}
	via := func(e teams.Effective) string {
		switch e.Via {
		case teams.ViaGroup:
			name := e.GroupID
			if strings.EqualFold(e.GroupID, groupID) {
				name = group
			}
			return fmt.Sprintf("through group %s (rank %d)", name, e.Rank)
		case teams.ViaDirect:
			return "assigned directly"
		}
		return "as the org-wide default"
	}
	for _, cg := range res.Groups {
		state := "covered"
		if !cg.Covered() {
			state = "NOT covered"
		}
		tr := "transcription on"
		if !cg.Transcription {
			tr = "transcription OFF"
		}
		if teams.CopilotOff(cg.Copilot) {
			tr += ", Copilot OFF"
		}
		line := fmt.Sprintf("%d %s: meeting policy %s %s (%s)", cg.Sellers, state, cg.Meeting.Policy, via(cg.Meeting), tr)
		if appID != "" {
			app := "installs the Copilot for Sales app"
			if !cg.AppInstalled {
				app = "does NOT install the Copilot for Sales app " + appID
			} else if cg.AppNotAllowed > 0 {
				app += fmt.Sprintf(", but %d of them may NOT use it", cg.AppNotAllowed)
			}
			line += fmt.Sprintf("; app setup policy %s %s (%s)", cg.Setup.Policy, via(cg.Setup), app)
		}
		line += fmt.Sprintf(", e.g. %s", cg.Example)
		cov.Lines = append(cov.Lines, line)
	}
	if res.Source == teams.SourceGraph {
		n := fmt.Sprintf("effective policies read from Microsoft Graph GET /v1.0/admin/teams/userConfigurations (direct and group assignments as Teams resolves them: %d Graph page request(s), %d Teams request(s) for the ranks and policies)", graph.requests, res.Requests)
		if res.NotInGraph > 0 {
			n += fmt.Sprintf("; %d seller(s) Graph did not list were computed from the group assignments (%d groups' members read), without their direct assignments", res.NotInGraph, res.GroupsRead)
		}
		cov.Notes = append(cov.Notes, n)
	} else {
		cov.Notes = append(cov.Notes, fmt.Sprintf("computed from the tenant's group policy assignments (the lowest rank among the seller's groups, then Global: %d Teams requests, %d groups' members read) because Graph's per-user effective policies could not be read (%s); direct user assignments are not seen, so a seller with one may get another policy", res.Requests, res.GroupsRead, clipNote(graph.why)))
	}
	cov.Notes = append(cov.Notes, "assignments reach users within up to 24 hours")
	if len(res.Missing) > 0 {
		cov.Notes = append(cov.Notes, fmt.Sprintf("Teams policies are still assigned to %d group(s) that no longer exist: %s", len(res.Missing), strings.Join(res.Missing, ", ")))
	}
	if appID == "" {
		cov.Notes = append(cov.Notes, "the Copilot for Sales app was not checked: no teams_app_setup_policy declares app_preset_list")
	}
	return cov
}

// clipNote shortens an error quoted in a note.
func clipNote(s string) string {
	if len(s) > 240 {
		return s[:240] + "…"
	}
	return s
}
