package plan

import (
	"fmt"
	"html"
	"io"
	"sort"
	"strings"

	"github.com/c4sctl/c4sctl/pkg/providers"
	"github.com/zclconf/go-cty/cty"
)

// MarkdownOptions add what the Plan itself does not hold.
type MarkdownOptions struct {
	// Title heads the comment (default "c4sctl plan").
	Title    string
	Excluded []string
}

// RenderMarkdown writes the plan as a pull-request comment (GitHub-flavoured Markdown, also fit
// for $GITHUB_STEP_SUMMARY): a summary line, manual actions and warnings called out, drift, and
// one collapsible section per provider with its changes as diff blocks. Sensitive values read
// "(sensitive value)".
func RenderMarkdown(w io.Writer, p *Plan, o MarkdownOptions) {
	title := o.Title
	if title == "" {
		title = "c4sctl plan"
		if p.RefreshOnly {
			title = "c4sctl plan (refresh only)"
		}
	}
	sandboxMark := ""
	if p.Sandbox {
		sandboxMark = " (sandbox: true)" // our text: no escaping, so readers see it as written
	}
	fmt.Fprintf(w, "## %s%s\n\n", mdEscape(title), sandboxMark)
	if p.Sandbox {
		fmt.Fprintf(w, "> [!WARNING]\n> **%s**\n\n", SandboxNote)
	}
	fmt.Fprintf(w, "%s\n", markdownSummary(p))
	if len(o.Excluded) > 0 {
		fmt.Fprintf(w, "\nExcluded (not planned): %s\n", codeList(o.Excluded))
	}

	var manual, warned, deferred, drifted []*ResourceChange
	for _, rc := range p.Changes {
		if rc.Manual != nil && !p.RefreshOnly {
			manual = append(manual, rc)
		}
		if len(rc.Warnings) > 0 {
			warned = append(warned, rc)
		}
		if rc.Action == providers.Deferred {
			deferred = append(deferred, rc)
		}
		if len(rc.Drift) > 0 {
			drifted = append(drifted, rc)
		}
	}
	if len(manual) > 0 {
		fmt.Fprintf(w, "\n> [!IMPORTANT]\n> **Manual action needed.** No API can make these changes; an admin makes them by hand after apply.\n")
		for _, rc := range manual {
			fmt.Fprintf(w, ">\n> `%s`: %s\n", rc.Addr, mdEscape(rc.Manual.Summary))
			for i, s := range rc.Manual.Steps {
				fmt.Fprintf(w, "> %d. %s\n", i+1, mdEscape(s))
			}
		}
	}
	if len(warned) > 0 {
		fmt.Fprintf(w, "\n> [!WARNING]\n")
		first := true
		for _, rc := range warned {
			for _, m := range rc.Warnings {
				if !first {
					fmt.Fprintf(w, ">\n")
				}
				first = false
				fmt.Fprintf(w, "> `%s`: %s\n", rc.Addr, mdEscape(m))
			}
		}
	}
	MarkdownCoverage(w, p.Coverage)
	if len(deferred) > 0 {
		fmt.Fprintf(w, "\n**Cannot be planned yet:**\n\n")
		for _, rc := range deferred {
			what := ""
			if rc.CouldNotRead {
				what = "**could not be read**: "
			}
			fmt.Fprintf(w, "- `%s`: %s%s\n", rc.Addr, what, mdEscape(rc.Reason))
		}
	}
	if len(drifted) > 0 {
		fmt.Fprintf(w, "\n### Changed outside c4sctl since the last apply\n\n<details><summary>%d resource(s) drifted</summary>\n\n", len(drifted))
		var b strings.Builder
		for i, rc := range drifted {
			if i > 0 {
				b.WriteString("\n")
			}
			fmt.Fprintf(&b, "# %s\n", rc.Addr)
			for _, d := range rc.Drift {
				fmt.Fprintf(&b, "- %s = %s\n", d.Name, formatAttr(rc, d.Name, d.Before))
				fmt.Fprintf(&b, "+ %s = %s\n", d.Name, formatAttr(rc, d.Name, d.After))
			}
		}
		writeFenced(w, "diff", b.String())
		fmt.Fprintf(w, "\n</details>\n")
	}

	// One section per provider, in order of first appearance in the plan.
	byProvider := map[string][]*ResourceChange{}
	var provs []string
	for _, rc := range p.Changes {
		if !shownInMarkdown(p, rc) {
			continue
		}
		if _, ok := byProvider[rc.Provider]; !ok {
			provs = append(provs, rc.Provider)
		}
		byProvider[rc.Provider] = append(byProvider[rc.Provider], rc)
	}
	sort.Strings(provs)
	for _, prov := range provs {
		rcs := byProvider[prov]
		fmt.Fprintf(w, "\n<details><summary><b>%s</b>: %s</summary>\n", html.EscapeString(prov), html.EscapeString(providerCounts(rcs)))
		for _, rc := range rcs {
			fmt.Fprintf(w, "\n#### `%s` %s\n\n", rc.Addr, describeMarkdown(p, rc))
			writeFenced(w, "diff", diffBody(p, rc))
			for _, n := range labelTexts(rc.Notes, rc.labels) {
				fmt.Fprintf(w, "\nNote: %s\n", mdEscape(n))
			}
		}
		fmt.Fprintf(w, "\n</details>\n")
	}
}

func markdownSummary(p *Plan) string {
	s := p.Summary()
	if p.RefreshOnly {
		n := 0
		for _, rc := range p.Changes {
			if shownInMarkdown(p, rc) {
				n++
			}
		}
		if n == 0 && s.Drifted == 0 && s.notClean() == 0 {
			if p.Sandbox {
				return "**No drift (sandbox — not a real tenant).** Live objects in the sandbox match the configuration."
			}
			return "**No drift.** Live objects match the configuration."
		}
		line := fmt.Sprintf("**Drift:** %d resource(s) differ from the configuration, %d changed since the last apply.", n, s.Drifted)
		if s.Unplanned() > 0 {
			line += fmt.Sprintf(" Not checked: %d could not be read, %d deferred.", s.CouldNotRead, s.Deferred)
		}
		if s.Uncovered > 0 {
			line += fmt.Sprintf(" %d seller(s) not covered.", s.Uncovered)
		}
		return line
	}
	if !p.HasChanges() {
		if p.Sandbox {
			return "**No changes (sandbox — not a real tenant).** The sandbox tenant and org match the configuration."
		}
		return "**No changes.** The tenant and org match the configuration."
	}
	line := "**Plan:** " + SummaryLine(s)
	if extra := summaryExtras(s); len(extra) > 0 {
		line += " Also: " + strings.Join(extra, ", ") + "."
	}
	return line
}

func shownInMarkdown(p *Plan, rc *ResourceChange) bool {
	if p.RefreshOnly {
		return rc.Action != providers.Read && rc.Action != providers.Deferred && len(rc.Changes) > 0
	}
	switch rc.Action {
	case providers.NoOp:
		return rc.Importing || rc.PrevAddr != ""
	case providers.Read, providers.Deferred:
		return false
	}
	return true
}

func describeMarkdown(p *Plan, rc *ResourceChange) string {
	if p.RefreshOnly {
		if rc.Before.IsNull() {
			return "does not exist"
		}
		return "differs from the configuration"
	}
	d := Describe(rc.Action)
	if rc.Action == providers.NoOp {
		d = "has moved here"
	}
	if rc.Importing {
		if rc.Action == providers.NoOp {
			d = "will be imported"
		} else {
			d += fmt.Sprintf(" (imported from %q)", rc.ID)
		}
	}
	if rc.PrevAddr != "" {
		d += fmt.Sprintf(" (moved from `%s`)", rc.PrevAddr)
	}
	return d
}

func providerCounts(rcs []*ResourceChange) string {
	counts := map[string]int{}
	var order []string
	for _, rc := range rcs {
		k := string(rc.Action)
		if counts[k] == 0 {
			order = append(order, k)
		}
		counts[k]++
	}
	var parts []string
	for _, k := range order {
		parts = append(parts, fmt.Sprintf("%d %s", counts[k], k))
	}
	return strings.Join(parts, ", ")
}

// diffBody is the change as diff lines: "-" the live value, "+" the planned one.
func diffBody(p *Plan, rc *ResourceChange) string {
	var b strings.Builder
	sym := map[providers.Action]string{providers.Create: "+", providers.Delete: "-", providers.Update: "!", providers.Manual: "!", providers.Forget: "#"}[rc.Action]
	if sym == "" {
		sym = " "
	}
	if p.RefreshOnly {
		sym = "!"
	}
	fmt.Fprintf(&b, "%s resource %q %q {\n", sym, rc.Type, nameOf(rc.Addr))
	switch {
	case rc.Action == providers.Create && !p.RefreshOnly:
		var names []string
		width := 0
		for _, a := range rc.Schema.Attributes {
			if v := rc.After.GetAttr(a.Name); v.IsKnown() && v.IsNull() {
				continue
			}
			names = append(names, a.Name)
			width = max(width, len(a.Name))
		}
		for _, n := range names {
			fmt.Fprintf(&b, "+   %-*s = %s\n", width, n, formatAttr(rc, n, rc.After.GetAttr(n)))
		}
	case rc.Action == providers.Delete || rc.Action == providers.Forget || rc.Action == providers.NoOp:
		// What goes (or is adopted), by name and its main settings, not just an id.
		v := rc.Before
		if v == cty.NilVal || v.IsNull() {
			v = rc.Prior
		}
		var sb strings.Builder
		writeSettings(&sb, rc, v, rc.ID, sym, Colors{})
		for _, l := range strings.Split(strings.TrimRight(sb.String(), "\n"), "\n") {
			if l = strings.TrimLeft(strings.TrimSpace(l), sym); l != "" {
				fmt.Fprintf(&b, "%s   %s\n", sym, strings.TrimSpace(l))
			}
		}
	default:
		width := 0
		for _, ch := range rc.Changes {
			width = max(width, len(ch.Name))
		}
		for _, ch := range rc.Changes {
			fmt.Fprintf(&b, "-   %-*s = %s\n", width, ch.Name, formatAttr(rc, ch.Name, ch.Before))
			fmt.Fprintf(&b, "+   %-*s = %s\n", width, ch.Name, formatAttr(rc, ch.Name, ch.After))
		}
	}
	b.WriteString("  }\n")
	return b.String()
}

// writeFenced writes body in a code fence longer than any run of backticks inside it.
func writeFenced(w io.Writer, lang, body string) {
	fence := "```"
	for strings.Contains(body, fence) {
		fence += "`"
	}
	fmt.Fprintf(w, "%s%s\n%s%s\n", fence, lang, body, fence)
}

func codeList(xs []string) string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = "`" + strings.ReplaceAll(x, "`", "") + "`"
	}
	return strings.Join(out, ", ")
}

// mdEscape keeps provider text from opening HTML tags or breaking out of a quote block.
func mdEscape(s string) string { return EscapeMarkdown(s) }

// zwsp (U+200B ZERO WIDTH SPACE) breaks what GitHub would turn into a link or a mention.
const zwsp = "\u200b"

var mdEscaper = strings.NewReplacer(
	"\r", "", "\n", " ",
	"&", "&amp;", "<", "&lt;", ">", "&gt;",
	// CommonMark backslash escapes: no emphasis, link, image, code span, heading, table cell or
	// strikethrough can start inside the text.
	"\\", "\\\\", "`", "\\`", "*", "\\*", "_", "\\_", "[", "\\[", "]", "\\]", "(", "\\(", ")", "\\)",
	"!", "\\!", "#", "\\#", "|", "\\|", "~", "\\~",
	// GitHub autolinks bare URLs and www. names and notifies @mentions: break them
	// with an invisible zero-width space.
	"://", ":"+zwsp+"//", "www.", "www"+zwsp+".", "WWW.", "WWW"+zwsp+".", "@", "@"+zwsp,
)

// EscapeMarkdown makes text from the tenant or org (policy and display names, provider notes
// quoting them) inert in GitHub-flavoured Markdown: one line, no HTML, no link, image, mention,
// emphasis or table break. Used by the plan's pull-request comment and the drift report.
func EscapeMarkdown(s string) string { return mdEscaper.Replace(s) }

// MarkdownCoverage writes the seller coverage and the reconciliation's warnings (counts and the
// first names; plan --json lists every name).
func MarkdownCoverage(w io.Writer, cov *Coverage) {
	if cov == nil {
		return
	}
	if cov.Teams {
		fmt.Fprintf(w, "\n**Seller coverage** (group %s): %d seller(s), %d not covered%s\n\n", mdEscape(cov.Group), cov.Sellers, cov.Uncovered, cov.licensedNote())
	} else {
		fmt.Fprintf(w, "\n**Seller coverage** (group %s): %d seller(s); Teams policies not checked\n\n", mdEscape(cov.Group), cov.Sellers)
	}
	for _, l := range cov.Lines {
		fmt.Fprintf(w, "- %s\n", mdEscape(l))
	}
	for _, n := range cov.Notes {
		fmt.Fprintf(w, "- _Note:_ %s\n", mdEscape(n))
	}
	r := cov.Reconciliation
	if r == nil {
		return
	}
	fmt.Fprintf(w, "\n**Seller reconciliation** (Entra and Salesforce): %d licensed seller(s), %d matched to a Salesforce user (%s), %d ready\n",
		r.Licensed, r.Matched, mdEscape(matchedBy(r)), r.Ready)
	if ws := r.Warnings(); len(ws) > 0 {
		fmt.Fprintf(w, "\n> [!WARNING]\n")
		for i, m := range ws {
			if i > 0 {
				fmt.Fprintf(w, ">\n")
			}
			fmt.Fprintf(w, "> %s\n", mdEscape(m))
		}
	}
	if len(r.Notes) > 0 {
		fmt.Fprintln(w)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "- _Note:_ %s\n", mdEscape(n))
	}
}
