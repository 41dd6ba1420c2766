package teamsapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/c4sctl/c4sctl/pkg/sandbox"
	"github.com/golang-jwt/jwt/v5"
)

type env struct {
	t   *testing.T
	sb  *sandbox.Server
	svc *Service
	tok string
}

func start(t *testing.T, dir string) *env {
	t.Helper()
	svc := New()
	sb, err := sandbox.Start(sandbox.Options{Dir: dir}, svc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sb.Close() })
	return &env{t: t, sb: sb, svc: svc, tok: token(t, sb, Audience, sandbox.TenantID, AdminRole)}
}

func token(t *testing.T, sb *sandbox.Server, aud, tenant string, roles ...string) string {
	t.Helper()
	tok, _, err := sb.Tokens.Issue(sandbox.Claims{TenantID: tenant, AppID: sandbox.ClientID, Roles: roles,
		RegisteredClaims: jwt.RegisteredClaims{Audience: jwt.ClaimStrings{aud}}})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// call sends a request with the env's token (tok overrides it; "-" sends none).
func (e *env) call(method, path string, body any, tok ...string) (int, map[string]any, []byte) {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.sb.URL+"/teams"+path, rd)
	bearer := e.tok
	if len(tok) > 0 {
		bearer = tok[0]
	}
	if bearer != "-" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := e.sb.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return resp.StatusCode, m, raw
}

func errCode(m map[string]any) string {
	if e, ok := m["error"].(map[string]any); ok {
		s, _ := e["code"].(string)
		return s
	}
	return ""
}

func TestAuth(t *testing.T) {
	e := start(t, "")
	for _, tc := range []struct {
		name, tok string
		status    int
	}{
		{"no token", "-", 401},
		{"garbage token", "not-a-jwt", 401},
		{"graph audience", token(t, e.sb, "https://graph.microsoft.com", sandbox.TenantID, AdminRole), 401},
		{"other tenant", token(t, e.sb, Audience, "11111111-2222-3333-4444-555555555555", AdminRole), 401},
		{"no Teams admin role", token(t, e.sb, Audience, sandbox.TenantID), 403},
		{"admin", e.tok, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, m, raw := e.call("GET", "/Skype.Policy/configurations/TeamsMeetingPolicy", nil, tc.tok)
			if st != tc.status {
				t.Fatalf("status %d, want %d: %s", st, tc.status, raw)
			}
			if st == 401 && errCode(m) != "Unauthorized" || st == 403 && !strings.Contains(string(raw), "Teams Administrator") {
				t.Errorf("error body %s", raw)
			}
		})
	}
	if app := e.sb.Apps().Get(sandbox.ClientID); app == nil || len(app.Roles[Audience]) == 0 {
		t.Error("Register did not grant the sandbox app the Teams admin role")
	}
}

func TestSeedAndMerge(t *testing.T) {
	e := start(t, "")
	st, _, raw := e.call("GET", "/Skype.Policy/configurations/TeamsMeetingPolicy", nil)
	var list []map[string]any
	if st != 200 || json.Unmarshal(raw, &list) != nil || len(list) < 3 {
		t.Fatalf("list: %d %s", st, raw)
	}
	st, g, _ := e.call("GET", "/Skype.Policy/configurations/TeamsMeetingPolicy/configuration/global", nil)
	if st != 200 || g["Identity"] != "Global" || g["AllowTranscription"] != false || g["AllowCloudRecording"] != true {
		t.Fatalf("seed Global: %d %v", st, g)
	}
	setup := e.svc.AppSetupPolicy("Global")
	for _, a := range setup["AppPresetList"].([]AppRef) {
		if a.ID == "" {
			t.Error("empty app id in seed")
		}
	}
	if pins := setup["PinnedAppBarApps"].([]PinnedApp); len(pins) != 6 || pins[0].ID != AppActivity || pins[5].Order != 6 {
		t.Errorf("seed pins %v", pins)
	}
	// PUT merges: only the named property changes.
	st, out, raw := e.call("PUT", "/Skype.Policy/configurations/TeamsMeetingPolicy/configuration/Global", map[string]any{"AllowTranscription": true})
	if st != 200 || out["AllowTranscription"] != true || out["AllowCloudRecording"] != true {
		t.Fatalf("PUT: %d %s", st, raw)
	}
	for _, tc := range []struct {
		name string
		body any
		want string
	}{
		{"unknown property", map[string]any{"AllowTranscripton": true}, "not a property"},
		{"wrong type", map[string]any{"AllowTranscription": "yes"}, "Boolean"},
		{"bad enum", map[string]any{"Copilot": "Sometimes"}, "valid values"},
		{"not an object", []int{1}, "JSON object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, m, raw := e.call("PUT", "/Skype.Policy/configurations/TeamsMeetingPolicy/configuration/Global", tc.body)
			if st != 400 || errCode(m) != "BadRequest" || !strings.Contains(string(raw), tc.want) {
				t.Fatalf("%d %s", st, raw)
			}
		})
	}
	if st, _, _ := e.call("GET", "/Skype.Policy/configurations/NoSuchPolicy", nil); st != 404 {
		t.Errorf("unknown type: %d", st)
	}
}

func TestCreateDeleteNamed(t *testing.T) {
	e := start(t, "")
	st, m, raw := e.call("POST", "/Skype.Policy/configurations/TeamsAppSetupPolicy", map[string]any{"Identity": "Sales", "PinnedAppBarApps": []map[string]any{{"Id": "x", "Order": 1}}})
	if st != 201 || m["Identity"] != "Tag:Sales" || m["AllowUserPinning"] != true {
		t.Fatalf("create: %d %s", st, raw)
	}
	if st, _, _ := e.call("POST", "/Skype.Policy/configurations/TeamsAppSetupPolicy", map[string]any{"Identity": "tag:sales"}); st != 409 {
		t.Errorf("duplicate: %d", st)
	}
	if st, _, _ := e.call("POST", "/Skype.Policy/configurations/TeamsAppSetupPolicy", map[string]any{"Identity": "Global"}); st != 409 {
		t.Errorf("create Global: %d", st)
	}
	if st, _, raw := e.call("POST", "/Skype.Policy/configurations/TeamsAppSetupPolicy", map[string]any{"Identity": "B", "PinnedAppBarApps": []map[string]any{{"Id": "x", "Order": 1}, {"Id": "y", "Order": 1}}}); st != 400 || !strings.Contains(string(raw), "Order 1") {
		t.Errorf("duplicate order: %d %s", st, raw)
	}
	// An assigned policy cannot be removed.
	if st, _, raw := e.call("PUT", "/Skype.Policy/groupPolicyAssignments/g1/policyTypes/TeamsAppSetupPolicy", map[string]any{"policyName": "Sales", "priority": 1}); st != 201 {
		t.Fatalf("assign: %d %s", st, raw)
	}
	if st, _, _ := e.call("DELETE", "/Skype.Policy/configurations/TeamsAppSetupPolicy/configuration/Tag:Sales", nil); st != 409 {
		t.Errorf("delete assigned: %d", st)
	}
	if st, _, _ := e.call("DELETE", "/Skype.Policy/groupPolicyAssignments/g1/policyTypes/TeamsAppSetupPolicy", nil); st != 204 {
		t.Errorf("unassign: %d", st)
	}
	if st, _, _ := e.call("DELETE", "/Skype.Policy/configurations/TeamsAppSetupPolicy/configuration/Sales", nil); st != 204 {
		t.Errorf("delete: %d", st)
	}
	if e.svc.AppSetupPolicy("Sales") != nil {
		t.Error("still there after delete")
	}
	// DELETE of Global resets it to the defaults.
	if err := e.svc.SetAppSetupPolicyField("Global", "AllowSideLoading", false); err != nil {
		t.Fatal(err)
	}
	if st, _, _ := e.call("DELETE", "/Skype.Policy/configurations/TeamsAppSetupPolicy/configuration/Global", nil); st != 204 {
		t.Errorf("delete Global: %d", st)
	}
	if g := e.svc.AppSetupPolicy("Global"); g == nil || g["AllowSideLoading"] != true || len(g["PinnedAppBarApps"].([]PinnedApp)) != 6 {
		t.Errorf("Global after reset: %v", g)
	}
}

func ranks(e *env, typ string) string {
	var parts []string
	for _, g := range e.svc.GroupAssignments(typ) {
		parts = append(parts, fmt.Sprintf("%s:%s:%d", g.GroupID, g.PolicyName, g.Priority))
	}
	return strings.Join(parts, " ")
}

func TestGroupAssignmentRanksAndLimit(t *testing.T) {
	e := start(t, "")
	for _, n := range []string{"A", "B"} {
		if err := e.svc.CreatePolicy(AppSetupPolicyType, n, nil); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		method, path string
		body         map[string]any
		status       int
		want         string
	}{
		{"PUT", "/g1/policyTypes/TeamsAppSetupPolicy", map[string]any{"policyName": "A"}, 201, "g1:A:1"},
		{"PUT", "/g2/policyTypes/TeamsAppSetupPolicy", map[string]any{"PolicyName": "B", "Priority": 1}, 201, "g2:B:1 g1:A:2"},
		{"PUT", "/g3/policyTypes/TeamsAppSetupPolicy", map[string]any{"policyName": "Tag:A", "priority": 9}, 201, "g2:B:1 g1:A:2 g3:A:3"},
		{"PUT", "/g3/policyTypes/TeamsAppSetupPolicy", map[string]any{"policyName": "B"}, 409, "g2:B:1 g1:A:2 g3:A:3"},
		{"PUT", "/g4/policyTypes/TeamsAppSetupPolicy", map[string]any{"policyName": "Global"}, 400, "g2:B:1 g1:A:2 g3:A:3"},
		{"PUT", "/g4/policyTypes/TeamsAppSetupPolicy", map[string]any{"policyName": "Nope"}, 404, "g2:B:1 g1:A:2 g3:A:3"},
		// The admin centre's label is not the API's field, and the old POST to the root is gone.
		{"PUT", "/g4/policyTypes/TeamsAppSetupPolicy", map[string]any{"policyName": "A", "Rank": 1}, 400, "g2:B:1 g1:A:2 g3:A:3"},
		{"POST", "", map[string]any{"GroupId": "g4", "PolicyType": "TeamsAppSetupPolicy", "PolicyName": "A", "Rank": 1}, 405, "g2:B:1 g1:A:2 g3:A:3"},
		{"PUT", "/g4/policyTypes/TeamsAppSetupPolicy", map[string]any{"policyName": "A", "priority": 0}, 400, "g2:B:1 g1:A:2 g3:A:3"},
		{"PATCH", "/g3/policyTypes/TeamsAppSetupPolicy", map[string]any{"priority": 1, "policyName": "B"}, 200, "g3:B:1 g2:B:2 g1:A:3"},
		{"PATCH", "/g9/policyTypes/TeamsAppSetupPolicy", map[string]any{"priority": 1}, 404, "g3:B:1 g2:B:2 g1:A:3"},
		{"GET", "/g3/policyTypes/TeamsAppSetupPolicy", nil, 200, "g3:B:1 g2:B:2 g1:A:3"},
		{"DELETE", "/g2/policyTypes/TeamsAppSetupPolicy", nil, 204, "g3:B:1 g1:A:2"},
		{"DELETE", "/g2/policyTypes/TeamsAppSetupPolicy", nil, 404, "g3:B:1 g1:A:2"},
		{"GET", "/g2/policyTypes/TeamsAppSetupPolicy", nil, 404, "g3:B:1 g1:A:2"},
	}
	for i, s := range steps {
		var body any
		if s.body != nil {
			body = s.body
		}
		st, _, raw := e.call(s.method, "/Skype.Policy/groupPolicyAssignments"+s.path, body)
		if st != s.status {
			t.Fatalf("step %d: status %d, want %d: %s", i, st, s.status, raw)
		}
		if got := ranks(e, AppSetupPolicyType); got != s.want {
			t.Fatalf("step %d: %s, want %s", i, got, s.want)
		}
	}
	// The meeting policy assignment of the seed is untouched.
	if got := ranks(e, MeetingPolicyType); got != SeedGroupID+":AllOn:1" {
		t.Errorf("meeting assignments %s", got)
	}
	for i := len(e.svc.GroupAssignments(AppSetupPolicyType)); i < MaxGroupsPerPolicyType; i++ {
		if err := e.svc.AssignGroup(fmt.Sprintf("fill-%d", i), AppSetupPolicyType, "A", 0); err != nil {
			t.Fatalf("fill %d: %v", i, err)
		}
	}
	st, _, raw := e.call("PUT", "/Skype.Policy/groupPolicyAssignments/one-too-many/policyTypes/TeamsAppSetupPolicy", map[string]any{"policyName": "A"})
	if st != 400 || !strings.Contains(string(raw), "at most 64 groups") {
		t.Fatalf("65th: %d %s", st, raw)
	}
	// Another policy type has its own 64.
	if err := e.svc.AssignGroup("one-too-many", MeetingPolicyType, "Kiosk", 0); err != nil {
		t.Fatalf("meeting type: %v", err)
	}
}

func TestPersistence(t *testing.T) {
	dir := t.TempDir()
	e := start(t, dir)
	if err := e.svc.SetMeetingPolicyField("Global", "allowtranscription", true); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.SetAppSetupPolicyField("Global", "PinnedAppBarApps", []PinnedApp{{"c4s", 1}, {AppChat, 2}}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.CreatePolicy(AppSetupPolicyType, "Sales", map[string]any{"AppPresetList": []AppRef{{"c4s"}}}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.AssignGroup("g1", AppSetupPolicyType, "Sales", 1); err != nil {
		t.Fatal(err)
	}
	if err := e.sb.Close(); err != nil {
		t.Fatal(err)
	}
	svc2 := New()
	sb2, err := sandbox.Start(sandbox.Options{Dir: dir}, svc2)
	if err != nil {
		t.Fatal(err)
	}
	defer sb2.Close()
	if svc2.MeetingPolicy("Global")["AllowTranscription"] != true {
		t.Error("meeting policy change lost")
	}
	pins := svc2.AppSetupPolicy("Global")["PinnedAppBarApps"].([]PinnedApp)
	if len(pins) != 2 || pins[0] != (PinnedApp{"c4s", 1}) {
		t.Errorf("pins after restart: %v", pins)
	}
	if p := svc2.AppSetupPolicy("Tag:Sales"); p == nil || p["AppPresetList"].([]AppRef)[0].ID != "c4s" {
		t.Errorf("named policy after restart: %v", p)
	}
	if g := svc2.GroupAssignments(AppSetupPolicyType); len(g) != 1 || g[0].GroupID != "g1" || g[0].Priority != 1 {
		t.Errorf("groups after restart: %v", g)
	}
	b, _ := svc2.MarshalState()
	svc3 := New()
	if err := svc3.UnmarshalState(b); err != nil {
		t.Fatal(err)
	}
	b3, _ := svc3.MarshalState()
	if !bytes.Equal(b, b3) {
		t.Errorf("round trip differs:\n%s\n%s", b, b3)
	}
	for name, bad := range map[string]string{
		"not json":         `{`,
		"unknown property": `{"policies":{"TeamsMeetingPolicy":[{"Identity":"Global","Bogus":1}],"TeamsAppSetupPolicy":[{"Identity":"Global"}]}}`,
		"no Global":        `{"policies":{"TeamsMeetingPolicy":[{"Identity":"Tag:X"}],"TeamsAppSetupPolicy":[{"Identity":"Global"}]}}`,
		"bad pins":         `{"policies":{"TeamsMeetingPolicy":[{"Identity":"Global"}],"TeamsAppSetupPolicy":[{"Identity":"Global","PinnedAppBarApps":[{"Id":"a"}]}]}}`,
		"group without id": `{"policies":{"TeamsMeetingPolicy":[{"Identity":"Global"}],"TeamsAppSetupPolicy":[{"Identity":"Global"}]},"groupPolicyAssignments":[{"PolicyName":"X"}]}`,
	} {
		if err := New().UnmarshalState([]byte(bad)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// Data persisted before the field was named as the service names it ("Rank") loads with ranks.
func TestRestoreOldRankField(t *testing.T) {
	old := `{"policies":{"TeamsMeetingPolicy":[{"Identity":"Global"},{"Identity":"Tag:A"}],"TeamsAppSetupPolicy":[{"Identity":"Global"},{"Identity":"Tag:B"}]},` +
		`"groupPolicyAssignments":[{"GroupId":"g1","PolicyType":"TeamsAppSetupPolicy","PolicyName":"B","Rank":1},{"GroupId":"g2","PolicyType":"TeamsMeetingPolicy","PolicyName":"A","Rank":1},{"GroupId":"g3","PolicyType":"TeamsAppSetupPolicy","PolicyName":"B","Rank":2}]}`
	svc := New()
	if err := svc.UnmarshalState([]byte(old)); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, g := range svc.GroupAssignments("") {
		got = append(got, fmt.Sprintf("%s:%d", g.GroupID, g.Priority))
	}
	if strings.Join(got, " ") != "g1:1 g3:2 g2:1" {
		t.Errorf("restored %v", got)
	}
}

func TestResetRestoresSeed(t *testing.T) {
	e := start(t, "")
	if err := e.svc.SetMeetingPolicyField("Global", "AllowTranscription", true); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.SetMeetingPolicyField("Global", "Copilot", "Never"); err == nil {
		t.Error("bad enum accepted by the helper")
	}
	if err := e.svc.SetMeetingPolicyField("Nope", "AllowTranscription", true); err == nil {
		t.Error("missing policy accepted")
	}
	e.sb.Reset()
	if e.svc.MeetingPolicy("Global")["AllowTranscription"] != false {
		t.Error("Reset kept the change")
	}
}

func TestDirectUserAssignmentByHand(t *testing.T) {
	s := New()
	if err := s.AssignUser("Ada@contoso.example", "teamsmeetingpolicy", "Tag:AllOff"); err != nil {
		t.Fatal(err)
	}
	if got := s.UserAssignments(MeetingPolicyType); got["ada@contoso.example"] != "AllOff" || len(got) != 1 {
		t.Fatalf("after assign: %v", got)
	}
	if err := s.AssignUser("ada@contoso.example", MeetingPolicyType, "NoSuchPolicy"); err == nil {
		t.Fatal("an absent policy was assigned")
	}
	b, _ := s.MarshalState()
	r := New()
	if err := r.UnmarshalState(b); err != nil || r.UserAssignments(MeetingPolicyType)["ada@contoso.example"] != "AllOff" {
		t.Fatalf("not persisted: %v %v", err, r.UserAssignments(MeetingPolicyType))
	}
	if err := s.AssignUser("ada@contoso.example", MeetingPolicyType, "Global"); err != nil || len(s.UserAssignments(MeetingPolicyType)) != 0 {
		t.Fatalf("Global did not remove the direct assignment: %v", err)
	}
}
