package spec

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/agext/levenshtein"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
)

// WriteDiagnostics renders diagnostics the way Terraform does: summary, location, a source
// snippet with the range underlined, then the detail. sources is usually Config.Sources.
func WriteDiagnostics(w io.Writer, diags hcl.Diagnostics, sources map[string][]byte, width uint, color bool) error {
	files := make(map[string]*hcl.File, len(sources))
	p := hclparse.NewParser()
	hidden := map[string][]hcl.Range{}
	for _, d := range diags {
		if r, ok := d.Extra.(SecretRange); ok {
			hidden[r.Filename] = append(hidden[r.Filename], hcl.Range(r))
		}
	}
	for name, src := range sources {
		if rs := hidden[name]; len(rs) > 0 {
			src = redactRanges(src, rs)
		}
		var f *hcl.File
		if CheckNesting(src, name).HasErrors() {
			// Too deep to parse safely, and a hostile file's line can be 100,000 brackets long:
			// its diagnostics name file, line and column without a snippet.
			continue
		} else if strings.HasSuffix(name, ".json") {
			f, _ = p.ParseJSON(src, name)
		} else {
			f, _ = p.ParseHCL(src, name)
		}
		// A file that does not parse still gets its snippet shown.
		if f == nil {
			f = &hcl.File{Body: hcl.EmptyBody()}
		}
		f.Bytes = src
		files[name] = f
	}
	return hcl.NewDiagnosticTextWriter(w, files, width, color).WriteDiagnostics(diags)
}

// SecretRange, as a diagnostic's Extra, is a range of its file that holds a secret (a value
// written where only the environment may give it): the source snippets of every diagnostic
// show it as asterisks, so that the error about a committed key does not print the key again.
type SecretRange hcl.Range

// redactRanges returns a copy of src with the bytes of rs (but line breaks) replaced by '*',
// keeping every position the diagnostics point at.
func redactRanges(src []byte, rs []hcl.Range) []byte {
	out := append([]byte(nil), src...)
	for _, r := range rs {
		for i := max(r.Start.Byte, 0); i < r.End.Byte && i < len(out); i++ {
			if out[i] != '\n' && out[i] != '\r' {
				out[i] = '*'
			}
		}
	}
	return out
}

// Format returns src canonically formatted, or the syntax errors that prevent it.
func Format(name string, src []byte) ([]byte, hcl.Diagnostics) {
	if diags := CheckNesting(src, name); diags.HasErrors() {
		return nil, diags
	}
	if _, diags := hclsyntax.ParseConfig(src, name, hcl.InitialPos); diags.HasErrors() {
		return nil, diags
	}
	return hclwrite.Format(src), nil
}

// suggest returns the candidate nearest to given, or "" when none is close enough to be a typo.
func suggest(given string, candidates []string) string {
	best, bestDist := "", 3
	for _, c := range candidates {
		if d := levenshtein.Distance(given, c, nil); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// didYouMean is suggest as a sentence to append to a detail ("" when nothing is close).
func didYouMean(given string, candidates []string) string {
	if s := suggest(given, candidates); s != "" {
		return fmt.Sprintf(" Did you mean %q?", s)
	}
	return ""
}

func errorf(rng *hcl.Range, summary, format string, args ...any) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: fmt.Sprintf(format, args...), Subject: rng}
}

func rangePtr(r hcl.Range) *hcl.Range { return &r }

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
