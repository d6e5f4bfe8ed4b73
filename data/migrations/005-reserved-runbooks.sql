-- 005: RESERVED for runbooks. This branch (bisect, migration 006) was built
-- before 004 and 005 existed, and the migration runner refuses gaps: this
-- file only keeps the numbering contiguous and must be replaced by the
-- runbooks' real 005 at the merge.
SELECT 1;
