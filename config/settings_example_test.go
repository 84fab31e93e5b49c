package config

import (
	"encoding/json"
	"maps"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/ocl-guard/ocl-guard/validators"
)

// The shipped example parses and spells out the defaults; the schema knows every rule.
func TestExampleAndSchemaMatchTheCode(t *testing.T) {
	example, err := Load("manager/settings.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defaults := Defaults()
	for _, id := range validators.RuleIDs() {
		if example.ActionFor(id) != defaults.ActionFor(id) {
			t.Errorf("example sets %s to %s, the default is %s", id, example.ActionFor(id), defaults.ActionFor(id))
		}
	}
	if example.Checker != defaults.Checker || example.Registry.Budget != defaults.Registry.Budget {
		t.Errorf("example checker/registry settings differ from the defaults:\n%+v\n%+v", example.Checker, defaults.Checker)
	}

	var schema struct {
		Properties struct {
			Checker struct {
				Properties map[string]json.RawMessage `json:"properties"`
			} `json:"checker"`
			Rules struct {
				PropertyNames struct {
					Enum []validators.RuleID `json:"enum"`
				} `json:"propertyNames"`
			} `json:"rules"`
		} `json:"properties"`
	}
	data, err := os.ReadFile("settings.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &schema); err != nil {
		t.Fatal(err)
	}
	// Every checker setting is in the schema and spelled out in the example.
	exampleText, err := os.ReadFile("manager/settings.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	fields := reflect.TypeOf(CheckerSettings{})
	for i := range fields.NumField() {
		key, _, _ := strings.Cut(fields.Field(i).Tag.Get("json"), ",")
		if _, ok := schema.Properties.Checker.Properties[key]; !ok {
			t.Errorf("settings.schema.json has no checker.%s", key)
		}
		if !strings.Contains(string(exampleText), "\n  "+key+": ") {
			t.Errorf("settings.example.yaml does not spell out checker.%s", key)
		}
	}
	if len(schema.Properties.Checker.Properties) != fields.NumField() {
		t.Errorf("schema has %d checker settings, the code %d", len(schema.Properties.Checker.Properties), fields.NumField())
	}

	got, want := schema.Properties.Rules.PropertyNames.Enum, validators.RuleIDs()
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("schema rule IDs %v, code has %v", got, want)
	}
	checkerKeys := slices.Sorted(maps.Keys(schema.Properties.Checker.Properties))
	if want := jsonNames(reflect.TypeFor[CheckerSettings]()); !slices.Equal(checkerKeys, want) {
		t.Errorf("schema checker keys %v, code has %v", checkerKeys, want)
	}
}

func jsonNames(t reflect.Type) []string {
	var names []string
	for f := range t.Fields() {
		names = append(names, strings.Split(f.Tag.Get("json"), ",")[0])
	}
	slices.Sort(names)
	return names
}
