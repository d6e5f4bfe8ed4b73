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

-- what was computed before this version knew nothing of the tables above
UPDATE metric_summary_meta SET gen = -1;

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
