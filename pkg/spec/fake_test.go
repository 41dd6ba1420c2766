package spec

import (
	"errors"
	"sort"
	"strings"

	"github.com/c4sctl/c4sctl/pkg/schema"
	"github.com/zclconf/go-cty/cty"
)

// fakeSchemas is a small SchemaSource shaped like the real Teams provider.
type fakeSchemas struct {
	providers map[string]*schema.Block
	types     map[string]*schema.Resource // "TYPE" or "data.TYPE"
}

func (f *fakeSchemas) ProviderNames() []string {
	var out []string
	for n := range f.providers {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func (f *fakeSchemas) ProviderSchema(name string) *schema.Block { return f.providers[name] }

func (f *fakeSchemas) ResourceSchema(typ string, data bool) *schema.Resource {
	if data {
		return f.types["data."+typ]
	}
	return f.types[typ]
}

func (f *fakeSchemas) ResourceTypes() []string {
	var out []string
	for t := range f.types {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

func testSchemas() *fakeSchemas {
	return &fakeSchemas{
		providers: map[string]*schema.Block{
			"teams": {Attributes: []*schema.Attribute{
				{Name: "tenant_id", Type: cty.String, Required: true},
				{Name: "client_secret", Type: cty.String, Optional: true, Sensitive: true},
				{Name: "cloud", Type: cty.String, Optional: true, Default: cty.StringVal("public"), Enum: []string{"public", "gcc"}},
			}},
			"salesforce": {Attributes: []*schema.Attribute{
				{Name: "instance_url", Type: cty.String, Optional: true},
			}},
		},
		types: map[string]*schema.Resource{
			"teams_meeting_policy": {Type: "teams_meeting_policy", Provider: "teams", Attributes: []*schema.Attribute{
				{Name: "identity", Type: cty.String, Optional: true, Default: cty.StringVal("Global")},
				{Name: "allow_transcription", Type: cty.Bool, Optional: true},
				{Name: "description", Type: cty.String, Computed: true},
			}},
			"teams_app_setup_policy": {Type: "teams_app_setup_policy", Provider: "teams", Attributes: []*schema.Attribute{
				{Name: "identity", Type: cty.String, Required: true},
				{Name: "pinned_apps", Type: cty.List(cty.Object(map[string]cty.Type{"id": cty.String, "order": cty.Number})), Optional: true},
				{Name: "channels", Type: cty.Set(cty.String), Optional: true, Enum: []string{"web", "desktop", "mobile"}},
				{Name: "secret", Type: cty.String, Optional: true, Sensitive: true},
				{Name: "duration", Type: cty.String, Optional: true, Validate: func(v cty.Value) error {
					if !strings.HasSuffix(v.AsString(), "d") {
						return errors.New("duration must be a number of days, like \"30d\"")
					}
					return nil
				}},
			}},
			"data.teams_app": {Type: "teams_app", Provider: "teams", DataSource: true, Attributes: []*schema.Attribute{
				{Name: "display_name", Type: cty.String, Optional: true},
				{Name: "id", Type: cty.String, Computed: true},
			}},
		},
	}
}
