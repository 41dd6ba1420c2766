package plan

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/schema"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// JSONFormatVersion is the version of the machine-readable plan document (docs/json-plan.md).
// The minor number grows when fields are added; the major number when any field changes meaning
// or goes away.
const JSONFormatVersion = "1.3"

// SensitiveValue is what people see in place of a sensitive value.
const SensitiveValue = "(sensitive value)"

// JSONPlan is the machine-readable plan document printed by `plan --json` and `show --json`.
// Sensitive values are never in it: their attributes are null in before/after and flagged in
// before_sensitive/after_sensitive.
type JSONPlan struct {
	FormatVersion string `json:"format_version"`
	C4sctlVersion string `json:"c4sctl_version"`
	RefreshOnly   bool   `json:"refresh_only"`
	// Destroy: the plan removes every object in state (`plan --destroy`).
	Destroy bool `json:"destroy,omitempty"`
	// Sandbox: the plan was made against the c4sctl sandbox, not a real tenant and org.
	Sandbox bool `json:"sandbox"`
	// Labels name ids the plan shows: lowercased id -> display name (Plan.Labels).
	Labels          map[string]string     `json:"labels"`
	Summary         JSONSummary           `json:"summary"`
	ResourceChanges []JSONResourceChange  `json:"resource_changes"`
	ResourceDrift   []JSONResourceDrift   `json:"resource_drift"`
	ManualActions   []JSONManualAction    `json:"manual_actions"`
	Deferred        []JSONDeferred        `json:"deferred"`
	Warnings        []JSONMessage         `json:"warnings"`
	Notes           []JSONMessage         `json:"notes"`
	OutputChanges   map[string]JSONOutput `json:"output_changes"`
	Targets         []string              `json:"targets"`
	Excluded        []string              `json:"excluded"`
	Diagnostics     []JSONDiagnostic      `json:"diagnostics"`
	// Coverage is the seller coverage (null when not computed): Plan.Coverage.
	Coverage *Coverage `json:"coverage"`
}

// JSONSummary counts the plan's changes.
type JSONSummary struct {
	Add          int  `json:"add"`
	Import       int  `json:"import"`
	Moved        int  `json:"moved"`
	Change       int  `json:"change"`
	Destroy      int  `json:"destroy"`
	Manual       int  `json:"manual"`
	Forget       int  `json:"forget"`
	Deferred     int  `json:"deferred"`
	CouldNotRead int  `json:"could_not_read"`
	Drifted      int  `json:"drifted"`
	Uncovered    int  `json:"uncovered"`
	HasChanges   bool `json:"has_changes"`
}

// JSONResourceChange is one resource's planned change.
type JSONResourceChange struct {
	Address   string   `json:"address"`
	Mode      string   `json:"mode"` // "managed" or "data"
	Type      string   `json:"type"`
	Name      string   `json:"name"`
	Provider  string   `json:"provider"`
	ID        string   `json:"id,omitempty"`
	Action    string   `json:"action"`
	DependsOn []string `json:"depends_on"`
	// Importing is set when apply adopts an existing object (found by its natural key) into
	// state under this address; Terraform's plan JSON names it the same way.
	Importing *JSONImporting `json:"importing,omitempty"`
	// PreviousAddress is the address state held the object under before a moved block moved
	// it here (Terraform's previous_address).
	PreviousAddress string `json:"previous_address,omitempty"`
	// Before is the live object (null when it does not exist); After the object after apply
	// (null for delete). Sensitive and unknown attributes are null here.
	Before          json.RawMessage  `json:"before"`
	After           json.RawMessage  `json:"after"`
	AfterUnknown    map[string]bool  `json:"after_unknown"`
	BeforeSensitive map[string]bool  `json:"before_sensitive"`
	AfterSensitive  map[string]bool  `json:"after_sensitive"`
	Changed         []JSONAttrChange `json:"changed_attributes"`
}

// JSONImporting says which object an import adopts.
type JSONImporting struct {
	ID string `json:"id"`
}

// JSONAttrChange is one attribute's change. Before and After are absent when Sensitive; After is
// absent when AfterUnknown.
type JSONAttrChange struct {
	Name         string          `json:"name"`
	Before       json.RawMessage `json:"before,omitempty"`
	After        json.RawMessage `json:"after,omitempty"`
	AfterUnknown bool            `json:"after_unknown,omitempty"`
	Sensitive    bool            `json:"sensitive,omitempty"`
}

// JSONResourceDrift is a resource changed outside c4sctl since the last apply: before is the
// last-applied value (state), after the live one.
type JSONResourceDrift struct {
	Address  string           `json:"address"`
	Type     string           `json:"type"`
	Provider string           `json:"provider"`
	Changed  []JSONAttrChange `json:"changed_attributes"`
}

// JSONManualAction is a change to make by hand.
type JSONManualAction struct {
	Address string   `json:"address"`
	Summary string   `json:"summary"`
	Steps   []string `json:"steps"`
}

// JSONDeferred is a resource that cannot be planned yet.
type JSONDeferred struct {
	Address string `json:"address"`
	Reason  string `json:"reason"`
	// CouldNotRead: the resource is in state (it was deployed), and it or its target can no
	// longer be read. False: a prerequisite was never created.
	CouldNotRead bool `json:"could_not_read"`
	// ReadError: could_not_read because the provider failed to read it (an API error, or no
	// sign-in); the reason has the error.
	ReadError bool `json:"read_error,omitempty"`
}

// JSONMessage is a warning or note about one resource.
type JSONMessage struct {
	Address string `json:"address"`
	Message string `json:"message"`
}

// JSONOutput is an output's planned value.
type JSONOutput struct {
	After        json.RawMessage `json:"after"`
	AfterUnknown bool            `json:"after_unknown"`
	Sensitive    bool            `json:"sensitive"`
}

// JSONDiagnostic is a warning or error from loading or planning.
type JSONDiagnostic struct {
	Severity string     `json:"severity"` // "error" or "warning"
	Summary  string     `json:"summary"`
	Detail   string     `json:"detail,omitempty"`
	Range    *JSONRange `json:"range,omitempty"`
}

// JSONRange points into a configuration file.
type JSONRange struct {
	Filename string `json:"filename"`
	Line     int    `json:"line"`
	Column   int    `json:"column"`
}

// JSONOptions adds what the Plan itself does not hold.
type JSONOptions struct {
	C4sctlVersion string
	Targets       []string
	Excluded      []string
	Diagnostics   hcl.Diagnostics
}

var null = json.RawMessage("null")

// ToJSON builds the machine-readable document of a plan.
func ToJSON(p *Plan, o JSONOptions) (*JSONPlan, error) {
	s := p.Summary()
	doc := &JSONPlan{
		FormatVersion: JSONFormatVersion,
		C4sctlVersion: o.C4sctlVersion,
		RefreshOnly:   p.RefreshOnly,
		Destroy:       p.Destroy,
		Sandbox:       p.Sandbox,
		Labels:        map[string]string{},
		Summary: JSONSummary{Add: s.Add, Import: s.Import, Moved: s.Moved, Change: s.Change, Destroy: s.Destroy, Manual: s.Manual, Forget: s.Forget,
			Deferred: s.Deferred, CouldNotRead: s.CouldNotRead, Drifted: s.Drifted, Uncovered: s.Uncovered, HasChanges: p.HasChanges()},
		ResourceChanges: []JSONResourceChange{},
		ResourceDrift:   []JSONResourceDrift{},
		ManualActions:   []JSONManualAction{},
		Deferred:        []JSONDeferred{},
		Warnings:        []JSONMessage{},
		Notes:           []JSONMessage{},
		OutputChanges:   map[string]JSONOutput{},
		Targets:         nonNil(o.Targets),
		Excluded:        nonNil(o.Excluded),
		Diagnostics:     []JSONDiagnostic{},
		Coverage:        p.Coverage,
	}
	for id, name := range p.Labels {
		doc.Labels[id] = name
	}
	for _, rc := range p.Changes {
		jc, err := resourceChangeJSON(rc)
		if err != nil {
			return nil, err
		}
		doc.ResourceChanges = append(doc.ResourceChanges, jc)
		if len(rc.Drift) > 0 {
			d := JSONResourceDrift{Address: rc.Addr, Type: rc.Type, Provider: rc.Provider, Changed: []JSONAttrChange{}}
			for _, ch := range rc.Drift {
				ac, err := attrChangeJSON(rc, ch)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", rc.Addr, err)
				}
				d.Changed = append(d.Changed, ac)
			}
			doc.ResourceDrift = append(doc.ResourceDrift, d)
		}
		if rc.Manual != nil {
			doc.ManualActions = append(doc.ManualActions, JSONManualAction{Address: rc.Addr, Summary: rc.Manual.Summary, Steps: nonNil(rc.Manual.Steps)})
		}
		if rc.Action == providers.Deferred {
			doc.Deferred = append(doc.Deferred, JSONDeferred{Address: rc.Addr, Reason: rc.Reason, CouldNotRead: rc.CouldNotRead, ReadError: rc.ReadError})
		}
		for _, w := range rc.Warnings {
			doc.Warnings = append(doc.Warnings, JSONMessage{Address: rc.Addr, Message: w})
		}
		for _, n := range rc.Notes {
			doc.Notes = append(doc.Notes, JSONMessage{Address: rc.Addr, Message: n})
		}
	}
	for name, ov := range p.Outputs {
		jo := JSONOutput{After: null, Sensitive: ov.Sensitive}
		v, _ := ov.Value.UnmarkDeep()
		switch {
		case ov.Sensitive:
		case v == cty.NilVal:
		case !v.IsWhollyKnown():
			jo.AfterUnknown = true
		default:
			raw, err := marshalValue(v)
			if err != nil {
				return nil, fmt.Errorf("output %s: %w", name, err)
			}
			jo.After = raw
		}
		doc.OutputChanges[name] = jo
	}
	for _, d := range o.Diagnostics {
		jd := JSONDiagnostic{Severity: "error", Summary: d.Summary, Detail: d.Detail}
		if d.Severity == hcl.DiagWarning {
			jd.Severity = "warning"
		}
		if d.Subject != nil {
			jd.Range = &JSONRange{Filename: d.Subject.Filename, Line: d.Subject.Start.Line, Column: d.Subject.Start.Column}
		}
		doc.Diagnostics = append(doc.Diagnostics, jd)
	}
	return doc, nil
}

func nonNil(xs []string) []string {
	if xs == nil {
		return []string{}
	}
	return append([]string{}, xs...)
}

func resourceChangeJSON(rc *ResourceChange) (JSONResourceChange, error) {
	mode := "managed"
	if rc.Data {
		mode = "data"
	}
	jc := JSONResourceChange{Address: rc.Addr, Mode: mode, Type: rc.Type, Name: nameOf(rc.Addr), Provider: rc.Provider, ID: rc.ID,
		Action: string(rc.Action), DependsOn: nonNil(rc.DependsOn),
		AfterUnknown: map[string]bool{}, BeforeSensitive: map[string]bool{}, AfterSensitive: map[string]bool{}, Changed: []JSONAttrChange{},
		PreviousAddress: rc.PrevAddr}
	if rc.Importing {
		jc.Importing = &JSONImporting{ID: rc.ID}
	}
	var err error
	if jc.Before, err = objectJSON(rc, rc.Before, jc.BeforeSensitive, nil); err != nil {
		return jc, fmt.Errorf("%s: before: %w", rc.Addr, err)
	}
	if jc.After, err = objectJSON(rc, rc.After, jc.AfterSensitive, jc.AfterUnknown); err != nil {
		return jc, fmt.Errorf("%s: after: %w", rc.Addr, err)
	}
	for _, ch := range rc.Changes {
		ac, err := attrChangeJSON(rc, ch)
		if err != nil {
			return jc, fmt.Errorf("%s: %w", rc.Addr, err)
		}
		jc.Changed = append(jc.Changed, ac)
	}
	return jc, nil
}

// objectJSON encodes a resource value attribute by attribute: sensitive attributes become null
// and are flagged in sens; attributes not wholly known become null and are flagged in unknown.
func objectJSON(rc *ResourceChange, v cty.Value, sens, unknown map[string]bool) (json.RawMessage, error) {
	if v == cty.NilVal {
		return null, nil
	}
	v, _ = v.UnmarkDeep()
	if !v.IsKnown() {
		if unknown != nil {
			unknown["*"] = true
		}
		return null, nil
	}
	if v.IsNull() || !v.Type().IsObjectType() {
		return null, nil
	}
	out := map[string]json.RawMessage{}
	for name := range v.Type().AttributeTypes() {
		av := v.GetAttr(name)
		switch {
		case rc.IsSensitive(name):
			out[name] = null
			if !av.IsKnown() || !av.IsNull() {
				sens[name] = true
			}
		case !av.IsWhollyKnown():
			out[name] = null
			if unknown != nil {
				unknown[name] = true
			}
		default:
			raw, err := marshalValue(av)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			out[name] = raw
		}
	}
	return json.Marshal(out)
}

func attrChangeJSON(rc *ResourceChange, ch AttrChange) (JSONAttrChange, error) {
	ac := JSONAttrChange{Name: ch.Name}
	if rc.IsSensitive(ch.Name) {
		ac.Sensitive = true
		return ac, nil
	}
	var err error
	if ac.Before, err = marshalValue(ch.Before); err != nil {
		return ac, fmt.Errorf("%s: %w", ch.Name, err)
	}
	a, _ := ch.After.UnmarkDeep()
	if a != cty.NilVal && !a.IsWhollyKnown() {
		ac.AfterUnknown = true
		return ac, nil
	}
	if ac.After, err = marshalValue(ch.After); err != nil {
		return ac, fmt.Errorf("%s: %w", ch.Name, err)
	}
	return ac, nil
}

// marshalValue encodes a known value as plain JSON (null for cty.NilVal, null or unknown values).
func marshalValue(v cty.Value) (json.RawMessage, error) {
	if v == cty.NilVal {
		return null, nil
	}
	v, _ = v.UnmarkDeep()
	if !v.IsWhollyKnown() || v.IsNull() {
		return null, nil
	}
	raw, err := ctyjson.Marshal(v, v.Type())
	if err != nil {
		return nil, err
	}
	return raw, nil
}

// SchemaLookup finds a resource type's schema (providers.Registry.ResourceSchema).
type SchemaLookup func(typ string, data bool) *schema.Resource

// FromJSON rebuilds a Plan from its document, for rendering a saved plan. Values come back with
// the schemas' types; sensitive attributes are listed in Sensitive, so renderers mask them, and
// have unknown values where they had one (the value itself is not in the document); attributes
// flagged in after_unknown are unknown.
func FromJSON(doc *JSONPlan, schemas SchemaLookup) (*Plan, error) {
	p := &Plan{RefreshOnly: doc.RefreshOnly, Destroy: doc.Destroy, Sandbox: doc.Sandbox, Coverage: doc.Coverage}
	if c := doc.Coverage; c != nil && (c.Uncovered < 0 || c.Sellers < 0 || c.Uncovered > c.Sellers) {
		return nil, fmt.Errorf("coverage counts %d uncovered of %d sellers", c.Uncovered, c.Sellers)
	}
	byAddr := map[string]*ResourceChange{}
	for i, jc := range doc.ResourceChanges {
		if jc.Address == "" {
			return nil, fmt.Errorf("resource_changes[%d] has no address", i)
		}
		if byAddr[jc.Address] != nil {
			return nil, fmt.Errorf("resource_changes lists %s twice", jc.Address)
		}
		if !validAction(providers.Action(jc.Action)) {
			return nil, fmt.Errorf("%s: unknown action %q", jc.Address, jc.Action)
		}
		s := schemas(jc.Type, jc.Mode == "data")
		if s == nil {
			return nil, fmt.Errorf("%s has resource type %q, which this c4sctl does not know", jc.Address, jc.Type)
		}
		rc := &ResourceChange{Addr: jc.Address, Type: jc.Type, Provider: jc.Provider, Data: jc.Mode == "data", ID: jc.ID,
			Action: providers.Action(jc.Action), DependsOn: jc.DependsOn, Schema: s, Prior: cty.NilVal,
			Importing: jc.Importing != nil, PrevAddr: jc.PreviousAddress}
		if rc.Importing && (jc.Importing.ID == "" || !strings.EqualFold(jc.Importing.ID, jc.ID)) {
			return nil, fmt.Errorf("%s: importing names id %q, but the change's id is %q", jc.Address, jc.Importing.ID, jc.ID)
		}
		for name := range jc.BeforeSensitive {
			rc.Sensitive = append(rc.Sensitive, name)
		}
		for name := range jc.AfterSensitive {
			if !rc.IsSensitive(name) {
				rc.Sensitive = append(rc.Sensitive, name)
			}
		}
		sort.Strings(rc.Sensitive)
		var err error
		if rc.Before, err = objectFromJSON(s, jc.Before, jc.BeforeSensitive); err != nil {
			return nil, fmt.Errorf("%s: before: %w", jc.Address, err)
		}
		if rc.After, err = objectFromJSON(s, jc.After, merge(jc.AfterUnknown, jc.AfterSensitive)); err != nil {
			return nil, fmt.Errorf("%s: after: %w", jc.Address, err)
		}
		switch rc.Action {
		case providers.Create, providers.Update, providers.Manual:
			if rc.After.IsKnown() && rc.After.IsNull() {
				return nil, fmt.Errorf("%s: action %s needs an after value, and it is null", jc.Address, jc.Action)
			}
		}
		rc.Config = cty.NullVal(s.ImpliedType())
		for _, ac := range jc.Changed {
			a := s.Attribute(ac.Name)
			if a == nil {
				return nil, fmt.Errorf("%s: changed attribute %q is not in the schema of %s", jc.Address, ac.Name, jc.Type)
			}
			rc.Changes = append(rc.Changes, AttrChange{Name: ac.Name, Before: attrOf(rc.Before, ac.Name, a.Type), After: attrOf(rc.After, ac.Name, a.Type)})
		}
		byAddr[jc.Address] = rc
		p.Changes = append(p.Changes, rc)
	}
	get := func(addr, what string) (*ResourceChange, error) {
		rc := byAddr[addr]
		if rc == nil {
			return nil, fmt.Errorf("%s names %s, which is not among resource_changes", what, addr)
		}
		return rc, nil
	}
	for _, d := range doc.ResourceDrift {
		rc, err := get(d.Address, "resource_drift")
		if err != nil {
			return nil, err
		}
		for _, ac := range d.Changed {
			a := rc.Schema.Attribute(ac.Name)
			if a == nil {
				return nil, fmt.Errorf("%s: drifted attribute %q is not in the schema of %s", d.Address, ac.Name, rc.Type)
			}
			before, err := valueFromJSON(ac.Before, a.Type)
			if err != nil {
				return nil, fmt.Errorf("%s: drift of %s: %w", d.Address, ac.Name, err)
			}
			after, err := valueFromJSON(ac.After, a.Type)
			if err != nil {
				return nil, fmt.Errorf("%s: drift of %s: %w", d.Address, ac.Name, err)
			}
			rc.Drift = append(rc.Drift, AttrChange{Name: ac.Name, Before: before, After: after})
		}
	}
	for _, m := range doc.ManualActions {
		rc, err := get(m.Address, "manual_actions")
		if err != nil {
			return nil, err
		}
		rc.Manual = &providers.ManualAction{Summary: m.Summary, Steps: m.Steps}
	}
	for _, d := range doc.Deferred {
		rc, err := get(d.Address, "deferred")
		if err != nil {
			return nil, err
		}
		rc.Reason = d.Reason
		rc.CouldNotRead, rc.ReadError = d.CouldNotRead, d.ReadError
	}
	for _, w := range doc.Warnings {
		rc, err := get(w.Address, "warnings")
		if err != nil {
			return nil, err
		}
		rc.Warnings = append(rc.Warnings, w.Message)
	}
	for _, n := range doc.Notes {
		rc, err := get(n.Address, "notes")
		if err != nil {
			return nil, err
		}
		rc.Notes = append(rc.Notes, n.Message)
	}
	labels := map[string]string{}
	for id, name := range doc.Labels {
		labels[strings.ToLower(id)] = name
	}
	p.setLabels(labels)
	return p, nil
}

func merge(a, b map[string]bool) map[string]bool {
	out := map[string]bool{}
	for k, v := range a {
		out[k] = out[k] || v
	}
	for k, v := range b {
		out[k] = out[k] || v
	}
	return out
}

func validAction(a providers.Action) bool {
	switch a {
	case providers.NoOp, providers.Create, providers.Update, providers.Delete, providers.Manual, providers.Forget, providers.Read, providers.Deferred:
		return true
	}
	return false
}

func attrOf(obj cty.Value, name string, ty cty.Type) cty.Value {
	if obj.IsNull() || !obj.IsKnown() {
		return cty.NullVal(ty)
	}
	return obj.GetAttr(name)
}

func objectFromJSON(s *schema.Resource, raw json.RawMessage, unknown map[string]bool) (cty.Value, error) {
	ty := s.ImpliedType()
	if unknown["*"] {
		return cty.UnknownVal(ty), nil
	}
	if len(raw) == 0 || string(raw) == "null" {
		return cty.NullVal(ty), nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return cty.NilVal, fmt.Errorf("not a JSON object: %w", err)
	}
	vals := map[string]cty.Value{}
	for name, aty := range ty.AttributeTypes() {
		if unknown[name] {
			vals[name] = cty.UnknownVal(aty)
			continue
		}
		v, err := valueFromJSON(m[name], aty)
		if err != nil {
			return cty.NilVal, fmt.Errorf("%s: %w", name, err)
		}
		vals[name] = v
	}
	return cty.ObjectVal(vals), nil
}

func valueFromJSON(raw json.RawMessage, ty cty.Type) (cty.Value, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return cty.NullVal(ty), nil
	}
	v, err := ctyjson.Unmarshal(raw, ty)
	if err != nil {
		return cty.NilVal, err
	}
	// A number like 1e999999999 decodes, but printing it would take gigabytes.
	err = cty.Walk(v, func(_ cty.Path, x cty.Value) (bool, error) {
		if x.IsKnown() && !x.IsNull() && x.Type() == cty.Number {
			if f := x.AsBigFloat(); f.IsInf() || f.MantExp(nil) > 4096 || f.MantExp(nil) < -4096 {
				return false, fmt.Errorf("number %s is out of range", f.Text('g', 10))
			}
		}
		return true, nil
	})
	if err != nil {
		return cty.NilVal, err
	}
	return v, nil
}
