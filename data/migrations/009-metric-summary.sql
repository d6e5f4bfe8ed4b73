-- 009: brings the index to schema version 9: the metrics table's summary
-- cache (core/metrics.h, metrics_load_table). metric_gen counts changes to
-- what a metric series is read from (triggers below: runs, metric_series,
-- a point's value, run_metrics, jobs, steps, test_results, acknowledged
-- change points taken back); metric_summary_meta says at which count, and with which
-- change-point settings, metric_summary (one row per metric and workflow:
-- how many points, the newest change point) and metric_summary_points (the
-- points the table needs: the last ones for the sparkline, the green runs
-- of the newest point's branch for the baseline, the change point's) were
-- computed. A count that moved on means the cache is rebuilt on next read.
-- metric_series_by_name: one metric's scalar series (the chart, `metrics
-- show`) found without reading every point (metrics_load with a name).
CREATE INDEX metric_series_by_name ON metric_series (name, n_points, run_id);
CREATE TABLE metric_gen (
	id  INTEGER PRIMARY KEY CHECK (id = 1),
	gen INTEGER NOT NULL
);
INSERT INTO metric_gen (id, gen) VALUES (1, 1);

CREATE TABLE metric_summary_meta (
	id   INTEGER PRIMARY KEY CHECK (id = 1),
	gen  INTEGER NOT NULL,
	conf TEXT NOT NULL
);

-- metric_refresh_mark: the count at which metrics_refresh last found every
-- run derived (with derivation version), so it need not scan the runs again.
CREATE TABLE metric_refresh_mark (
	id      INTEGER PRIMARY KEY CHECK (id = 1),
	gen     INTEGER NOT NULL,
	version INTEGER NOT NULL
);

CREATE TABLE metric_summary (
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
	PRIMARY KEY (name, workflow)
) WITHOUT ROWID;

CREATE TABLE metric_summary_points (
	name        TEXT NOT NULL,
	workflow    TEXT NOT NULL,
	seq         INTEGER NOT NULL,        -- oldest first
	run         INTEGER NOT NULL,
	provider_id INTEGER,
	attempt     INTEGER,
	sha         TEXT,
	branch      TEXT,
	at          INTEGER,
	value       REAL NOT NULL,
	green       INTEGER NOT NULL,
	passed      INTEGER,
	threshold   REAL,
	PRIMARY KEY (name, workflow, seq)
) WITHOUT ROWID;
CREATE TRIGGER metric_gen_runs_insert AFTER INSERT ON runs BEGIN UPDATE metric_gen SET gen = gen + 1; END;
CREATE TRIGGER metric_gen_runs_update AFTER UPDATE ON runs BEGIN UPDATE metric_gen SET gen = gen + 1; END;
CREATE TRIGGER metric_gen_runs_delete AFTER DELETE ON runs BEGIN UPDATE metric_gen SET gen = gen + 1; END;
CREATE TRIGGER metric_gen_metric_series_insert AFTER INSERT ON metric_series BEGIN UPDATE metric_gen SET gen = gen + 1; END;
CREATE TRIGGER metric_gen_metric_series_update AFTER UPDATE ON metric_series BEGIN UPDATE metric_gen SET gen = gen + 1; END;
CREATE TRIGGER metric_gen_metric_series_delete AFTER DELETE ON metric_series BEGIN UPDATE metric_gen SET gen = gen + 1; END;
CREATE TRIGGER metric_gen_run_metrics_insert AFTER INSERT ON run_metrics BEGIN UPDATE metric_gen SET gen = gen + 1; END;
CREATE TRIGGER metric_gen_run_metrics_update AFTER UPDATE ON run_metrics BEGIN UPDATE metric_gen SET gen = gen + 1; END;
CREATE TRIGGER metric_gen_run_metrics_delete AFTER DELETE ON run_metrics BEGIN UPDATE metric_gen SET gen = gen + 1; END;
CREATE TRIGGER metric_gen_jobs_insert AFTER INSERT ON jobs BEGIN UPDATE metric_gen SET gen = gen + 1; END;
CREATE TRIGGER metric_gen_jobs_update AFTER UPDATE ON jobs BEGIN UPDATE metric_gen SET gen = gen + 1; END;
CREATE TRIGGER metric_gen_jobs_delete AFTER DELETE ON jobs BEGIN UPDATE metric_gen SET gen = gen + 1; END;
CREATE TRIGGER metric_gen_steps_insert AFTER INSERT ON steps BEGIN UPDATE metric_gen SET gen = gen + 1; END;
CREATE TRIGGER metric_gen_steps_update AFTER UPDATE ON steps BEGIN UPDATE metric_gen SET gen = gen + 1; END;
CREATE TRIGGER metric_gen_steps_delete AFTER DELETE ON steps BEGIN UPDATE metric_gen SET gen = gen + 1; END;
CREATE TRIGGER metric_gen_test_results_insert AFTER INSERT ON test_results BEGIN UPDATE metric_gen SET gen = gen + 1; END;
CREATE TRIGGER metric_gen_test_results_update AFTER UPDATE ON test_results BEGIN UPDATE metric_gen SET gen = gen + 1; END;
CREATE TRIGGER metric_gen_test_results_delete AFTER DELETE ON test_results BEGIN UPDATE metric_gen SET gen = gen + 1; END;
CREATE TRIGGER metric_gen_metric_acks_update AFTER UPDATE ON metric_acks BEGIN UPDATE metric_gen SET gen = gen + 1; END;
CREATE TRIGGER metric_gen_metric_acks_delete AFTER DELETE ON metric_acks BEGIN UPDATE metric_gen SET gen = gen + 1; END;
CREATE TRIGGER metric_gen_run_metrics_done_delete AFTER DELETE ON run_metrics_done BEGIN UPDATE metric_gen SET gen = gen + 1; END;
CREATE TRIGGER metric_gen_metric_points_update AFTER UPDATE ON metric_points BEGIN UPDATE metric_gen SET gen = gen + 1; END;
-- A change point acknowledged: the row whose newest change point it is
-- says so at once (no rebuild; INSERT OR REPLACE fires this too).
CREATE TRIGGER metric_summary_ack AFTER INSERT ON metric_acks BEGIN
	UPDATE metric_summary SET cp_acked = 1, cp_note = NEW.note
	 WHERE name = NEW.name AND workflow = NEW.workflow
	   AND EXISTS (SELECT 1 FROM metric_summary_points p WHERE p.name = NEW.name
		       AND p.workflow = NEW.workflow AND p.seq = metric_summary.cp_idx
		       AND p.sha = NEW.sha);
END;
