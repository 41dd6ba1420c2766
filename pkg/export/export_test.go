package export

import (
	"bytes"
	"strings"
	"testing"

	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/c4sctl/c4sctl/pkg/schema"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
)

func TestIdentifier(t *testing.T) {
	for in, want := range map[string]string{
		"Global":                       "global",
		"Tag:AllOn":                    "tag_all_on",
		"FirstlineWorker":              "firstline_worker",
		"Contoso tenant-wide baseline": "contoso_tenant_wide_baseline",
		"  --  ":                       "this",
		"":                             "this",
		"2024 policy":                  "r_2024_policy",
		"Équipe Ventes":                "quipe_ventes",
		"shared_salesforce":            "shared_salesforce",
		"msdyn_viva":                   "msdyn_viva",
		"HTTPServer":                   "httpserver",
		"a/b\nc":                       "a_b_c",
		strings.Repeat("x", 100):       strings.Repeat("x", 60),
	} {
		got := Identifier(in)
		if got != want {
			t.Errorf("Identifier(%q) = %q, want %q", in, got, want)
		}
		if !hclsyntax.ValidIdentifier(got) {
			t.Errorf("Identifier(%q) = %q is not an HCL identifier", in, got)
		}
	}
}

func TestNamerMakesNamesUniquePerType(t *testing.T) {
	var n Namer
	got := []string{n.Name("a_t", "Sales"), n.Name("a_t", "sales"), n.Name("a_t", "SALES!"), n.Name("b_t", "Sales"), n.Name("a_t", "sales_2")}
	want := []string{"sales", "sales_2", "sales_3", "sales", "sales_2_2"}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("names %v, want %v", got, want)
			break
		}
	}
}

var testSchema = &schema.Resource{Type: "x_thing", Provider: "x", Attributes: []*schema.Attribute{
	{Name: "name", Type: cty.String, Required: true},
	{Name: "mode", Type: cty.String, Optional: true, Enum: []string{"on", "off"}},
	{Name: "password", Type: cty.String, Optional: true, Sensitive: true, Description: "Password (default: X_PASSWORD)."},
	{Name: "tags", Type: cty.Set(cty.String), Optional: true},
	{Name: "note", Type: cty.String, Optional: true},
	{Name: "id", Type: cty.String, Computed: true},
}}

var providerSchema = &schema.Block{Attributes: []*schema.Attribute{
	{Name: "tenant", Type: cty.String, Optional: true},
	{Name: "cloud", Type: cty.String, Optional: true, Default: cty.StringVal("public")},
	{Name: "secret", Type: cty.String, Optional: true, Sensitive: true, Description: "Secret (default: X_SECRET)."},
}}

func obj(vals map[string]cty.Value) cty.Value {
	out := map[string]cty.Value{}
	for _, a := range testSchema.Attributes {
		if v, ok := vals[a.Name]; ok {
			out[a.Name] = v
		} else {
			out[a.Name] = cty.NullVal(a.Type)
		}
	}
	return cty.ObjectVal(out)
}

func TestFileBytes(t *testing.T) {
	f := &File{
		Provider: "x", ProviderSchema: providerSchema,
		ProviderSettings: map[string]cty.Value{"tenant": cty.StringVal("contoso"), "cloud": cty.StringVal("public"), "secret": cty.StringVal("hunter2-provider")},
		Header:           []string{"Exported for a test."},
		Resources: []Resource{
			{Schema: testSchema, Name: "first", Object: providers.ExportedObject{Name: "First", ID: "id 1", Comment: "two\nlines", Value: obj(map[string]cty.Value{
				"name": cty.StringVal("First ${x}"), "mode": cty.StringVal("sideways"), "password": cty.StringVal("hunter2-resource"),
				"tags": cty.SetVal([]cty.Value{cty.StringVal("b"), cty.StringVal("a")}), "id": cty.StringVal("computed-1"),
			})}},
			{Schema: testSchema, Name: "nameless", Object: providers.ExportedObject{Name: "Nameless", Value: obj(nil)}},
			{Schema: testSchema, Name: "skipped", Object: providers.ExportedObject{Name: "Skipped", Skipped: "it cannot be\nexpressed"}},
			{Schema: testSchema, Name: "marked", Object: providers.ExportedObject{Name: "Marked", Value: obj(map[string]cty.Value{
				"name": cty.StringVal("marked"), "note": cty.StringVal("hunter2-marked").Mark("sensitive")})}},
		},
		Notes: []string{"export of x_other is not implemented yet."},
	}
	out := f.Bytes()
	s := string(out)
	if !bytes.Equal(out, hclwrite.Format(out)) {
		t.Errorf("output is not formatted:\n%s", s)
	}
	file, diags := hclsyntax.ParseConfig(out, "x.c4s.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatalf("output does not parse: %v\n%s", diags, s)
	}
	blocks := file.Body.(*hclsyntax.Body).Blocks
	if len(blocks) != 3 { // provider, first, marked
		t.Fatalf("%d blocks, want 3:\n%s", len(blocks), s)
	}
	for _, secret := range []string{"hunter2", "computed-1"} {
		if strings.Contains(s, secret) {
			t.Errorf("output contains %q:\n%s", secret, s)
		}
	}
	for _, want := range []string{
		"# Exported for a test.",
		`tenant = "contoso"`,
		"# secret is not exported (sensitive)",
		"X_SECRET",
		"# id: id 1 (c4sctl import x_thing.first 'id 1')",
		"# two\n# lines\n",
		`name = "First $${x}"`,
		`tags = ["a", "b"]`,
		"# mode is not exported: \"sideways\" is not an allowed value",
		"# password is not exported (sensitive)",
		`# Not exported: x_thing "Nameless": its required attribute name has no live value`,
		`# Not exported: x_thing "Skipped": it cannot be expressed`,
		"# export of x_other is not implemented yet.",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "cloud") {
		t.Errorf("cloud equals its default and must not be written:\n%s", s)
	}
	if f.Written() != 2 || len(f.Skipped()) != 2 {
		t.Errorf("written %d, skipped %v", f.Written(), f.Skipped())
	}
}

func TestValidatorPanicIsARefusal(t *testing.T) {
	a := &schema.Attribute{Name: "x", Type: cty.String, Optional: true, Validate: func(cty.Value) error { panic("boom") }}
	if err := check(a, cty.StringVal("v")); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("check: %v", err)
	}
}
