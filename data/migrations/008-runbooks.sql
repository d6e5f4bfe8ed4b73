-- 008: brings the index to schema version 8: runbook instances and their
-- event log (core/rbstore.h). Both are append-only: triggers refuse UPDATE
-- and DELETE, so a record of what was done at 3 a.m. cannot be rewritten,
-- only added to (notes, resumes). An instance's state is derived from its
-- events. Outputs are zstd frames of the capped output, redacted before they
-- are stored.
CREATE TABLE runbook_instances (
	id             INTEGER PRIMARY KEY,
	runbook        TEXT NOT NULL,          -- its name: rollback
	path           TEXT NOT NULL,          -- the file, or builtin:NAME
	hash           TEXT NOT NULL,          -- of the file's bytes
	title          TEXT NOT NULL,
	source         BLOB NOT NULL,          -- the runbook as run, zstd
	steps          TEXT NOT NULL,          -- 'ident name' per line: resume compares
	started_at     INTEGER NOT NULL,
	started_by     TEXT NOT NULL,
	head_sha       TEXT,                   -- the checkout's HEAD
	repo           TEXT,
	bound_run      INTEGER,                -- GitHub run id of the bound run
	bound_attempt  INTEGER,
	bound_sha      TEXT,
	bound_url      TEXT,
	mode           TEXT NOT NULL
);

CREATE TABLE runbook_events (
	id           INTEGER PRIMARY KEY,
	instance_id  INTEGER NOT NULL REFERENCES runbook_instances(id),
	seq          INTEGER NOT NULL,
	at           INTEGER NOT NULL,
	-- started resumed step-start attempt step-end skip note interrupted
	-- stopped finished aborted
	kind         TEXT NOT NULL,
	step         INTEGER,                  -- 1-based step number, NULL for the instance
	step_name    TEXT,
	attempt      INTEGER,
	command      TEXT,                     -- resolved, redacted
	exit         INTEGER,
	duration_ms  INTEGER,
	status       TEXT,                     -- step-end: ok failed timeout stopped manual background
	output       BLOB,                     -- zstd of the redacted, capped output
	output_size  INTEGER,                  -- bytes the command printed in all
	vars         TEXT,                     -- JSON object: values used or captured
	text         TEXT,                     -- a note, a reason
	by           TEXT,
	pid          INTEGER,                  -- started/resumed: who runs it, for 'running'
	host         TEXT,
	UNIQUE (instance_id, seq)
);

CREATE TRIGGER runbook_instances_append_only BEFORE UPDATE ON runbook_instances
	BEGIN SELECT RAISE(ABORT, 'runbook instances are never changed'); END;
CREATE TRIGGER runbook_instances_keep BEFORE DELETE ON runbook_instances
	BEGIN SELECT RAISE(ABORT, 'runbook instances are never deleted'); END;
CREATE TRIGGER runbook_events_append_only BEFORE UPDATE ON runbook_events
	BEGIN SELECT RAISE(ABORT, 'runbook events are never changed'); END;
CREATE TRIGGER runbook_events_keep BEFORE DELETE ON runbook_events
	BEGIN SELECT RAISE(ABORT, 'runbook events are never deleted'); END;
