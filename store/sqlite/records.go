package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
)

// decodeJSON decodes a record stored as a JSON document; set, when not nil,
// stores the row's version column (authoritative over the document's) in
// it. what names the record in errors.
func decodeJSON[T any](what string, version int64, data []byte, set func(*T, int64)) (T, error) {
	var v T
	if err := json.Unmarshal(data, &v); err != nil {
		var zero T
		return zero, fmt.Errorf("decode %s: %w", what, err)
	}
	if set != nil {
		set(&v, version)
	}
	return v, nil
}

// queryRecords runs q, whose rows are (version, data) when versioned and
// (data) otherwise, and decodes each row with decode; it returns an empty,
// non-nil slice when there are no rows.
func queryRecords[T any](ctx context.Context, db *sql.DB, versioned bool, decode func(version int64, data []byte) (T, error), q string, args ...any) ([]T, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		var (
			version int64
			data    []byte
		)
		dest := []any{&data}
		if versioned {
			dest = []any{&version, &data}
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		v, err := decode(version, data)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}
