-- FAQ answers: the JSON of koe.FAQAnswer, rewritten whole by a mark; id,
-- user, entry and at are the authoritative copies used for uniqueness and
-- the time-range listing.
CREATE TABLE faq_answers (
	id    TEXT PRIMARY KEY,
	user  TEXT NOT NULL,
	entry TEXT NOT NULL,
	at    INTEGER NOT NULL, -- unix nanoseconds
	data  BLOB NOT NULL
);
CREATE INDEX faq_answers_at ON faq_answers (at, id);
