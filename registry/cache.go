package registry

import (
	"container/list"
	"sync"
	"time"
)

// cacheKey identifies one probe: a new secret resourceVersion is a new key, so edited credentials are probed anew.
type cacheKey struct {
	host, repository, credentialVersion string
}

func (k cacheKey) String() string {
	return k.host + "\x00" + k.repository + "\x00" + k.credentialVersion
}

type cacheEntry struct {
	key     cacheKey
	result  Result
	expires time.Time
}

// resultCache is a size-bounded map with per-entry expiry. When full it evicts the entry stored longest ago, which
// needs no bookkeeping on reads and is what matters here: old entries are the ones closest to expiring anyway.
type resultCache struct {
	mu      sync.Mutex
	max     int
	entries map[cacheKey]*list.Element
	order   *list.List // front: stored longest ago
}

func newResultCache(max int) *resultCache {
	return &resultCache{max: max, entries: map[cacheKey]*list.Element{}, order: list.New()}
}

func (c *resultCache) get(key cacheKey, now time.Time) (Result, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[key]
	if !ok {
		return Result{}, false
	}
	e := el.Value.(*cacheEntry)
	if !now.Before(e.expires) {
		c.remove(el)
		return Result{}, false
	}
	return e.result, true
}

func (c *resultCache) put(key cacheKey, r Result, expires time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[key]; ok {
		c.remove(el)
	}
	for c.order.Len() >= c.max {
		c.remove(c.order.Front())
	}
	c.entries[key] = c.order.PushBack(&cacheEntry{key: key, result: r, expires: expires})
}

func (c *resultCache) remove(el *list.Element) {
	c.order.Remove(el)
	delete(c.entries, el.Value.(*cacheEntry).key)
}

func (c *resultCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
