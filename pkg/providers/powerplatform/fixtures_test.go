package powerplatform

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// The fixtures under testdata/ are answers of the real services written from public sources
// (testdata/README.md), not produced by the sandbox: these tests fail when a decoder reads the
// wrong field even where the sandbox would agree with it.

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A connector is its id's last segment; `name` is the display name ("Salesforce") and must not
// identify it. The fixture lists shared_salesforce in General and Blocked: it counts as Blocked.
func TestFixtureDLPConnectorsByID(t *testing.T) {
	var raw map[string]any
	if err := json.Unmarshal(fixture(t, "dlp_policy_get.json"), &raw); err != nil {
		t.Fatal(err)
	}
	p, err := parsePolicy(raw)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, g := range p.groups() {
		for _, c := range g["connectors"].([]any) {
			names = append(names, connectorAPIName(c.(map[string]any)))
		}
	}
	want := []string{"shared_office365users", "shared_azureblob", "shared_sql", "shared_salesforce", "shared_salesforce"}
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("connector names %v, want the API names %v", names, want)
	}
	pl := p.placement("shared_salesforce")
	if pl.Class != "Blocked" || !reflect.DeepEqual(pl.Listed, []string{"General", "Blocked"}) || pl.Display != "Salesforce" {
		t.Fatalf("shared_salesforce: %+v, want Blocked, listed in General and Blocked, display name Salesforce", pl)
	}
	if pl := p.placement("Salesforce"); len(pl.Listed) != 0 {
		t.Errorf("the display name matched a connector: %+v", pl)
	}
	if p.Name != "00000000-0000-0000-0000-000000000002" || p.EnvType != "ExceptEnvironments" || !reflect.DeepEqual(p.Envs, []string{"be0eb809-e58a-ec1b-8fce-ea40b0e53442"}) {
		t.Errorf("policy %+v", p)
	}
	// The body sent back keeps everything but the read-only fields.
	body := writableBody(p.Raw)
	d := body["policyDefinition"].(map[string]any)
	for _, k := range readOnlyPolicyFields {
		if _, ok := d[k]; ok {
			t.Errorf("PATCH body carries read-only %s", k)
		}
	}
	if body["connectorConfigurationsDefinition"] == nil || d["connectorGroups"] == nil || d["environments"] == nil {
		t.Errorf("PATCH body lost fields c4sctl does not manage: %v", body)
	}
	if _, ok := p.Raw["policyDefinition"].(map[string]any)["etag"]; !ok {
		t.Error("writableBody changed the policy as read")
	}
}

// The policy list carries definitions without connector groups; every one is named by id.
func TestFixtureDLPPolicyList(t *testing.T) {
	var body struct {
		Value []map[string]any `json:"value"`
	}
	if err := json.Unmarshal(fixture(t, "dlp_policies_list.json"), &body); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, v := range body.Value {
		p, err := parsePolicy(v)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, p.Name)
		if len(p.groups()) != 0 {
			t.Errorf("%s: the list has no connector groups", p.Name)
		}
	}
	if !reflect.DeepEqual(ids, []string{"00000000-0000-0000-0000-000000000001", "00000000-0000-0000-0000-000000000002"}) {
		t.Errorf("ids %v", ids)
	}
}

// The settings of the configured Salesforce org are its rows (msdyn_orgid), never the first rows.
func TestFixtureSettingsRowsOfTheConfiguredOrg(t *testing.T) {
	var body struct {
		Value []json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(fixture(t, "dataverse_vivaorgsettings.json"), &body); err != nil {
		t.Fatal(err)
	}
	var rows []*settingRow
	for _, m := range body.Value {
		r, err := decodeOrgSettingRow(m)
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, r)
	}
	org, sel, err := selectOrgRows(rows, "00D5g00000SBXORGAA")
	if err != nil || org != "00D5g00000SBXORGAA" || len(sel) != 2 {
		t.Fatalf("selected %q %d rows: %v", org, len(sel), err)
	}
	r, ambiguous := findRow(sel, featureCopilot)
	if r == nil || ambiguous || r.ID != "6a000004-0000-4000-8000-000000000004" || r.JSON["aiFeaturesEnabled"] != true {
		t.Fatalf("CopilotFeatures of the configured org: %+v (ambiguous %v), want row 6a000004 with AI features on", r, ambiguous)
	}
	if _, _, err := selectOrgRows(rows, ""); err == nil {
		t.Error("two orgs and none configured must not pick one")
	}
}

// Microsoft's service accounts are told by their user name; a person is not one.
func TestFixtureSystemUsersServiceAccounts(t *testing.T) {
	var body struct {
		Value []json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(fixture(t, "dataverse_systemusers.json"), &body); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, m := range body.Value {
		h, err := decodeSystemUser(m)
		if err != nil {
			t.Fatal(err)
		}
		got[h.Label] = h.Service
	}
	want := map[string]bool{"bap_sa@microsoft.com": true, "crmoln2@microsoft.com": true, "RelevanceSearch@onmicrosoft.com": true, "admin@contoso.onmicrosoft.com": false}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("service accounts %v, want %v", got, want)
	}
}

// Dataverse's answer to an app that is not an application user is recognised as such.
func TestFixtureNotAMemberError(t *testing.T) {
	e := &APIError{API: "Dataverse", Method: "GET", Path: "/api/data/v9.2/WhoAmI", Status: 403}
	e.decodeBody(fixture(t, "dataverse_error_not_member.json"))
	if !isNotAppUser(e) || e.Message != "The user is not a member of the organization." {
		t.Errorf("decoded %+v: not recognised as the missing application user", e)
	}
	e = &APIError{API: "Dataverse", Status: 403}
	e.decodeBody([]byte(`{"error":{"code":"0x80040220","message":"Principal user is missing prvReadmsdyn_vivaorgsetting privilege."}}`))
	if isNotAppUser(e) {
		t.Error("a missing privilege is not a missing application user")
	}
}
