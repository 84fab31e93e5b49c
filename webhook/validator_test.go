package webhook

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	mcfgv1 "github.com/openshift/api/machineconfiguration/v1"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/ocl-guard/ocl-guard/validators"
	"github.com/ocl-guard/ocl-guard/validators/validatorstest"
)

func newTestWebhook(t *testing.T) *admission.Webhook {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := mcfgv1.Install(scheme); err != nil {
		t.Fatal(err)
	}
	return &admission.Webhook{Handler: NewValidator(scheme, emptyClusterEnv(), nil)}
}

func post(t *testing.T, wh http.Handler, body []byte) admissionv1.AdmissionReview {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, Path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	wh.ServeHTTP(rec, req)
	var review admissionv1.AdmissionReview
	if err := json.Unmarshal(rec.Body.Bytes(), &review); err != nil {
		t.Fatalf("response is not an AdmissionReview (HTTP %d): %s", rec.Code, rec.Body.String())
	}
	return review
}

func review(kind metav1.GroupVersionKind, op admissionv1.Operation, object, old []byte) []byte {
	b, _ := json.Marshal(admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{
			UID: "1", Kind: kind, Operation: op,
			Object: runtime.RawExtension{Raw: object}, OldObject: runtime.RawExtension{Raw: old},
		},
	})
	return b
}

var moscKind = metav1.GroupVersionKind{Group: "machineconfiguration.openshift.io", Version: "v1", Kind: "MachineOSConfig"}

func TestBadRequestsGet400(t *testing.T) {
	wh := newTestWebhook(t)
	for _, tc := range []struct {
		name, want string
		body       []byte
	}{
		{"not JSON", "", []byte("{this is not json")},
		{"object that does not decode", "could not decode the MachineOSConfig in the request",
			review(moscKind, admissionv1.Create, []byte(`{"apiVersion":"machineconfiguration.openshift.io/v1","kind":"MachineOSConfig","spec":{"machineConfigPool":"worker"}}`), nil)},
		{"old object that does not decode", "could not decode the old MachineOSConfig",
			review(moscKind, admissionv1.Update, []byte(`{"apiVersion":"machineconfiguration.openshift.io/v1","kind":"MachineOSConfig"}`), []byte(`[]`))},
		{"a kind this webhook does not serve", "this webhook validates only MachineOSConfig.machineconfiguration.openshift.io",
			review(metav1.GroupVersionKind{Version: "v1", Kind: "Secret"}, admissionv1.Create, []byte(`{}`), nil)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := post(t, wh, tc.body)
			if got.Response == nil || got.Response.Allowed || got.Response.Result == nil || got.Response.Result.Code != http.StatusBadRequest {
				t.Fatalf("response = %+v, want a 400 refusal", got.Response)
			}
			if msg := got.Response.Result.Message; tc.want != "" && !bytes.Contains([]byte(msg), []byte(tc.want)) {
				t.Errorf("message = %q, want it to contain %q", msg, tc.want)
			}
		})
	}
}

func TestDeleteIsAllowed(t *testing.T) {
	got := post(t, newTestWebhook(t), review(moscKind, admissionv1.Delete, nil, []byte(`{}`)))
	if got.Response == nil || !got.Response.Allowed {
		t.Fatalf("response = %+v", got.Response)
	}
}

// emptyClusterEnv is a cluster with no Secrets and no pools, every rule denying.
func emptyClusterEnv() validators.Env {
	env := (&validatorstest.Cluster{}).Env()
	env.Actions = func(validators.RuleID) validators.Action { return validators.ActionDeny }
	return env
}
