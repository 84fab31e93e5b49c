package lookups

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	yaml3 "go.yaml.in/yaml/v3"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// Manifest is one object read from a file, with where it is.
type Manifest struct {
	// Object holds the values exactly as `oc apply` would send them: converted from YAML the way kubectl converts
	// (sigs.k8s.io/yaml), integers as int64.
	Object map[string]any
	// File is the path the object was read from ("standard input" for -f -); Line is where the object starts.
	File string
	Line int
	node *yaml3.Node // the object's mapping node, for the lines of its fields
}

// FieldLine returns the line of the field at path (a field.Path string such as "spec.containerFile[0].content"),
// or of its nearest ancestor that the manifest spells out; the object's own line when none is.
func (m *Manifest) FieldLine(path string) int {
	line := m.Line
	node := m.node
	for _, step := range parseFieldPath(path) {
		next, keyLine := child(node, step)
		if next == nil {
			break
		}
		node, line = next, keyLine
	}
	return line
}

// readManifests reads a stream the way `kubectl apply -f` does (k8s.io/apimachinery pkg/util/yaml
// YAMLOrJSONDecoder, which kubectl's resource builder uses): a stream that starts with "{" is read as concatenated
// JSON objects ({...}{...} or one per line); if its first or second object is not valid JSON, the rest is read as
// YAML documents, as that decoder does. Anything else is YAML documents. Lists are expanded into their items.
func readManifests(name string, r io.Reader) ([]*Manifest, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if !utilyaml.IsJSONBuffer(data) {
		return readYAML(name, data, 0)
	}
	var out []*Manifest
	decoder := json.NewDecoder(bytes.NewReader(data))
	for count := 0; ; count++ {
		offset := decoder.InputOffset()
		var raw json.RawMessage
		err := decoder.Decode(&raw)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			if count > 1 {
				// Two objects made it a JSON stream for kubectl too; it stops here.
				return nil, fmt.Errorf("%s, line %d: object %d is not valid JSON (%v); a JSON stream holds whole objects one after another, {...}{...}", name, lineAt(data, errorOffset(err, offset)), count+1, err)
			}
			yamlDocs, err := readYAML(name, data[offset:], lineAt(data, offset)-1)
			if err != nil {
				return nil, err
			}
			return append(out, yamlDocs...), nil
		}
		start := decoder.InputOffset() - int64(len(raw))
		manifests, err := jsonManifests(name, raw, lineAt(data, start))
		if err != nil {
			return nil, fmt.Errorf("%s, object %d (line %d): %w", name, count+1, lineAt(data, start), err)
		}
		out = append(out, manifests...)
	}
}

// readYAML reads the YAML documents of data, which starts after line skipped of the file (its lines are numbered
// from skipped+1).
func readYAML(name string, data []byte, skipped int) ([]*Manifest, error) {
	// Blank lines in front keep yaml.v3's line numbers those of the file.
	decoder := yaml3.NewDecoder(io.MultiReader(strings.NewReader(strings.Repeat("\n", skipped)), bytes.NewReader(data)))
	var out []*Manifest
	for doc := 1; ; doc++ {
		var node yaml3.Node
		if err := decoder.Decode(&node); errors.Is(err, io.EOF) {
			return out, nil
		} else if err != nil {
			return nil, fmt.Errorf("%s, document %d: %w", name, doc, err)
		}
		manifests, err := toManifests(name, &node)
		if err != nil {
			return nil, fmt.Errorf("%s, document %d (line %d): %w", name, doc, node.Line, err)
		}
		out = append(out, manifests...)
	}
}

// lineAt is the 1-based line of data[offset].
func lineAt(data []byte, offset int64) int {
	offset = min(max(offset, 0), int64(len(data)))
	return 1 + bytes.Count(data[:offset], []byte("\n"))
}

// errorOffset is where a JSON decoding error lies in the stream, or the start of the value when it does not say.
func errorOffset(err error, valueStart int64) int64 {
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) {
		return syntax.Offset
	}
	return valueStart
}

func toManifests(name string, doc *yaml3.Node) ([]*Manifest, error) {
	if doc.Kind == yaml3.DocumentNode && len(doc.Content) == 1 {
		doc = doc.Content[0]
	}
	if doc.Kind == yaml3.ScalarNode && doc.Tag == "!!null" {
		return nil, nil // an empty document, as between two "---"
	}
	if doc.Kind != yaml3.MappingNode {
		return nil, errNotAnObject
	}
	obj, err := toObject(doc)
	if err != nil {
		return nil, err
	}
	return expandList(name, obj, doc)
}

var errNotAnObject = errors.New("not a Kubernetes object (a YAML mapping or JSON object with apiVersion and kind)")

// expandList returns the manifest of obj, or of each item when it is a List. node holds obj's positions.
func expandList(name string, obj map[string]any, node *yaml3.Node) ([]*Manifest, error) {
	m := &Manifest{Object: obj, File: name, Line: node.Line, node: node}
	kind, _ := obj["kind"].(string)
	if !strings.HasSuffix(kind, "List") {
		return []*Manifest{m}, nil
	}
	items, _ := obj["items"].([]any)
	itemNodes, _ := mappingValue(node, "items")
	if len(items) == 0 || itemNodes == nil || itemNodes.Kind != yaml3.SequenceNode || len(itemNodes.Content) != len(items) {
		return nil, nil
	}
	var out []*Manifest
	for i, item := range items {
		if item == nil {
			continue // an empty item
		}
		itemNode := itemNodes.Content[i]
		itemObj, ok := item.(map[string]any)
		if !ok || itemNode.Kind != yaml3.MappingNode {
			return nil, fmt.Errorf("%s item at line %d: %w", kind, itemNode.Line, errNotAnObject)
		}
		ms, err := expandList(name, itemObj, itemNode)
		if err != nil {
			return nil, fmt.Errorf("%s item at line %d: %w", kind, itemNode.Line, err)
		}
		out = append(out, ms...)
	}
	return out, nil
}

// jsonManifests reads one JSON value that starts on line of the file. The object is decoded as kubectl decodes
// JSON (exactly the values it sends); the positions of its fields come from the JSON tokens, since JSON is not
// always YAML that yaml.v3 reads (it refuses the escape \/, for one).
func jsonManifests(name string, raw []byte, line int) ([]*Manifest, error) {
	var value any
	if err := utiljson.Unmarshal(raw, &value); err != nil {
		return nil, err
	}
	obj, ok := value.(map[string]any)
	if !ok {
		return nil, errNotAnObject
	}
	node, err := jsonNode(raw, line)
	if err != nil {
		return nil, err
	}
	return expandList(name, obj, node)
}

// jsonNode builds the yaml.v3 node tree of a JSON value, with the line of every key and value (JSON tokens never
// span lines), so that FieldLine works on JSON as on YAML.
func jsonNode(raw []byte, firstLine int) (*yaml3.Node, error) {
	decoder := json.NewDecoder(bytes.NewReader(raw))
	decoder.UseNumber()
	lineOf := func() int { return firstLine - 1 + lineAt(raw, decoder.InputOffset()) }
	var parse func() (*yaml3.Node, error)
	parse = func() (*yaml3.Node, error) {
		tok, err := decoder.Token()
		if err != nil {
			return nil, err
		}
		line := lineOf()
		switch t := tok.(type) {
		case json.Delim:
			node := &yaml3.Node{Kind: yaml3.SequenceNode, Line: line}
			if t == '{' {
				node.Kind = yaml3.MappingNode
			}
			for decoder.More() {
				if node.Kind == yaml3.MappingNode {
					key, err := decoder.Token()
					if err != nil {
						return nil, err
					}
					k, _ := key.(string)
					node.Content = append(node.Content, &yaml3.Node{Kind: yaml3.ScalarNode, Value: k, Line: lineOf()})
				}
				child, err := parse()
				if err != nil {
					return nil, err
				}
				node.Content = append(node.Content, child)
			}
			if _, err := decoder.Token(); err != nil { // the closing delimiter
				return nil, err
			}
			return node, nil
		default:
			return &yaml3.Node{Kind: yaml3.ScalarNode, Value: fmt.Sprint(t), Line: line}, nil
		}
	}
	return parse()
}

// toObject converts a node the way kubectl converts YAML to the JSON it sends (YAML 1.1 scalars included).
func toObject(node *yaml3.Node) (map[string]any, error) {
	if obj, ok := plainObject(node); ok {
		return obj, nil
	}
	return convertObject(node)
}

// convertObject is toObject's reference path: the node written as YAML and read back as kubectl reads YAML
// (sigs.k8s.io/yaml, YAML 1.1 scalars), then as JSON.
func convertObject(node *yaml3.Node) (map[string]any, error) {
	text, err := yaml3.Marshal(node)
	if err != nil {
		return nil, err
	}
	j, err := yaml.YAMLToJSON(text)
	if err != nil {
		return nil, err
	}
	var obj map[string]any
	if err := utiljson.Unmarshal(j, &obj); err != nil {
		return nil, err
	}
	return obj, nil
}

// pathStep is one step of a field path: a field name, a list index, or a map key.
type pathStep struct {
	name  string
	index int // -1 unless the step is [n]
}

// parseFieldPath splits "spec.a[0].b[some.key]" into its steps. Names never hold '.' or '['; keys may hold '.'.
func parseFieldPath(path string) []pathStep {
	var steps []pathStep
	for path != "" {
		switch path[0] {
		case '.':
			path = path[1:]
		case '[':
			end := strings.IndexByte(path, ']')
			if end < 0 {
				return steps
			}
			inner := path[1:end]
			if n, err := strconv.Atoi(inner); err == nil {
				steps = append(steps, pathStep{index: n})
			} else {
				steps = append(steps, pathStep{name: inner, index: -1})
			}
			path = path[end+1:]
		default:
			end := strings.IndexAny(path, ".[")
			if end < 0 {
				end = len(path)
			}
			steps = append(steps, pathStep{name: path[:end], index: -1})
			path = path[end:]
		}
	}
	return steps
}

// child follows one step from node, returning the child and the line that names it (a mapping key's line).
func child(node *yaml3.Node, step pathStep) (*yaml3.Node, int) {
	if node == nil {
		return nil, 0
	}
	if step.index >= 0 {
		if node.Kind == yaml3.SequenceNode && step.index < len(node.Content) {
			return node.Content[step.index], node.Content[step.index].Line
		}
		return nil, 0
	}
	return mappingValue(node, step.name)
}

func mappingValue(node *yaml3.Node, key string) (*yaml3.Node, int) {
	if node.Kind != yaml3.MappingNode {
		return nil, 0
	}
	for i := 0; i+1 < len(node.Content); i += 2 {
		if node.Content[i].Value == key {
			return node.Content[i+1], node.Content[i].Line
		}
	}
	return nil, 0
}

// plainObject is toObject without the round trip through YAML text and JSON, for the nodes where the round trip
// cannot change a value: strings, decimal integers, booleans and nulls spelled the same in YAML 1.1 and 1.2, string
// keys, no anchors, aliases, merge keys, tags or duplicate keys. It tells whether the node is such a node; when it
// is not, toObject takes the reference path. (The round trip costs more than reading the YAML: 40% of the
// allocations of `ocl-guard check -f`. manifests_test.go compares both paths on every manifest of the repository.)
func plainObject(node *yaml3.Node) (map[string]any, bool) {
	v, ok := plainValue(node)
	obj, isMap := v.(map[string]any)
	return obj, ok && isMap
}

func plainValue(node *yaml3.Node) (any, bool) {
	if node.Anchor != "" || node.Style&yaml3.TaggedStyle != 0 {
		return nil, false
	}
	switch node.Kind {
	case yaml3.MappingNode:
		obj := make(map[string]any, len(node.Content)/2)
		for i := 0; i+1 < len(node.Content); i += 2 {
			key := node.Content[i]
			if key.Kind != yaml3.ScalarNode || key.Tag != "!!str" || key.Anchor != "" || key.Style&yaml3.TaggedStyle != 0 || !plainString(key) {
				return nil, false
			}
			if _, dup := obj[key.Value]; dup {
				return nil, false
			}
			v, ok := plainValue(node.Content[i+1])
			if !ok {
				return nil, false
			}
			obj[key.Value] = v
		}
		return obj, true
	case yaml3.SequenceNode:
		items := make([]any, len(node.Content))
		for i, item := range node.Content {
			v, ok := plainValue(item)
			if !ok {
				return nil, false
			}
			items[i] = v
		}
		return items, true
	case yaml3.ScalarNode:
		return plainScalar(node)
	}
	return nil, false
}

func plainScalar(node *yaml3.Node) (any, bool) {
	quoted := node.Style&(yaml3.DoubleQuotedStyle|yaml3.SingleQuotedStyle|yaml3.LiteralStyle|yaml3.FoldedStyle) != 0
	switch node.Tag {
	case "!!str":
		return node.Value, plainString(node)
	case "!!int":
		// Decimal only, within int64: 0777 or 0x1F are integers of other values in YAML 1.1.
		if quoted || !decimalInt.MatchString(node.Value) {
			return nil, false
		}
		n, err := strconv.ParseInt(node.Value, 10, 64)
		return n, err == nil
	case "!!bool":
		switch node.Value {
		case "true", "True", "TRUE":
			return true, !quoted
		case "false", "False", "FALSE":
			return false, !quoted
		}
	case "!!null":
		// Spelled out: an empty value (a key without one) is written back as "" in some places.
		switch node.Value {
		case "~", "null", "Null", "NULL":
			return nil, !quoted
		}
	}
	return nil, false
}

var decimalInt = regexp.MustCompile(`^-?(0|[1-9][0-9]{0,17})$`)

// plainString tells whether a string scalar reads back as the same string in YAML 1.1 (go.yaml.in/yaml/v2's
// resolve.go): quoted and block scalars always do; a plain one does unless it starts like a number, a null or a
// merge key, or is one of YAML 1.1's booleans, nulls and special floats (y, yes, on, off, .inf, ...).
func plainString(node *yaml3.Node) bool {
	if !utf8.ValidString(node.Value) {
		return false
	}
	if node.Style&(yaml3.DoubleQuotedStyle|yaml3.SingleQuotedStyle|yaml3.LiteralStyle|yaml3.FoldedStyle) != 0 {
		return true
	}
	v := node.Value
	switch {
	case v == "" || v[0] == '~' || v[0] == '<':
		return false
	case strings.ContainsRune("+-0123456789", rune(v[0])):
		// A number or a timestamp in YAML 1.1 only when every character could be part of one (digits, hex digits,
		// base prefixes, signs, separators, the T and Z of a time): "123456789012.dkr.ecr..." is a string.
		return strings.ContainsFunc(v, func(r rune) bool { return !strings.ContainsRune("0123456789abcdefABCDEFxXoO_.+-: tTzZ", r) })
	case v[0] == '.': // a float when Go parses it as one (".5"), as .dockerconfigjson is not
		if _, err := strconv.ParseFloat(v, 64); err == nil {
			return false
		}
	}
	switch v {
	case "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE",
		"on", "On", "ON", "off", "Off", "OFF", "null", "Null", "NULL", ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF":
		return false
	}
	return true
}
