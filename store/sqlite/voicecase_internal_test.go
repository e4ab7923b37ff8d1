package sqlite

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestVoiceCaseQueriesUseIndexes checks that the filtered listings and the
// alert lookup are served by the 0003 indexes, not by scanning the tables.
func TestVoiceCaseQueriesUseIndexes(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "koe.db"), Options{Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	for _, tc := range []struct {
		query string
		args  []any
		index string
		sorts bool // a sort of the (few) matches is fine
	}{
		{"SELECT data FROM voices WHERE at >= ?1 AND at < ?2 ORDER BY at DESC, id DESC LIMIT ?3", []any{1, 2, 10}, "voices_at", false},
		{"SELECT data FROM voices WHERE kind = ?1 ORDER BY at DESC, id DESC LIMIT ?2", []any{"complaint", 10}, "voices_kind", false},
		{"SELECT version, data FROM cases WHERE status = ?1 ORDER BY created_at DESC, ref DESC LIMIT ?2", []any{"received", 10}, "cases_status", false},
		{"SELECT version, data FROM cases WHERE user = ?1 ORDER BY created_at DESC, ref DESC LIMIT ?2", []any{"line:U1", 10}, "cases_user", false},
		{"SELECT version, data FROM cases WHERE type = ?1 ORDER BY created_at DESC, ref DESC LIMIT ?2", []any{"inquiry", 10}, "cases_type", false},
		{"SELECT version, data FROM cases ORDER BY created_at DESC, ref DESC LIMIT ?1", []any{10}, "cases_created", false},
		{caseByAlertSQL, []any{"C0", "1.2"}, "cases_alert", true},
	} {
		rows, err := s.rdb.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+tc.query, tc.args...)
		if err != nil {
			t.Fatalf("%s: %v", tc.query, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		joined := strings.Join(plan, "; ")
		if !strings.Contains(joined, tc.index) || (!tc.sorts && strings.Contains(joined, "TEMP B-TREE")) {
			t.Errorf("%s:\nplan %q, want index %s without a sort", tc.query, joined, tc.index)
		}
	}
}
