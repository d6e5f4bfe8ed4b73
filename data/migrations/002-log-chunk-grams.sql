-- 002: brings the index to schema version 2.
-- Per-chunk trigram filters of the searchable text of the lines starting in
-- each chunk (core/logstore.h), so a search can pass over chunks that cannot
-- match. Logs stored before have no rows here and are searched whole.
-- bits: a version byte, then a bitset.
CREATE TABLE log_chunk_grams (
	log_id INTEGER NOT NULL REFERENCES logs(id) ON DELETE CASCADE,
	seq    INTEGER NOT NULL,
	bits   BLOB NOT NULL,
	PRIMARY KEY (log_id, seq)
);
