package powerplatform

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/c4sctl/c4sctl/pkg/httpx"
	"github.com/c4sctl/c4sctl/pkg/providers/attrs"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/schema"
	"github.com/zclconf/go-cty/cty"
)

// dataverse is one environment's Web API.
type dataverse struct {
	c    *Client
	env  *Environment
	base string // https://org.crm.dynamics.com (no trailing slash)
}

func (dv *dataverse) api() string   { return dv.base + "/api/data/v9.2/" }
func (dv *dataverse) scope() string { return dv.base + "/.default" }

func (dv *dataverse) do(ctx context.Context, method, path string, body, out any) error {
	return dv.c.do(ctx, "Dataverse", dv.scope(), method, dv.api()+path, body, out,
		map[string]string{"OData-MaxVersion": "4.0", "OData-Version": "4.0"})
}

// list reads every page of a collection (Prefer: odata.maxpagesize, @odata.nextLink).
func (dv *dataverse) list(ctx context.Context, path string, each func(json.RawMessage) error) error {
	next := dv.api() + path
	hdr := map[string]string{"OData-MaxVersion": "4.0", "OData-Version": "4.0", "Prefer": "odata.maxpagesize=" + strconv.Itoa(dv.c.pageSize)}
	for page := 0; next != ""; page++ {
		if page >= 10000 {
			return fmt.Errorf("Dataverse %s: more than 10000 pages; giving up", strings.SplitN(path, "?", 2)[0])
		}
		var body struct {
			Value    []json.RawMessage `json:"value"`
			NextLink string            `json:"@odata.nextLink"`
		}
		if err := dv.c.do(ctx, "Dataverse", dv.scope(), "GET", next, nil, &body, hdr); err != nil {
			return err
		}
		for _, v := range body.Value {
			if err := each(v); err != nil {
				return err
			}
		}
		next = body.NextLink
		// Never send the token anywhere but the environment.
		if next != "" && !strings.HasPrefix(next, dv.api()) {
			return fmt.Errorf("Dataverse %s: the next page link points outside the environment (%s); refusing to follow it", strings.SplitN(path, "?", 2)[0], redactURL(next))
		}
	}
	return nil
}

func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "an unparseable URL"
	}
	return u.Scheme + "://" + u.Host + u.Path
}

// openDataverse finds the environment; ok=false (with the deferral reason) when it does not
// exist yet.
func (c *Client) openDataverse(ctx context.Context, name string) (*dataverse, string, error) {
	env, err := c.findEnvironment(ctx, name)
	if err != nil {
		return nil, "", err
	}
	if env == nil {
		return nil, fmt.Sprintf("environment %s does not exist yet: %s", name, step7), nil
	}
	base := c.dataverse
	if base == "" {
		base = strings.TrimSuffix(env.InstanceURL, "/")
	}
	if base == "" {
		return nil, "", fmt.Errorf("environment %s (%s) has no Dataverse database, so it has no security roles or Copilot for Sales settings", name, env.Name)
	}
	if err := httpx.CheckEndpoint(base); err != nil {
		return nil, "", fmt.Errorf("environment %s: Dataverse URL: %v", name, err)
	}
	if err := httpsURL(cty.StringVal(base)); err != nil {
		return nil, "", fmt.Errorf("environment %s: Dataverse URL: %v", name, err)
	}
	return &dataverse{c: c, env: env, base: base}, "", nil
}

// --- dataverse_environment_admins ------------------------------------------------------------

var adminsSchema = &schema.Resource{Type: "dataverse_environment_admins", Provider: "powerplatform", Singleton: true,
	Identity: func(v cty.Value) []schema.ObjectKey {
		return schema.AttrKey(v, "environment", "powerplatform:environment_admins", "the System Administrators of environment", nil)
	},
	Description: "Step 7: the principals allowed to hold System Administrator in the environment (msdyn_viva). Other holders are drift; with enforce = true apply removes their role, never from the account c4sctl runs as.",
	Attributes: []*schema.Attribute{
		{Name: "environment", Type: cty.String, Optional: true, Default: cty.StringVal(VivaEnvironment), Description: "Environment (display name, unique name or id)."},
		{Name: "principals", Type: cty.Set(cty.String), Required: true, Description: "Allowed holders: user principal names, or application (client) ids / Entra object ids of application users."},
		{Name: "enforce", Type: cty.Bool, Optional: true, Default: cty.False, Echo: true, Description: "Remove System Administrator from holders not in principals (default: only report them)."},
		{Name: "holders", Type: cty.Set(cty.String), Computed: true, Description: "Everyone holding System Administrator now."},
		{Name: "extra_holders", Type: cty.Set(cty.String), Computed: true, Description: "Holders not in principals, Microsoft's service accounts apart."},
		{Name: "service_accounts", Type: cty.Set(cty.String), Computed: true, Description: "Microsoft's system and application users holding System Administrator (Microsoft Learn, \"System and application users\"): never removed, even with enforce = true."},
		{Name: "application_user", Type: cty.Bool, Computed: true, Description: "Whether the app c4sctl signs in with is an application user of the environment (false: Dataverse refuses it, and plan asks an admin to add it)."},
	}}

type holder struct {
	ID, Label string
	Keys      []string // domainname, email, application id, object id, systemuserid
	Roles     []string // System Administrator role ids held
	Caller    bool
	Service   bool   // one of Microsoft's system or application users: never touched
	Declared  string // the principals entry that matches, "" when extra
}

// systemUserColumns are the systemuser columns c4sctl reads (Microsoft Learn, systemuser table
// reference).
const systemUserColumns = "systemuserid,domainname,fullname,internalemailaddress,applicationid,azureactivedirectoryobjectid"

// decodeSystemUser reads one systemusers row into a holder (without roles): its keys, its label
// (the user name; an application user's application id) and whether it is one of Microsoft's
// service accounts, told by its user name (domainname).
func decodeSystemUser(m json.RawMessage) (*holder, error) {
	var u struct {
		ID     string  `json:"systemuserid"`
		Domain string  `json:"domainname"`
		Name   string  `json:"fullname"`
		Email  string  `json:"internalemailaddress"`
		App    *string `json:"applicationid"`
		OID    *string `json:"azureactivedirectoryobjectid"`
	}
	if err := json.Unmarshal(m, &u); err != nil || u.ID == "" {
		return nil, fmt.Errorf("Dataverse systemusers: unexpected row %s", truncate(string(m), 200))
	}
	h := &holder{ID: u.ID, Label: u.Domain, Keys: []string{u.ID, u.Domain, u.Email}}
	if u.App != nil && *u.App != "" && *u.App != "00000000-0000-0000-0000-000000000000" {
		h.Label = *u.App
		h.Keys = append(h.Keys, *u.App)
	}
	if u.OID != nil && *u.OID != "" {
		h.Keys = append(h.Keys, *u.OID)
	}
	if h.Label == "" {
		h.Label = u.Name + " (" + u.ID + ")"
	}
	if isMicrosoftServiceAccount(u.Domain) {
		h.Service, h.Label = true, u.Domain
	}
	return h, nil
}

type adminsState struct {
	dv        *dataverse
	envName   string
	holders   []*holder
	caller    *holder
	declared  []string
	noAppUser error // Dataverse refused the app (403 0x80072560): nothing else was read
}

// microsoftServiceAccounts are the user names (domainname) of the special system and application
// users Dataverse creates in every environment. Microsoft Learn, "System and application users"
// (https://learn.microsoft.com/power-platform/admin/system-application-users, 2025-07-24): "Don't
// delete or modify these users including changing or reassigning security role". Names with a
// tenant-specific or regional part are matched by serviceAccountPrefixes.
var microsoftServiceAccounts = []string{
	"crmoln@microsoft.com", "crmoln2@microsoft.com", "bap_sa@microsoft.com", "capam@microsoft.com",
	"cappackagedeployerservicedvclient@onmicrosoft.com", "relevancesearch@onmicrosoft.com",
	"d365workassignment@onmicrosoft.com", "d365workassignment2@onmicrosoft.com", "d365workassignment3@onmicrosoft.com",
	"diofficedata@microsoft.com", "dynamics365athena-cdstoazuredatalake@onmicrosoft.com", "dynamics365athena2-cdstoazuredatalake@onmicrosoft.com",
	"enterprisesales@onmicrosoft.com", "financeandoperationsruntimeintegrationuser@onmicrosoft.com", "siautocapture@onmicrosoft.com",
	"dynamics365sales@onmicrosoft.com", "project@microsoft.com", "pacheckerapp@microsoft.com", "powerqueryonline-cdstoazuredatalake@onmicrosoft.com",
	"datalakestorage@onmicrosoft.com", "jobservicepreprod@onmicrosoft.com", "jobserviceprod@onmicrosoft.com", "ccadaadmins@onmicrosoft.com",
	"cdsreportservice@onmicrosoft.com", "ctqhotpath@onmicrosoft.com", "ctqwarmpath@onmicrosoft.com", "ctqdiagnostics@onmicrosoft.com",
	"ppdfcdsclient@onmicrosoft.com", "aibuilderfpapp@onmicrosoft.com", "powerautomate-processmining@onmicrosoft.com", "ariamdlexporter@onmicrosoft.com",
	"cdsfilestorage@onmicrosoft.com", "cdsusermanagement@onmicrosoft.com", "gdsglobaldiscovery@onmicrosoft.com", "powerplatformauthorization@onmicrosoft.com",
	"bap@onmicrosoft.com", "powervirtualagents@onmicrosoft.com", "bizqa@onmicrosoft.com", "productinsights@onmicrosoft.com",
	"dynamics365salesforecasting@onmicrosoft.com", "ominichannel@onmicrosoft.com", "powerappsdataplanebackend@onmicrosoft.com",
	"powerappscustomermanagementplanebackend@onmicrosoft.com", "flow-rp@onmicrosoft.com", "sharepointsyntex@onmicrosoft.com",
	"insightsappsplatform@onmicrosoft.com", "sssadminprod@onmicrosoft.com", "capaeinfra@microsoft.com", "dvinfoprotection@microsoft.com",
	"powerautomate-desktopflowai@onmicrosoft.com", "powerautomate-machineprovisioning@onmicrosoft.com",
}

// serviceAccountPrefixes match the same page's names with a region (DataSyncService-<REGION>) or
// a tenant domain (provisionapp@fabrikam.com, enterprisesurveyappuser@contoso.com).
var serviceAccountPrefixes = []string{"datasyncservice-", "datasyncframework-", "provisionapp@", "enterprisesurveyappuser@"}

// isMicrosoftServiceAccount tells whether a Dataverse user name is one of Microsoft's system or
// application users.
func isMicrosoftServiceAccount(domainName string) bool {
	d := strings.ToLower(strings.TrimSpace(domainName))
	if d == "" {
		return false
	}
	if containsFold(microsoftServiceAccounts, d) {
		return true
	}
	for _, p := range serviceAccountPrefixes {
		if strings.HasPrefix(d, p) && (p[len(p)-1] == '@' || strings.HasSuffix(d, "@onmicrosoft.com")) {
			return true
		}
	}
	return false
}

// notAppUserCode is Dataverse's error code when the caller is not a user of the organisation, as
// an app that is not an application user is answered (403 {"error":{"code":"0x80072560","message":
// "The user is not a member of the organization."}}: microsoft/powercat-business-approvals-kit
// issues 135 and 293, MicrosoftDocs/power-platform issue 2124).
const notAppUserCode = "0x80072560"

func isNotAppUser(err error) bool {
	var e *APIError
	return errors.As(err, &e) && e.Status == http.StatusForbidden && strings.EqualFold(e.Code, notAppUserCode)
}

// addAppUserAction is the manual action that makes c4sctl's app an application user of the
// environment (Microsoft Learn, "Manage application users in the Power Platform admin center",
// https://learn.microsoft.com/power-platform/admin/manage-application-users).
func (c *Client) addAppUserAction(envName string, cause error) *providers.ManualAction {
	return &providers.ManualAction{
		Summary: fmt.Sprintf("Add the app c4sctl signs in with (client id %s) as an application user of %s: Dataverse refuses it until an admin does (%v).", c.clientID, envName, cause),
		Steps: []string{
			fmt.Sprintf("Power Platform admin centre > Environments > %s > Settings > Users + permissions > Application users > New app user.", envName),
			fmt.Sprintf("Add an app: choose the app with client id %s; Business unit: the environment's root business unit.", c.clientID),
			"Security roles: System Administrator (c4sctl reads and removes System Administrator assignments and reads the Copilot for Sales settings tables). Create.",
			"Run c4sctl plan again.",
		},
		Sandbox: []string{"dataverse", "add-app-user"},
	}
}

func (c *Client) adminsState(ctx context.Context, cfg cty.Value) (*adminsState, string, error) {
	st := &adminsState{envName: attrs.String(cfg, "environment")}
	if st.envName == "" {
		st.envName = VivaEnvironment
	}
	st.declared, _ = attrs.Strings(cfg, "principals")
	dv, deferred, err := c.openDataverse(ctx, st.envName)
	if err != nil || deferred != "" {
		return nil, deferred, err
	}
	st.dv = dv
	var who struct {
		UserID string `json:"UserId"`
	}
	if err := dv.do(ctx, "GET", "WhoAmI", nil, &who); err != nil {
		if isNotAppUser(err) {
			st.noAppUser = err
			return st, "", nil
		}
		return nil, "", fmt.Errorf("identify the account c4sctl runs as in %s: %w", st.envName, err)
	}
	var roleIDs []string
	err = dv.list(ctx, "roles?$select=roleid,name&$filter="+url.QueryEscape("_roletemplateid_value eq "+SystemAdministratorTemplate), func(m json.RawMessage) error {
		var r struct {
			ID string `json:"roleid"`
		}
		if err := json.Unmarshal(m, &r); err != nil || r.ID == "" {
			return fmt.Errorf("Dataverse roles: unexpected row %s", truncate(string(m), 200))
		}
		roleIDs = append(roleIDs, r.ID)
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("find the System Administrator role in %s: %w", st.envName, err)
	}
	if len(roleIDs) == 0 {
		return nil, "", fmt.Errorf("environment %s has no role with the System Administrator template (%s)", st.envName, SystemAdministratorTemplate)
	}
	byID := map[string]*holder{}
	for _, rid := range roleIDs {
		filter := url.QueryEscape("systemuserroles_association/any(r:r/roleid eq " + rid + ")")
		err := dv.list(ctx, "systemusers?$select="+systemUserColumns+"&$filter="+filter, func(m json.RawMessage) error {
			u, err := decodeSystemUser(m)
			if err != nil {
				return err
			}
			h := byID[strings.ToLower(u.ID)]
			if h == nil {
				h = u
				byID[strings.ToLower(u.ID)] = h
				st.holders = append(st.holders, h)
			}
			h.Roles = append(h.Roles, rid)
			return nil
		})
		if err != nil {
			return nil, "", fmt.Errorf("list System Administrators of %s: %w", st.envName, err)
		}
	}
	for _, h := range st.holders {
		h.Caller = strings.EqualFold(h.ID, who.UserID)
		if h.Caller {
			st.caller = h
		}
		for _, d := range st.declared {
			for _, k := range h.Keys {
				if k != "" && strings.EqualFold(k, d) {
					h.Declared = d
				}
			}
		}
	}
	sort.Slice(st.holders, func(i, j int) bool { return st.holders[i].name() < st.holders[j].name() })
	return st, "", nil
}

func (h *holder) name() string {
	if h.Declared != "" {
		return h.Declared
	}
	return h.Label
}

// extras are the undeclared holders apart from Microsoft's service accounts; removable leaves
// out the caller too. service lists the service accounts (declared or not).
func (st *adminsState) extras() (removable, all, service []string) {
	for _, h := range st.holders {
		switch {
		case h.Service:
			service = append(service, h.name())
		case h.Declared == "":
			all = append(all, h.name())
			if !h.Caller {
				removable = append(removable, h.name())
			}
		}
	}
	return
}

func (c *Client) readAdmins(ctx context.Context, req providers.ReadRequest) (providers.ReadResponse, error) {
	st, deferred, err := c.adminsState(ctx, req.Config)
	if err != nil {
		return providers.ReadResponse{}, err
	}
	if deferred != "" {
		return providers.ReadResponse{Deferred: deferred + "; its System Administrators can be reviewed once it exists"}, nil
	}
	enforce := getBool(req.Config, "enforce")
	if st.noAppUser != nil {
		// Nothing could be read: the configuration stands in for the live value, and plan turns
		// application_user = false into the manual action that fixes it.
		declared := attrs.StringSet(st.declared)
		val := cty.ObjectVal(map[string]cty.Value{
			"environment": cty.StringVal(st.envName), "principals": declared, "enforce": cty.BoolVal(enforce),
			"holders": cty.NullVal(cty.Set(cty.String)), "extra_holders": cty.NullVal(cty.Set(cty.String)),
			"service_accounts": cty.NullVal(cty.Set(cty.String)), "application_user": cty.False,
		})
		return providers.ReadResponse{ID: st.dv.env.Name + "/system-administrators", Value: val}, nil
	}
	removable, extra, service := st.extras()
	var holders []string
	for _, h := range st.holders {
		holders = append(holders, h.name())
	}
	// principals: what is declared, plus, when enforced, the holders apply would remove, so that
	// the plan shows them as the change. The caller is never among them.
	principals := append([]string{}, st.declared...)
	if enforce {
		principals = append(principals, removable...)
	}
	var warnings []string
	if len(removable) > 0 && !enforce {
		warnings = append(warnings, fmt.Sprintf("%d principal(s) hold System Administrator in %s without being declared in principals: %s. enforce = false: c4sctl reports them and removes nothing.", len(removable), st.envName, strings.Join(removable, ", ")))
	}
	if st.caller != nil && st.caller.Declared == "" {
		warnings = append(warnings, fmt.Sprintf("c4sctl runs as %s, which holds System Administrator in %s without being declared; c4sctl never removes its own role (declare it in principals to acknowledge it).", st.caller.name(), st.envName))
	}
	val := cty.ObjectVal(map[string]cty.Value{
		"environment": cty.StringVal(st.envName), "principals": attrs.StringSet(principals), "enforce": cty.BoolVal(enforce),
		"holders": attrs.StringSet(holders), "extra_holders": attrs.StringSet(extra),
		"service_accounts": attrs.StringSet(service), "application_user": cty.True,
	})
	return providers.ReadResponse{ID: st.dv.env.Name + "/system-administrators", Value: val, Warnings: warnings}, nil
}

// TrialWarning is the guide's step 7 warning shown with the admins resource.
const TrialWarning = "msdyn_viva is created by the first seller's sign-in to Copilot for Sales, and that flow ignores the tenant setting that restricts trial environment creation to admins: admins cannot prevent its creation, and every Power Platform admin and global admin becomes System Administrator in it. Review its System Administrators (guide step 7)."

func (c *Client) planAdmins(req providers.PlanRequest) providers.PlanResponse {
	resp := providers.PlanResponse{Warnings: []string{TrialWarning}}
	if req.Action == providers.Delete {
		return resp
	}
	if v := attrs.Get(req.Prior, "application_user"); v != cty.NilVal && !v.IsNull() && v.False() {
		resp.Action = providers.Manual
		resp.Manual = c.addAppUserAction(attrs.String(req.Config, "environment"), fmt.Errorf("403 %s: The user is not a member of the organization", notAppUserCode))
		return resp
	}
	if req.Action == providers.Update || req.Action == providers.Create {
		declared, _ := attrs.Strings(req.Config, "principals")
		live, _ := attrs.Strings(req.Prior, "principals")
		var remove []string
		for _, p := range live {
			if !containsFold(declared, p) {
				remove = append(remove, p)
			}
		}
		sort.Strings(remove)
		if len(remove) > 0 {
			resp.Warnings = append(resp.Warnings, fmt.Sprintf("apply removes System Administrator from %s (enforce = true).", strings.Join(remove, ", ")))
		}
		resp.Warnings = append(resp.Warnings, "c4sctl never removes System Administrator from the account it runs as, even when it is not declared.")
	}
	// Listed apart on every plan (a warning, which plan shows for unchanged resources too), so that
	// enforce = true is seen to leave them alone.
	if service, _ := attrs.Strings(req.Prior, "service_accounts"); len(service) > 0 {
		sort.Strings(service)
		resp.Warnings = append(resp.Warnings, "Microsoft service accounts: kept ("+strings.Join(service, ", ")+"). Microsoft says not to change their roles, so c4sctl never removes them, even with enforce = true.")
	}
	return resp
}

func (c *Client) applyAdmins(ctx context.Context, req providers.ApplyRequest) (providers.ApplyResponse, error) {
	if req.Action == providers.Delete {
		return providers.ApplyResponse{ID: req.ID}, nil
	}
	st, deferred, err := c.adminsState(ctx, req.Planned)
	if err != nil {
		return providers.ApplyResponse{}, err
	}
	if deferred != "" {
		return providers.ApplyResponse{}, fmt.Errorf("%s", deferred)
	}
	if st.noAppUser != nil {
		return providers.ApplyResponse{}, fmt.Errorf("%s: %w; add the app as an application user of the environment (run plan for the steps)", st.envName, st.noAppUser)
	}
	var notes []string
	if getBool(req.Planned, "enforce") {
		for _, h := range st.holders {
			// Microsoft's service accounts keep their role whatever the configuration says.
			if h.Declared != "" || h.Caller || h.Service {
				continue
			}
			for _, rid := range h.Roles {
				path := fmt.Sprintf("systemusers(%s)/systemuserroles_association(%s)/$ref", h.ID, rid)
				if err := st.dv.do(ctx, "DELETE", path, nil, nil); err != nil && !isStatus(err, 404) {
					return providers.ApplyResponse{}, fmt.Errorf("remove System Administrator from %s in %s: %w", h.name(), st.envName, err)
				}
			}
			notes = append(notes, fmt.Sprintf("System Administrator removed from %s", h.name()))
		}
	}
	return providers.ApplyResponse{ID: st.dv.env.Name + "/system-administrators", Notes: notes}, nil
}

// --- copilot_for_sales_settings --------------------------------------------------------------

// The settings live in msdyn_vivaorgsettings (msdyn_featurename, msdyn_orgsettings JSON) and
// msdyn_vivaentitysettings (msdyn_entitytype, msdyn_entitysettings JSON). The JSON inside is not
// documented; the keys below are the ones c4sctl knows (docs/api/powerplatform.md).
const (
	featureCopilot      = "CopilotFeatures"
	featureIntegrations = "Integrations"
)

var settingsSchema = &schema.Resource{Type: "copilot_for_sales_settings", Provider: "powerplatform", Singleton: true,
	Identity: func(v cty.Value) []schema.ObjectKey {
		return schema.AttrKey(v, "environment", "powerplatform:copilot_for_sales_settings", "the Copilot for Sales settings of environment", nil)
	},
	Description: "Step 8: Copilot for Sales admin settings, read from the environment's msdyn_vivaorgsettings and msdyn_vivaentitysettings tables. Differences are reported and planned as a manual change with the admin-page steps (Microsoft asks admins not to edit these tables); experimental_write = true writes them directly instead (experimental).",
	Attributes: []*schema.Attribute{
		{Name: "environment", Type: cty.String, Optional: true, Default: cty.StringVal(VivaEnvironment)},
		{Name: "salesforce_org_id", Type: cty.String, Optional: true, Echo: true, Description: "Id of the Salesforce org (00D...) whose settings these are: msdyn_vivaorgsettings holds rows per connected CRM org (msdyn_orgid). Unset: the one org the table holds rows for; with several, plan stops and asks for it."},
		{Name: "ai_features_enabled", Type: cty.Bool, Optional: true, Description: "AI features on."},
		{Name: "ai_release_channel", Type: cty.String, Optional: true, Enum: []string{"preview", "ga"}, Description: "AI features in preview or generally available only."},
		{Name: "record_fields", Type: cty.Map(cty.List(cty.String)), Optional: true, Description: "For each CRM record type (opportunity, account, ...), the fields shown, in order. Only the declared record types are compared."},
		{Name: "integrations", Type: cty.Map(cty.Bool), Optional: true, Description: "Integrations with other applications on or off, by name. Only the declared ones are compared."},
		{Name: "experimental_write", Type: cty.Bool, Optional: true, Default: cty.False, Echo: true, Description: "EXPERIMENTAL: write differences directly to the settings tables instead of planning a manual change. Microsoft asks admins not to modify these tables; the JSON format is undocumented and may change."},
		{Name: "application_user", Type: cty.Bool, Computed: true, Description: "Whether the app c4sctl signs in with is an application user of the environment (false: Dataverse refuses it, and plan asks an admin to add it)."},
	}}

type settingRow struct {
	ID, Key, OrgID string
	JSON           map[string]any
	Bad            bool
}

type settingsState struct {
	dv            *dataverse
	envName       string
	orgID         string // the Salesforce org whose msdyn_vivaorgsettings rows are read
	org, entities []*settingRow
	warnings      []string
	noAppUser     error // Dataverse refused the app (403 0x80072560): nothing was read
}

// sameSalesforceOrg compares Salesforce org ids, which come in a 15-character case-sensitive form
// and an 18-character form that adds a checksum (Salesforce: "What is a Salesforce ID").
func sameSalesforceOrg(a, b string) bool {
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	if len(a) >= 15 && len(b) >= 15 {
		return a[:15] == b[:15]
	}
	return a == b
}

// selectOrgRows keeps the msdyn_vivaorgsettings rows of one Salesforce org: the configured one,
// else the only org the table holds rows for. It never falls back to "the first row": rows of
// another org are another org's settings.
func selectOrgRows(rows []*settingRow, want string) (orgID string, out []*settingRow, err error) {
	var orgs []string
	for _, r := range rows {
		found := false
		for _, o := range orgs {
			found = found || sameSalesforceOrg(o, r.OrgID)
		}
		if !found {
			orgs = append(orgs, r.OrgID)
		}
	}
	sort.Strings(orgs)
	switch {
	case want != "":
		orgID = want
	case len(orgs) == 0:
		return "", nil, nil
	case len(orgs) == 1:
		orgID = orgs[0]
	default:
		return "", nil, &unidentifiedOrgError{fmt.Sprintf("msdyn_vivaorgsettings holds Copilot for Sales settings for %d Salesforce orgs (msdyn_orgid %s); set salesforce_org_id to the org whose settings c4sctl manages", len(orgs), strings.Join(quoteAll(orgs), ", "))}
	}
	for _, r := range rows {
		if sameSalesforceOrg(r.OrgID, orgID) {
			out = append(out, r)
		}
	}
	if len(out) == 0 && len(rows) > 0 {
		return "", nil, &unidentifiedOrgError{fmt.Sprintf("msdyn_vivaorgsettings has no rows for Salesforce org %s (it has rows for %s): check salesforce_org_id", orgID, strings.Join(quoteAll(orgs), ", "))}
	}
	return orgID, out, nil
}

// unidentifiedOrgError says the settings rows of the Salesforce org c4sctl manages cannot be told.
type unidentifiedOrgError struct{ msg string }

func (e *unidentifiedOrgError) Error() string { return e.msg }

func quoteAll(xs []string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = fmt.Sprintf("%q", x)
	}
	return out
}

func (c *Client) settingsState(ctx context.Context, cfg cty.Value) (*settingsState, string, error) {
	st := &settingsState{envName: attrs.String(cfg, "environment")}
	if st.envName == "" {
		st.envName = VivaEnvironment
	}
	dv, deferred, err := c.openDataverse(ctx, st.envName)
	if err != nil || deferred != "" {
		return nil, deferred, err
	}
	st.dv = dv
	read := func(set, idc, keyc, jsc, orgc string) ([]*settingRow, error) {
		var rows []*settingRow
		cols := idc + "," + keyc + "," + jsc
		if orgc != "" {
			cols += "," + orgc
		}
		err := dv.list(ctx, set+"?$select="+cols, func(m json.RawMessage) error {
			r, err := decodeSettingRow(m, set, idc, keyc, jsc, orgc)
			if err != nil {
				return err
			}
			if r.Bad {
				st.warnings = append(st.warnings, fmt.Sprintf("%s row %q: %s is not the JSON c4sctl knows; it cannot be compared.", set, r.Key, jsc))
			}
			rows = append(rows, r)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("read %s in %s: %w", set, st.envName, err)
		}
		return rows, nil
	}
	orgRows, err := read(orgSettingsSet, orgSettingsID, orgSettingsKey, orgSettingsJSON, orgSettingsOrg)
	if err != nil {
		if isNotAppUser(err) {
			st.noAppUser = err
			return st, "", nil
		}
		return nil, "", err
	}
	if st.orgID, st.org, err = selectOrgRows(orgRows, attrs.String(cfg, "salesforce_org_id")); err != nil {
		return nil, "", fmt.Errorf("copilot_for_sales_settings in %s: %w", st.envName, err)
	}
	if st.entities, err = read("msdyn_vivaentitysettings", "msdyn_vivaentitysettingid", "msdyn_entitytype", "msdyn_entitysettings", ""); err != nil {
		return nil, "", err
	}
	return st, "", nil
}

// The Copilot for Sales org settings table and its columns: one row per feature and connected CRM
// org (Microsoft Learn, "Set up glossary terms for Salesforce": FeatureName, OrgId; logical names
// in docs/api/powerplatform.md).
const (
	orgSettingsSet  = "msdyn_vivaorgsettings"
	orgSettingsID   = "msdyn_vivaorgsettingid"
	orgSettingsKey  = "msdyn_featurename"
	orgSettingsJSON = "msdyn_orgsettings"
	orgSettingsOrg  = "msdyn_orgid"
)

// decodeOrgSettingRow reads one msdyn_vivaorgsettings row.
func decodeOrgSettingRow(m json.RawMessage) (*settingRow, error) {
	return decodeSettingRow(m, orgSettingsSet, orgSettingsID, orgSettingsKey, orgSettingsJSON, orgSettingsOrg)
}

// decodeSettingRow reads one row of a settings table: id, key (feature name or entity type), the
// CRM org it belongs to (orgc, "" for a table without one) and the JSON held in the memo column
// (Bad when that is not a JSON object).
func decodeSettingRow(m json.RawMessage, set, idc, keyc, jsc, orgc string) (*settingRow, error) {
	var raw map[string]any
	if err := json.Unmarshal(m, &raw); err != nil {
		return nil, fmt.Errorf("Dataverse %s: unexpected row", set)
	}
	r := &settingRow{ID: s(raw[idc]), Key: s(raw[keyc])}
	if orgc != "" {
		r.OrgID = s(raw[orgc])
	}
	if err := json.Unmarshal([]byte(s(raw[jsc])), &r.JSON); err != nil || r.JSON == nil {
		r.Bad = true
	}
	return r, nil
}

// findRow returns the one readable row with that key; nil when there is none, or when several
// rows have it (then which one holds the setting cannot be told, and ambiguous says so).
func findRow(rows []*settingRow, key string) (row *settingRow, ambiguous bool) {
	for _, r := range rows {
		if strings.EqualFold(r.Key, key) && !r.Bad {
			if row != nil {
				return nil, true
			}
			row = r
		}
	}
	return row, false
}

// readRow is findRow for reading: an ambiguous key is a warning and the setting is left uncompared.
func (st *settingsState) readRow(rows []*settingRow, set, key string) *settingRow {
	r, ambiguous := findRow(rows, key)
	if ambiguous {
		st.warnings = append(st.warnings, fmt.Sprintf("%s has several %q rows for Salesforce org %s; c4sctl cannot tell which one Copilot for Sales uses, so that setting is not compared.", set, key, st.orgID))
	}
	return r
}

func (c *Client) readSettings(ctx context.Context, req providers.ReadRequest) (providers.ReadResponse, error) {
	st, deferred, err := c.settingsState(ctx, req.Config)
	if err != nil {
		return providers.ReadResponse{}, err
	}
	if deferred != "" {
		return providers.ReadResponse{Deferred: deferred + "; the Copilot for Sales settings live in it"}, nil
	}
	vals := map[string]cty.Value{"environment": cty.StringVal(st.envName), "experimental_write": cty.BoolVal(getBool(req.Config, "experimental_write")),
		"salesforce_org_id": configOr(req.Config, "salesforce_org_id", cty.String), "application_user": cty.True,
		"ai_features_enabled": cty.NullVal(cty.Bool), "ai_release_channel": cty.NullVal(cty.String),
		"record_fields": cty.NullVal(cty.Map(cty.List(cty.String))), "integrations": cty.NullVal(cty.Map(cty.Bool))}
	if st.noAppUser != nil {
		// Nothing could be read: the configuration stands in for the live value, and plan turns
		// application_user = false into the manual action that fixes it.
		for _, k := range []string{"ai_features_enabled", "ai_release_channel", "record_fields", "integrations"} {
			vals[k] = configOr(req.Config, k, vals[k].Type())
		}
		vals["application_user"] = cty.False
		return providers.ReadResponse{ID: st.dv.env.Name + "/copilot-for-sales-settings", Value: cty.ObjectVal(vals)}, nil
	}
	if r := st.readRow(st.org, "msdyn_vivaorgsettings", featureCopilot); r != nil {
		if b, ok := r.JSON["aiFeaturesEnabled"].(bool); ok {
			vals["ai_features_enabled"] = cty.BoolVal(b)
		}
		if ch := strings.ToLower(s(r.JSON["releaseChannel"])); ch != "" {
			vals["ai_release_channel"] = cty.StringVal(ch)
		}
	}
	// Maps: only the declared keys, so that undeclared record types and integrations are left alone.
	if declared := attrs.Get(req.Config, "record_fields"); declared != cty.NilVal && !declared.IsNull() && declared.IsWhollyKnown() {
		m := map[string]cty.Value{}
		for it := declared.ElementIterator(); it.Next(); {
			k, _ := it.Element()
			if r := st.readRow(st.entities, "msdyn_vivaentitysettings", k.AsString()); r != nil {
				fs, _ := r.JSON["fields"].([]any)
				var list []cty.Value
				for _, f := range fs {
					if fsn, ok := f.(string); ok {
						list = append(list, cty.StringVal(fsn))
					}
				}
				if len(list) == 0 {
					m[k.AsString()] = cty.ListValEmpty(cty.String)
				} else {
					m[k.AsString()] = cty.ListVal(list)
				}
			}
		}
		if len(m) == 0 {
			vals["record_fields"] = cty.MapValEmpty(cty.List(cty.String))
		} else {
			vals["record_fields"] = cty.MapVal(m)
		}
	}
	if declared := attrs.Get(req.Config, "integrations"); declared != cty.NilVal && !declared.IsNull() && declared.IsWhollyKnown() {
		m := map[string]cty.Value{}
		if r := st.readRow(st.org, "msdyn_vivaorgsettings", featureIntegrations); r != nil {
			ints, _ := r.JSON["integrations"].(map[string]any)
			for it := declared.ElementIterator(); it.Next(); {
				k, _ := it.Element()
				if b, ok := ints[k.AsString()].(bool); ok {
					m[k.AsString()] = cty.BoolVal(b)
				}
			}
		}
		if len(m) == 0 {
			vals["integrations"] = cty.MapValEmpty(cty.Bool)
		} else {
			vals["integrations"] = cty.MapVal(m)
		}
	}
	return providers.ReadResponse{ID: st.dv.env.Name + "/copilot-for-sales-settings", Value: cty.ObjectVal(vals), Warnings: st.warnings}, nil
}

// settingSteps describes, for each differing setting, what the admin does on the admin page.
func settingSteps(prior, planned cty.Value) []string {
	var steps []string
	if v := attrs.Get(planned, "ai_features_enabled"); v != cty.NilVal && !v.IsNull() && !v.RawEquals(attrs.Get(prior, "ai_features_enabled")) {
		steps = append(steps, fmt.Sprintf("Under AI features, turn Copilot for Sales AI features %s.", map[bool]string{true: "on", false: "off"}[v.True()]))
	}
	if v := attrs.Get(planned, "ai_release_channel"); v != cty.NilVal && !v.IsNull() && !v.RawEquals(attrs.Get(prior, "ai_release_channel")) {
		steps = append(steps, fmt.Sprintf("Under AI features, choose %s.", map[string]string{"preview": "to get preview features", "ga": "generally available features only"}[v.AsString()]))
	}
	if v := attrs.Get(planned, "record_fields"); v != cty.NilVal && !v.IsNull() && v.IsWhollyKnown() {
		p := attrs.Get(prior, "record_fields")
		for it := v.ElementIterator(); it.Next(); {
			k, fields := it.Element()
			var cur cty.Value = cty.NilVal
			if p != cty.NilVal && !p.IsNull() && p.HasIndex(k).True() {
				cur = p.Index(k)
			}
			if cur == cty.NilVal || !cur.RawEquals(fields) {
				var names []string
				for fi := fields.ElementIterator(); fi.Next(); {
					_, f := fi.Element()
					names = append(names, f.AsString())
				}
				steps = append(steps, fmt.Sprintf("Under Forms and fields, edit the %s record type so that it shows, in this order: %s.", k.AsString(), strings.Join(names, ", ")))
			}
		}
	}
	if v := attrs.Get(planned, "integrations"); v != cty.NilVal && !v.IsNull() && v.IsWhollyKnown() {
		p := attrs.Get(prior, "integrations")
		for it := v.ElementIterator(); it.Next(); {
			k, on := it.Element()
			if p == cty.NilVal || p.IsNull() || !p.HasIndex(k).True() || !p.Index(k).RawEquals(on) {
				steps = append(steps, fmt.Sprintf("Under Integrations, turn %s %s.", k.AsString(), map[bool]string{true: "on", false: "off"}[on.True()]))
			}
		}
	}
	return steps
}

func (c *Client) planSettings(req providers.PlanRequest) providers.PlanResponse {
	if req.Action == providers.Delete {
		return providers.PlanResponse{}
	}
	if v := attrs.Get(req.Prior, "application_user"); v != cty.NilVal && !v.IsNull() && v.False() {
		return providers.PlanResponse{Action: providers.Manual, Manual: c.addAppUserAction(attrs.String(req.Config, "environment"), fmt.Errorf("403 %s: The user is not a member of the organization", notAppUserCode))}
	}
	if req.Action != providers.Update && req.Action != providers.Create {
		return providers.PlanResponse{}
	}
	if getBool(req.Planned, "experimental_write") {
		return providers.PlanResponse{Warnings: []string{"experimental_write = true: c4sctl writes the msdyn_vivaorgsettings / msdyn_vivaentitysettings tables directly. Microsoft asks admins not to modify them, and their JSON format is undocumented; prefer the admin page."}}
	}
	steps := []string{"Open Copilot for Sales in Outlook or Teams as an admin and open its admin settings (Settings)."}
	steps = append(steps, settingSteps(req.Prior, req.Planned)...)
	steps = append(steps, "Save, then run c4sctl plan again: it reports no difference once the settings match.")
	return providers.PlanResponse{Action: providers.Manual, Manual: &providers.ManualAction{
		Summary: "Change the Copilot for Sales admin settings on the admin page (c4sctl only reads them; set experimental_write = true to write them directly, at your own risk).",
		Steps:   steps,
	}}
}

func (c *Client) applySettings(ctx context.Context, req providers.ApplyRequest) (providers.ApplyResponse, error) {
	if req.Action == providers.Delete {
		return providers.ApplyResponse{ID: req.ID}, nil
	}
	if !getBool(req.Planned, "experimental_write") {
		return providers.ApplyResponse{}, fmt.Errorf("the Copilot for Sales settings are changed on the admin page (see the plan's manual steps); c4sctl writes them only with experimental_write = true")
	}
	st, deferred, err := c.settingsState(ctx, req.Planned)
	if err != nil {
		return providers.ApplyResponse{}, err
	}
	if deferred != "" {
		return providers.ApplyResponse{}, fmt.Errorf("%s", deferred)
	}
	if st.noAppUser != nil {
		return providers.ApplyResponse{}, fmt.Errorf("%s: %w; add the app as an application user of the environment (run plan for the steps)", st.envName, st.noAppUser)
	}
	changed := map[*settingRow]string{} // row -> entity set
	// need refuses to write unless exactly one row of the selected Salesforce org holds the key:
	// writing another org's row, or one of two candidates, would change settings nobody asked for.
	need := func(rows []*settingRow, key, set string) (*settingRow, error) {
		r, ambiguous := findRow(rows, key)
		if ambiguous {
			return nil, fmt.Errorf("%s has several %s rows %q for Salesforce org %s; c4sctl cannot tell which one to write and writes none", st.envName, set, key, st.orgID)
		}
		if r == nil {
			if set == "msdyn_vivaorgsettings" {
				return nil, fmt.Errorf("%s has no readable %s row %q for Salesforce org %q; c4sctl only updates existing rows of the identified org", st.envName, set, key, st.orgID)
			}
			return nil, fmt.Errorf("%s has no readable %s row %q; c4sctl only updates existing rows", st.envName, set, key)
		}
		changed[r] = set
		return r, nil
	}
	if v := attrs.Get(req.Planned, "ai_features_enabled"); v != cty.NilVal && !v.IsNull() {
		r, err := need(st.org, featureCopilot, "msdyn_vivaorgsettings")
		if err != nil {
			return providers.ApplyResponse{}, err
		}
		r.JSON["aiFeaturesEnabled"] = v.True()
	}
	if v := attrs.Get(req.Planned, "ai_release_channel"); v != cty.NilVal && !v.IsNull() {
		r, err := need(st.org, featureCopilot, "msdyn_vivaorgsettings")
		if err != nil {
			return providers.ApplyResponse{}, err
		}
		r.JSON["releaseChannel"] = map[string]string{"ga": "GA", "preview": "Preview"}[v.AsString()]
	}
	if v := attrs.Get(req.Planned, "integrations"); v != cty.NilVal && !v.IsNull() && v.IsWhollyKnown() && v.LengthInt() > 0 {
		r, err := need(st.org, featureIntegrations, "msdyn_vivaorgsettings")
		if err != nil {
			return providers.ApplyResponse{}, err
		}
		ints, _ := r.JSON["integrations"].(map[string]any)
		if ints == nil {
			ints = map[string]any{}
		}
		for it := v.ElementIterator(); it.Next(); {
			k, on := it.Element()
			ints[k.AsString()] = on.True()
		}
		r.JSON["integrations"] = ints
	}
	if v := attrs.Get(req.Planned, "record_fields"); v != cty.NilVal && !v.IsNull() && v.IsWhollyKnown() {
		for it := v.ElementIterator(); it.Next(); {
			k, fields := it.Element()
			r, err := need(st.entities, k.AsString(), "msdyn_vivaentitysettings")
			if err != nil {
				return providers.ApplyResponse{}, err
			}
			var names []any
			for fi := fields.ElementIterator(); fi.Next(); {
				_, f := fi.Element()
				names = append(names, f.AsString())
			}
			r.JSON["fields"] = names
		}
	}
	for r, set := range changed {
		b, err := json.Marshal(r.JSON)
		if err != nil {
			return providers.ApplyResponse{}, err
		}
		col := "msdyn_orgsettings"
		if set == "msdyn_vivaentitysettings" {
			col = "msdyn_entitysettings"
		}
		// The PATCH sets one column to a whole value: sending it again cannot apply a change twice,
		// so the HTTP layer may replay it when its answer is lost.
		if err := st.dv.do(httpx.ReplaySafe(ctx), "PATCH", fmt.Sprintf("%s(%s)", set, r.ID), map[string]any{col: string(b)}, nil); err != nil {
			return providers.ApplyResponse{}, fmt.Errorf("write %s %q in %s: %w", set, r.Key, st.envName, err)
		}
	}
	return providers.ApplyResponse{ID: st.dv.env.Name + "/copilot-for-sales-settings", Notes: []string{"experimental: settings written directly to the Dataverse tables"}}, nil
}
