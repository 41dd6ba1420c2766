package status

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// Duration writes a duration as hours and minutes ("3 h 05 min", "12 min").
func Duration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	d = d.Round(time.Minute)
	h, m := int(d.Hours()), int(d.Minutes())%60
	switch {
	case h >= 48:
		return fmt.Sprintf("%d days %d h", h/24, h%24)
	case h > 0:
		return fmt.Sprintf("%d h %02d min", h, m)
	}
	return fmt.Sprintf("%d min", m)
}

// ClockText says what a clock means now.
func (c Clock) Text(now time.Time) string {
	if c.Since == nil {
		return fmt.Sprintf("%s: when is unknown (%s); it can take up to %d hours to show", c.What, c.Source, c.WithinHours)
	}
	el := now.Sub(*c.Since)
	s := fmt.Sprintf("%s %s ago (%s, %s)", c.What, Duration(el), c.Since.UTC().Format(time.RFC3339), c.Source)
	if c.Waiting {
		left := time.Duration(c.WithinHours)*time.Hour - el
		return s + fmt.Sprintf(": it can take up to %d hours to show, about %s left", c.WithinHours, Duration(left))
	}
	return s + fmt.Sprintf(": the %d hours it can take to show have passed", c.WithinHours)
}

// Summary is the report's last line.
func (r *Report) Summary() string {
	var notDone, notChecked int
	for _, s := range r.Steps {
		switch {
		case s.Status == NotDone:
			notDone++
		case s.Status == NotChecked && !(s.Optional && len(s.Checks) == 0):
			notChecked++
		}
	}
	sellers := ""
	if r.Sellers != nil {
		sellers = fmt.Sprintf(", %d of %d seller(s) ready", r.Sellers.Ready, r.Sellers.Total)
	}
	if r.Ready() {
		if r.Sandbox {
			return fmt.Sprintf("Ready (sandbox — not a real tenant): every step is done%s.", sellers)
		}
		return fmt.Sprintf("Ready: every step is done%s.", sellers)
	}
	var parts []string
	if notDone > 0 {
		parts = append(parts, fmt.Sprintf("%d step(s) not done", notDone))
	}
	if notChecked > 0 {
		parts = append(parts, fmt.Sprintf("%d not checked", notChecked))
	}
	if r.Sellers != nil {
		if n := r.Sellers.Total - r.Sellers.Ready; n > 0 {
			parts = append(parts, fmt.Sprintf("%d seller(s) not ready", n))
		}
		for _, c := range r.Sellers.Checks {
			if c.Status == NotChecked {
				parts = append(parts, fmt.Sprintf("seller check %q not made", c.ID))
			}
		}
	} else {
		parts = append(parts, "sellers not checked")
	}
	if len(parts) == 0 {
		parts = append(parts, "not every check could be made")
	}
	return "Not ready: " + strings.Join(parts, ", ") + "."
}

// WriteHuman writes the report as tables for people.
func WriteHuman(w io.Writer, r *Report) {
	fmt.Fprintf(w, "Readiness against the deployment guide (configuration: %s), %s\n", r.Configuration, r.Time.Format(time.RFC3339))
	if r.Sandbox {
		fmt.Fprintln(w, "sandbox: true — read from the c4sctl sandbox (an emulator), not a real tenant or org")
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STEP\tSTATUS\tWHAT")
	for _, s := range r.Steps {
		fmt.Fprintf(tw, "%d\t%s\t%s\n", s.Number, s.Status, s.Title)
		if len(s.Checks) == 0 {
			why := "the configuration declares nothing for this step"
			fmt.Fprintf(tw, "\t\t  - %s: %s\n", NotChecked, why)
		}
		for _, c := range s.Checks {
			fmt.Fprintf(tw, "\t\t  - %s: %s\n", c.Status, c.Detail)
		}
		for _, c := range s.Clocks {
			fmt.Fprintf(tw, "\t\t  - clock: %s\n", c.Text(r.Time))
		}
	}
	tw.Flush()
	if r.Sellers != nil {
		sl := r.Sellers
		fmt.Fprintf(w, "\nSellers (group %s): %d, %d ready\n", sl.Group, sl.Total, sl.Ready)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  CHECK\tSTEP\tSTATUS\tPASSED\tFAILED\tDETAIL")
		for _, c := range sl.Checks {
			passed, failed := fmt.Sprint(c.Passed), fmt.Sprint(c.Failed)
			if c.Status == NotChecked {
				passed, failed = "-", "-"
			}
			fmt.Fprintf(tw, "  %s\t%d\t%s\t%s\t%s\t%s\n", c.ID, c.Step, c.Status, passed, failed, c.Detail)
		}
		tw.Flush()
		for _, o := range sl.outcomes() {
			fmt.Fprintf(w, "  %d %s: %s\n", o.n, plural(o.n, "seller", "sellers"), o.text())
		}
		for _, f := range sl.Fixes() {
			fmt.Fprintf(w, "  To fix: %s\n", f)
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "\nNote: %s", n)
	}
	if len(r.Notes) > 0 {
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "\n%s\n", r.Summary())
}

// outcome is the sellers who fail the same checks.
type outcome struct {
	why      string
	ready    bool
	n        int
	examples []string
}

func (o outcome) text() string {
	s := o.why
	if s == "" {
		s = "every check made passes"
	}
	if !o.ready {
		s = "NOT ready: " + s
	} else if o.why != "" {
		s = "ready, but " + s
	} else {
		s = "ready: " + s
	}
	return s + ", e.g. " + strings.Join(o.examples, ", ")
}

// outcomes groups the sellers by the checks they fail (not ready first, then by size): a
// tenant of 20,000 sellers gets a few lines, and --json lists each seller.
func (sl *Sellers) outcomes() []outcome {
	by := map[string]*outcome{}
	var order []*outcome
	for _, s := range sl.List {
		why := sl.why(s)
		o := by[why]
		if o == nil {
			o = &outcome{why: why, ready: s.Ready}
			by[why] = o
			order = append(order, o)
		}
		o.n++
		if len(o.examples) < 3 {
			ex := s.UPN
			if s.SalesforceUser != "" {
				ex += " (Salesforce user " + s.SalesforceUser + ")"
			}
			o.examples = append(o.examples, ex)
		}
	}
	sort.SliceStable(order, func(i, j int) bool {
		if order[i].ready != order[j].ready {
			return !order[i].ready
		}
		return order[i].n > order[j].n
	})
	out := make([]outcome, len(order))
	for i, o := range order {
		out[i] = *o
	}
	return out
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func (sl *Sellers) why(s Seller) string {
	title := map[string]string{}
	for _, c := range sl.Checks {
		title[c.ID] = c.Failure
	}
	var out []string
	for _, id := range s.Failed {
		out = append(out, title[id])
	}
	seen := map[string]bool{}
	for _, r := range sl.reasons(Seller{NotChecked: s.NotChecked, Ready: false}) {
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	return strings.Join(out, "; ")
}

// Fixes says, for each readiness check some sellers fail and that names a fix, what an admin
// does and for how many ("salesforce_active (2 sellers): in Salesforce, Setup > Users > ...").
func (sl *Sellers) Fixes() []string {
	var out []string
	for _, c := range sl.Checks {
		if c.Readiness && c.Failed > 0 && c.Fix != "" && c.Status != NotChecked {
			out = append(out, fmt.Sprintf("%s (%d %s): %s", c.ID, c.Failed, plural(c.Failed, "seller", "sellers"), c.Fix))
		}
	}
	return out
}

// WriteMarkdown writes the report for a pull request, an issue or a wiki page.
func WriteMarkdown(w io.Writer, r *Report) {
	fmt.Fprintf(w, "### Copilot for Sales readiness\n\nConfiguration: %s, %s\n\n", mdCell(r.Configuration), r.Time.Format(time.RFC3339))
	if r.Sandbox {
		fmt.Fprintf(w, "> [!WARNING]\n> **sandbox: true** — read from the c4sctl sandbox (an emulator), not a real tenant or org.\n\n")
	}
	fmt.Fprintln(w, "| Step | Status | What | Checks |")
	fmt.Fprintln(w, "| ---: | --- | --- | --- |")
	for _, s := range r.Steps {
		var lines []string
		if len(s.Checks) == 0 {
			lines = append(lines, "not checked: the configuration declares nothing for this step")
		}
		for _, c := range s.Checks {
			lines = append(lines, fmt.Sprintf("%s: %s", c.Status, mdCell(c.Detail)))
		}
		for _, c := range s.Clocks {
			lines = append(lines, "clock: "+mdCell(c.Text(r.Time)))
		}
		fmt.Fprintf(w, "| %d | %s | %s | %s |\n", s.Number, mdStatus(s.Status), mdCell(s.Title), strings.Join(lines, "<br>"))
	}
	if sl := r.Sellers; sl != nil {
		fmt.Fprintf(w, "\n**Sellers** (group %s): %d, %d ready\n\n", mdCell(sl.Group), sl.Total, sl.Ready)
		fmt.Fprintln(w, "| Check | Step | Status | Passed | Failed | Detail |")
		fmt.Fprintln(w, "| --- | ---: | --- | ---: | ---: | --- |")
		for _, c := range sl.Checks {
			passed, failed := fmt.Sprint(c.Passed), fmt.Sprint(c.Failed)
			if c.Status == NotChecked {
				passed, failed = "-", "-"
			}
			fmt.Fprintf(w, "| `%s` | %d | %s | %s | %s | %s |\n", c.ID, c.Step, mdStatus(c.Status), passed, failed, mdCell(c.Detail))
		}
		if out := sl.outcomes(); len(out) > 0 {
			fmt.Fprintln(w)
			for _, o := range out {
				fmt.Fprintf(w, "- %d %s: %s\n", o.n, plural(o.n, "seller", "sellers"), mdCell(o.text()))
			}
		}
		if fixes := sl.Fixes(); len(fixes) > 0 {
			fmt.Fprintln(w, "\nTo fix:")
			for _, f := range fixes {
				fmt.Fprintf(w, "\n- %s", mdCell(f))
			}
			fmt.Fprintln(w)
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "\n> %s\n", mdCell(n))
	}
	fmt.Fprintf(w, "\n**%s**\n", mdCell(r.Summary()))
}

func mdStatus(s State) string {
	switch s {
	case Done:
		return "✅ done"
	case NotDone:
		return "❌ not done"
	}
	return "⚪ not checked"
}

func mdCell(s string) string {
	s = strings.ReplaceAll(s, "|", "\\|")
	s = strings.ReplaceAll(s, "<", "&lt;")
	return strings.ReplaceAll(s, "\n", " ")
}

// WriteJSON writes the report as one JSON document (indented).
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
