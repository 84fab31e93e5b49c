package validators

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/moby/buildkit/util/suggest"
	"github.com/openshift/imagebuilder/dockerfile/command"
	ibparser "github.com/openshift/imagebuilder/dockerfile/parser"
)

// The MCO (4.23/5.0 and later) validates the Containerfile it renders before it creates a build Job, with
// github.com/openshift/imagebuilder's parser and a table of instructions that need arguments, and marks the build
// Failed at once when that refuses it: machine-config-operator pkg/controller/build/buildrequest/buildrequest.go,
// validateContainerfileSyntax. buildkit accepts some of what it refuses (and the other way round), so both run.
// What follows mirrors that function at MCO commit 7ff337a, with imagebuilder at the version the MCO pins (v1.2.21).

// mcoInstructionRequirements is the MCO's table of instructions that must have arguments, with its wording.
var mcoInstructionRequirements = map[string]string{
	command.Add:        "source and destination paths",
	command.Arg:        "a variable name",
	command.Cmd:        "a command or arguments",
	command.Copy:       "source and destination paths",
	command.Entrypoint: "a command or arguments",
	command.Env:        "key=value pairs",
	command.Expose:     "a port",
	command.From:       "a base image",
	command.Label:      "key=value pairs",
	command.Onbuild:    "an instruction to execute",
	command.Run:        "a command",
	command.Shell:      "a shell command array",
	command.StopSignal: "a signal",
	command.User:       "a username or UID",
	command.Volume:     "a mount point",
	command.Workdir:    "a directory path",
}

// mcoRefusal is the MCO's refusal of a Containerfile: its cause as the MCO words it, and the line of the user's
// content it is about. The MCO's own messages count lines of its rendered Containerfile (its stages first), or
// name none; Line counts from the top of the containerFile entry, 0 when not known.
type mcoRefusal struct {
	// Cause is the MCO's message after "Containerfile validation failed: ", without a line number.
	Cause string
	Line  int
	// Fix says how to correct it.
	Fix string
	// MCONumbersLine is true when the MCO's own message names a line, of its rendered Containerfile.
	MCONumbersLine bool
}

func (r *mcoRefusal) Error() string { return r.Cause }

// mcoValidateContainerfile runs the MCO's validation on user content as it sits in the rendered Containerfile:
// after the MCO's own stages, so a parser directive (# escape=) at the top of the content is only a comment there,
// and the rendered file always has a FROM. It returns nil when the MCO accepts the content.
func mcoValidateContainerfile(content string) *mcoRefusal {
	if onlyCommentsOrWhitespace(content) {
		return nil
	}
	// A stand-in for the rendered stages above the user content keeps directives from being read as directives.
	result, err := ibparser.Parse(strings.NewReader(mcoStandIn + content))
	if err != nil {
		return mcoParserError(err, content)
	}
	if result.AST == nil {
		return nil
	}
	for _, node := range result.AST.Children[1:] {
		if r := mcoValidateInstruction(node); r != nil {
			r.Line = node.StartLine - 1 // the stand-in's one line
			return r
		}
	}
	return nil
}

// mcoStandIn is one line standing for the MCO's stages above the user's content.
const mcoStandIn = "FROM scratch AS " + mcoLastStage + "\n"

func onlyCommentsOrWhitespace(content string) bool {
	for _, line := range strings.Split(content, "\n") {
		if t := strings.TrimSpace(line); t != "" && !strings.HasPrefix(t, "#") {
			return false
		}
	}
	return true
}

// mcoParserError is the MCO's handleParserError: heredocs and unquoted spaces in LABEL/ENV values, which the
// parser cannot read but buildah can, pass; an ENV or LABEL without any '=' and every other parse error fail.
func mcoParserError(err error, content string) *mcoRefusal {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "<<") || strings.Contains(msg, "heredoc"):
		return nil
	case strings.Contains(msg, "can't find = in") || strings.Contains(msg, "must be of the form: name=value"):
		return malformedEnvLabel(content)
	}
	return &mcoRefusal{Cause: "failed to parse Containerfile: " + msg, Line: failingLine(content, msg), Fix: "correct that instruction"}
}

// malformedEnvLabel is the MCO's findMalformedEnvLabel: the first ENV or LABEL line with no '=' at all, even one in
// the legacy form (ENV key value) that parses on its own. Lines count from the top of the content; the MCO counts
// from the top of the rendered file, whose lines above the content hold no such line.
func malformedEnvLabel(content string) *mcoRefusal {
	for i, line := range strings.Split(content, "\n") {
		trimmed := strings.TrimSpace(line)
		for _, inst := range []string{"ENV", "LABEL"} {
			prefix := inst + " "
			if len(trimmed) > len(prefix) && strings.EqualFold(trimmed[:len(prefix)], prefix) &&
				!strings.Contains(trimmed[len(prefix):], "=") {
				return &mcoRefusal{Cause: inst + " instruction must use key=value form", Line: i + 1, MCONumbersLine: true,
					Fix: fmt.Sprintf("write %s key=value, quoting values that hold spaces (%s key=\"a b\")", inst, inst)}
			}
		}
	}
	return nil
}

// failingLine finds the line of content at which imagebuilder's parser first fails with msg: its errors name no
// line. Every prefix that includes that line fails the same way (the parser stops at the first error, and the lines
// before it are whole), and shorter ones parse, so a binary search over prefixes finds it in a dozen parses. Only
// refused content pays for it.
func failingLine(content, msg string) int {
	lines := strings.SplitAfter(content, "\n")
	failsAt := func(n int) bool {
		_, err := ibparser.Parse(strings.NewReader(mcoStandIn + strings.Join(lines[:n], "")))
		return err != nil && err.Error() == msg
	}
	if !failsAt(len(lines)) {
		return 0
	}
	lo, hi := 1, len(lines) // the answer is in [lo, hi]
	for lo < hi {
		if mid := (lo + hi) / 2; failsAt(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// mcoValidateInstruction is the MCO's validateInstruction: a known instruction, with arguments when the table
// says it needs them (HEALTHCHECK NONE needs none).
func mcoValidateInstruction(node *ibparser.Node) *mcoRefusal {
	if node == nil || node.Value == "" {
		return nil
	}
	if _, known := command.Commands[node.Value]; !known {
		written, _, _ := strings.Cut(strings.TrimSpace(node.Original), " ")
		fix := written + " is no Containerfile instruction"
		if match, ok := suggest.Search(node.Value, slices.Sorted(maps.Keys(command.Commands)), false); ok {
			fix += "; did you mean " + strings.ToUpper(match) + "?"
		}
		return &mcoRefusal{Cause: "unknown Dockerfile instruction: " + node.Value, Fix: fix}
	}
	if node.Value == command.Healthcheck && node.Next != nil && strings.EqualFold(node.Next.Value, "NONE") {
		return nil
	}
	requirement, needsArgs := mcoInstructionRequirements[node.Value]
	hasArgs := (node.Next != nil && node.Next.Value != "") || len(node.Attributes) > 0
	if needsArgs && !hasArgs {
		return &mcoRefusal{Cause: fmt.Sprintf("%s instruction requires %s", strings.ToUpper(node.Value), requirement),
			Fix: "give it " + requirement}
	}
	return nil
}
