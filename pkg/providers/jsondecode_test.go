package providers

import (
	"regexp"
	"testing"
)

func TestDecodeJSONNeverNamesGoTypes(t *testing.T) {
	goType := regexp.MustCompile(`Go (value|struct)|map\[|interface \{|\[\]|int64|float64|main\.|providers\.`)
	var obj map[string]any
	var st struct {
		Name  string  `json:"Name"`
		Items []int64 `json:"Items"`
	}
	cases := []struct {
		raw  string
		out  any
		want string
	}{
		{`[{"a":1}]`, &obj, "the answer is an array where an object was expected"},
		{`{"Name": 5}`, &st, "field Name is a number where a string was expected"},
		{`{"Items": [1.5]}`, &st, "field Items is a number 1.5 where a whole number was expected"},
		{`{"Items": {}}`, &st, "field Items is an object where an array was expected"},
		{`{"Name": `, &st, "the answer is not valid JSON (at byte 9)"},
		{``, &st, "the answer is empty where JSON was expected"},
	}
	for _, c := range cases {
		err := DecodeJSON([]byte(c.raw), c.out)
		if err == nil {
			t.Fatalf("%s: no error", c.raw)
		}
		if err.Error() != c.want {
			t.Errorf("%s: %q, want %q", c.raw, err, c.want)
		}
		if goType.MatchString(err.Error()) {
			t.Errorf("%s: error names a Go type: %q", c.raw, err)
		}
	}
	if err := DecodeJSON([]byte(`{"Name":"x"}`), &st); err != nil || st.Name != "x" {
		t.Errorf("good answer: %v %q", err, st.Name)
	}
}
