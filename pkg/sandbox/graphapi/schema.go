package graphapi

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"strings"
)

// gtype is a Graph resource type as far as $select and $filter need it: its name and the names
// of its properties (Microsoft Learn, "<type> resource type", v1.0 Properties tables). A property
// Graph has but the sandbox does not model is selectable and answers null, as Graph does for a
// property without a value.
type gtype struct {
	name     string // e.g. "user" (microsoft.graph.user)
	resource string // as Graph's directory errors name it, e.g. "User"
	props    map[string]bool
}

func newType(name, resource, props string) *gtype {
	t := &gtype{name: name, resource: resource, props: map[string]bool{}}
	for _, p := range strings.Fields(props) {
		t.props[p] = true
	}
	return t
}

// Property lists: Learn user (resources/user), group (resources/group), directoryRole,
// servicePrincipal, teamsApp, and the Copilot package (copilotpackage, copilotpackagedetail).
var (
	userType = newType("user", "User", `aboutMe accountEnabled ageGroup assignedLicenses assignedPlans authorizationInfo birthday
		businessPhones city companyName consentProvidedForMinor country createdDateTime creationType customSecurityAttributes
		deletedDateTime department displayName employeeHireDate employeeId employeeLeaveDateTime employeeOrgData employeeType
		externalUserState externalUserStateChangeDateTime faxNumber givenName hireDate id identities imAddresses interests
		isManagementRestricted isResourceAccount jobTitle lastPasswordChangeDateTime legalAgeGroupClassification
		licenseAssignmentStates mail mailboxSettings mailNickname mobilePhone mySite officeLocation onPremisesDistinguishedName
		onPremisesDomainName onPremisesExtensionAttributes onPremisesImmutableId onPremisesLastSyncDateTime
		onPremisesProvisioningErrors onPremisesSamAccountName onPremisesSecurityIdentifier onPremisesSyncEnabled
		onPremisesUserPrincipalName otherMails passwordPolicies passwordProfile pastProjects postalCode preferredDataLocation
		preferredLanguage preferredName print provisionedPlans proxyAddresses responsibilities schools securityIdentifier
		serviceProvisioningErrors showInAddressList signInActivity signInSessionsValidFromDateTime skills state streetAddress
		surname usageLocation userPrincipalName userType`)
	groupType = newType("group", "Group", `allowExternalSenders assignedLabels assignedLicenses autoSubscribeNewMembers classification
		createdDateTime deletedDateTime description displayName expirationDateTime groupTypes hasMembersWithLicenseErrors
		hideFromAddressLists hideFromOutlookClients id isArchived isAssignableToRole isManagementRestricted isSubscribedByMail
		licenseProcessingState mail mailEnabled mailNickname membershipRule membershipRuleProcessingState onPremisesDomainName
		onPremisesLastSyncDateTime onPremisesNetBiosName onPremisesProvisioningErrors onPremisesSamAccountName
		onPremisesSecurityIdentifier onPremisesSyncEnabled preferredDataLocation preferredLanguage proxyAddresses
		renewedDateTime securityEnabled securityIdentifier serviceProvisioningErrors theme uniqueName unseenCount visibility`)
	roleType             = newType("directoryRole", "DirectoryRole", `deletedDateTime description displayName id roleTemplateId`)
	servicePrincipalType = newType("servicePrincipal", "ServicePrincipal", `accountEnabled addIns alternativeNames appDescription
		appDisplayName appId applicationTemplateId appOwnerOrganizationId appRoleAssignmentRequired appRoles deletedDateTime
		description disabledByMicrosoftStatus displayName homepage id info keyCredentials loginUrl logoutUrl notes
		notificationEmailAddresses oauth2PermissionScopes passwordCredentials preferredSingleSignOnMode
		preferredTokenSigningKeyThumbprint replyUrls resourceSpecificApplicationPermissions samlSingleSignOnSettings
		servicePrincipalNames servicePrincipalType signInAudience tags tokenEncryptionKeyId verifiedPublisher`)
	teamsAppType   = newType("teamsApp", "TeamsApp", `id externalId displayName distributionMethod appDefinitions`)
	userConfigType = newType("teamsAdministration.teamsUserConfiguration", "TeamsUserConfiguration", `id userPrincipalName tenantId
		effectivePolicyAssignments telephoneNumbers isEnterpriseVoiceEnabled featureTypes accountType createdDateTime modifiedDateTime user`)
	packageType = newType("copilotPackage", "CopilotPackage", `id displayName publisher type supportedHosts availableTo deployedTo
		isBlocked lastModifiedDateTime elementTypes appId allowedUsersAndGroups acquireUsersAndGroups`)
)

// selected validates $select against the types a collection or entity can hold (a
// directoryObject collection holds several) and returns the keys, or defaults without $select.
// An unknown property is Graph's 400: code "BadRequest", message "Parsing OData Select and
// Expand failed: Could not find a property named '<p>' on type 'microsoft.graph.<type>'."
// (quoted in microsoftgraph/msgraph-sdk-powershell#2103, mguessan/davmail#488,
// microsoftgraph/microsoft-graph-docs#3957). ok is false when the error was written.
func selected(w http.ResponseWriter, r *http.Request, defaults []string, types ...*gtype) (keys []string, ok bool) {
	sel := r.URL.Query().Get("$select")
	if strings.TrimSpace(sel) == "" {
		return defaults, true
	}
	for _, k := range strings.Split(sel, ",") {
		k = strings.TrimSpace(k)
		known := false
		for _, t := range types {
			known = known || t.props[k]
		}
		if !known {
			graphError(w, http.StatusBadRequest, "BadRequest", fmt.Sprintf("Parsing OData Select and Expand failed: Could not find a property named '%s' on type 'microsoft.graph.%s'.", k, types[0].name))
			return nil, false
		}
		keys = append(keys, k)
	}
	return keys, true
}

// unsupportedFilter writes Graph's answer to a $filter clause it does not support on a property:
// 400 "Request_UnsupportedQuery", "Unsupported or invalid query filter clause specified for
// property '<p>' of resource '<Type>'." (quoted in microsoftgraph/microsoft-graph-docs#14586 and
// microsoft-graph-docs-contrib#3260, #9135).
func unsupportedFilter(w http.ResponseWriter, t *gtype, prop string) {
	graphError(w, http.StatusBadRequest, "Request_UnsupportedQuery", fmt.Sprintf("Unsupported or invalid query filter clause specified for property '%s' of resource '%s'.", prop, t.resource))
}

// newRequestID is a request id in Graph's format (a GUID).
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// requestIDs sets the headers Graph sets on every answer: request-id (a new GUID) and
// client-request-id (the client's, echoed, or the request id when it sent none). Source:
// https://learn.microsoft.com/graph/best-practices-concept ("client-request-id … and
// request-id … in the response header"), https://learn.microsoft.com/graph/errors (the same
// ids in innerError).
func requestIDs(w http.ResponseWriter, r *http.Request) {
	id := newRequestID()
	w.Header().Set("request-id", id)
	if c := r.Header.Get("client-request-id"); c != "" {
		w.Header().Set("client-request-id", c)
	} else {
		w.Header().Set("client-request-id", id)
	}
}
