-- 003: brings the index to schema version 3: failure triage (core/triage.h).
-- triage_jobs says which failed jobs were triaged by which version of the
-- algorithm, normaliser and rules (so stale results are recomputed);
-- triage_findings holds their findings, each with its fingerprint and the raw
-- key lines it was made from (retriage regroups from them); triage_states the
-- state a maintainer gave a fingerprint, kept across re-imports and retriage.
-- First/last seen, counts and branches of a fingerprint are computed from
-- triage_findings joined to runs (the fingerprint_stats view).
CREATE TABLE triage_jobs (
	job_id      INTEGER PRIMARY KEY REFERENCES jobs(id) ON DELETE CASCADE,
	version     TEXT NOT NULL,
	n_findings  INTEGER NOT NULL,
	n_lines     INTEGER NOT NULL,      -- excerpt lines shown
	n_dropped   INTEGER NOT NULL,      -- findings not kept (past the caps)
	fallback    INTEGER NOT NULL,
	triaged_at  INTEGER NOT NULL
);

CREATE TABLE triage_findings (
	id          INTEGER PRIMARY KEY,
	job_id      INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
	rank        INTEGER NOT NULL,      -- 0: the most telling finding of the job
	shown       INTEGER NOT NULL,      -- part of the job's capped excerpt
	step_number INTEGER,
	line        INTEGER,               -- 1-based lines of the job's log; NULL:
	end_line    INTEGER,               -- not from the log (JUnit, conclusion)
	source      TEXT NOT NULL,         -- rule, marker, junit, conclusion, fallback, no-log
	rule        TEXT NOT NULL,
	category    TEXT NOT NULL,
	severity    TEXT NOT NULL,         -- error, warning
	weak        INTEGER NOT NULL DEFAULT 0,
	title       TEXT NOT NULL,
	explain     TEXT,
	test_name   TEXT,
	repeats     INTEGER NOT NULL DEFAULT 0,
	fingerprint TEXT NOT NULL,
	key_text    TEXT NOT NULL,
	excerpt     TEXT NOT NULL          -- lines 'N<TAB>text', N = 0 off the log
);
CREATE INDEX triage_findings_by_job ON triage_findings (job_id, rank);
CREATE INDEX triage_findings_by_fp ON triage_findings (fingerprint);

CREATE TABLE triage_states (
	fingerprint TEXT PRIMARY KEY,
	state       TEXT NOT NULL CHECK (state IN ('new', 'acknowledged', 'known-flaky', 'fixed')),
	note        TEXT,
	set_by      TEXT,
	set_at      INTEGER NOT NULL
);

CREATE VIEW fingerprint_stats AS
	SELECT f.fingerprint, count(DISTINCT r.id) AS runs,
	       count(DISTINCT r.head_sha) AS commits, min(r.created_at) AS first_at,
	       max(r.created_at) AS last_at, group_concat(DISTINCT r.head_branch) AS branches,
	       coalesce(s.state, 'new') AS state
	FROM triage_findings f JOIN jobs j ON j.id = f.job_id JOIN runs r ON r.id = j.run_id
	LEFT JOIN triage_states s ON s.fingerprint = f.fingerprint
	WHERE f.severity = 'error' GROUP BY f.fingerprint;
