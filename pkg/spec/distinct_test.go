package spec

import (
	"strings"
	"testing"

	"github.com/c4sctl/c4sctl/pkg/schema"
	"github.com/zclconf/go-cty/cty"
)

func distinctSchemas() *fakeSchemas {
	s := testSchemas()
	s.providers["dlp"] = &schema.Block{}
	s.types["dlp_policy"] = &schema.Resource{Type: "dlp_policy", Provider: "dlp", Attributes: []*schema.Attribute{
		{Name: "business", Type: cty.Set(cty.String), Optional: true},
		{Name: "blocked", Type: cty.Set(cty.String), Optional: true},
		{Name: "tags", Type: cty.Set(cty.String), Optional: true},
		{Name: "pins", Type: cty.List(cty.Object(map[string]cty.Type{"id": cty.String})), Optional: true},
		{Name: "labels", Type: cty.Map(cty.String), Optional: true},
	}, Distinct: []schema.Distinct{
		{Attributes: []string{"business", "blocked"}, What: "connector", Key: strings.ToLower},
		{Attributes: []string{"pins"}, Field: "id", What: "app"},
	}}
	return s
}

// What a configuration says twice is an error at load (validate), with the file and line of the
// repetition: keys in a map, elements of a set, and what a schema declares distinct.
func TestSaidTwiceIsAnErrorAtValidate(t *testing.T) {
	cases := []struct {
		name, body string
		line       int
		want       string
	}{
		{"map key", "labels = {\n  a = \"x\"\n  b = \"y\"\n  a = \"z\"\n}", 5, `The key "a" is set twice in this map (first on line 3)`},
		{"quoted map key", "labels = {\n  \"a b\" = \"x\"\n  \"a b\" = \"z\"\n}", 4, `The key "a b" is set twice`},
		{"set element", "tags = [\"x\",\n \"y\",\n \"x\"]", 4, `"x" is listed twice in tags`},
		{"within a distinct attribute", "business = [\"sf\",\n \"SF\"]", 3, `Connector "SF" is named twice in business`},
		{"across distinct attributes", "business = [\"sf\"]\nblocked = [\"o365\",\n \"Sf\"]", 4, `Connector "Sf" is in both business and blocked`},
		{"object field", "pins = [{ id = \"a\" },\n { id = \"b\" },\n { id = \"a\" }]", 4, `App "a" is named twice in pins`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := "resource \"dlp_policy\" \"p\" {\n" + tc.body + "\n}\n"
			_, diags := LoadFiles("cfg", map[string][]byte{"main.c4s.hcl": []byte(src)}, distinctSchemas())
			if !diags.HasErrors() || len(diags) != 1 {
				t.Fatalf("want one error, got %v", diags)
			}
			d := diags[0]
			if d.Subject == nil || d.Subject.Filename != "main.c4s.hcl" || d.Subject.Start.Line != tc.line || !strings.Contains(d.Detail, tc.want) {
				t.Errorf("got %s at %v; want %q at line %d", d.Detail, d.Subject, tc.want, tc.line)
			}
		})
	}
	// Distinct things, once each, load.
	src := "resource \"dlp_policy\" \"p\" {\n business = [\"sf\"]\n blocked = [\"o365\"]\n tags = [\"x\", \"y\"]\n labels = { a = \"x\", A = \"y\" }\n pins = [{ id = \"a\" }, { id = \"b\" }]\n}\n"
	if _, diags := LoadFiles("cfg", map[string][]byte{"main.c4s.hcl": []byte(src)}, distinctSchemas()); diags.HasErrors() {
		t.Fatalf("distinct values refused: %v", diags)
	}
	// A key repeated in a local's map is caught too.
	if _, diags := LoadFiles("cfg", map[string][]byte{"main.c4s.hcl": []byte("locals {\n  m = { k = 1, k = 2 }\n}\n")}, distinctSchemas()); !diags.HasErrors() || !strings.Contains(diags[0].Detail, `"k" is set twice`) {
		t.Errorf("local with a repeated key: %v", diags)
	}
}
