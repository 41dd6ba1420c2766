package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"unicode"
)

// Run is one drift run's result as read back from one of its report files (c4sctl report merge).
type Run struct {
	// File is the report the run was read from; Format is "json", "junit" or "sarif".
	File, Format string
	// Version is the c4sctl version that wrote the report.
	Version string
	Target  Target
	// Sandbox: the run was against the c4sctl sandbox, not a real tenant.
	Sandbox bool
	// Resources lists the resources checked. A SARIF report lists failing resources only, so
	// AllResources is false for it and the count of resources checked is unknown.
	Resources    []RunResource
	AllResources bool
	Uncovered    int
}

// RunResource is one resource of a Run: its status and, when not in sync, why, in one sentence.
type RunResource struct {
	Address  string `json:"address"`
	Provider string `json:"provider,omitempty"`
	Type     string `json:"type,omitempty"`
	Status   Status `json:"status"`
	Message  string `json:"message,omitempty"`
}

// key identifies the run's target in a fleet: reports with the same key are the same tenant.
func (r *Run) key() string {
	return fmt.Sprintf("%s\x00%s\x00%s\x00%v", r.Target.Workspace, r.Target.TenantID, r.Target.SalesforceOrgID, r.Sandbox)
}

// Failing lists the resources that count as drift.
func (r *Run) Failing() []RunResource {
	var out []RunResource
	for _, res := range r.Resources {
		if (&Resource{Status: res.Status}).Failing() {
			out = append(out, res)
		}
	}
	return out
}

// HasDrift tells whether the run found drift (drift's exit code 2).
func (r *Run) HasDrift() bool { return len(r.Failing()) > 0 || r.Uncovered > 0 }

// ReadRun reads one report `c4sctl drift --report` wrote: JSON, JUnit XML or SARIF, told apart
// by their content. Errors name the file and say what is wrong with it: not a report, another
// tool's, or another format version than JSONFormatVersion (whose meaning this build cannot
// vouch for: 1.0 reported unreadable resources as no drift, and before 1.2 reports did not
// name their tenant).
func ReadRun(path string) (*Run, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read drift report: %w", err)
	}
	r, err := parseRun(data)
	if err == nil {
		err = checkTarget(r.Target)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	r.File = path
	return r, nil
}

// checkTarget refuses a report whose workspace, tenant or org id is not a plain name (drift writes
// only names c4sctl accepted): one tenant's report must not rewrite the fleet report's Markdown
// table or summary with line breaks, '|' or backquotes.
func checkTarget(t Target) error {
	for _, f := range []struct{ name, v string }{{"workspace", t.Workspace}, {"tenant id", t.TenantID}, {"Salesforce org id", t.SalesforceOrgID}} {
		if len(f.v) > 256 || strings.ContainsFunc(f.v, func(r rune) bool {
			return unicode.IsControl(r) || unicode.IsSpace(r) || strings.ContainsRune("|`<>[]()*\\", r)
		}) {
			return fmt.Errorf("the report's %s %q is not a name c4sctl drift writes: not a drift report of this tool", f.name, f.v)
		}
	}
	return nil
}

func parseRun(data []byte) (*Run, error) {
	trimmed := bytes.TrimSpace(data)
	switch {
	case len(trimmed) == 0:
		return nil, errors.New("empty file, not a drift report")
	case trimmed[0] == '<':
		return parseJUnit(trimmed)
	case trimmed[0] == '{':
		var probe map[string]json.RawMessage
		if err := json.Unmarshal(trimmed, &probe); err != nil {
			return nil, fmt.Errorf("not valid JSON: %v", err)
		}
		if _, ok := probe["runs"]; ok {
			return parseSARIF(trimmed)
		}
		if _, ok := probe["format_version"]; ok {
			return parseJSON(trimmed)
		}
		return nil, errors.New("JSON without format_version (a c4sctl drift report) or runs (SARIF): not a drift report")
	}
	return nil, errors.New("neither JSON nor XML: not a drift report (c4sctl drift --report json=, junit= or sarif=)")
}

func checkFormat(got string) error {
	if got == "" {
		return fmt.Errorf("no report format version: written by a c4sctl older than format %s (which names the tenant); run drift with this c4sctl", JSONFormatVersion)
	}
	if got != JSONFormatVersion {
		return fmt.Errorf("report format %s, this c4sctl reads %s: run drift and report merge with the same c4sctl version", got, JSONFormatVersion)
	}
	return nil
}

func parseJSON(data []byte) (*Run, error) {
	var doc jsonReport
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("JSON drift report: %v", err)
	}
	if doc.Tool != "c4sctl" {
		return nil, fmt.Errorf("JSON report of tool %q, not a c4sctl drift report", doc.Tool)
	}
	if err := checkFormat(doc.FormatVersion); err != nil {
		return nil, err
	}
	r := &Run{Format: "json", Version: doc.Version, Target: doc.Target, Sandbox: doc.Sandbox, AllResources: true, Uncovered: doc.Summary.Uncovered}
	for _, res := range doc.Resources {
		if res.Address == "" || !knownStatus(res.Status) {
			return nil, fmt.Errorf("JSON drift report: resource %q has status %q", res.Address, res.Status)
		}
		rr := RunResource{Address: res.Address, Provider: res.Provider, Type: res.Type, Status: res.Status, Message: res.Reason}
		if res.Failing() {
			rr.Message = res.Message()
		}
		r.Resources = append(r.Resources, rr)
	}
	if len(r.Failing()) > 0 || r.Uncovered > 0 {
		if !doc.HasDrift {
			return nil, errors.New("JSON drift report: has_drift is false but resources or sellers are failing")
		}
	} else if doc.HasDrift {
		return nil, errors.New("JSON drift report: has_drift is true but no resource or seller is failing")
	}
	return r, nil
}

func knownStatus(s Status) bool {
	switch s {
	case InSync, Drifted, Missing, Unreadable, Deferred, Skipped:
		return true
	}
	return false
}

func parseJUnit(data []byte) (*Run, error) {
	var doc junitSuites
	if err := xml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("XML: %v", err)
	}
	if doc.XMLName.Local != "testsuites" || (doc.Name != "c4sctl drift" && doc.Name != "c4sctl drift"+JUnitSandboxSuffix) {
		return nil, fmt.Errorf("JUnit XML <%s name=%q>, not a c4sctl drift report (<testsuites name=\"c4sctl drift\">)", doc.XMLName.Local, doc.Name)
	}
	sandbox := doc.Name != "c4sctl drift"
	if len(doc.Suites) == 0 {
		return nil, errors.New("c4sctl JUnit drift report without a <testsuite>: no report format version; run drift with this c4sctl")
	}
	r := &Run{Format: "junit", AllResources: true}
	for i, s := range doc.Suites {
		props := map[string]string{}
		for _, p := range s.Properties {
			props[p.Name] = p.Value
		}
		if err := checkFormat(props[JUnitPropFormat]); err != nil {
			return nil, fmt.Errorf("testsuite %q: %w", s.Name, err)
		}
		t := Target{Workspace: props[JUnitPropWorkspace], TenantID: props[JUnitPropTenant], SalesforceOrgID: props[JUnitPropOrg]}
		if (props[JUnitPropSandbox] == "true") != sandbox {
			return nil, fmt.Errorf("testsuite %q: property sandbox %q contradicts <testsuites name=%q>", s.Name, props[JUnitPropSandbox], doc.Name)
		}
		if i == 0 {
			r.Target, r.Version, r.Sandbox = t, props[JUnitPropVersion], sandbox
		} else if t != r.Target {
			return nil, fmt.Errorf("testsuites %q and %q name different targets: one drift run per file", doc.Suites[0].Name, s.Name)
		}
		for _, c := range s.Cases {
			if c.Classname == "coverage" && c.Failure != nil && c.Failure.Type == "uncovered" {
				n, err := strconv.Atoi(strings.Fields(c.Failure.Message + " x")[0])
				if err != nil || n <= 0 {
					return nil, fmt.Errorf("seller coverage failure %q: no count of sellers", c.Failure.Message)
				}
				r.Uncovered = n
				continue
			}
			provider, typ, _ := strings.Cut(c.Classname, ".")
			rr := RunResource{Address: c.Name, Provider: provider, Type: typ, Status: InSync}
			switch {
			case c.Failure != nil:
				rr.Status, rr.Message = Status(c.Failure.Type), c.Failure.Message
				if !(&Resource{Status: rr.Status}).Failing() {
					return nil, fmt.Errorf("testcase %q: failure type %q is not a drift status", c.Name, c.Failure.Type)
				}
			case c.Skipped != nil:
				rr.Status, rr.Message = Skipped, c.Skipped.Message
			}
			r.Resources = append(r.Resources, rr)
		}
	}
	return r, nil
}

func parseSARIF(data []byte) (*Run, error) {
	var doc sarifLog
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("SARIF: %v", err)
	}
	if doc.Version != "2.1.0" {
		return nil, fmt.Errorf("SARIF version %q, c4sctl writes 2.1.0", doc.Version)
	}
	if len(doc.Runs) != 1 || doc.Runs[0].Tool.Driver.Name != "c4sctl" {
		return nil, errors.New("SARIF log is not one run of tool c4sctl: not a c4sctl drift report")
	}
	run := doc.Runs[0]
	prop := func(name string) string { s, _ := run.Properties[name].(string); return s }
	if err := checkFormat(prop(SARIFPropFormat)); err != nil {
		return nil, err
	}
	sandbox, ok := run.Properties["sandbox"].(bool)
	if !ok {
		return nil, errors.New("SARIF run without the boolean property sandbox")
	}
	r := &Run{Format: "sarif", Version: run.Tool.Driver.Version, Sandbox: sandbox,
		Target: Target{Workspace: prop("workspace"), TenantID: prop("tenant_id"), SalesforceOrgID: prop("salesforce_org_id")}}
	status := map[string]Status{RuleDrift: Drifted, RuleMissing: Missing, RuleUnreadable: Unreadable, RuleDeferred: Deferred}
	for _, res := range run.Results {
		if res.RuleID == RuleUncovered {
			n, _ := res.Properties["uncovered"].(float64)
			if n <= 0 {
				return nil, errors.New("SARIF result c4sctl/uncovered without a count of sellers")
			}
			r.Uncovered = int(n)
			continue
		}
		st, ok := status[res.RuleID]
		if !ok {
			return nil, fmt.Errorf("SARIF result of rule %q, not a c4sctl drift rule", res.RuleID)
		}
		rr := RunResource{Status: st, Message: strings.TrimPrefix(res.Message.Text, SARIFSandboxNote)}
		rr.Address, _ = res.Properties["address"].(string)
		rr.Provider, _ = res.Properties["provider"].(string)
		rr.Type, _ = res.Properties["type"].(string)
		if rr.Address == "" {
			return nil, fmt.Errorf("SARIF result of rule %s without properties.address", res.RuleID)
		}
		r.Resources = append(r.Resources, rr)
	}
	return r, nil
}
