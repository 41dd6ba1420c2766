package plan

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/c4sctl/c4sctl/pkg/providers"

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

// nameUnlabelled asks the plan's providers that are Namers for the names of the ids reads could
// not name and no other read named (a Teams policy's groups that no licence or app deployment
// resolved): one call per provider and kind for the whole plan, which batches its requests (the
// microsoft365 client: one Graph $batch per 20 groups). Only clients the plan configured already
// are asked (no sign-in for a name). A failed lookup leaves the ids without names: names are an
// aid to reading the plan, not part of it.
func (p *Planner) nameUnlabelled(ctx context.Context, changes []*ResourceChange, labels map[string]string) {
	want := map[string][]string{}
	seen := map[string]bool{}
	provs := map[string]bool{}
	for _, rc := range changes {
		provs[rc.Provider] = true
		for kind, ids := range rc.unnamed {
			for _, id := range ids {
				k := kind + "|" + strings.ToLower(id)
				if len(id) < minLabelledID || seen[k] || labels[strings.ToLower(id)] != "" {
					continue
				}
				seen[k] = true
				want[kind] = append(want[kind], id)
			}
		}
	}
	if len(want) == 0 || p.Clients == nil {
		return
	}
	names := make([]string, 0, len(provs))
	for n := range provs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, prov := range names {
		cl, err := p.Clients.Client(ctx, prov)
		if err != nil {
			continue
		}
		namer, ok := cl.(providers.Namer)
		if !ok {
			continue
		}
		for _, kind := range sortedKinds(want) {
			got, err := namer.Names(ctx, kind, want[kind])
			if err != nil {
				continue
			}
			for id, name := range got {
				if name != "" && !strings.EqualFold(id, name) {
					labels[strings.ToLower(id)] = name
				}
			}
		}
	}
}

func sortedKinds(m map[string][]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
