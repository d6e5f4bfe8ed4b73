-- 012: brings the index to schema version 12: the parity verdict of a run,
-- stored once derived (core/parityverdict.c), so that the commits view and
-- `ciscope commits` do not read every point of every parity run on every
-- call. Keyed by the run and conf: the version of the derivation and the
-- digest of the parity configuration in effect (parity_conf_digest: the
-- repository's .ciscope/parity.conf or $CISCOPE_PARITY, and the built-in
-- one), so changing a tolerance derives again. series: the run's series
-- when derived ("count:points:max id"); a row that no longer matches is
-- not used. channels: the run has parity channels; channel: the deciding
-- one. Writing a run's series, its points or the names of the files they
-- came from drops the run's rows; deleting the run deletes them.
CREATE TABLE parity_verdicts (
	run_id   INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
	conf     TEXT NOT NULL,
	series   TEXT NOT NULL,
	channels INTEGER NOT NULL,
	fail     INTEGER NOT NULL,
	channel  TEXT,
	PRIMARY KEY (run_id, conf)
) WITHOUT ROWID;

CREATE TRIGGER parity_verdicts_series_insert AFTER INSERT ON metric_series BEGIN
	DELETE FROM parity_verdicts WHERE run_id = NEW.run_id;
END;
CREATE TRIGGER parity_verdicts_series_update AFTER UPDATE ON metric_series BEGIN
	DELETE FROM parity_verdicts WHERE run_id IN (OLD.run_id, NEW.run_id);
END;
CREATE TRIGGER parity_verdicts_series_delete AFTER DELETE ON metric_series BEGIN
	DELETE FROM parity_verdicts WHERE run_id = OLD.run_id;
END;
-- points are inserted with their series (whose n_points the importer then
-- updates, firing the trigger above); a later change of one is caught here
CREATE TRIGGER parity_verdicts_points_update AFTER UPDATE ON metric_points BEGIN
	DELETE FROM parity_verdicts
	 WHERE run_id IN (SELECT run_id FROM metric_series WHERE id IN (OLD.series_id, NEW.series_id));
END;
CREATE TRIGGER parity_verdicts_files_update AFTER UPDATE OF path ON artifact_files BEGIN
	DELETE FROM parity_verdicts
	 WHERE run_id IN (SELECT run_id FROM metric_series WHERE file_id = NEW.id);
END;
CREATE TRIGGER parity_verdicts_artifacts_update AFTER UPDATE OF name ON artifacts BEGIN
	DELETE FROM parity_verdicts WHERE run_id IN (OLD.run_id, NEW.run_id);
END;
