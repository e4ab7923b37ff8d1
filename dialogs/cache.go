package dialogs

import (
	"sync"
	"time"

	"github.com/koehq/koe"
)

// sessionCache remembers the last session this engine saved for each user,
// so the common case (this process also handled the user's previous
// message) needs no store read. It is only a hint: SaveSession's version
// check rejects a step computed on a stale entry, after which the engine
// loads from the store and redoes the step, and a step that produces effects
// is never executed on a cached session. Safe for concurrent use.
type sessionCache struct {
	mu  sync.Mutex
	max int
	m   map[koe.UserID]koe.Session
}

func newSessionCache(max int) *sessionCache {
	return &sessionCache{max: max, m: make(map[koe.UserID]koe.Session)}
}

// get returns the cached session of user if it has not expired at now.
func (c *sessionCache) get(user koe.UserID, now time.Time) (koe.Session, bool) {
	if c == nil {
		return koe.Session{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.m[user]
	if ok && !s.ExpiresAt.After(now) {
		delete(c.m, user)
		return koe.Session{}, false
	}
	return s, ok
}

// put remembers s, evicting arbitrary entries when full.
func (c *sessionCache) put(s koe.Session) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[s.User]; !ok && len(c.m) >= c.max {
		n := len(c.m)/8 + 1
		for u := range c.m { // map order is random enough for eviction
			delete(c.m, u)
			if n--; n == 0 {
				break
			}
		}
	}
	c.m[s.User] = s
}

func (c *sessionCache) forget(user koe.UserID) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, user)
}
