package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"time"
)

// writeStmts are prepared once on the write connection.
type writeStmts struct {
	// sessions
	insertSession, updateSession, deleteSession *sql.Stmt
	// inbox
	dedupe, insertMessage, insertQueue  *sql.Stmt
	claim                               *sql.Stmt
	heldHead, deleteMessage, nextHead   *sql.Stmt
	moveHead, deleteQueue, releaseQueue *sql.Stmt
	buryMessage                         *sql.Stmt
	pruneSessions, pruneDedupe          *sql.Stmt
	savepoint, release, rollbackTo      *sql.Stmt
	all                                 []*sql.Stmt
}

func (ws *writeStmts) prepare(ctx context.Context, db *sql.DB) error {
	for _, p := range []struct {
		st  **sql.Stmt
		sql string
	}{
		// A version-0 save may replace only an expired row.
		{&ws.insertSession, `INSERT INTO sessions (user, version, expires_at, data) VALUES (?1, ?2, ?3, ?4)
			ON CONFLICT (user) DO UPDATE SET version = excluded.version, expires_at = excluded.expires_at, data = excluded.data
			WHERE sessions.expires_at <= ?5`},
		{&ws.updateSession, `UPDATE sessions SET version = ?1, expires_at = ?2, data = ?3
			WHERE user = ?4 AND version = ?5 AND expires_at > ?6`},
		{&ws.deleteSession, `DELETE FROM sessions WHERE user = ?1`},

		// An id is new when unknown or accepted before the window began.
		{&ws.dedupe, `INSERT INTO inbox_dedupe (id, accepted_at) VALUES (?1, ?2)
			ON CONFLICT (id) DO UPDATE SET accepted_at = excluded.accepted_at
			WHERE inbox_dedupe.accepted_at <= ?3`},
		{&ws.insertMessage, `INSERT INTO inbox (id, user, data) VALUES (?1, ?2, ?3)`},
		{&ws.insertQueue, `INSERT INTO inbox_queues (user, head_seq, available_at) VALUES (?1, ?2, ` + strconv.FormatInt(minNanos, 10) + `)
			ON CONFLICT (user) DO NOTHING`},
		// One statement leases the oldest ready heads; each lease is the
		// claim's unique prefix and the head's seq.
		{&ws.claim, claimSQL},
		{&ws.heldHead, `SELECT head_seq FROM inbox_queues WHERE user = ?1 AND lease = ?2`},
		{&ws.deleteMessage, `DELETE FROM inbox WHERE seq = ?1`},
		{&ws.nextHead, `SELECT seq FROM inbox WHERE user = ?1 ORDER BY seq LIMIT 1`},
		{&ws.moveHead, `UPDATE inbox_queues SET head_seq = ?1, available_at = ` + strconv.FormatInt(minNanos, 10) + `, attempts = 0, lease = NULL, owner = NULL
			WHERE user = ?2`},
		{&ws.deleteQueue, `DELETE FROM inbox_queues WHERE user = ?1`},
		{&ws.releaseQueue, `UPDATE inbox_queues SET available_at = ?1, lease = NULL, owner = NULL WHERE user = ?2`},
		{&ws.buryMessage, `INSERT INTO inbox_dead (seq, id, user, attempts, data, reason, buried_at)
			SELECT i.seq, i.id, i.user, q.attempts, i.data, ?1, ?2
			FROM inbox i JOIN inbox_queues q ON q.user = i.user WHERE i.seq = ?3`},

		{&ws.savepoint, `SAVEPOINT op`},
		{&ws.release, `RELEASE op`},
		{&ws.rollbackTo, `ROLLBACK TO op`},

		{&ws.pruneSessions, `DELETE FROM sessions WHERE rowid IN
			(SELECT rowid FROM sessions WHERE expires_at <= ?1 LIMIT ?2)`},
		{&ws.pruneDedupe, `DELETE FROM inbox_dedupe WHERE rowid IN
			(SELECT rowid FROM inbox_dedupe WHERE accepted_at <= ?1 LIMIT ?2)`},
	} {
		st, err := db.PrepareContext(ctx, p.sql)
		if err != nil {
			ws.close()
			return fmt.Errorf("prepare %q: %w", firstLine(p.sql), err)
		}
		*p.st = st
		ws.all = append(ws.all, st)
	}
	return nil
}

func (ws *writeStmts) close() {
	for _, st := range ws.all {
		st.Close()
	}
	ws.all = nil
}

// readStmts are prepared on the read pool.
type readStmts struct {
	loadSession, depth, anyReady, messageData *sql.Stmt
	all                                       []*sql.Stmt
}

func (rs *readStmts) prepare(ctx context.Context, db *sql.DB) error {
	for _, p := range []struct {
		st  **sql.Stmt
		sql string
	}{
		{&rs.loadSession, `SELECT version, data FROM sessions WHERE user = ?1 AND expires_at > ?2`},
		{&rs.depth, `SELECT count(*) FROM inbox`},
		{&rs.messageData, `SELECT data FROM inbox WHERE seq = ?1`},
		{&rs.anyReady, `SELECT EXISTS (SELECT 1 FROM inbox_queues INDEXED BY inbox_queues_head WHERE available_at <= ?1)`},
	} {
		st, err := db.PrepareContext(ctx, p.sql)
		if err != nil {
			rs.close()
			return fmt.Errorf("prepare %q: %w", firstLine(p.sql), err)
		}
		*p.st = st
		rs.all = append(rs.all, st)
	}
	return nil
}

func (rs *readStmts) close() {
	for _, st := range rs.all {
		st.Close()
	}
	rs.all = nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// claimSQL leases up to ?5 of the oldest ready heads (available_at <= ?4)
// for owner ?2 until ?3; each lease is the claim's unique prefix ?1 and the
// head's seq. It walks inbox_queues_head in order, so its cost grows with
// the users it skips (those leased or delayed), not with pending messages.
const claimSQL = `UPDATE inbox_queues SET lease = ?1 || head_seq, owner = ?2, available_at = ?3, attempts = attempts + 1
			WHERE user IN (SELECT user FROM inbox_queues INDEXED BY inbox_queues_head
				WHERE available_at <= ?4 ORDER BY head_seq LIMIT ?5)
			RETURNING head_seq, lease, attempts`

// minNanos is "always available" for inbox_queues.available_at.
const minNanos = -1 << 63

//go:embed migrations/*.sql
var migrations embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations returns the embedded migrations in version order. A file
// is named NNNN_description.sql; versions must be unique.
func loadMigrations() ([]migration, error) {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, name := range names {
		base := strings.TrimPrefix(name, "migrations/")
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must start with a positive version and '_'", base)
		}
		b, err := migrations.ReadFile(name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: base, sql: string(b)})
	}
	slices.SortFunc(ms, func(a, b migration) int { return a.version - b.version })
	for i := 1; i < len(ms); i++ {
		if ms[i].version == ms[i-1].version {
			return nil, fmt.Errorf("migrations %s and %s share version %d", ms[i-1].name, ms[i].name, ms[i].version)
		}
	}
	return ms, nil
}

// migrate applies the migrations newer than the database's schema_version,
// each in its own immediate transaction, so concurrent openers apply each
// migration once. It is idempotent.
func migrate(ctx context.Context, db *sql.DB) error {
	ms, err := loadMigrations()
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, m := range ms {
		if err := applyMigration(ctx, db, m); err != nil {
			return fmt.Errorf("migrate %s: %w", m.name, err)
		}
	}
	return nil
}

func applyMigration(ctx context.Context, db *sql.DB, m migration) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_version WHERE version = ?`, m.version).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)`,
		m.version, m.name, time.Now().UTC().Format(time.RFC3339)); err != nil {
		return err
	}
	return tx.Commit()
}
