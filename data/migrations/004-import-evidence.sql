-- 004: brings the index to schema version 4: why an imported log's run has
-- its conclusion. A log given alone carries no conclusion of its own; the
-- importer decides it from the evidence in the log (error findings, a
-- verdict line, the file name) or takes it from --conclusion, and says
-- which here so that `show` can tell the user (core/import.c).
ALTER TABLE runs ADD COLUMN conclusion_why TEXT;
