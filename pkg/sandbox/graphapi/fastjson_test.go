package graphapi

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"testing"
)

// appendJSON must write exactly what encoding/json writes.
func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	svc := New()
	svc.Reset()
	vals := []map[string]any{}
	for _, u := range svc.t.Users[:300] {
		vals = append(vals, svc.userJSON(u))
	}
	body := map[string]any{"@odata.context": "x", "value": vals, "@odata.nextLink": "https://h/p?a=1&b=<2>",
		"odd": []any{"a\"b\\c\n\x01\u2028é\xff", 3, true, nil, 1.5, []string(nil), map[string]string{"k": "v"}}}
	want, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	if got := appendJSON(nil, body); !bytes.Equal(got, want) {
		t.Fatalf("appendJSON differs from encoding/json:\n got %.300s\nwant %.300s", got, want)
	}
}

// writePage streams what encoding/json writes for the page's map, @odata.nextLink before value.
func TestWritePageMatchesEncodingJSON(t *testing.T) {
	svc := New()
	svc.Reset()
	users := svc.t.Users[:120]
	item := func(i int) map[string]any { return svc.userJSON(users[i]) }
	for _, next := range []string{"", "https://h/p?$skiptoken=abc&$top=999"} {
		for _, n := range []int{0, 1, len(users)} {
			vals := []map[string]any{}
			for i := range n {
				vals = append(vals, item(i))
			}
			m := map[string]any{"@odata.context": "ctx", "value": vals}
			if next != "" {
				m["@odata.nextLink"] = next
			}
			want, _ := json.Marshal(m)
			rec := httptest.NewRecorder()
			writePage(rec, "ctx", next, n, item)
			if got := bytes.TrimSuffix(rec.Body.Bytes(), []byte("\n")); !bytes.Equal(got, want) {
				t.Fatalf("next %q, %d items:\n got %.300s\nwant %.300s", next, n, got, want)
			}
			if !rec.Flushed {
				t.Fatalf("next %q, %d items: the head was not flushed before the items", next, n)
			}
		}
	}
}

// userSelected builds only the selected properties, and exactly what projecting the whole user
// (as a member of a directoryObject collection: with its @odata.type) gives.
func TestUserSelectedIsTheProjection(t *testing.T) {
	svc := New()
	svc.Reset()
	for _, sel := range []string{"", "id", "id,userPrincipalName,displayName,mail,usageLocation,assignedLicenses", " assignedLicenses , licenseAssignmentStates,nope", "surname,givenName,accountEnabled,jobTitle,businessPhones"} {
		for _, u := range svc.t.Users[:20] {
			want, _ := json.Marshal(projectKeys(svc.userJSON(u), selectKeys(sel, userDefault), true))
			got, _ := json.Marshal(svc.userSelected(u, selectKeys(sel, userDefault)))
			if !bytes.Equal(got, want) {
				t.Fatalf("$select=%q, user %s:\n got %s\nwant %s", sel, u.ID, got, want)
			}
		}
	}
}
