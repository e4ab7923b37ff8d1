package redis

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/koehq/koe"
)

// Versioned records (reports, cases, surveys) are hashes whose field "v"
// holds the version, authoritative over the JSON document in field "d".

// decodeVersioned decodes the v and d fields of a versioned record; set
// stores the version in it. what names the record in errors.
func decodeVersioned[T any](what string, v, d any, set func(*T, int64)) (T, error) {
	var zero, rec T
	var version int64
	switch x := v.(type) {
	case string:
		n, err := strconv.ParseInt(x, 10, 64)
		if err != nil {
			return zero, fmt.Errorf("decode %s version: %w", what, err)
		}
		version = n
	case int64:
		version = x
	default:
		return zero, fmt.Errorf("decode %s: no version", what)
	}
	data, _ := d.(string)
	if err := json.Unmarshal([]byte(data), &rec); err != nil {
		return zero, fmt.Errorf("decode %s: %w", what, err)
	}
	set(&rec, version)
	return rec, nil
}

// getVersioned reads the versioned record at key and decodes it; a missing
// record is koe.ErrNotFound.
func getVersioned[T any](ctx context.Context, s *Store, key string, decode func(v, d any) (T, error)) (T, error) {
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	vals, err := s.client.HMGet(ctx, key, "v", "d").Result()
	if err != nil {
		return zero, err
	}
	if vals[0] == nil {
		return zero, koe.ErrNotFound
	}
	return decode(vals[0], vals[1])
}
