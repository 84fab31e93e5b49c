package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
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

// reportFormats render the formats of outputFormats.
var reportFormats = map[string]reportFormat{"text": textReport{}, "json": jsonReport{}, "junit": junitReport{}, "sarif": sarifReport{}}

// reportFormat is one format of check's report, rendered a verdict at a time, so that each verdict is rendered when it
// is decided and the report streamed in order at the end; the report is byte for byte what encoding every verdict at
// once printed (cmd/ocl-guard/parity holds it).
type reportFormat interface {
	// verdict renders one config's verdict, and what it adds to the report's totals.
	verdict(b *bytes.Buffer, r checkResult, failOnWarn bool) (reportTotals, error)
	// frame is what the report writes before the first verdict and after the last; some is false when no verdict
	// rendered anything.
	frame(t reportTotals, some bool) (head, tail string, err error)
	// separator is how many bytes each rendering begins with that the first one written drops (a JSON array's
	// comma).
	separator() int
}

// reportTotals are what a report says of all its verdicts.
type reportTotals struct {
	configs, denied int
	tests, failures int // JUnit's test cases and failures
}

func (t *reportTotals) add(u reportTotals) {
	t.configs, t.denied, t.tests, t.failures = t.configs+u.configs, t.denied+u.denied, t.tests+u.tests, t.failures+u.failures
}

// renderedResult is what `check` keeps of one MachineOSConfig's verdict once it is decided: its rendering, in the
// spool, and what the exit code and the report's totals need.
type renderedResult struct {
	at     span
	warned bool
	totals reportTotals
	err    error // the verdict could not be rendered or kept
}

func (r renderedResult) allowed() bool { return r.totals.denied == 0 }

// checkOutput is check's report in one format: each verdict is rendered when it is decided (add, from the checks' own
// goroutines) and the report written in the order of the configs (write). Only the renderings are kept, in a spool,
// so memory does not grow with the number of configs.
type checkOutput struct {
	format     reportFormat
	failOnWarn bool
	spool      spool
}

// add renders r and keeps the rendering.
func (o *checkOutput) add(r checkResult) renderedResult {
	var b bytes.Buffer
	totals, err := o.format.verdict(&b, r, o.failOnWarn)
	totals.configs = 1
	if !r.Allowed {
		totals.denied = 1
	}
	rendered := renderedResult{warned: len(r.Warnings) > 0, totals: totals, err: err}
	if err == nil {
		rendered.at, rendered.err = o.spool.add(b.Bytes())
	}
	return rendered
}

// write prints the report of results, in order.
func (o *checkOutput) write(w io.Writer, results []renderedResult) error {
	var totals reportTotals
	some := false
	for _, r := range results {
		if r.err != nil {
			return r.err
		}
		totals.add(r.totals)
		some = some || r.at.length > 0
	}
	head, tail, err := o.format.frame(totals, some)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	bw.WriteString(head)
	skip := o.format.separator()
	for _, r := range results {
		if r.at.length == 0 {
			continue
		}
		at := r.at
		at.offset, at.length = at.offset+int64(skip), at.length-skip
		skip = 0
		if err := o.spool.writeTo(bw, at); err != nil {
			return err
		}
	}
	bw.WriteString(tail)
	return bw.Flush()
}

// close releases the spool.
func (o *checkOutput) close() error { return o.spool.close() }

// textReport is a line per config, its denials and warnings below it, and a summary.
type textReport struct{}

func (textReport) verdict(b *bytes.Buffer, r checkResult, _ bool) (reportTotals, error) {
	switch {
	case !r.Allowed:
		fmt.Fprintf(b, "%sMachineOSConfig %s: denied\n", r.location(r.Line), r.Name)
	case len(r.Warnings) > 0:
		fmt.Fprintf(b, "%sMachineOSConfig %s: admitted, with warnings\n", r.location(r.Line), r.Name)
	default:
		fmt.Fprintf(b, "%sMachineOSConfig %s: admitted\n", r.location(r.Line), r.Name)
	}
	for _, f := range r.Denials {
		fmt.Fprintf(b, "  * %s%s\n", r.location(f.Line), f.text())
	}
	for _, f := range r.Warnings {
		fmt.Fprintf(b, "  Warning: %s%s\n", r.location(f.Line), f.text())
	}
	return reportTotals{}, nil
}

func (textReport) frame(t reportTotals, _ bool) (string, string, error) {
	return "", fmt.Sprintf("%d MachineOSConfig(s) checked: %d would be denied, %d admitted\n", t.configs, t.denied, t.configs-t.denied), nil
}

func (textReport) separator() int { return 0 }

// jsonReport is an array of the configs' checkResult.
type jsonReport struct{}

func (jsonReport) verdict(b *bytes.Buffer, r checkResult, _ bool) (reportTotals, error) {
	return reportTotals{}, renderJSONElement(b, r, jsonElementIndent)
}

func (jsonReport) frame(_ reportTotals, some bool) (string, string, error) {
	return "[", closing(some, "") + "]\n", nil
}

func (jsonReport) separator() int { return len(",") }

// jsonElementIndent is where encoding/json's indenting Encoder puts the elements of a top-level array.
const jsonElementIndent = "  "

// closing is what an indenting encoder writes between an array's last element, if any, and its closing bracket
// at indent.
func closing(some bool, indent string) string {
	if !some {
		return ""
	}
	return "\n" + indent
}

// renderJSONElement writes v as encoding/json's indenting Encoder writes an element of an array at indent, after
// the comma that separates it from the one before (the report drops the first element's).
func renderJSONElement(b *bytes.Buffer, v any, indent string) error {
	data, err := json.MarshalIndent(v, indent, "  ")
	if err != nil {
		return err
	}
	b.WriteString(",\n" + indent)
	b.Write(data)
	return nil
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

// junitSuiteOf is one config's test suite: a test case per rule.
func junitSuiteOf(r checkResult, failOnWarn bool) junitSuite {
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
	return suite
}

// junitReport is a test suite per config (junitSuiteOf) in a <testsuites> that totals them.
type junitReport struct{}

func (junitReport) verdict(b *bytes.Buffer, r checkResult, failOnWarn bool) (reportTotals, error) {
	suite := junitSuiteOf(r, failOnWarn)
	b.WriteString("\n")
	enc := xml.NewEncoder(b) // as an indenting Encoder writes it inside <testsuites>
	enc.Indent("  ", "  ")
	return reportTotals{tests: suite.Tests, failures: suite.Failures}, enc.EncodeElement(suite, xml.StartElement{Name: xml.Name{Local: "testsuite"}})
}

func (junitReport) frame(t reportTotals, some bool) (string, string, error) {
	var b strings.Builder
	// <testsuites ...></testsuites>: its start tag heads the report.
	if err := xml.NewEncoder(&b).Encode(junitSuites{Name: "ocl-guard check", Tests: t.tests, Failures: t.failures}); err != nil {
		return "", "", err
	}
	start := strings.TrimSuffix(b.String(), "</testsuites>")
	return xml.Header + start, closing(some, "") + "</testsuites>\n", nil
}

func (junitReport) separator() int { return 0 }

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

// sarifReport is one SARIF log: ocl-guard's rules, and a result per denial and warning.
type sarifReport struct{}

func (sarifReport) verdict(b *bytes.Buffer, r checkResult, _ bool) (reportTotals, error) {
	var err error
	for _, f := range r.Denials {
		err = errors.Join(err, renderJSONElement(b, sarifResultOf(r, f, "error"), sarifResultIndent))
	}
	for _, f := range r.Warnings {
		err = errors.Join(err, renderJSONElement(b, sarifResultOf(r, f, "warning"), sarifResultIndent))
	}
	return reportTotals{}, err
}

// frame is the log encoded with no results, cut where its empty results array opens.
func (sarifReport) frame(_ reportTotals, some bool) (string, string, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(sarifLogFrame()); err != nil {
		return "", "", err
	}
	before, after, found := strings.Cut(b.String(), `"results": []`)
	if !found {
		return "", "", errors.New("SARIF frame: no results array")
	}
	return before + `"results": [`, closing(some, strings.TrimSuffix(sarifResultIndent, "  ")) + "]" + after, nil
}

func (sarifReport) separator() int { return len(",") }

// sarifResultIndent is where encoding/json's indenting Encoder puts the elements of runs[0].results.
const sarifResultIndent = "        "

// sarifLogFrame is the SARIF log without results: ocl-guard's rules, and an empty results array for the report to
// fill.
func sarifLogFrame() sarifLog {
	driver := sarifDriver{Name: "ocl-guard", InformationURI: "https://github.com/ocl-guard/ocl-guard",
		Rules: []sarifRule{{ID: crdschema.RuleID, ShortDescription: sarifMessage{"the object is valid against the MachineOSConfig CRD (OpenAPI schema and CEL rules), as the API server checks it"}}}}
	for _, rule := range validators.Stage1Rules() {
		driver.Rules = append(driver.Rules, sarifRule{ID: string(rule.ID), ShortDescription: sarifMessage{rule.Summary}})
	}
	run := sarifRun{Tool: sarifTool{Driver: driver}, Results: []sarifResult{}}
	return sarifLog{Schema: "https://json.schemastore.org/sarif-2.1.0.json", Version: "2.1.0", Runs: []sarifRun{run}}
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
