-- 015: brings the index to schema version 15: a step's insert fires no
-- trigger. metric_gen_steps_insert (009: metric_gen.gen + 1) and
-- metric_dirty_steps_insert (010: the step's run into metric_dirty_runs)
-- ran once per step row, about 9 % of the importer's main thread on many
-- small logs (~15 steps each; bench/shapes.sh). The only writer of steps
-- is the importer (core/importrun.c, core/importlog.c), and it adds steps
-- only to jobs it inserted in the same transaction, whose insert marked
-- the run already (metric_dirty_jobs_insert); it records what these
-- triggers did once per run instead (core/importrun.c, mark_steps): the
-- run into metric_dirty_runs and metric_gen.gen + the number of steps it
-- inserted. A writer adding steps to a job of an earlier transaction must
-- do the same. Updating or deleting a step still fires its triggers.
DROP TRIGGER IF EXISTS metric_gen_steps_insert;
DROP TRIGGER IF EXISTS metric_dirty_steps_insert;
