package teams

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The rank of a group policy assignment is the model's "priority" (the admin centre's "Rank" is
// a label): a decoder reading a "Rank" field reads 0 for every assignment and fails here.
func TestFixtureGroupAssignmentsReadPriority(t *testing.T) {
	var gs []liveGroup
	if err := json.Unmarshal(fixture(t, "group_policy_assignments.json"), &gs); err != nil {
		t.Fatal(err)
	}
	if len(gs) != 2 {
		t.Fatalf("%d assignments, want 2", len(gs))
	}
	got := []string{}
	for _, g := range gs {
		got = append(got, g.GroupID[:8]+":"+g.PolicyType+":"+g.PolicyName+":"+strings.Repeat("I", int(g.Priority)))
	}
	want := "d8ebfa45:TeamsMeetingPolicy:AllOn:I 566b8d39:TeamsMeetingPolicy:Kiosk:II"
	if strings.Join(got, " ") != want {
		t.Errorf("decoded %s, want %s", strings.Join(got, " "), want)
	}
	// createdTime (the module's format, 7 fractional digits) is the pinned-app clock's source
	// for sellers who get their setup policy through a group (c4sctl status).
	if ct, err := time.Parse(time.RFC3339Nano, gs[0].CreatedTime); err != nil || !ct.Equal(time.Date(2019, 10, 29, 3, 57, 27, 0, time.UTC)) {
		t.Errorf("createdTime %q decoded as %v (%v)", gs[0].CreatedTime, ct, err)
	}
	// Only app setup policy assignments are the adapter's; their order is by priority.
	mixed := append([]liveGroup{{GroupID: "g9", PolicyType: setupType, PolicyName: "B", Priority: 2}, {GroupID: "g8", PolicyType: setupType, PolicyName: "A", Priority: 1}}, gs...)
	kept := assignmentsOf(mixed, setupType)
	if len(kept) != 2 || kept[0].GroupID != "g8" || kept[1].GroupID != "g9" {
		t.Errorf("assignmentsOf: %+v", kept)
	}
}

// A single-policy GET answered as a one-element array reads like the object.
func TestFixtureOneElementArrayReadsLikeObject(t *testing.T) {
	raw := fixture(t, "meeting_policy_one_element_array.json")
	var p map[string]any
	if err := decodeOne("/p", "Tag:AllOn", raw, &p); err != nil {
		t.Fatal(err)
	}
	if p["Identity"] != "Tag:AllOn" || p["AllowTranscription"] != true {
		t.Errorf("decoded %v", p)
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		t.Fatal(err)
	}
	var q map[string]any
	if err := decodeOne("/p", "AllOn", list[0], &q); err != nil || q["Identity"] != "Tag:AllOn" {
		t.Errorf("object form: %v %v", err, q)
	}
	// Two elements: the one whose Identity matches; an empty list is absent (404).
	two := []byte("[" + `{"Identity":"Tag:Other"},` + string(list[0]) + "]")
	var r map[string]any
	if err := decodeOne("/p", "allon", two, &r); err != nil || r["Identity"] != "Tag:AllOn" {
		t.Errorf("two elements: %v %v", err, r)
	}
	if err := decodeOne("/p", "AllOn", []byte("[]"), &r); !IsNotFound(err) {
		t.Errorf("empty list: %v, want a 404", err)
	}
}

// No error about an answer's shape names a Go type.
func TestShapeErrorsNameNoGoType(t *testing.T) {
	goType := regexp.MustCompile(`Go (value|struct)|map\[|interface|float64|\[\]json|teams\.`)
	var p map[string]any
	var s struct {
		Identity string `json:"Identity"`
	}
	for _, c := range []struct {
		raw string
		out any
	}{
		{`"a string"`, &p},
		{`[1, 2]`, &p},
		{`{"Identity": 7}`, &s},
		{`[{"Identity":"Tag:A"},{"Identity":"Tag:B"}]`, &p},
		{`{"Identity": `, &s},
		{`null`, &p},
	} {
		err := decodeOne("/Skype.Policy/configurations/TeamsMeetingPolicy/configuration/Tag:C", "C", []byte(c.raw), c.out)
		if err == nil {
			t.Errorf("%s: no error", c.raw)
			continue
		}
		if goType.MatchString(err.Error()) {
			t.Errorf("%s: %q names a Go type", c.raw, err)
		}
	}
}
