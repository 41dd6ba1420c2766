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
	for name, src := range sources {
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
