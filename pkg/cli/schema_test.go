package cli

import (
	"regexp"
	"strings"
	"testing"
)

var nextEntry = regexp.MustCompile(`\n  \S`)

// Human `schema` prints, per provider, its provider block's attributes and every resource type
// and data source with all of its attributes (the README's promise).
func TestSchemaPrintsProviderBlocksAndResourceAttributes(t *testing.T) {
	stdout, stderr, code := runCLI(t, "schema")
	if code != 0 {
		t.Fatalf("schema exit %d\n%s", code, stderr)
	}
	reg := (&Globals{}).Registry()
	sections := regexp.MustCompile(`(?m)^provider "`).Split(stdout, -1)
	if len(sections)-1 != len(reg.Providers()) {
		t.Fatalf("%d provider sections, want %d:\n%s", len(sections)-1, len(reg.Providers()), stdout)
	}
	for _, p := range reg.Providers() {
		var sec string
		for _, s := range sections {
			if strings.HasPrefix(s, p.Name()+`"`) {
				sec = s
			}
		}
		block, rest, ok := strings.Cut(sec, "\n  provider block:\n")
		if !ok || strings.Contains(block, "\n") {
			t.Fatalf("provider %s has no provider block section:\n%s", p.Name(), sec)
		}
		// The provider block's attributes come before its first resource.
		blockAttrs := rest
		if loc := nextEntry.FindStringIndex(rest); loc != nil {
			blockAttrs = rest[:loc[0]]
		}
		for _, a := range p.ConfigSchema().Attributes {
			if !regexp.MustCompile(`(?m)^    ` + regexp.QuoteMeta(a.Name) + ` +\S`).MatchString(blockAttrs) {
				t.Errorf("provider %s block lacks attribute %s:\n%s", p.Name(), a.Name, blockAttrs)
			}
		}
		for _, r := range p.Resources() {
			kind := "resource"
			if r.DataSource {
				kind = "data"
			}
			head := "\n  " + kind + ` "` + r.Type + `": `
			_, body, ok := strings.Cut(rest, head)
			if !ok {
				t.Errorf("provider %s lacks %s %s", p.Name(), kind, r.Type)
				continue
			}
			if loc := nextEntry.FindStringIndex(body); loc != nil {
				body = body[:loc[0]]
			}
			for _, a := range r.Attributes {
				if !strings.Contains("\n"+body, "\n    "+a.Name+" ") {
					t.Errorf("%s lacks attribute %s", r.Type, a.Name)
				}
			}
		}
	}
	if !strings.Contains(stdout, "client_secret") || !regexp.MustCompile(`client_secret +string +optional; sensitive`).MatchString(stdout) {
		t.Errorf("the provider block's client_secret is not marked sensitive:\n%s", stdout)
	}
}
