package teams_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/providers/providertest"
	"github.com/c4sctl/c4sctl/pkg/providers/teams"
	"github.com/c4sctl/c4sctl/pkg/sandbox"
	"github.com/c4sctl/c4sctl/pkg/sandbox/teamsapi"
	"github.com/c4sctl/c4sctl/pkg/schema"
	"github.com/zclconf/go-cty/cty"
)

// c4s stands for the Copilot for Sales Teams app id (a setting in real configurations).
const c4s = "6d1e3a2b-c4f5-4e6d-9a7b-8c9d0e1f2a3b"

var ctx = context.Background()

type harness struct {
	t   *testing.T
	c   providers.Client
	sb  *sandbox.Server
	svc *teamsapi.Service
	s   map[string]*schema.Resource
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	svc := teamsapi.New()
	p := teams.New()
	c, sb := providertest.Start(t, p, svc)
	h := &harness{t: t, c: c, sb: sb, svc: svc, s: map[string]*schema.Resource{}}
	for _, r := range p.Resources() {
		h.s[r.Type] = r
	}
	return h
}

// config builds a resource configuration: schema defaults, then the given attributes.
func (h *harness) config(typ string, set map[string]cty.Value) cty.Value {
	vals := map[string]cty.Value{}
	for _, a := range h.s[typ].Attributes {
		switch {
		case set[a.Name] != cty.NilVal:
			v, err := convert(set[a.Name], a.Type)
			if err != nil {
				h.t.Fatalf("%s: %v", a.Name, err)
			}
			vals[a.Name] = v
		case a.Default != cty.NilVal:
			vals[a.Name] = a.Default
		default:
			vals[a.Name] = cty.NullVal(a.Type)
		}
	}
	return cty.ObjectVal(vals)
}

func convert(v cty.Value, t cty.Type) (cty.Value, error) {
	if v.Type().Equals(t) {
		return v, nil
	}
	switch {
	case t.IsSetType() && (v.Type().IsListType() || v.Type().IsSetType()):
		if v.LengthInt() == 0 {
			return cty.SetValEmpty(t.ElementType()), nil
		}
		return cty.SetVal(v.AsValueSlice()), nil
	case t.IsListType() && v.Type().IsListType():
		if v.LengthInt() == 0 {
			return cty.ListValEmpty(t.ElementType()), nil
		}
	}
	return v, fmt.Errorf("type %s, want %s", v.Type().FriendlyName(), t.FriendlyName())
}

type planned struct {
	id      string
	action  providers.Action
	before  cty.Value
	after   cty.Value
	changes []string
	resp    providers.PlanResponse
	read    providers.ReadResponse
}

// plan does what the engine does: read, validate, replace managed attributes by their
// configured values, diff them, and let the provider refine the change.
func (h *harness) plan(typ, id string, cfg cty.Value) (planned, error) {
	h.t.Helper()
	for _, a := range h.s[typ].Attributes {
		v := cfg.GetAttr(a.Name)
		if a.Validate != nil && !v.IsNull() && v.IsWhollyKnown() {
			if err := a.Validate(v); err != nil {
				return planned{}, fmt.Errorf("%s: %v", a.Name, err)
			}
		}
		if err := a.CheckEnum(v); err != nil {
			return planned{}, err
		}
	}
	rr, err := h.c.Read(ctx, providers.ReadRequest{Type: typ, ID: id, Config: cfg})
	if err != nil {
		return planned{}, err
	}
	p := planned{id: rr.ID, before: rr.Value, read: rr}
	vals := map[string]cty.Value{}
	for _, a := range h.s[typ].Attributes {
		cv := cfg.GetAttr(a.Name)
		switch {
		case !cv.IsNull():
			vals[a.Name] = cv
			if rr.Value.IsNull() || !rr.Value.GetAttr(a.Name).Equals(cv).True() {
				p.changes = append(p.changes, a.Name)
			}
		case !rr.Value.IsNull():
			vals[a.Name] = rr.Value.GetAttr(a.Name)
		default:
			vals[a.Name] = cty.NullVal(a.Type)
		}
	}
	p.after = cty.ObjectVal(vals)
	switch {
	case rr.Value.IsNull():
		p.action = providers.Create
	case len(p.changes) > 0:
		p.action = providers.Update
	default:
		p.action = providers.NoOp
	}
	resp, err := h.c.(providers.ChangePlanner).PlanChange(ctx, providers.PlanRequest{Type: typ, ID: rr.ID, Action: p.action, Config: cfg, Prior: rr.Value, Planned: p.after})
	if err != nil {
		return p, err
	}
	p.resp = resp
	if resp.Action != "" {
		p.action = resp.Action
	}
	return p, nil
}

// converge plans, applies and checks that a second plan is a no-op. It returns the first plan.
func (h *harness) converge(typ string, cfg cty.Value) planned {
	h.t.Helper()
	p, err := h.plan(typ, "", cfg)
	if err != nil {
		h.t.Fatalf("plan: %v", err)
	}
	if p.action == providers.Create || p.action == providers.Update {
		if _, err := h.c.Apply(ctx, providers.ApplyRequest{Type: typ, Action: p.action, ID: p.id, Prior: p.before, Planned: p.after}); err != nil {
			h.t.Fatalf("apply %s: %v", p.action, err)
		}
	}
	again, err := h.plan(typ, "", cfg)
	if err != nil {
		h.t.Fatalf("second plan: %v", err)
	}
	if again.action != providers.NoOp {
		h.t.Fatalf("second plan is %s of %v (before %#v)", again.action, again.changes, again.before)
	}
	return p
}

func strs(xs ...string) cty.Value {
	vs := make([]cty.Value, len(xs))
	for i, x := range xs {
		vs[i] = cty.StringVal(x)
	}
	if len(vs) == 0 {
		return cty.ListValEmpty(cty.String)
	}
	return cty.ListVal(vs)
}

func pins(kv ...any) cty.Value {
	var vs []cty.Value
	for i := 0; i < len(kv); i += 2 {
		vs = append(vs, cty.ObjectVal(map[string]cty.Value{"id": cty.StringVal(kv[i].(string)), "order": cty.NumberIntVal(int64(kv[i+1].(int)))}))
	}
	if len(vs) == 0 {
		return cty.ListValEmpty(cty.Object(map[string]cty.Type{"id": cty.String, "order": cty.Number}))
	}
	return cty.ListVal(vs)
}

func groups(kv ...any) cty.Value {
	var vs []cty.Value
	for i := 0; i < len(kv); i += 2 {
		vs = append(vs, cty.ObjectVal(map[string]cty.Value{"group_id": cty.StringVal(kv[i].(string)), "rank": cty.NumberIntVal(int64(kv[i+1].(int)))}))
	}
	if len(vs) == 0 {
		return cty.ListValEmpty(cty.Object(map[string]cty.Type{"group_id": cty.String, "rank": cty.Number}))
	}
	return cty.ListVal(vs)
}

func pinOrder(p teamsapi.Policy) string {
	var parts []string
	for _, x := range p["PinnedAppBarApps"].([]teamsapi.PinnedApp) {
		name := map[string]string{teamsapi.AppActivity: "Activity", teamsapi.AppChat: "Chat", teamsapi.AppTeams: "Teams", teamsapi.AppCalendar: "Calendar", teamsapi.AppCalling: "Calling", teamsapi.AppOneDrive: "OneDrive", c4s: "C4S"}[x.ID]
		if name == "" {
			name = x.ID
		}
		parts = append(parts, fmt.Sprintf("%s%d", name, x.Order))
	}
	return strings.Join(parts, " ")
}

func appList(p teamsapi.Policy) string {
	var ids []string
	for _, a := range p["AppPresetList"].([]teamsapi.AppRef) {
		ids = append(ids, a.ID)
	}
	return strings.Join(ids, ",")
}

func TestReadGlobalMeetingPolicy(t *testing.T) {
	h := newHarness(t)
	rr, err := h.c.Read(ctx, providers.ReadRequest{Type: "teams_meeting_policy", Config: h.config("teams_meeting_policy", nil)})
	if err != nil {
		t.Fatal(err)
	}
	v := rr.Value
	if rr.ID != "Global" || v.GetAttr("identity").AsString() != "Global" || v.GetAttr("allow_transcription").True() ||
		!v.GetAttr("allow_cloud_recording").True() || v.GetAttr("copilot").AsString() != "EnabledWithTranscript" {
		t.Fatalf("Global: id %q value %#v", rr.ID, v)
	}
	// Read by state ID only (no configuration), as for resources removed from configuration.
	rr2, err := h.c.Read(ctx, providers.ReadRequest{Type: "teams_meeting_policy", ID: "Tag:AllOn", Config: cty.NullVal(h.s["teams_meeting_policy"].ImpliedType())})
	if err != nil || rr2.ID != "Tag:AllOn" || rr2.Value.GetAttr("identity").AsString() != "AllOn" || !rr2.Value.GetAttr("allow_transcription").True() {
		t.Fatalf("AllOn by id: %v %#v", err, rr2.Value)
	}
	// A named policy that does not exist is not an error.
	rr3, err := h.c.Read(ctx, providers.ReadRequest{Type: "teams_meeting_policy", Config: h.config("teams_meeting_policy", map[string]cty.Value{"identity": cty.StringVal("Nope")})})
	if err != nil || rr3.ID != "" || !rr3.Value.IsNull() {
		t.Fatalf("missing policy: %v %q %#v", err, rr3.ID, rr3.Value)
	}
}

func TestUpdateTranscription(t *testing.T) {
	h := newHarness(t)
	cfg := h.config("teams_meeting_policy", map[string]cty.Value{"allow_transcription": cty.True})
	p, err := h.plan("teams_meeting_policy", "", cfg)
	if err != nil {
		t.Fatal(err)
	}
	if p.action != providers.Update || strings.Join(p.changes, ",") != "identity,allow_transcription" && strings.Join(p.changes, ",") != "allow_transcription" {
		t.Fatalf("plan: %s %v", p.action, p.changes)
	}
	// Someone changes another setting between plan and apply: the merge must keep it.
	if err := h.svc.SetMeetingPolicyField("Global", "AllowCloudRecording", false); err != nil {
		t.Fatal(err)
	}
	h.sb.RequestLog().Reset()
	if _, err := h.c.Apply(ctx, providers.ApplyRequest{Type: "teams_meeting_policy", Action: p.action, ID: p.id, Prior: p.before, Planned: p.after}); err != nil {
		t.Fatal(err)
	}
	g := h.svc.MeetingPolicy("Global")
	if g["AllowTranscription"] != true || g["AllowCloudRecording"] != false {
		t.Fatalf("after apply: %v", g)
	}
	if n := h.sb.RequestLog().Count("PUT /teams/Skype.Policy/configurations/{type}/configuration/{identity}"); n != 1 {
		t.Errorf("%d PUTs, want 1\n%s", n, h.sb.RequestLog())
	}
	rr, err := h.c.Read(ctx, providers.ReadRequest{Type: "teams_meeting_policy", ID: "Global", Config: cfg})
	if err != nil || !rr.Value.GetAttr("allow_transcription").True() {
		t.Fatalf("re-read: %v %#v", err, rr.Value)
	}
	h.converge("teams_meeting_policy", cfg)

	// Turning it off again is allowed but warned about.
	off := h.config("teams_meeting_policy", map[string]cty.Value{"allow_transcription": cty.False})
	p, err = h.plan("teams_meeting_policy", "", off)
	if err != nil || len(p.resp.Warnings) != 1 || !strings.Contains(p.resp.Warnings[0], "transcription") {
		t.Fatalf("warning: %v %v", err, p.resp.Warnings)
	}
	// An invalid value is refused before any request.
	if _, err := h.plan("teams_meeting_policy", "", h.config("teams_meeting_policy", map[string]cty.Value{"copilot": cty.StringVal("Always")})); err == nil {
		t.Error("copilot = Always accepted")
	}
}

func TestNamedMeetingPolicyLifecycle(t *testing.T) {
	h := newHarness(t)
	cfg := h.config("teams_meeting_policy", map[string]cty.Value{
		"identity": cty.StringVal("Tag:Sellers"), "allow_transcription": cty.True, "copilot": cty.StringVal("Enabled"), "description": cty.StringVal("Copilot for Sales sellers"),
	})
	p := h.converge("teams_meeting_policy", cfg)
	if p.action != providers.Create {
		t.Fatalf("first plan %s", p.action)
	}
	got := h.svc.MeetingPolicy("Sellers")
	if got == nil || got["Identity"] != "Tag:Sellers" || got["AllowTranscription"] != true || got["Copilot"] != "Enabled" || got["AllowCloudRecording"] != true {
		t.Fatalf("created: %v", got)
	}
	// Removed from configuration: the engine plans a delete, which the provider keeps for a named policy.
	rr, _ := h.c.Read(ctx, providers.ReadRequest{Type: "teams_meeting_policy", ID: "Tag:Sellers", Config: cty.NullVal(h.s["teams_meeting_policy"].ImpliedType())})
	resp, err := h.c.(providers.ChangePlanner).PlanChange(ctx, providers.PlanRequest{Type: "teams_meeting_policy", ID: rr.ID, Action: providers.Delete, Prior: rr.Value})
	if err != nil || resp.Action != "" {
		t.Fatalf("delete refinement: %v %q", err, resp.Action)
	}
	if _, err := h.c.Apply(ctx, providers.ApplyRequest{Type: "teams_meeting_policy", Action: providers.Delete, ID: rr.ID, Prior: rr.Value}); err != nil {
		t.Fatal(err)
	}
	if h.svc.MeetingPolicy("Sellers") != nil {
		t.Fatal("still exists")
	}
	// Global is never deleted: forgotten, and Apply refuses.
	g, _ := h.c.Read(ctx, providers.ReadRequest{Type: "teams_meeting_policy", ID: "Global", Config: cty.NullVal(h.s["teams_meeting_policy"].ImpliedType())})
	resp, err = h.c.(providers.ChangePlanner).PlanChange(ctx, providers.PlanRequest{Type: "teams_meeting_policy", ID: g.ID, Action: providers.Delete, Prior: g.Value})
	if err != nil || resp.Action != providers.Forget {
		t.Fatalf("Global delete refinement: %v %q", err, resp.Action)
	}
	if _, err := h.c.Apply(ctx, providers.ApplyRequest{Type: "teams_meeting_policy", Action: providers.Delete, ID: "Global", Prior: g.Value}); err == nil {
		t.Fatal("Apply deleted Global")
	}
}

func TestAppSetupPinAndInstall(t *testing.T) {
	h := newHarness(t)
	cfg := func(order int) cty.Value {
		return h.config("teams_app_setup_policy", map[string]cty.Value{"app_preset_list": strs(c4s), "pinned_app_bar_apps": pins(c4s, order)})
	}
	p := h.converge("teams_app_setup_policy", cfg(2))
	if p.action != providers.Update || strings.Join(p.changes, ",") != "app_preset_list,pinned_app_bar_apps" {
		t.Fatalf("first plan: %s %v", p.action, p.changes)
	}
	if before := p.before.GetAttr("app_preset_list"); before.LengthInt() != 0 {
		t.Errorf("plan's before shows unmanaged apps: %#v", before)
	}
	g := h.svc.AppSetupPolicy("Global")
	if got := appList(g); got != teamsapi.AppVivaConnections+","+c4s {
		t.Errorf("installed apps %s", got)
	}
	if got := pinOrder(g); got != "Activity1 C4S2 Chat3 Teams4 Calendar5 Calling6 OneDrive7" {
		t.Errorf("pinned %s", got)
	}
	for _, tc := range []struct {
		name  string
		order int
		want  string
	}{
		{"move down", 5, "Activity1 Chat2 Teams3 Calendar4 C4S5 Calling6 OneDrive7"},
		{"first", 1, "C4S1 Activity2 Chat3 Teams4 Calendar5 Calling6 OneDrive7"},
		{"last", 7, "Activity1 Chat2 Teams3 Calendar4 Calling5 OneDrive6 C4S7"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h.converge("teams_app_setup_policy", cfg(tc.order))
			if got := pinOrder(h.svc.AppSetupPolicy("Global")); got != tc.want {
				t.Errorf("pinned %s, want %s", got, tc.want)
			}
		})
	}
	// Drift by hand: someone unpins the app; the plan shows it and apply restores it.
	if err := h.svc.SetAppSetupPolicyField("Global", "PinnedAppBarApps", []teamsapi.PinnedApp{{ID: teamsapi.AppChat, Order: 1}, {ID: teamsapi.AppActivity, Order: 2}}); err != nil {
		t.Fatal(err)
	}
	p = h.converge("teams_app_setup_policy", cfg(2))
	if strings.Join(p.changes, ",") != "pinned_app_bar_apps" {
		t.Fatalf("drift plan %v", p.changes)
	}
	if got := pinOrder(h.svc.AppSetupPolicy("Global")); got != "Chat1 C4S2 Activity3" {
		t.Errorf("after drift repair %s", got)
	}
	// An order past the end of the list is refused at plan time.
	if _, err := h.plan("teams_app_setup_policy", "", cfg(9)); err == nil || !strings.Contains(err.Error(), "from 1 to 3") {
		t.Fatalf("order 9: %v", err)
	}
	// exclusive: exactly the declared apps.
	ex := h.config("teams_app_setup_policy", map[string]cty.Value{"app_preset_list": strs(c4s), "pinned_app_bar_apps": pins(c4s, 1, teamsapi.AppChat, 2), "exclusive": cty.True, "allow_user_pinning": cty.False})
	p = h.converge("teams_app_setup_policy", ex)
	g = h.svc.AppSetupPolicy("Global")
	if appList(g) != c4s || pinOrder(g) != "C4S1 Chat2" || g["AllowUserPinning"] != false || g["AllowSideLoading"] != true {
		t.Errorf("exclusive: %s / %s / %v", appList(g), pinOrder(g), g)
	}
	if _, err := h.plan("teams_app_setup_policy", "", h.config("teams_app_setup_policy", map[string]cty.Value{"pinned_app_bar_apps": pins(c4s, 2), "exclusive": cty.True})); err == nil {
		t.Error("exclusive list with a gap accepted")
	}
}

func TestValidation(t *testing.T) {
	h := newHarness(t)
	for _, tc := range []struct {
		name string
		set  map[string]cty.Value
		want string
	}{
		{"duplicate pin", map[string]cty.Value{"pinned_app_bar_apps": pins(c4s, 1, c4s, 2)}, "pinned twice"},
		{"same order", map[string]cty.Value{"pinned_app_bar_apps": pins(c4s, 1, teamsapi.AppChat, 1)}, "order 1"},
		{"order zero", map[string]cty.Value{"pinned_app_bar_apps": pins(c4s, 0)}, "whole number"},
		{"rank 65", map[string]cty.Value{"identity": cty.StringVal("X"), "groups": groups("g", 65)}, "rank"},
		{"duplicate group", map[string]cty.Value{"identity": cty.StringVal("X"), "groups": groups("g", 1, "g", 2)}, "twice"},
		{"groups on Global", map[string]cty.Value{"groups": groups("g", 1)}, "Global"},
		{"bad identity", map[string]cty.Value{"identity": cty.StringVal("a/b")}, "policy name"},
		{"null app id", map[string]cty.Value{"app_preset_list": cty.SetVal([]cty.Value{cty.NullVal(cty.String)})}, "got null"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.plan("teams_app_setup_policy", "", h.config("teams_app_setup_policy", tc.set))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestNamedSetupPolicyWithGroups(t *testing.T) {
	h := newHarness(t)
	// Another setup policy already holds a group at rank 1.
	if err := h.svc.AssignGroup("frontline", teamsapi.AppSetupPolicyType, "FirstlineWorker", 1); err != nil {
		t.Fatal(err)
	}
	cfg := h.config("teams_app_setup_policy", map[string]cty.Value{
		"identity": cty.StringVal("Copilot for Sales"), "app_preset_list": strs(c4s), "pinned_app_bar_apps": pins(c4s, 1),
		"groups": groups("sellers", 1, "managers", 3),
	})
	p := h.converge("teams_app_setup_policy", cfg)
	if p.action != providers.Create {
		t.Fatalf("plan %s", p.action)
	}
	pol := h.svc.AppSetupPolicy("Copilot for Sales")
	if pol == nil || pinOrder(pol) != "C4S1" || appList(pol) != c4s {
		t.Fatalf("created %v", pol)
	}
	if got := assignments(h); got != "sellers:Copilot for Sales:1 frontline:FirstlineWorker:2 managers:Copilot for Sales:3" {
		t.Fatalf("assignments %s", got)
	}
	// The module's routes: New is a PUT to the assignment's path, never a POST to the root
	// (which the sandbox answers 405, as a route without that verb does).
	const one = "/teams/Skype.Policy/groupPolicyAssignments/{groupId}/policyTypes/{policyType}"
	if n := h.sb.RequestLog().Count("PUT " + one); n != 2 {
		t.Errorf("%d assignment PUTs, want 2", n)
	}
	if n := h.sb.RequestLog().Count("POST /teams/Skype.Policy/groupPolicyAssignments"); n != 0 {
		t.Errorf("%d POSTs to the collection root", n)
	}
	// Re-rank and drop a group.
	h.converge("teams_app_setup_policy", h.config("teams_app_setup_policy", map[string]cty.Value{"identity": cty.StringVal("Copilot for Sales"), "groups": groups("managers", 1)}))
	if got := assignments(h); got != "managers:Copilot for Sales:1 frontline:FirstlineWorker:2" {
		t.Fatalf("after re-rank %s", got)
	}
	if n := h.sb.RequestLog().Count("PATCH " + one); n != 1 {
		t.Errorf("%d assignment PATCHes for the re-rank, want 1", n)
	}
	// A group is moved from another policy (with a warning at plan time).
	mv := h.config("teams_app_setup_policy", map[string]cty.Value{"identity": cty.StringVal("Copilot for Sales"), "groups": groups("managers", 1, "frontline", 2)})
	p, err := h.plan("teams_app_setup_policy", "", mv)
	if err != nil || len(p.read.Warnings) != 1 || !strings.Contains(p.read.Warnings[0], "FirstlineWorker") {
		t.Fatalf("move warning: %v %v", err, p.read.Warnings)
	}
	h.converge("teams_app_setup_policy", mv)
	if got := assignments(h); got != "managers:Copilot for Sales:1 frontline:Copilot for Sales:2" {
		t.Fatalf("after move %s", got)
	}
	// Delete removes the assignments first.
	rr, _ := h.c.Read(ctx, providers.ReadRequest{Type: "teams_app_setup_policy", ID: "Tag:Copilot for Sales", Config: cty.NullVal(h.s["teams_app_setup_policy"].ImpliedType())})
	if rr.Value.GetAttr("groups").LengthInt() != 2 {
		t.Fatalf("read by id: %#v", rr.Value)
	}
	if _, err := h.c.Apply(ctx, providers.ApplyRequest{Type: "teams_app_setup_policy", Action: providers.Delete, ID: rr.ID, Prior: rr.Value}); err != nil {
		t.Fatal(err)
	}
	if h.svc.AppSetupPolicy("Copilot for Sales") != nil || assignments(h) != "" {
		t.Fatalf("after delete: %s", assignments(h))
	}
}

func assignments(h *harness) string {
	var parts []string
	for _, g := range h.svc.GroupAssignments(teamsapi.AppSetupPolicyType) {
		parts = append(parts, fmt.Sprintf("%s:%s:%d", g.GroupID, g.PolicyName, g.Priority))
	}
	return strings.Join(parts, " ")
}

func TestGroupLimit(t *testing.T) {
	h := newHarness(t)
	for i := 0; i < teamsapi.MaxGroupsPerPolicyType-1; i++ {
		if err := h.svc.AssignGroup(fmt.Sprintf("g%02d", i), teamsapi.AppSetupPolicyType, "FirstlineWorker", 0); err != nil {
			t.Fatal(err)
		}
	}
	cfg := func(gs ...any) cty.Value {
		return h.config("teams_app_setup_policy", map[string]cty.Value{"identity": cty.StringVal("C4S"), "groups": groups(gs...)})
	}
	// 63 + 2 > 64: refused at plan time, with what to do.
	_, err := h.plan("teams_app_setup_policy", "", cfg("a", 1, "b", 2))
	if err == nil || !strings.Contains(err.Error(), "at most 64") || !strings.Contains(err.Error(), "65") {
		t.Fatalf("limit: %v", err)
	}
	// 63 + 1 = 64 fits; moving one of the existing groups adds none.
	h.converge("teams_app_setup_policy", cfg("a", 64))
	h.converge("teams_app_setup_policy", cfg("a", 64, "g00", 63))
	if n := len(h.svc.GroupAssignments(teamsapi.AppSetupPolicyType)); n != 64 {
		t.Fatalf("%d assignments", n)
	}
	// The service's own refusal is reported clearly at apply time: plan with room for one more
	// group, then someone else takes the last slot before apply.
	h.converge("teams_app_setup_policy", cfg("a", 63))
	p, err := h.plan("teams_app_setup_policy", "", cfg("a", 63, "b", 64))
	if err != nil {
		t.Fatal(err)
	}
	if err := h.svc.AssignGroup("late", teamsapi.AppSetupPolicyType, "FirstlineWorker", 0); err != nil {
		t.Fatal(err)
	}
	_, err = h.c.Apply(ctx, providers.ApplyRequest{Type: "teams_app_setup_policy", Action: p.action, ID: p.id, Prior: p.before, Planned: p.after})
	if err == nil || !strings.Contains(err.Error(), "400") || !strings.Contains(err.Error(), "at most 64 groups") || !strings.Contains(err.Error(), "group b") {
		t.Fatalf("apply past the limit: %v", err)
	}
}

func TestAuthErrors(t *testing.T) {
	h := newHarness(t)
	// An app without the Teams Administrator role: 403 with what to do, and no secret.
	secret := "another-secret-value-1234"
	h.sb.Apps().Put(&sandbox.App{ClientID: "11111111-1111-4111-8111-111111111111", Secret: secret, ObjectID: "22222222-2222-4222-8222-222222222222", DisplayName: "no role"})
	c, err := providertest.Configure(teams.New(), h.sb, map[string]cty.Value{"client_id": cty.StringVal("11111111-1111-4111-8111-111111111111"), "client_secret": cty.StringVal(secret)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Read(ctx, providers.ReadRequest{Type: "teams_meeting_policy", Config: h.config("teams_meeting_policy", nil)})
	if err == nil || !strings.Contains(err.Error(), "403") || !strings.Contains(err.Error(), "Teams Administrator role") || strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "Bearer") {
		t.Fatalf("403: %v", err)
	}
	// A wrong secret: the sign-in fails, and the secret is not in the error.
	c, err = providertest.Configure(teams.New(), h.sb, map[string]cty.Value{"client_secret": cty.StringVal("wrong-" + secret)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Read(ctx, providers.ReadRequest{Type: "teams_meeting_policy", Config: h.config("teams_meeting_policy", nil)})
	if err == nil || strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), sandbox.ClientSecret) {
		t.Fatalf("wrong secret: %v", err)
	}
	// endpoint must be https.
	if _, err := providertest.Configure(teams.New(), h.sb, map[string]cty.Value{"endpoint": cty.StringVal("http://example.com")}); err == nil {
		t.Error("http endpoint accepted")
	}
}

func TestErrorBodies(t *testing.T) {
	h := newHarness(t)
	var mu sync.Mutex
	var status int
	var body, sawToken string
	inject := func(st int, b string) { mu.Lock(); status, body = st, b; mu.Unlock() }
	token := func() string { mu.Lock(); defer mu.Unlock(); return sawToken }
	h.sb.Use(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			st, b := status, body
			if st != 0 && strings.HasPrefix(r.URL.Path, "/teams/") {
				sawToken = strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
			}
			mu.Unlock()
			if st == 0 || !strings.HasPrefix(r.URL.Path, "/teams/") {
				next.ServeHTTP(w, r)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(st)
			_, _ = w.Write([]byte(b))
		})
	})
	for _, tc := range []struct {
		name   string
		status int
		body   string
		want   []string
	}{
		{"error envelope", 400, `{"error":{"code":"BadRequest","message":"AllowTranscription is read-only today"}}`, []string{"GET /Skype.Policy/configurations/TeamsMeetingPolicy/configuration/Global", "400 Bad Request", "AllowTranscription is read-only today"}},
		{"Message body", 500, `{"Message":"An error has occurred."}`, []string{"500", "An error has occurred.", "run again later"}},
		{"forbidden", 403, `{"error":{"code":"Forbidden","message":"denied"}}`, []string{"403", "denied", "Teams Administrator role"}},
		{"unauthorized", 401, ``, []string{"401", "(no message)", "scope 48ac35b8-9aa8-4d74-927d-1f4a14a0b239/.default"}},
		{"throttled", 429, `too many`, []string{"429", "too many", "wait a few minutes"}},
		{"html", 502, "<html>\n<body>" + strings.Repeat("bad gateway ", 100) + "</body></html>", []string{"502", "<html> <body>bad gateway", "…"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inject(tc.status, tc.body)
			defer inject(0, "")
			_, err := h.c.Read(ctx, providers.ReadRequest{Type: "teams_meeting_policy", Config: h.config("teams_meeting_policy", nil)})
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if tok := token(); tok == "" || strings.Contains(err.Error(), tok) || len(err.Error()) > 1000 {
				t.Errorf("error leaks the token or is too long: %q", err)
			}
		})
	}
	// An answer that is not JSON where JSON is expected is an error, not a panic or a zero value.
	inject(200, `[1,2`)
	_, err := h.c.Read(ctx, providers.ReadRequest{Type: "teams_app_setup_policy", Config: h.config("teams_app_setup_policy", nil)})
	if err == nil || !strings.Contains(err.Error(), "unexpected answer") {
		t.Fatalf("bad JSON: %v", err)
	}
	inject(200, `null`)
	_, err = h.c.Read(ctx, providers.ReadRequest{Type: "teams_meeting_policy", Config: h.config("teams_meeting_policy", nil)})
	if err == nil {
		t.Fatal("null policy accepted")
	}
	inject(0, "")
}

func TestDebugLogHasNoSecrets(t *testing.T) {
	h := newHarness(t)
	var buf bytes.Buffer
	env := providertest.Env(h.sb)
	env.Log = slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	p := teams.New()
	c, err := p.Configure(ctx, providertest.ConfigValue(p, h.sb.URL, nil), env)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Read(ctx, providers.ReadRequest{Type: "teams_meeting_policy", Config: h.config("teams_meeting_policy", nil)}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.Contains(out, "status=200") || !strings.Contains(out, "TeamsMeetingPolicy") {
		t.Errorf("debug log lacks the request: %q", out)
	}
	if strings.Contains(out, sandbox.ClientSecret) || strings.Contains(out, "Bearer") || strings.Contains(out, "eyJ") {
		t.Errorf("debug log leaks a secret: %q", out)
	}
}

func TestNullElementsDoNotPanic(t *testing.T) {
	h := newHarness(t)
	pinT := cty.Object(map[string]cty.Type{"id": cty.String, "order": cty.Number})
	cfg := h.config("teams_app_setup_policy", map[string]cty.Value{
		"identity":            cty.StringVal("Sellers"),
		"app_preset_list":     cty.SetVal([]cty.Value{cty.NullVal(cty.String), cty.StringVal(c4s)}),
		"pinned_app_bar_apps": cty.ListVal([]cty.Value{cty.ObjectVal(map[string]cty.Value{"id": cty.NullVal(cty.String), "order": cty.NullVal(cty.Number)}), cty.NullVal(pinT)}),
		"groups":              cty.ListVal([]cty.Value{cty.ObjectVal(map[string]cty.Value{"group_id": cty.NullVal(cty.String), "rank": cty.NumberIntVal(1)})}),
	})
	if _, err := h.plan("teams_app_setup_policy", "", cfg); err == nil {
		t.Error("null elements accepted by validation")
	}
	if err := h.svc.CreatePolicy(teamsapi.AppSetupPolicyType, "Sellers", nil); err != nil {
		t.Fatal(err)
	}
	rr, err := h.c.Read(ctx, providers.ReadRequest{Type: "teams_app_setup_policy", Config: cfg})
	if err != nil || rr.ID != "Tag:Sellers" {
		t.Fatalf("read: %v %q", err, rr.ID)
	}
}

// Named policy creation: c4sctl POSTs to the type's collection; a service that answers that
// with 405 (or 404) gets the other documented form, a PUT to the new instance, and the log says so.
func TestNamedPolicyCreationFallsBackToPut(t *testing.T) {
	for _, byPut := range []bool{false, true} {
		h := newHarness(t)
		if err := h.sb.Mutate(func() error { h.svc.CreateByPut = byPut; return nil }); err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		env := providertest.Env(h.sb)
		env.Log = slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
		p := teams.New()
		c, err := p.Configure(ctx, providertest.ConfigValue(p, h.sb.URL, nil), env)
		if err != nil {
			t.Fatal(err)
		}
		h.c = c
		h.converge("teams_meeting_policy", h.config("teams_meeting_policy", map[string]cty.Value{"identity": cty.StringVal("Sellers"), "allow_transcription": cty.True}))
		if got := h.svc.MeetingPolicy("Sellers"); got == nil || got["AllowTranscription"] != true {
			t.Fatalf("byPut=%v: created %v", byPut, got)
		}
		logged := strings.Contains(buf.String(), "creating it by PUT to the instance instead")
		puts := h.sb.RequestLog().Count("PUT /teams/Skype.Policy/configurations/{type}/configuration/{identity}")
		if logged != byPut || (puts == 1) != byPut {
			t.Errorf("byPut=%v: fallback logged %v, %d PUTs; log %s", byPut, logged, puts, buf.String())
		}
	}
}

// A named meeting policy assigned to groups: the module's routes with the meeting policy type,
// ranks shared with the seed's AllOn assignment, and apps setup assignments left alone.
func TestNamedMeetingPolicyWithGroups(t *testing.T) {
	h := newHarness(t)
	if err := h.svc.AssignGroup("contractors", teamsapi.AppSetupPolicyType, "FirstlineWorker", 1); err != nil {
		t.Fatal(err)
	}
	cfg := h.config("teams_meeting_policy", map[string]cty.Value{
		"identity": cty.StringVal("Sellers"), "allow_transcription": cty.True, "groups": groups("sellers", 1),
	})
	p := h.converge("teams_meeting_policy", cfg)
	if p.action != providers.Create {
		t.Fatalf("plan %s", p.action)
	}
	meeting := func() string {
		var parts []string
		for _, g := range h.svc.GroupAssignments(teamsapi.MeetingPolicyType) {
			parts = append(parts, fmt.Sprintf("%s:%s:%d", g.GroupID, g.PolicyName, g.Priority))
		}
		return strings.Join(parts, " ")
	}
	if got := meeting(); got != "sellers:Sellers:1 "+teamsapi.SeedGroupID+":AllOn:2" {
		t.Fatalf("meeting assignments %s", got)
	}
	if got := assignments(h); got != "contractors:FirstlineWorker:1" {
		t.Fatalf("app setup assignments touched: %s", got)
	}
	if n := h.sb.RequestLog().Count("PUT /teams/Skype.Policy/groupPolicyAssignments/{groupId}/policyTypes/{policyType}"); n != 1 {
		t.Errorf("%d assignment PUTs, want 1", n)
	}
	// Re-ranked by hand in the admin centre: drift on groups, fixed by apply.
	if err := h.svc.AssignGroup("other", teamsapi.MeetingPolicyType, "AllOff", 1); err != nil {
		t.Fatal(err)
	}
	p, err := h.plan("teams_meeting_policy", "Tag:Sellers", cfg)
	if err != nil || p.action != providers.Update {
		t.Fatalf("after a re-rank by hand: %v %s", err, p.action)
	}
	h.converge("teams_meeting_policy", cfg)
	if got := meeting(); !strings.HasPrefix(got, "sellers:Sellers:1 ") {
		t.Fatalf("after apply %s", got)
	}
	// Groups on Global are refused at plan time.
	if _, err := h.plan("teams_meeting_policy", "", h.config("teams_meeting_policy", map[string]cty.Value{"groups": groups("g", 1)})); err == nil || !strings.Contains(err.Error(), "Global") {
		t.Fatalf("groups on Global: %v", err)
	}
	// Delete unassigns first (the service refuses to delete an assigned policy).
	rr, _ := h.c.Read(ctx, providers.ReadRequest{Type: "teams_meeting_policy", ID: "Tag:Sellers", Config: cty.NullVal(h.s["teams_meeting_policy"].ImpliedType())})
	if _, err := h.c.Apply(ctx, providers.ApplyRequest{Type: "teams_meeting_policy", Action: providers.Delete, ID: rr.ID, Prior: rr.Value}); err != nil {
		t.Fatal(err)
	}
	if h.svc.MeetingPolicy("Sellers") != nil || strings.Contains(meeting(), "Sellers") {
		t.Fatalf("after delete: %s", meeting())
	}
}

// The recording, captions and Copilot settings round-trip through the service; a value the
// service refuses is refused by the sandbox with its 400, and by the schema before any request.
func TestMeetingPolicyCaptionsAndCopilot(t *testing.T) {
	h := newHarness(t)
	cfg := h.config("teams_meeting_policy", map[string]cty.Value{
		"allow_transcription": cty.True, "copilot": cty.StringVal("EnabledWithTranscriptDefaultOn"),
		"live_captions_enabled_type": cty.StringVal("Disabled"), "allow_cloud_recording": cty.False,
	})
	p, err := h.plan("teams_meeting_policy", "", cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.c.Apply(ctx, providers.ApplyRequest{Type: "teams_meeting_policy", Action: p.action, ID: p.id, Prior: p.before, Planned: p.after}); err != nil {
		t.Fatal(err)
	}
	g := h.svc.MeetingPolicy("Global")
	if g["LiveCaptionsEnabledType"] != "Disabled" || g["Copilot"] != "EnabledWithTranscriptDefaultOn" || g["AllowCloudRecording"] != false {
		t.Fatalf("after apply: %v", g)
	}
	h.converge("teams_meeting_policy", cfg)
	if _, err := h.plan("teams_meeting_policy", "", h.config("teams_meeting_policy", map[string]cty.Value{"live_captions_enabled_type": cty.StringVal("EnabledUserOverride")})); err == nil {
		t.Error("live_captions_enabled_type = EnabledUserOverride (deprecated) accepted")
	}
	err = h.svc.SetMeetingPolicyField("Global", "LiveCaptionsEnabledType", "Enabled")
	if err == nil || !strings.Contains(err.Error(), "DisabledUserOverride, Disabled") {
		t.Errorf("sandbox accepted LiveCaptionsEnabledType Enabled: %v", err)
	}
}
