-- 005: brings the index to schema version 5: bisect (core/bisect.h).
-- A bisection is its target, branch and the good/bad commits it started
-- from, plus the verdicts given to it in order (bisect_marks: by hand, by
-- `bisect run`, by a dispatched run). Evidence from stored runs is not
-- copied here: it is read from the runs each time, so runs fetched later
-- count. One bisection is active per index; finished and reset ones are
-- kept (the log of how a culprit was found).
CREATE TABLE bisect_sessions (
	id          INTEGER PRIMARY KEY,
	target      TEXT NOT NULL,      -- "workflow:W", "job:W/J", "test:N", "finding:FP", "metric:N>X"
	branch      TEXT,
	good        TEXT NOT NULL,      -- 40 hex digits, as started
	bad         TEXT NOT NULL,
	repo_path   TEXT,               -- the checkout it walked
	state       TEXT NOT NULL CHECK (state IN ('active', 'finished', 'reset')),
	first_bad   TEXT,
	started_at  INTEGER NOT NULL,
	ended_at    INTEGER
);
CREATE UNIQUE INDEX bisect_one_active ON bisect_sessions (state) WHERE state = 'active';

CREATE TABLE bisect_marks (
	session_id  INTEGER NOT NULL REFERENCES bisect_sessions(id) ON DELETE CASCADE,
	seq         INTEGER NOT NULL,
	sha         TEXT NOT NULL,
	verdict     TEXT NOT NULL CHECK (verdict IN ('good', 'bad', 'skip')),
	source      TEXT NOT NULL,      -- manual, run, dispatch, replay
	detail      TEXT,               -- the command and its exit status, a run id
	at          INTEGER NOT NULL,
	PRIMARY KEY (session_id, seq)
);
