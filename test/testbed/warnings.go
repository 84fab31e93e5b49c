package testbed

import "sync"

// WarningRecorder is a rest.WarningHandler that keeps the Warning headers the API server sends (admission
// warnings, a ValidatingAdmissionPolicy's), for specs that read those of one request, or all of them.
type WarningRecorder struct {
	mu   sync.Mutex
	seen []string
}

func (w *WarningRecorder) HandleWarningHeader(_ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seen = append(w.seen, text)
}

// During returns the warnings received while fn ran (the specs that use it send one request at a time).
func (w *WarningRecorder) During(fn func()) []string {
	w.mu.Lock()
	start := len(w.seen)
	w.mu.Unlock()
	fn()
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.seen[start:]...)
}

// All returns every warning received.
func (w *WarningRecorder) All() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.seen...)
}
