package webhook

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// Parallel oversized bodies could each cost ~150 MB and OOM-kill both replicas in turn; the bytes decoded at once
// are bounded, and the others wait.
func TestLimitInFlightBytesHoldsBackBodiesOverTheBudget(t *testing.T) {
	release := make(chan struct{})
	var inside, most atomic.Int64
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inside.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		<-release
		inside.Add(-1)
	})
	const body = 3 << 20
	h := LimitInFlightBytes(slow, 8<<20) // room for two 3 MiB bodies
	done := make(chan int, 5)
	for range 5 {
		go func() {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(make([]byte, body))))
			done <- rec.Code
		}()
	}
	for inside.Load() < 2 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // give a third request the chance to get in, which it must not
	if n := inside.Load(); n != 2 {
		t.Fatalf("%d requests inside, want 2", n)
	}
	close(release)
	for range 5 {
		if code := <-done; code != http.StatusOK {
			t.Errorf("status %d", code)
		}
	}
	if most.Load() != 2 {
		t.Errorf("at most %d requests were inside at once, want 2", most.Load())
	}
}

func TestLimitInFlightBytesGivesUpAtTheCallersDeadline(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	h := LimitInFlightBytes(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-block }), MaxRequestBytes)
	go h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/", http.NoBody)) // unknown length: the whole budget
	time.Sleep(20 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", bytes.NewReader([]byte("{}"))).WithContext(ctx))
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("status %d, want 503", rec.Code)
	}
}
