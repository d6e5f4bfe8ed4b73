-- 010: brings the index to schema version 10: what changed since the
-- metrics summary cache (migration 009) was computed, so that a read after
-- an import recomputes only the (metric, workflow) rows the import touched
-- (core/metriccache.c). metric_dirty_runs: runs whose rows or whose
-- series, derived metrics, jobs, steps or tests were written (the workflow
-- they had: an update keeps the old and the new one); metric_dirty_pairs:
-- rows a deletion or an acknowledgement taken back touched, which the run
-- no longer names. A deleted run, or a step whose job is gone, makes the
-- whole cache stale (metric_summary_meta.gen = -1): rebuilt on next read.
CREATE TABLE metric_dirty_runs (
	run_id   INTEGER NOT NULL,
	workflow TEXT NOT NULL,
	PRIMARY KEY (run_id, workflow)
) WITHOUT ROWID;

CREATE TABLE metric_dirty_pairs (
	name     TEXT NOT NULL,
	workflow TEXT NOT NULL,
	PRIMARY KEY (name, workflow)
) WITHOUT ROWID;

-- The summary cache of 009 again, one per branch: branch '' is the table
-- of every branch (`ciscope metrics`), another the table of that branch
-- alone (`--branch B`), computed on its first use and kept up to date as
-- the first is. What 009 computed knew nothing of the tables above: the
-- cache starts empty.
DROP TRIGGER metric_summary_ack;
DROP TABLE metric_summary;
DROP TABLE metric_summary_points;
DROP TABLE metric_summary_meta;

CREATE TABLE metric_summary_meta (
	branch TEXT PRIMARY KEY,
	gen    INTEGER NOT NULL,            -- -1: stale (rebuilt on next read)
	conf   TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE metric_summary (
	branch    TEXT NOT NULL,
	name      TEXT NOT NULL,
	workflow  TEXT NOT NULL,
	unit      TEXT,
	total     INTEGER NOT NULL,          -- points in the whole series
	cp_idx    INTEGER,                   -- newest change point: seq of its point, or NULL
	cp_before REAL,
	cp_after  REAL,
	cp_change REAL,
	cp_pvalue REAL,
	cp_acked  INTEGER,
	cp_note   TEXT,
	PRIMARY KEY (branch, name, workflow)
) WITHOUT ROWID;

CREATE TABLE metric_summary_points (
	branch      TEXT NOT NULL,
	name        TEXT NOT NULL,
	workflow    TEXT NOT NULL,
	seq         INTEGER NOT NULL,        -- oldest first
	run         INTEGER NOT NULL,
	provider_id INTEGER,
	attempt     INTEGER,
	sha         TEXT,
	branch_of   TEXT,                    -- the point's run's branch
	at          INTEGER,
	value       REAL NOT NULL,
	green       INTEGER NOT NULL,
	passed      INTEGER,
	threshold   REAL,
	PRIMARY KEY (branch, name, workflow, seq)
) WITHOUT ROWID;

-- Every change point of a cached row's series (metric_summary has the
-- newest): `metrics show` and the chart take them from here while the
-- cache is current instead of finding them again. idx: the point's
-- position in the whole series, run: its run (checked on use).
CREATE TABLE metric_summary_cps (
	branch   TEXT NOT NULL,
	name     TEXT NOT NULL,
	workflow TEXT NOT NULL,
	k        INTEGER NOT NULL,           -- oldest first
	idx      INTEGER NOT NULL,
	run      INTEGER NOT NULL,
	before   REAL,
	after    REAL,
	change   REAL,
	pvalue   REAL,
	PRIMARY KEY (branch, name, workflow, k)
) WITHOUT ROWID;

-- A change point acknowledged: the rows whose newest change point it is
-- say so at once (no rebuild; INSERT OR REPLACE fires this too).
CREATE TRIGGER metric_summary_ack AFTER INSERT ON metric_acks BEGIN
	UPDATE metric_summary SET cp_acked = 1, cp_note = NEW.note
	 WHERE name = NEW.name AND workflow = NEW.workflow
	   AND EXISTS (SELECT 1 FROM metric_summary_points p WHERE p.branch = metric_summary.branch
		       AND p.name = NEW.name AND p.workflow = NEW.workflow
		       AND p.seq = metric_summary.cp_idx AND p.sha = NEW.sha);
END;

CREATE TRIGGER metric_dirty_runs_insert AFTER INSERT ON runs BEGIN
	INSERT OR IGNORE INTO metric_dirty_runs VALUES (NEW.id, coalesce(NEW.workflow_name, ''));
END;
CREATE TRIGGER metric_dirty_runs_update AFTER UPDATE ON runs BEGIN
	INSERT OR IGNORE INTO metric_dirty_runs VALUES (OLD.id, coalesce(OLD.workflow_name, ''));
	INSERT OR IGNORE INTO metric_dirty_runs VALUES (NEW.id, coalesce(NEW.workflow_name, ''));
END;
CREATE TRIGGER metric_dirty_runs_delete AFTER DELETE ON runs BEGIN
	UPDATE metric_summary_meta SET gen = -1;
END;
CREATE TRIGGER metric_dirty_series_insert AFTER INSERT ON metric_series BEGIN
	INSERT OR IGNORE INTO metric_dirty_runs
	SELECT id, coalesce(workflow_name, '') FROM runs WHERE id = NEW.run_id;
END;
CREATE TRIGGER metric_dirty_series_update AFTER UPDATE ON metric_series BEGIN
	INSERT OR IGNORE INTO metric_dirty_pairs
	SELECT OLD.name, coalesce(workflow_name, '') FROM runs WHERE id = OLD.run_id;
	INSERT OR IGNORE INTO metric_dirty_runs
	SELECT id, coalesce(workflow_name, '') FROM runs WHERE id IN (OLD.run_id, NEW.run_id);
END;
CREATE TRIGGER metric_dirty_series_delete AFTER DELETE ON metric_series BEGIN
	INSERT OR IGNORE INTO metric_dirty_pairs
	SELECT OLD.name, coalesce(workflow_name, '') FROM runs WHERE id = OLD.run_id;
END;
CREATE TRIGGER metric_dirty_points_update AFTER UPDATE ON metric_points BEGIN
	INSERT OR IGNORE INTO metric_dirty_runs
	SELECT r.id, coalesce(r.workflow_name, '') FROM metric_series s JOIN runs r ON r.id = s.run_id
	 WHERE s.id IN (OLD.series_id, NEW.series_id);
END;
CREATE TRIGGER metric_dirty_run_metrics_insert AFTER INSERT ON run_metrics BEGIN
	INSERT OR IGNORE INTO metric_dirty_runs
	SELECT id, coalesce(workflow_name, '') FROM runs WHERE id = NEW.run_id;
END;
CREATE TRIGGER metric_dirty_run_metrics_update AFTER UPDATE ON run_metrics BEGIN
	INSERT OR IGNORE INTO metric_dirty_pairs
	SELECT OLD.name, coalesce(workflow_name, '') FROM runs WHERE id = OLD.run_id;
	INSERT OR IGNORE INTO metric_dirty_runs
	SELECT id, coalesce(workflow_name, '') FROM runs WHERE id IN (OLD.run_id, NEW.run_id);
END;
CREATE TRIGGER metric_dirty_run_metrics_delete AFTER DELETE ON run_metrics BEGIN
	INSERT OR IGNORE INTO metric_dirty_pairs
	SELECT OLD.name, coalesce(workflow_name, '') FROM runs WHERE id = OLD.run_id;
END;
CREATE TRIGGER metric_dirty_jobs_insert AFTER INSERT ON jobs BEGIN
	INSERT OR IGNORE INTO metric_dirty_runs
	SELECT id, coalesce(workflow_name, '') FROM runs WHERE id = NEW.run_id;
END;
CREATE TRIGGER metric_dirty_jobs_update AFTER UPDATE ON jobs BEGIN
	UPDATE metric_summary_meta SET gen = -1 WHERE OLD.name IS NOT NEW.name;
	INSERT OR IGNORE INTO metric_dirty_runs
	SELECT id, coalesce(workflow_name, '') FROM runs WHERE id IN (OLD.run_id, NEW.run_id);
END;
CREATE TRIGGER metric_dirty_jobs_delete AFTER DELETE ON jobs BEGIN
	INSERT OR IGNORE INTO metric_dirty_pairs
	SELECT 'job.' || OLD.name || '.duration_ms', coalesce(workflow_name, '') FROM runs
	 WHERE id = OLD.run_id;
	INSERT OR IGNORE INTO metric_dirty_pairs
	SELECT 'step.' || OLD.name || '/' || s.name || '.duration_ms', coalesce(r.workflow_name, '')
	  FROM steps s JOIN runs r ON r.id = OLD.run_id WHERE s.job_id = OLD.id;
END;
CREATE TRIGGER metric_dirty_steps_insert AFTER INSERT ON steps BEGIN
	INSERT OR IGNORE INTO metric_dirty_runs
	SELECT r.id, coalesce(r.workflow_name, '') FROM jobs j JOIN runs r ON r.id = j.run_id
	 WHERE j.id = NEW.job_id;
END;
CREATE TRIGGER metric_dirty_steps_update AFTER UPDATE ON steps BEGIN
	UPDATE metric_summary_meta SET gen = -1 WHERE OLD.name IS NOT NEW.name OR OLD.job_id IS NOT NEW.job_id;
	INSERT OR IGNORE INTO metric_dirty_runs
	SELECT r.id, coalesce(r.workflow_name, '') FROM jobs j JOIN runs r ON r.id = j.run_id
	 WHERE j.id = NEW.job_id;
END;
CREATE TRIGGER metric_dirty_steps_delete AFTER DELETE ON steps BEGIN
	UPDATE metric_summary_meta SET gen = -1
	 WHERE NOT EXISTS (SELECT 1 FROM jobs WHERE id = OLD.job_id);
	INSERT OR IGNORE INTO metric_dirty_pairs
	SELECT 'step.' || j.name || '/' || OLD.name || '.duration_ms', coalesce(r.workflow_name, '')
	  FROM jobs j JOIN runs r ON r.id = j.run_id WHERE j.id = OLD.job_id;
END;
CREATE TRIGGER metric_dirty_tests_insert AFTER INSERT ON test_results BEGIN
	INSERT OR IGNORE INTO metric_dirty_runs
	SELECT id, coalesce(workflow_name, '') FROM runs WHERE id = NEW.run_id;
END;
CREATE TRIGGER metric_dirty_tests_update AFTER UPDATE ON test_results BEGIN
	INSERT OR IGNORE INTO metric_dirty_runs
	SELECT id, coalesce(workflow_name, '') FROM runs WHERE id IN (OLD.run_id, NEW.run_id);
END;
CREATE TRIGGER metric_dirty_tests_delete AFTER DELETE ON test_results BEGIN
	INSERT OR IGNORE INTO metric_dirty_pairs
	SELECT t.n, coalesce(r.workflow_name, '') FROM runs r,
	 (SELECT 'tests.total' AS n UNION ALL SELECT 'tests.failed' UNION ALL SELECT 'tests.skipped'
	  UNION ALL SELECT 'tests.pass_rate') t WHERE r.id = OLD.run_id;
END;
CREATE TRIGGER metric_dirty_acks_update AFTER UPDATE ON metric_acks BEGIN
	INSERT OR IGNORE INTO metric_dirty_pairs VALUES (OLD.name, OLD.workflow);
	INSERT OR IGNORE INTO metric_dirty_pairs VALUES (NEW.name, NEW.workflow);
END;
CREATE TRIGGER metric_dirty_acks_delete AFTER DELETE ON metric_acks BEGIN
	INSERT OR IGNORE INTO metric_dirty_pairs VALUES (OLD.name, OLD.workflow);
END;
