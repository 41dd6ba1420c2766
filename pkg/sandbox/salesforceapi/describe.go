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

// The sObject describe resources (REST API Developer Guide: "Describe Global"
// https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_describeGlobal.htm,
// "sObject Basic Information", "sObject Describe"; property names as in the SOAP API's
// DescribeGlobalSObjectResult and DescribeSObjectResult, and jsforce's DescribeGlobalResult and
// DescribeSObjectResult types). The sandbox describes the objects it serves: the setup objects
// c4sctl reads and writes (queryable, with their fields) and the standard CRM objects that
// ObjectPermissions names (Id and Name only: the sandbox holds no rows of them).

// keyPrefixes are the standard objects' id prefixes (the first three characters of their ids).
var keyPrefixes = map[string]string{
	"User": "005", "Profile": "00e", "PermissionSet": "0PS", "PermissionSetAssignment": "0Pa", "SetupEntityAccess": "0J0",
	"ObjectPermissions": "110", "ConnectedApplication": "0H4", "Account": "001", "Campaign": "701", "Case": "500",
	"Contact": "003", "Contract": "800", "Lead": "00Q", "Opportunity": "006", "Order": "801", "Pricebook2": "01s",
	"Product2": "01t", "Quote": "0Q0",
}

// references are the reference fields' targets (referenceTo) of the served objects.
var references = map[string]string{"ProfileId": "Profile", "AssigneeId": "User", "PermissionSetId": "PermissionSet", "ParentId": "PermissionSet", "SetupEntityId": "ConnectedApplication"}

// writable are the objects the sandbox creates, updates and deletes records of.
var writable = map[string]bool{"PermissionSet": true, "PermissionSetAssignment": true, "SetupEntityAccess": true, "ObjectPermissions": true}

// describable is one object the describe resources list.
type describable struct {
	name   string
	fields []string
	query  bool // the sandbox answers SOQL on it
	custom bool
	prefix string // keyPrefix; custom objects get a0A, a0B, ... (assumed)
}

// label is the object's label: its name without namespace and __c, underscores as spaces
// (assumed: a real org answers the label an admin gave).
func (d describable) label() string {
	l := strings.TrimSuffix(d.name, "__c")
	if _, after, ok := strings.Cut(l, "__"); ok {
		l = after
	}
	return strings.ReplaceAll(l, "_", " ")
}

func (s *Service) describables() map[string]describable {
	out := map[string]describable{}
	for k, o := range s.objects() {
		out[k] = describable{name: o.name, fields: o.fields, query: true, prefix: keyPrefixes[o.name]}
	}
	for _, t := range ObjectTypes {
		out[strings.ToLower(t)] = describable{name: t, fields: []string{"Id", "Name"}, prefix: keyPrefixes[t]}
	}
	for i, t := range CustomObjectTypes {
		out[strings.ToLower(t)] = describable{name: t, fields: []string{"Id", "Name"}, custom: true, prefix: "a0" + string(rune('A'+i))}
	}
	return out
}

func (d describable) urls(apiPath string) map[string]string {
	base := apiPath + "/sobjects/" + d.name
	return map[string]string{"sobject": base, "describe": base + "/describe", "rowTemplate": base + "/{ID}"}
}

// brief is a DescribeGlobalSObjectResult.
func (d describable) brief(apiPath string) map[string]any {
	w := writable[d.name]
	var prefix any = d.prefix
	if d.prefix == "" {
		prefix = nil // an object without ids (UserPermissionAccess): no key prefix (assumed: null)
	}
	return map[string]any{
		"name": d.name, "label": d.label(), "labelPlural": d.label() + "s", "keyPrefix": prefix, "custom": d.custom, "customSetting": false,
		"createable": w, "updateable": w, "deletable": w, "queryable": d.query, "retrieveable": d.query, "searchable": false,
		"layoutable": false, "activateable": false, "deprecatedAndHidden": false, "feedEnabled": false, "mergeable": false,
		"mruEnabled": false, "replicateable": false, "triggerable": false, "undeletable": false, "urls": d.urls(apiPath),
	}
}

// fieldType is a field's describe type, from its name: ids, references, checkboxes, numbers and
// strings are all the served objects have.
func fieldType(name string) (typ string, ref string) {
	switch {
	case name == "Id":
		return "id", ""
	case references[name] != "":
		return "reference", references[name]
	case strings.HasPrefix(name, "Is") || strings.HasPrefix(name, "Permissions") || strings.HasPrefix(name, "Options"):
		return "boolean", ""
	case name == "RefreshTokenValidityPeriod":
		return "int", ""
	case name == "Email":
		return "email", ""
	}
	return "string", ""
}

// full is a DescribeSObjectResult: the brief plus fields.
func (d describable) full(apiPath string) map[string]any {
	out := d.brief(apiPath)
	var fields []map[string]any
	for _, f := range d.fields {
		typ, ref := fieldType(f)
		refTo := []string{}
		relName := any(nil)
		if ref != "" {
			refTo = []string{ref}
			relName = strings.TrimSuffix(f, "Id")
		}
		w := writable[d.name] && f != "Id" && typ != "id"
		fields = append(fields, map[string]any{
			"name": f, "label": f, "type": typ, "nillable": typ != "boolean" && f != "Id", "createable": w, "updateable": w,
			"filterable": true, "sortable": typ != "boolean", "custom": false, "referenceTo": refTo, "relationshipName": relName,
		})
	}
	out["fields"] = fields
	out["childRelationships"] = []any{}
	out["recordTypeInfos"] = []any{}
	return out
}

// describeGlobal answers GET /services/data/vXX.X/sobjects/: {"encoding", "maxBatchSize",
// "sobjects": [DescribeGlobalSObjectResult]}.
func (s *Service) describeGlobal(w http.ResponseWriter, r *http.Request) {
	ds := s.describables()
	var names []string
	for k := range ds {
		names = append(names, k)
	}
	sort.Strings(names)
	list := make([]map[string]any, 0, len(names))
	for _, k := range names {
		list = append(list, ds[k].brief(apiPath(r)))
	}
	sandbox.WriteJSON(w, http.StatusOK, map[string]any{"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": list})
}

// describeObject answers GET .../sobjects/{type}/describe, and GET .../sobjects/{type} (sObject
// Basic Information: {"objectDescribe": brief, "recentItems": []}). An unknown object is 404
// NOT_FOUND, as the REST API documents for a resource that does not exist.
func (s *Service) describeObject(basic bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		d, ok := s.describables()[strings.ToLower(r.PathValue("type"))]
		if !ok {
			sfError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
			return
		}
		if basic {
			sandbox.WriteJSON(w, http.StatusOK, map[string]any{"objectDescribe": d.brief(apiPath(r)), "recentItems": []any{}})
			return
		}
		sandbox.WriteJSON(w, http.StatusOK, d.full(apiPath(r)))
	}
}

// knownSObject tells whether the org has an object of that name (the served ones and the custom
// objects ObjectPermissions accepts).
func (s *Service) knownSObject(typ string) bool {
	_, ok := s.describables()[strings.ToLower(typ)]
	return ok || knownObject(typ)
}
