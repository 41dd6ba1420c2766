package bootstrap

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/c4sctl/c4sctl/pkg/providers/m365"
	"github.com/c4sctl/c4sctl/pkg/providers/powerplatform"
	"github.com/c4sctl/c4sctl/pkg/providers/salesforce"
	"github.com/c4sctl/c4sctl/pkg/schema"
)

// WriteAuthTable prints a Markdown table of a provider family's auth methods: what each needs,
// with the environment variable that can stand in for each attribute (attrs' Env).
func WriteAuthTable(w io.Writer, methods []schema.AuthMethod, attrs []*schema.Attribute) {
	env := map[string]string{}
	for _, a := range attrs {
		env[a.Name] = a.Env
	}
	name := func(a string) string {
		if e := env[a]; e != "" {
			return fmt.Sprintf("`%s` (`%s`)", a, e)
		}
		return "`" + a + "`"
	}
	list := func(as []string) string {
		if len(as) == 0 {
			return "—"
		}
		out := make([]string, len(as))
		for i, a := range as {
			out[i] = name(a)
		}
		return strings.Join(out, ", ")
	}
	fmt.Fprintln(w, "| `auth` | When | Needs | Optional | Also |")
	fmt.Fprintln(w, "| --- | --- | --- | --- | --- |")
	for _, m := range methods {
		extra := "—"
		if len(m.Extra) > 0 {
			extra = strings.Join(m.Extra, "; ")
		}
		fmt.Fprintf(w, "| `%s` | %s | %s | %s | %s |\n", m.Name, m.Summary, list(m.Needs), list(m.Optional), extra)
	}
}

// WriteNeedsTable prints a Markdown table of what each resource type needs from the identity
// c4sctl signs in as, in every service.
func WriteNeedsTable(w io.Writer, types []string) {
	sorted := append([]string{}, types...)
	sort.Strings(sorted)
	fmt.Fprintln(w, "| Resource type | Microsoft Graph (application permission; any one listed) | Directory role | Power Platform | Salesforce user permission |")
	fmt.Fprintln(w, "| --- | --- | --- | --- | --- |")
	dash := func(s []string) string {
		if len(s) == 0 {
			return "—"
		}
		return strings.Join(s, "; ")
	}
	for _, typ := range sorted {
		var graph, roles, pp, sf []string
		if req, ok := m365.Requirements[typ]; ok {
			for _, alts := range req.Permissions {
				graph = append(graph, "`"+strings.Join(alts, "` or `")+"`")
			}
			if req.Optional && len(graph) > 0 {
				graph[0] += " (optional: manual steps without it)"
			}
			roles = append(roles, req.Roles...)
			for _, r := range req.DelegatedRoles {
				roles = append(roles, r+" (a person signing in)")
			}
		}
		for _, need := range powerplatform.Requirements[typ] {
			switch need {
			case powerplatform.NeedManagementApp:
				pp = append(pp, "management app registration")
			case powerplatform.NeedApplicationUser:
				pp = append(pp, "application user of "+powerplatform.VivaEnvironment+" (System Administrator)")
			}
		}
		for _, alts := range salesforce.Requirements[typ] {
			var labels []string
			for _, f := range alts {
				labels = append(labels, salesforce.PermissionLabels[f])
			}
			sf = append(sf, strings.Join(labels, " or "))
		}
		fmt.Fprintf(w, "| `%s` | %s | %s | %s | %s |\n", typ, dash(graph), dash(roles), dash(pp), dash(sf))
	}
}
