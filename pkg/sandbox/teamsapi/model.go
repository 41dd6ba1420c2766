// Package teamsapi emulates the Teams admin policy REST service the MicrosoftTeams PowerShell
// module and the Teams admin center talk to (api.interfaces.records.teams.microsoft.com):
// meeting policies (guide step 3), app setup policies (guide step 2) and group policy
// assignments. It is mounted as the sandbox service "teams" (URL prefix /teams). Endpoints,
// fields and values, with their sources or "undocumented/assumed", are in docs/api/teams.md.
package teamsapi

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/c4sctl/c4sctl/pkg/sandbox"
)

const (
	// Audience is the token audience of the Teams admin API ("Skype and Teams Tenant Admin API").
	Audience = "48ac35b8-9aa8-4d74-927d-1f4a14a0b239"
	// AdminRole is the sandbox's stand-in for the Teams Administrator directory role the app's
	// service principal needs for app-only calls: a role on the Teams admin API audience.
	AdminRole = "Teams.Administrator"

	// MeetingPolicyType and AppSetupPolicyType are the {PolicyName} path segments.
	MeetingPolicyType  = "TeamsMeetingPolicy"
	AppSetupPolicyType = "TeamsAppSetupPolicy"

	// MaxGroupsPerPolicyType is the documented limit of group policy assignments per policy type.
	MaxGroupsPerPolicyType = 64
)

// Well-known Teams app ids of the default Global app setup policy (Get-CsTeamsAppSetupPolicy docs).
const (
	AppActivity        = "14d6962d-6eeb-4f48-8890-de55454bb136"
	AppChat            = "86fcd49b-61a2-4701-b771-54728cd291fb"
	AppTeams           = "2a84919f-59d8-4441-a975-2a8c2643b741"
	AppCalendar        = "ef56c0de-36fc-4ef8-b417-3d82ba9d073c"
	AppCalling         = "20c3440d-c67e-4420-9f80-0e50c39693df"
	AppOneDrive        = "5af6a76b-40fc-4ba1-af29-8f49b08e44fd"
	AppVivaConnections = "d2c6f111-ffad-42a0-b65e-ee00425598aa"
	AppShifts          = "42f6c1da-a241-483a-a3cc-4f5be9185951"
)

// SeedGroupID is the group that holds the seed's one group policy assignment (Tag:AllOn meetings).
const SeedGroupID = "b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d5e"

// AppRef is an element of AppPresetList / AppPresetMeetingList.
type AppRef struct {
	ID string `json:"Id"`
}

// PinnedApp is an element of PinnedAppBarApps / PinnedMessageBarApps.
type PinnedApp struct {
	ID    string `json:"Id"`
	Order int    `json:"Order"`
}

// GroupAssignment is a group policy assignment (Get-CsGroupPolicyAssignment's output). The wire
// names are the module's (MicrosoftTeams 1.1.4, Microsoft.Teams.Config.private.dll, model
// GroupAssignment): the rank is "priority", which the module's format file labels "Rank".
type GroupAssignment struct {
	GroupID     string `json:"groupId"`
	PolicyType  string `json:"policyType"`
	PolicyName  string `json:"policyName"`
	Priority    int    `json:"priority"`
	CreatedTime string `json:"createdTime"`
	CreatedBy   string `json:"createdBy"`
}

// Policy is one policy instance: property name -> canonical value (bool, string, int,
// []AppRef, []PinnedApp). "Identity" is "Global" or "Tag:<name>".
type Policy map[string]any

type kind int

const (
	kBool kind = iota
	kString
	kInt
	kApps
	kPinned
)

type field struct {
	kind kind
	enum []string
}

// Property schemas: the settings the sandbox knows. A PUT/POST naming another property is
// refused (400), so that a typo in an adapter is caught by the tests.
var fields = map[string]map[string]field{
	MeetingPolicyType: {
		"Description":                        {kind: kString},
		"AllowTranscription":                 {kind: kBool},
		"AllowCloudRecording":                {kind: kBool},
		"AllowRecordingStorageOutsideRegion": {kind: kBool},
		"Copilot":                            {kind: kString, enum: []string{"Enabled", "EnabledWithTranscript", "EnabledWithTranscriptDefaultOn", "Disabled"}},
		"AllowMeetNow":                       {kind: kBool},
		"AllowIPAudio":                       {kind: kBool},
		"AllowIPVideo":                       {kind: kBool},
		"AllowAnonymousUsersToJoinMeeting":   {kind: kBool},
		"AutoAdmittedUsers":                  {kind: kString, enum: []string{"EveryoneInCompany", "EveryoneInSameAndFederatedCompany", "EveryoneInCompanyExcludingGuests", "OrganizerOnly", "InvitedUsers", "Everyone"}},
		"LiveCaptionsEnabledType":            {kind: kString, enum: []string{"DisabledUserOverride", "Disabled"}},
		"MeetingChatEnabledType":             {kind: kString, enum: []string{"Enabled", "Disabled", "EnabledExceptAnonymous"}},
		"NewMeetingRecordingExpirationDays":  {kind: kInt},
	},
	AppSetupPolicyType: {
		"Description":          {kind: kString},
		"AppPresetList":        {kind: kApps},
		"AppPresetMeetingList": {kind: kApps},
		"PinnedAppBarApps":     {kind: kPinned},
		"PinnedMessageBarApps": {kind: kPinned},
		"AllowUserPinning":     {kind: kBool},
		"AllowSideLoading":     {kind: kBool},
	},
}

// defaults are the values a new policy gets for the properties its creation does not name, and
// the values Global is reset to by a DELETE of Global.
func defaults(typ string) Policy {
	switch typ {
	case MeetingPolicyType:
		return Policy{
			"Description": "", "AllowTranscription": false, "AllowCloudRecording": true,
			"AllowRecordingStorageOutsideRegion": false, "Copilot": "EnabledWithTranscript",
			"AllowMeetNow": true, "AllowIPAudio": true, "AllowIPVideo": true, "AllowAnonymousUsersToJoinMeeting": true,
			"AutoAdmittedUsers": "EveryoneInCompanyExcludingGuests", "LiveCaptionsEnabledType": "DisabledUserOverride",
			"MeetingChatEnabledType": "Enabled", "NewMeetingRecordingExpirationDays": 120,
		}
	case AppSetupPolicyType:
		return Policy{
			"Description": "", "AppPresetList": []AppRef{}, "AppPresetMeetingList": []AppRef{},
			"PinnedAppBarApps": []PinnedApp{}, "PinnedMessageBarApps": []PinnedApp{},
			"AllowUserPinning": true, "AllowSideLoading": true,
		}
	}
	return Policy{}
}

func globalSetupDefaults() Policy {
	p := defaults(AppSetupPolicyType)
	p["AppPresetList"] = []AppRef{{AppVivaConnections}}
	p["PinnedAppBarApps"] = []PinnedApp{{AppActivity, 1}, {AppChat, 2}, {AppTeams, 3}, {AppCalendar, 4}, {AppCalling, 5}, {AppOneDrive, 6}}
	return p
}

// canonicalField maps a property name case-insensitively to its canonical spelling.
func canonicalField(typ, name string) (string, field, bool) {
	for n, f := range fields[typ] {
		if strings.EqualFold(n, name) {
			return n, f, true
		}
	}
	return "", field{}, false
}

// normalize converts a decoded JSON value (or a Go value of a helper call) to the canonical
// value of the property, or says what is wrong with it.
func normalize(typ, name string, raw any) (string, any, error) {
	n, f, ok := canonicalField(typ, name)
	if !ok {
		return "", nil, fmt.Errorf("'%s' is not a property of %s", name, typ)
	}
	// Round-trip through JSON so that Go values ([]PinnedApp, []string, int) and decoded JSON
	// (float64, []any, map[string]any) take the same path.
	b, err := json.Marshal(raw)
	if err != nil {
		return "", nil, fmt.Errorf("property %s: %v", n, err)
	}
	var v any
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return "", nil, fmt.Errorf("property %s: %v", n, err)
	}
	switch f.kind {
	case kBool:
		bv, ok := v.(bool)
		if !ok {
			return "", nil, fmt.Errorf("property %s must be a Boolean (true or false)", n)
		}
		return n, bv, nil
	case kString:
		if v == nil {
			v = ""
		}
		s, ok := v.(string)
		if !ok {
			return "", nil, fmt.Errorf("property %s must be a string", n)
		}
		if len(f.enum) > 0 {
			for _, e := range f.enum {
				if strings.EqualFold(e, s) {
					return n, e, nil
				}
			}
			return "", nil, fmt.Errorf("'%s' is not a valid value for %s; valid values are %s", s, n, strings.Join(f.enum, ", "))
		}
		if len(s) > 1024 {
			return "", nil, fmt.Errorf("property %s is longer than 1024 characters", n)
		}
		return n, s, nil
	case kInt:
		num, ok := v.(json.Number)
		if !ok {
			return "", nil, fmt.Errorf("property %s must be a whole number", n)
		}
		i, err := num.Int64()
		if err != nil || i < -1 || i > 99999 {
			return "", nil, fmt.Errorf("property %s must be a whole number between -1 and 99999", n)
		}
		return n, int(i), nil
	case kApps:
		items, ok := v.([]any)
		if v == nil {
			items, ok = []any{}, true
		}
		if !ok {
			return "", nil, fmt.Errorf("property %s must be a list of {\"Id\": \"<app id>\"}", n)
		}
		out := []AppRef{}
		seen := map[string]bool{}
		for _, it := range items {
			id, err := itemID(n, it)
			if err != nil {
				return "", nil, err
			}
			if seen[strings.ToLower(id)] {
				return "", nil, fmt.Errorf("property %s lists app %s twice", n, id)
			}
			seen[strings.ToLower(id)] = true
			out = append(out, AppRef{ID: id})
		}
		return n, out, nil
	case kPinned:
		items, ok := v.([]any)
		if v == nil {
			items, ok = []any{}, true
		}
		if !ok {
			return "", nil, fmt.Errorf("property %s must be a list of {\"Id\": \"<app id>\", \"Order\": <n>}", n)
		}
		out := []PinnedApp{}
		seen := map[string]bool{}
		orders := map[int]bool{}
		for _, it := range items {
			id, err := itemID(n, it)
			if err != nil {
				return "", nil, err
			}
			m := it.(map[string]any)
			var ord any
			for k, val := range m {
				if strings.EqualFold(k, "Order") {
					ord = val
				}
			}
			num, ok := ord.(json.Number)
			o, err := num.Int64()
			if !ok || err != nil || o < 1 || o > 1000 {
				return "", nil, fmt.Errorf("property %s: app %s needs an Order between 1 and 1000", n, id)
			}
			if seen[strings.ToLower(id)] {
				return "", nil, fmt.Errorf("property %s lists app %s twice", n, id)
			}
			if orders[int(o)] {
				return "", nil, fmt.Errorf("property %s: two apps have Order %d", n, o)
			}
			seen[strings.ToLower(id)], orders[int(o)] = true, true
			out = append(out, PinnedApp{ID: id, Order: int(o)})
		}
		sort.SliceStable(out, func(i, j int) bool { return out[i].Order < out[j].Order })
		return n, out, nil
	}
	return "", nil, fmt.Errorf("property %s has an unknown kind", n)
}

func itemID(prop string, it any) (string, error) {
	m, ok := it.(map[string]any)
	if !ok {
		return "", fmt.Errorf("property %s: every element must be an object with an Id", prop)
	}
	for k, val := range m {
		if strings.EqualFold(k, "Id") {
			if s, ok := val.(string); ok && strings.TrimSpace(s) != "" && len(s) <= 256 {
				return s, nil
			}
		}
	}
	return "", fmt.Errorf("property %s: every element needs a non-empty string Id", prop)
}

// identityKey is the lookup key of an identity: "global" or the lower-cased name without "Tag:".
func identityKey(identity string) string {
	id := strings.TrimSpace(identity)
	if len(id) >= 4 && strings.EqualFold(id[:4], "tag:") {
		id = id[4:]
	}
	return strings.ToLower(id)
}

// canonicalIdentity is the stored Identity: "Global" or "Tag:<name>".
func canonicalIdentity(identity string) string {
	id := strings.TrimSpace(identity)
	if strings.EqualFold(id, "global") {
		return "Global"
	}
	if len(id) >= 4 && strings.EqualFold(id[:4], "tag:") {
		id = id[4:]
	}
	return "Tag:" + id
}

func validName(identity string) error {
	k := identityKey(identity)
	if k == "" {
		return fmt.Errorf("Identity must not be empty")
	}
	if len(k) > 128 || strings.ContainsAny(k, "/\\?#%") {
		return fmt.Errorf("Identity '%s' is not valid: use at most 128 characters and none of / \\ ? # %%", identity)
	}
	return nil
}

func copyPolicy(p Policy) Policy {
	out := Policy{}
	for k, v := range p {
		switch x := v.(type) {
		case []AppRef:
			out[k] = append([]AppRef{}, x...)
		case []PinnedApp:
			out[k] = append([]PinnedApp{}, x...)
		default:
			out[k] = v
		}
	}
	return out
}

// data is the service's tenant data.
type data struct {
	Policies map[string][]Policy `json:"policies"` // by policy type
	Groups   []*GroupAssignment  `json:"groupPolicyAssignments"`
	// Users holds direct user assignments (Grant-CsTeamsMeetingPolicy -Identity UPN -PolicyName
	// NAME): policy type -> lower-case UPN -> policy name. No REST route of the service for
	// them is modelled (docs/api/teams.md, "Direct user assignments"); they are set by hand.
	Users map[string]map[string]string `json:"userPolicyAssignments,omitempty"`
}

func (d *data) find(typ, identity string) (int, Policy) {
	k := identityKey(identity)
	for i, p := range d.Policies[typ] {
		if s, _ := p["Identity"].(string); identityKey(s) == k {
			return i, p
		}
	}
	return -1, nil
}

func seed() *data {
	created := time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC).Format(time.RFC3339)
	g := defaults(MeetingPolicyType)
	g["Identity"] = "Global"
	allOn := defaults(MeetingPolicyType)
	allOn["Identity"], allOn["AllowTranscription"], allOn["Description"] = "Tag:AllOn", true, "All meeting features on"
	allOff := defaults(MeetingPolicyType)
	allOff["Identity"], allOff["AllowCloudRecording"], allOff["AllowMeetNow"], allOff["AllowIPVideo"], allOff["AllowAnonymousUsersToJoinMeeting"], allOff["Description"] =
		"Tag:AllOff", false, false, false, false, "All meeting features off"
	kiosk := defaults(MeetingPolicyType)
	kiosk["Identity"], kiosk["AllowCloudRecording"], kiosk["AllowMeetNow"], kiosk["Description"] = "Tag:Kiosk", false, false, "Shared devices"
	gs := globalSetupDefaults()
	gs["Identity"] = "Global"
	flw := defaults(AppSetupPolicyType)
	flw["Identity"], flw["Description"] = "Tag:FirstlineWorker", "Frontline workers"
	flw["PinnedAppBarApps"] = []PinnedApp{{AppActivity, 1}, {AppChat, 2}, {AppTeams, 3}, {AppShifts, 4}, {AppCalling, 5}}
	flw["AllowUserPinning"], flw["AllowSideLoading"] = false, false
	return &data{
		Policies: map[string][]Policy{MeetingPolicyType: {g, allOn, allOff, kiosk}, AppSetupPolicyType: {gs, flw}},
		Groups:   []*GroupAssignment{{GroupID: SeedGroupID, PolicyType: MeetingPolicyType, PolicyName: "AllOn", Priority: 1, CreatedTime: created, CreatedBy: sandbox.AppObjectID}},
	}
}

// restore converts persisted JSON back to canonical values, checking every property.
func restore(b []byte) (*data, error) {
	var raw struct {
		Policies map[string][]map[string]any  `json:"policies"`
		Groups   []*GroupAssignment           `json:"groupPolicyAssignments"`
		Users    map[string]map[string]string `json:"userPolicyAssignments"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, err
	}
	d := &data{Policies: map[string][]Policy{}, Groups: raw.Groups, Users: raw.Users}
	for typ, list := range raw.Policies {
		if _, ok := fields[typ]; !ok {
			return nil, fmt.Errorf("unknown policy type %q", typ)
		}
		for _, rp := range list {
			id, _ := rp["Identity"].(string)
			if err := validName(id); err != nil {
				return nil, err
			}
			p := Policy{"Identity": canonicalIdentity(id)}
			for k, v := range rp {
				if k == "Identity" {
					continue
				}
				n, cv, err := normalize(typ, k, v)
				if err != nil {
					return nil, fmt.Errorf("%s %s: %v", typ, id, err)
				}
				p[n] = cv
			}
			d.Policies[typ] = append(d.Policies[typ], p)
		}
	}
	for _, typ := range []string{MeetingPolicyType, AppSetupPolicyType} {
		if _, g := d.find(typ, "Global"); g == nil {
			return nil, fmt.Errorf("%s has no Global instance", typ)
		}
	}
	for _, g := range d.Groups {
		if g == nil || g.GroupID == "" || g.PolicyName == "" {
			return nil, fmt.Errorf("a group policy assignment lacks its group or policy")
		}
	}
	// Data written before the assignments carried "priority" (they said "Rank", which the
	// service does not have) reads as priority 0: number each type's assignments 1..n in their
	// stored order, which was the rank order.
	seen := map[string]int{}
	zero := false
	for _, g := range d.Groups {
		zero = zero || g.Priority < 1
	}
	if zero {
		for _, g := range d.Groups {
			seen[g.PolicyType]++
			g.Priority = seen[g.PolicyType]
		}
	}
	return d, nil
}
