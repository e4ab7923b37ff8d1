-- Accident reports: the JSON of koe.AccidentReport; ref, key, user,
-- submitted_at and version are the authoritative copies used for lookups,
-- uniqueness and optimistic writes.
CREATE TABLE reports (
	ref          TEXT PRIMARY KEY,
	key          TEXT NOT NULL UNIQUE,
	user         TEXT NOT NULL,
	submitted_at INTEGER NOT NULL, -- unix nanoseconds
	version      INTEGER NOT NULL,
	data         BLOB NOT NULL
);
CREATE INDEX reports_user ON reports (user, submitted_at DESC, ref DESC);

-- The follow-up queue: one row per pending job (ready, leased or waiting
-- for a retry). A job is claimable when available_at <= now; a lease sets
-- available_at to its expiry, a retry to the end of its delay.
CREATE TABLE jobs (
	id           TEXT PRIMARY KEY,
	data         BLOB NOT NULL, -- JSON of koe.Job
	enqueued_at  INTEGER NOT NULL, -- unix nanoseconds
	available_at INTEGER NOT NULL, -- unix nanoseconds
	attempts     INTEGER NOT NULL DEFAULT 0, -- deliveries so far
	lease        TEXT,
	owner        TEXT
);
CREATE INDEX jobs_available_at ON jobs (available_at);
CREATE INDEX jobs_enqueued_at ON jobs (enqueued_at);

-- Ids of jobs completed or dead-lettered, kept koe.DedupeWindow.
CREATE TABLE jobs_dedupe (
	id          TEXT PRIMARY KEY,
	finished_at INTEGER NOT NULL -- unix nanoseconds
);
CREATE INDEX jobs_dedupe_finished_at ON jobs_dedupe (finished_at);

-- Jobs that kept failing, kept for inspection.
CREATE TABLE jobs_dead (
	n        INTEGER PRIMARY KEY AUTOINCREMENT,
	id       TEXT NOT NULL,
	data     BLOB NOT NULL,
	attempts INTEGER NOT NULL,
	reason   TEXT NOT NULL,
	dead_at  INTEGER NOT NULL -- unix nanoseconds
);
