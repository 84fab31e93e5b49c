package argocd

import (
	"bytes"
	"strings"
	"text/template"
)

// The snippet files, generated from the scripts by Render (`go test ./config/argocd -update`); a test keeps them
// equal to it.
const (
	ConfigMapSnippet = "argocd-cm.yaml"
	ArgoCDSnippet    = "argocd-cr.yaml"
)

var snippets = template.Must(template.New("").Funcs(template.FuncMap{"indent": indent}).Parse(`
{{- define "argocd-cm.yaml" -}}
# Generated from resource_customizations/ by 'go test ./config/argocd -update': edit the .lua files, not this.
# Upstream Argo CD: merge these keys into the argocd-cm ConfigMap (kubectl apply --server-side, or a kustomize
# patch). On OpenShift GitOps the operator owns argocd-cm and overwrites it: use argocd-cr.yaml instead.
apiVersion: v1
kind: ConfigMap
metadata:
  name: argocd-cm
  namespace: argocd
  labels:
    app.kubernetes.io/name: argocd-cm
    app.kubernetes.io/part-of: argocd
data:
{{- range . }}
  {{ .ConfigMapKey }}: |
{{ indent 4 .Script }}
{{- end }}
{{ end -}}
{{- define "argocd-cr.yaml" -}}
# Generated from resource_customizations/ by 'go test ./config/argocd -update': edit the .lua files, not this.
# OpenShift GitOps: add these entries to spec.resourceHealthChecks of your ArgoCD instance (this is the default
# instance). A merge patch replaces the whole list, so keep any entries you already have.
apiVersion: argoproj.io/v1beta1
kind: ArgoCD
metadata:
  name: openshift-gitops
  namespace: openshift-gitops
spec:
  resourceHealthChecks:
{{- range . }}
  - group: {{ .Group }}
    kind: {{ .Kind }}
    check: |
{{ indent 6 .Script }}
{{- end }}
{{ end -}}
`))

// Render returns the content of a snippet file for checks.
func Render(name string, checks []Check) ([]byte, error) {
	var out bytes.Buffer
	err := snippets.ExecuteTemplate(&out, name, checks)
	return out.Bytes(), err
}

// indent prefixes every non-empty line of s with n spaces (a YAML block scalar) and drops the final newline.
func indent(n int, s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	pad := strings.Repeat(" ", n)
	for i, line := range lines {
		if line != "" {
			lines[i] = pad + line
		}
	}
	return strings.Join(lines, "\n")
}
