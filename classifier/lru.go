package classifier

import (
	"container/list"
	"sync"
)

// lru is a bounded least-recently-used cache of results, safe for
// concurrent use. Keys are hashes of texts, never the texts themselves.
type lru struct {
	mu    sync.Mutex
	max   int
	ll    *list.List
	items map[[32]byte]*list.Element
}

type lruEntry struct {
	key [32]byte
	val Result
}

func newLRU(max int) *lru {
	return &lru{max: max, ll: list.New(), items: make(map[[32]byte]*list.Element)}
}

func (c *lru) get(k [32]byte) (Result, bool) {
	if c == nil || c.max <= 0 {
		return Result{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.items[k]
	if !ok {
		return Result{}, false
	}
	c.ll.MoveToFront(e)
	return e.Value.(*lruEntry).val, true
}

func (c *lru) put(k [32]byte, v Result) {
	if c == nil || c.max <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[k]; ok {
		e.Value.(*lruEntry).val = v
		c.ll.MoveToFront(e)
		return
	}
	c.items[k] = c.ll.PushFront(&lruEntry{key: k, val: v})
	for c.ll.Len() > c.max {
		old := c.ll.Back()
		c.ll.Remove(old)
		delete(c.items, old.Value.(*lruEntry).key)
	}
}

func (c *lru) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}
