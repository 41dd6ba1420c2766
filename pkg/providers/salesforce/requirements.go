package salesforce

// Requirements are the Salesforce user permissions the user c4sctl signs in as needs, per
// resource type; each inner list is alternatives (any one suffices). The names are the API
// names of the permission fields of PermissionSet and UserPermissionAccess ("Permissions" +
// the permission), which `c4sctl preflight` reads. Sources: docs/api/salesforce.md
// ("Permissions c4sctl needs"); field names as in the PermissionSet field reference.
var Requirements = map[string][][]string{
	"salesforce_permission_set": {
		{"PermissionsApiEnabled"},
		{"PermissionsViewSetup"},
		{"PermissionsManageProfilesPermissionsets"},
		{"PermissionsAssignPermissionSets"},
	},
	"salesforce_connected_app": {
		{"PermissionsApiEnabled"},
		{"PermissionsViewSetup"},
		{"PermissionsCustomizeApplication", "PermissionsManageConnectedApps"},
	},
}

// PermissionLabels are the names Setup shows for the permissions of Requirements.
var PermissionLabels = map[string]string{
	"PermissionsApiEnabled":                   "API Enabled",
	"PermissionsViewSetup":                    "View Setup and Configuration",
	"PermissionsManageProfilesPermissionsets": "Manage Profiles and Permission Sets",
	"PermissionsAssignPermissionSets":         "Assign Permission Sets",
	"PermissionsCustomizeApplication":         "Customize Application",
	"PermissionsManageConnectedApps":          "Manage Connected Apps",
}
