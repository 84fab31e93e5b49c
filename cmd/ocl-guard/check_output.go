package main

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ocl-guard/ocl-guard/crdschema"
	"github.com/ocl-guard/ocl-guard/lookups"
	"github.com/ocl-guard/ocl-guard/validators"
)

// outputFormats of `ocl-guard check -o`: text for people, json for scripts, junit for CI test reports (Jenkins,
// GitLab, Tekton), sarif for code-scanning UIs (GitHub code scanning and others reading SARIF 2.1.0).
var outputFormats = []string{"text", "json", "junit", "sarif"}

func writeCheckResults(w io.Writer, format string, results []checkResult, failOnWarn bool) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(results)
	case "junit":
		return writeJUnit(w, results, failOnWarn)
	case "sarif":
		return writeSARIF(w, results)
	default:
		printCheckResults(w, results)
		return nil
	}
}

func printCheckResults(w io.Writer, results []checkResult) {
	denied := 0
	for _, r := range results {
		switch {
		case !r.Allowed:
			denied++
			fmt.Fprintf(w, "%sMachineOSConfig %s: denied\n", r.location(r.Line), r.Name)
		case len(r.Warnings) > 0:
			fmt.Fprintf(w, "%sMachineOSConfig %s: admitted, with warnings\n", r.location(r.Line), r.Name)
		default:
			fmt.Fprintf(w, "%sMachineOSConfig %s: admitted\n", r.location(r.Line), r.Name)
		}
		for _, f := range r.Denials {
			fmt.Fprintf(w, "  * %s%s\n", r.location(f.Line), f.text())
		}
		for _, f := range r.Warnings {
			fmt.Fprintf(w, "  Warning: %s%s\n", r.location(f.Line), f.text())
		}
	}
	fmt.Fprintf(w, "%d MachineOSConfig(s) checked: %d would be denied, %d admitted\n", len(results), denied, len(results)-denied)
}

// text is the finding's one-line rendering, "[rule] field: message" (findings.Finding.Text).
func (f checkFinding) text() string { return f.finding.Text() }

// JUnit XML as Jenkins' junit step and GitLab's artifacts:reports:junit read it: a suite per MachineOSConfig, a test
// case per rule that ran, a failure per denial (and per warning with --fail-on warnings).
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Skipped  int         `xml:"skipped,attr"`
	File     string      `xml:"file,attr,omitempty"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	File      string        `xml:"file,attr,omitempty"`
	Line      int           `xml:"line,attr,omitempty"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

func writeJUnit(w io.Writer, results []checkResult, failOnWarn bool) error {
	doc := junitSuites{Name: "ocl-guard check"}
	for _, r := range results {
		suite := junitSuite{Name: "MachineOSConfig " + r.Name, File: r.File}
		for _, rule := range junitRules(r) {
			c := junitCase{Name: rule, Classname: "MachineOSConfig." + r.Name, File: r.File, Line: r.Line}
			denials, warnings := findingsOf(r.Denials, rule), findingsOf(r.Warnings, rule)
			switch {
			case !ran(r, rule):
				c.Skipped = &junitMessage{Message: "not evaluated: the API server refuses this object before admission webhooks run"}
				suite.Skipped++
			case len(denials) > 0:
				c.Failure, c.Line = junitFailure(r, "denied", denials), denials[0].Line
			case failOnWarn && len(warnings) > 0:
				c.Failure, c.Line = junitFailure(r, "warning", warnings), warnings[0].Line
			}
			if len(warnings) > 0 && c.Failure == nil {
				c.SystemOut = findingLines(r, warnings)
			}
			if c.Failure != nil {
				suite.Failures++
			}
			suite.Tests++
			suite.Cases = append(suite.Cases, c)
		}
		doc.Tests += suite.Tests
		doc.Failures += suite.Failures
		doc.Suites = append(doc.Suites, suite)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// junitRules are the test cases of one config: the schema, then every rule that ran, or, when the API server would
// refuse the object, every rule (reported as skipped: no webhook would see it).
func junitRules(r checkResult) []string {
	if !r.schemaRefused {
		return r.Ran
	}
	rules := []string{crdschema.RuleID}
	for _, rule := range validators.Stage1Rules() {
		rules = append(rules, string(rule.ID))
	}
	return rules
}

func ran(r checkResult, rule string) bool { return slices.Contains(r.Ran, rule) }

func findingsOf(findings []checkFinding, rule string) []checkFinding {
	var out []checkFinding
	for _, f := range findings {
		if f.Rule == rule {
			out = append(out, f)
		}
	}
	return out
}

func findingLines(r checkResult, findings []checkFinding) string {
	var b strings.Builder
	for _, f := range findings {
		fmt.Fprintf(&b, "%s%s\n", r.location(f.Line), f.text())
	}
	return b.String()
}

func junitFailure(r checkResult, kind string, findings []checkFinding) *junitMessage {
	return &junitMessage{Message: findings[0].text(), Type: kind, Text: findingLines(r, findings)}
}

// SARIF 2.1.0 (https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html), the subset code-scanning UIs read.
type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID               string       `json:"id"`
	ShortDescription sarifMessage `json:"shortDescription"`
}

type sarifMessage struct {
	Text string `json:"text"`
}

type sarifResult struct {
	RuleID    string          `json:"ruleId"`
	Level     string          `json:"level"`
	Message   sarifMessage    `json:"message"`
	Locations []sarifLocation `json:"locations"`
}

type sarifLocation struct {
	Physical *sarifPhysical `json:"physicalLocation,omitempty"`
	Logical  []sarifLogical `json:"logicalLocations,omitempty"`
}

type sarifPhysical struct {
	Artifact sarifArtifact `json:"artifactLocation"`
	Region   *sarifRegion  `json:"region,omitempty"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine int `json:"startLine"`
}

type sarifLogical struct {
	Name               string `json:"name"`
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}

func writeSARIF(w io.Writer, results []checkResult) error {
	driver := sarifDriver{Name: "ocl-guard", InformationURI: "https://github.com/ocl-guard/ocl-guard",
		Rules: []sarifRule{{ID: crdschema.RuleID, ShortDescription: sarifMessage{"the object is valid against the MachineOSConfig CRD (OpenAPI schema and CEL rules), as the API server checks it"}}}}
	for _, rule := range validators.Stage1Rules() {
		driver.Rules = append(driver.Rules, sarifRule{ID: string(rule.ID), ShortDescription: sarifMessage{rule.Summary}})
	}
	run := sarifRun{Tool: sarifTool{Driver: driver}, Results: []sarifResult{}}
	for _, r := range results {
		for _, f := range r.Denials {
			run.Results = append(run.Results, sarifResultOf(r, f, "error"))
		}
		for _, f := range r.Warnings {
			run.Results = append(run.Results, sarifResultOf(r, f, "warning"))
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(sarifLog{Schema: "https://json.schemastore.org/sarif-2.1.0.json", Version: "2.1.0", Runs: []sarifRun{run}})
}

func sarifResultOf(r checkResult, f checkFinding, level string) sarifResult {
	loc := sarifLocation{Logical: []sarifLogical{{Name: r.Name, FullyQualifiedName: "MachineOSConfig/" + r.Name + fieldSuffix(f.Field), Kind: "object"}}}
	if r.File != "" && r.File != lookups.StdinName {
		loc.Physical = &sarifPhysical{Artifact: sarifArtifact{URI: filepath.ToSlash(r.File)}}
		if f.Line > 0 {
			loc.Physical.Region = &sarifRegion{StartLine: f.Line}
		}
	}
	return sarifResult{RuleID: f.Rule, Level: level, Message: sarifMessage{f.finding.Body()}, Locations: []sarifLocation{loc}}
}

func fieldSuffix(path string) string {
	if path == "" {
		return ""
	}
	return "." + path
}
