package status

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

func allDone(r *Report) {
	for _, s := range Steps {
		r.Add(Check{ID: "x", Step: s.Number, Status: Done, Detail: "ok"})
	}
}

func TestStepStatusFromItsChecks(t *testing.T) {
	r := New(t0, "dir", false)
	allDone(r)
	r.Add(Check{ID: "a", Step: 3, Status: NotChecked, Detail: "could not read"})
	r.Add(Check{ID: "b", Step: 4, Status: NotChecked})
	r.Add(Check{ID: "c", Step: 4, Status: NotDone})
	r.Finish()
	want := map[int]State{0: Done, 3: NotChecked, 4: NotDone, 9: Done}
	for _, s := range r.Steps {
		if w, ok := want[s.Number]; ok && s.Status != w {
			t.Errorf("step %d: %q, want %q", s.Number, s.Status, w)
		}
	}
	if r.Ready() {
		t.Fatal("ready with a step not done")
	}
	if got := r.Summary(); got != "Not ready: 1 step(s) not done, 1 not checked, sellers not checked." {
		t.Errorf("summary %q", got)
	}
}

func TestOptionalStepNothingDeclaredDoesNotBlock(t *testing.T) {
	r := New(t0, "dir", false)
	for _, s := range Steps {
		if s.Number != 8 {
			r.Add(Check{ID: "x", Step: s.Number, Status: Done})
		}
	}
	r.Sellers = SellerList("Sellers", []Seller{{ID: "U1", UPN: "a@x"}}, []SellerCheck{{ID: "licence", Readiness: true}}, nil)
	r.Finish()
	if !r.Ready() || r.Steps[8].Status != NotChecked {
		t.Fatalf("ready %v, step 8 %q", r.Ready(), r.Steps[8].Status)
	}
	// A required step with nothing declared does block.
	r = New(t0, "dir", false)
	for _, s := range Steps {
		if s.Number != 5 {
			r.Add(Check{ID: "x", Step: s.Number, Status: Done})
		}
	}
	r.Sellers = SellerList("Sellers", nil, nil, nil)
	r.Finish()
	if r.Ready() || r.Steps[5].Status != NotChecked {
		t.Fatalf("step 5 undeclared: ready %v, %q", r.Ready(), r.Steps[5].Status)
	}
}

func TestSellersReadinessAndWhy(t *testing.T) {
	sellers := []Seller{{ID: "U1", UPN: "b@x"}, {ID: "U2", UPN: "a@x"}, {ID: "U3", UPN: "c@x"}}
	checks := []SellerCheck{
		{ID: "licence", Failure: "no licence", Readiness: true},
		{ID: "addin", Failure: "no add-in", Readiness: true, Status: NotChecked, Detail: "API unavailable"},
		{ID: "welcomed", Failure: "not welcomed"},
	}
	failed := map[string]map[string]bool{"licence": {"u2": true}, "welcomed": {"u1": true, "u2": true}}
	// A readiness check not made leaves every seller not ready: ready is a promise, and the
	// add-in was not checked for anyone.
	sl := SellerList("Sellers", sellers, checks, failed)
	if sl.Total != 3 || sl.Ready != 0 {
		t.Fatalf("total %d ready %d, want 0 ready while the add-in is not checked", sl.Total, sl.Ready)
	}
	if sl.Checks[0].Passed != 2 || sl.Checks[0].Failed != 1 || sl.Checks[0].Status != NotDone {
		t.Errorf("licence %+v", sl.Checks[0])
	}
	if sl.Checks[1].Status != NotChecked || sl.Checks[1].Passed != 0 {
		t.Errorf("a check not made was counted: %+v", sl.Checks[1])
	}
	nr := sl.NotReady()
	if len(nr) != 3 || nr["u2"] != "no licence, not checked: API unavailable" || nr["u1"] != "not checked: API unavailable" || nr["u3"] != "not checked: API unavailable" {
		t.Errorf("not ready %q", nr)
	}
	for _, s := range sl.List {
		if s.Ready || len(s.NotChecked) != 1 || s.NotChecked[0] != "addin" {
			t.Errorf("%s: ready %v, not checked %q", s.UPN, s.Ready, s.NotChecked)
		}
	}
	if sl.List[0].UPN != "a@x" {
		t.Errorf("sellers not sorted by UPN: %+v", sl.List)
	}
	r := New(t0, "dir", false)
	allDone(r)
	r.Sellers = sl
	r.Finish()
	if r.Ready() {
		t.Fatal("ready with a seller not ready and a seller check not made")
	}
	var b bytes.Buffer
	WriteHuman(&b, r)
	for _, want := range []string{"1 seller: NOT ready: no licence; not welcomed; not checked: API unavailable, e.g. a@x", "1 seller: NOT ready: not welcomed; not checked: API unavailable, e.g. b@x",
		"1 seller: NOT ready: not checked: API unavailable, e.g. c@x", "addin", "not checked  -       -       API unavailable", "Sellers (group Sellers): 3, 0 ready"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("human output lacks %q:\n%s", want, b.String())
		}
	}

	// Once the add-in is checked (and everyone has it), not welcomed is no reason to hold a
	// seller back; no licence is.
	checks[1] = SellerCheck{ID: "addin", Failure: "no add-in", Readiness: true}
	sl = SellerList("Sellers", []Seller{{ID: "U1", UPN: "b@x"}, {ID: "U2", UPN: "a@x"}, {ID: "U3", UPN: "c@x"}}, checks, failed)
	if sl.Ready != 2 {
		t.Fatalf("add-in checked: ready %d, want 2", sl.Ready)
	}
	if nr := sl.NotReady(); len(nr) != 1 || nr["u2"] != "no licence" {
		t.Errorf("not ready %q", nr)
	}
	b.Reset()
	r.Sellers = sl
	r.Finish()
	WriteHuman(&b, r)
	for _, want := range []string{"1 seller: NOT ready: no licence; not welcomed, e.g. a@x", "1 seller: ready, but not welcomed, e.g. b@x"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("human output lacks %q:\n%s", want, b.String())
		}
	}
}

func TestClockWaitingAndUnknown(t *testing.T) {
	r := New(t0, "dir", false)
	since := t0.Add(-3 * time.Hour)
	old := t0.Add(-30 * time.Hour)
	r.AddClock(Clock{ID: "a", Step: 1, What: "deployed", Since: &since, Source: "history", WithinHours: 24})
	r.AddClock(Clock{ID: "b", Step: 1, What: "deployed", Since: &old, Source: "history", WithinHours: 24})
	r.AddClock(Clock{ID: "c", Step: 2, What: "pinned", Source: "no source", WithinHours: 48})
	allDone(r)
	r.Finish()
	cs := append(append([]Clock{}, r.Steps[1].Clocks...), r.Steps[2].Clocks...)
	if len(cs) != 3 || !cs[0].Waiting || cs[1].Waiting || cs[2].Waiting || cs[2].ElapsedHours != nil {
		t.Fatalf("clocks %+v", cs)
	}
	if *cs[0].ElapsedHours != 3 {
		t.Errorf("elapsed %v", *cs[0].ElapsedHours)
	}
	if got := cs[0].Text(r.Time); got != "deployed 3 h 00 min ago (2026-11-29T09:00:00Z, history): it can take up to 24 hours to show, about 21 h 00 min left" {
		t.Errorf("text %q", got)
	}
	if got := cs[1].Text(r.Time); !strings.HasSuffix(got, "the 24 hours it can take to show have passed") {
		t.Errorf("text %q", got)
	}
	if got := cs[2].Text(r.Time); !strings.Contains(got, "when is unknown (no source)") {
		t.Errorf("text %q", got)
	}
	// Clocks inform; they do not make a done step not done.
	if r.Steps[1].Status != Done {
		t.Errorf("step 1 %q", r.Steps[1].Status)
	}
}

func TestMarkdownEscapesCells(t *testing.T) {
	r := New(t0, "dir", false)
	r.Add(Check{ID: "x", Step: 1, Status: NotDone, Detail: "a | b <script>"})
	r.Finish()
	var b bytes.Buffer
	WriteMarkdown(&b, r)
	if !strings.Contains(b.String(), `a \| b &lt;script>`) || !strings.Contains(b.String(), "| 1 | ❌ not done |") {
		t.Errorf("markdown:\n%s", b.String())
	}
}

// Every step carries "clocks" in JSON, [] when it has none: consumers need no existence check.
func TestJSONStepsAlwaysCarryClocks(t *testing.T) {
	r := New(t0, "dir", false)
	allDone(r)
	r.Finish()
	var b bytes.Buffer
	if err := WriteJSON(&b, r); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Steps []map[string]json.RawMessage `json:"steps"`
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Steps) != len(Steps) {
		t.Fatalf("%d steps", len(doc.Steps))
	}
	for _, s := range doc.Steps {
		if c, ok := s["clocks"]; !ok || string(c) != "[]" {
			t.Errorf("step %s: clocks %q (present %v), want []", s["number"], c, ok)
		}
	}
}

// The fix of each readiness check some sellers fail is said once, with how many fail it, in the
// human and Markdown outputs; the seller's Salesforce username is shown beside them; a check
// nobody fails, not made, or not about readiness says no fix.
func TestSellersFixesAndSalesforceUser(t *testing.T) {
	sellers := []Seller{{ID: "U1", UPN: "a@x", SalesforceUser: "a@sf"}, {ID: "U2", UPN: "b@x"}, {ID: "U3", UPN: "c@x"}}
	checks := []SellerCheck{
		{ID: "salesforce_active", Failure: "inactive", Readiness: true, Fix: "reactivate them"},
		{ID: "salesforce_user", Failure: "no user", Readiness: true, Fix: "create them"},
		{ID: "salesforce_connected_app", Failure: "not let through", Readiness: true, Fix: "add the profile", Status: NotChecked, Detail: "app not installed"},
		{ID: "welcomed", Failure: "not welcomed", Fix: "welcome them"},
	}
	failed := map[string]map[string]bool{"salesforce_active": {"u1": true}, "welcomed": {"u3": true}}
	sl := SellerList("Sellers", sellers, checks, failed)
	if got := sl.Fixes(); len(got) != 1 || got[0] != "salesforce_active (1 seller): reactivate them" {
		t.Fatalf("fixes %q", got)
	}
	r := New(t0, "dir", false)
	allDone(r)
	r.Sellers = sl
	r.Finish()
	var h, md bytes.Buffer
	WriteHuman(&h, r)
	WriteMarkdown(&md, r)
	for _, want := range []string{"To fix: salesforce_active (1 seller): reactivate them", "NOT ready: inactive; not checked: app not installed, e.g. a@x (Salesforce user a@sf)"} {
		if !strings.Contains(h.String(), want) {
			t.Errorf("human output lacks %q:\n%s", want, h.String())
		}
	}
	if !strings.Contains(md.String(), "To fix:\n\n- salesforce_active (1 seller): reactivate them") {
		t.Errorf("markdown lacks the fix:\n%s", md.String())
	}
	if strings.Contains(h.String(), "welcome them") || strings.Contains(h.String(), "add the profile") || strings.Contains(h.String(), "create them") {
		t.Errorf("a fix for a check nobody fails, not made, or not about readiness:\n%s", h.String())
	}
}

// A seller a check cannot be made for (their Salesforce user's, when none is matched) neither
// passes nor fails it, and the check is not done while one is skipped.
func TestSellerListSkipping(t *testing.T) {
	sellers := []Seller{{ID: "U1", UPN: "a@x"}, {ID: "U2", UPN: "b@x"}}
	checks := []SellerCheck{{ID: "salesforce_user", Readiness: true}, {ID: "salesforce_active", Readiness: true}}
	failed := map[string]map[string]bool{"salesforce_user": {"u2": true}}
	skipped := map[string]map[string]bool{"salesforce_active": {"u2": true}}
	sl := SellerListSkipping("Sellers", sellers, checks, failed, skipped)
	if c := sl.Checks[1]; c.Passed != 1 || c.Failed != 0 || c.NotApplicable != 1 || c.Status != NotDone {
		t.Errorf("skipped check: %+v", c)
	}
	if c := sl.Checks[0]; c.Passed != 1 || c.Failed != 1 || c.NotApplicable != 0 {
		t.Errorf("failed check: %+v", c)
	}
	if sl.Ready != 1 {
		t.Errorf("%d ready, want 1", sl.Ready)
	}
	if n := SellerList("Sellers", sellers, checks, failed).Checks[1]; n.Passed != 2 || n.Status != Done {
		t.Errorf("without skipping: %+v", n)
	}
}
