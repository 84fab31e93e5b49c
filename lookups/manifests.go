package lookups

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	yaml3 "go.yaml.in/yaml/v3"
	utiljson "k8s.io/apimachinery/pkg/util/json"
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

// readManifests reads every document of a YAML (or JSON, which is YAML) stream; lists are expanded into their items.
func readManifests(name string, r io.Reader) ([]*Manifest, error) {
	decoder := yaml3.NewDecoder(r)
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

func toManifests(name string, doc *yaml3.Node) ([]*Manifest, error) {
	if doc.Kind == yaml3.DocumentNode && len(doc.Content) == 1 {
		doc = doc.Content[0]
	}
	if doc.Kind == yaml3.ScalarNode && doc.Tag == "!!null" {
		return nil, nil // an empty document, as between two "---"
	}
	if doc.Kind != yaml3.MappingNode {
		return nil, errors.New("not a Kubernetes object (a YAML mapping with apiVersion and kind)")
	}
	obj, err := toObject(doc)
	if err != nil {
		return nil, err
	}
	m := &Manifest{Object: obj, File: name, Line: doc.Line, node: doc}
	kind, _ := obj["kind"].(string)
	if !strings.HasSuffix(kind, "List") {
		return []*Manifest{m}, nil
	}
	items, _ := mappingValue(doc, "items")
	if items == nil || items.Kind != yaml3.SequenceNode {
		return nil, nil
	}
	var out []*Manifest
	for _, item := range items.Content {
		ms, err := toManifests(name, item)
		if err != nil {
			return nil, fmt.Errorf("%s item at line %d: %w", kind, item.Line, err)
		}
		out = append(out, ms...)
	}
	return out, nil
}

// toObject converts a node the way kubectl converts YAML to the JSON it sends (YAML 1.1 scalars included).
func toObject(node *yaml3.Node) (map[string]any, error) {
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
