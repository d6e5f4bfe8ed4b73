-- 011: brings the index to schema version 11: the runs `ciscope bisect
-- dispatch` (and D in the bisect view) started for a bisection (core/bisect.h,
-- bisect_dispatch_record): which commit, the workflow, the repository, the
-- temporary branch it was dispatched on, when, and the GitHub run id once the
-- run appeared (its status as last seen). The run itself, once fetched, is
-- evidence like any other; this row says a dispatch made it (bisect log,
-- bisect status --json, the bisect view).
CREATE TABLE bisect_dispatches (
	id          INTEGER PRIMARY KEY,
	session_id  INTEGER NOT NULL REFERENCES bisect_sessions(id) ON DELETE CASCADE,
	sha         TEXT NOT NULL,
	workflow    TEXT NOT NULL,
	repo        TEXT,               -- OWNER/REPO
	ref         TEXT NOT NULL,      -- the temporary branch
	at          INTEGER NOT NULL,   -- dispatched
	run_id      INTEGER,            -- GitHub run id, once it appeared
	run_status  TEXT,               -- queued, in_progress, completed: as last seen
	conclusion  TEXT
);
CREATE INDEX bisect_dispatches_session ON bisect_dispatches (session_id, at);
