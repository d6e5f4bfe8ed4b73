-- 004: RESERVED for issue 9 (triage/import fixes). This branch (bisect,
-- migration 006) was built before 004 and 005 existed, and the migration
-- runner refuses gaps: this file only keeps the numbering contiguous and must
-- be replaced by issue 9's real 004 at the merge.
SELECT 1;
