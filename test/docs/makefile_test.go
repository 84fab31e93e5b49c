// Package docs keeps the documentation honest about the Makefile: every `make <target>` the README (or a runbook)
// tells a reader to run exists, every variable it tells them to set is one the Makefile reads, and every flag put
// in a *_FLAGS variable is one the program receiving it defines.
package docs

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

const repoRoot = "../.."

// makeCommand is one `make ...` a document tells the reader to run.
type makeCommand struct {
	Targets []string
	Vars    map[string]string // VAR=value given on the command line
}

// shellCode returns the code of a Markdown document: the lines of its fenced blocks and its inline code spans.
// Prose such as "make it probe" is not code and is left out.
func shellCode(markdown string) []string {
	var code []string
	fenced := false
	span := regexp.MustCompile("`([^`]+)`")
	for _, line := range strings.Split(markdown, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			fenced = !fenced
			continue
		}
		if fenced {
			code = append(code, line)
			continue
		}
		for _, m := range span.FindAllStringSubmatch(line, -1) {
			code = append(code, m[1])
		}
	}
	return code
}

var (
	makeWord   = regexp.MustCompile(`(?:^|[\s;&|(])make(?:\s|$)`)
	assignment = regexp.MustCompile(`^([A-Z][A-Z0-9_]*)=(.*)$`)
)

// makeCommands finds the make invocations in lines of shell code: the words after `make` up to a comment or a
// shell separator, flags (-j4) skipped, VAR=value taken as variables, the rest as targets.
func makeCommands(code []string) []makeCommand {
	var out []makeCommand
	for _, line := range code {
		for _, loc := range makeWord.FindAllStringIndex(line, -1) {
			cmd := makeCommand{Vars: map[string]string{}}
			rest := line[loc[1]:]
			if i := strings.IndexAny(rest, "#;&|)"); i >= 0 {
				rest = rest[:i]
			}
			for _, word := range strings.Fields(rest) {
				switch {
				case strings.HasPrefix(word, "-"):
				case assignment.MatchString(word):
					m := assignment.FindStringSubmatch(word)
					cmd.Vars[m[1]] = m[2]
				default:
					cmd.Targets = append(cmd.Targets, word)
				}
			}
			out = append(out, cmd)
		}
	}
	return out
}

// makefile is what the tests need to know of the Makefile.
type makefile struct {
	targets map[string]bool
	// used are the variables referenced as $(VAR) or ${VAR}; exported, those handed to the recipes' environment
	// (export VAR ...), which the go commands read.
	used, exported map[string]bool
	// recipes are the recipe lines, in order.
	recipes []string
	// comments are the text of the ## comments.
	comments []string
}

var (
	ruleLine   = regexp.MustCompile(`^([A-Za-z0-9_./%-]+(?:\s+[A-Za-z0-9_./%-]+)*)\s*:(?:[^=]|$)`)
	reference  = regexp.MustCompile(`\$[({]([A-Za-z_][A-Za-z0-9_]*)[)}]`)
	exportLine = regexp.MustCompile(`^export\s+([A-Za-z_][A-Za-z0-9_]*)`)
)

// reads reports whether setting variable on make's command line changes what the Makefile runs.
func (mk makefile) reads(variable string) bool { return mk.used[variable] || mk.exported[variable] }

func parseMakefile(text string) makefile {
	mk := makefile{targets: map[string]bool{}, used: map[string]bool{}, exported: map[string]bool{}}
	for _, line := range strings.Split(text, "\n") {
		switch {
		case strings.HasPrefix(line, "\t"):
			mk.recipes = append(mk.recipes, strings.TrimSpace(line))
		case strings.HasPrefix(line, "##"):
			mk.comments = append(mk.comments, strings.TrimSpace(strings.TrimPrefix(line, "##")))
			continue
		case strings.HasPrefix(line, "#"):
			continue
		default:
			if m := exportLine.FindStringSubmatch(line); m != nil {
				mk.exported[m[1]] = true
			}
			if m := ruleLine.FindStringSubmatch(line); m != nil {
				for _, t := range strings.Fields(m[1]) {
					mk.targets[t] = true
				}
			}
		}
		for _, m := range reference.FindAllStringSubmatch(line, -1) {
			mk.used[m[1]] = true
		}
	}
	return mk
}

// flagsVar is a variable whose value is flags for a Go program, RUN_FLAGS for instance.
func flagsVar(name string) bool { return strings.HasSuffix(name, "_FLAGS") }

// flagNames returns the names of the flags in a value such as `-registry-port=N` or `"-tag v1 -ca-file ca.pem"`.
func flagNames(value string) []string {
	var names []string
	for _, word := range strings.Fields(strings.Trim(value, `"'`)) {
		if !strings.HasPrefix(word, "-") {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimLeft(word, "-"), "=")
		if name != "" {
			names = append(names, name)
		}
	}
	return names
}

// programOf returns the Go package that receives a variable: `go run <pkg> ... $(VAR)`, or `bin/x ... $(VAR)` where
// another recipe line builds bin/x with `go build -o bin/x <pkg>`.
func (mk makefile) programOf(variable string) string {
	goRun := regexp.MustCompile(`go run (\./\S+)`)
	binary := regexp.MustCompile(`^(bin/\S+)`)
	for _, line := range mk.recipes {
		if !strings.Contains(line, "$("+variable+")") {
			continue
		}
		if m := goRun.FindStringSubmatch(line); m != nil {
			return m[1]
		}
		if m := binary.FindStringSubmatch(line); m != nil {
			build := regexp.MustCompile(`go build -o ` + regexp.QuoteMeta(m[1]) + ` (\./\S+)`)
			for _, other := range mk.recipes {
				if b := build.FindStringSubmatch(other); b != nil {
					return b[1]
				}
			}
		}
	}
	return ""
}

// definesFlag reports whether the Go package in dir (not its tests) defines a flag of that name.
func definesFlag(t *testing.T, dir, name string) bool {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	quoted := `"` + name + `"`
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(src), quoted) {
			return true
		}
	}
	return false
}

// documents are the Markdown files that tell readers what to run.
func documents(t *testing.T) map[string]string {
	t.Helper()
	paths := []string{filepath.Join(repoRoot, "README.md")}
	runbooks, err := filepath.Glob(filepath.Join(repoRoot, "docs", "*", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	docs := map[string]string{}
	for _, p := range append(paths, runbooks...) {
		text, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(repoRoot, p)
		docs[rel] = string(text)
	}
	return docs
}

func readMakefile(t *testing.T) makefile {
	t.Helper()
	text, err := os.ReadFile(filepath.Join(repoRoot, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	return parseMakefile(string(text))
}

// TestDocumentedMakeTargetsExist fails when a document names a `make <target>` the Makefile does not define, or
// sets a variable on make's command line that the Makefile never reads.
func TestDocumentedMakeTargetsExist(t *testing.T) {
	mk := readMakefile(t)
	seen := 0
	for name, text := range documents(t) {
		for _, cmd := range makeCommands(shellCode(text)) {
			seen++
			for _, target := range cmd.Targets {
				if !mk.targets[target] {
					t.Errorf("%s says `make %s`, but the Makefile has no target %q: add it or fix %s", name, target, target, name)
				}
			}
			for v := range cmd.Vars {
				if !mk.reads(v) {
					t.Errorf("%s sets %s= on make's command line, but the Makefile never reads $(%s): use it or fix %s", name, v, v, name)
				}
			}
		}
	}
	if seen == 0 {
		t.Fatal("found no `make` command in README.md: is shellCode still reading its code blocks and spans?")
	}
}

// TestDocumentedMakeVariablesWork fails when a document or a ## comment of the Makefile names a variable
// (`PLATFORMS=`, `RUN_FLAGS=-registry-port=N`) that the Makefile does not read, or a flag in a *_FLAGS variable
// that the program receiving the variable does not define.
func TestDocumentedMakeVariablesWork(t *testing.T) {
	mk := readMakefile(t)
	type mention struct{ where, variable, value string }
	var mentions []mention
	spanAssignment := regexp.MustCompile(`^([A-Z][A-Z0-9_]*)=(.*)$`)
	for name, text := range documents(t) {
		for _, code := range shellCode(text) {
			if m := spanAssignment.FindStringSubmatch(strings.TrimSpace(code)); m != nil {
				mentions = append(mentions, mention{name, m[1], m[2]})
			}
		}
		for _, cmd := range makeCommands(shellCode(text)) {
			for v, value := range cmd.Vars {
				mentions = append(mentions, mention{name, v, value})
			}
		}
	}
	commentAssignment := regexp.MustCompile(`\b([A-Z][A-Z0-9_]*_FLAGS)=("[^"]*"|\S+)`)
	for _, c := range mk.comments {
		for _, m := range commentAssignment.FindAllStringSubmatch(c, -1) {
			mentions = append(mentions, mention{"Makefile (## comment)", m[1], m[2]})
		}
	}
	if len(mentions) == 0 {
		t.Fatal("found no VAR= in README.md or the Makefile's comments: is the parsing still right?")
	}
	for _, m := range mentions {
		if !mk.reads(m.variable) {
			t.Errorf("%s names %s=, but the Makefile neither reads $(%s) nor exports it", m.where, m.variable, m.variable)
			continue
		}
		if !flagsVar(m.variable) {
			continue
		}
		program := mk.programOf(m.variable)
		if program == "" {
			t.Errorf("%s names %s=, but no recipe passes $(%s) to a Go program (`go run ./pkg` or a bin/ built with `go build -o`)", m.where, m.variable, m.variable)
			continue
		}
		for _, flag := range flagNames(m.value) {
			if !definesFlag(t, filepath.Join(repoRoot, program), flag) {
				t.Errorf("%s passes -%s in %s, but %s defines no flag %q: fix the example or the program", m.where, flag, m.variable, program, flag)
			}
		}
	}
}

func TestMakeCommands(t *testing.T) {
	for _, tc := range []struct {
		code []string
		want []makeCommand
	}{
		{[]string{"make test"}, []makeCommand{{Targets: []string{"test"}, Vars: map[string]string{}}}},
		{[]string{"make push REGISTRY=quay.io/<org>      # builds the image"},
			[]makeCommand{{Targets: []string{"push"}, Vars: map[string]string{"REGISTRY": "quay.io/<org>"}}}},
		{[]string{"make -j4 unit bench && make run"}, []makeCommand{
			{Targets: []string{"unit", "bench"}, Vars: map[string]string{}},
			{Targets: []string{"run"}, Vars: map[string]string{}}}},
		{[]string{"cmake ..", "automake", "go run ./x -make y"}, nil},
	} {
		if got := makeCommands(tc.code); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("makeCommands(%q) = %+v, want %+v", tc.code, got, tc.want)
		}
	}
}

func TestShellCodeSkipsProse(t *testing.T) {
	md := "so whoever can make it probe chooses\n\n```sh\nmake run\n```\n\nthen `make bench-admission` prints"
	got := makeCommands(shellCode(md))
	var targets []string
	for _, c := range got {
		targets = append(targets, c.Targets...)
	}
	if want := []string{"run", "bench-admission"}; !slices.Equal(targets, want) {
		t.Errorf("targets %q, want %q", targets, want)
	}
}

func TestParseMakefile(t *testing.T) {
	mk := parseMakefile("export KUBEBUILDER_ASSETS := $(ENVTEST_ASSETS)\nexport CGO_ENABLED ?= 0\nX ?= 1\n\n.PHONY: a b\n## run: RUN_FLAGS=\"-p 1\"\na b: c\n\tgo build -o bin/tool ./cmd/tool\n\tbin/tool $(RUN_FLAGS)\nd:\n\tgo run ./test/tools/x $(D_FLAGS) ${Y}\n")
	var targets []string
	for t := range mk.targets {
		targets = append(targets, t)
	}
	sort.Strings(targets)
	if want := []string{".PHONY", "a", "b", "d"}; !slices.Equal(targets, want) {
		t.Errorf("targets %q, want %q", targets, want)
	}
	for _, v := range []string{"ENVTEST_ASSETS", "RUN_FLAGS", "D_FLAGS", "Y"} {
		if !mk.used[v] {
			t.Errorf("%s not seen as used", v)
		}
	}
	if mk.used["X"] || mk.used["KUBEBUILDER_ASSETS"] {
		t.Errorf("assignments taken as uses: %v", mk.used)
	}
	if !mk.reads("CGO_ENABLED") || !mk.reads("KUBEBUILDER_ASSETS") || mk.reads("X") {
		t.Errorf("exported %v, used %v: want CGO_ENABLED and KUBEBUILDER_ASSETS read (exported), X not", mk.exported, mk.used)
	}
	if got := mk.programOf("RUN_FLAGS"); got != "./cmd/tool" {
		t.Errorf("programOf(RUN_FLAGS) = %q", got)
	}
	if got := mk.programOf("D_FLAGS"); got != "./test/tools/x" {
		t.Errorf("programOf(D_FLAGS) = %q", got)
	}
	if got := flagNames(`"-tag v1.0.0 -ca-file ca.pem"`); !slices.Equal(got, []string{"tag", "ca-file"}) {
		t.Errorf("flagNames = %q", got)
	}
	if got := flagNames("-registry-port=N"); !slices.Equal(got, []string{"registry-port"}) {
		t.Errorf("flagNames = %q", got)
	}
}
