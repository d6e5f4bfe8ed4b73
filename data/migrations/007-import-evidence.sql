-- 007: brings the index to schema version 7: why an imported log's run has
-- its conclusion. A log given alone carries no conclusion of its own; the
-- importer decides it from the evidence in the log (error findings, a
-- verdict line, the file name) or takes it from --conclusion, and says
-- which here so that `show` can tell the user (core/import.c).
ALTER TABLE runs ADD COLUMN conclusion_why TEXT;

-- A weak line kept but hidden behind a telling finding of its job (the
-- runner's "Process completed with exit code 1.") is no failure of its own:
-- counted, it merged every job that exits non-zero into one fingerprint
-- (core/triage.h, TRIAGE_TELLING_SQL).
DROP VIEW fingerprint_stats;
CREATE VIEW fingerprint_stats AS
	SELECT f.fingerprint, count(DISTINCT r.id) AS runs,
	       count(DISTINCT r.head_sha) AS commits, min(r.created_at) AS first_at,
	       max(r.created_at) AS last_at, group_concat(DISTINCT r.head_branch) AS branches,
	       coalesce(s.state, 'new') AS state
	FROM triage_findings f JOIN jobs j ON j.id = f.job_id JOIN runs r ON r.id = j.run_id
	LEFT JOIN triage_states s ON s.fingerprint = f.fingerprint
	WHERE f.severity = 'error' AND (f.shown OR NOT f.weak) GROUP BY f.fingerprint;
