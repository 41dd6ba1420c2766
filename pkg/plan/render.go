package plan

import (
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"

	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/zclconf/go-cty/cty"
)

// Colors are ANSI sequences; the zero value prints no color.
type Colors struct {
	Green, Yellow, Red, Cyan, Bold, Reset string
}

// ANSI returns the terminal colors.
func ANSI() Colors {
	return Colors{Green: "\x1b[32m", Yellow: "\x1b[33m", Red: "\x1b[31m", Cyan: "\x1b[36m", Bold: "\x1b[1m", Reset: "\x1b[0m"}
}

// Render writes the plan for people, in Terraform's style: drift first, then each change, then
// the summary line.
func Render(w io.Writer, p *Plan, c Colors) {
	if p.Sandbox {
		fmt.Fprintf(w, "%s%s%s\n", c.Yellow, SandboxNote, c.Reset)
	}
	var drifted []*ResourceChange
	for _, rc := range p.Changes {
		if len(rc.Drift) > 0 {
			drifted = append(drifted, rc)
		}
	}
	if len(drifted) > 0 {
		fmt.Fprintf(w, "\n%sObjects have changed outside c4sctl%s\n\n", c.Bold, c.Reset)
		fmt.Fprintf(w, "c4sctl detected the following changes made outside c4sctl since the last apply:\n\n")
		for _, rc := range drifted {
			fmt.Fprintf(w, "  %s# %s has changed outside c4sctl%s\n", c.Bold, rc.Addr, c.Reset)
			for _, d := range rc.Drift {
				fmt.Fprintf(w, "  %s~%s %s: %s -> %s\n", c.Yellow, c.Reset, d.Name, formatAttr(rc, d.Name, d.Before), formatAttr(rc, d.Name, d.After))
			}
			fmt.Fprintln(w)
		}
	}
	same := p.SameCause()
	for _, rc := range p.Changes {
		if rc.Action == providers.Deferred {
			if first, ok := same[rc.Addr]; ok {
				fmt.Fprintf(w, "\n  %s# %s could not be read:%s the same error as %s (provider %q, above)\n", c.Red, rc.Addr, c.Reset, first, rc.Provider)
			} else if rc.CouldNotRead {
				fmt.Fprintf(w, "\n  %s# %s could not be read:%s %s\n", c.Red, rc.Addr, c.Reset, rc.Reason)
			} else {
				fmt.Fprintf(w, "\n  %s# %s cannot be planned yet:%s %s\n", c.Bold, rc.Addr, c.Reset, rc.Reason)
			}
			writeList(w, "    ", "Warning: ", rc.Warnings)
		}
	}
	if p.RefreshOnly {
		renderDriftSummary(w, p, c)
		return
	}
	var shown int
	for _, rc := range p.Changes {
		switch rc.Action {
		case providers.NoOp, providers.Read, providers.Deferred:
			if rc.Action == providers.NoOp && (rc.Importing || rc.PrevAddr != "") {
				break // adopted or moved: shown, though nothing in it changes
			}
			if len(rc.Warnings) > 0 {
				fmt.Fprintf(w, "\n  %s# %s%s\n", c.Bold, rc.Addr, c.Reset)
				writeList(w, "    ", "Warning: ", rc.Warnings)
			}
			continue
		}
		if shown == 0 {
			fmt.Fprintf(w, "\nc4sctl will perform the following actions:\n")
		}
		shown++
		renderChange(w, rc, c)
	}
	s := p.Summary()
	RenderCoverage(w, p.Coverage, c)
	if !p.HasChanges() && p.Destroy {
		// Terraform's words for an empty destroy plan.
		fmt.Fprintf(w, "\n%sNo changes.%s No objects need to be destroyed: the state holds none.\n", c.Green, c.Reset)
		return
	}
	if !p.HasChanges() {
		if p.Sandbox {
			fmt.Fprintf(w, "\n%sNo changes (sandbox — not a real tenant).%s The sandbox tenant and org match the configuration.\n", c.Green, c.Reset)
			return
		}
		fmt.Fprintf(w, "\n%sNo changes.%s The tenant and org match the configuration.\n", c.Green, c.Reset)
		return
	}
	fmt.Fprintf(w, "\n%sPlan:%s %s\n", c.Bold, c.Reset, SummaryLine(s))
	if extra := summaryExtras(s); len(extra) > 0 {
		fmt.Fprintf(w, "Also: %s.\n", strings.Join(extra, ", "))
	}
	if s.Unplanned() > 0 {
		fmt.Fprintf(w, "%sNot everything could be planned%s: the configuration is not fully deployed until the resources above can be planned.\n", c.Yellow, c.Reset)
	}
}

// SummaryLine is the plan's count in Terraform's words: "1 to add, 0 to change, 0 to destroy.",
// with "N to import, " first when anything is imported.
func SummaryLine(s Summary) string {
	line := fmt.Sprintf("%d to add, %d to change, %d to destroy.", s.Add, s.Change, s.Destroy)
	if s.Import > 0 {
		line = fmt.Sprintf("%d to import, %s", s.Import, line)
	}
	return line
}

// summaryExtras are the counts Terraform has no words for.
func summaryExtras(s Summary) []string {
	var extra []string
	if s.Manual > 0 {
		extra = append(extra, fmt.Sprintf("%d manual change(s) to make by hand", s.Manual))
	}
	if s.Forget > 0 {
		extra = append(extra, fmt.Sprintf("%d to stop managing", s.Forget))
	}
	if s.Moved > 0 {
		extra = append(extra, fmt.Sprintf("%d moved to a new address", s.Moved))
	}
	if s.Deferred > 0 {
		extra = append(extra, fmt.Sprintf("%d deferred", s.Deferred))
	}
	if s.CouldNotRead > 0 {
		extra = append(extra, fmt.Sprintf("%d could not be read", s.CouldNotRead))
	}
	if s.Uncovered > 0 {
		extra = append(extra, fmt.Sprintf("%d seller(s) not covered", s.Uncovered))
	}
	return extra
}

func renderDriftSummary(w io.Writer, p *Plan, c Colors) {
	var n int
	for _, rc := range p.Changes {
		if rc.Action == providers.Read || rc.Action == providers.Deferred || len(rc.Changes) == 0 {
			continue
		}
		if n == 0 {
			fmt.Fprintf(w, "\nLive objects that differ from the configuration:\n")
		}
		n++
		fmt.Fprintf(w, "\n  %s# %s%s\n", c.Bold, rc.Addr, c.Reset)
		if rc.Before.IsNull() {
			fmt.Fprintf(w, "    does not exist\n")
			continue
		}
		for _, ch := range rc.Changes {
			fmt.Fprintf(w, "    %s: is %s, configuration wants %s\n", ch.Name, formatAttr(rc, ch.Name, ch.Before), formatAttr(rc, ch.Name, ch.After))
		}
	}
	s := p.Summary()
	RenderCoverage(w, p.Coverage, c)
	if n == 0 && s.notClean() == 0 {
		if p.Sandbox {
			fmt.Fprintf(w, "\n%sNo drift (sandbox — not a real tenant).%s Live objects in the sandbox match the configuration.\n", c.Green, c.Reset)
			return
		}
		fmt.Fprintf(w, "\n%sNo drift.%s Live objects match the configuration.\n", c.Green, c.Reset)
		return
	}
	if n > 0 {
		fmt.Fprintf(w, "\nDrift: %d resource(s) differ from the configuration.\n", n)
	}
	if s.Unplanned() > 0 {
		fmt.Fprintf(w, "\nNot checked, so not in sync: %d could not be read, %d deferred (see above).\n", s.CouldNotRead, s.Deferred)
	}
	if s.Uncovered > 0 {
		fmt.Fprintf(w, "\nNot in sync: %d seller(s) not covered (see above).\n", s.Uncovered)
	}
}

// RenderCoverage prints the seller coverage section (nothing when cov is nil).
func RenderCoverage(w io.Writer, cov *Coverage, c Colors) {
	if cov == nil {
		return
	}
	col := c.Green
	if cov.Uncovered > 0 {
		col = c.Yellow
	}
	if cov.Teams {
		fmt.Fprintf(w, "\n%sSeller coverage%s (group %s): %d seller(s), %d not covered%s\n", col, c.Reset, cov.Group, cov.Sellers, cov.Uncovered, cov.licensedNote())
	} else {
		fmt.Fprintf(w, "\nSeller coverage (group %s): %d seller(s); Teams policies not checked (no teams_* resource)\n", cov.Group, cov.Sellers)
	}
	for _, l := range cov.Lines {
		fmt.Fprintf(w, "  %s\n", l)
	}
	for _, n := range cov.Notes {
		fmt.Fprintf(w, "  Note: %s\n", n)
	}
	renderReconciliation(w, cov.Reconciliation, c)
}

// renderReconciliation prints the Entra-Salesforce side by side: a summary, then each finding as
// a warning (a count and the first names; plan --json lists them all).
func renderReconciliation(w io.Writer, r *Reconciliation, c Colors) {
	if r == nil {
		return
	}
	fmt.Fprintf(w, "\nSeller reconciliation (Entra and Salesforce): %d licensed seller(s), %d matched to a Salesforce user (%s), %d ready\n",
		r.Licensed, r.Matched, matchedBy(r), r.Ready)
	for _, l := range r.Warnings() {
		fmt.Fprintf(w, "  %sWarning:%s %s\n", c.Yellow, c.Reset, l)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "  Note: %s\n", n)
	}
}

func matchedBy(r *Reconciliation) string {
	var parts []string
	for _, rule := range r.MatchBy {
		parts = append(parts, fmt.Sprintf("%d by %s", r.MatchedBy[rule], rule))
	}
	return strings.Join(parts, ", ")
}

func renderChange(w io.Writer, rc *ResourceChange, c Colors) {
	sym, col := "~", c.Yellow
	switch rc.Action {
	case providers.Create:
		sym, col = "+", c.Green
	case providers.Delete:
		sym, col = "-", c.Red
	case providers.Manual:
		sym, col = "!", c.Cyan
	case providers.Forget:
		sym, col = ".", c.Reset
	}
	header := Describe(rc.Action)
	if rc.Action == providers.NoOp {
		switch {
		case rc.Importing:
			header, sym, col = "will be imported", " ", c.Reset
		case rc.PrevAddr != "":
			header, sym, col = "has moved to "+rc.Addr, " ", c.Reset
		}
	}
	addr := rc.Addr
	if rc.Action == providers.NoOp && !rc.Importing && rc.PrevAddr != "" {
		addr = rc.PrevAddr // Terraform's "# A has moved to B"
	}
	fmt.Fprintf(w, "\n  %s# %s %s%s\n", c.Bold, addr, header, c.Reset)
	if rc.PrevAddr != "" && (rc.Action != providers.NoOp || rc.Importing) {
		fmt.Fprintf(w, "  # (moved from %s)\n", rc.PrevAddr)
	}
	if rc.Importing && rc.Action != providers.NoOp {
		fmt.Fprintf(w, "  # (imported from %q)\n", rc.ID)
	}
	kw := "resource"
	fmt.Fprintf(w, "  %s%s%s %s %q %q {\n", col, sym, c.Reset, kw, rc.Type, nameOf(rc.Addr))
	switch {
	case rc.Action == providers.NoOp:
		// Imported or moved, unchanged: what it is, so the reviewer sees which object is adopted.
		writeSettings(w, rc, rc.Before, rc.ID, "", c)
	case rc.Action == providers.Delete || rc.Action == providers.Forget:
		// What goes, by name and its main settings, not just an id (the object as last read).
		v := rc.Before
		if v == cty.NilVal || v.IsNull() {
			v = rc.Prior
		}
		writeSettings(w, rc, v, rc.ID, col+sym+c.Reset, c)
	}
	switch rc.Action {
	case providers.Create:
		width := 0
		var names []string
		for _, a := range rc.Schema.Attributes {
			v := rc.After.GetAttr(a.Name)
			if v.IsKnown() && v.IsNull() {
				continue
			}
			names = append(names, a.Name)
			if len(a.Name) > width {
				width = len(a.Name)
			}
		}
		for _, n := range names {
			v := rc.After.GetAttr(n)
			if !rc.IsSensitive(n) && isKnownMap(v) && v.LengthInt() > 1 {
				// A map reads best a key a line, as in the configuration.
				fmt.Fprintf(w, "      %s+%s %-*s = {\n", c.Green, c.Reset, width, n)
				writeMapLines(w, cty.NullVal(v.Type()), v, c)
				fmt.Fprintf(w, "        }\n")
				continue
			}
			fmt.Fprintf(w, "      %s+%s %-*s = %s\n", c.Green, c.Reset, width, n, formatAttr(rc, n, v))
		}
	case providers.Delete, providers.Forget, providers.NoOp:
	default:
		width := 0
		for _, ch := range rc.Changes {
			if len(ch.Name) > width {
				width = len(ch.Name)
			}
		}
		for _, ch := range rc.Changes {
			renderAttrChange(w, rc, ch, width, c)
		}
		if hidden := countAttrs(rc) - len(rc.Changes); hidden > 0 && len(rc.Changes) > 0 {
			fmt.Fprintf(w, "        # (%d unchanged attribute(s) hidden)\n", hidden)
		}
	}
	fmt.Fprintf(w, "    }\n")
	if rc.Manual != nil {
		fmt.Fprintf(w, "    %sManual action:%s %s\n", c.Cyan, c.Reset, rc.Manual.Summary)
		for i, s := range rc.Manual.Steps {
			fmt.Fprintf(w, "      %d. %s\n", i+1, s)
		}
	}
	writeList(w, "    ", "Warning: ", labelTexts(rc.Warnings, rc.labels))
	writeList(w, "    ", "Note: ", labelTexts(rc.Notes, rc.labels))
}

// writeSettings writes the settable attributes of v that have a value, one a line, each after
// prefix (the change's symbol, or "" for an unchanged object); computed-only attributes are left
// out, sensitive ones masked.
func writeSettings(w io.Writer, rc *ResourceChange, v cty.Value, id, prefix string, c Colors) {
	if prefix == "" {
		prefix = " "
	}
	width := 2
	var names []string
	if v == cty.NilVal || !v.IsKnown() || v.IsNull() || rc.Schema == nil {
		v = cty.NilVal
	}
	for _, a := range rc.Schema.Attributes {
		if v == cty.NilVal {
			break
		}
		if a.Computed && !a.Optional && !a.Required {
			continue
		}
		if !v.Type().HasAttribute(a.Name) {
			continue
		}
		if av := v.GetAttr(a.Name); av.IsKnown() && av.IsNull() {
			continue
		}
		names = append(names, a.Name)
		width = max(width, len(a.Name))
	}
	if id != "" {
		fmt.Fprintf(w, "      %s %-*s = %q\n", prefix, width, "id", id)
	}
	for _, n := range names {
		fmt.Fprintf(w, "      %s %-*s = %s\n", prefix, width, n, formatAttr(rc, n, v.GetAttr(n)))
	}
}

func renderAttrChange(w io.Writer, rc *ResourceChange, ch AttrChange, width int, c Colors) {
	// Sets read best as elements added and removed; lists keep their order, so show them whole.
	if !rc.IsSensitive(ch.Name) && ch.After.Type().IsSetType() && isPrimitiveCollection(ch.Before) && isPrimitiveCollection(ch.After) {
		added, removed := collectionDiff(ch.Before, ch.After, rc.labels)
		fmt.Fprintf(w, "      %s~%s %-*s = [\n", c.Yellow, c.Reset, width, ch.Name)
		for _, r := range removed {
			fmt.Fprintf(w, "          %s-%s %s,\n", c.Red, c.Reset, r)
		}
		for _, a := range added {
			fmt.Fprintf(w, "          %s+%s %s,\n", c.Green, c.Reset, a)
		}
		fmt.Fprintf(w, "        ]\n")
		return
	}
	// Maps read best as the keys added, removed and changed.
	if !rc.IsSensitive(ch.Name) && (isKnownMap(ch.Before) || ch.Before.IsNull()) && (isKnownMap(ch.After) || ch.After.IsNull()) &&
		ch.After.Type().IsMapType() && !(ch.Before.IsNull() && ch.After.IsNull()) {
		fmt.Fprintf(w, "      %s~%s %-*s = {\n", c.Yellow, c.Reset, width, ch.Name)
		writeMapLines(w, ch.Before, ch.After, c)
		fmt.Fprintf(w, "        }\n")
		return
	}
	fmt.Fprintf(w, "      %s~%s %-*s = %s -> %s\n", c.Yellow, c.Reset, width, ch.Name, formatAttr(rc, ch.Name, ch.Before), formatAttr(rc, ch.Name, ch.After))
}

func isKnownMap(v cty.Value) bool {
	return v != cty.NilVal && v.Type().IsMapType() && !v.IsNull() && v.IsWhollyKnown()
}

// writeMapLines writes the keys of two maps (either may be null) that differ: + added, - removed,
// ~ changed; a null before shows every key as added.
func writeMapLines(w io.Writer, before, after cty.Value, c Colors) {
	b, a := map[string]cty.Value{}, map[string]cty.Value{}
	if !before.IsNull() {
		b = before.AsValueMap()
	}
	if !after.IsNull() {
		a = after.AsValueMap()
	}
	var keys []string
	width := 0
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var shown []string
	for _, k := range keys {
		bv, inB := b[k]
		av, inA := a[k]
		if inB && inA && bv.Equals(av).True() {
			continue
		}
		shown = append(shown, k)
		width = max(width, len(mapKey(k)))
	}
	for _, k := range shown {
		bv, inB := b[k]
		av, inA := a[k]
		switch {
		case !inB:
			fmt.Fprintf(w, "          %s+%s %-*s = %s\n", c.Green, c.Reset, width, mapKey(k), FormatValue(av))
		case !inA:
			fmt.Fprintf(w, "          %s-%s %-*s = %s\n", c.Red, c.Reset, width, mapKey(k), FormatValue(bv))
		default:
			fmt.Fprintf(w, "          %s~%s %-*s = %s -> %s\n", c.Yellow, c.Reset, width, mapKey(k), FormatValue(bv), FormatValue(av))
		}
	}
}

// mapKey writes a map key as HCL does: bare when it is an identifier, quoted otherwise.
func mapKey(k string) string {
	if identRe.MatchString(k) {
		return k
	}
	return fmt.Sprintf("%q", k)
}

var identRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)

func isPrimitiveCollection(v cty.Value) bool {
	if v.IsNull() || !v.IsWhollyKnown() {
		return false
	}
	t := v.Type()
	if !(t.IsSetType() || t.IsListType() || t.IsTupleType()) {
		return false
	}
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if !e.Type().IsPrimitiveType() {
			return false
		}
	}
	return true
}

func collectionDiff(before, after cty.Value, labels map[string]string) (added, removed []string) {
	b, a := map[string]bool{}, map[string]bool{}
	var bs, as []string
	for it := before.ElementIterator(); it.Next(); {
		_, e := it.Element()
		s := formatValue(e, labels)
		b[s] = true
		bs = append(bs, s)
	}
	for it := after.ElementIterator(); it.Next(); {
		_, e := it.Element()
		s := formatValue(e, labels)
		a[s] = true
		as = append(as, s)
	}
	for _, s := range as {
		if !b[s] {
			added = append(added, s)
		}
	}
	for _, s := range bs {
		if !a[s] {
			removed = append(removed, s)
		}
	}
	sort.Strings(added)
	sort.Strings(removed)
	return added, removed
}

func countAttrs(rc *ResourceChange) int {
	n := 0
	for _, a := range rc.Schema.Attributes {
		if v := rc.After.GetAttr(a.Name); !v.IsKnown() || !v.IsNull() {
			n++
		}
	}
	return n
}

func writeList(w io.Writer, indent, prefix string, xs []string) {
	for _, x := range xs {
		fmt.Fprintf(w, "%s%s%s\n", indent, prefix, x)
	}
}

func nameOf(addr string) string {
	return addr[strings.LastIndex(addr, ".")+1:]
}

func formatAttr(rc *ResourceChange, name string, v cty.Value) string {
	if rc.IsSensitive(name) {
		return "(sensitive value)"
	}
	return formatValue(v, rc.labels)
}

// FormatValue renders a value in HCL syntax; unknown parts read "(known after apply)".
func FormatValue(v cty.Value) string { return formatValue(v, nil) }

// formatValue is FormatValue with labelled ids named: "b1b0..." (Copilot for Sales).
func formatValue(v cty.Value, labels map[string]string) string {
	if v == cty.NilVal {
		return "null"
	}
	if !v.IsKnown() {
		return "(known after apply)"
	}
	if v.IsNull() {
		return "null"
	}
	t := v.Type()
	switch {
	case t == cty.String:
		return labelled(v.AsString(), labels)
	case t == cty.Bool:
		if v.True() {
			return "true"
		}
		return "false"
	case t == cty.Number:
		return v.AsBigFloat().Text('f', -1)
	case t.IsListType() || t.IsSetType() || t.IsTupleType():
		var parts []string
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			parts = append(parts, formatValue(e, labels))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case t.IsMapType() || t.IsObjectType():
		m := v.AsValueMap()
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			if m[k].IsKnown() && m[k].IsNull() {
				continue
			}
			parts = append(parts, fmt.Sprintf("%s = %s", k, formatValue(m[k], labels)))
		}
		return "{ " + strings.Join(parts, ", ") + " }"
	}
	return v.GoString()
}
