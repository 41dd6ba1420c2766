package teams

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/schema"
	"github.com/zclconf/go-cty/cty"
)

// CopilotValues are the values of a meeting policy's Copilot setting (docs/api/teams.md,
// "Meeting policy settings"): Enabled and EnabledWithTranscript from the Set-/New-CsTeamsMeetingPolicy
// reference, EnabledWithTranscriptDefaultOn from Learn "Manage Copilot for Microsoft Teams
// meetings and events", Disabled (admin centre "Off") from Microsoft365DSC issue #5573 / PR #5577,
// which found the service accepting it while the cmdlet reference did not list it.
var CopilotValues = []string{"Enabled", "EnabledWithTranscript", "EnabledWithTranscriptDefaultOn", "Disabled"}

// LiveCaptionsValues are the documented values of LiveCaptionsEnabledType (Set-CsTeamsMeetingPolicy:
// "Set this to DisabledUserOverride to allow user to turn on live captions. Set this to Disabled to
// prohibit"; EnabledUserOverride is deprecated: MicrosoftDocs/office-docs-powershell#4537).
var LiveCaptionsValues = []string{"DisabledUserOverride", "Disabled"}

// CopilotOff tells whether a Copilot value turns Copilot off in the policy's meetings.
func CopilotOff(v string) bool { return strings.EqualFold(strings.TrimSpace(v), "Disabled") }

// meetingProps maps the resource's managed settings to the policy's API properties.
var meetingProps = []struct {
	attr, prop string
	typ        cty.Type
}{
	{"description", "Description", cty.String},
	{"allow_transcription", "AllowTranscription", cty.Bool},
	{"allow_cloud_recording", "AllowCloudRecording", cty.Bool},
	{"allow_recording_storage_outside_region", "AllowRecordingStorageOutsideRegion", cty.Bool},
	{"copilot", "Copilot", cty.String},
	{"live_captions_enabled_type", "LiveCaptionsEnabledType", cty.String},
}

func meetingPolicySchema() *schema.Resource {
	return &schema.Resource{
		Type:        "teams_meeting_policy",
		Provider:    "teams",
		Identity:    policyIdentity("teams:meeting_policy", "Teams meeting policy"),
		NormalizeID: policyKey,
		Description: "A Teams meeting policy (guide step 3: transcription on). The Global (org-wide default) policy always " +
			"exists: it is updated, never created, and removing it from the configuration only stops managing it. " +
			"Named policies are created and deleted. Settings left out are not managed.",
		Attributes: []*schema.Attribute{
			{Name: "identity", Type: cty.String, Optional: true, Default: cty.StringVal("Global"), Validate: validIdentity,
				Description: "\"Global\" (default) or the name of a custom policy (\"Sales\" or \"Tag:Sales\")."},
			{Name: "description", Type: cty.String, Optional: true, Description: "Free text shown in the Teams admin center."},
			{Name: "allow_transcription", Type: cty.Bool, Optional: true, Description: "AllowTranscription: \"whether real-time and/or post-meeting captions and transcriptions are allowed in a user's meetings\" (Set-CsTeamsMeetingPolicy). Copilot for Sales needs true (guide step 3); seller coverage counts a seller whose policy has it false as not covered."},
			{Name: "allow_cloud_recording", Type: cty.Bool, Optional: true, Description: "AllowCloudRecording: \"whether cloud recording is allowed in a user's meetings\" (Set-CsTeamsMeetingPolicy)."},
			{Name: "allow_recording_storage_outside_region", Type: cty.Bool, Optional: true, Description: "AllowRecordingStorageOutsideRegion: recordings may be stored outside the tenant's region (Set-CsTeamsMeetingPolicy; the admin centre greys it out when cloud recording is off)."},
			{Name: "copilot", Type: cty.String, Optional: true, Enum: CopilotValues,
				Description: "Copilot in meetings (Copilot; admin centre: Recording & transcription > Copilot): \"EnabledWithTranscript\" (\"On with saved transcript required\", the default), \"Enabled\" (\"On\": organizers default to Copilot only during the meeting), \"EnabledWithTranscriptDefaultOn\" (\"On with transcript saved by default\"), \"Disabled\" (\"Off\"; seller coverage counts a seller whose policy has it as not covered). Sources: docs/api/teams.md."},
			{Name: "live_captions_enabled_type", Type: cty.String, Optional: true, Enum: LiveCaptionsValues,
				Description: "LiveCaptionsEnabledType: \"DisabledUserOverride\" (the default: users can turn on live captions) or \"Disabled\" (prohibited) (Set-CsTeamsMeetingPolicy)."},
			{Name: "groups", Type: cty.List(groupObj), Optional: true, Validate: validGroups,
				Description: "Groups the (named) policy is assigned to, with their rank among the tenant's meeting policy group assignments (1 = highest; a user's direct assignment wins over any group's, and the lowest rank wins among groups; at most 64 groups per policy type; direct members only; propagation takes up to 24 hours). Authoritative: the policy's assignments to other groups are removed."},
		},
	}
}

func (c *Client) getPolicy(ctx context.Context, typ, identity string) (map[string]any, error) {
	var p map[string]any
	if err := c.getOne(ctx, policyPath(typ, identity), identity, &p); err != nil {
		return nil, err
	}
	if p == nil {
		return nil, fmt.Errorf("Teams admin policy service: GET %s answered an empty policy", policyPath(typ, identity))
	}
	return p, nil
}

// policyExists tells whether a policy of that type and identity exists (doCreate's re-read).
func (c *Client) policyExists(typ, identity string) func(context.Context) (bool, error) {
	return func(ctx context.Context) (bool, error) {
		_, err := c.getPolicy(ctx, typ, identity)
		if IsNotFound(err) {
			return false, nil
		}
		return err == nil, err
	}
}

func (c *Client) readMeeting(ctx context.Context, req providers.ReadRequest) (providers.ReadResponse, error) {
	typ := meetingPolicySchema().ImpliedType()
	identity := identityOf(req.Config, req.ID)
	p, err := c.getPolicy(ctx, meetingType, identity)
	if IsNotFound(err) {
		if isGlobal(identity) {
			return providers.ReadResponse{}, fmt.Errorf("the Global meeting policy was not found, but it exists in every tenant: check the endpoint and that the app has the Teams Administrator role (%v)", err)
		}
		return providers.ReadResponse{Value: cty.NullVal(typ), Unnamed: unnamedGroups(cty.NilVal, req.Config)}, nil
	}
	if err != nil {
		return providers.ReadResponse{}, fmt.Errorf("read meeting policy %q: %w", identity, err)
	}
	apiID, _ := p["Identity"].(string)
	if apiID == "" {
		apiID = identity
	}
	vals := map[string]cty.Value{"identity": cty.StringVal(attrIdentity(req.Config, apiID))}
	for _, m := range meetingProps {
		if m.typ == cty.Bool {
			vals[m.attr] = boolVal(p[m.prop])
		} else {
			vals[m.attr] = strVal(p[m.prop])
		}
	}
	groups, warnings, err := c.readGroups(ctx, meetingType, apiID, req.Config)
	if err != nil {
		return providers.ReadResponse{}, err
	}
	vals["groups"] = groups
	return providers.ReadResponse{ID: apiID, Value: cty.ObjectVal(vals), Warnings: warnings, Unnamed: unnamedGroups(groups, req.Config)}, nil
}

// changedProps returns the API properties whose planned value is set and differs from prior
// (all set ones when prior is null): the body of a merge (PUT) or of a creation (POST).
func changedProps(planned, prior cty.Value, props []struct {
	attr, prop string
	typ        cty.Type
}) map[string]any {
	body := map[string]any{}
	for _, m := range props {
		pv := getAttr(planned, m.attr)
		if pv.IsNull() || !pv.IsKnown() {
			continue
		}
		if old := getAttr(prior, m.attr); !old.IsNull() && old.IsKnown() && old.Equals(pv).True() {
			continue
		}
		if m.typ == cty.Bool {
			body[m.prop] = pv.True()
		} else {
			body[m.prop] = pv.AsString()
		}
	}
	return body
}

func (c *Client) applyMeeting(ctx context.Context, req providers.ApplyRequest) (providers.ApplyResponse, error) {
	switch req.Action {
	case providers.Create:
		identity := identityOf(req.Planned, "")
		if isGlobal(identity) {
			return providers.ApplyResponse{}, fmt.Errorf("the Global meeting policy cannot be created; it exists in every tenant (its read failed?)")
		}
		body := changedProps(req.Planned, cty.NilVal, meetingProps)
		body["Identity"] = displayIdentity(identity) // New-Cs*Policy -Identity takes the bare name
		var out map[string]any
		if err := c.createPolicy(ctx, meetingType, identity, body, &out); err != nil {
			return providers.ApplyResponse{}, fmt.Errorf("create meeting policy %q: %w", identity, err)
		}
		id, _ := out["Identity"].(string)
		if id == "" {
			id = "Tag:" + displayIdentity(identity)
		}
		if groups := declaredGroups(req.Planned); groups != nil {
			if err := c.syncGroups(ctx, meetingType, displayIdentity(id), groups); err != nil {
				return providers.ApplyResponse{ID: id}, err
			}
		}
		return providers.ApplyResponse{ID: id, Notes: []string{"meeting policy changes can take a few hours to reach users; assign the policy to users or groups to use it"}}, nil
	case providers.Update:
		identity := req.ID
		if identity == "" {
			identity = identityOf(req.Planned, "")
		}
		body := changedProps(req.Planned, req.Prior, meetingProps)
		if len(body) > 0 {
			if err := c.do(ctx, http.MethodPut, policyPath(meetingType, identity), body, nil); err != nil {
				return providers.ApplyResponse{}, fmt.Errorf("update meeting policy %q: %w", displayIdentity(identity), err)
			}
		}
		if groups := declaredGroups(req.Planned); groups != nil {
			if isGlobal(identity) {
				if len(groups) > 0 {
					return providers.ApplyResponse{ID: identity}, fmt.Errorf("groups: the Global meeting policy cannot be assigned to groups")
				}
			} else if err := c.syncGroups(ctx, meetingType, displayIdentity(identity), groups); err != nil {
				return providers.ApplyResponse{ID: identity}, err
			}
		}
		return providers.ApplyResponse{ID: identity, Notes: []string{"meeting policy changes can take a few hours to reach users"}}, nil
	case providers.Delete:
		identity := req.ID
		if identity == "" {
			identity = identityOf(req.Prior, "")
		}
		if isGlobal(identity) {
			return providers.ApplyResponse{}, fmt.Errorf("the Global meeting policy cannot be deleted (a DELETE would reset it to Microsoft's defaults); remove it from the configuration to stop managing it")
		}
		// The service refuses to delete a policy still assigned to groups (A7): unassign first.
		if err := c.syncGroups(ctx, meetingType, displayIdentity(identity), []group{}); err != nil {
			return providers.ApplyResponse{}, err
		}
		if err := c.do(ctx, http.MethodDelete, policyPath(meetingType, identity), nil, nil); err != nil && !IsNotFound(err) {
			return providers.ApplyResponse{}, fmt.Errorf("delete meeting policy %q: %w", displayIdentity(identity), err)
		}
		return providers.ApplyResponse{ID: identity}, nil
	}
	return providers.ApplyResponse{}, fmt.Errorf("teams_meeting_policy: unsupported action %q", req.Action)
}

func (c *Client) planMeeting(ctx context.Context, req providers.PlanRequest) (providers.PlanResponse, error) {
	var resp providers.PlanResponse
	identity := identityOf(req.Prior, req.ID)
	if req.Action == providers.Delete && isGlobal(identity) {
		resp.Action = providers.Forget
		resp.Notes = append(resp.Notes, "the Global meeting policy cannot be deleted; c4sctl stops managing it and leaves its settings as they are")
		return resp, nil
	}
	if t := getAttr(req.Config, "allow_transcription"); !t.IsNull() && t.IsKnown() && t.False() && req.Action != providers.Delete {
		resp.Warnings = append(resp.Warnings, fmt.Sprintf("meeting policy %q keeps transcription off: Copilot for Sales cannot summarise its users' recorded meetings (guide step 3)", displayIdentity(identityOf(req.Config, req.ID))))
	}
	if req.Action == providers.Delete {
		if g := getAttr(req.Prior, "groups"); !g.IsNull() && g.IsKnown() && g.LengthInt() > 0 {
			resp.Notes = append(resp.Notes, fmt.Sprintf("its %d group assignment(s) are removed first; those users fall back to their next-ranked group's policy or Global", g.LengthInt()))
		}
		return resp, nil
	}
	if groups := declaredGroups(req.Config); groups != nil && (req.Action == providers.Create || req.Action == providers.Update) {
		if err := c.planGroups(ctx, meetingType, identityOf(req.Config, req.ID), groups); err != nil {
			return resp, err
		}
		resp.Notes = append(resp.Notes, groupNote)
	}
	return resp, nil
}
