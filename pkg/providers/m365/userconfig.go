package m365

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// UserPolicy is one effective Teams policy assignment of a user, as Graph's
// teamsUserConfiguration reports it (Learn, v1.0 "teamsUserConfiguration resource type",
// "effectivePolicyAssignment", "policyAssignment"): PolicyType (e.g. TeamsMeetingPolicy), the
// policy's Name (policyAssignment.displayName), AssignmentType "direct" or "group", and GroupID
// for a group assignment.
type UserPolicy struct {
	PolicyType, Name, AssignmentType, GroupID string
}

// userConfiguration is the part of a teamsUserConfiguration the adapter reads.
type userConfiguration struct {
	ID        string `json:"id"`
	Effective []struct {
		PolicyType string `json:"policyType"`
		Assignment struct {
			DisplayName    string `json:"displayName"`
			AssignmentType string `json:"assignmentType"`
			GroupID        string `json:"groupId"`
		} `json:"policyAssignment"`
	} `json:"effectivePolicyAssignments"`
}

// UserConfigurationsPath is the first page of the tenant's Teams user configurations with what
// seller coverage needs (Learn "List userConfigurations", v1.0, permission
// TeamsUserConfiguration.Read.All; $select and $top are documented query parameters; the
// 999 page size is assumed, as Graph's directory lists).
const UserConfigurationsPath = "/v1.0/admin/teams/userConfigurations?$select=id,effectivePolicyAssignments&$top=999"

// TeamsUserPolicies reads the effective Teams policies of the users in want (lower-case object
// ids) from Graph's Teams user configurations, paged: one request per 999 users of the tenant,
// whatever the number of sellers. A user of want that Graph does not list is absent from the
// answer; with want nil, every user listed is in it (for a caller that reads the pages before it
// knows the sellers). An error (403 without the permission, 404 where the API is not deployed)
// is returned as is: the caller falls back to computing from the assignments.
func (c *Client) TeamsUserPolicies(ctx context.Context, want map[string]bool) (map[string][]UserPolicy, int, error) {
	out := map[string][]UserPolicy{}
	n, err := pagesOf(ctx, c, UserConfigurationsPath, func(u userConfiguration) error {
		id := strings.ToLower(u.ID)
		if id == "" || (want != nil && !want[id]) {
			return nil
		}
		ps, err := userPolicies(u)
		if err != nil {
			return err
		}
		out[id] = ps
		return nil
	})
	return out, n, err
}

// userPolicies checks one configuration's assignments: a type with an assignment type other than
// direct or group, or without a policy name, cannot be placed and is an error.
func userPolicies(u userConfiguration) ([]UserPolicy, error) {
	ps := []UserPolicy{}
	for _, e := range u.Effective {
		a := e.Assignment
		// Graph's JSON spells the enum direct / group (Learn policyAssignment); the Teams
		// service's own objects (Get-CsOnlineUser's EffectivePolicyAssignments, public scripts
		// printing it) say Direct / Group: either is read, so a capital letter does not throw
		// away every seller's direct assignments.
		a.AssignmentType = strings.ToLower(a.AssignmentType)
		switch {
		case e.PolicyType == "" || a.DisplayName == "":
			return nil, fmt.Errorf("Teams user configuration %s: an effective policy assignment without policyType or policyAssignment.displayName", u.ID)
		case a.AssignmentType != "direct" && a.AssignmentType != "group":
			return nil, fmt.Errorf("Teams user configuration %s: %s assignment type %q is neither direct nor group", u.ID, e.PolicyType, a.AssignmentType)
		}
		ps = append(ps, UserPolicy{PolicyType: e.PolicyType, Name: a.DisplayName, AssignmentType: a.AssignmentType, GroupID: a.GroupID})
	}
	return ps, nil
}

// DecodeUserConfigurationsPage decodes one list page (the fixtures' test entry): id -> policies.
func DecodeUserConfigurationsPage(raw []byte) (map[string][]UserPolicy, error) {
	var page struct {
		Value []userConfiguration `json:"value"`
	}
	if err := json.Unmarshal(raw, &page); err != nil {
		return nil, err
	}
	out := map[string][]UserPolicy{}
	for _, u := range page.Value {
		ps, err := userPolicies(u)
		if err != nil {
			return nil, err
		}
		out[strings.ToLower(u.ID)] = ps
	}
	return out, nil
}
