-- 004: brings the index to schema version 4: word filters for search.
-- Per log chunk, a Bloom filter of the 6-grams of word characters of its
-- lines (core/logstore.h), cut into parts by hash so a search reads one small
-- row per chunk per 6-gram (the rows of one part of a log's chunks are
-- neighbours: one range read per 6-gram). Trigrams cannot tell hex ids, shas
-- and digests apart; 6-grams can. Logs stored before have no rows here and
-- keep their trigram filters (log_chunk_grams).
CREATE TABLE log_chunk_words (
	log_id  INTEGER NOT NULL REFERENCES logs(id) ON DELETE CASCADE,
	seq     INTEGER NOT NULL,
	part    INTEGER NOT NULL,
	bits    BLOB NOT NULL,
	PRIMARY KEY (log_id, part, seq)
);
