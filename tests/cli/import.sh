#!/bin/sh
# import.sh - `ciscope import`: text and --json reports, re-imports, bad
# input (exit 1, the rest still imported), usage errors.
. "$(dirname "$0")/lib.sh"

make_run_folders
cp "$PYTORCH/error_log1.txt" build.log

# a first import: text report on stderr, nothing on stdout
run import runs build.log
check_exit import-exit 0
import_summary >summary.txt
check_golden import.txt summary.txt
check_eq import-stdout-empty "$(wc -c <"$OUT" | tr -d ' ')" 0

# again, as JSON: everything unchanged
run import --json runs build.log
check_exit import-again-exit 0
check_golden import-again.json "$OUT"

# --quiet says nothing on success
run import --quiet runs
check_exit import-quiet-exit 0
check_eq import-quiet-silent "$(cat "$OUT" "$ERR" | wc -c | tr -d ' ')" 0

# a fresh index, JSON from the start
DB=fresh.db
run import --json runs/hub4j
check_exit import-json-exit 0
check_golden import.json "$OUT"

# bad input: one broken run folder among good ones
mkdir -p bad/broken bad/good
printf '{"id": 5, "status": "completed"' >bad/broken/run.json
printf '{"id": 6, "status": "completed", "conclusion": "success"}' >bad/good/run.json
printf '{"jobs": [{"id": 1, "name": "a"}, {"name": "b"}]}' >bad/good/jobs.json
mkdir -p bad/jobs
printf '{"id": 7}' >bad/jobs/run.json
printf '{"jobs": [ @ ]}' >bad/jobs/jobs.json
mkdir -p bad/ok
printf '{"id": 8, "status": "completed", "conclusion": "success"}' >bad/ok/run.json
DB=bad.db
run import bad
check_exit import-bad-exit 1
import_summary >bad.txt
check_golden import-bad.txt bad.txt
run import --json bad
check_exit import-bad-json-exit 1
check_golden import-bad.json "$OUT"
run runs --json
check_has import-bad-kept-good "$OUT" '"id":8,'
if grep -q '"id":[567],' "$OUT"; then
	fail import-bad-nothing-half "a broken run was imported"
else
	ok import-bad-nothing-half
fi

# a path that does not exist, a file that is not a log archive
run import does-not-exist
check_exit import-missing-exit 1
check_has import-missing-msg "$ERR" "cannot import path 'does-not-exist'"
printf 'PK\003\004 but not really a zip' >broken.zip
run import broken.zip
check_exit import-broken-zip-exit 1
check_has import-broken-zip-msg "$ERR" "broken.zip"

# an index that is not one: refused, file untouched
printf 'this is a text file\n' >notes.txt
cp notes.txt notes.before
DB=notes.txt
run import runs/hub4j
check_exit import-not-a-db-exit 1
check_has import-not-a-db-msg "$ERR" "not a ciscope index or is damaged"
if cmp -s notes.txt notes.before; then ok import-not-a-db-untouched; else
	fail import-not-a-db-untouched "the file was modified"; fi

# usage
DB=index.db
run import
check_exit import-no-args 2
check_has import-no-args-usage "$ERR" "usage: ciscope import"
run import --frobnicate runs
check_exit import-bad-option 2
run import --help
check_exit import-help-exit 0
check_golden help-import.txt "$OUT"

finish
