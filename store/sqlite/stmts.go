package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"time"
)

// writeStmts are prepared once on the writer's driver connection and used
// only by the writer goroutine, inside its Raw callback.
type writeStmts struct {
	conn driver.ConnPrepareContext
	// transaction control
	begin, commit, rollback        *dstmt
	savepoint, release, rollbackTo *dstmt
	// sessions
	insertSession, updateSession, deleteSession *dstmt
	// inbox
	appendMessage, ackHead, releaseHead, buryHead *dstmt
	pruneSessions, pruneDedupe                    *dstmt
	// claims holds one claim statement per LIMIT up to maxClaimStmts
	// (prepared on first use); claim binds the limit for larger ones.
	// A bound LIMIT makes SQLite plan the statement again on every new
	// value, which costs more than the claim itself.
	claims [maxClaimStmts + 1]*dstmt
	claim  *dstmt
	// adhoc caches the statements run as SQL text (adhocTx).
	adhoc map[string]*dstmt
	all   []*dstmt
}

// maxAdhoc bounds the statements adhocTx keeps prepared; beyond it, a new
// text is prepared and closed for each call.
const maxAdhoc = 256

// maxClaimStmts bounds the claim statements prepared per LIMIT.
const maxClaimStmts = 64

func (ws *writeStmts) prepare(ctx context.Context, conn driver.ConnPrepareContext) error {
	ws.conn = conn
	for _, p := range []struct {
		st  **dstmt
		sql string
	}{
		{&ws.begin, `BEGIN IMMEDIATE`},
		{&ws.commit, `COMMIT`},
		{&ws.rollback, `ROLLBACK`},
		{&ws.savepoint, `SAVEPOINT op`},
		{&ws.release, `RELEASE op`},
		{&ws.rollbackTo, `ROLLBACK TO op`},

		// A version-0 save may replace only an expired row.
		{&ws.insertSession, `INSERT INTO sessions (user, version, expires_at, data) VALUES (?1, ?2, ?3, ?4)
			ON CONFLICT (user) DO UPDATE SET version = excluded.version, expires_at = excluded.expires_at, data = excluded.data
			WHERE sessions.expires_at <= ?5`},
		{&ws.updateSession, `UPDATE sessions SET version = ?1, expires_at = ?2, data = ?3
			WHERE user = ?4 AND version = ?5 AND expires_at > ?6`},
		{&ws.deleteSession, `DELETE FROM sessions WHERE user = ?1`},

		// An id is new when unknown or accepted before the window
		// began. The inbox_accept trigger records the id and queues the
		// message.
		{&ws.appendMessage, `INSERT INTO inbox (id, user, accepted_at, data) SELECT ?1, ?2, ?3, ?4
			WHERE NOT EXISTS (SELECT 1 FROM inbox_dedupe WHERE id = ?1 AND accepted_at > ?5)`},
		// One statement leases the oldest ready heads; each lease is the
		// claim's unique prefix and the head's seq.
		{&ws.claim, claimSQL},
		// The head held by lease ?2 (and, unless ?3 is 0, of seq ?3);
		// deleting it fires inbox_advance.
		{&ws.ackHead, `DELETE FROM inbox WHERE seq = (SELECT head_seq FROM inbox_queues
			WHERE user = ?1 AND lease = ?2 AND (?3 = 0 OR head_seq = ?3))`},
		{&ws.releaseHead, `UPDATE inbox_queues SET available_at = ?4, lease = NULL, owner = NULL
			WHERE user = ?1 AND lease = ?2 AND (?3 = 0 OR head_seq = ?3)`},
		{&ws.buryHead, `INSERT INTO inbox_dead (seq, id, user, attempts, data, reason, buried_at)
			SELECT i.seq, i.id, i.user, q.attempts, i.data, ?4, ?5
			FROM inbox_queues q JOIN inbox i ON i.seq = q.head_seq
			WHERE q.user = ?1 AND q.lease = ?2 AND (?3 = 0 OR q.head_seq = ?3)`},

		{&ws.pruneSessions, `DELETE FROM sessions WHERE rowid IN
			(SELECT rowid FROM sessions WHERE expires_at <= ?1 LIMIT ?2)`},
		{&ws.pruneDedupe, `DELETE FROM inbox_dedupe WHERE id IN
			(SELECT id FROM inbox_dedupe WHERE accepted_at <= ?1 LIMIT ?2)`},
	} {
		st, err := ws.prepareOne(ctx, p.sql)
		if err != nil {
			ws.close()
			return err
		}
		*p.st = st
	}
	return nil
}

func (ws *writeStmts) prepareOne(ctx context.Context, query string) (*dstmt, error) {
	ds, err := ws.conn.PrepareContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("prepare %q: %w", firstLine(query), err)
	}
	ex, ok1 := ds.(driver.StmtExecContext)
	qu, ok2 := ds.(driver.StmtQueryContext)
	if !ok1 || !ok2 {
		ds.Close()
		return nil, fmt.Errorf("prepare %q: driver statement %T lacks context methods", firstLine(query), ds)
	}
	st := &dstmt{st: ds, ex: ex, qu: qu}
	ws.all = append(ws.all, st)
	return st, nil
}

// claimFor returns the claim statement for LIMIT max and whether it binds
// the limit (as ?5) itself.
func (ws *writeStmts) claimFor(ctx context.Context, max int) (*dstmt, bool, error) {
	if max > maxClaimStmts {
		return ws.claim, true, nil
	}
	if st := ws.claims[max]; st != nil {
		return st, false, nil
	}
	st, err := ws.prepareOne(ctx, strings.Replace(claimSQL, "LIMIT ?5", "LIMIT "+strconv.Itoa(max), 1))
	if err != nil {
		return nil, false, err
	}
	ws.claims[max] = st
	return st, false, nil
}

func (ws *writeStmts) close() {
	for _, st := range ws.all {
		st.st.Close()
	}
	ws.all = nil
	ws.claims = [maxClaimStmts + 1]*dstmt{}
	ws.adhoc = nil
}

// adhocTx runs SQL text inside the batch transaction with the method set
// of *sql.Tx that ops use. Each distinct text is prepared once.
type adhocTx struct{ ws *writeStmts }

// stmt returns the prepared statement for query and a function that
// releases it (closing it when it is not cached).
func (t adhocTx) stmt(ctx context.Context, query string) (*dstmt, func(), error) {
	if st, ok := t.ws.adhoc[query]; ok {
		return st, func() {}, nil
	}
	st, err := t.ws.prepareOne(ctx, query)
	if err != nil {
		return nil, nil, err
	}
	if len(t.ws.adhoc) < maxAdhoc {
		if t.ws.adhoc == nil {
			t.ws.adhoc = make(map[string]*dstmt)
		}
		t.ws.adhoc[query] = st
		return st, func() {}, nil
	}
	t.ws.all = t.ws.all[:len(t.ws.all)-1] // prepareOne appended it
	return st, func() { st.st.Close() }, nil
}

func (t adhocTx) ExecContext(ctx context.Context, query string, args ...any) (driver.Result, error) {
	st, done, err := t.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	defer done()
	return st.exec(ctx, args...)
}

// QueryContext returns the rows of query; the caller must Close them
// before the op returns.
func (t adhocTx) QueryContext(ctx context.Context, query string, args ...any) (*rows, error) {
	st, done, err := t.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	r, err := st.query(ctx, args...)
	if err != nil {
		done()
		return nil, err
	}
	r.done = done
	return r, nil
}

func (t adhocTx) QueryRowContext(ctx context.Context, query string, args ...any) row {
	r, err := t.QueryContext(ctx, query, args...)
	return row{rows: r, err: err}
}

// dstmt is a statement prepared on the writer's driver connection. Using
// the driver directly skips database/sql's per-call locking, conversions
// and per-transaction statement copies; the writer is the only user.
type dstmt struct {
	st driver.Stmt
	ex driver.StmtExecContext
	qu driver.StmtQueryContext
}

// named converts args to the driver's ordinal arguments.
func named(args []any) []driver.NamedValue {
	nv := make([]driver.NamedValue, len(args))
	for i, a := range args {
		if n, ok := a.(int); ok {
			a = int64(n)
		}
		nv[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
	}
	return nv
}

func (st *dstmt) exec(ctx context.Context, args ...any) (driver.Result, error) {
	return st.ex.ExecContext(ctx, named(args))
}

func (st *dstmt) query(ctx context.Context, args ...any) (*rows, error) {
	r, err := st.qu.QueryContext(ctx, named(args))
	if err != nil {
		return nil, err
	}
	return &rows{rows: r}, nil
}

// rows iterates a driver result set like sql.Rows.
type rows struct {
	rows driver.Rows
	vals []driver.Value
	err  error
	done func() // if set, called once by Close
}

func (r *rows) Next() bool {
	if r.err != nil {
		return false
	}
	if r.vals == nil {
		r.vals = make([]driver.Value, len(r.rows.Columns()))
	}
	if err := r.rows.Next(r.vals); err != nil {
		if err != io.EOF {
			r.err = err
		}
		return false
	}
	return true
}

func (r *rows) Err() error { return r.err }

func (r *rows) Close() error {
	err := r.rows.Close()
	if r.done != nil {
		r.done()
		r.done = nil
	}
	return err
}

// Scan copies the current row into dest, which may hold *int64, *int,
// *string, *[]byte and *bool; NULL becomes the zero value.
func (r *rows) Scan(dest ...any) error {
	if len(dest) != len(r.vals) {
		return fmt.Errorf("scan: %d destinations for %d columns", len(dest), len(r.vals))
	}
	for i, d := range dest {
		if err := assign(d, r.vals[i]); err != nil {
			return fmt.Errorf("scan column %d: %w", i, err)
		}
	}
	return nil
}

func assign(dest any, v driver.Value) error {
	switch d := dest.(type) {
	case *int64:
		n, ok := v.(int64)
		if !ok && v != nil {
			return fmt.Errorf("%T into *int64", v)
		}
		*d = n
	case *int:
		n, ok := v.(int64)
		if !ok && v != nil {
			return fmt.Errorf("%T into *int", v)
		}
		*d = int(n)
	case *bool:
		n, ok := v.(int64)
		if !ok && v != nil {
			return fmt.Errorf("%T into *bool", v)
		}
		*d = n != 0
	case *string:
		switch x := v.(type) {
		case string:
			*d = x
		case []byte:
			*d = string(x)
		case int64:
			*d = strconv.FormatInt(x, 10)
		case nil:
			*d = ""
		default:
			return fmt.Errorf("%T into *string", v)
		}
	case *[]byte:
		switch x := v.(type) {
		case []byte:
			*d = x
		case string:
			*d = []byte(x)
		case nil:
			*d = nil
		default:
			return fmt.Errorf("%T into *[]byte", v)
		}
	default:
		return fmt.Errorf("unsupported destination %T", dest)
	}
	return nil
}

// row is the first row of a query, like sql.Row.
type row struct {
	rows *rows
	err  error
}

// Scan copies the first row into dest, or returns sql.ErrNoRows.
func (r row) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	defer r.rows.Close()
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return sql.ErrNoRows
	}
	return r.rows.Scan(dest...)
}

// readStmts are prepared on the read pool.
type readStmts struct {
	loadSession, depth, anyReady *sql.Stmt
	all                          []*sql.Stmt
}

func (rs *readStmts) prepare(ctx context.Context, db *sql.DB) error {
	for _, p := range []struct {
		st  **sql.Stmt
		sql string
	}{
		{&rs.loadSession, `SELECT version, data FROM sessions WHERE user = ?1 AND expires_at > ?2`},
		{&rs.depth, `SELECT count(*) FROM inbox`},
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
// It returns each head's message too: reading it inside the statement costs
// less than a query per message afterwards.
const claimSQL = `UPDATE inbox_queues SET lease = ?1 || head_seq, owner = ?2, available_at = ?3, attempts = attempts + 1
			WHERE user IN (SELECT user FROM inbox_queues INDEXED BY inbox_queues_head
				WHERE available_at <= ?4 ORDER BY head_seq LIMIT ?5)
			RETURNING head_seq, lease, attempts, (SELECT data FROM inbox WHERE seq = head_seq)`

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
