package gather

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

func TestPodLogReaderEnforcesTheByteLimit(t *testing.T) {
	var query string
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/namespaces/openshift-machine-config-operator/pods/build-pod/log" {
			http.NotFound(w, r)
			return
		}
		query = r.URL.RawQuery
		// A server that ignores limitBytes and sends 1 MiB.
		_, _ = w.Write([]byte(strings.Repeat("buildah output line\n", 1<<20/20)))
	}))
	defer api.Close()
	clientset, err := kubernetes.NewForConfig(&rest.Config{Host: api.URL})
	if err != nil {
		t.Fatal(err)
	}
	got, err := PodLogReader{Client: clientset}.TailLog(context.Background(), "openshift-machine-config-operator", "build-pod", "image-build", 4096)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4096 {
		t.Errorf("read %d bytes, want exactly the 4096 limit", len(got))
	}
	for _, want := range []string{"container=image-build", "limitBytes=4096", "tailLines=400"} {
		if !strings.Contains(query, want) {
			t.Errorf("query %q lacks %s", query, want)
		}
	}
}

func TestPodLogReaderReportsTheMissingPod(t *testing.T) {
	api := httptest.NewServer(http.NotFoundHandler())
	defer api.Close()
	clientset, _ := kubernetes.NewForConfig(&rest.Config{Host: api.URL})
	_, err := PodLogReader{Client: clientset}.TailLog(context.Background(), "ns", "gone", "image-build", 10)
	if err == nil || !strings.Contains(err.Error(), "reading log of ns/gone container image-build") {
		t.Fatalf("err = %v", err)
	}
}
