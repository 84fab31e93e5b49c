package webhook

import (
	"net/http"

	"golang.org/x/sync/semaphore"
)

// MaxRequestBytes is the largest AdmissionReview controller-runtime reads (two objects of at most 3 MB each, and
// the rest; sigs.k8s.io/controller-runtime pkg/webhook/admission/http.go maxRequestSize).
const MaxRequestBytes = 7 << 20

// DefaultInFlightBytes bounds the request bodies decoded at once. Decoding costs about four times the body (the
// read buffer, the AdmissionReview's raw object, the decoded MachineOSConfig), so this keeps the decoding of
// requests near 64 MiB however many oversized ones arrive together, while still letting through about 1,600
// ordinary (~10 KiB) ones side by side.
const DefaultInFlightBytes = 16 << 20

// LimitInFlightBytes admits requests into next while the bodies already inside total at most budget bytes; the
// others wait for room until their own deadline (the API server's webhook timeout). A body of unknown length is
// counted as the largest one allowed.
func LimitInFlightBytes(next http.Handler, budget int64) http.Handler {
	room := semaphore.NewWeighted(budget)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		weight := r.ContentLength
		if weight <= 0 || weight > MaxRequestBytes {
			weight = MaxRequestBytes
		}
		weight = min(weight, budget)
		if err := room.Acquire(r.Context(), weight); err != nil {
			http.Error(w, "too many large admission requests in flight; retry", http.StatusServiceUnavailable)
			return
		}
		defer room.Release(weight)
		next.ServeHTTP(w, r)
	})
}
