// Package status is the readiness report of `c4sctl status`: for each step of the deployment
// guide, the checks that tell whether it is done, the clocks the guide names (an add-in takes up
// to 24 hours to show, the pinned app up to 48), and for each seller whether they are ready.
//
// A check is one fact with an id, the guide step it belongs to, a status (done, not done, not
// checked) and a detail. The command adds checks from several sources (the resources of a
// refresh-only plan, per-seller reads: licence, add-in, Teams policies and app availability, the
// Entra-Salesforce reconciliation); a new source adds its checks with Report.Add and, per seller,
// a SellerCheck and the ids of the sellers who fail it (SellerList).
package status

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// State is the status of a check, a step or the whole report.
type State string

const (
	Done       State = "done"
	NotDone    State = "not done"
	NotChecked State = "not checked"
)

// Step is a step of the deployment guide (docs: /work/shared/docs/deployment-guide.md; step 0
// is its prerequisites).
type Step struct {
	Number int
	Title  string
	// Optional steps (8: customising Copilot for Sales) that nothing checks do not make the
	// report not ready.
	Optional bool
}

// Steps are the guide's prerequisites and nine steps, in order.
var Steps = []Step{
	{0, "Prerequisites: every seller holds a Copilot for Sales licence", false},
	{1, "Copilot for Sales deployed in Outlook (integrated app)", false},
	{2, "A Teams setup policy installs and pins the app", false},
	{3, "Teams meeting transcription on", false},
	{4, "Salesforce security roles: API Enabled for the sellers", false},
	{5, "The Salesforce connector is not blocked by DLP (msdyn_viva)", false},
	{6, "The Microsoft Power Platform connected app is not blocked in Salesforce", false},
	{7, "First sign-in: msdyn_viva exists, its System Administrators reviewed", false},
	{8, "Copilot for Sales settings (optional)", true},
	{9, "Welcome the sellers", false},
}

// Check is one fact about a step.
type Check struct {
	// ID names the check: "resource:ADDR" for a resource of the configuration,
	// "sellers:CHECK" for a per-seller check summed up, "welcome:sent".
	ID     string `json:"id"`
	Step   int    `json:"step"`
	Status State  `json:"status"`
	Detail string `json:"detail"`
}

// Clock is a delay the guide names: after a change, something can take up to WithinHours to
// show. Since is nil when no source tells when the change was made ("unknown").
type Clock struct {
	ID          string     `json:"id"`
	Step        int        `json:"step"`
	What        string     `json:"what"`
	Since       *time.Time `json:"since"`
	Source      string     `json:"source"`
	WithinHours int        `json:"within_hours"`
	// ElapsedHours is the time since Since at the report's time (absent when unknown).
	ElapsedHours *float64 `json:"elapsed_hours,omitempty"`
	// Waiting is true while less than WithinHours have passed.
	Waiting bool `json:"waiting"`
}

// StepResult is one step of the report.
type StepResult struct {
	Number   int     `json:"number"`
	Title    string  `json:"title"`
	Optional bool    `json:"optional,omitempty"`
	Status   State   `json:"status"`
	Checks   []Check `json:"checks"`
	Clocks   []Clock `json:"clocks"` // [] when the step has none: consumers need no existence check
}

// SellerCheck is a check made for every seller, summed up.
type SellerCheck struct {
	ID    string `json:"id"`
	Step  int    `json:"step"`
	Title string `json:"title"`
	// Failure says what a seller who fails it lacks ("transcription off in their meeting policy").
	Failure string `json:"failure"`
	Status  State  `json:"status"` // not checked: made for nobody (Detail says why)
	Passed  int    `json:"passed"`
	Failed  int    `json:"failed"`
	// NotApplicable counts the sellers the check cannot be made for (a check of their Salesforce
	// user when none is matched): they neither pass nor fail it (0: left out of JSON).
	NotApplicable int    `json:"not_applicable,omitempty"`
	Detail        string `json:"detail,omitempty"`
	// Fix says what an admin does for the sellers who fail it ("" when there is nothing to say).
	Fix string `json:"fix,omitempty"`
	// Readiness: a failed check makes the seller not ready (the welcome check does not).
	Readiness bool `json:"readiness"`
}

// Seller is one member of the seller group.
type Seller struct {
	ID  string `json:"id"`
	UPN string `json:"user_principal_name"`
	// Ready: every readiness check was made for this seller and passed. A readiness check that
	// could not be made (Salesforce or Graph could not be read, the app's availability API
	// refused) leaves the seller not ready: ready is a promise, and what was not checked counts
	// against it.
	Ready bool `json:"ready"`
	// Failed lists the ids of the checks this seller fails.
	Failed []string `json:"failed"`
	// NotChecked lists the ids of the readiness checks that could not be made for anyone (the
	// seller check's Detail says why); empty: left out of JSON.
	NotChecked []string   `json:"not_checked,omitempty"`
	Welcomed   *time.Time `json:"welcomed,omitempty"`
	// SalesforceUser is the username of the Salesforce user matched to a seller who fails a
	// Salesforce check ("" otherwise: none matched, all passed, or Salesforce not compared).
	SalesforceUser string `json:"salesforce_username,omitempty"`
}

// Sellers is the per-seller part of the report.
type Sellers struct {
	Group  string        `json:"group"`
	Total  int           `json:"total"`
	Ready  int           `json:"ready"`
	Checks []SellerCheck `json:"checks"`
	List   []Seller      `json:"sellers"`
}

// Report is the readiness of a deployment.
type Report struct {
	FormatVersion string    `json:"format_version"`
	Time          time.Time `json:"time"`
	// Configuration is what was checked against: the configuration's directory, or "built-in
	// quickstart" without one.
	Configuration string `json:"configuration"`
	Builtin       bool   `json:"builtin_configuration"`
	// Sandbox: the report was made against the c4sctl sandbox (an emulator), not a real tenant.
	Sandbox bool         `json:"sandbox"`
	Status  State        `json:"status"` // done: every step done and every seller ready
	Steps   []StepResult `json:"steps"`
	Sellers *Sellers     `json:"sellers"`
	Notes   []string     `json:"notes,omitempty"`

	checks []Check
	clocks []Clock
}

// New starts a report made at now.
func New(now time.Time, configuration string, builtin bool) *Report {
	return &Report{FormatVersion: "1", Time: now.UTC().Truncate(time.Second), Configuration: configuration, Builtin: builtin}
}

// Add records a check.
func (r *Report) Add(c Check) { r.checks = append(r.checks, c) }

// AddClock records a clock; elapsed time and waiting are computed from the report's time.
func (r *Report) AddClock(c Clock) {
	if c.Since != nil {
		h := r.Time.Sub(*c.Since).Hours()
		if h < 0 {
			h = 0
		}
		c.ElapsedHours = &h
		c.Waiting = h < float64(c.WithinHours)
	}
	r.clocks = append(r.clocks, c)
}

// Note adds a line said under the report.
func (r *Report) Note(format string, args ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

// Finish builds the steps from the checks and clocks and sets the report's status.
func (r *Report) Finish() {
	r.Steps = nil
	ready := true
	for _, s := range Steps {
		sr := StepResult{Number: s.Number, Title: s.Title, Optional: s.Optional, Checks: []Check{}, Clocks: []Clock{}}
		for _, c := range r.checks {
			if c.Step == s.Number {
				sr.Checks = append(sr.Checks, c)
			}
		}
		for _, c := range r.clocks {
			if c.Step == s.Number {
				sr.Clocks = append(sr.Clocks, c)
			}
		}
		sr.Status = Done
		if len(sr.Checks) == 0 {
			sr.Status = NotChecked
		}
		for _, c := range sr.Checks {
			switch {
			case c.Status == NotDone:
				sr.Status = NotDone
			case c.Status == NotChecked && sr.Status == Done:
				sr.Status = NotChecked
			}
		}
		if sr.Status != Done && !(s.Optional && len(sr.Checks) == 0) {
			ready = false
		}
		r.Steps = append(r.Steps, sr)
	}
	if r.Sellers != nil {
		if r.Sellers.Ready != r.Sellers.Total {
			ready = false
		}
		for _, c := range r.Sellers.Checks {
			if c.Status != Done {
				ready = false
			}
		}
	}
	r.Status = NotDone
	if ready {
		r.Status = Done
	}
}

// Ready tells whether every step is done and every seller ready (exit code 0).
func (r *Report) Ready() bool { return r.Status == Done }

// SellerList builds the per-seller part from the sellers and, for each check, who failed it.
// checks are in display order; failed maps a check id to the lower-case ids of the sellers who
// fail it (absent for a check not made: its Status is NotChecked).
func SellerList(group string, sellers []Seller, checks []SellerCheck, failed map[string]map[string]bool) *Sellers {
	return SellerListSkipping(group, sellers, checks, failed, nil)
}

// SellerListSkipping is SellerList where skipped maps a check id to the lower-case ids of the
// sellers it cannot be made for (whether the Salesforce user of a seller no Salesforce user was
// matched to is active, holds the permission set...): they are counted neither as passed nor as
// failed (NotApplicable), and the check is not done while any seller is skipped.
func SellerListSkipping(group string, sellers []Seller, checks []SellerCheck, failed, skipped map[string]map[string]bool) *Sellers {
	out := &Sellers{Group: group, Total: len(sellers), Checks: checks, List: sellers}
	for i := range out.Checks {
		c := &out.Checks[i]
		if c.Status == NotChecked {
			continue
		}
		c.Failed, c.NotApplicable = len(failed[c.ID]), 0
		for id := range skipped[c.ID] {
			if !failed[c.ID][id] {
				c.NotApplicable++
			}
		}
		c.Passed = len(sellers) - c.Failed - c.NotApplicable
		c.Status = Done
		if c.Failed > 0 || c.NotApplicable > 0 {
			c.Status = NotDone
		}
	}
	for i := range out.List {
		s := &out.List[i]
		s.Failed = []string{}
		s.Ready = true
		s.NotChecked = nil
		for _, c := range out.Checks {
			if c.Readiness && c.Status == NotChecked {
				s.NotChecked = append(s.NotChecked, c.ID)
				s.Ready = false
				continue
			}
			if failed[c.ID][strings.ToLower(s.ID)] {
				s.Failed = append(s.Failed, c.ID)
				if c.Readiness {
					s.Ready = false
				}
			}
		}
		if s.Ready {
			out.Ready++
		}
	}
	sort.SliceStable(out.List, func(i, j int) bool { return out.List[i].UPN < out.List[j].UPN })
	return out
}

// NotReady maps the lower-case id of each seller who is not ready to why (the readiness checks
// they fail, by title, then "not checked: WHY" for each reason a readiness check could not be
// made): what `welcome --ready-only` leaves out.
func (s *Sellers) NotReady() map[string]string {
	out := map[string]string{}
	for _, x := range s.List {
		if x.Ready {
			continue
		}
		out[strings.ToLower(x.ID)] = strings.Join(s.reasons(x), ", ")
	}
	return out
}

// reasons says why a seller is not ready: the failure of each readiness check they fail, then
// each distinct reason a readiness check was not made.
func (s *Sellers) reasons(x Seller) []string {
	byID := map[string]SellerCheck{}
	for _, c := range s.Checks {
		byID[c.ID] = c
	}
	var why []string
	for _, id := range x.Failed {
		if c := byID[id]; c.Readiness {
			why = append(why, c.Failure)
		}
	}
	seen := map[string]bool{}
	for _, id := range x.NotChecked {
		d := "not checked: " + byID[id].Detail
		if !seen[d] {
			seen[d] = true
			why = append(why, d)
		}
	}
	return why
}
