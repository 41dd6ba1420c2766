package m365_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/providers/m365"
	"github.com/c4sctl/c4sctl/pkg/sandbox/graphapi"
	"github.com/zclconf/go-cty/cty"
)

// exportSet is the configuration export writes for o: its non-null attributes.
func exportSet(o providers.ExportedObject) map[string]cty.Value {
	set := map[string]cty.Value{}
	for name, v := range o.Value.AsValueMap() {
		if !v.IsNull() {
			set[name] = v
		}
	}
	return set
}

// checkReproduced reads the exported configuration back (as plan does, without state) and
// checks that it finds the exported object with every exported attribute unchanged.
func checkReproduced(t *testing.T, c *m365.Client, typ string, o providers.ExportedObject, cfg cty.Value) {
	t.Helper()
	rr, err := c.Read(context.Background(), providers.ReadRequest{Type: typ, Config: cfg})
	if err != nil {
		t.Fatalf("%s %q: read the export: %v", typ, o.Name, err)
	}
	if rr.ID != o.ID || rr.Value.IsNull() {
		t.Fatalf("%s %q: the export finds id %q, want %q (deferred %q)", typ, o.Name, rr.ID, o.ID, rr.Deferred)
	}
	for name, v := range exportSet(o) {
		if got := rr.Value.GetAttr(name); !got.Equals(v).True() {
			t.Errorf("%s %q: %s reads %#v, exported %#v", typ, o.Name, name, got, v)
		}
	}
}

func TestExportReproducesLicencesAndDeployments(t *testing.T) {
	c, _, _ := start(t)
	ctx := context.Background()
	deploy := appCfg(map[string]cty.Value{
		"groups": cty.SetVal([]cty.Value{cty.StringVal(graphapi.SellersGroupName)}),
		"users":  cty.SetVal([]cty.Value{cty.StringVal(graphapi.UserUPN(3))}),
	})
	if _, err := c.Apply(ctx, providers.ApplyRequest{Type: "m365_integrated_app", Action: providers.Create, Planned: deploy}); err != nil {
		t.Fatal(err)
	}

	apps, err := c.Export(ctx, "m365_integrated_app")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]providers.ExportedObject{}
	for _, o := range apps {
		if o.Skipped != "" {
			t.Fatalf("%q skipped: %s", o.Name, o.Skipped)
		}
		got[o.Name] = o
		checkReproduced(t, c, "m365_integrated_app", o, appCfg(exportSet(o)))
	}
	sales, ok := got[m365.Defaults.AppName]
	if !ok || len(got) != 2 {
		t.Fatalf("exported apps %v, want the deployed %q and Contoso Deals", got, m365.Defaults.AppName)
	}
	if g := sales.Value.GetAttr("groups"); !g.Equals(cty.SetVal([]cty.Value{cty.StringVal(graphapi.SellersGroupName)})).True() {
		t.Errorf("groups are exported by name: %#v", g)
	}
	if u := sales.Value.GetAttr("users"); !u.Equals(cty.SetVal([]cty.Value{cty.StringVal(graphapi.UserUPN(3))})).True() {
		t.Errorf("users are exported by principal name: %#v", u)
	}

	lics, err := c.Export(ctx, "m365_license_assignment")
	if err != nil {
		t.Fatal(err)
	}
	var groupBased int
	var direct bool
	for _, o := range lics {
		if o.Skipped != "" {
			direct = direct || strings.Contains(o.Skipped, "directly")
			continue
		}
		groupBased++
		if getName := o.Value.GetAttr("group_name"); getName.IsNull() || getName.AsString() != "All Employees" {
			t.Errorf("licence assignment %q: group_name %#v", o.Name, getName)
		}
		checkReproduced(t, c, "m365_license_assignment", o, licCfg(exportSet(o)))
	}
	if groupBased != 1 || !direct {
		t.Errorf("licences: %d group-based (want the seed's 1), direct assignments noted: %v", groupBased, direct)
	}

	if _, err := c.Export(ctx, "teams_app"); !errors.Is(err, providers.ErrExportNotImplemented) {
		t.Errorf("data sources are not exported: %v", err)
	}
}

func TestExportSaysWhyDeploymentsCannotBeRead(t *testing.T) {
	c, sb, svc := start(t)
	_ = sb.Mutate(func() error { svc.SetPackagesAvailable(false); return nil })
	apps, err := c.Export(context.Background(), "m365_integrated_app")
	if err != nil {
		t.Fatal(err)
	}
	if len(apps) != 1 || !strings.Contains(apps[0].Skipped, "403") {
		t.Fatalf("export without the package API: %+v", apps)
	}
}
