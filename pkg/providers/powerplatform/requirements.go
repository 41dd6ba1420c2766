package powerplatform

// Access the identity c4sctl signs in as needs, per resource type (docs/getting-started-real.md,
// `c4sctl bootstrap` and `c4sctl preflight` read it). Sources: docs/api/powerplatform.md, "Sign-in".
const (
	// NeedManagementApp: the app is registered as a Power Platform management application
	// (`pac admin application register`, New-PowerAppManagementApp), so that the admin API
	// (api.bap.microsoft.com) answers it app-only. A person signing in needs the Power Platform
	// Administrator role instead.
	NeedManagementApp = "management_app"
	// NeedApplicationUser: the app is an application user of msdyn_viva with System
	// Administrator, so that Dataverse answers it (until then: 403 0x80072560). msdyn_viva only
	// exists after the first seller's Copilot for Sales sign-in (guide step 7).
	NeedApplicationUser = "application_user"
)

// Requirements by resource type.
var Requirements = map[string][]string{
	"powerplatform_environment":        {NeedManagementApp},
	"powerplatform_dlp_connector_rule": {NeedManagementApp},
	"powerplatform_dlp_policy":         {NeedManagementApp},
	"dataverse_environment_admins":     {NeedManagementApp, NeedApplicationUser},
	"copilot_for_sales_settings":       {NeedManagementApp, NeedApplicationUser},
}
