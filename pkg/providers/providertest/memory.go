package providertest

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/schema"
	"github.com/zclconf/go-cty/cty"
)

// Memory is an in-memory provider named "mem" for the engine's own tests (plan, apply, CLI
// flows that need no cloud). Provider adapters are tested against the sandbox instead.
//
//	mem_setting    identity (required), value, enabled, tags (set), secret (sensitive), id (computed)
//	mem_singleton  identity (default "Global"), value; cannot be created or deleted
//	mem_part       identity, of (the mem_setting it acts on part of), value
//	data mem_lookup  identity -> value
//
// Identities are compared as a case-insensitive service would: "Sales" and " sales " are one
// object (schema Identity), and Read finds an object by any such spelling. mem_setting's needs
// names other mem_settings by literal identity (schema References).
type Memory struct {
	mu      sync.Mutex
	Objects map[string]map[string]cty.Value // type -> id -> value
	// FailApply makes Apply of these ids fail; Unstick makes their changes silently not stick.
	FailApply map[string]bool
	Unstick   map[string]bool
	// PanicApply makes Apply of these ids panic (a provider bug); PartialApply makes it store
	// the object and still return an error with the id (a change that was partly made).
	PanicApply   map[string]bool
	PartialApply map[string]bool
	// Defer makes Read of these ids (the id in state, or the configured identity) answer
	// Deferred with the reason given, as an adapter does when the object a resource acts on
	// cannot be found (an environment deleted, a group renamed).
	Defer map[string]string
	Calls map[string]int // "read", "apply:create", ...
	// BeforeApply, when set, runs at the start of each Apply, outside the provider's lock: a
	// test makes a change slow or report progress there.
	BeforeApply func(ctx context.Context, req providers.ApplyRequest)
	nextID      int
}

// NewMemory returns a Memory provider holding a Global singleton.
func NewMemory() *Memory {
	m := &Memory{Objects: map[string]map[string]cty.Value{}, FailApply: map[string]bool{}, Unstick: map[string]bool{},
		PanicApply: map[string]bool{}, PartialApply: map[string]bool{}, Defer: map[string]string{}, Calls: map[string]int{}}
	m.Put("mem_singleton", "Global", map[string]cty.Value{"identity": cty.StringVal("Global"), "value": cty.StringVal("initial")})
	return m
}

var (
	memSetting = &schema.Resource{Type: "mem_setting", Provider: "mem", Description: "a test object", Attributes: []*schema.Attribute{
		{Name: "identity", Type: cty.String, Required: true},
		{Name: "value", Type: cty.String, Optional: true, Enum: []string{"a", "b", "c"}},
		{Name: "enabled", Type: cty.Bool, Optional: true},
		{Name: "tags", Type: cty.Set(cty.String), Optional: true},
		{Name: "grants", Type: cty.Map(cty.Set(cty.String)), Optional: true},
		{Name: "secret", Type: cty.String, Optional: true, Sensitive: true},
		{Name: "needs", Type: cty.Set(cty.String), Optional: true},
		{Name: "id", Type: cty.String, Computed: true},
	}, Identity: func(v cty.Value) []schema.ObjectKey { return memKey("mem_setting", v, "identity", false) },
		References: func(v cty.Value) []schema.ObjectKey {
			var out []schema.ObjectKey
			if n := v.GetAttr("needs"); n.IsWhollyKnown() && !n.IsNull() {
				for it := n.ElementIterator(); it.Next(); {
					_, e := it.Element()
					out = append(out, schema.ObjectKey{Key: "mem_setting:" + memNorm(e.AsString()), Label: fmt.Sprintf("mem_setting %q", e.AsString()), Attr: "needs"})
				}
			}
			return out
		}}
	memPart = &schema.Resource{Type: "mem_part", Provider: "mem", Description: "acts on part of a mem_setting", Attributes: []*schema.Attribute{
		{Name: "identity", Type: cty.String, Required: true},
		{Name: "of", Type: cty.String, Required: true},
		{Name: "value", Type: cty.String, Optional: true},
	}, Identity: func(v cty.Value) []schema.ObjectKey {
		return append(memKey("mem_part", v, "identity", false), memKey("mem_setting", v, "of", true)...)
	}}
	memSingleton = &schema.Resource{Type: "mem_singleton", Provider: "mem", Singleton: true, Description: "a tenant singleton", Attributes: []*schema.Attribute{
		{Name: "identity", Type: cty.String, Optional: true, Default: cty.StringVal("Global")},
		{Name: "value", Type: cty.String, Optional: true},
	}, Identity: func(v cty.Value) []schema.ObjectKey { return memKey("mem_singleton", v, "identity", false) }}
	memLookup = &schema.Resource{Type: "mem_lookup", Provider: "mem", DataSource: true, Description: "reads a mem_setting", Attributes: []*schema.Attribute{
		{Name: "identity", Type: cty.String, Required: true},
		{Name: "value", Type: cty.String, Computed: true},
		{Name: "id", Type: cty.String, Computed: true},
	}}
)

// memNorm is how the memory "service" compares identities: case and surrounding space ignored.
func memNorm(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

func memKey(typ string, v cty.Value, attr string, part bool) []schema.ObjectKey {
	a := v.GetAttr(attr)
	if !a.IsKnown() || a.IsNull() {
		return nil
	}
	return []schema.ObjectKey{{Key: typ + ":" + memNorm(a.AsString()), Label: fmt.Sprintf("%s %q", typ, a.AsString()), Attr: attr, Part: part}}
}

func (m *Memory) Name() string { return "mem" }
func (m *Memory) ConfigSchema() *schema.Block {
	return &schema.Block{Attributes: []*schema.Attribute{{Name: "token", Type: cty.String, Optional: true, Sensitive: true}}}
}
func (m *Memory) Resources() []*schema.Resource {
	return []*schema.Resource{memSetting, memSingleton, memLookup, memPart}
}
func (m *Memory) SandboxConfig(string) map[string]cty.Value { return nil }
func (m *Memory) Configure(context.Context, cty.Value, *providers.Env) (providers.Client, error) {
	return m, nil
}

// Put stores an object "by hand" (a change made outside c4sctl).
func (m *Memory) Put(typ, id string, attrs map[string]cty.Value) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := memSetting
	switch typ {
	case "mem_singleton":
		s = memSingleton
	case "mem_part":
		s = memPart
	}
	if typ == "mem_setting" {
		attrs["id"] = cty.StringVal(id)
	}
	if m.Objects[typ] == nil {
		m.Objects[typ] = map[string]cty.Value{}
	}
	m.Objects[typ][id] = Object(s.ImpliedType(), attrs)
}

// Get returns a stored object or a null value.
func (m *Memory) Get(typ, id string) cty.Value {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.Objects[typ][id]
	if !ok {
		return cty.NilVal
	}
	return v
}

func (m *Memory) Read(_ context.Context, req providers.ReadRequest) (providers.ReadResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.Calls["read"]++
	id := req.ID
	if id == "" && !req.Config.IsNull() {
		if iv := req.Config.GetAttr("identity"); iv.IsKnown() && !iv.IsNull() {
			id = iv.AsString()
		}
	}
	id = m.canonical(req.Type, id)
	if reason := m.Defer[id]; reason != "" {
		return providers.ReadResponse{Deferred: reason}, nil
	}
	if req.Type == "mem_lookup" {
		id = m.canonical("mem_setting", id)
		v, ok := m.Objects["mem_setting"][id]
		if !ok {
			return providers.ReadResponse{Value: cty.NullVal(memLookup.ImpliedType())}, nil
		}
		return providers.ReadResponse{ID: id, Value: cty.ObjectVal(map[string]cty.Value{"identity": cty.StringVal(id), "value": v.GetAttr("value"), "id": cty.StringVal(id)})}, nil
	}
	v, ok := m.Objects[req.Type][id]
	if !ok {
		return providers.ReadResponse{}, nil
	}
	return providers.ReadResponse{ID: id, Value: v}, nil
}

func (m *Memory) Apply(ctx context.Context, req providers.ApplyRequest) (providers.ApplyResponse, error) {
	if m.BeforeApply != nil {
		m.BeforeApply(ctx, req)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.Calls["apply:"+string(req.Action)]++
	id := req.ID
	if req.Action == providers.Create {
		id = req.Planned.GetAttr("identity").AsString()
	}
	id = m.canonical(req.Type, id)
	if m.PanicApply[id] {
		var objects map[string]cty.Value
		objects[id] = req.Planned // a bug: assignment to entry in nil map
	}
	if m.FailApply[id] {
		return providers.ApplyResponse{}, fmt.Errorf("the API refused the change to %s (test failure)", id)
	}
	if m.Unstick[id] {
		return providers.ApplyResponse{ID: id}, nil
	}
	switch req.Action {
	case providers.Delete:
		delete(m.Objects[req.Type], id)
	default:
		v := req.Planned
		if req.Type == "mem_setting" {
			vals := v.AsValueMap()
			vals["id"] = cty.StringVal(id)
			v = cty.ObjectVal(vals)
		}
		if m.Objects[req.Type] == nil {
			m.Objects[req.Type] = map[string]cty.Value{}
		}
		m.Objects[req.Type][id] = v
	}
	if m.PartialApply[id] {
		return providers.ApplyResponse{ID: id}, fmt.Errorf("%s was created, but setting its members failed (test failure)", id)
	}
	return providers.ApplyResponse{ID: id}, nil
}

// canonical is the stored id that id names, ignoring case and surrounding space as the service
// does; id itself when nothing matches.
func (m *Memory) canonical(typ, id string) string {
	if _, ok := m.Objects[typ][id]; ok {
		return id
	}
	for k := range m.Objects[typ] {
		if memNorm(k) == memNorm(id) {
			return k
		}
	}
	return id
}

// IDs lists the stored ids of a type, sorted.
func (m *Memory) IDs(typ string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for id := range m.Objects[typ] {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}
