package validators

import (
	"context"
	"strings"
	"testing"
)

// mcoShapes are Containerfile shapes whose fate in the MCO is known from its code: validateContainerfileSyntax,
// handleParserError, isKnownParserLimitation, isParseNameValError and findMalformedEnvLabel in
// pkg/controller/build/buildrequest/buildrequest.go, and the cases of TestValidateContainerfileSyntax and
// TestValidateUnknownInstruction in buildrequest_test.go (machine-config-operator at 7ff337a, imagebuilder v1.2.21).
// The MCO validates its rendered Containerfile: its stages, then the content, so a content without FROM is fine and
// a directive is a comment. ocl-guard denies exactly what the MCO refuses, with the MCO's words and the line of the
// entry; whatever else buildkit's parser refuses is a warning.
var mcoShapes = []struct {
	name    string
	content string
	refused string // the MCO's cause; "" when it accepts the content
	line    int    // the entry's line named in the denial
	warn    string // a warning ocl-guard gives for content the MCO accepts
}{
	// buildrequest_test.go TestValidateContainerfileSyntax.
	{"valid simple Containerfile", "FROM registry.example.com/base:latest\nRUN echo \"hello\"\nCOPY . /app", "", 0, "the last stage (line 1: FROM registry.example.com/base:latest)"},
	{"empty Containerfile", "", "", 0, ""},
	{"no FROM instruction: the rendered file has the MCO's", "RUN echo \"hello\"\nCOPY . /app", "", 0, "containerFile has no FROM"},
	{"FROM without arguments", "FROM", "FROM instruction requires a base image", 1, ""},
	{"RUN without arguments", "FROM configs AS final\nRUN", "RUN instruction requires a command", 2, ""},
	{"COPY without arguments", "FROM configs AS final\nCOPY", "COPY instruction requires source and destination paths", 2, ""},
	{"WORKDIR without arguments", "FROM configs AS final\nWORKDIR", "WORKDIR instruction requires a directory path", 2, ""},
	{"valid Containerfile with comments", "# Base image\nFROM configs AS final\n# Install dependencies\nRUN yum install -y python3", "", 0, ""},
	{"heredoc", "FROM configs AS final\nRUN bash <<'EOF'\nset -xeuo pipefail\necho \"hello\"\nEOF\n", "", 0, ""},
	{"comments only", "# This Containerfile is temporarily disabled for testing\n# FROM registry.example.com/base:latest\n# RUN echo \"hello\"", "", 0, ""},
	// buildrequest_test.go TestValidateUnknownInstruction.
	{"unknown instruction BADINSTRUCTION", "FROM configs AS final\nBADINSTRUCTION this should fail\nRUN echo \"test\"", "unknown Dockerfile instruction: badinstruction", 2, ""},
	{"unknown instruction INVALIDCMD", "FROM configs AS final\nRUN echo \"valid\"\nINVALIDCMD foo bar", "unknown Dockerfile instruction: invalidcmd", 3, ""},
	{"valid instructions only", "FROM configs AS final\nRUN echo \"test\"\nCOPY . /app\nENV FOO=bar", "", 0, ""},
	{"ENV without an equals sign", "FROM configs AS final\nENV INVALID_NO_EQUALS", "failed to parse Containerfile: ENV must have two arguments", 2, ""},
	{"LABEL without an equals sign", "FROM configs AS final\nLABEL badlabel", "failed to parse Containerfile: LABEL must have two arguments", 2, ""},
	// handleParserError: imagebuilder's parseNameVal refuses unquoted spaces; the MCO lets them through.
	{"unquoted space in a LABEL value", "FROM configs AS final\nLABEL description=my custom image", "", 0, `buildkit's Dockerfile parser refuses it (Syntax error - can't find = in "custom"`},
	{"unquoted space over a continuation", "FROM configs AS final\nLABEL a=b \\\n  c", "", 0, `can't find = in "c"`},
	{"the parser stops there, so a later unknown instruction passes too", "FROM configs AS final\nLABEL a=b c\nRUNN true", "", 0, "the MCO lets it through, but buildah may fail on it"},
	// findMalformedEnvLabel: then any ENV or LABEL line without '=' fails, even the legacy form that parses.
	{"legacy ENV beside an unquoted space", "FROM configs AS final\nENV A b c\nLABEL a=b c", "ENV instruction must use key=value form", 2, ""},
	{"legacy ENV alone parses", "FROM configs AS final\nENV A b c", "", 0, ""},
	{"lower-case label without '='", "FROM configs AS final\nENV a=b c\nlabel foo bar", "LABEL instruction must use key=value form", 3, ""},
	// isKnownParserLimitation: errors mentioning heredocs pass.
	{"unterminated heredoc", "FROM configs AS final\nRUN <<EOF\necho hi\n", "", 0, "unterminated heredoc"},
	// validateInstruction.
	{"HEALTHCHECK NONE needs no more", "FROM configs AS final\nHEALTHCHECK NONE", "", 0, ""},
	{"CMD without arguments", "FROM configs AS final\nCMD", "CMD instruction requires a command or arguments", 2, ""},
	{"MAINTAINER is still an instruction", "FROM configs AS final\nMAINTAINER me", "", 0, ""},
	// The content sits below the MCO's stages: a directive there is a comment, so the backtick escapes nothing.
	{"escape directive below the MCO's stages", "# escape=`\nFROM configs AS final\nRUN echo a `\n  b", "unknown Dockerfile instruction: b", 4, ""},
	// The MCO's parser does not check flags; buildkit's does.
	{"unknown COPY flag", "FROM configs AS final\nCOPY --bogus=1 a b", "", 0, "unknown flag: --bogus"},
}

func TestContainerfileMCOShapes(t *testing.T) {
	for _, tc := range mcoShapes {
		t.Run(tc.name, func(t *testing.T) {
			r := mcoValidateContainerfile(tc.content)
			switch {
			case tc.refused == "" && r != nil:
				t.Fatalf("the MCO accepts it; got refusal %q (line %d)", r.Cause, r.Line)
			case tc.refused != "" && r == nil:
				t.Fatalf("the MCO refuses it with %q; got no refusal", tc.refused)
			case r != nil && (r.Cause != tc.refused || r.Line != tc.line):
				t.Fatalf("got %q on line %d, want %q on line %d", r.Cause, r.Line, tc.refused, tc.line)
			}
			got := validate(context.Background(), ValidateContainerfile, withContent(tc.content), nil)
			var w want
			if tc.refused != "" {
				w.errs = []string{contentPath + "|" + invalid + "|" + mcoRefusalDetail(r, 0)}
			}
			if tc.warn != "" {
				w.warnings = []string{tc.warn}
			}
			checkFindings(t, got, w)
		})
	}
}

func TestMCORefusalDetail(t *testing.T) {
	got := mcoRefusalDetail(mcoValidateContainerfile("FROM configs AS final\nENV A b\nLABEL a=b c\n"), 2)
	want := `line 2 of containerFile[2].content: the MCO refuses it before any build starts: "Containerfile validation failed: ` +
		`ENV instruction must use key=value form" (the MCO's own message numbers the line in its rendered Containerfile, after its own stages); ` +
		`write ENV key=value, quoting values that hold spaces (ENV key="a b")`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// imagebuilder's parse errors name no line; the denial finds it, wherever it is and whatever follows.
func TestFailingLine(t *testing.T) {
	for _, at := range []int{1, 2, 37, 120} {
		lines := make([]string, 150)
		for i := range lines {
			lines[i] = "RUN echo step && \\\n  true"
		}
		lines[at-1] = "LABEL onlykey"
		content := strings.Join(lines, "\n")
		r := mcoValidateContainerfile(content)
		want := 2*(at-1) + 1 // each RUN spans two lines
		if r == nil || r.Cause != "failed to parse Containerfile: LABEL must have two arguments" || r.Line != want {
			t.Errorf("error in instruction %d: got %+v, want line %d", at, r, want)
		}
	}
}
