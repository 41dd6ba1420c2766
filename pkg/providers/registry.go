package providers

import (
	"fmt"
	"sort"

	"github.com/c4sctl/c4sctl/pkg/schema"
)

// Registry is the set of providers a c4sctl binary knows. It answers schema questions for the
// configuration decoder without the decoder knowing about providers.
type Registry struct {
	byName map[string]Provider
	byType map[string]*schema.Resource // "TYPE" for resources, "data.TYPE" for data sources
	owner  map[string]string           // same keys -> provider name
}

// NewRegistry indexes the given providers; it panics on a duplicate name or resource type, which
// is a programming error.
func NewRegistry(ps ...Provider) *Registry {
	r := &Registry{byName: map[string]Provider{}, byType: map[string]*schema.Resource{}, owner: map[string]string{}}
	for _, p := range ps {
		if _, dup := r.byName[p.Name()]; dup {
			panic(fmt.Sprintf("provider %q registered twice", p.Name()))
		}
		r.byName[p.Name()] = p
		for _, rs := range p.Resources() {
			key := rs.Type
			if rs.DataSource {
				key = "data." + rs.Type
			}
			if _, dup := r.byType[key]; dup {
				panic(fmt.Sprintf("resource type %q registered twice", key))
			}
			if rs.Provider == "" {
				rs.Provider = p.Name()
			}
			r.byType[key] = rs
			r.owner[key] = p.Name()
		}
	}
	return r
}

// Provider returns the named provider or nil.
func (r *Registry) Provider(name string) Provider { return r.byName[name] }

// Providers returns all providers sorted by name.
func (r *Registry) Providers() []Provider {
	out := make([]Provider, 0, len(r.byName))
	for _, n := range r.ProviderNames() {
		out = append(out, r.byName[n])
	}
	return out
}

// ProviderNames lists the provider names, sorted.
func (r *Registry) ProviderNames() []string {
	names := make([]string, 0, len(r.byName))
	for n := range r.byName {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ProviderSchema returns the schema of the named provider block, or nil.
func (r *Registry) ProviderSchema(name string) *schema.Block {
	if p := r.byName[name]; p != nil {
		return p.ConfigSchema()
	}
	return nil
}

// ResourceSchema returns the schema of a resource type (data=false) or data source (data=true).
func (r *Registry) ResourceSchema(typ string, data bool) *schema.Resource {
	if data {
		return r.byType["data."+typ]
	}
	return r.byType[typ]
}

// ResourceTypes lists all resource types (data sources prefixed "data."), sorted.
func (r *Registry) ResourceTypes() []string {
	out := make([]string, 0, len(r.byType))
	for k := range r.byType {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
