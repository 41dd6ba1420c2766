package plan

import (
	"fmt"
	"sort"
	"strings"

	"github.com/zclconf/go-cty/cty"
)

// minLabelledID is the shortest id that gets a name beside it: GUIDs and Salesforce ids, never
// short words a note might hold by chance.
const minLabelledID = 15

// collectLabels names ids from what the plan read: an object of a data source with a string id
// and a display_name (data.teams_app: the catalog app; data.powerplatform_environment: the
// environment) gives id -> display name, and so do the names a resource's read learned on its
// way (providers.ReadResponse.Labels: the Entra group of a licence assignment or an app
// deployment, the Salesforce profiles of a connected app). Those names are what the tenant calls
// the objects the plan references by id (a pinned app, an environment, a policy's group), read in
// the same plan at no extra cost: no request is made for a name alone.
func collectLabels(changes []*ResourceChange) map[string]string {
	labels := map[string]string{}
	for _, rc := range changes {
		for id, name := range rc.readLabels {
			if len(id) >= minLabelledID && name != "" && !strings.EqualFold(id, name) {
				labels[strings.ToLower(id)] = name
			}
		}
		if !rc.Data {
			continue
		}
		v := rc.Before
		if v == cty.NilVal || !v.IsKnown() || v.IsNull() || !v.Type().IsObjectType() {
			continue
		}
		id, name := stringAttr(v, "id"), stringAttr(v, "display_name")
		if len(id) >= minLabelledID && name != "" && !strings.EqualFold(id, name) {
			labels[strings.ToLower(id)] = name
		}
	}
	return labels
}

func stringAttr(v cty.Value, name string) string {
	if !v.Type().HasAttribute(name) {
		return ""
	}
	a := v.GetAttr(name)
	if !a.IsKnown() || a.IsNull() || a.Type() != cty.String {
		return ""
	}
	return a.AsString()
}

// setLabels gives every change the plan's labels, for its renderings.
func (p *Plan) setLabels(labels map[string]string) {
	p.Labels = labels
	for _, rc := range p.Changes {
		rc.labels = labels
	}
}

// labelled writes a string value with its name, if it is a labelled id: "b1b0..." (Copilot for Sales).
func labelled(s string, labels map[string]string) string {
	if name, ok := labels[strings.ToLower(s)]; ok {
		return fmt.Sprintf("%q (%s)", s, name)
	}
	return fmt.Sprintf("%q", s)
}

// labelText puts the name beside each labelled id in a provider's text (a note, a warning).
func labelText(s string, labels map[string]string) string {
	if len(labels) == 0 {
		return s
	}
	ids := make([]string, 0, len(labels))
	for id := range labels {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return len(ids[i]) > len(ids[j]) })
	lower := strings.ToLower(s)
	for _, id := range ids {
		var b strings.Builder
		rest, lrest := s, lower
		for {
			i := strings.Index(lrest, id)
			if i < 0 {
				b.WriteString(rest)
				break
			}
			end := i + len(id)
			b.WriteString(rest[:end])
			if !strings.HasPrefix(rest[end:], " ("+labels[id]+")") {
				b.WriteString(" (" + labels[id] + ")")
			}
			rest, lrest = rest[end:], lrest[end:]
		}
		s = b.String()
		lower = strings.ToLower(s)
	}
	return s
}

func labelTexts(xs []string, labels map[string]string) []string {
	if len(labels) == 0 {
		return xs
	}
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = labelText(x, labels)
	}
	return out
}
