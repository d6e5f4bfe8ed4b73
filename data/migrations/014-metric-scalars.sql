-- 014: brings the index to schema version 14: metric_scalars, the points
-- of the scalar metric series (metric_series with n_points = 1: one JSON
-- leaf or one single-row CSV column per file) kept together by metric
-- name, so one metric's history (the chart, `metrics show`: core/metrics.c,
-- load_stored_sql) is one range of the table in the order the read wants
-- (name, run, series, point) instead of one metric_points row per run
-- scattered among every other metric's (100,000 runs: ~30,000 pages read
-- for one metric; bench/metrics.sh). It holds exactly the rows of
--   SELECT s.name, s.run_id, s.id, p.idx, p.value FROM metric_series s
--    JOIN metric_points p ON p.series_id = s.id
--    WHERE s.n_points = 1 AND p.value IS NOT NULL
-- kept so by the triggers below for writers that add or delete a series'
-- points before they write its count, as the importer does (a file's
-- series with n_points 0, their points, then every count): a series'
-- rows are read again from its points whenever its count, name or run is
-- written, and follow it out. Adding or deleting a point fires nothing: a
-- trigger on every point stored (millions of them in step series) cost
-- the import about 1 us of the 1.4 us a point's insert takes (measured).
CREATE TABLE metric_scalars (
	name      TEXT NOT NULL,
	run_id    INTEGER NOT NULL,
	series_id INTEGER NOT NULL,
	idx       INTEGER NOT NULL,
	value     REAL NOT NULL,
	PRIMARY KEY (name, run_id, series_id, idx)
) WITHOUT ROWID;

INSERT INTO metric_scalars (name, run_id, series_id, idx, value)
	SELECT s.name, s.run_id, s.id, p.idx, p.value FROM metric_series s
	 CROSS JOIN metric_points p ON p.series_id = s.id
	 WHERE s.n_points = 1 AND p.value IS NOT NULL;

-- a series: its rows follow its name, run and count
CREATE TRIGGER metric_scalars_series_insert AFTER INSERT ON metric_series
WHEN NEW.n_points = 1 BEGIN
	INSERT OR REPLACE INTO metric_scalars (name, run_id, series_id, idx, value)
		SELECT NEW.name, NEW.run_id, NEW.id, idx, value FROM metric_points
		 WHERE series_id = NEW.id AND value IS NOT NULL;
END;
CREATE TRIGGER metric_scalars_series_update AFTER UPDATE OF id, name, run_id, n_points
ON metric_series WHEN OLD.n_points = 1 OR NEW.n_points = 1 BEGIN
	DELETE FROM metric_scalars
	 WHERE name = OLD.name AND run_id = OLD.run_id AND series_id = OLD.id;
	INSERT OR REPLACE INTO metric_scalars (name, run_id, series_id, idx, value)
		SELECT NEW.name, NEW.run_id, NEW.id, idx, value FROM metric_points
		 WHERE NEW.n_points = 1 AND series_id = NEW.id AND value IS NOT NULL;
END;
CREATE TRIGGER metric_scalars_series_delete AFTER DELETE ON metric_series
WHEN OLD.n_points = 1 BEGIN
	DELETE FROM metric_scalars
	 WHERE name = OLD.name AND run_id = OLD.run_id AND series_id = OLD.id;
END;
-- a point's value changed in place (nothing in ciscope does; SQL by hand)
CREATE TRIGGER metric_scalars_point_update AFTER UPDATE ON metric_points
WHEN (SELECT n_points FROM metric_series WHERE id = OLD.series_id) = 1
  OR (SELECT n_points FROM metric_series WHERE id = NEW.series_id) = 1 BEGIN
	DELETE FROM metric_scalars
	 WHERE (name, run_id, series_id, idx) IN
		(SELECT name, run_id, id, OLD.idx FROM metric_series WHERE id = OLD.series_id);
	INSERT OR REPLACE INTO metric_scalars (name, run_id, series_id, idx, value)
		SELECT name, run_id, id, NEW.idx, NEW.value FROM metric_series
		 WHERE id = NEW.series_id AND n_points = 1 AND NEW.value IS NOT NULL;
END;
