package lookups

import (
	"sync"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"
)

// DefaultAbsenceTTL is how long a miss confirmed by the API server is believed without asking again. It is short:
// the cache is asked first on every lookup, so an object created meanwhile is found as soon as the informer has
// it (milliseconds), and the window only spares the API server repeated GETs for the same missing object (a burst
// of admissions naming a Secret that does not exist, or someone posting AdmissionReviews directly).
const DefaultAbsenceTTL = 2 * time.Second

// maxRememberedAbsences bounds the memory of confirmed misses whatever names requests make up.
const maxRememberedAbsences = 1024

type absenceKey struct {
	kind string
	key  client.ObjectKey
}

// absences remembers misses the API server confirmed, each until it expires.
type absences struct {
	mu      sync.Mutex
	ttl     time.Duration
	now     func() time.Time
	expires map[absenceKey]time.Time
}

func (a *absences) confirmed(k absenceKey) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	exp, ok := a.expires[k]
	if ok && a.now().Before(exp) {
		return true
	}
	delete(a.expires, k)
	return false
}

func (a *absences) remember(k absenceKey) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.expires == nil {
		a.expires = map[absenceKey]time.Time{}
	}
	if len(a.expires) >= maxRememberedAbsences {
		now := a.now()
		for key, exp := range a.expires {
			if !now.Before(exp) {
				delete(a.expires, key)
			}
		}
		if len(a.expires) >= maxRememberedAbsences {
			clear(a.expires) // all fresh: forgetting costs a few GETs, never a wrong answer
		}
	}
	a.expires[k] = a.now().Add(a.ttl)
}
