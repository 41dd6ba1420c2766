package m365_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/c4sctl/c4sctl/internal/filemode"
	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/providers/m365"
	"github.com/c4sctl/c4sctl/pkg/providers/providertest"
	"github.com/c4sctl/c4sctl/pkg/sandbox"
	"github.com/c4sctl/c4sctl/pkg/sandbox/graphapi"
	"github.com/zclconf/go-cty/cty"
)

func quickstartResources() []m365.PreflightResource {
	return []m365.PreflightResource{
		{Addr: "teams_meeting_policy.global", Type: "teams_meeting_policy", Config: cty.NullVal(cty.DynamicPseudoType)},
		{Addr: "teams_app_setup_policy.copilot", Type: "teams_app_setup_policy", Config: cty.NullVal(cty.DynamicPseudoType)},
		{Addr: "m365_license_assignment.sellers", Type: "m365_license_assignment", Config: licCfg(map[string]cty.Value{"group_name": cty.StringVal("Sellers")})},
		{Addr: "powerplatform_dlp_policy.x", Type: "powerplatform_dlp_policy", Config: cty.NullVal(cty.DynamicPseudoType)},
	}
}

func TestPreflightPassesForTheQuickstartAndNamesWhatIsMissing(t *testing.T) {
	c, sb, svc := start(t)
	ctx := context.Background()
	rep, err := c.Preflight(ctx, quickstartResources())
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	rep.Write(&out)
	if rep.Blocking() != 0 {
		t.Fatalf("quickstart blocked:\n%s", out.String())
	}
	if strings.Contains(out.String(), "Nothing blocks apply") {
		t.Errorf("the verdict says nothing blocks apply with an item not checked:\n%s", out.String())
	}
	for _, want := range []string{
		"app " + sandbox.ClientID + " (service principal " + sandbox.AppObjectID,
		"Teams Administrator: held, needed by teams_app_setup_policy.copilot, teams_meeting_policy.global",
		"LicenseAssignment.ReadWrite.All",
		"licence Microsoft_365_Copilot: 250 of 300 seats free",
		"m365_license_assignment.sellers: Microsoft_365_Copilot seats: 200 needed, 250 free",
		"[not checked] what these need is not known to the Microsoft 365 check: powerplatform_dlp_policy.x",
		"Nothing checked blocks apply, but 1 item(s) were not checked",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("checklist lacks %q:\n%s", want, out.String())
		}
	}
	// Take Teams Administrator away and ask for All Sales: two blocking lines.
	_ = sb.Mutate(func() error { svc.RemoveRoleMember(graphapi.TeamsAdminTemplate, sandbox.AppObjectID); return nil })
	res := quickstartResources()
	res[2].Config = licCfg(map[string]cty.Value{"group_name": cty.StringVal("All Sales")})
	rep, err = c.Preflight(ctx, res)
	if err != nil {
		t.Fatal(err)
	}
	out.Reset()
	rep.Write(&out)
	if rep.Blocking() != 2 {
		t.Fatalf("blocking = %d, want 2:\n%s", rep.Blocking(), out.String())
	}
	for _, want := range []string{
		"[MISSING]     Teams Administrator: missing, needed by teams_app_setup_policy.copilot, teams_meeting_policy.global",
		"needs 300 more but only 250 are free",
		"2 item(s) block apply; 1 item(s) were not checked",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("checklist lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), sandbox.ClientSecret) || strings.Contains(out.String(), "eyJ") {
		t.Fatal("secret or token in the checklist")
	}
}

func TestDecodeClaimsNeverPanics(t *testing.T) {
	for _, tok := range []string{"", "a.b", "a.b.c", "a.!!!.c", "a." + "bnVsbA" + ".c", "x.eyJyb2xlcyI6MX0.y"} {
		_, _ = m365.DecodeClaims(tok)
	}
	c, err := m365.DecodeClaims("h.eyJhcHBpZCI6ImEiLCJzY3AiOiJVc2VyLlJlYWQiLCJ1cG4iOiJ1QHgifQ.s")
	if err != nil || !c.Delegated() || c.AppID != "a" || c.Permissions()[0] != "User.Read" {
		t.Fatalf("%+v %v", c, err)
	}
}

func TestWelcomeRendersPreviewsAndNeverSendsTwice(t *testing.T) {
	c, sb, svc := start(t)
	ctx := context.Background()
	// A small seller group keeps the test fast; the limits are the real ones scaled up.
	_ = sb.Mutate(func() error {
		svc.Tenant().Groups = append(svc.Tenant().Groups, &graphapi.Group{ID: "5a11e500-0000-4000-8000-0000000000aa", DisplayName: "Pilot sellers",
			Members: []string{graphapi.UserID(1), graphapi.UserID(2), graphapi.UserID(3), graphapi.UserID(4), graphapi.UserID(5)}})
		svc.Reindex()
		return nil
	})
	record := filepath.Join(t.TempDir(), ".c4sctl", "welcome-sent.json")
	opts := m365.WelcomeOptions{Group: "Pilot sellers", Sender: graphapi.SenderUPN, RecordPath: record, PerMinute: 6000}
	res, err := c.Welcome(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.PendingCount != 5 || len(svc.Sent()) != 0 {
		t.Fatalf("preview: pending %d, sent %d", res.PendingCount, len(svc.Sent()))
	}
	if !strings.Contains(res.PreviewHTML, "up to 48 hours") || !strings.Contains(res.PreviewSubj, "Welcome to Copilot for Sales") {
		t.Fatalf("preview lacks the 48-hour hint or subject: %q %q", res.PreviewSubj, res.PreviewHTML)
	}
	if _, err := os.Stat(record); err == nil {
		t.Fatal("preview wrote the record")
	}
	opts.Send = true
	res, err = c.Welcome(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	sent := svc.Sent()
	if len(res.Sent) != 5 || len(sent) != 5 {
		t.Fatalf("sent %d (sandbox %d), want 5", len(res.Sent), len(sent))
	}
	if sent[0].From != graphapi.SenderUPN || len(sent[0].To) != 1 || !strings.Contains(sent[0].Body, "48 hours") || sent[0].ContentType != "html" {
		t.Fatalf("message: %+v", sent[0])
	}
	st, err := os.Stat(record)
	if err != nil || (filemode.Enforced && st.Mode().Perm() != 0o600) {
		t.Fatalf("record: %v %v", err, st)
	}
	// Rerun after a sixth seller joins: only the newcomer is mailed.
	_ = sb.Mutate(func() error {
		g := svc.Tenant().Groups[len(svc.Tenant().Groups)-1]
		g.Members = append(g.Members, graphapi.UserID(6))
		svc.Reindex()
		return nil
	})
	res, err = c.Welcome(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Sent) != 1 || len(res.AlreadySent) != 5 || len(svc.Sent()) != 6 || res.Sent[0] != graphapi.UserUPN(6) {
		t.Fatalf("rerun: sent %v, skipped %d, sandbox total %d", res.Sent, len(res.AlreadySent), len(svc.Sent()))
	}
	// A custom template with an HTML-hostile name is escaped; a broken one mails nobody.
	tmpl, err := m365.ParseWelcome("Subject: Hi {{.FirstName}}\n\n<p>{{.Name}}</p>")
	if err != nil {
		t.Fatal(err)
	}
	_, html, _ := tmpl.Render(m365.WelcomeData{FirstName: "A", Name: "<script>x</script>"})
	if strings.Contains(html, "<script>") {
		t.Fatalf("not escaped: %s", html)
	}
	if _, err := m365.ParseWelcome("no subject line"); err == nil {
		t.Fatal("template without subject accepted")
	}
	opts.Template = "Subject: x\n\n{{.Nope}}"
	_ = os.Remove(record)
	before := len(svc.Sent())
	if _, err := c.Welcome(ctx, opts); err == nil || len(svc.Sent()) != before {
		t.Fatalf("broken template: %v, sent %d", err, len(svc.Sent())-before)
	}
	// A corrupt record refuses to send.
	_ = os.WriteFile(record, []byte("{"), 0o600)
	opts.Template = ""
	if _, err := c.Welcome(ctx, opts); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Fatalf("corrupt record: %v", err)
	}
}

func appCfg(set map[string]cty.Value) cty.Value {
	var typ cty.Type
	for _, r := range m365.New().Resources() {
		if r.Type == "m365_integrated_app" {
			typ = r.ImpliedType()
		}
	}
	if _, ok := set["display_name"]; !ok {
		set["display_name"] = cty.StringVal(m365.Defaults.AppName)
	}
	return providertest.Object(typ, set)
}

func TestIntegratedAppDeploysThroughPackageAPI(t *testing.T) {
	c, sb, _ := start(t)
	ctx := context.Background()
	cfg := appCfg(map[string]cty.Value{"groups": cty.SetVal([]cty.Value{cty.StringVal("Sellers")})})
	rr, pr, err := plan(t, c, "m365_integrated_app", cfg)
	if err != nil {
		t.Fatal(err)
	}
	if rr.ID != "" || pr.Action == providers.Manual {
		t.Fatalf("seed: id %q action %q", rr.ID, pr.Action)
	}
	if !strings.Contains(strings.Join(pr.Notes, " "), "24 hours") {
		t.Fatalf("notes: %q", pr.Notes)
	}
	ar, err := c.Apply(ctx, providers.ApplyRequest{Type: "m365_integrated_app", Action: providers.Create, Planned: cfg})
	if err != nil {
		t.Fatal(err)
	}
	if ar.ID != graphapi.SalesPackageID || !strings.Contains(strings.Join(ar.Notes, " "), "24 hours") {
		t.Fatalf("apply: %+v", ar)
	}
	if sb.RequestLog().Count("PATCH /graph/beta/copilot/admin/catalog/packages/{id}") != 1 {
		t.Fatalf("no beta PATCH:\n%s", sb.RequestLog())
	}
	// Learn documents the package reads under /beta only (docs/api/graph.md "Version").
	if sb.RequestLog().Count("GET /graph/beta/copilot/admin/catalog/packages") == 0 || sb.RequestLog().Count("GET /graph/v1.0/copilot/admin/catalog/packages") != 0 {
		t.Fatalf("package list not read through /beta:\n%s", sb.RequestLog())
	}
	rr, err = c.Read(ctx, providers.ReadRequest{Type: "m365_integrated_app", ID: ar.ID, Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	if !rr.Value.GetAttr("groups").Equals(cty.SetVal([]cty.Value{cty.StringVal("Sellers")})).True() || rr.Value.GetAttr("deployed_to").AsString() != "some" {
		t.Fatalf("read back: %#v", rr.Value)
	}

	// Delete (destroy, or the block removed) un-deploys the package, which stays in the catalog:
	// the deployment is gone, so the re-read by id that apply makes after a delete finds none
	// (it reported "the object still exists" and destroy failed).
	if _, err := c.Apply(ctx, providers.ApplyRequest{Type: "m365_integrated_app", Action: providers.Delete, ID: ar.ID, Prior: rr.Value}); err != nil {
		t.Fatal(err)
	}
	rr, err = c.Read(ctx, providers.ReadRequest{Type: "m365_integrated_app", ID: ar.ID, Config: cty.NullVal(rr.Value.Type())})
	if err != nil || rr.ID != "" || !rr.Value.IsNull() {
		t.Fatalf("read after delete: id %q value %#v err %v, want no deployment", rr.ID, rr.Value, err)
	}
}

func TestIntegratedAppFallsBackToManualSteps(t *testing.T) {
	c, sb, svc := start(t)
	_ = sb.Mutate(func() error { svc.SetPackagesAvailable(false); return nil })
	cfg := appCfg(map[string]cty.Value{"everyone": cty.True})
	rr, pr, err := plan(t, c, "m365_integrated_app", cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(rr.Warnings) == 0 || !strings.Contains(rr.Warnings[0], "403") {
		t.Fatalf("read warnings: %q", rr.Warnings)
	}
	if pr.Action != providers.Manual || pr.Manual == nil {
		t.Fatalf("action %q", pr.Action)
	}
	steps := strings.Join(pr.Manual.Steps, "\n")
	for _, want := range []string{"Microsoft 365 admin center", "Agents > All agents", "Copilot for Sales", "Entire organization"} {
		if !strings.Contains(steps, want) {
			t.Errorf("steps lack %q:\n%s", want, steps)
		}
	}
	if !strings.Contains(strings.Join(pr.Notes, " "), "24 hours") {
		t.Fatalf("notes: %q", pr.Notes)
	}
}

func TestTeamsAppDataSource(t *testing.T) {
	c, _, _ := start(t)
	var typ cty.Type
	for _, r := range m365.New().Resources() {
		if r.Type == "teams_app" {
			typ = r.ImpliedType()
		}
	}
	ctx := context.Background()
	for _, cfg := range []cty.Value{
		providertest.Object(typ, nil),
		providertest.Object(typ, map[string]cty.Value{"external_id": cty.StringVal(graphapi.SalesAppExternalID)}),
	} {
		rr, err := c.Read(ctx, providers.ReadRequest{Type: "teams_app", Config: cfg})
		if err != nil {
			t.Fatal(err)
		}
		if rr.ID != graphapi.SalesAppID || rr.Value.GetAttr("version").AsString() == "" {
			t.Fatalf("%#v", rr)
		}
	}
	rr, err := c.Read(ctx, providers.ReadRequest{Type: "teams_app", Config: providertest.Object(typ, map[string]cty.Value{"display_name": cty.StringVal("It's missing")})})
	if err != nil || rr.ID != "" || len(rr.Warnings) == 0 {
		t.Fatalf("missing app: %v %#v", err, rr)
	}
}

func TestPreflightAddsUpSeatsAcrossAssignments(t *testing.T) {
	c, _, _ := start(t)
	var extra []cty.Value
	for i := 301; i <= 360; i++ {
		extra = append(extra, cty.StringVal(graphapi.UserUPN(i)))
	}
	rep, err := c.Preflight(context.Background(), []m365.PreflightResource{
		{Addr: "m365_license_assignment.sellers", Type: "m365_license_assignment", Config: licCfg(map[string]cty.Value{"group_name": cty.StringVal("Sellers")})},
		{Addr: "m365_license_assignment.extra", Type: "m365_license_assignment", Config: licCfg(map[string]cty.Value{"users": cty.SetVal(extra)})},
	})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	rep.Write(&out)
	if rep.Blocking() != 1 || !strings.Contains(out.String(), "together m365_license_assignment.extra, m365_license_assignment.sellers need 260 more seats but only 250 are free") {
		t.Fatalf("blocking %d:\n%s", rep.Blocking(), out.String())
	}
}

func TestWelcomeRecordBelongsToOneTenant(t *testing.T) {
	c, _, svc := start(t)
	record := filepath.Join(t.TempDir(), "welcome-sent.json")
	_ = os.WriteFile(record, []byte(`{"version":1,"tenant":"11111111-2222-3333-4444-555555555555","sent":{}}`), 0o600)
	_, err := c.Welcome(context.Background(), m365.WelcomeOptions{Group: "Sellers", Sender: graphapi.SenderUPN, Send: true, RecordPath: record, PerMinute: 100000})
	if err == nil || !strings.Contains(err.Error(), "11111111-2222-3333-4444-555555555555") || len(svc.Sent()) != 0 {
		t.Fatalf("foreign record: %v, sent %d", err, len(svc.Sent()))
	}
}

// data.teams_app_availability reads the app's package: blocked by hand in the sandbox (Teams
// admin center > Manage apps > Block), it says so; an unknown app id is a warning, not a value.
func TestTeamsAppAvailabilityDataSource(t *testing.T) {
	c, sb, svc := start(t)
	var typ cty.Type
	for _, r := range m365.New().Resources() {
		if r.Type == "teams_app_availability" {
			typ = r.ImpliedType()
		}
	}
	ctx := context.Background()
	read := func(app string) providers.ReadResponse {
		t.Helper()
		rr, err := c.Read(ctx, providers.ReadRequest{Type: "teams_app_availability", Config: providertest.Object(typ, map[string]cty.Value{"app_id": cty.StringVal(app)})})
		if err != nil {
			t.Fatal(err)
		}
		return rr
	}
	rr := read(graphapi.SalesAppID)
	if rr.ID != graphapi.SalesPackageID || rr.Value.GetAttr("is_blocked").True() || rr.Value.GetAttr("available_to").AsString() != "none" {
		t.Fatalf("seed: %#v", rr.Value)
	}
	sb.Mutate(func() error {
		for _, p := range svc.Tenant().Packages {
			if p.AppID == graphapi.SalesAppID {
				p.IsBlocked, p.AvailableTo = true, "some"
				p.Allowed = []graphapi.Access{{ResourceType: "group", ResourceID: graphapi.SellersGroupID}}
			}
		}
		return nil
	})
	rr = read(graphapi.SalesAppID)
	if !rr.Value.GetAttr("is_blocked").True() || rr.Value.GetAttr("available_to").AsString() != "some" ||
		!rr.Value.GetAttr("group_ids").Equals(cty.SetVal([]cty.Value{cty.StringVal(graphapi.SellersGroupID)})).True() {
		t.Fatalf("blocked: %#v", rr.Value)
	}
	if rr := read("00000000-0000-0000-0000-000000000000"); rr.ID != "" || len(rr.Warnings) == 0 {
		t.Fatalf("unknown app: %#v", rr)
	}
}
