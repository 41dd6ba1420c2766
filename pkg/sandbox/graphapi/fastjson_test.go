package graphapi

import (
	"bytes"
	"encoding/json"
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
