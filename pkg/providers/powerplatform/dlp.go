package powerplatform

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/c4sctl/c4sctl/pkg/httpx"
	"github.com/c4sctl/c4sctl/pkg/providers/attrs"
	"net/url"
	"sort"
	"strings"

	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/schema"
	"github.com/zclconf/go-cty/cty"
)

// Connector groups: the API's classifications and the names c4sctl's configuration uses.
var (
	groupToAPI   = map[string]string{"business": "Confidential", "non_business": "General", "blocked": "Blocked"}
	groupFromAPI = map[string]string{"Confidential": "business", "General": "non_business", "Blocked": "blocked"}
)

const connectorIDPrefix = "/providers/Microsoft.PowerApps/apis/"

// policyEntryType is one policy of the rule's computed `policies`: connector_group is the group
// the connector counts as in (the most restrictive when the policy lists it in several groups),
// listed_in every group that lists it (empty: not listed, so the policy's default group applies).
var policyEntryType = cty.Object(map[string]cty.Type{"name": cty.String, "display_name": cty.String, "scope": cty.String, "connector_group": cty.String, "listed_in": cty.List(cty.String), "excluded": cty.Bool})

var ruleSchema = &schema.Resource{Type: "powerplatform_dlp_connector_rule", Provider: "powerplatform", Singleton: true,
	// One rule per environment and connector; it edits part of every policy it lists and does not
	// exclude, which a powerplatform_dlp_policy of the same policy would undo.
	Identity: func(v cty.Value) []schema.ObjectKey {
		env, conn := attrs.String(v, "environment"), attrs.String(v, "connector")
		var out []schema.ObjectKey
		if env != "" && conn != "" {
			out = append(out, schema.ObjectKey{Key: "powerplatform:dlp_rule:" + schema.Fold(env) + ":" + schema.Fold(conn), Label: fmt.Sprintf("the %s rule of %s", conn, env)})
		}
		if pols := attrs.Get(v, "policies"); pols != cty.NilVal && !pols.IsNull() && pols.IsWhollyKnown() {
			for it := pols.ElementIterator(); it.Next(); {
				_, p := it.Element()
				if excluded, _ := attrs.Bool(p, "excluded"); excluded {
					continue
				}
				for _, k := range dlpPolicyKeys(p, "name", "display_name") {
					k.Part = true
					out = append(out, k)
				}
			}
		}
		return out
	},
	Description: "Step 5: no data loss prevention policy that applies to the environment (tenant-wide, all-except lists that do not exclude it, policies that name it) blocks the connector. Apply moves only that connector between groups of each policy.",
	Attributes: []*schema.Attribute{
		{Name: "environment", Type: cty.String, Optional: true, Default: cty.StringVal(VivaEnvironment), Description: "Environment the rule protects (display name, unique name or id)."},
		{Name: "connector", Type: cty.String, Optional: true, Default: cty.StringVal("shared_salesforce"), Description: "Connector name, e.g. shared_salesforce."},
		{Name: "blocked", Type: cty.Bool, Optional: true, Default: cty.False, Description: "Whether a policy c4sctl may edit blocks the connector; only false is supported (a blocked connector moves to business).",
			Validate: func(v cty.Value) error {
				if v.True() {
					return fmt.Errorf("blocked = true is not supported: this resource only unblocks the connector")
				}
				return nil
			}},
		{Name: "group", Type: cty.String, Optional: true, Enum: []string{"business", "non_business"}, Description: "Force a group in every applicable policy (business = Confidential, non_business = General). Unset: any group but blocked."},
		{Name: "exclude_policies", Type: cty.Set(cty.String), Optional: true, Echo: true, Description: "Policies (display names or ids) c4sctl must not edit; plan reports them when they block the connector."},
		{Name: "policies", Type: cty.List(policyEntryType), Computed: true, Description: "The policies that apply to the environment: name, display_name, scope, connector_group, excluded."},
	}}

// dlpPolicy is a policy as the admin API returns it (Raw: the whole body, sent back unchanged
// but for the fields c4sctl manages).
type dlpPolicy struct {
	Raw                                 map[string]any
	Name, DisplayName, EnvType, Default string
	Envs                                []string // environment ids
}

func parsePolicy(raw map[string]any) (*dlpPolicy, error) {
	d, ok := raw["policyDefinition"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("unexpected DLP policy JSON: no policyDefinition object")
	}
	p := &dlpPolicy{Raw: raw, Name: s(d["name"]), DisplayName: s(d["displayName"]), EnvType: s(d["environmentType"]), Default: s(d["defaultConnectorsClassification"])}
	if p.Name == "" {
		return nil, fmt.Errorf("unexpected DLP policy JSON: policyDefinition.name is empty")
	}
	envs, _ := d["environments"].([]any)
	for _, e := range envs {
		em, _ := e.(map[string]any)
		name := s(em["name"])
		if name == "" {
			id := s(em["id"])
			name = id[strings.LastIndex(id, "/")+1:]
		}
		if name != "" {
			p.Envs = append(p.Envs, name)
		}
	}
	return p, nil
}

func s(v any) string {
	x, _ := v.(string)
	return x
}

// connectorAPIName is a connector's API name, the last path segment of its id
// ("/providers/Microsoft.PowerApps/apis/shared_salesforce" -> "shared_salesforce"). In the v2 DLP
// API a connector's `name` is its display name ("Salesforce"), so it never identifies a connector:
// the Terraform Power Platform provider (internal/services/dlp_policy/api_dlp_policy.go) and the
// PowerApps admin module (Add-ConnectorsToPolicy) match connectors by id (docs/api/powerplatform.md).
func connectorAPIName(c map[string]any) string {
	id := s(c["id"])
	return id[strings.LastIndex(id, "/")+1:]
}

func (p *dlpPolicy) groups() []map[string]any {
	d, _ := p.Raw["policyDefinition"].(map[string]any)
	gs, _ := d["connectorGroups"].([]any)
	var out []map[string]any
	for _, g := range gs {
		if gm, ok := g.(map[string]any); ok {
			out = append(out, gm)
		}
	}
	return out
}

// connectorPlacement is where a policy puts one connector.
type connectorPlacement struct {
	Listed  []string // classifications of the groups listing it, in the policy's order, no repeats
	Display string   // its display name as the policy gives it ("" when not listed)
	Class   string   // the classification it counts as
}

// Inconsistent tells whether the policy lists the connector in more than one group (the admin API
// can hold such a policy).
func (pl connectorPlacement) Inconsistent() bool { return len(pl.Listed) > 1 }

// placement finds the connector (by API name) in the policy's groups. A connector listed in no
// group has the default classification; listed in several, Blocked wins when one of them is
// Blocked (the most restrictive group decides), else the first group listing it.
func (p *dlpPolicy) placement(connector string) connectorPlacement {
	var pl connectorPlacement
	for _, g := range p.groups() {
		cs, _ := g["connectors"].([]any)
		for _, c := range cs {
			cm, ok := c.(map[string]any)
			if !ok || !strings.EqualFold(connectorAPIName(cm), connector) {
				continue
			}
			if pl.Display == "" {
				pl.Display = s(cm["name"])
			}
			if class := s(g["classification"]); !containsFold(pl.Listed, class) {
				pl.Listed = append(pl.Listed, class)
			}
		}
	}
	switch {
	case len(pl.Listed) == 0:
		pl.Class = p.Default
	case containsFold(pl.Listed, "Blocked"):
		pl.Class = "Blocked"
	default:
		pl.Class = pl.Listed[0]
	}
	return pl
}

// group is the classification the connector counts as in the policy.
func (p *dlpPolicy) group(connector string) string { return p.placement(connector).Class }

// moveConnector puts one connector into exactly one group, the classification's, keeping its JSON
// object (and everything else in the policy) unchanged; every other listing of it is removed.
func (p *dlpPolicy) moveConnector(connector, class string) error {
	var moved map[string]any
	for _, g := range p.groups() {
		cs, _ := g["connectors"].([]any)
		keep := make([]any, 0, len(cs))
		for _, c := range cs {
			if cm, ok := c.(map[string]any); ok && strings.EqualFold(connectorAPIName(cm), connector) {
				if moved == nil {
					moved = cm
				}
				continue
			}
			keep = append(keep, c)
		}
		if len(keep) != len(cs) {
			g["connectors"] = keep
		}
	}
	if moved == nil {
		moved = newConnectorJSON(connector)
	}
	for _, g := range p.groups() {
		if s(g["classification"]) == class {
			cs, _ := g["connectors"].([]any)
			g["connectors"] = append(cs, moved)
			return nil
		}
	}
	d := p.Raw["policyDefinition"].(map[string]any)
	gs, _ := d["connectorGroups"].([]any)
	d["connectorGroups"] = append(gs, map[string]any{"classification": class, "connectors": []any{moved}})
	return nil
}

// newConnectorJSON is a connector entry c4sctl adds to a group: id and type as the API gives them,
// `name` the API name, as the Terraform provider sends it (convertPolicyModelToDlpPolicy); the
// service answers with the display name there.
func newConnectorJSON(apiName string) map[string]any {
	return map[string]any{"id": connectorIDPrefix + apiName, "name": apiName, "type": connectorType}
}

// connectorType is the `type` of every standard connector in a policy (TF provider test data
// tests/datasource/Validate_Read/get_policy_*.json).
const connectorType = "Microsoft.PowerApps/apis"

// readOnlyPolicyFields are the policyDefinition fields the service sets: they are never sent back
// in a PATCH or POST (the Terraform provider's request body, convertPolicyModelToDlpPolicy, carries
// none of their values).
var readOnlyPolicyFields = []string{"etag", "createdBy", "createdTime", "lastModifiedBy", "lastModifiedTime", "isLegacySchemaVersion"}

// writableBody is the policy body to send: the whole policy as read, less the read-only fields.
func writableBody(raw map[string]any) map[string]any {
	out := make(map[string]any, len(raw))
	for k, v := range raw {
		out[k] = v
	}
	if d, ok := raw["policyDefinition"].(map[string]any); ok {
		dd := make(map[string]any, len(d))
		for k, v := range d {
			dd[k] = v
		}
		for _, k := range readOnlyPolicyFields {
			delete(dd, k)
		}
		out["policyDefinition"] = dd
	}
	return out
}

// applies tells whether the policy applies to the environment (nil: it does not exist yet, and
// the policy would apply to it once created) and describes its scope.
func (p *dlpPolicy) applies(env *Environment) (bool, string) {
	in := env != nil && containsFold(p.Envs, env.Name)
	switch p.EnvType {
	case "AllEnvironments":
		return true, "all environments"
	case "ExceptEnvironments":
		return !in, fmt.Sprintf("all environments except %d", len(p.Envs))
	case "OnlyEnvironments":
		return in, fmt.Sprintf("only %d named environment(s)", len(p.Envs))
	}
	// An unknown scope is reported as applying: better a false alarm than a silent block.
	return true, "scope " + p.EnvType
}

// policyDefinitions lists every policy's definition (every page of the list; the list carries
// no connector groups, so each policy is read on its own for those).
func (c *Client) policyDefinitions(ctx context.Context) ([]map[string]any, error) {
	var out []map[string]any
	err := c.bapList(ctx, bapPolicies, func(m json.RawMessage) error {
		var v map[string]any
		if err := json.Unmarshal(m, &v); err != nil {
			return fmt.Errorf("unexpected DLP policy JSON in the list: %v", err)
		}
		d, _ := v["policyDefinition"].(map[string]any)
		if s(d["name"]) != "" {
			out = append(out, d)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list DLP policies: %w", err)
	}
	return out, nil
}

func (c *Client) policyNames(ctx context.Context) ([]string, error) {
	defs, err := c.policyDefinitions(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, d := range defs {
		out = append(out, s(d["name"]))
	}
	return out, nil
}

// getPolicy reads one policy; nil when it does not exist.
func (c *Client) getPolicy(ctx context.Context, name string) (*dlpPolicy, error) {
	var raw map[string]any
	if err := c.bapDo(ctx, "GET", bapPolicies+"/"+url.PathEscape(name), nil, &raw); err != nil {
		if isStatus(err, 404) {
			return nil, nil
		}
		return nil, fmt.Errorf("read DLP policy %s: %w", name, err)
	}
	return parsePolicy(raw)
}

func (c *Client) policies(ctx context.Context) ([]*dlpPolicy, error) {
	names, err := c.policyNames(ctx)
	if err != nil {
		return nil, err
	}
	var out []*dlpPolicy
	for _, n := range names {
		p, err := c.getPolicy(ctx, n)
		if err != nil {
			return nil, err
		}
		if p != nil {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i].DisplayName) < strings.ToLower(out[j].DisplayName) })
	return out, nil
}

// patchPolicy sends the whole policy body back (the API replaces the policy), less the read-only
// fields. No etag or If-Match is sent: no public source documents optimistic concurrency on this
// API and the Terraform provider sends none, so callers re-read the policy right before the PATCH
// (docs/api/powerplatform.md, "etag").
func (c *Client) patchPolicy(ctx context.Context, p *dlpPolicy) error {
	// The body is the whole policy, so sending it again cannot apply a change twice: the HTTP
	// layer may replay it when its answer is lost instead of returning an unknown outcome.
	if err := c.bapDo(httpx.ReplaySafe(ctx), "PATCH", bapPolicies+"/"+url.PathEscape(p.Name), writableBody(p.Raw), nil); err != nil {
		return fmt.Errorf("update DLP policy %q: %w", p.DisplayName, err)
	}
	return nil
}

// --- powerplatform_dlp_connector_rule --------------------------------------------------------

type ruleEntry struct {
	policy   *dlpPolicy
	scope    string
	group    string   // API classification the connector counts as in
	listed   []string // classifications of the groups listing it (more than one: inconsistent)
	display  string   // the connector's display name in the policy, "" when not listed
	excluded bool
}

func (e ruleEntry) inconsistent() bool { return len(e.listed) > 1 }

type ruleState struct {
	envName, connector, group string // group: desired API classification ("" = any but Blocked)
	excludes                  []string
	env                       *Environment
	entries                   []ruleEntry
	warnings                  []string
}

func ruleInputs(cfg cty.Value, id string) (env, connector, group string, excludes []string) {
	env, connector = attrs.String(cfg, "environment"), attrs.String(cfg, "connector")
	if env == "" || connector == "" {
		if e, cn, ok := strings.Cut(id, "/"); ok {
			env, connector = e, cn
		}
	}
	if env == "" {
		env = VivaEnvironment
	}
	if connector == "" {
		connector = "shared_salesforce"
	}
	connector = strings.TrimPrefix(connector, connectorIDPrefix)
	group = groupToAPI[attrs.String(cfg, "group")]
	excludes, _ = attrs.Strings(cfg, "exclude_policies")
	return
}

func (c *Client) ruleState(ctx context.Context, cfg cty.Value, id string) (*ruleState, error) {
	st := &ruleState{}
	st.envName, st.connector, st.group, st.excludes = ruleInputs(cfg, id)
	var err error
	if st.env, err = c.findEnvironment(ctx, st.envName); err != nil {
		return nil, err
	}
	ps, err := c.policies(ctx)
	if err != nil {
		return nil, err
	}
	matched := map[string]bool{}
	for _, p := range ps {
		excluded := false
		for _, x := range st.excludes {
			if strings.EqualFold(x, p.Name) || strings.EqualFold(x, p.DisplayName) {
				excluded, matched[strings.ToLower(x)] = true, true
			}
		}
		ok, scope := p.applies(st.env)
		if !ok {
			continue
		}
		pl := p.placement(st.connector)
		e := ruleEntry{policy: p, scope: scope, group: pl.Class, listed: pl.Listed, display: pl.Display, excluded: excluded}
		st.entries = append(st.entries, e)
		if excluded && e.group == "Blocked" {
			st.warnings = append(st.warnings, fmt.Sprintf("DLP policy %q (%s) blocks %s for %s, but it is in exclude_policies, so c4sctl does not change it: Copilot for Sales cannot reach Salesforce until an admin moves the connector out of Blocked in that policy.", p.DisplayName, scope, st.connector, st.envName))
		}
	}
	for _, x := range st.excludes {
		if !matched[strings.ToLower(x)] {
			st.warnings = append(st.warnings, fmt.Sprintf("exclude_policies names %q, but no DLP policy has that name or id.", x))
		}
	}
	if w := apiNameWarning(st.connector); w != "" {
		st.warnings = append(st.warnings, w)
	}
	if st.env == nil {
		st.warnings = append(st.warnings, fmt.Sprintf("Environment %s does not exist yet (%s). The policies that will apply to it once created (all environments, or all except a list) are checked now.", st.envName, step7))
	}
	return st, nil
}

// apiNameWarning warns when a configured connector does not look like an API name: connectors are
// matched by the last segment of their id (shared_salesforce), so a display name ("Salesforce")
// matches nothing and the policy's default group would be reported for it. API names in the TF
// provider's test data and Microsoft's connector list all start with "shared_" (assumed for every
// connector, hence a warning, not an error).
func apiNameWarning(connector string) string {
	if strings.HasPrefix(strings.ToLower(connector), "shared_") {
		return ""
	}
	return fmt.Sprintf("connector %q does not look like a connector API name (e.g. shared_salesforce, the last segment of the connector's id); c4sctl never matches connectors by display name, so if this is a display name no policy lists it.", connector)
}

// target is the classification an entry must move to, or "" when it is fine. A connector listed
// in several groups always moves, into exactly one: the configured group, else business when it
// counts as Blocked, else the first non-blocked group listing it.
func (st *ruleState) target(e ruleEntry) string {
	if e.excluded {
		return ""
	}
	switch {
	case st.group != "":
		if e.group != st.group || e.inconsistent() {
			return st.group
		}
	case e.group == "Blocked":
		return "Confidential"
	case e.inconsistent():
		for _, g := range e.listed {
			if g != "Blocked" {
				return g
			}
		}
	}
	return ""
}

func (c *Client) readRule(ctx context.Context, req providers.ReadRequest) (providers.ReadResponse, error) {
	st, err := c.ruleState(ctx, req.Config, req.ID)
	if err != nil {
		return providers.ReadResponse{}, err
	}
	blocked := false
	var live string // the group to report for `group`
	var entries []cty.Value
	for _, e := range st.entries {
		if !e.excluded {
			blocked = blocked || e.group == "Blocked"
			if st.group != "" && e.group != st.group && live == "" {
				live = e.group
			}
		}
		listed := cty.ListValEmpty(cty.String)
		if len(e.listed) > 0 {
			var ls []cty.Value
			for _, g := range e.listed {
				ls = append(ls, cty.StringVal(groupName(g)))
			}
			listed = cty.ListVal(ls)
		}
		entries = append(entries, cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal(e.policy.Name), "display_name": cty.StringVal(e.policy.DisplayName),
			"scope": cty.StringVal(e.scope), "connector_group": cty.StringVal(groupName(e.group)), "listed_in": listed, "excluded": cty.BoolVal(e.excluded)}))
		if e.inconsistent() && e.excluded {
			st.warnings = append(st.warnings, fmt.Sprintf("DLP policy %q is inconsistent: it lists %s in %s; it counts as %s. The policy is in exclude_policies, so c4sctl does not change it.", e.policy.DisplayName, st.connector, joinGroups(e.listed), describeGroup(e.group)))
		}
	}
	group := cty.NullVal(cty.String)
	if st.group != "" {
		if live == "" {
			live = st.group
		}
		group = cty.StringVal(groupName(live))
	}
	pols := cty.ListValEmpty(policyEntryType)
	if len(entries) > 0 {
		pols = cty.ListVal(entries)
	}
	val := cty.ObjectVal(map[string]cty.Value{
		"environment": cty.StringVal(st.envName), "connector": cty.StringVal(st.connector), "blocked": cty.BoolVal(blocked), "group": group,
		"exclude_policies": configOr(req.Config, "exclude_policies", cty.Set(cty.String)), "policies": pols,
	})
	return providers.ReadResponse{ID: st.envName + "/" + st.connector, Value: val, Warnings: st.warnings}, nil
}

func groupName(class string) string {
	if g, ok := groupFromAPI[class]; ok {
		return g
	}
	return class
}

func describeGroup(class string) string {
	switch class {
	case "Confidential":
		return "business (Confidential)"
	case "General":
		return "non-business (General)"
	case "Blocked":
		return "Blocked"
	}
	return class
}

func joinGroups(classes []string) string {
	var ds []string
	for _, c := range classes {
		ds = append(ds, describeGroup(c))
	}
	return strings.Join(ds, " and ")
}

// planRule explains, policy by policy, where the connector is and what apply does. A policy that
// lists the connector in several groups needs a change even when the connector is not blocked, so
// the rule is planned as an update then.
func planRule(req providers.PlanRequest) providers.PlanResponse {
	var resp providers.PlanResponse
	if req.Action != providers.Update && req.Action != providers.Create && req.Action != providers.NoOp {
		return resp
	}
	_, connector, group, _ := ruleInputs(req.Config, req.ID)
	st := &ruleState{connector: connector, group: group}
	pols := attrs.Get(req.Prior, "policies")
	if pols == cty.NilVal || pols.IsNull() || !pols.IsWhollyKnown() {
		return resp
	}
	var notes []string
	moves := false
	for it := pols.ElementIterator(); it.Next(); {
		_, p := it.Element()
		e := ruleEntry{policy: &dlpPolicy{DisplayName: attrs.String(p, "display_name")}, scope: attrs.String(p, "scope"), group: toAPIGroup(attrs.String(p, "connector_group")), excluded: getBool(p, "excluded")}
		listed, _ := attrs.Strings(p, "listed_in")
		for _, l := range listed {
			e.listed = append(e.listed, toAPIGroup(l))
		}
		var line string
		if e.inconsistent() {
			line = fmt.Sprintf("DLP policy %q (%s) is inconsistent: it lists %s in %s, so it counts as %s (the most restrictive group wins)", e.policy.DisplayName, e.scope, connector, joinGroups(e.listed), describeGroup(e.group))
		} else {
			line = fmt.Sprintf("DLP policy %q (%s): %s is in %s", e.policy.DisplayName, e.scope, connector, describeGroup(e.group))
		}
		switch t := st.target(e); {
		case e.excluded:
			line += "; excluded, not changed"
		case t != "" && e.inconsistent():
			moves = true
			line += "; apply moves it to exactly one group, " + describeGroup(t) + " (only this connector changes)"
		case t != "":
			moves = true
			line += "; moves to " + describeGroup(t) + " (only this connector changes)"
		default:
			line += "; unchanged"
		}
		notes = append(notes, line)
	}
	if req.Action == providers.NoOp {
		if !moves {
			return resp
		}
		resp.Action = providers.Update
	}
	resp.Notes = notes
	return resp
}

func toAPIGroup(name string) string {
	if g, ok := groupToAPI[name]; ok {
		return g
	}
	return name
}

func (c *Client) applyRule(ctx context.Context, req providers.ApplyRequest) (providers.ApplyResponse, error) {
	cfg := req.Planned
	if req.Action == providers.Delete {
		return providers.ApplyResponse{ID: req.ID}, nil // nothing to undo: c4sctl stops managing the rule
	}
	st, err := c.ruleState(ctx, cfg, req.ID)
	if err != nil {
		return providers.ApplyResponse{}, err
	}
	var notes []string
	for _, e := range st.entries {
		if st.target(e) == "" {
			continue
		}
		// Re-read right before the update: no etag is sent (docs/api/powerplatform.md), and
		// another admin may have changed the policy since plan.
		p, err := c.getPolicy(ctx, e.policy.Name)
		if err != nil {
			return providers.ApplyResponse{}, err
		}
		if p == nil {
			notes = append(notes, fmt.Sprintf("DLP policy %q was deleted meanwhile", e.policy.DisplayName))
			continue
		}
		pl := p.placement(st.connector)
		t := st.target(ruleEntry{group: pl.Class, listed: pl.Listed})
		if t == "" {
			continue
		}
		if err := p.moveConnector(st.connector, t); err != nil {
			return providers.ApplyResponse{}, err
		}
		if err := c.patchPolicy(ctx, p); err != nil {
			return providers.ApplyResponse{}, err
		}
		if pl.Inconsistent() {
			notes = append(notes, fmt.Sprintf("DLP policy %q: %s was in %s; now only in %s", p.DisplayName, st.connector, joinGroups(pl.Listed), describeGroup(t)))
		} else {
			notes = append(notes, fmt.Sprintf("DLP policy %q: %s moved to %s", p.DisplayName, st.connector, describeGroup(t)))
		}
	}
	return providers.ApplyResponse{ID: st.envName + "/" + st.connector, Notes: notes}, nil
}

// --- powerplatform_dlp_policy ----------------------------------------------------------------

var policySchema = &schema.Resource{Type: "powerplatform_dlp_policy", Provider: "powerplatform",
	Identity:    func(v cty.Value) []schema.ObjectKey { return dlpPolicyKeys(v, "id", "display_name") },
	Description: "A whole data loss prevention policy owned by c4sctl: display name, environment scope, connector groups and the group of new connectors.",
	Attributes: []*schema.Attribute{
		{Name: "display_name", Type: cty.String, Required: true, Description: "Display name; identifies the policy."},
		{Name: "environment_type", Type: cty.String, Optional: true, Default: cty.StringVal("AllEnvironments"), Enum: []string{"AllEnvironments", "ExceptEnvironments", "OnlyEnvironments"}, Description: "Scope of the policy."},
		{Name: "environments", Type: cty.Set(cty.String), Optional: true, Description: "Environments (display name, unique name or id) excluded (ExceptEnvironments) or included (OnlyEnvironments)."},
		{Name: "business_connectors", Type: cty.Set(cty.String), Optional: true, Description: "Connectors in the business (Confidential) group, e.g. shared_salesforce."},
		{Name: "non_business_connectors", Type: cty.Set(cty.String), Optional: true, Description: "Connectors in the non-business (General) group."},
		{Name: "blocked_connectors", Type: cty.Set(cty.String), Optional: true, Description: "Blocked connectors."},
		{Name: "default_group", Type: cty.String, Optional: true, Default: cty.StringVal("non_business"), Enum: []string{"business", "non_business", "blocked"}, Description: "Group of connectors not listed (defaultConnectorsClassification)."},
		{Name: "id", Type: cty.String, Computed: true, Description: "Policy id (name in the admin API)."},
	},
	// A connector belongs to one group (planPolicy compares them the same way).
	Distinct: []schema.Distinct{{Attributes: []string{"business_connectors", "non_business_connectors", "blocked_connectors"}, What: "connector",
		Key: func(s string) string { return strings.ToLower(strings.TrimPrefix(s, connectorIDPrefix)) }}},
}

var groupAttrs = []struct{ attr, class string }{{"business_connectors", "Confidential"}, {"non_business_connectors", "General"}, {"blocked_connectors", "Blocked"}}

// policyIDByName returns the id of the one policy with that display name, "" when none has it.
func (c *Client) policyIDByName(ctx context.Context, name string) (string, error) {
	defs, err := c.policyDefinitions(ctx)
	if err != nil {
		return "", err
	}
	var ids []string
	for _, d := range defs {
		if strings.EqualFold(s(d["displayName"]), name) {
			ids = append(ids, s(d["name"]))
		}
	}
	if len(ids) > 1 {
		return "", fmt.Errorf("%d DLP policies are named %q (%s); rename one in the Power Platform admin centre so that c4sctl can tell which it owns", len(ids), name, strings.Join(ids, ", "))
	}
	if len(ids) == 1 {
		return ids[0], nil
	}
	return "", nil
}

func (c *Client) readPolicy(ctx context.Context, req providers.ReadRequest) (providers.ReadResponse, error) {
	var p *dlpPolicy
	var err error
	if req.ID != "" {
		if p, err = c.getPolicy(ctx, req.ID); err != nil {
			return providers.ReadResponse{}, err
		}
	} else {
		id, err := c.policyIDByName(ctx, attrs.String(req.Config, "display_name"))
		if err != nil {
			return providers.ReadResponse{}, err
		}
		if id != "" {
			if p, err = c.getPolicy(ctx, id); err != nil {
				return providers.ReadResponse{}, err
			}
		}
	}
	ty := policySchema.ImpliedType()
	if p == nil {
		return providers.ReadResponse{Value: cty.NullVal(ty)}, nil
	}
	vals := map[string]cty.Value{"display_name": cty.StringVal(p.DisplayName), "environment_type": cty.StringVal(p.EnvType),
		"default_group": cty.StringVal(groupName(p.Default)), "id": cty.StringVal(p.Name)}
	var warnings []string
	reported := map[string]bool{}
	for _, ga := range groupAttrs {
		var names []string
		for _, g := range p.groups() {
			if s(g["classification"]) != ga.class {
				continue
			}
			cs, _ := g["connectors"].([]any)
			for _, cn := range cs {
				cm, ok := cn.(map[string]any)
				if !ok {
					continue
				}
				n := connectorAPIName(cm)
				names = append(names, n)
				if pl := p.placement(n); pl.Inconsistent() && !reported[strings.ToLower(n)] {
					reported[strings.ToLower(n)] = true
					warnings = append(warnings, fmt.Sprintf("DLP policy %q is inconsistent: it lists %s in %s, so it counts as %s (the most restrictive group wins); apply puts it in exactly the group the configuration declares.", p.DisplayName, n, joinGroups(pl.Listed), describeGroup(pl.Class)))
				}
			}
		}
		vals[ga.attr] = attrs.StringSet(names)
	}
	// Environments: in the configuration's spelling when it names the same environment.
	envNames := []string{}
	if len(p.Envs) > 0 {
		envs, err := c.environments(ctx)
		if err != nil {
			return providers.ReadResponse{}, err
		}
		declared, _ := attrs.Strings(req.Config, "environments")
		for _, id := range p.Envs {
			name := id
			if e, _ := matchEnvironment(envs, id); e != nil {
				name = e.DisplayName
				for _, d := range declared {
					if de, _ := matchEnvironment(envs, d); de != nil && de.Name == e.Name {
						name = d
					}
				}
			}
			envNames = append(envNames, name)
		}
	}
	vals["environments"] = attrs.StringSet(envNames)
	return providers.ReadResponse{ID: p.Name, Value: cty.ObjectVal(vals), Warnings: warnings}, nil
}

func planPolicy(req providers.PlanRequest) (providers.PlanResponse, error) {
	if req.Action != providers.Create && req.Action != providers.Update {
		return providers.PlanResponse{}, nil
	}
	seen := map[string]string{}
	var resp providers.PlanResponse
	for _, ga := range groupAttrs {
		names, _ := attrs.Strings(req.Planned, ga.attr)
		for _, n := range names {
			if w := apiNameWarning(strings.TrimPrefix(n, connectorIDPrefix)); w != "" {
				resp.Warnings = append(resp.Warnings, ga.attr+": "+w)
			}
			k := strings.ToLower(strings.TrimPrefix(n, connectorIDPrefix))
			if prev, dup := seen[k]; dup {
				return providers.PlanResponse{}, fmt.Errorf("connector %s is in both %s and %s; a connector belongs to one group", n, prev, ga.attr)
			}
			seen[k] = ga.attr
		}
	}
	envs, _ := attrs.Strings(req.Planned, "environments")
	if attrs.String(req.Planned, "environment_type") == "OnlyEnvironments" && len(envs) == 0 {
		return providers.PlanResponse{}, fmt.Errorf("environment_type = \"OnlyEnvironments\" needs at least one entry in environments")
	}
	return resp, nil
}

// setPolicyFields writes the managed fields of planned into the policy body, keeping the JSON of
// connectors that stay where they are.
func (c *Client) setPolicyFields(ctx context.Context, raw map[string]any, planned cty.Value) error {
	d, _ := raw["policyDefinition"].(map[string]any)
	if d == nil {
		d = map[string]any{}
		raw["policyDefinition"] = d
	}
	d["displayName"] = attrs.String(planned, "display_name")
	d["environmentType"] = attrs.String(planned, "environment_type")
	d["defaultConnectorsClassification"] = groupToAPI[attrs.String(planned, "default_group")]
	envNames, _ := attrs.Strings(planned, "environments")
	envList := []any{}
	if len(envNames) > 0 && d["environmentType"] != "AllEnvironments" {
		envs, err := c.environments(ctx)
		if err != nil {
			return err
		}
		for _, n := range envNames {
			e, err := matchEnvironment(envs, n)
			if err != nil {
				return err
			}
			if e == nil {
				return fmt.Errorf("environments names %q, but no environment has that display name, unique name or id", n)
			}
			envList = append(envList, map[string]any{"id": "/providers/Microsoft.BusinessAppPlatform/scopes/admin/environments/" + e.Name, "name": e.Name, "type": "Microsoft.BusinessAppPlatform/scopes/environments"})
		}
	}
	d["environments"] = envList
	existing := map[string]map[string]any{}
	old, _ := d["connectorGroups"].([]any)
	for _, g := range old {
		gm, _ := g.(map[string]any)
		cs, _ := gm["connectors"].([]any)
		for _, cn := range cs {
			if cm, ok := cn.(map[string]any); ok {
				existing[strings.ToLower(connectorAPIName(cm))] = cm
			}
		}
	}
	groups := []any{}
	for _, ga := range groupAttrs {
		names, _ := attrs.Strings(planned, ga.attr)
		sort.Strings(names)
		cs := []any{}
		for _, n := range names {
			n = strings.TrimPrefix(n, connectorIDPrefix)
			if cm, ok := existing[strings.ToLower(n)]; ok {
				cs = append(cs, cm)
			} else {
				cs = append(cs, newConnectorJSON(n))
			}
		}
		groups = append(groups, map[string]any{"classification": ga.class, "connectors": cs})
	}
	d["connectorGroups"] = groups
	return nil
}

func (c *Client) applyPolicy(ctx context.Context, req providers.ApplyRequest) (providers.ApplyResponse, error) {
	switch req.Action {
	case providers.Delete:
		if err := c.bapDo(ctx, "DELETE", bapPolicies+"/"+url.PathEscape(req.ID), nil, nil); err != nil && !isStatus(err, 404) {
			return providers.ApplyResponse{}, fmt.Errorf("delete DLP policy: %w", err)
		}
		return providers.ApplyResponse{}, nil
	case providers.Create:
		// The catch-all custom connector rule every policy the service returns carries (TF provider
		// test data get_policy_*.json): custom connectors not matched otherwise are ignored.
		raw := map[string]any{"customConnectorUrlPatternsDefinition": map[string]any{"rules": []any{map[string]any{"order": 1, "customConnectorRuleClassification": "Ignore", "pattern": "*"}}}}
		if err := c.setPolicyFields(ctx, raw, req.Planned); err != nil {
			return providers.ApplyResponse{}, err
		}
		name := attrs.String(req.Planned, "display_name")
		// A lost answer: the policy may have been made. Look for it by its display name, and
		// send the create again only when it is not there.
		id, err := providers.CreateOnce(ctx, func(ctx context.Context) (string, error) {
			var out map[string]any
			if err := c.bapDo(ctx, "POST", bapPolicies, raw, &out); err != nil {
				return "", err
			}
			p, err := parsePolicy(out)
			if err != nil {
				return "", err
			}
			return p.Name, nil
		}, func(ctx context.Context) (string, bool, error) {
			id, err := c.policyIDByName(ctx, name)
			return id, id != "", err
		})
		if err != nil {
			return providers.ApplyResponse{}, fmt.Errorf("create DLP policy %q: %w", name, err)
		}
		return providers.ApplyResponse{ID: id}, nil
	default:
		p, err := c.getPolicy(ctx, req.ID)
		if err != nil {
			return providers.ApplyResponse{}, err
		}
		if p == nil {
			return providers.ApplyResponse{}, fmt.Errorf("DLP policy %s no longer exists; run plan again to create it", req.ID)
		}
		if err := c.setPolicyFields(ctx, p.Raw, req.Planned); err != nil {
			return providers.ApplyResponse{}, err
		}
		if err := c.patchPolicy(ctx, p); err != nil {
			return providers.ApplyResponse{}, err
		}
		return providers.ApplyResponse{ID: p.Name}, nil
	}
}

// dlpPolicyKeys are the identity keys of a DLP policy: its id (the admin API's name) and its
// display name, case-insensitively (the adapter finds a policy by display name that way; the
// admin API refuses a second policy of the same display name: docs/api/powerplatform.md).
func dlpPolicyKeys(v cty.Value, idAttr, nameAttr string) []schema.ObjectKey {
	label := fmt.Sprintf("DLP policy %q", attrs.String(v, nameAttr))
	out := schema.AttrKey(v, idAttr, "powerplatform:dlp_policy:id", "DLP policy", nil)
	out = append(out, schema.AttrKey(v, nameAttr, "powerplatform:dlp_policy:name", "DLP policy", nil)...)
	for i := range out {
		out[i].Label = label
	}
	return out
}
