// Package argocd holds ocl-guard's Argo CD health checks: Lua scripts laid out as in Argo CD's own repository
// (argoproj/argo-cd resource_customizations/<group>/<Kind>/health.lua, with testdata/*.yaml and a health_test.yaml
// of expected results), the snippets that install them, and a runner that executes them the way Argo CD does.
package argocd

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
	"sigs.k8s.io/yaml"
)

// Customizations is the resource_customizations tree.
//
//go:embed resource_customizations
var Customizations embed.FS

const root = "resource_customizations"

// HealthStatus is what a health script returns; the field names are Argo CD's (gitops-engine pkg/health).
type HealthStatus struct {
	Status  string `json:"status"`
	Message string `json:"message,omitempty"`
}

// Check is one resource kind's health script.
type Check struct {
	Group, Kind string
	Script      string
	dir         string
}

// ConfigMapKey is the argocd-cm key that holds the script: resource.customizations.health.<group>_<Kind>.
func (c Check) ConfigMapKey() string {
	return "resource.customizations.health." + c.Group + "_" + c.Kind
}

// Checks lists the health scripts, ordered by group and kind.
func Checks() ([]Check, error) {
	var checks []Check
	err := fs.WalkDir(Customizations, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != "health.lua" {
			return err
		}
		dir := path.Dir(p)
		parts := strings.Split(strings.TrimPrefix(dir, root+"/"), "/")
		if len(parts) != 2 {
			return fmt.Errorf("%s: want %s/<group>/<Kind>/health.lua", p, root)
		}
		script, err := fs.ReadFile(Customizations, p)
		if err != nil {
			return err
		}
		checks = append(checks, Check{Group: parts[0], Kind: parts[1], Script: string(script), dir: dir})
		return nil
	})
	sort.Slice(checks, func(i, j int) bool { return checks[i].dir < checks[j].dir })
	return checks, err
}

// Case is one entry of a health_test.yaml: an input object and the health expected of it.
type Case struct {
	InputPath string       `json:"inputPath"`
	Want      HealthStatus `json:"healthStatus"`
	// Object is the parsed input file.
	Object map[string]any `json:"-"`
}

// Cases reads the check's health_test.yaml and the inputs it names.
func (c Check) Cases() ([]Case, error) {
	raw, err := fs.ReadFile(Customizations, path.Join(c.dir, "health_test.yaml"))
	if err != nil {
		return nil, err
	}
	var file struct {
		Tests []Case `json:"tests"`
	}
	if err := yaml.UnmarshalStrict(raw, &file); err != nil {
		return nil, fmt.Errorf("%s/health_test.yaml: %w", c.dir, err)
	}
	for i := range file.Tests {
		input, err := fs.ReadFile(Customizations, path.Join(c.dir, file.Tests[i].InputPath))
		if err != nil {
			return nil, err
		}
		if err := yaml.Unmarshal(input, &file.Tests[i].Object); err != nil {
			return nil, fmt.Errorf("%s/%s: %w", c.dir, file.Tests[i].InputPath, err)
		}
	}
	return file.Tests, nil
}

// scriptTimeout is Argo CD's limit on one script run.
const scriptTimeout = time.Second

// validStatus are the health codes Argo CD accepts from a script; it turns anything else into Unknown.
var validStatus = map[string]bool{"Healthy": true, "Progressing": true, "Degraded": true, "Suspended": true, "Missing": true, "Unknown": true}

// Evaluate runs script on obj as Argo CD runs a script from argocd-cm (util/lua/lua.go): gopher-lua without the
// standard libraries except base, table and package, the object as the global `obj`, and the returned table read as
// {status, message}. Argo CD also opens a reduced os library; these scripts do not need it, so it stays closed.
func Evaluate(script string, obj map[string]any) (HealthStatus, error) {
	l := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer l.Close()
	for name, open := range map[string]lua.LGFunction{lua.LoadLibName: lua.OpenPackage, lua.BaseLibName: lua.OpenBase, lua.TabLibName: lua.OpenTable} {
		if err := l.CallByParam(lua.P{Fn: l.NewFunction(open), Protect: true}, lua.LString(name)); err != nil {
			return HealthStatus{}, err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), scriptTimeout)
	defer cancel()
	l.SetContext(ctx)
	l.SetGlobal("obj", toLua(l, obj))
	if err := l.DoString(script); err != nil {
		return HealthStatus{}, err
	}
	table, ok := l.Get(-1).(*lua.LTable)
	if !ok {
		return HealthStatus{}, fmt.Errorf("expect table output from Lua script, not %s", l.Get(-1).Type())
	}
	status, ok := table.RawGetString("status").(lua.LString)
	if !ok || !validStatus[string(status)] {
		// Argo CD shows such a result as Unknown ("Lua returned an invalid health status"); here it is a bug.
		return HealthStatus{}, fmt.Errorf("the script returned an invalid health status %q", table.RawGetString("status").String())
	}
	h := HealthStatus{Status: string(status)}
	if m := table.RawGetString("message"); m != lua.LNil {
		message, ok := m.(lua.LString)
		if !ok {
			return HealthStatus{}, fmt.Errorf("message is a %s, not a string", m.Type())
		}
		h.Message = string(message)
	}
	return h, nil
}

// toLua converts an unstructured object as Argo CD's decodeValue does: numbers of any Go type become Lua numbers.
func toLua(l *lua.LState, value any) lua.LValue {
	switch v := value.(type) {
	case bool:
		return lua.LBool(v)
	case string:
		return lua.LString(v)
	case float64:
		return lua.LNumber(v)
	case int64:
		return lua.LNumber(v)
	case int32:
		return lua.LNumber(v)
	case int:
		return lua.LNumber(v)
	case []any:
		t := l.CreateTable(len(v), 0)
		for _, item := range v {
			t.Append(toLua(l, item))
		}
		return t
	case map[string]any:
		t := l.CreateTable(0, len(v))
		for key, item := range v {
			t.RawSetString(key, toLua(l, item))
		}
		return t
	}
	return lua.LNil
}
