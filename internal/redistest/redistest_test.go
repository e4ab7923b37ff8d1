package redistest

import (
	"context"
	"fmt"
	"testing"

	"github.com/alicebob/miniredis/v2"
	goredis "github.com/redis/go-redis/v9"
)

func TestDeleteKeys(t *testing.T) {
	mr := miniredis.RunT(t)
	c := goredis.NewClient(&goredis.Options{Addr: mr.Addr()})
	defer c.Close()
	ctx := context.Background()
	for i := range 1234 { // more than two batches, and a partial last one
		c.Set(ctx, fmt.Sprintf("koetest-1:{u:%d}:session", i), "x", 0)
	}
	c.Set(ctx, "koetest-2:keep", "x", 0)
	DeleteKeysAt(t, "redis://"+mr.Addr()+"/0", "koetest-1")
	if keys := mr.Keys(); len(keys) != 1 || keys[0] != "koetest-2:keep" {
		t.Errorf("left %d keys (%v…), want only the other prefix's", len(keys), keys[:min(3, len(keys))])
	}
}
