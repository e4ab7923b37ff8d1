// Package redistest lets tests share a real Redis (KOE_TEST_REDIS_URL, or a
// cluster in KOE_TEST_REDIS_CLUSTER): each test writes under its own key
// prefix and removes those keys afterwards with SCAN and DEL — never
// FLUSHALL or FLUSHDB, since the server may be shared.
package redistest

import (
	"context"
	"testing"

	goredis "github.com/redis/go-redis/v9"
)

// DeleteKeys removes every key whose name contains prefix from c: from
// each master of a cluster client, or from the one server. Failures are
// test errors.
func DeleteKeys(t testing.TB, c goredis.UniversalClient, prefix string) {
	t.Helper()
	ctx := context.Background()
	var err error
	if cc, ok := c.(*goredis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, func(ctx context.Context, node *goredis.Client) error {
			return deleteMatching(ctx, node, prefix)
		})
	} else {
		err = deleteMatching(ctx, c, prefix)
	}
	if err != nil {
		t.Errorf("cleanup of redis prefix %s: %v", prefix, err)
	}
}

// DeleteKeysAt is DeleteKeys on the server at url (redis://…).
func DeleteKeysAt(t testing.TB, url, prefix string) {
	t.Helper()
	opts, err := goredis.ParseURL(url)
	if err != nil {
		t.Errorf("cleanup of redis prefix %s: %v", prefix, err)
		return
	}
	c := goredis.NewClient(opts)
	defer c.Close()
	DeleteKeys(t, c, prefix)
}

// DeleteClusterKeysAt is DeleteKeys on the cluster reached through addr.
func DeleteClusterKeysAt(t testing.TB, addr, prefix string) {
	t.Helper()
	c := goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: []string{addr}})
	defer c.Close()
	DeleteKeys(t, c, prefix)
}

// deleteMatching deletes the keys of one node that contain prefix, in
// batches.
func deleteMatching(ctx context.Context, c goredis.Cmdable, prefix string) error {
	iter := c.Scan(ctx, 0, "*"+prefix+"*", 1000).Iterator()
	var batch []string
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := c.Del(ctx, batch...).Err()
		batch = batch[:0]
		return err
	}
	for iter.Next(ctx) {
		batch = append(batch, iter.Val())
		if len(batch) == 500 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := iter.Err(); err != nil {
		return err
	}
	return flush()
}
