package graphapi_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/c4sctl/c4sctl/pkg/sandbox/graphapi"
)

// rawCall sends a GET with optional headers and returns the answer's status, headers and body.
func (e *env) rawCall(path string, hdr map[string]string) (int, http.Header, map[string]any) {
	e.t.Helper()
	req, _ := http.NewRequest("GET", e.sb.URL+"/graph"+path, nil)
	req.Header.Set("Authorization", "Bearer "+e.tok)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := e.sb.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, resp.Header, out
}

func errorOf(t *testing.T, body map[string]any) (code, msg string, inner map[string]any) {
	t.Helper()
	e, _ := body["error"].(map[string]any)
	if e == nil {
		t.Fatalf("no error object in %v", body)
	}
	code, _ = e["code"].(string)
	msg, _ = e["message"].(string)
	inner, _ = e["innerError"].(map[string]any)
	return code, msg, inner
}

var guid = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// An unknown $select property is Graph's 400 with its message; the ids of the answer are in the
// headers and in innerError, client-request-id echoed.
func TestUnknownSelectIsGraphsBadRequest(t *testing.T) {
	e := setup(t)
	for _, path := range []string{
		"/v1.0/users?$select=id,rank",
		"/v1.0/users/user00001@contoso-sandbox.onmicrosoft.com?$select=rank",
		"/v1.0/groups?$select=displayName,rank",
		"/v1.0/groups/" + graphapi.AllSalesGroupID + "/members?$select=id,rank",
	} {
		st, h, body := e.rawCall(path, map[string]string{"client-request-id": "5b6c3f1e-0000-4000-8000-00000000abcd"})
		if st != 400 {
			t.Fatalf("%s: status %d, want 400: %v", path, st, body)
		}
		code, msg, inner := errorOf(t, body)
		if code != "BadRequest" || !strings.HasPrefix(msg, "Parsing OData Select and Expand failed: Could not find a property named 'rank' on type 'microsoft.graph.") {
			t.Errorf("%s: %s %q", path, code, msg)
		}
		if h.Get("client-request-id") != "5b6c3f1e-0000-4000-8000-00000000abcd" || inner["client-request-id"] != "5b6c3f1e-0000-4000-8000-00000000abcd" {
			t.Errorf("%s: client-request-id not echoed: header %q, innerError %v", path, h.Get("client-request-id"), inner["client-request-id"])
		}
		if !guid.MatchString(h.Get("request-id")) || inner["request-id"] != h.Get("request-id") {
			t.Errorf("%s: request-id header %q, innerError %v", path, h.Get("request-id"), inner["request-id"])
		}
	}
	// Without a client-request-id, every answer still has a request-id (and they differ).
	_, h1, _ := e.rawCall("/v1.0/subscribedSkus", nil)
	_, h2, _ := e.rawCall("/v1.0/subscribedSkus", nil)
	if !guid.MatchString(h1.Get("request-id")) || h1.Get("request-id") == h2.Get("request-id") {
		t.Errorf("request-ids %q %q", h1.Get("request-id"), h2.Get("request-id"))
	}
}

// $select answers exactly the selected properties (a property without a value as null), plus
// @odata.type on the items of a directoryObject collection; no id that was not asked for.
func TestSelectAnswersOnlyTheSelected(t *testing.T) {
	e := setup(t)
	keys := func(m map[string]any) string {
		var ks []string
		for k := range m {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		return strings.Join(ks, ",")
	}
	_, _, one := e.rawCall("/v1.0/groups/"+graphapi.AllSalesGroupID+"?$select=displayName,department", nil)
	if one != nil {
		// department is not a group property: refused.
		if _, ok := one["error"]; !ok {
			t.Errorf("group $select=department: %v", one)
		}
	}
	st, _, g := e.rawCall("/v1.0/groups/"+graphapi.AllSalesGroupID+"?$select=displayName,visibility", nil)
	if st != 200 || keys(g) != "displayName,visibility" || g["visibility"] != nil {
		t.Errorf("group: %d %v", st, g)
	}
	st, _, page := e.rawCall("/v1.0/groups/"+graphapi.AllSalesGroupID+"/members?$select=userPrincipalName&$top=2", nil)
	vals, _ := page["value"].([]any)
	if st != 200 || len(vals) != 2 {
		t.Fatalf("members: %d %v", st, page)
	}
	for _, v := range vals {
		if k := keys(v.(map[string]any)); k != "@odata.type,userPrincipalName" {
			t.Errorf("member keys %s", k)
		}
	}
	st, _, users := e.rawCall("/v1.0/users?$select=displayName&$top=1", nil)
	vals, _ = users["value"].([]any)
	if st != 200 || len(vals) != 1 || keys(vals[0].(map[string]any)) != "displayName" {
		t.Errorf("users: %d %v", st, users)
	}
}

// Filters the sandbox does not support answer Graph's Request_UnsupportedQuery naming the
// property and resource; a clause it cannot parse is a 400 BadRequest.
func TestUnsupportedFiltersAnswerGraphsError(t *testing.T) {
	e := setup(t)
	for path, want := range map[string]string{
		"/v1.0/users?$filter=officeLocation eq 'x'":                                     "Unsupported or invalid query filter clause specified for property 'officeLocation' of resource 'User'.",
		"/v1.0/groups?$filter=rank eq '1'":                                              "Unsupported or invalid query filter clause specified for property 'rank' of resource 'Group'.",
		"/v1.0/groups/" + graphapi.AllSalesGroupID + "/members?$filter=mail eq 'a@b.c'": "Unsupported or invalid query filter clause specified for property 'mail' of resource 'User'.",
	} {
		st, _, body := e.rawCall(strings.ReplaceAll(path, " ", "%20"), nil)
		code, msg, _ := errorOf(t, body)
		if st != 400 || code != "Request_UnsupportedQuery" || msg != want {
			t.Errorf("%s: %d %s %q", path, st, code, msg)
		}
	}
	st, _, body := e.rawCall("/v1.0/groups?$filter=displayName%20startswith%20'x'", nil)
	if code, msg, _ := errorOf(t, body); st != 400 || code != "BadRequest" || msg != "Invalid filter clause" {
		t.Errorf("unparsable filter: %d %s %q", st, code, msg)
	}
}
