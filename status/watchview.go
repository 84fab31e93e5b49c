package status

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// The two views of `status --watch` (and of `wait`'s progress): a Screen redrawn in place on a terminal, a LineLog of
// one timestamped line per change for a CI log. Both show each pool's stages in one line each, as stageLines says.

// stage names, in the order the stages are shown.
var stageNames = [...]string{"config", "build", "rollout", "next"}

// stageLines are a report's stages in one line each. Without elapsed, they leave out what changes by itself (the
// build's elapsed time), so that a line changes only when a stage does.
func stageLines(r Report, elapsed bool) [len(stageNames)]string {
	c := "MachineOSConfig " + r.Config.Name + ": " + verdictOf(r.Config.Diagnosis)
	b := "none yet"
	if r.Build != nil {
		b = "MachineOSBuild " + r.Build.Name + ": " + r.Build.Phase
		if elapsed && r.Build.Duration != "" {
			b += " for " + r.Build.Duration
		}
		if d := r.Build.Diagnosis; d != nil {
			b += ", " + verdictOf(d)
		}
	}
	ro := fmt.Sprintf("%d/%d nodes updated", r.Rollout.Updated, r.Rollout.Total)
	if d := r.Rollout.Diagnosis; d != nil {
		ro += ", " + verdictOf(d)
	}
	return [...]string{c, b, ro, r.Next}
}

func verdictOf(d *Diagnosis) string {
	if d == nil {
		return "ok"
	}
	return fmt.Sprintf("%s (%s)", d.Reason, d.Severity)
}

// LineLog prints one line per change of a pool's stage: "<RFC 3339 time> <pool> <stage> <text>". Nothing is printed
// when nothing changed, so a CI log shows the history of a rollout and no noise.
type LineLog struct {
	W    io.Writer
	last map[[2]string]string
}

// Write prints the stages of the reports that changed since the last call.
func (l *LineLog) Write(reports []Report, now time.Time) error {
	for _, r := range reports {
		for i, text := range stageLines(r, false) {
			if err := l.Note(now, r.Pool, stageNames[i], text); err != nil {
				return err
			}
		}
	}
	return nil
}

// Note prints text for a pool's stage unless it is what was printed last for it.
func (l *LineLog) Note(now time.Time, pool, stage, text string) error {
	if l.last == nil {
		l.last = map[[2]string]string{}
	}
	key := [2]string{pool, stage}
	if prev, seen := l.last[key]; seen && prev == text {
		return nil
	}
	l.last[key] = text
	_, err := fmt.Fprintf(l.W, "%s %s %-7s %s\n", now.UTC().Format(time.RFC3339), pool, stage, text)
	return err
}

// Screen redraws every pool's stages in place, with the build's elapsed time and a bar of the nodes updated.
type Screen struct {
	W io.Writer
	// Width is the terminal's width in columns, to count the lines a long line wraps onto; 0 if unknown.
	Width func() int
	lines int // how many lines the last frame took
}

// barWidth is the progress bar's width in characters.
const barWidth = 24

// Draw replaces the last frame with the reports at now.
func (s *Screen) Draw(reports []Report, now time.Time) error {
	var b strings.Builder
	if s.lines > 0 {
		fmt.Fprintf(&b, "\x1b[%dF\x1b[J", s.lines) // to the start of the last frame's first line, and clear below
	}
	var frame []string
	frame = append(frame, fmt.Sprintf("ocl-guard status --watch, %s (Ctrl-C to stop)", now.Local().Format("15:04:05")))
	if len(reports) == 0 {
		frame = append(frame, "no layered pool: no MachineOSConfig in the cluster")
	}
	for _, r := range reports {
		lines := stageLines(r, true)
		verdict := "healthy"
		if !r.Healthy {
			verdict = "PROBLEM"
		}
		frame = append(frame,
			fmt.Sprintf("pool %s: %s", r.Pool, verdict),
			"  config   "+lines[0],
			"  build    "+lines[1],
			"  rollout  "+Bar(r.Rollout.Updated, r.Rollout.Total)+" "+lines[2],
			"  next:    "+lines[3])
	}
	width := 0
	if s.Width != nil {
		width = s.Width()
	}
	s.lines = 0
	for _, line := range frame {
		b.WriteString(line)
		b.WriteByte('\n')
		s.lines += rows(line, width)
	}
	_, err := io.WriteString(s.W, b.String())
	return err
}

// rows is how many terminal rows a line takes at width columns.
func rows(line string, width int) int {
	n := utf8.RuneCountInString(line)
	if width <= 0 || n <= width {
		return 1
	}
	return (n + width - 1) / width
}

// Bar is a progress bar of done out of total: "[##########--------------]".
func Bar(done, total int32) string {
	filled := 0
	if total > 0 {
		filled = int(min(max(done, 0), total) * barWidth / total)
	}
	return "[" + strings.Repeat("#", filled) + strings.Repeat("-", barWidth-filled) + "]"
}
