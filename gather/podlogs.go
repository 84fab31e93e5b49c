package gather

import (
	"context"
	"fmt"
	"io"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
)

// LogReader reads the end of a container's log. Envtest has no kubelet, so tests give the checker recorded logs
// through this interface; PodLogReader is the real one.
type LogReader interface {
	TailLog(ctx context.Context, namespace, pod, container string, limitBytes int64) (string, error)
}

// PodLogReader reads logs through the pods/log subresource.
type PodLogReader struct {
	Client kubernetes.Interface
}

// tailLines bounds how far back the kubelet looks; the byte limit below bounds what is read.
const tailLines int64 = 400

// TailLog returns at most limitBytes of the last lines of the container's log. The limit is enforced here too,
// whatever the server does with limitBytes.
func (r PodLogReader) TailLog(ctx context.Context, namespace, pod, container string, limitBytes int64) (string, error) {
	tail := tailLines
	stream, err := r.Client.CoreV1().Pods(namespace).GetLogs(pod, &corev1.PodLogOptions{
		Container: container, TailLines: &tail, LimitBytes: &limitBytes,
	}).Stream(ctx)
	if err != nil {
		return "", fmt.Errorf("reading log of %s/%s container %s: %w", namespace, pod, container, err)
	}
	defer stream.Close()
	data, err := io.ReadAll(io.LimitReader(stream, limitBytes))
	if err != nil {
		return "", fmt.Errorf("reading log of %s/%s container %s: %w", namespace, pod, container, err)
	}
	return string(data), nil
}
