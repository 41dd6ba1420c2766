package report

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
)

// SARIFSchema is the JSON schema of SARIF 2.1.0 the report declares.
const SARIFSchema = "https://json.schemastore.org/sarif-2.1.0.json"

// Rule ids of SARIF results.
const (
	RuleDrift      = "c4sctl/drift"
	RuleMissing    = "c4sctl/missing"
	RuleUnreadable = "c4sctl/unreadable"
	RuleDeferred   = "c4sctl/deferred"
	RuleUncovered  = "c4sctl/uncovered"
)

// SARIFPropFormat is the run property naming the report format (JSONFormatVersion).
const SARIFPropFormat = "c4sctl.report_format"

// SARIFSandboxNote begins every result message of a sandbox run.
const SARIFSandboxNote = "[sandbox: true — c4sctl sandbox, not a real tenant] "

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
	// Properties is the run's property bag (SARIF 2.1.0 §3.8): {"sandbox": true|false}, the
	// report format (SARIFPropFormat) and the target (workspace, tenant_id, salesforce_org_id).
	Properties map[string]any `json:"properties"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID                   string         `json:"id"`
	Name                 string         `json:"name"`
	ShortDescription     sarifText      `json:"shortDescription"`
	FullDescription      sarifText      `json:"fullDescription"`
	Help                 sarifText      `json:"help"`
	DefaultConfiguration map[string]any `json:"defaultConfiguration"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifResult struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           int               `json:"ruleIndex"`
	Level               string            `json:"level"`
	Message             sarifText         `json:"message"`
	Locations           []sarifLocation   `json:"locations"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
	Properties          map[string]any    `json:"properties"`
}

type sarifLocation struct {
	PhysicalLocation *sarifPhysical `json:"physicalLocation,omitempty"`
	LogicalLocations []sarifLogical `json:"logicalLocations"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           *sarifRegion  `json:"region,omitempty"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine int `json:"startLine"`
}

type sarifLogical struct {
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}

// WriteSARIF writes the report as a SARIF 2.1.0 log: one result per failing resource (drifted,
// missing, unreadable or deferred),
// located at its resource block. Resources in sync are not results (GitHub code scanning would
// show every result as an alert).
func WriteSARIF(w io.Writer, r *Report) error {
	rules := []sarifRule{
		{ID: RuleDrift, Name: "ConfigurationDrift",
			ShortDescription:     sarifText{"Live object differs from the configuration"},
			FullDescription:      sarifText{"The live object in the tenant or org differs from the c4sctl configuration, or was changed outside c4sctl since the last apply."},
			Help:                 sarifText{"Run `c4sctl plan` to see the change, then `c4sctl apply` to restore the configuration, or update the configuration to adopt the live value."},
			DefaultConfiguration: map[string]any{"level": "error"}},
		{ID: RuleMissing, Name: "MissingObject",
			ShortDescription:     sarifText{"Configured object does not exist"},
			FullDescription:      sarifText{"An object the c4sctl configuration declares does not exist in the tenant or org."},
			Help:                 sarifText{"Run `c4sctl apply` to create it, or remove it from the configuration."},
			DefaultConfiguration: map[string]any{"level": "error"}},
		{ID: RuleUnreadable, Name: "UnreadableObject",
			ShortDescription:     sarifText{"Deployed object can no longer be read"},
			FullDescription:      sarifText{"An object c4sctl deployed (it is in state), or the object it acts on, can no longer be read: it was deleted or renamed outside c4sctl."},
			Help:                 sarifText{"Run `c4sctl plan` to see the reason; restore the missing object, fix its name in the configuration, or `c4sctl state rm` the resource."},
			DefaultConfiguration: map[string]any{"level": "error"}},
		{ID: RuleDeferred, Name: "DeferredObject",
			ShortDescription:     sarifText{"Configured object cannot be checked yet"},
			FullDescription:      sarifText{"A prerequisite of a configured object does not exist (a manual step not done, a misspelled name), so the object is not deployed."},
			Help:                 sarifText{"Run `c4sctl plan` to see what is missing, make it exist or fix the name, then `c4sctl apply`."},
			DefaultConfiguration: map[string]any{"level": "error"}},
		{ID: RuleUncovered, Name: "UncoveredSellers",
			ShortDescription:     sarifText{"Sellers lack what Copilot for Sales needs"},
			FullDescription:      sarifText{"Members of the seller group get a Teams meeting policy with transcription off, or an app setup policy without the Copilot for Sales app."},
			Help:                 sarifText{"Run `c4sctl plan` and read its Seller coverage section: it names the policy and the assignment each uncovered seller gets."},
			DefaultConfiguration: map[string]any{"level": "error"}},
	}
	ruleIndex := map[Status]int{Drifted: 0, Missing: 1, Unreadable: 2, Deferred: 3}
	run := sarifRun{Tool: sarifTool{Driver: sarifDriver{Name: "c4sctl", Version: r.Version, InformationURI: "https://github.com/c4sctl/c4sctl", Rules: rules}}, Results: []sarifResult{},
		Properties: map[string]any{"sandbox": r.Sandbox, SARIFPropFormat: JSONFormatVersion,
			"workspace": r.Target.Workspace, "tenant_id": r.Target.TenantID, "salesforce_org_id": r.Target.SalesforceOrgID}}
	// Scanners show a result's message, not the run's properties: a sandbox result says so.
	note := ""
	if r.Sandbox {
		note = SARIFSandboxNote
	}
	for _, res := range r.Resources {
		if !res.Failing() {
			continue
		}
		idx := ruleIndex[res.Status]
		id := rules[idx].ID
		loc := sarifLocation{LogicalLocations: []sarifLogical{{FullyQualifiedName: res.Address, Kind: "resource"}}}
		if res.File != "" {
			loc.PhysicalLocation = &sarifPhysical{ArtifactLocation: sarifArtifact{URI: filepath.ToSlash(res.File)}}
			if res.Line > 0 {
				loc.PhysicalLocation.Region = &sarifRegion{StartLine: res.Line}
			}
		}
		run.Results = append(run.Results, sarifResult{
			RuleID: id, RuleIndex: idx, Level: "error",
			Message:             sarifText{note + res.Message()},
			Locations:           []sarifLocation{loc},
			PartialFingerprints: map[string]string{"c4sctlAddress/v1": res.Address},
			Properties:          sarifProperties(res),
		})
	}
	// Uncovered sellers are drift too (exit 2): a scanner reading only this file must see them.
	if r.Uncovered > 0 {
		run.Results = append(run.Results, sarifResult{
			RuleID: RuleUncovered, RuleIndex: len(rules) - 1, Level: "error",
			Message:             sarifText{note + fmt.Sprintf("%d seller(s) are not covered: see the Seller coverage section of c4sctl plan", r.Uncovered)},
			Locations:           []sarifLocation{{LogicalLocations: []sarifLogical{{FullyQualifiedName: "seller coverage", Kind: "module"}}}},
			PartialFingerprints: map[string]string{"c4sctlAddress/v1": "seller-coverage"},
			Properties:          map[string]any{"uncovered": r.Uncovered},
		})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(sarifLog{Schema: SARIFSchema, Version: "2.1.0", Runs: []sarifRun{run}})
}

func sarifProperties(res Resource) map[string]any {
	p := map[string]any{"address": res.Address, "type": res.Type, "provider": res.Provider, "differences": res.Differences}
	if res.Reason != "" {
		p["reason"] = res.Reason
	}
	return p
}
