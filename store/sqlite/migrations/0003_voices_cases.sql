-- Voices: the JSON of koe.Voice; id, user, kind and at are the
-- authoritative copies used for uniqueness and the filtered listing.
CREATE TABLE voices (
	id   TEXT PRIMARY KEY,
	user TEXT NOT NULL,
	kind TEXT NOT NULL,
	at   INTEGER NOT NULL, -- unix nanoseconds
	data BLOB NOT NULL
);
CREATE INDEX voices_at ON voices (at DESC, id DESC);
CREATE INDEX voices_kind ON voices (kind, at DESC, id DESC);

-- Cases: the JSON of koe.Case; the other columns are the authoritative
-- copies used for lookups, uniqueness, filters and optimistic writes.
CREATE TABLE cases (
	ref           TEXT PRIMARY KEY,
	key           TEXT NOT NULL UNIQUE,
	user          TEXT NOT NULL,
	type          TEXT NOT NULL,
	status        TEXT NOT NULL,
	created_at    INTEGER NOT NULL, -- unix nanoseconds
	alert_channel TEXT,             -- NULL without an alert
	alert_ts      TEXT,
	version       INTEGER NOT NULL,
	data          BLOB NOT NULL
);
CREATE INDEX cases_created ON cases (created_at DESC, ref DESC);
CREATE INDEX cases_status ON cases (status, created_at DESC, ref DESC);
CREATE INDEX cases_type ON cases (type, created_at DESC, ref DESC);
CREATE INDEX cases_user ON cases (user, created_at DESC, ref DESC);
CREATE INDEX cases_alert ON cases (alert_channel, alert_ts) WHERE alert_channel IS NOT NULL;
