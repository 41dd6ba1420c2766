package salesforceapi

import (
	"net/http"
	"sort"
	"strings"

	"github.com/c4sctl/c4sctl/pkg/sandbox"
)

// CustomObjectTypes are the sandbox org's custom objects (ObjectTypes are its standard ones):
// ObjectPermissions.SobjectType accepts these names only, as a real org accepts only its own
// objects.
var CustomObjectTypes = []string{"Invoice__c", "fsc__Balance_Sheet__c"}

// describeGlobal answers GET /services/data/vXX.X/sobjects: the org's objects, in the shape of
// the REST API Developer Guide's "Describe Global" resource
// (https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_describeGlobal.htm;
// field names as in jsforce's DescribeGlobalSObjectResult, DefinitelyTyped
// types/jsforce/describe-result.d.ts): {"encoding","maxBatchSize","sobjects":[{name, label,
// custom, keyPrefix, queryable, createable, ..., urls}]}. Labels and key prefixes of the
// objects that are neither seeded nor served by SOQL are the standard ones.
func (s *Service) describeGlobal(w http.ResponseWriter, r *http.Request) {
	v := r.PathValue("v")
	type entry struct {
		name, prefix string
		custom       bool
	}
	var all []entry
	prefixes := map[string]string{"Account": "001", "Campaign": "701", "Case": "500", "Contact": "003", "Contract": "800", "Lead": "00Q",
		"Opportunity": "006", "Order": "801", "Pricebook2": "01s", "Product2": "01t", "Quote": "0Q0"}
	for _, t := range ObjectTypes {
		all = append(all, entry{t, prefixes[t], false})
	}
	for _, o := range s.objects() {
		all = append(all, entry{o.name, "", false})
	}
	for i, t := range CustomObjectTypes {
		all = append(all, entry{t, "a0" + string(rune('A'+i)), true})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].name < all[j].name })
	sobjects := make([]map[string]any, 0, len(all))
	for _, e := range all {
		label := strings.TrimSuffix(e.name, "__c")
		if _, after, ok := strings.Cut(label, "__"); ok {
			label = after
		}
		label = strings.ReplaceAll(label, "_", " ")
		var prefix any
		if e.prefix != "" {
			prefix = e.prefix
		}
		base := "/services/data/" + v + "/sobjects/" + e.name
		sobjects = append(sobjects, map[string]any{
			"activateable": false, "createable": true, "custom": e.custom, "customSetting": false, "deletable": true,
			"deprecatedAndHidden": false, "feedEnabled": false, "hasSubtypes": false, "isSubtype": false, "keyPrefix": prefix,
			"label": label, "labelPlural": label + "s", "layoutable": true, "mergeable": false, "mruEnabled": false,
			"name": e.name, "queryable": true, "replicateable": true, "retrieveable": true, "searchable": true,
			"triggerable": true, "undeletable": true, "updateable": true,
			"urls": map[string]any{"sobject": base, "describe": base + "/describe", "rowTemplate": base + "/{ID}"},
		})
	}
	sandbox.WriteJSON(w, http.StatusOK, map[string]any{"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": sobjects})
}
