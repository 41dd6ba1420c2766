package powerplatform

import (
	"errors"
	"github.com/c4sctl/c4sctl/pkg/providers/attrs"
	"strings"
	"testing"

	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/providers/providertest"
	"github.com/c4sctl/c4sctl/pkg/sandbox"
	"github.com/c4sctl/c4sctl/pkg/sandbox/powerplatformapi"
	"github.com/c4sctl/c4sctl/pkg/schema"
	"github.com/zclconf/go-cty/cty"
)

func export(t *testing.T, c *Client, typ string) []providers.ExportedObject {
	t.Helper()
	objs, err := c.Export(ctx, typ)
	if err != nil {
		t.Fatalf("export %s: %v", typ, err)
	}
	return objs
}

func planOfExport(t *testing.T, c *Client, r *schema.Resource, o providers.ExportedObject) []string {
	t.Helper()
	return providertest.PlanOfExport(t, c, r, o)
}

func TestExportBeforeAndAfterTheFirstSignIn(t *testing.T) {
	c, sb, api := start(t)

	pols := export(t, c, policySchema.Type)
	if len(pols) != 2 {
		t.Fatalf("exported %d DLP policies, want the seed's 2", len(pols))
	}
	for _, o := range pols {
		if o.Skipped != "" {
			t.Fatalf("%q skipped: %s", o.Name, o.Skipped)
		}
		if ch := planOfExport(t, c, policySchema, o); ch != nil {
			t.Errorf("DLP policy %q: plan of the export changes %v", o.Name, ch)
		}
	}

	// The seed's tenant-wide policy blocks shared_salesforce: the rule cannot be exported.
	rule := export(t, c, ruleSchema.Type)
	if len(rule) != 1 || !strings.Contains(rule[0].Skipped, "Contoso tenant-wide baseline") || !strings.Contains(rule[0].Skipped, "step 5") {
		t.Fatalf("blocked rule: %+v", rule)
	}
	for _, r := range []*schema.Resource{adminsSchema, settingsSchema} {
		objs := export(t, c, r.Type)
		if len(objs) != 1 || !strings.Contains(objs[0].Skipped, "step 7") {
			t.Fatalf("%s before msdyn_viva exists: %+v", r.Type, objs)
		}
	}

	signIn(t, sb, api)
	converge(t, c, ruleSchema, cfg(ruleSchema, nil))
	rule = export(t, c, ruleSchema.Type)
	if len(rule) != 1 || rule[0].Skipped != "" {
		t.Fatalf("unblocked rule: %+v", rule)
	}
	if ch := planOfExport(t, c, ruleSchema, rule[0]); ch != nil {
		t.Errorf("rule: plan of the export changes %v", ch)
	}

	admins := export(t, c, adminsSchema.Type)
	if len(admins) != 1 || admins[0].Skipped != "" {
		t.Fatalf("admins: %+v", admins)
	}
	got, _ := attrs.Strings(admins[0].Value, "principals")
	for _, want := range []string{powerplatformapi.GlobalAdminUPN, powerplatformapi.PPAdminUPN, sandbox.ClientID} {
		if !containsFold(got, want) {
			t.Errorf("exported principals %v lack %s", got, want)
		}
	}
	if ch := planOfExport(t, c, adminsSchema, admins[0]); ch != nil {
		t.Errorf("admins: plan of the export changes %v", ch)
	}
	// Even with enforce = true nothing would be removed: every holder is declared.
	enforced := admins[0]
	vals := enforced.Value.AsValueMap()
	vals["enforce"] = cty.True
	enforced.Value = cty.ObjectVal(vals)
	if ch := planOfExport(t, c, adminsSchema, enforced); ch != nil {
		t.Errorf("admins with enforce: plan of the export changes %v", ch)
	}

	// Two Salesforce orgs have settings rows: which one is c4sctl's cannot be told.
	settings := export(t, c, settingsSchema.Type)
	if len(settings) != 1 || !strings.Contains(settings[0].Skipped, "salesforce_org_id") {
		t.Fatalf("settings with two orgs: %+v", settings)
	}
	_ = sb.Mutate(func() error {
		o := api.Org(powerplatformapi.VivaUniqueName)
		var keep []*powerplatformapi.SettingRow
		for _, r := range o.OrgSettings {
			if r.OrgID == powerplatformapi.SalesforceOrgID {
				keep = append(keep, r)
			}
		}
		o.OrgSettings = keep
		return nil
	})
	settings = export(t, c, settingsSchema.Type)
	if len(settings) != 1 || settings[0].Skipped != "" {
		t.Fatalf("settings: %+v", settings)
	}
	if got := attrs.String(settings[0].Value, "salesforce_org_id"); got != powerplatformapi.SalesforceOrgID {
		t.Errorf("exported salesforce_org_id %q", got)
	}
	if rf := settings[0].Value.GetAttr("record_fields"); rf.IsNull() || rf.LengthInt() == 0 {
		t.Errorf("settings export has no record_fields: %#v", settings[0].Value)
	}
	if ch := planOfExport(t, c, settingsSchema, settings[0]); ch != nil {
		t.Errorf("settings: plan of the export changes %v", ch)
	}

	if _, err := c.Export(ctx, "powerplatform_environment"); !errors.Is(err, providers.ErrExportNotImplemented) {
		t.Errorf("data sources are not exported: %v", err)
	}
}

func TestExportSkipsPoliciesThatShareADisplayName(t *testing.T) {
	c, sb, api := start(t)
	// The admin API may hold two policies with one display name (the sandbox's create refuses it).
	if err := sb.Mutate(func() error {
		api.PutPolicy(api.NewPolicy("0f0f0f0f-0000-4000-8000-000000000001", "Sales Operations apps", "AllEnvironments", nil, "General"))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	skipped := 0
	for _, o := range export(t, c, policySchema.Type) {
		if o.Name == "Sales Operations apps" {
			if !strings.Contains(o.Skipped, "2 DLP policies are named") {
				t.Errorf("twin %s exported: %q", o.ID, o.Skipped)
			}
			skipped++
		} else if o.Skipped != "" {
			t.Errorf("%q skipped: %s", o.Name, o.Skipped)
		}
	}
	if skipped != 2 {
		t.Errorf("%d twins skipped, want 2", skipped)
	}
}
