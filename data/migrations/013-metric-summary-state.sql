-- 013: brings the index to schema version 13: what the metrics summary
-- cache (migrations 009, 010) keeps per row so that points appended to a
-- series (a new run, newest by time) bring the row up to date without
-- reading the whole series again (core/metriccache.c, cp_run in
-- core/metricsint.h). metric_summary_state: per cached row, the newest run
-- id of the index when it was computed (a dirty run at or below it was
-- changed, not added: the row is computed again from the whole series),
-- the series' newest point (run, time: what is appended must sort after
-- it) and the change-point state (the candidates of the windows that end
-- before the tail, the tail's values, the merge's tests; a blob of
-- core/metriccp.c), and the positions in the whole series of the points
-- metric_summary_points keeps (int64 each, by seq). Rows cached before
-- have no state: computed again once.
CREATE TABLE metric_summary_state (
	branch   TEXT NOT NULL,
	name     TEXT NOT NULL,
	workflow TEXT NOT NULL,
	max_run  INTEGER NOT NULL,
	last_run INTEGER NOT NULL,
	last_at  INTEGER,
	state    BLOB NOT NULL,
	seq_idx  BLOB NOT NULL,
	PRIMARY KEY (branch, name, workflow)
) WITHOUT ROWID;

-- A series' point count set after its points are written (the importer):
-- the run is marked, as before; its row is named apart only when the
-- series leaves it (another name or run), which an append cannot follow.
DROP TRIGGER IF EXISTS metric_dirty_series_update;
CREATE TRIGGER metric_dirty_series_update AFTER UPDATE ON metric_series BEGIN
	INSERT OR IGNORE INTO metric_dirty_pairs
	SELECT OLD.name, coalesce(workflow_name, '') FROM runs WHERE id = OLD.run_id
	   AND (OLD.name IS NOT NEW.name OR OLD.run_id IS NOT NEW.run_id);
	INSERT OR IGNORE INTO metric_dirty_runs
	SELECT id, coalesce(workflow_name, '') FROM runs WHERE id IN (OLD.run_id, NEW.run_id);
END;

-- metric_summary_claims: who is rebuilding a branch's cache whole (process
-- id and since when, milliseconds): another reader of the same branch
-- waits for it and reads what it wrote instead of rebuilding too; a claim
-- whose process is gone is taken over.
CREATE TABLE metric_summary_claims (
	branch TEXT PRIMARY KEY,
	pid    INTEGER NOT NULL,
	at     INTEGER NOT NULL
) WITHOUT ROWID;
