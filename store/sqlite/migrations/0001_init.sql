-- Sessions: the JSON of koe.Session; version and expires_at are the
-- authoritative copies used for optimistic writes and expiry.
CREATE TABLE sessions (
	user       TEXT PRIMARY KEY,
	version    INTEGER NOT NULL,
	expires_at INTEGER NOT NULL, -- unix nanoseconds
	data       BLOB NOT NULL
);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

-- Message ids accepted by the inbox, kept at least koe.DedupeWindow.
-- Maintained by the inbox_accept trigger.
CREATE TABLE inbox_dedupe (
	id          TEXT PRIMARY KEY,
	accepted_at INTEGER NOT NULL -- unix nanoseconds
) WITHOUT ROWID;
CREATE INDEX inbox_dedupe_accepted_at ON inbox_dedupe (accepted_at);

-- Pending messages (not yet acked or buried). AUTOINCREMENT: a seq is never
-- reused, so it is a stable position.
CREATE TABLE inbox (
	seq         INTEGER PRIMARY KEY AUTOINCREMENT,
	id          TEXT NOT NULL,
	user        TEXT NOT NULL,
	accepted_at INTEGER NOT NULL, -- unix nanoseconds
	data        BLOB NOT NULL -- JSON of koe.Message, never updated
);
CREATE INDEX inbox_user_seq ON inbox (user, seq);

-- One row per user with pending messages: the head of the user's queue and
-- its lease. A user is claimable when available_at <= now; a lease sets
-- available_at to its expiry, a release to the end of its delay. Claim walks
-- inbox_queues_head in head order, so it stays cheap however many messages
-- wait behind each head. Maintained by the triggers below, except for
-- leases.
CREATE TABLE inbox_queues (
	user         TEXT PRIMARY KEY,
	head_seq     INTEGER NOT NULL,
	available_at INTEGER NOT NULL, -- unix nanoseconds
	attempts     INTEGER NOT NULL DEFAULT 0, -- claims of the head message
	lease        TEXT,
	owner        TEXT
) WITHOUT ROWID;
CREATE INDEX inbox_queues_head ON inbox_queues (head_seq, available_at, user);

-- A new message remembers its id and joins its user's queue, heading it
-- (ready at once) when the user had none. In SQL so that an append is one
-- statement.
CREATE TRIGGER inbox_accept AFTER INSERT ON inbox BEGIN
	INSERT INTO inbox_dedupe (id, accepted_at) VALUES (new.id, new.accepted_at)
		ON CONFLICT (id) DO UPDATE SET accepted_at = excluded.accepted_at;
	INSERT INTO inbox_queues (user, head_seq, available_at) VALUES (new.user, new.seq, -9223372036854775808)
		ON CONFLICT (user) DO NOTHING;
END;

-- Removing a queue's head (ack, bury) makes the user's next message the
-- head, ready at once and unleased, or removes the queue when none is left.
CREATE TRIGGER inbox_advance AFTER DELETE ON inbox BEGIN
	DELETE FROM inbox_queues WHERE user = old.user AND head_seq = old.seq
		AND NOT EXISTS (SELECT 1 FROM inbox WHERE user = old.user);
	UPDATE inbox_queues SET head_seq = (SELECT seq FROM inbox WHERE user = old.user ORDER BY seq LIMIT 1),
			available_at = -9223372036854775808, attempts = 0, lease = NULL, owner = NULL
		WHERE user = old.user AND head_seq = old.seq;
END;

-- Messages that could not be processed, kept for inspection.
CREATE TABLE inbox_dead (
	seq       INTEGER PRIMARY KEY,
	id        TEXT NOT NULL,
	user      TEXT NOT NULL,
	attempts  INTEGER NOT NULL,
	data      BLOB NOT NULL,
	reason    TEXT NOT NULL,
	buried_at INTEGER NOT NULL -- unix nanoseconds
);
