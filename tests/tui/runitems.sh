#!/bin/sh
# runitems.sh - the run view lists what a run brought besides its logs (its
# artifacts and their files, the tests that did not pass, its metric series;
# core/runitems.h), each opened in place with Enter and closed again: what
# was read from a file, a test's failure output, a series' values. On the
# demo data set: a bench run (one metric file), the failed adaptive test of
# 86977fc and a parity run with 1000-point series.
. "$(dirname "$0")/lib.sh"

demo_db || finish

BENCH=':filter 9821523781
<Enter>'
TEST=':filter 9816939720
<Enter>'
PARITY=':filter 9821704971
<Enter>'

size 100x30
# --- listed -----------------------------------------------------------------------------------
tui items-bench "$BENCH
G"
check_exit items-bench-exit 0
check_screen items-bench
check_has items-artifacts items-bench.screen 'artifacts · 1 (1 file)'
check_has items-file items-bench.screen '▸ bench.json'
check_has items-file-kind items-bench.screen 'metrics · 4 series'
check_has items-series items-bench.screen 'metric series · 4'
check_has items-series-row items-bench.screen 'wasm_size_kb'
check_has items-series-value items-bench.screen '176.9  bench      1 pt'
# the counts agree with `ciscope show --json`
"$CISCOPE" --db "$DB" show --json 9821523781 >show.json
check_has items-show-artifacts show.json '"artifacts":{"count":1,"files":1}'
check_has items-show-series show.json '"metric_series":4'
# the jobs still come first, and the cursor starts on the first job
tui items-bench-top "$BENCH"
check_status items-bench-top items-bench-top '[run] row 1 of 21'

# --- opened in place --------------------------------------------------------------------------
# a series: its values (row order: no x column)
tui items-series-open "$BENCH
G<Enter>"
check_has items-series-open items-series-open.screen '      row 0: 176.9'
check_status items-series-open-rows items-series-open 'row 21 of 22'
tui items-series-close "$BENCH
G<Enter><Enter>"
check_status items-series-close items-series-close 'row 21 of 21'
# a file: what was read from it (the index keeps no file bytes: said so)
tui items-file-open "$BENCH
:goto 16
<Enter>"
check_has items-file-open items-file-open.screen 'metric file: 4 series read'
check_has items-file-open-glyph items-file-open.screen '▾ bench.json'
# ... and its text, read again from the run folder it was imported from
check_has items-file-text items-file-open.screen '          "steps_per_sec": 42358'
check_has items-file-text-end items-file-open.screen '        "wasm_size_kb": 176.9,'
# an entry of an artifact zip
tui items-zip "$TEST
/junit-ts.xml<Enter><Enter>"
check_has items-zip items-zip.screen '<testcase classname="options" name="accepts theta in [0, 1]"'
# the run folder gone: said, the rest still listed
mv demo/runs/9816939720 moved-away
tui items-zip-gone "$TEST
/junit-ts.xml<Enter><Enter>"
mv moved-away demo/runs/9816939720
check_has items-zip-gone items-zip-gone.screen "      cannot open zip '"
check_has items-zip-gone-read items-zip-gone.screen 'JUnit report: 49 tests read'
# a run imported by a relative path is found from any folder: the import
# keeps the path whole; an older index's relative path is looked for from
# here, then from the index's folder and the folders above it; else said
ZIPKEYS="$TEST
/junit-ts.xml<Enter><Enter>
:save-display $WORK/items-rel.screen"
tui_in() { # folder db: the keys above, run from that folder
	printf '%s\n' "$ZIPKEYS" >"$WORK/items-rel.keys"
	rm -f "$WORK/items-rel.screen"
	(cd "$1" && LINES=$TUI_LINES COLUMNS=$TUI_COLUMNS CISCOPE_SCRIPT="$WORK/items-rel.keys" \
		CISCOPE_SCRIPT_OUTPUT="$WORK/items-rel.raw" timeout 60 "$CISCOPE" --db "$2") \
		>"$OUT" 2>"$ERR"
}
mkdir -p elsewhere sub
(cd demo && "$CISCOPE" --db "$WORK/rel.db" import --quiet runs/9816939720) >/dev/null 2>&1
tui_in elsewhere "$WORK/rel.db"
check_has items-rel-new items-rel.screen '<testcase classname="options" name="accepts theta in [0, 1]"'
if command -v sqlite3 >/dev/null 2>&1; then
	check_eq items-rel-stored "$(sqlite3 rel.db 'SELECT source FROM runs')" "$WORK/demo/runs/9816939720"
	# an older index (sub/old.db) kept 'demo/runs/…', relative to $WORK
	cp rel.db sub/old.db
	sqlite3 sub/old.db "UPDATE runs SET source = 'demo/runs/9816939720'"
	tui_in elsewhere "$WORK/sub/old.db"
	check_has items-rel-old items-rel.screen '<testcase classname="options" name="accepts theta in [0, 1]"'
	sqlite3 sub/old.db "UPDATE runs SET source = 'gone/runs/9816939720'"
	tui_in elsewhere "$WORK/sub/old.db"
	check_has items-rel-gone items-rel.screen "cannot find the run folder 'gone/runs/9816939720' here or above the index"
	# importing it again (unchanged) keeps its whole path from then on
	(cd demo && "$CISCOPE" --db "$WORK/sub/old.db" import --quiet runs/9816939720) >/dev/null 2>&1
	check_eq items-rel-reimport "$(sqlite3 sub/old.db 'SELECT source FROM runs')" "$WORK/demo/runs/9816939720"
fi
# the test that failed, with its failure output; the passed ones counted
tui items-test "$TEST
G<Enter>"
check_screen items-test
check_has items-tests items-test.screen 'tests · 96 passed, 1 failed, 0 errors, 0 skipped, 0 flaky'
check_has items-test-row items-test.screen '✗ orrery-engine › adaptive::tests::respects_min_dt'
check_has items-test-where items-test.screen '      engine-rs/src/adaptive.rs:4'
check_has items-test-msg items-test.screen 'assertion failed: next_dt(1.0e3, 1.0e-4, 1.0e-9) >= MIN_DT'
tui items-test-j "$TEST
G<Enter>j"
check_eq items-test-role "$(attrs_of items-test-j '✗ orrery-engine' | cut -c3)" f
check_eq items-test-detail-role "$(attrs_of items-test-j 'assertion failed' | cut -c7-9)" ddd
# Enter on a detail row closes its test again
tui items-test-close "$TEST
G<Enter>j<Enter>"
check_status items-test-close items-test-close 'row 47 of 47'
# the view's search finds items too
tui items-search "$TEST
/respects_min<Enter>"
check_status items-search items-search 'row 47 of'
# a long series: its first 200 values, the rest counted
tui items-parity "$PARITY
/energy_ref<Enter><Enter>"
check_status items-parity-msg items-parity 'the first 200 values of 1000'
check_has items-parity-first items-parity.screen '      step 1: -0.000168874'
# (row 19 is the series, 20-219 its values)
tui items-parity-end "$PARITY
/energy_ref<Enter><Enter>
:goto 220
"
check_has items-parity-more items-parity-end.screen '… 800 more values (1000 in all)'
# Enter on an artifact says where to go; on a job it still opens the log
tui items-artifact "$BENCH
:goto 15
<Enter>"
check_status items-artifact items-artifact 'Enter on one of its files shows what was read from it'
tui items-job "$BENCH
<Enter>"
check_title items-job items-job 'run 9821523781 / job bench'

# --- narrow screens drop the right-hand fields, not the names ---------------------------------
for sz in 30x8 60x12; do
	size "$sz"
	tui "items-narrow-$sz" "$TEST
G"
	check_exit "items-narrow-$sz-exit" 0
	check_has "items-narrow-$sz" "items-narrow-$sz.screen" '✗ orrery-engine'
done

# --- a log given alone: no step is named, the view says none are known -------------------------
saved_db=$DB
DB="$WORK/plain.db"
printf 'compiling\nerror: cannot find symbol Foo\n' >"$WORK/build.log"
"$CISCOPE" --db "$DB" import --quiet "$WORK/build.log" >/dev/null 2>&1
tui plain-nosteps '<Enter>'
check_exit plain-nosteps-exit 0
check_has plain-nosteps plain-nosteps.screen '      no steps known (the log does not mark them)'
check_status plain-nosteps-rows plain-nosteps '[run] row 1 of 2'
if grep -q 'Set up job' plain-nosteps.screen; then fail plain-nosteps-no-step "a step is named"; else ok plain-nosteps-no-step; fi
# a gh run view --log file: the step of the runner's exit line is marked
# failed, the steps before it passed, the one after it unknown (issue 9)
DB="$WORK/ghlog.db"
T='2024-05-01T10:48:3'
printf 'build\tSet up job\t%s6.1000000Z Current runner version\nbuild\tRun make\t%s8.1000000Z src/a.c:3:1: error: expected ;\nbuild\tRun make\t%s8.2000000Z ##[error]Process completed with exit code 2.\nbuild\tComplete job\t%s9.2000000Z Cleaning up orphan processes\n' \
	"$T" "$T" "$T" "$T" >"$WORK/gh.log"
"$CISCOPE" --db "$DB" import --quiet "$WORK/gh.log" >/dev/null 2>&1
tui gh-steps '<Enter>'
check_exit gh-steps-exit 0
check_has gh-steps-passed gh-steps.screen '  ✓   1 Set up job'
check_has gh-steps-failed gh-steps.screen '  ✗   2 Run make'
check_has gh-steps-after gh-steps.screen '  ·   3 Complete job'
DB=$saved_db

finish
