-- Surveys: the JSON of koe.Survey, rewritten whole by an update; id, key,
-- user, touchpoint and sent_at are the authoritative copies used for
-- uniqueness, the fatigue check and the filtered listing.
CREATE TABLE surveys (
	id         TEXT PRIMARY KEY,
	key        TEXT NOT NULL UNIQUE,
	user       TEXT NOT NULL,
	touchpoint TEXT NOT NULL,
	sent_at    INTEGER NOT NULL, -- unix nanoseconds
	version    INTEGER NOT NULL,
	data       BLOB NOT NULL
);
CREATE INDEX surveys_user_sent ON surveys (user, sent_at);
CREATE INDEX surveys_sent ON surveys (sent_at, id);

-- Who can be messaged: the newest follow or unfollow seen per user.
CREATE TABLE follows (
	user      TEXT PRIMARY KEY,
	following INTEGER NOT NULL,
	at        INTEGER NOT NULL -- unix nanoseconds
);
