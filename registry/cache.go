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

// resultCache is a size-bounded LRU map with per-entry expiry. One host may hold at most perHost entries: a burst
// of distinct repositories on one registry (a typo loop, or someone probing names) then evicts that host's own
// entries and never the verdicts for everyone else's registries.
type resultCache struct {
	mu      sync.Mutex
	max     int
	perHost int
	entries map[cacheKey]*list.Element
	order   *list.List // front: used longest ago
	byHost  map[string]int
}

func newResultCache(size int) *resultCache {
	return &resultCache{
		max: size, perHost: max(1, size/8),
		entries: map[cacheKey]*list.Element{}, order: list.New(), byHost: map[string]int{},
	}
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
	c.order.MoveToBack(el)
	return e.result, true
}

func (c *resultCache) put(key cacheKey, r Result, expires time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[key]; ok {
		c.remove(el)
	}
	if c.byHost[key.host] >= c.perHost {
		c.remove(c.leastRecentOf(key.host))
	}
	for c.order.Len() >= c.max {
		c.remove(c.order.Front())
	}
	c.entries[key] = c.order.PushBack(&cacheEntry{key: key, result: r, expires: expires})
	c.byHost[key.host]++
}

func (c *resultCache) leastRecentOf(host string) *list.Element {
	for el := c.order.Front(); el != nil; el = el.Next() {
		if el.Value.(*cacheEntry).key.host == host {
			return el
		}
	}
	return nil // unreachable while byHost counts the list
}

func (c *resultCache) remove(el *list.Element) {
	key := el.Value.(*cacheEntry).key
	c.order.Remove(el)
	delete(c.entries, key)
	if c.byHost[key.host]--; c.byHost[key.host] <= 0 {
		delete(c.byHost, key.host)
	}
}

func (c *resultCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
