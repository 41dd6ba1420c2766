package attrs

import (
	"strings"

	"github.com/zclconf/go-cty/cty"
)

// NullableString is the live value of a string attribute that the service stores as null when
// it is empty (Salesforce stores empty text as null; "" and absent are one value there): live ""
// reads as the configuration's "" when the configuration says "", else as null. So that
// `description = ""` neither plans a change forever nor fails the check that a change stuck.
func NullableString(live string, config cty.Value, name string) cty.Value {
	if live != "" {
		return cty.StringVal(live)
	}
	if c := Get(config, name); c != cty.NilVal && !c.IsNull() && c.IsKnown() && c.Type() == cty.String && c.AsString() == "" {
		return cty.StringVal("")
	}
	return cty.NullVal(cty.String)
}

// Respelled is one name the configuration spells differently from the service.
type Respelled struct{ Configured, Canonical string }

// AsConfigured returns live names that a service compares case-insensitively (Salesforce
// profile and permission names, Microsoft service plan names), each in the configuration's
// spelling when the configuration names it in another case, and the names so respelled. The
// engine compares values exactly, so a configuration differing only in case then plans no change
// and passes the check that a change stuck; callers show the canonical spelling in plan notes
// (CaseNote).
func AsConfigured(live, configured []string) ([]string, []Respelled) {
	byFold := map[string]string{}
	for _, c := range configured {
		byFold[strings.ToLower(c)] = c
	}
	out := make([]string, 0, len(live))
	var re []Respelled
	for _, l := range live {
		if c, ok := byFold[strings.ToLower(l)]; ok && c != l {
			re = append(re, Respelled{Configured: c, Canonical: l})
			l = c
		}
		out = append(out, l)
	}
	return out, re
}

// CaseNote is the plan note naming the service's spelling of names configured in another case,
// or "" when there are none.
func CaseNote(attr string, re []Respelled) string {
	if len(re) == 0 {
		return ""
	}
	parts := make([]string, len(re))
	for i, r := range re {
		parts[i] = "\"" + r.Configured + "\" as \"" + r.Canonical + "\""
	}
	return attr + ": the service spells " + strings.Join(parts, ", ") + " (names compare without case; the configuration may use either)"
}
