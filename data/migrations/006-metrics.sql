-- 006: brings the index to schema version 6: metrics over history
-- (core/metrics.h). Scalars the importer extracts already live in
-- metric_series/metric_points and built-in metrics (durations, tests) are
-- read from runs/jobs/steps/test_results; this table holds what is derived
-- once and kept: the checks of a local-CI results file (with the check's
-- passed flag and threshold as the file stated them), per-channel parity
-- summaries and cache hits/misses found in job logs (computed lazily, off
-- the import path; run_metrics_done says which runs were looked at and by
-- which version of the derivation). metric_acks: change points a
-- maintainer acknowledged, with a note, so they stop alerting.
CREATE TABLE run_metrics (
	run_id    INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
	name      TEXT NOT NULL,
	value     REAL,
	unit      TEXT,
	passed    INTEGER,                 -- local checks: 1/0; NULL when not stated
	threshold REAL,                    -- local checks: as stated; else NULL
	origin    TEXT NOT NULL,           -- local, parity, cache
	PRIMARY KEY (run_id, name)
) WITHOUT ROWID;

CREATE TABLE run_metrics_done (
	run_id  INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
	version INTEGER NOT NULL
);

CREATE TABLE metric_acks (
	name     TEXT NOT NULL,
	workflow TEXT NOT NULL,            -- '' for a metric of no workflow
	sha      TEXT NOT NULL,            -- the first commit of the new level
	note     TEXT,
	acked_at INTEGER NOT NULL,
	PRIMARY KEY (name, workflow, sha)
);
