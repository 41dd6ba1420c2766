package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// JUnit XML, in the common schema Jenkins, GitLab, Azure DevOps and GitHub test reporters read:
// one <testsuite> per provider, one <testcase> per resource, a <failure> for each drifted one.

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

// Property names of every <testsuite>: the report format and the target (report merge reads
// them); "sandbox" = "true" only on a sandbox run's suites.
const (
	JUnitPropFormat    = "c4sctl.report_format"
	JUnitPropVersion   = "c4sctl.version"
	JUnitPropWorkspace = "c4sctl.workspace"
	JUnitPropTenant    = "c4sctl.tenant_id"
	JUnitPropOrg       = "c4sctl.salesforce_org_id"
	JUnitPropSandbox   = "sandbox"
)

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	File      string        `xml:"file,attr,omitempty"`
	Line      int           `xml:"line,attr,omitempty"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Error     *junitFailure `xml:"error,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

// JUnitSandboxSuffix ends the <testsuites> name of a sandbox run's report.
const JUnitSandboxSuffix = " (sandbox: true)"

// WriteJUnit writes the report as JUnit XML.
func WriteJUnit(w io.Writer, r *Report) error {
	out := junitSuites{Name: "c4sctl drift", Time: "0"}
	// A sandbox run says so in the names test reporters show (suite names) and in a property.
	suffix := ""
	props := []junitProperty{{JUnitPropFormat, JSONFormatVersion}, {JUnitPropVersion, r.Version}, {JUnitPropWorkspace, r.Target.Workspace},
		{JUnitPropTenant, r.Target.TenantID}, {JUnitPropOrg, r.Target.SalesforceOrgID}}
	if r.Sandbox {
		out.Name += JUnitSandboxSuffix
		suffix = " (sandbox)"
		props = append(props, junitProperty{Name: JUnitPropSandbox, Value: "true"})
	}
	idx := map[string]int{}
	for _, res := range r.Resources {
		i, ok := idx[res.Provider]
		if !ok {
			i = len(out.Suites)
			idx[res.Provider] = i
			out.Suites = append(out.Suites, junitSuite{Name: res.Provider + suffix, Time: "0", Properties: props})
		}
		s := &out.Suites[i]
		c := junitCase{Name: res.Address, Classname: res.Provider + "." + res.Type, File: res.File, Line: res.Line, Time: "0"}
		s.Tests++
		out.Tests++
		switch {
		case res.Failing():
			var b strings.Builder
			for _, d := range res.Differences {
				fmt.Fprintf(&b, "%s (%s): expected %s, actual %s\n", d.Attribute, d.Kind, d.Expected, d.Actual)
			}
			c.Failure = &junitFailure{Message: res.Message(), Type: string(res.Status), Text: b.String()}
			s.Failures++
			out.Failures++
		case res.Status == Skipped:
			c.Skipped = &junitSkipped{Message: res.Reason}
			s.Skipped++
			out.Skipped++
		}
		s.Cases = append(s.Cases, c)
	}
	// Uncovered sellers are drift too (exit 2): a CI reading only this file must see a failure.
	if r.Uncovered > 0 {
		msg := fmt.Sprintf("%d seller(s) are not covered: see the Seller coverage section of c4sctl plan", r.Uncovered)
		out.Suites = append(out.Suites, junitSuite{Name: "seller coverage" + suffix, Time: "0", Tests: 1, Failures: 1, Properties: props,
			Cases: []junitCase{{Name: "seller coverage", Classname: "coverage", Time: "0", Failure: &junitFailure{Message: msg, Type: "uncovered"}}}})
		out.Tests++
		out.Failures++
	}
	// The target must be in the file even when nothing was checked: one empty suite carries it.
	if len(out.Suites) == 0 {
		out.Suites = append(out.Suites, junitSuite{Name: "c4sctl" + suffix, Time: "0", Properties: props, Cases: []junitCase{}})
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
