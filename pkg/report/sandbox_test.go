package report_test

import (
	"encoding/json"
	"encoding/xml"
	"strings"
	"testing"

	"github.com/c4sctl/c4sctl/pkg/report"
)

// junitWithProps reads what CI test reporters show: suite names and their properties.
type junitWithProps struct {
	Name   string `xml:"name,attr"`
	Suites []struct {
		Name  string `xml:"name,attr"`
		Props []struct {
			Name  string `xml:"name,attr"`
			Value string `xml:"value,attr"`
		} `xml:"properties>property"`
	} `xml:"testsuite"`
}

type sarifWithProps struct {
	Runs []struct {
		Properties map[string]any `json:"properties"`
		Results    []struct {
			Message struct {
				Text string `json:"text"`
			} `json:"message"`
		} `json:"results"`
	} `json:"runs"`
}

// A drift check against the sandbox says sandbox: true in every format, where that format's
// readers look; a real tenant's reports say nothing of the kind, and a clean sandbox check is
// never the plain "No drift".
func TestSandboxIsUnmistakableInEveryReport(t *testing.T) {
	for _, sb := range []bool{true, false} {
		r, _ := driftReport(t)
		r.Sandbox = sb
		out := writeAll(t, r)

		var js junitWithProps
		if err := xml.Unmarshal([]byte(out["junit"]), &js); err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(js.Name, "sandbox: true"); got != sb {
			t.Errorf("sandbox=%v: junit testsuites name %q", sb, js.Name)
		}
		for _, s := range js.Suites {
			prop := false
			for _, p := range s.Props {
				if p.Name == "sandbox" && p.Value == "true" {
					prop = true
				}
			}
			if prop != sb || strings.HasSuffix(s.Name, "(sandbox)") != sb {
				t.Errorf("sandbox=%v: junit suite %q properties %+v", sb, s.Name, s.Props)
			}
		}

		var sl sarifWithProps
		if err := json.Unmarshal([]byte(out["sarif"]), &sl); err != nil {
			t.Fatal(err)
		}
		if v, ok := sl.Runs[0].Properties["sandbox"].(bool); !ok || v != sb {
			t.Errorf("sandbox=%v: sarif run properties %v", sb, sl.Runs[0].Properties)
		}
		if len(sl.Runs[0].Results) == 0 {
			t.Fatal("driftReport has failing resources, sarif has no result")
		}
		for _, res := range sl.Runs[0].Results {
			if strings.Contains(res.Message.Text, "sandbox: true") != sb {
				t.Errorf("sandbox=%v: sarif message %q", sb, res.Message.Text)
			}
		}

		var doc map[string]any
		if err := json.Unmarshal([]byte(out["json"]), &doc); err != nil {
			t.Fatal(err)
		}
		if doc["sandbox"] != sb {
			t.Errorf("sandbox=%v: json report sandbox = %v", sb, doc["sandbox"])
		}

		head, _, _ := strings.Cut(out["markdown"], "\n")
		if strings.Contains(head, "sandbox: true") != sb || strings.Contains(out["markdown"], "not a real tenant") != sb {
			t.Errorf("sandbox=%v: markdown report:\n%s", sb, out["markdown"])
		}
	}
}

func TestCleanSandboxDriftIsNotARealTenantsGreen(t *testing.T) {
	clean := func(sb bool) *report.Report {
		return &report.Report{Tool: "c4sctl", Version: "test", Sandbox: sb, Resources: []report.Resource{{Address: "x.y", Type: "x", Provider: "p", Status: report.InSync}}}
	}
	real, sb := clean(false).Summary(), clean(true).Summary()
	if !strings.HasPrefix(real, "No drift:") {
		t.Errorf("real tenant, clean: %q", real)
	}
	if strings.HasPrefix(sb, "No drift:") || !strings.HasPrefix(sb, "No drift (sandbox — not a real tenant)") {
		t.Errorf("sandbox, clean: %q", sb)
	}
	out := writeAll(t, clean(true))
	if !strings.Contains(out["markdown"], "No drift (sandbox — not a real tenant)") {
		t.Errorf("markdown of a clean sandbox check:\n%s", out["markdown"])
	}
	var sl sarifWithProps
	if err := json.Unmarshal([]byte(out["sarif"]), &sl); err != nil || sl.Runs[0].Properties["sandbox"] != true {
		t.Errorf("sarif of a clean sandbox check must still say sandbox: %v\n%s", err, out["sarif"])
	}
}
