package status

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// WriteJSON prints the reports as one JSON array, for scripts.
func WriteJSON(w io.Writer, reports []Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if reports == nil {
		reports = []Report{}
	}
	return enc.Encode(reports)
}

// WriteText prints one block per pool, for a human at a terminal.
func WriteText(w io.Writer, reports []Report) error {
	var b strings.Builder
	for i, r := range reports {
		if i > 0 {
			b.WriteByte('\n')
		}
		writeReport(&b, r)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeReport(b *strings.Builder, r Report) {
	verdict := "healthy"
	if !r.Healthy {
		verdict = "PROBLEM"
	}
	fmt.Fprintf(b, "pool %s: %s\n", r.Pool, verdict)

	c := r.Config
	fmt.Fprintf(b, "  1 config   MachineOSConfig %s: %s\n", c.Name, countOf(len(c.Findings), "finding", "no findings"))
	for _, f := range c.Findings {
		fmt.Fprintf(b, "             %s %s\n", f.Outcome, f.Text())
	}
	if d := c.Diagnosis; d != nil {
		summary := *d
		summary.Message = c.summary()
		writeDiagnosis(b, &summary)
	}

	if s := r.Build; s == nil {
		fmt.Fprintf(b, "  2 build    none yet\n")
	} else {
		line := fmt.Sprintf("MachineOSBuild %s: %s", s.Name, s.Phase)
		if s.Started != nil {
			line += fmt.Sprintf(" (started %s, %s)", s.Started.Format(time.RFC3339), s.Duration)
		}
		fmt.Fprintf(b, "  2 build    %s\n", line)
		if s.Image != "" {
			fmt.Fprintf(b, "             image %s\n", s.Image)
		}
		writeDiagnosis(b, s.Diagnosis)
	}

	ro := r.Rollout
	image := ro.Image
	if image == "" {
		image = "no built image yet"
	}
	fmt.Fprintf(b, "  3 rollout  %d/%d nodes updated; nodes should run %s\n", ro.Updated, ro.Total, image)
	for _, p := range ro.Problems {
		fmt.Fprintf(b, "             %s on %s: %s\n", p.Reason, countOf(len(p.Nodes), "node", ""), strings.Join(p.Nodes, ", "))
		if p.Detail != "" {
			fmt.Fprintf(b, "               %s\n", indentLines(p.Detail, "               "))
		}
	}
	writeDiagnosis(b, ro.Diagnosis)
	fmt.Fprintf(b, "  next: %s\n", r.Next)
}

func writeDiagnosis(b *strings.Builder, d *Diagnosis) {
	if d == nil {
		return
	}
	fmt.Fprintf(b, "             %s (%s): %s\n", d.Reason, d.Severity, d.Message)
	if d.Evidence != "" {
		fmt.Fprintf(b, "             evidence: %s\n", indentLines(d.Evidence, "                       "))
	}
}

// indentLines indents the continuation lines of a multi-line text.
func indentLines(s, indent string) string {
	return strings.ReplaceAll(s, "\n", "\n"+indent)
}

func countOf(n int, word, none string) string {
	switch n {
	case 0:
		return none
	case 1:
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
