package cli

import (
	"encoding/json"
	"errors"
	"io"

	"github.com/hashicorp/hcl/v2"
)

// The JSON diagnostics of `validate --json` and of a failed `plan --json` have the shape of
// Terraform's `validate -json` (format_version "1.0"; https://developer.hashicorp.com/terraform/cli/commands/validate,
// hashicorp/terraform-json validate.go): positions are 1-based line and column and a 0-based
// byte offset, as hcl.Pos gives them. Diagnostics carry no source snippet, so a secret on a
// line near the mistake is never printed.

type jsonPos struct {
	Line   int `json:"line"`
	Column int `json:"column"`
	Byte   int `json:"byte"`
}

type jsonRange struct {
	Filename string  `json:"filename"`
	Start    jsonPos `json:"start"`
	End      jsonPos `json:"end"`
}

type jsonDiagnostic struct {
	Severity string     `json:"severity"` // "error" or "warning"
	Summary  string     `json:"summary"`
	Detail   string     `json:"detail,omitempty"`
	Range    *jsonRange `json:"range,omitempty"`
}

type jsonDiagnostics struct {
	FormatVersion string           `json:"format_version"`
	Valid         bool             `json:"valid"`
	ErrorCount    int              `json:"error_count"`
	WarningCount  int              `json:"warning_count"`
	Diagnostics   []jsonDiagnostic `json:"diagnostics"`
}

// writeJSONDiagnostics writes diags, and err as a diagnostic without range when it is not the
// diagError that stands for diags, as one JSON document.
func writeJSONDiagnostics(w io.Writer, diags hcl.Diagnostics, err error) error {
	doc := jsonDiagnostics{FormatVersion: "1.0", Diagnostics: []jsonDiagnostic{}}
	for _, d := range diags {
		jd := jsonDiagnostic{Severity: "error", Summary: d.Summary, Detail: d.Detail}
		if d.Severity == hcl.DiagWarning {
			jd.Severity = "warning"
			doc.WarningCount++
		} else {
			doc.ErrorCount++
		}
		if d.Subject != nil {
			r := d.Subject
			jd.Range = &jsonRange{Filename: r.Filename,
				Start: jsonPos{r.Start.Line, r.Start.Column, r.Start.Byte},
				End:   jsonPos{r.End.Line, r.End.Column, r.End.Byte}}
		}
		doc.Diagnostics = append(doc.Diagnostics, jd)
	}
	var de *diagError
	var ee *exitError
	if err != nil && !errors.As(err, &de) && !(errors.As(err, &ee) && ee.err == nil) {
		doc.Diagnostics = append(doc.Diagnostics, jsonDiagnostic{Severity: "error", Summary: err.Error()})
		doc.ErrorCount++
	}
	doc.Valid = doc.ErrorCount == 0
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// jsonDiagnosticsRun runs fn with diagnostics collected instead of printed, and on failure
// writes them (and fn's error) to stdout as JSON; the exit code stays fn's.
func (g *Globals) jsonDiagnosticsRun(fn func() error) error {
	g.diagJSON = true
	err := fn()
	if err == nil {
		return nil
	}
	if werr := writeJSONDiagnostics(g.Stdout, g.jsonDiags, err); werr != nil {
		return werr
	}
	return &exitError{code: ExitCode(err)}
}
