package powerplatform

import "testing"

// The settings of how c4sctl manages an object, which Read returns from the configuration, are
// marked Echo: changing them in the configuration is no drift ("changed outside c4sctl").
func TestManagementSettingsAreEcho(t *testing.T) {
	want := map[string]bool{
		"dataverse_environment_admins.enforce":              true,
		"copilot_for_sales_settings.experimental_write":     true,
		"copilot_for_sales_settings.salesforce_org_id":      true,
		"powerplatform_dlp_connector_rule.exclude_policies": true,
		"dataverse_environment_admins.principals":           false,
		"copilot_for_sales_settings.ai_features_enabled":    false,
	}
	for _, r := range New().Resources() {
		for _, a := range r.Attributes {
			if w, ok := want[r.Type+"."+a.Name]; ok {
				if a.Echo != w {
					t.Errorf("%s.%s: Echo = %v, want %v", r.Type, a.Name, a.Echo, w)
				}
				delete(want, r.Type+"."+a.Name)
			}
		}
	}
	for k := range want {
		t.Errorf("%s: no such attribute", k)
	}
}
