package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/c4sctl/c4sctl/pkg/plan"
	"github.com/c4sctl/c4sctl/pkg/providers/teams"
	"github.com/c4sctl/c4sctl/pkg/spec"
	"github.com/zclconf/go-cty/cty"
)

// sellerCoverage computes what the members of the configuration's seller group actually get in
// Teams (issue 16): nil when the configuration names no seller group (no
// m365_license_assignment) or manages no Teams policy. The app check uses the first app id a
// teams_app_setup_policy installs (app_preset_list); without one only transcription is checked.
func sellerCoverage(ctx context.Context, g *Globals) (*plan.Coverage, error) {
	cfg, err := g.LoadConfig()
	if err != nil {
		return nil, err
	}
	hasTeams, appID := false, ""
	for _, r := range sortedResources(cfg) {
		if r.Mode != spec.ManagedResource || !strings.HasPrefix(r.Type, "teams_") {
			continue
		}
		hasTeams = true
		if r.Type != "teams_app_setup_policy" || appID != "" {
			continue
		}
		v, err := g.ResourceConfig(ctx, r.Addr())
		if err != nil || v.IsNull() || !v.IsKnown() {
			continue
		}
		if a := v.GetAttr("app_preset_list"); !a.IsNull() && a.IsWhollyKnown() && a.Type().IsSetType() {
			for it := a.ElementIterator(); it.Next(); {
				if _, e := it.Element(); !e.IsNull() && e.Type() == cty.String {
					appID = e.AsString()
					break
				}
			}
		}
	}
	if !hasTeams {
		return nil, nil
	}
	group, err := sellerGroup(ctx, g)
	if err != nil {
		return nil, nil // no seller group declared: nothing to measure against
	}
	m, err := m365Client(ctx, g)
	if err != nil {
		return nil, err
	}
	cl, err := g.Client(ctx, "teams")
	if err != nil {
		return nil, err
	}
	tc, ok := cl.(*teams.Client)
	if !ok {
		return nil, fmt.Errorf("provider teams is not the Teams policy client")
	}
	gid, members, err := m.GroupMembers(ctx, group)
	if err != nil {
		return nil, fmt.Errorf("seller coverage: read the members of %q: %w", group, err)
	}
	in := teams.CoverageInput{Members: m.GroupMemberIDs, AppID: appID}
	for _, u := range members {
		in.Sellers = append(in.Sellers, teams.Seller{ID: u.ID, UPN: u.UPN})
	}
	res, err := tc.Coverage(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("seller coverage: %w", err)
	}
	return coverageSummary(group, gid, appID, res), nil
}

// coverageSummary turns the computed coverage into the plan's section.
func coverageSummary(group, groupID, appID string, res *teams.CoverageResult) *plan.Coverage {
	cov := &plan.Coverage{Group: group, Sellers: res.Sellers, Uncovered: res.Uncovered()}
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
			}
			line += fmt.Sprintf("; app setup policy %s %s (%s)", cg.Setup.Policy, via(cg.Setup), app)
		}
		line += fmt.Sprintf(", e.g. %s", cg.Example)
		cov.Lines = append(cov.Lines, line)
	}
	cov.Notes = append(cov.Notes,
		fmt.Sprintf("computed from the tenant's group policy assignments (direct user assignment, then the lowest rank among the seller's groups, then Global: %d Teams requests, %d groups' members read); direct user assignments are not read (no public bulk route), so a seller with one may get another policy", res.Requests, res.GroupsRead),
		"assignments reach users within up to 24 hours")
	if len(res.Missing) > 0 {
		cov.Notes = append(cov.Notes, fmt.Sprintf("Teams policies are still assigned to %d group(s) that no longer exist: %s", len(res.Missing), strings.Join(res.Missing, ", ")))
	}
	if appID == "" {
		cov.Notes = append(cov.Notes, "the Copilot for Sales app was not checked: no teams_app_setup_policy declares app_preset_list")
	}
	return cov
}
