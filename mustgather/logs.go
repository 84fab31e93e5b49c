package mustgather

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path"
	"time"

	"github.com/ocl-guard/ocl-guard/gather"
)

var _ gather.LogReader = (*Dump)(nil)

// logFiles are the names oc adm inspect gives a container's current log: current.insecure.log when the kubelet's
// certificate could not be verified (pod.go gatherContainerLogs). previous.log is the log of the container before a
// restart, which live status does not read either.
var logFiles = []string{"current.log", "current.insecure.log"}

// TailLog reads the end of a container's log, at most limitBytes of it, as gather.PodLogReader does live: from
// namespaces/<ns>/pods/<pod>/<container>/<container>/logs/current.log (pod.go gatherPodData, gatherContainerInfo and
// gatherContainerLogs each add a level). It seeks to the end, so a log of any size costs limitBytes. inspect asks
// for timestamps (PodLogOptions.Timestamps), which are taken off each line, as the classifier reads the log as the
// container wrote it.
func (d *Dump) TailLog(_ context.Context, namespace, pod, container string, limitBytes int64) (string, error) {
	if !validName(namespace) || !validName(pod) || !validName(container) {
		return "", fmt.Errorf("no log for %s/%s container %s: not a name", namespace, pod, container)
	}
	for _, base := range d.bases {
		for _, name := range logFiles {
			rel := path.Join(base, namespacesDir, namespace, "pods", pod, container, container, "logs", name)
			if d.isRegular(rel) {
				return d.tail(rel, limitBytes)
			}
		}
	}
	return "", fmt.Errorf("no log of %s/%s container %s in the must-gather (%s)", namespace, pod, container,
		path.Join(namespacesDir, namespace, "pods", pod, container, container, "logs", logFiles[0]))
}

func (d *Dump) tail(rel string, limit int64) (string, error) {
	if limit <= 0 {
		return "", nil
	}
	f, err := d.root.Open(rel)
	if err != nil {
		return "", err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return "", err
	}
	offset := max(0, info.Size()-limit)
	buf := make([]byte, info.Size()-offset)
	if _, err := f.ReadAt(buf, offset); err != nil && err != io.EOF {
		return "", fmt.Errorf("%s: %w", rel, err)
	}
	if offset > 0 {
		// Start at a line: the first one is cut.
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			buf = buf[i+1:]
		}
	}
	return string(stripTimestamps(buf)), nil
}

// stripTimestamps takes the RFC 3339 timestamp the kubelet puts before each line when asked for timestamps off it.
func stripTimestamps(log []byte) []byte {
	out := make([]byte, 0, len(log))
	for len(log) > 0 {
		line := log
		if i := bytes.IndexByte(log, '\n'); i >= 0 {
			line, log = log[:i+1], log[i+1:]
		} else {
			log = nil
		}
		if stamp, rest, ok := bytes.Cut(line, []byte{' '}); ok {
			if _, err := time.Parse(time.RFC3339Nano, string(stamp)); err == nil {
				line = rest
			}
		}
		out = append(out, line...)
	}
	return out
}
