-- ciscope index schema, version 1.
-- Compiled into the binary with data/migrations/*.sql (tools/embed-schema.sh
-- generates the build's gen/schema.c from them).
-- Times are INTEGER milliseconds since the Unix epoch (UTC), NULL when unknown.
-- Provider ids (GitHub's run/job/artifact ids) are kept apart from our row ids.
-- This file is never edited for a later version: a later issue adds tables
-- through a forward migration, one file data/migrations/NNN-name.sql bringing
-- the index to version NNN (applied in order by core/store.c). This file
-- plus those files are the history of the tables. Nothing here is created
-- "for later". Added by migrations since:
--   002 log_chunk_grams(log_id, seq, bits): per log chunk, a filter of the
--       trigrams of the searchable text of the lines starting in it
--       (core/logstore.h); search passes over chunks it rules out.
--   003 triage_jobs, triage_findings, triage_states and the view
--       fingerprint_stats: failure triage (core/triage.h, core/store.c).
--   004 log_chunk_words(log_id, seq, part, bits): per log chunk, a Bloom
--       filter of the 6-grams of word characters of the lines starting in
--       it, in parts by hash (core/logstore.h): selective where trigrams are
--       not (hex ids, shas, digests, uuids).
--   005 bisect_sessions, bisect_marks: bisections and the verdicts given
--       to them (core/bisect.h).
--   006 run_metrics, run_metrics_done, metric_acks: metrics over history
--       (core/metrics.h).
--   007 runs.conclusion_why, and fingerprint_stats counting telling
--       findings only: why a log given alone passed or failed (core/import.c).
--   008 runbook_instances, runbook_events (append-only, by triggers): the
--       runbooks' event log (core/rbstore.h).
--   009 metric_summary, metric_summary_points, metric_gen: the metrics
--       table's summary cache (core/metriccache.c).
--   010 metric_dirty_runs, metric_dirty_pairs, metric_summary_cps and the
--       summary tables by branch: what changed
--       since the cache was computed, so a read recomputes only that.
--   011 bisect_dispatches: the runs `bisect dispatch` started for a
--       bisection (core/bisect.h).
--   012 parity_verdicts: a run's parity verdict per parity configuration,
--       stored once derived (core/parityverdict.c).
--   013 metric_summary_state: per cached metrics
--       row, what an append needs to bring it up to date; metric_summary_claims:
--       who rebuilds a branch's cache whole (core/metriccache.c).
--   014 metric_scalars(name, run_id, series_id, idx, value): the points of
--       the scalar metric series (n_points = 1) by metric name, kept by
--       triggers: one metric's history read as one range (core/metrics.c).
--   015 no trigger on a step's insert: the importer records in metric_gen
--       and metric_dirty_runs once per run what they did (core/importrun.c).

CREATE TABLE repos (
	id          INTEGER PRIMARY KEY,
	provider    TEXT NOT NULL DEFAULT 'github',  -- 'github', 'local' (ad-hoc logs)
	slug        TEXT NOT NULL,                   -- 'owner/name'
	html_url    TEXT,
	UNIQUE (provider, slug)
);

CREATE TABLE runs (
	id            INTEGER PRIMARY KEY,
	repo_id       INTEGER NOT NULL REFERENCES repos(id) ON DELETE CASCADE,
	provider_id   INTEGER NOT NULL,              -- GitHub run id
	attempt       INTEGER NOT NULL DEFAULT 1,    -- run_attempt
	run_number    INTEGER,
	workflow_id   INTEGER,
	workflow_name TEXT,
	workflow_path TEXT,
	title         TEXT,                          -- display_title / head commit subject
	event         TEXT,
	head_branch   TEXT,
	head_sha      TEXT,
	status        TEXT,                          -- queued, in_progress, completed, ...
	conclusion    TEXT,                          -- success, failure, cancelled, ... or NULL
	created_at    INTEGER,
	updated_at    INTEGER,
	started_at    INTEGER,
	html_url      TEXT,
	actor         TEXT,
	commit_message TEXT,
	commit_author TEXT,
	commit_time   INTEGER,
	source        TEXT,                          -- where it was imported from
	import_sig    TEXT,                          -- what was imported: same sig = nothing to do
	imported_at   INTEGER NOT NULL,
	UNIQUE (repo_id, provider_id, attempt)
);
CREATE INDEX runs_by_time ON runs (created_at DESC, provider_id DESC, attempt DESC);
CREATE INDEX runs_by_sha ON runs (head_sha);
CREATE INDEX runs_by_branch ON runs (head_branch, created_at DESC);
CREATE INDEX runs_by_workflow ON runs (workflow_name, created_at DESC);

CREATE TABLE jobs (
	id           INTEGER PRIMARY KEY,
	run_id       INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
	provider_id  INTEGER NOT NULL,               -- GitHub job id (ad-hoc: 1)
	name         TEXT NOT NULL,
	status       TEXT,
	conclusion   TEXT,
	started_at   INTEGER,
	completed_at INTEGER,
	runner_name  TEXT,
	runner_group TEXT,
	labels       TEXT,                           -- JSON array as served
	html_url     TEXT,
	ordinal      INTEGER NOT NULL,               -- order in jobs.json
	log_state    TEXT NOT NULL DEFAULT 'missing',-- missing, stored, expired
	UNIQUE (run_id, provider_id)
);
CREATE INDEX jobs_by_run ON jobs (run_id, ordinal);

CREATE TABLE steps (
	id           INTEGER PRIMARY KEY,
	job_id       INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
	number       INTEGER NOT NULL,               -- API step.number (gaps allowed)
	name         TEXT NOT NULL,
	status       TEXT,
	conclusion   TEXT,
	started_at   INTEGER,
	completed_at INTEGER,
	first_line   INTEGER,                        -- lines of the job log, 1-based, inclusive
	last_line    INTEGER,
	attribution  TEXT,                           -- step-files, times, groups, none
	UNIQUE (job_id, number)
);

CREATE TABLE logs (
	id          INTEGER PRIMARY KEY,
	job_id      INTEGER NOT NULL UNIQUE REFERENCES jobs(id) ON DELETE CASCADE,
	raw_size    INTEGER NOT NULL DEFAULT 0,
	line_count  INTEGER NOT NULL DEFAULT 0,
	chunk_count INTEGER NOT NULL DEFAULT 0,
	codec       TEXT NOT NULL DEFAULT 'zstd',
	source      TEXT                             -- 'job-file', 'step-files', 'api', 'file'
);

-- The log bytes, LOG_CHUNK_RAW raw bytes per chunk, each compressed alone.
-- line_index: varint deltas of the offsets (within the chunk) where lines start.
CREATE TABLE log_chunks (
	log_id     INTEGER NOT NULL REFERENCES logs(id) ON DELETE CASCADE,
	seq        INTEGER NOT NULL,
	raw_off    INTEGER NOT NULL,
	raw_len    INTEGER NOT NULL,
	first_line INTEGER NOT NULL,                 -- first line starting here (or the next one)
	n_lines    INTEGER NOT NULL,                 -- lines starting in this chunk
	data       BLOB NOT NULL,
	line_index BLOB NOT NULL,
	PRIMARY KEY (log_id, seq)
);
CREATE INDEX log_chunks_by_line ON log_chunks (log_id, first_line);

-- Sections of a log: ##[group] blocks (for folding) with their nesting depth.
CREATE TABLE log_groups (
	log_id     INTEGER NOT NULL REFERENCES logs(id) ON DELETE CASCADE,
	first_line INTEGER NOT NULL,
	last_line  INTEGER NOT NULL,
	depth      INTEGER NOT NULL,
	title      TEXT NOT NULL,
	PRIMARY KEY (log_id, first_line)
);

-- Error/warning/notice lines; triage (a later issue) enriches them.
CREATE TABLE findings (
	id          INTEGER PRIMARY KEY,
	job_id      INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
	step_number INTEGER,
	line        INTEGER NOT NULL,
	end_line    INTEGER NOT NULL,
	severity    TEXT NOT NULL,                   -- error, warning, notice
	source      TEXT NOT NULL,                   -- marker
	message     TEXT NOT NULL                    -- ANSI-stripped, capped
);
CREATE INDEX findings_by_job ON findings (job_id, line);

CREATE TABLE artifacts (
	id          INTEGER PRIMARY KEY,
	run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
	provider_id INTEGER,
	name        TEXT NOT NULL,
	size        INTEGER,
	expired     INTEGER NOT NULL DEFAULT 0,
	source      TEXT,                            -- zip, folder, api
	UNIQUE (run_id, name)
);

CREATE TABLE artifact_files (
	id          INTEGER PRIMARY KEY,
	artifact_id INTEGER NOT NULL REFERENCES artifacts(id) ON DELETE CASCADE,
	path        TEXT NOT NULL,
	size        INTEGER NOT NULL,
	kind        TEXT NOT NULL,                   -- junit, metrics, other, rejected
	note        TEXT,                            -- why rejected / parse error
	UNIQUE (artifact_id, path)
);

CREATE TABLE metric_series (
	id          INTEGER PRIMARY KEY,
	run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
	file_id     INTEGER NOT NULL REFERENCES artifact_files(id) ON DELETE CASCADE,
	name        TEXT NOT NULL,                   -- column or dotted JSON path
	x_name      TEXT,                            -- step/frame/... or NULL: row order
	n_points    INTEGER NOT NULL DEFAULT 0,
	UNIQUE (file_id, name)
);
CREATE INDEX metric_series_by_run ON metric_series (run_id, name);

CREATE TABLE metric_points (
	series_id INTEGER NOT NULL REFERENCES metric_series(id) ON DELETE CASCADE,
	idx       INTEGER NOT NULL,                  -- row order, 0-based
	x         REAL NOT NULL,                     -- the x column's value, else idx
	value     REAL,                              -- NULL for an empty/NaN cell
	PRIMARY KEY (series_id, idx)
) WITHOUT ROWID;

CREATE TABLE test_results (
	id         INTEGER PRIMARY KEY,
	run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
	file_id    INTEGER NOT NULL REFERENCES artifact_files(id) ON DELETE CASCADE,
	suite      TEXT,
	classname  TEXT,
	name       TEXT NOT NULL,
	file       TEXT,
	line       INTEGER,
	duration_ms INTEGER,
	outcome    TEXT NOT NULL,                    -- passed, failed, error, skipped, flaky
	message    TEXT,
	details    TEXT,                             -- capped stack trace / output
	reruns     INTEGER NOT NULL DEFAULT 0        -- rerunFailure/flakyFailure elements
);
CREATE INDEX test_results_by_run ON test_results (run_id, outcome);
CREATE INDEX test_results_by_name ON test_results (classname, name);

CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT
);
