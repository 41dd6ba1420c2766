package salesforce

import (
	"strings"
	"testing"

	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/sandbox/salesforceapi"
	"github.com/zclconf/go-cty/cty"
)

func objPerms(m map[string][]string) cty.Value {
	vals := map[string]cty.Value{}
	for k, v := range m {
		vals[k] = strs(v...)
	}
	return cty.MapVal(vals)
}

func TestObjectPermissionsValidation(t *testing.T) {
	a := permissionSetSchema.Attribute("object_permissions")
	for _, tt := range []struct {
		perms map[string][]string
		want  string // "" when valid
	}{
		{map[string][]string{"Account": {"read", "create", "edit"}, "Invoice__c": {"read"}}, ""},
		{map[string][]string{"Account": {"read", "create", "edit", "delete", "view_all", "modify_all"}}, ""},
		{map[string][]string{"Account": {"edit"}}, `"edit" needs "read"`},
		{map[string][]string{"Account": {"read", "delete"}}, `"delete" needs "edit"`},
		{map[string][]string{"Account": {"read", "edit", "delete", "modify_all"}}, `"modify_all" needs "view_all"`},
		{map[string][]string{"Account": {"read", "write"}}, `unknown permission "write"`},
		{map[string][]string{"Sales Account": {"read"}}, "not an object API name"},
		{map[string][]string{"FinServ__Balance_Sheets_From_Previous_Years__c": {"read"}, "Forty_Characters_Long_Custom_Object_Name__c": {"read"}, "Archive__b": {"read"}}, ""},
		{map[string][]string{"Invoice_": {"read"}}, "not an object API name"},
		{map[string][]string{"Account__": {"read"}}, "not an object API name"},
		{map[string][]string{"Sales__Account": {"read"}}, "not an object API name"},
		{map[string][]string{"TooLongNamespace1__Invoice__c": {"read"}}, "not an object API name"},
		{map[string][]string{"Account": {"read"}, "account": {"read", "edit"}}, "name the same object"},
	} {
		err := a.Validate(objPerms(tt.perms))
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%v: error %v, want %q", tt.perms, err, tt.want)
		}
	}
}

// Object permissions are created (one collection), read back as configured, repaired when
// changed outside c4sctl (one PATCH), and never turned off when not listed.
func TestObjectPermissionsConvergeAndDrift(t *testing.T) {
	c, sb, svc := start(t)
	perms := map[string][]string{"Account": {"read", "create", "edit"}, "Contact": {"read", "edit"}, "Opportunity": {"read"}}
	config := cfg(permissionSetSchema, map[string]cty.Value{"name": cty.StringVal("Copilot_Users"), "api_enabled": cty.True, "object_permissions": objPerms(perms)})
	sb.RequestLog().Reset()
	resp, changed := converge(t, c, permissionSetSchema, config)
	if len(changed) == 0 || resp.ID == "" {
		t.Fatalf("create: changed %v, id %q", changed, resp.ID)
	}
	if n := sb.RequestLog().Count("POST /salesforce/services/data/{v}/composite/sobjects"); n != 1 {
		t.Fatalf("%d collection requests for 3 objects, want 1", n)
	}
	rows := func() map[string]salesforceapi.ObjectPermission {
		out := map[string]salesforceapi.ObjectPermission{}
		sb.View(func() {
			for _, op := range svc.Org().ObjectPerms {
				if op.ParentID == resp.ID {
					out[op.SobjectType] = *op
				}
			}
		})
		return out
	}
	got := rows()
	if a := got["Account"]; len(got) != 3 || !a.Read || !a.Create || !a.Edit || a.Delete || !got["Contact"].Edit || got["Contact"].Create || !got["Opportunity"].Read {
		t.Fatalf("rows %+v", got)
	}
	// Changed in Setup: Account loses Create, and Lead (not configured) gains Read.
	mutate(t, sb, func() error {
		for _, op := range svc.Org().ObjectPerms {
			if op.ParentID == resp.ID && op.SobjectType == "Account" {
				op.Create = false
			}
		}
		svc.Org().ObjectPerms = append(svc.Org().ObjectPerms, &salesforceapi.ObjectPermission{ID: "110lead", ParentID: resp.ID, SobjectType: "Lead", Read: true})
		return nil
	})
	live := read(t, c, permissionSetSchema.Type, resp.ID, config)
	if _, changed := planned(permissionSetSchema, live.Value, config); len(changed) != 1 || changed[0] != "object_permissions" {
		t.Fatalf("after the change in Setup, plan changes %v", changed)
	}
	sb.RequestLog().Reset()
	converge(t, c, permissionSetSchema, config)
	if n := sb.RequestLog().Count("PATCH /salesforce/services/data/{v}/sobjects/{type}/{id}"); n != 1 {
		t.Fatalf("%d PATCH to repair one object, want 1", n)
	}
	if got := rows(); !got["Account"].Create || !got["Lead"].Read {
		t.Fatalf("after repair: %+v", got)
	}
	// Salesforce refusing a row (here an object the org does not have) is an error naming it.
	bad := cfg(permissionSetSchema, map[string]cty.Value{"name": cty.StringVal("Copilot_Users"), "object_permissions": objPerms(map[string][]string{"Spaceship": {"read"}})})
	live = read(t, c, permissionSetSchema.Type, resp.ID, bad)
	after, _ := planned(permissionSetSchema, live.Value, bad)
	_, err := c.Apply(ctx, providers.ApplyRequest{Type: permissionSetSchema.Type, Action: providers.Update, ID: resp.ID, Prior: live.Value, Planned: after})
	if err == nil || !strings.Contains(err.Error(), "Spaceship") || !strings.Contains(err.Error(), "restricted picklist") {
		t.Fatalf("unknown object: %v", err)
	}
}

func TestObjectPermissionsExported(t *testing.T) {
	c, _, _ := start(t)
	perms := map[string][]string{"Account": {"read", "create", "edit"}, "Lead": {"read"}}
	config := cfg(permissionSetSchema, map[string]cty.Value{"name": cty.StringVal("Copilot_Users"), "object_permissions": objPerms(perms)})
	converge(t, c, permissionSetSchema, config)
	objs, err := c.Export(ctx, permissionSetSchema.Type)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if o.Name != "Copilot_Users" {
			continue
		}
		if got := o.Value.GetAttr("object_permissions"); !got.Equals(objPerms(perms)).True() {
			t.Fatalf("exported %#v", got)
		}
		// The export plans no change.
		if _, changed := planned(permissionSetSchema, read(t, c, permissionSetSchema.Type, o.ID, o.Value).Value, o.Value); len(changed) != 0 {
			t.Fatalf("export then plan changes %v", changed)
		}
		return
	}
	t.Fatalf("Copilot_Users not exported: %+v", objs)
}
