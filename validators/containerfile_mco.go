package validators

import (
	"fmt"
	"strings"

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

// mcoValidateContainerfile runs the MCO's validation on user content as it sits in the rendered Containerfile:
// after the MCO's own stages, so a parser directive (# escape=) at the top of the content is only a comment there,
// and the rendered file always has a FROM. Its error is the MCO's cause, without the MCO's prefix.
func mcoValidateContainerfile(content string) error {
	if onlyCommentsOrWhitespace(content) {
		return nil
	}
	// A stand-in for the rendered stages above the user content keeps directives from being read as directives.
	result, err := ibparser.Parse(strings.NewReader("FROM scratch AS " + mcoLastStage + "\n" + content))
	if err != nil {
		return mcoParserError(err, content)
	}
	if result.AST == nil {
		return nil
	}
	for _, node := range result.AST.Children[1:] {
		if err := mcoValidateInstruction(node); err != nil {
			return err
		}
	}
	return nil
}

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
func mcoParserError(err error, content string) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "<<") || strings.Contains(msg, "heredoc"):
		return nil
	case strings.Contains(msg, "can't find = in") || strings.Contains(msg, "must be of the form: name=value"):
		return malformedEnvLabel(content)
	}
	return fmt.Errorf("failed to parse Containerfile: %w", err)
}

// malformedEnvLabel finds an ENV or LABEL line with no '=' at all. Lines count from the top of the content; the
// MCO counts from the top of the rendered file, so its number is larger by the length of its template.
func malformedEnvLabel(content string) error {
	for i, line := range strings.Split(content, "\n") {
		trimmed := strings.TrimSpace(line)
		for _, inst := range []string{"ENV", "LABEL"} {
			prefix := inst + " "
			if len(trimmed) > len(prefix) && strings.EqualFold(trimmed[:len(prefix)], prefix) &&
				!strings.Contains(trimmed[len(prefix):], "=") {
				return fmt.Errorf("line %d: %s instruction must use key=value form", i+1, inst)
			}
		}
	}
	return nil
}

// mcoValidateInstruction is the MCO's validateInstruction: a known instruction, with arguments when the table
// says it needs them (HEALTHCHECK NONE needs none).
func mcoValidateInstruction(node *ibparser.Node) error {
	if node == nil || node.Value == "" {
		return nil
	}
	if _, known := command.Commands[node.Value]; !known {
		return fmt.Errorf("unknown Dockerfile instruction: %s", node.Value)
	}
	if node.Value == command.Healthcheck && node.Next != nil && strings.EqualFold(node.Next.Value, "NONE") {
		return nil
	}
	requirement, needsArgs := mcoInstructionRequirements[node.Value]
	hasArgs := (node.Next != nil && node.Next.Value != "") || len(node.Attributes) > 0
	if needsArgs && !hasArgs {
		return fmt.Errorf("%s instruction requires %s", strings.ToUpper(node.Value), requirement)
	}
	return nil
}
