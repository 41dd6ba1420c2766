package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/c4sctl/c4sctl/examples"
	"github.com/c4sctl/c4sctl/pkg/plan"
	"github.com/c4sctl/c4sctl/pkg/providers/m365"
	"github.com/c4sctl/c4sctl/pkg/providers/salesforce"
	"github.com/c4sctl/c4sctl/pkg/providers/teams"
	"github.com/c4sctl/c4sctl/pkg/report"
	"github.com/c4sctl/c4sctl/pkg/spec"
	"github.com/c4sctl/c4sctl/pkg/state"
	"github.com/c4sctl/c4sctl/pkg/status"
	"github.com/spf13/cobra"
	"github.com/zclconf/go-cty/cty"
)

// Guide step of each resource type (docs/deployment-guide.md; 0: its prerequisites).
var stepOfType = map[string]int{
	"m365_license_assignment":          0,
	"m365_integrated_app":              1,
	"teams_app_setup_policy":           2,
	"teams_meeting_policy":             3,
	"salesforce_permission_set":        4,
	"powerplatform_dlp_connector_rule": 5,
	"powerplatform_dlp_policy":         5,
	"salesforce_connected_app":         6,
	"dataverse_environment_admins":     7,
	"copilot_for_sales_settings":       8,
}

// Clocks of the guide: step 1, the add-in can take up to 24 hours to show; the app the setup
// policy installs and pins up to 48 hours (step 9's hint).
const (
	addinHours = 24
	pinHours   = m365.VisibilityHours
)

func newStatusCmd(g *Globals) *cobra.Command {
	var format string
	var jsonOut bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Readiness per guide step and per seller, with the clocks the guide names (read-only)",
		Long: `status reads the tenant and the org and says, for each step of the deployment guide (0, the
prerequisites, to 9), whether it is done, and for each member of the seller group whether they are
ready: licensed, the Outlook add-in deployed to them, a Teams setup policy that installs the app
and a meeting policy with transcription on (the policies they actually get, through group
assignments by rank or the Global policy), a Salesforce user (matched by seller_match_by) that is
active, holds the permission set, has API Enabled and is let through the connected app, and
whether they were welcomed (welcome --send). Each check some sellers fail says what to fix.

Without a configuration in --dir, it checks against the guide's defaults: the built-in copy of
examples/quickstart (pass --var to name the tenant, client and org).

It shows the clocks the guide names: the time since the Outlook add-in was deployed (it can take
up to 24 hours to show) and since the Teams app was installed and pinned (up to 48 hours), from
the apply history next to the state and the services' own timestamps (the Copilot package's
lastModifiedDateTime, a Teams group policy assignment's createdTime); "unknown" when there is none.

status never changes anything: no write to the tenant, the org, the state or the welcome record,
and it takes no lock.

Exit codes: 0 every step done and every seller ready, 2 something not done or not checked, 1 error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			format, err := outputFormat(format, jsonOut)
			if err != nil {
				return err
			}
			rep, err := readiness(cmd.Context(), g)
			if err != nil {
				return err
			}
			switch format {
			case "json":
				if err := status.WriteJSON(g.Stdout, rep); err != nil {
					return err
				}
			case "markdown":
				status.WriteMarkdown(g.Stdout, rep)
			default:
				status.WriteHuman(g.Stdout, rep)
			}
			if !rep.Ready() {
				return &exitError{code: 2}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "", "output format: human, json or markdown (default human)")
	cmd.Flags().BoolVar(&jsonOut, "json", false, "print the report as one JSON document (same as --format json)")
	return cmd
}

// hasConfiguration tells whether dir holds a *.c4s.hcl file.
func hasConfiguration(dir string) (bool, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false, err
	}
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), spec.FileSuffix) {
			return true, nil
		}
	}
	return false, nil
}

// useBuiltinConfig loads the built-in quickstart as the configuration.
func (g *Globals) useBuiltinConfig() error {
	cfg, diags := spec.LoadFiles(g.Dir, map[string][]byte{examples.QuickstartName: examples.Quickstart}, g.Registry())
	g.config = cfg
	return g.printDiags(diags)
}

// readiness builds the status report: a refresh-only plan (no lock, nothing written), then the
// per-seller reads. welcome --ready-only uses its seller part.
func readiness(ctx context.Context, g *Globals) (*status.Report, error) {
	has, err := hasConfiguration(g.Dir)
	if err != nil {
		return nil, err
	}
	label := g.Dir
	st := state.New()
	var history [][]byte
	if has {
		if _, err := g.LoadConfig(); err != nil {
			return nil, err
		}
	} else {
		if err := g.useBuiltinConfig(); err != nil {
			return nil, err
		}
		label = "built-in quickstart (no *.c4s.hcl in " + g.Dir + ")"
	}
	if _, err := g.Evaluator(); err != nil {
		return nil, err
	}
	if has {
		// The state is read, not locked: status writes nothing, and an apply running meanwhile
		// only makes this report older.
		b, err := g.Backend()
		if err != nil {
			return nil, err
		}
		if st, err = b.Load(); err != nil {
			return nil, err
		}
		if hl, ok := b.(state.HistoryLog); ok {
			if history, err = hl.ReadHistory(); err != nil {
				return nil, fmt.Errorf("read the apply history: %w", err)
			}
		}
	}
	if g.Sandbox {
		if _, err := g.SandboxServer(); err != nil {
			return nil, err
		}
	}
	p := &plan.Planner{Config: g.config, Eval: g.eval, State: st, Registry: g.Registry(), Clients: g,
		Options: plan.Options{Concurrency: 8, RefreshOnly: true}}
	pl, diags := p.Plan(ctx)
	if err := g.printDiags(diags); err != nil {
		return nil, err
	}
	if has {
		s := &session{g: g, state: st}
		if err := s.checkStateTarget(); err != nil {
			return nil, err
		}
	}
	rep := status.New(time.Now(), label, !has)
	rep.Sandbox = g.SandboxRun()
	resourceChecks(rep, pl, g.config)
	hist := parseHistory(g, history)
	if err := sellerChecks(ctx, g, rep, pl, hist); err != nil {
		return nil, err
	}
	rep.Finish()
	return rep, nil
}

// resourceChecks adds one check per managed resource: done when the live object matches the
// configuration (a change made outside c4sctl that still matches is done).
func resourceChecks(rep *status.Report, pl *plan.Plan, cfg *spec.Config) {
	r := report.FromPlan(pl, cfg, "c4sctl", Version, nil)
	for _, res := range r.Resources {
		step, ok := stepOfType[res.Type]
		if !ok || res.Status == report.Skipped {
			continue
		}
		c := status.Check{ID: "resource:" + res.Address, Step: step, Status: status.Done, Detail: res.Address + ": matches the configuration"}
		var diffs []string
		for _, d := range res.Differences {
			if d.Kind == report.KindConfiguration {
				diffs = append(diffs, d.String())
			}
		}
		switch res.Status {
		case report.Missing:
			c.Status, c.Detail = status.NotDone, res.Address+": does not exist"
		case report.Deferred, report.Unreadable:
			c.Status, c.Detail = status.NotDone, res.Address+": "+res.Reason
		default:
			if len(diffs) > 0 {
				c.Status, c.Detail = status.NotDone, res.Address+": "+strings.Join(diffs, "; ")
			}
		}
		rep.Add(c)
	}
}

// applied is when an apply changed a resource, from the history records.
type applied struct {
	addr, typ string
	at        time.Time
	attrs     []string // changed attribute names (nil when the record omitted them)
}

func parseHistory(g *Globals, recs [][]byte) []applied {
	var out []applied
	for i, raw := range recs {
		var rec historyRecord
		if err := json.Unmarshal(raw, &rec); err != nil {
			fmt.Fprintf(g.Stderr, "Warning: history record %d is not valid JSON; skipped\n", i+1)
			continue
		}
		for _, c := range rec.Changes {
			if c.Result != "applied" && c.Result != "partial" {
				continue
			}
			if c.Action != "create" && c.Action != "update" {
				continue
			}
			typ, _, _ := strings.Cut(c.Address, ".")
			a := applied{addr: c.Address, typ: typ, at: rec.Time}
			for _, ch := range c.Changed {
				a.attrs = append(a.attrs, ch.Name)
			}
			out = append(out, a)
		}
	}
	return out
}

// lastApplied is the latest apply that changed a resource of typ (and, when attrs are given and
// the record kept them, one of those attributes).
func lastApplied(hist []applied, typ string, attrs ...string) *time.Time {
	var best *time.Time
	for _, h := range hist {
		if h.typ != typ {
			continue
		}
		if len(attrs) > 0 && h.attrs != nil {
			hit := false
			for _, a := range h.attrs {
				for _, want := range attrs {
					hit = hit || a == want
				}
			}
			if !hit {
				continue
			}
		}
		if best == nil || h.at.After(*best) {
			t := h.at
			best = &t
		}
	}
	return best
}

// clockFrom picks the latest of the known times and names its source.
func clockFrom(c status.Clock, sources map[string]*time.Time) status.Clock {
	var names []string
	for n := range sources {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		t := sources[n]
		if t == nil {
			continue
		}
		if c.Since == nil || t.After(*c.Since) {
			tt := *t
			c.Since, c.Source = &tt, n
		}
	}
	if c.Since == nil {
		c.Source = "no apply in the history changed it, and the service gave no time for it"
	}
	return c
}

// resourceOf returns the first managed resource change of a type (nil when none is declared).
func resourceOf(pl *plan.Plan, typ string) *plan.ResourceChange {
	for _, rc := range pl.Changes {
		if !rc.Data && rc.Type == typ && rc.Config != cty.NilVal && !rc.Config.IsNull() {
			return rc
		}
	}
	return nil
}

// strAttr reads a known string attribute of an object value ("" otherwise).
func strAttr(v cty.Value, name string) string {
	if v == cty.NilVal || v.IsNull() || !v.IsKnown() || !v.Type().IsObjectType() || !v.Type().HasAttribute(name) {
		return ""
	}
	a := v.GetAttr(name)
	if a.IsNull() || !a.IsKnown() || a.Type() != cty.String {
		return ""
	}
	return a.AsString()
}

// setupAppID is the Teams app whose installation the seller checks look for: among the ids the
// declared teams_app_setup_policy resources install (app_preset_list, as the plan evaluated it),
// the one the plan's data sources name as the Copilot for Sales app (data.teams_app), else the
// first id of the first policy. "" when no setup policy installs a known app.
func setupAppID(pl *plan.Plan) string {
	first := ""
	for _, rc := range pl.Changes {
		if rc.Data || rc.Type != "teams_app_setup_policy" || rc.Config == cty.NilVal || rc.Config.IsNull() ||
			!rc.Config.Type().IsObjectType() || !rc.Config.Type().HasAttribute("app_preset_list") {
			continue
		}
		a := rc.Config.GetAttr("app_preset_list")
		if a.IsNull() || !a.IsWhollyKnown() || !(a.Type().IsSetType() || a.Type().IsListType()) {
			continue
		}
		for it := a.ElementIterator(); it.Next(); {
			_, e := it.Element()
			if e.IsNull() || e.Type() != cty.String {
				continue
			}
			if strings.EqualFold(pl.Labels[strings.ToLower(e.AsString())], m365.Defaults.TeamsAppName) {
				return e.AsString()
			}
			if first == "" {
				first = e.AsString()
			}
		}
	}
	return first
}

// Per-seller check ids.
const (
	checkLicence       = "licence"
	checkAddin         = "outlook_addin"
	checkTeamsApp      = "teams_app"
	checkTranscription = "transcription"
	checkWelcomed      = "welcomed"
	// The seller's Salesforce user (guide steps 4 and 6), from the Entra-Salesforce
	// reconciliation plan and drift print (reconcileSellers).
	checkSFUser    = "salesforce_user"
	checkSFActive  = "salesforce_active"
	checkSFPermSet = "salesforce_permission_set"
	checkSFAPI     = "salesforce_api_enabled"
	checkSFApp     = "salesforce_connected_app"
)

// sellerChecks reads the seller group's members and checks each of them; it adds the clocks.
// A check that cannot be made is "not checked" with the reason, never a guess.
func sellerChecks(ctx context.Context, g *Globals, rep *status.Report, pl *plan.Plan, hist []applied) error {
	checks := []status.SellerCheck{
		{ID: checkLicence, Step: 0, Title: "holds the licence", Failure: "no Copilot for Sales licence", Readiness: true},
		{ID: checkAddin, Step: 1, Title: "the Outlook add-in is deployed to them", Failure: "Outlook add-in not deployed to them", Readiness: true},
		{ID: checkTeamsApp, Step: 2, Title: "their app setup policy installs the app", Failure: "their Teams app setup policy does not install the app, or they may not use it", Readiness: true},
		{ID: checkTranscription, Step: 3, Title: "their meeting policy allows transcription (and Copilot)", Failure: "transcription (or Copilot) off in their Teams meeting policy", Readiness: true},
		{ID: checkSFUser, Step: 4, Title: "have a Salesforce user (matched by seller_match_by)", Failure: "no Salesforce user matched", Readiness: true,
			Fix: "in Salesforce, Setup > Users > Edit: set the user's Federation ID (Single Sign On Information) to the seller's user principal name, or create the user; or change seller_match_by in the salesforce provider block (federation_id, email)"},
		{ID: checkSFActive, Step: 4, Title: "their Salesforce user is active", Failure: "their Salesforce user is inactive", Readiness: true,
			Fix: "in Salesforce, Setup > Users > Edit > Active (it takes a Salesforce licence); then apply, so the permission set's assignee_filter assigns it"},
		{ID: checkSFPermSet, Step: 4, Title: "their Salesforce user holds the permission set", Failure: "their Salesforce user lacks the permission set", Readiness: true,
			Fix: "make the user match the salesforce_permission_set's assignee_filter (e.g. its profile: Setup > Users > Edit > Profile) or widen the filter, then apply; or Setup > Users > Permission Set Assignments > Edit Assignments"},
		{ID: checkSFAPI, Step: 4, Title: "their Salesforce user has API Enabled", Failure: "their Salesforce user lacks API Enabled", Readiness: true,
			Fix: "assign the permission set (it grants API Enabled: api_enabled = true), or System Permissions > API Enabled on their profile"},
		{ID: checkSFApp, Step: 6, Title: "the connected app lets their Salesforce user through", Failure: "the connected app does not let their Salesforce user through", Readiness: true,
			Fix: "add their profile or the permission set to the salesforce_connected_app's profiles / permission_sets and apply (Setup > Connected Apps > Manage Connected Apps > the app > Manage Profiles / Manage Permission Sets)"},
		{ID: checkWelcomed, Step: 9, Title: "welcomed (welcome --send)", Failure: "not welcomed yet"},
	}
	idx := map[string]int{}
	for i, c := range checks {
		idx[c.ID] = i
	}
	notChecked := func(id, why string) {
		checks[idx[id]].Status, checks[idx[id]].Detail = status.NotChecked, why
	}
	failed := map[string]map[string]bool{}
	// skipped: the checks that cannot be made for a seller (their Salesforce user's, when none
	// is matched): neither passed nor failed.
	skipped := map[string]map[string]bool{}
	skip := func(id, userID string) {
		if skipped[id] == nil {
			skipped[id] = map[string]bool{}
		}
		skipped[id][strings.ToLower(userID)] = true
	}
	fail := func(id, userID string) {
		if failed[id] == nil {
			failed[id] = map[string]bool{}
		}
		failed[id][strings.ToLower(userID)] = true
	}

	// The clocks do not need the sellers.
	addinClock := status.Clock{ID: "outlook_addin", Step: 1, What: "Outlook add-in deployed", WithinHours: addinHours}
	pinClock := status.Clock{ID: "teams_app_pinned", Step: 2, What: "Teams app installed and pinned", WithinHours: pinHours}
	addinSources := map[string]*time.Time{"the apply history": lastApplied(hist, "m365_integrated_app")}
	pinSources := map[string]*time.Time{"the apply history": lastApplied(hist, "teams_app_setup_policy", "app_preset_list", "pinned_app_bar_apps")}
	defer func() {
		rep.AddClock(clockFrom(addinClock, addinSources))
		rep.AddClock(clockFrom(pinClock, pinSources))
	}()

	group, err := sellerGroup(ctx, g)
	if err != nil {
		rep.Note("sellers were not checked: %v", err)
		return nil
	}
	m, err := m365Client(ctx, g)
	if err != nil {
		return err
	}
	sellerGID, members, err := m.GroupMembers(ctx, group)
	if err != nil {
		rep.Note("sellers were not checked: read the members of %q: %v", group, err)
		return nil
	}
	sellers := make([]status.Seller, len(members))
	for i, u := range members {
		sellers[i] = status.Seller{ID: u.ID, UPN: u.UPN}
	}

	// Licence: the SKU of the configuration's licence assignment.
	lic := resourceOf(pl, "m365_license_assignment")
	part := ""
	if lic != nil {
		part = strAttr(lic.Config, "sku_part_number")
	}
	if skuID, err := m.SkuID(ctx, part); err != nil {
		notChecked(checkLicence, fmt.Sprintf("the licence's SKU could not be read: %v", err))
	} else {
		for _, u := range members {
			if !u.Licensed(skuID) {
				fail(checkLicence, u.ID)
			}
		}
		checks[idx[checkLicence]].Detail = "SKU " + skuOr(part)
	}

	// The Outlook add-in's deployment: everyone, the users, and the direct members of the groups
	// it is deployed to.
	app := resourceOf(pl, "m365_integrated_app")
	name, pkgID := "", ""
	if app != nil {
		name, pkgID = strAttr(app.Config, "display_name"), strAttr(app.Config, "package_id")
	}
	dep, why, err := m.AppDeployment(ctx, name, pkgID)
	switch {
	case err != nil:
		notChecked(checkAddin, fmt.Sprintf("the deployment could not be read: %v", err))
	case dep == nil:
		notChecked(checkAddin, why)
	default:
		if !dep.LastModified.IsZero() && (dep.Everyone || len(dep.GroupIDs)+len(dep.UserIDs) > 0) {
			// The time of the last change is the deployment's only while it is deployed: the
			// package of an app never deployed has a lastModifiedDateTime too.
			t := dep.LastModified
			addinSources["the Copilot package's lastModifiedDateTime"] = &t
		}
		reached, err := deployedTo(ctx, m, dep, sellerGID, members)
		if err != nil {
			notChecked(checkAddin, fmt.Sprintf("the deployment's groups could not be read: %v", err))
			break
		}
		for _, u := range members {
			if !dep.Everyone && !reached[strings.ToLower(u.ID)] {
				fail(checkAddin, u.ID)
			}
		}
		switch {
		case dep.Everyone:
			checks[idx[checkAddin]].Detail = "deployed to the entire organisation"
		default:
			checks[idx[checkAddin]].Detail = fmt.Sprintf("deployed to %d group(s) and %d user(s) (direct members)", len(dep.GroupIDs), len(dep.UserIDs))
		}
	}

	// Teams: the policies each seller gets.
	appID := setupAppID(pl)
	managesApp := resourceOf(pl, "m365_integrated_app") != nil
	if err := teamsChecks(ctx, g, m, group, sellerGID, managesApp, members, appID, fail, notChecked, checks, idx, pinSources); err != nil {
		return err
	}

	// Salesforce: each seller's user, as the reconciliation of plan and drift finds it.
	if err := salesforceChecks(ctx, g, pl, m, group, members, sellers, fail, skip, notChecked, checks, idx); err != nil {
		return err
	}

	// Welcome: the record welcome --send keeps (read, not locked).
	sent, err := m365.WelcomedAt(welcomeRecordPath(g))
	if err != nil {
		notChecked(checkWelcomed, err.Error())
	} else {
		var first *time.Time
		for i, u := range members {
			addr := u.Mail
			if addr == "" {
				addr = u.UPN
			}
			at, ok := sent[strings.ToLower(addr)]
			if !ok {
				fail(checkWelcomed, u.ID)
				continue
			}
			at = at.UTC()
			sellers[i].Welcomed = &at
			if first == nil || at.Before(*first) {
				first = &at
			}
		}
		if first != nil {
			checks[idx[checkWelcomed]].Detail = "first welcome sent " + first.Format(time.RFC3339)
		} else {
			checks[idx[checkWelcomed]].Detail = "nobody welcomed yet: c4sctl welcome --send --ready-only"
		}
	}

	rep.Sellers = status.SellerListSkipping(group, sellers, checks, failed, skipped)
	for i := range rep.Sellers.Checks {
		c := &rep.Sellers.Checks[i]
		if c.NotApplicable > 0 && c.Status != status.NotChecked {
			na := fmt.Sprintf("%d without a Salesforce user not counted", c.NotApplicable)
			if c.Detail == "" {
				c.Detail = na
			} else {
				c.Detail += "; " + na
			}
		}
		d := fmt.Sprintf("%d of %d seller(s): %s", c.Passed, rep.Sellers.Total, c.Title)
		if c.Status == status.NotChecked {
			d = fmt.Sprintf("sellers: %q not checked: %s", c.Title, c.Detail)
		} else if c.Detail != "" {
			d += " (" + c.Detail + ")"
		}
		rep.Add(status.Check{ID: "sellers:" + c.ID, Step: c.Step, Status: c.Status, Detail: d})
	}
	rep.Note("a seller is ready when every per-seller check is made and passes (a check not made holds every seller back; licence, add-in, Teams app, transcription, and their Salesforce user: matched, active, holding the permission set, API Enabled, let through by the connected app)")
	return nil
}

func skuOr(part string) string {
	if part == "" {
		return m365.Defaults.SkuPartNumber
	}
	return part
}

// deployedTo is the set of lower-case user ids the deployment reaches: its users, and the direct
// members of its groups (one paged read per group: groups nested in them are not followed). The
// seller group's members are known already: deployed to it, they are not read again (21 pages
// for 20,000 sellers).
func deployedTo(ctx context.Context, m *m365.Client, dep *m365.Deployment, sellerGroupID string, sellers []m365.Member) (map[string]bool, error) {
	out := map[string]bool{}
	for _, u := range dep.UserIDs {
		out[u] = true
	}
	for _, gid := range dep.GroupIDs {
		if strings.EqualFold(gid, sellerGroupID) {
			for _, u := range sellers {
				out[strings.ToLower(u.ID)] = true
			}
			continue
		}
		ids, _, err := m.GroupMemberIDs(ctx, gid)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			out[strings.ToLower(id)] = true
		}
	}
	return out, nil
}

// fallbackNotChecked is why the Teams checks are not made when Graph's per-user effective
// policies (GET /v1.0/admin/teams/userConfigurations) cannot be read.
const fallbackNotChecked = "direct policy assignments cannot be read without Graph's TeamsUserConfiguration.Read.All; grant it (see `c4sctl bootstrap`) or check the users in the Teams admin center"

func teamsChecks(ctx context.Context, g *Globals, m *m365.Client, group, sellerGID string, managesApp bool, members []m365.Member, appID string,
	fail func(id, user string), notChecked func(id, why string), checks []status.SellerCheck, idx map[string]int, pinSources map[string]*time.Time) error {
	cl, err := g.Client(ctx, "teams")
	if err != nil {
		var de *diagError
		if errors.As(err, &de) {
			return err
		}
		notChecked(checkTeamsApp, fmt.Sprintf("the Teams provider could not be configured: %v", err))
		notChecked(checkTranscription, fmt.Sprintf("the Teams provider could not be configured: %v", err))
		return nil
	}
	tc, ok := cl.(*teams.Client)
	if !ok {
		return fmt.Errorf("provider teams is not the Teams policy client")
	}
	in, graph := coverageInput(ctx, m, members, appID)
	res, err := tc.Coverage(ctx, in)
	if err != nil {
		notChecked(checkTeamsApp, err.Error())
		notChecked(checkTranscription, err.Error())
		return nil
	}
	// Whether the sellers may use the app their setup policy installs (blocked by an admin, or
	// not available to them), as plan checks it: installed but not allowed is not ready.
	appWhy := ""
	notAllowed := map[string]bool{}
	if appID != "" {
		notes, err := checkAppAvailability(ctx, m, readAppAvailability(ctx, m, appID), group, sellerGID, appID, managesApp, res)
		switch {
		case res.AppAvailabilityUnread != "":
			notChecked(checkTeamsApp, "whether the sellers may use the app could not be read: "+clipNote(res.AppAvailabilityUnread))
		case err != nil:
			appWhy = strings.TrimPrefix(err.Error(), "seller coverage: ")
		case len(notes) > 1:
			appWhy = clipNote(notes[1])
		}
		if res.AppAvailabilityUnread == "" {
			for _, cg := range res.Groups {
				for _, id := range cg.AppNotAllowedIDs {
					notAllowed[strings.ToLower(id)] = true
				}
			}
		}
	}
	for i, u := range members {
		cg := res.Groups[res.SellerGroup[i]]
		if !cg.Transcription || teams.CopilotOff(cg.Copilot) {
			fail(checkTranscription, u.ID)
		}
		if appID != "" && (!cg.AppInstalled || notAllowed[strings.ToLower(u.ID)]) {
			fail(checkTeamsApp, u.ID)
		}
		if cg.Setup.Via == teams.ViaGroup && cg.Setup.Created != "" {
			if t, err := time.Parse(time.RFC3339Nano, cg.Setup.Created); err == nil {
				t = t.UTC()
				k := "the Teams group policy assignment's createdTime"
				if cur := pinSources[k]; cur == nil || t.After(*cur) {
					pinSources[k] = &t
				}
			}
		}
	}
	if res.Source != teams.SourceGraph {
		// Computed from the group assignments, a seller's direct assignment (Grant-Cs...Policy
		// -Identity) is unseen and wins over them: whatever the groups give, the policy the
		// seller gets is unknown, so neither check is made (plan and drift count the computed
		// policies and say so in a note; readiness is a promise).
		why := fallbackNotChecked + " (Graph's effective policies could not be read: " + clipNote(graph.why) + ")"
		notChecked(checkTranscription, why)
		if appID != "" {
			notChecked(checkTeamsApp, why)
		}
	}
	via := "the effective policies Microsoft Graph reports (userConfigurations)"
	if res.NotInGraph > 0 {
		via += fmt.Sprintf("; %d seller(s) Graph did not list computed from the group assignments", res.NotInGraph)
	}
	if checks[idx[checkTranscription]].Status != status.NotChecked {
		checks[idx[checkTranscription]].Detail = via
	}
	if appID == "" {
		notChecked(checkTeamsApp, "no teams_app_setup_policy declares app_preset_list: the app to look for is unknown")
	} else {
		if checks[idx[checkTeamsApp]].Status != status.NotChecked {
			checks[idx[checkTeamsApp]].Detail = "app " + appID + "; " + via
			if appWhy != "" {
				checks[idx[checkTeamsApp]].Detail += "; sellers who may not use it: " + appWhy
			}
		}
	}
	return nil
}

// salesforceChecks checks each seller's Salesforce user with the reconciliation plan and drift
// print (reconcileSellers, one matcher), every member compared whether licensed or not. Its reads
// are the reconciliation's: a COUNT() of the org's users, the users (every user's page, or the
// IN (...) queries by Federation ID then Email, whichever is fewer), one paged query of the
// permission set assignments that matter, and the connected app's row and access rows: five
// requests for the sandbox's 200 sellers, never one per seller.
func salesforceChecks(ctx context.Context, g *Globals, pl *plan.Plan, m *m365.Client, group string, members []m365.Member, sellers []status.Seller,
	fail, skip func(id, user string), notChecked func(id, why string), checks []status.SellerCheck, idx map[string]int) error {
	all := []string{checkSFUser, checkSFActive, checkSFPermSet, checkSFAPI, checkSFApp}
	none := func(why string) {
		for _, id := range all {
			notChecked(id, why)
		}
	}
	ps := resourceOf(pl, "salesforce_permission_set")
	permSet := ""
	if ps != nil {
		permSet = strAttr(ps.Config, "name")
	}
	if permSet == "" {
		none("no salesforce_permission_set is declared: the sellers' Salesforce users were not compared")
		return nil
	}
	appName := ""
	if app := resourceOf(pl, "salesforce_connected_app"); app != nil {
		appName = strAttr(app.Config, "name")
	}
	cl, err := g.Client(ctx, "salesforce")
	if err != nil {
		var de *diagError
		if errors.As(err, &de) {
			return err
		}
		none(fmt.Sprintf("the Salesforce provider could not be configured: %v", err))
		return nil
	}
	sc, ok := cl.(*salesforce.Client)
	if !ok {
		return fmt.Errorf("provider salesforce is not the Salesforce client")
	}
	r, err := reconcileSellers(ctx, CoverageSpec{Group: group, PermissionSet: permSet, ConnectedApp: appName, EveryMember: true, M365: m, Salesforce: sc}, members)
	if err != nil {
		none(fmt.Sprintf("the sellers' Salesforce users could not be read: %v", err))
		return nil
	}
	byUPN := make(map[string]int, len(members))
	for i, u := range members {
		byUPN[strings.ToLower(u.UPN)] = i
	}
	mark := func(id string, upn, username string) {
		i, ok := byUPN[strings.ToLower(upn)]
		if !ok {
			return
		}
		fail(id, members[i].ID)
		if username != "" {
			sellers[i].SalesforceUser = username
		}
	}
	for _, upn := range r.Missing {
		mark(checkSFUser, upn, "")
		// Without a Salesforce user, whether "their Salesforce user" is active, holds the set,
		// has API Enabled or is let through cannot be said: not counted as passed (the step
		// line said "1 of 200 seller(s): their Salesforce user holds the permission set" for the
		// seller who has none).
		if i, ok := byUPN[strings.ToLower(upn)]; ok {
			for _, id := range all[1:] {
				skip(id, members[i].ID)
			}
		}
	}
	for _, l := range []struct {
		id    string
		pairs []plan.SellerUser
	}{{checkSFActive, r.Inactive}, {checkSFPermSet, r.NoPermSet}, {checkSFAPI, r.NoAPI}, {checkSFApp, r.NotAllowed}} {
		for _, p := range l.pairs {
			mark(l.id, p.Seller, p.Username)
		}
	}
	by := make([]string, 0, len(r.MatchBy))
	for _, rule := range r.MatchBy {
		by = append(by, fmt.Sprintf("%d by %s", r.MatchedBy[rule], rule))
	}
	checks[idx[checkSFUser]].Detail = fmt.Sprintf("%d of %d matched (%s)", r.Matched, r.Licensed, strings.Join(by, ", "))
	checks[idx[checkSFPermSet]].Detail = "permission set " + permSet
	if !r.AppChecked {
		why := "no salesforce_connected_app is declared"
		if appName != "" {
			why = fmt.Sprintf("the connected app %q is not installed in the org: nobody reaches Salesforce through it yet (guide step 6)", appName)
		}
		notChecked(checkSFApp, why)
	} else {
		checks[idx[checkSFApp]].Detail = "connected app " + appName
		for _, n := range r.Notes {
			if strings.Contains(n, "self-authorize") {
				checks[idx[checkSFApp]].Detail += ": " + n
			}
		}
	}
	return nil
}
