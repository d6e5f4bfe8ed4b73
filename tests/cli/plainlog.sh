# plainlog.sh - logs given to ciscope alone (issue 9, item 1): a plain log's
# conclusion comes from the evidence in it (and says which), --conclusion
# overrides it, it is triaged at import; `gh run view --log` files (and
# ciscope's own `log` output) are split into their jobs and steps, the
# prefix stripped from the text but put back by `log --raw`; titles tell
# "astor_1260/fail.log" from "cidiff_11/fail.log"; a log without steps says
# so instead of naming a step that is not there.
. "$(dirname "$0")/lib.sh"

CIDIFF="$FIXTURES/cidiff/data"

# the id of the run imported from the only PATH given (from import --json)
import_id() {
	run import --json "$@"
	sed -n 's/^{"runs":\[{"id":\([0-9]*\),.*/\1/p' "$OUT"
}

# Each real log, given as a plain file, is a failed run with a finding of a
# rule (or a marker), found at import.
n=0
for f in "$CIDIFF"/breakages/*/fail.log "$CIDIFF"/breakages_dump/*/*/fail.log \
	"$PYTORCH"/classify/*.txt "$PYTORCH"/error_log1.txt; do
	n=$((n + 1))
	id=$(import_id "$f")
	name=$(basename "$(dirname "$f")")/$(basename "$f")
	run show --json "$id"
	check_has "plain-$n-failed ($name)" "$OUT" '"conclusion":"failure","created_at"'
	run triage --json "$id"
	if grep -q '"source":"rule"\|"source":"marker"' "$OUT"; then
		ok "plain-$n-findings ($name)"
	else
		fail "plain-$n-findings ($name)" "no rule or marker finding: $(head -c 300 "$OUT")"
	fi
done

# titles: parent folder and file name, so the fail.log files differ
run runs --json --limit 100
check_has title-parent "$OUT" '"title":"astor_1260/fail.log"'
check_has title-parent-2 "$OUT" '"title":"cidiff_11/fail.log"'

# show says why; the log marks no steps, and show says so
id=$(import_id "$CIDIFF/breakages/astor_1260/fail.log")
run show "$id"
check_has show-why "$OUT" "failure: 4 error findings, the first on line 373: [ERROR] Failed to execute goal"
check_has show-no-steps "$OUT" "no steps known"

# the evidence, one kind at a time
mkdir -p ev/quiet ev/verdict ev/named
printf 'compiling\nall good\nBUILD SUCCESS\n' >ev/quiet/build.log
printf 'compiling\n[INFO] BUILD FAILURE\n' >ev/verdict/build.log
printf 'compiling\nall good\n' >ev/named/failing-run.log
id=$(import_id ev/quiet/build.log)
run show --json "$id"
check_has evidence-none "$OUT" '"conclusion_why":"no error finding and no failure verdict in the log"'
check_has evidence-none-success "$OUT" '"conclusion":"success","created_at"'
run triage --json "$id"
check_exit evidence-none-not-triaged 0
check_has evidence-none-no-findings "$OUT" '"jobs":[]'
# its one job, inserted as failed until judged, is set passed by its id:
# the same rows and metric marks as through the run (6 for the run, its
# job, its stored log and the conclusions), in a batch of failed ones too
if command -v sqlite3 >/dev/null 2>&1; then
	mkdir -p ev/batch ev/again
	printf 'compiling again\nall good\n' >ev/again/build.log
	printf 'compiling\nsrc/a.c:3:1: error: expected ;\nBUILD FAILURE\n' >ev/batch/a-fails.log
	cp ev/quiet/build.log ev/batch/b-passes.log
	printf 'compiling\nsrc/c.c:9:4: error: unknown type name\n' >ev/batch/c-fails.log
	g0=$(sqlite3 "$DB" "SELECT gen FROM metric_gen")
	id=$(import_id ev/again/build.log)
	check_eq evidence-none-job-passed "$(sqlite3 "$DB" "SELECT j.conclusion FROM jobs j
		JOIN runs r ON r.id = j.run_id WHERE r.provider_id = $id")" success
	check_eq evidence-none-metric-gen "$(($(sqlite3 "$DB" "SELECT gen FROM metric_gen") - g0))" 6
	check_eq evidence-none-dirty "$(sqlite3 "$DB" "SELECT count(*) FROM metric_dirty_runs d
		JOIN runs r ON r.id = d.run_id WHERE r.provider_id = $id")" 1
	run import --quiet ev/batch
	check_exit evidence-batch-exit 0
	check_eq evidence-batch-jobs "$(sqlite3 "$DB" "SELECT group_concat(r.conclusion || ':' ||
		j.conclusion, ' ') FROM (SELECT * FROM runs ORDER BY id DESC LIMIT 3) r
		JOIN jobs j ON j.run_id = r.id ORDER BY r.id")" \
		"failure:failure success:success failure:failure"
fi
id=$(import_id ev/verdict/build.log)
run show --json "$id"
check_has evidence-verdict "$OUT" '"conclusion_why":"a failure verdict on line 2: [INFO] BUILD FAILURE"'
id=$(import_id ev/named/failing-run.log)
run show --json "$id"
check_has evidence-name "$OUT" "its name says it failed (named/failing-run.log)"
# ... and its triage is stored at import (the fallback: the last lines),
# where a log judged passing stores none
if command -v sqlite3 >/dev/null 2>&1; then
	check_eq evidence-name-triaged-at-import "$(sqlite3 "$DB" "SELECT count(*) FROM triage_jobs t JOIN jobs j ON j.id = t.job_id JOIN runs r ON r.id = j.run_id WHERE r.provider_id = $id AND t.fallback")" 1
fi
run triage --json "$id"
check_has evidence-name-triaged "$OUT" '"fallback":true'
# Jenkins' verdict on the whole build ends its log: a real passing log
# (sorald_445) whose errors the build tolerated is a success; the same
# verdict anywhere but on the last line, or only in a longer word, is not
# passed_log NAME FILE WHY: FILE imports as a success for WHY, untriaged
passed_log() {
	id=$(import_id "$2")
	run show --json "$id"
	check_has "$1" "$OUT" '"conclusion":"success","created_at"'
	check_has "$1-why" "$OUT" "\"conclusion_why\":\"$3\""
	run show "$id"
	check_has "$1-show" "$OUT" "success: $3"
	run triage --json "$id"
	check_has "$1-no-findings" "$OUT" '"jobs":[]'
}
passed_log jenkins-success "$CIDIFF/breakages/sorald_445/pass.log" \
	"the log ends in a success verdict (Finished: SUCCESS)"
# ... also when the log is too long to be judged in memory (dspot_842: 1.6 MB)
passed_log jenkins-long-success "$CIDIFF/breakages/dspot_842/pass.log" \
	"the log ends in a success verdict (Finished: SUCCESS)"
# A complete GitHub Actions job log (it ends in the runner's "Cleaning up
# orphan processes") where the runner wrote no ##[error] line and steps ran
# after the last error passed: its errors were tolerated (cv_45/pass.log,
# "sh: tput: not found" on line 2825, then actions/upload-artifact ran)
passed_log gha-complete "$CIDIFF/breakages/cv_45/pass.log" \
	"a complete GitHub Actions log with no failed step: no ##[error] line from the runner, and steps ran after the error on line 2825 (tolerated)"
# the failing log of the same job is complete and has no ##[error] line
# either, but nothing but the runner's clean-up ran after its error
id=$(import_id "$CIDIFF/breakages/cv_45/fail.log")
run show --json "$id"
check_has gha-stopped-failure "$OUT" '"conclusion":"failure","created_at"'
check_has gha-stopped-why "$OUT" '"conclusion_why":"1 error finding, the first on line 1817: fatal: unsafe repository'
# the passing log with a runner's failure line, or cut before its end, is
# no evidence of success
mkdir -p ev/gha-marked ev/gha-cut
sed '2825a\
2022-03-24T15:00:00.0000000Z ##[error]Process completed with exit code 1.' \
	"$CIDIFF/breakages/cv_45/pass.log" >ev/gha-marked/pass.log
sed '$d' "$CIDIFF/breakages/cv_45/pass.log" >ev/gha-cut/pass.log
for k in gha-marked gha-cut; do
	id=$(import_id ev/$k/pass.log)
	run show --json "$id"
	check_has $k-failure "$OUT" '"conclusion":"failure","created_at"'
done
mkdir -p ev/midverdict ev/notverdict
printf 'Finished: SUCCESS\n[ERROR] Failed to execute goal x\nFinished: FAILURE\n' >ev/midverdict/build.log
printf '[ERROR] Failed to execute goal x\nNotFinished: SUCCESS\n' >ev/notverdict/build.log
for k in midverdict notverdict; do
	id=$(import_id ev/$k/build.log)
	run show --json "$id"
	check_has jenkins-$k-failure "$OUT" '"conclusion":"failure","created_at"'
done


# --conclusion decides instead, and re-importing with another one updates
id=$(import_id --conclusion failure ev/quiet/build.log)
run show --json "$id"
check_has conclusion-given "$OUT" '"conclusion_why":"given with --conclusion"'
check_has conclusion-given-failure "$OUT" '"conclusion":"failure","created_at"'
run triage --json "$id"
check_has conclusion-given-triaged "$OUT" '"fallback":true'
run import --conclusion red ev/quiet/build.log
check_exit conclusion-bad-exit 2
check_has conclusion-bad-msg "$ERR" "ciscope: import: --conclusion 'red' is not one of: failure, success"

# the first telling line names a log whose place says nothing
mkdir -p tmp
printf 'compiling\nerror: cannot find symbol Foo\n' >tmp/build.log
id=$(import_id tmp/build.log)
run show --json "$id"
check_has title-telling "$OUT" '"title":"tmp/build.log: error: cannot find symbol Foo"'

# gh run view --log: a run folder converted by a small script (job names
# from jobs.json, steps by the time of each line, as gh attributes them)
make_run_folders
mkdir -p gh0
python3 - runs/hub4j-failed >gh0/run.log <<'PY'
import json, os, sys
from datetime import datetime, timezone
def utc(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00")).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
d = sys.argv[1]
jobs = json.load(open(os.path.join(d, "jobs.json")))["jobs"]
for j in jobs:
    p = os.path.join(d, "logs", "%d.txt" % j["id"])
    if not os.path.exists(p):
        continue
    steps = j.get("steps") or []
    cur = steps[0]["name"] if steps else "UNKNOWN STEP"
    for line in open(p, "rb").read().split(b"\n"):
        t = line.lstrip(b"\xef\xbb\xbf")[:19].decode("ascii", "replace")
        for s in steps:
            if s.get("started_at") and utc(s["started_at"]) <= t <= utc(s.get("completed_at") or s["started_at"]):
                cur = s["name"]
                break
        if line:
            sys.stdout.buffer.write(("%s\t%s\t" % (j["name"], cur)).encode() + line + b"\n")
PY
id=$(import_id gh0/run.log)
run show --json "$id"
check_has gh-jobs "$OUT" '"name":"job1"'
check_has gh-jobs-2 "$OUT" '"name":"job2"'
check_has gh-steps "$OUT" '"name":"Run a one-line script"'
run log "$id/job1"
check_has gh-text-stripped "$OUT" "job1	Run a one-line script	"
if grep -q "job1	[^	]*	job1	" "$OUT"; then
	fail gh-prefix-once "the prefix is stored with the text: $(grep -m1 "job1	[^	]*	job1" "$OUT")"
else
	ok gh-prefix-once
fi
"$CISCOPE" --db "$DB" log --raw "$id" >raw.out
if cmp -s raw.out gh0/run.log; then ok gh-raw-lossless; else fail gh-raw-lossless "log --raw differs from the file"; fi

# a failed job of a gh run view --log file: the step of the runner's exit
# line failed, those before it passed, those after it stay unknown; without
# the exit line the step of the last error finding failed; a job that
# passed keeps its steps unknown (issue 9)
T='2024-05-01T10:48:3'
mkdir -p ghstep
printf 'build\tSet up job\t%s6.1000000Z Current runner version\nbuild\tRun actions/checkout@v4\t%s7.1000000Z Syncing repository\nbuild\tRun make\t%s8.1000000Z src/a.c:3:1: error: expected ;\nbuild\tRun make\t%s8.2000000Z ##[error]Process completed with exit code 2.\nbuild\tPost Run actions/checkout@v4\t%s9.1000000Z Post job cleanup.\nbuild\tComplete job\t%s9.2000000Z Cleaning up orphan processes\n' \
	"$T" "$T" "$T" "$T" "$T" "$T" >ghstep/exit.log
# the error in step 2, the runner's exit line in step 3 (a later step failed)
printf 'build\tSet up job\t%s6.1000000Z Current runner version\nbuild\tLint\t%s7.1000000Z src/a.c:3:1: error: expected ;\nbuild\tRun make\t%s8.1000000Z make: ok\nbuild\tRun make\t%s8.2000000Z ##[error]Process completed with exit code 1.\nbuild\tComplete job\t%s9.2000000Z Cleaning up orphan processes\n' \
	"$T" "$T" "$T" "$T" "$T" >ghstep/later.log
# (a complete log without the exit line passed: cut it before the clean-up)
grep -v 'Process completed\|Cleaning up' ghstep/exit.log >ghstep/noexit.log
steps_of() { # RUN: "number:conclusion ..." of its first job
	run show --json "$1"
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1]))
print(" ".join("%d:%s" % (s["number"], s["conclusion"]) for s in j["jobs"][0]["steps"]))' "$OUT"
}
id=$(import_id ghstep/exit.log)
check_eq gh-step-exit "$(steps_of "$id")" "1:success 2:success 3:failure 4:None 5:None"
id=$(import_id ghstep/later.log)
check_eq gh-step-exit-later "$(steps_of "$id")" "1:success 2:success 3:failure 4:None"
id=$(import_id ghstep/noexit.log)
check_eq gh-step-finding "$(steps_of "$id")" "1:success 2:success 3:failure 4:None"
run show "$id"
check_has gh-step-finding-text "$OUT" "3 Run make"
id=$(import_id --conclusion success ghstep/exit.log)
check_eq gh-step-passed "$(steps_of "$id")" "1:None 2:None 3:None 4:None 5:None"

# the real logs as gh run view --log output (lines of a GitHub log carry
# the runner's timestamp): each is a failed run with its findings, and
# --raw gives the file back
n=0
for f in "$CIDIFF"/breakages/astor_1260/fail.log "$CIDIFF"/breakages/commonscodec_2463/fail.log \
	"$CIDIFF"/breakages/assertfixer_1320/fail.log "$PYTORCH"/classify/gha_timeout.txt \
	"$PYTORCH"/classify/cuda_oom_class.txt "$PYTORCH"/classify/compile_error.txt; do
	n=$((n + 1))
	mkdir -p "gh$n"
	awk '/^(#=MATCH=# )?20[0-9][0-9]-[0-9][0-9]-[0-9][0-9]T/ { sub(/^#=MATCH=# /, ""); printf "build / test\tRun tests\t%s\n", $0; next }
	     { printf "build / test\tRun tests\t2024-05-01T10:48:36.8101331Z %s\n", $0 }' "$f" >"gh$n/run.log"
	id=$(import_id "gh$n/run.log")
	run show --json "$id"
	check_has "gh-real-$n-failed" "$OUT" '"conclusion":"failure","created_at"'
	check_has "gh-real-$n-job" "$OUT" '"name":"build / test"'
	run triage --json "$id"
	if grep -q '"source":"rule"\|"source":"marker"' "$OUT"; then
		ok "gh-real-$n-findings"
	else
		fail "gh-real-$n-findings" "no rule or marker finding: $(head -c 300 "$OUT")"
	fi
	"$CISCOPE" --db "$DB" log --raw "$id" >raw.out
	if cmp -s raw.out "gh$n/run.log"; then ok "gh-real-$n-raw"; else fail "gh-real-$n-raw" "differs"; fi
done
# cidiff_11 is such a file already
id=$(import_id "$CIDIFF/breakages/cidiff_11/fail.log")
run show "$id"
check_has gh-cidiff-steps "$OUT" "4 build cidiff"
"$CISCOPE" --db "$DB" log --raw "$id" >raw.out
if cmp -s raw.out "$CIDIFF/breakages/cidiff_11/fail.log"; then ok gh-cidiff-raw; else fail gh-cidiff-raw differs; fi

# a log file over 1 MiB is streamed from the file, a smaller one read once
# into memory (fingerprint, gh-log scan and store from the same bytes): both
# ways give the file back and see its jobs
awk 'BEGIN { for (i = 0; i < 24000; i++)
	printf "job%d\tstep %d\t2024-05-01T10:48:36.8101331Z line %d of a long log\n", int(i / 12000) + 1, int(i / 3000) + 1, i }' >ghbig.log
head -n 900 ghbig.log >ghsmall.log
cut -f3 ghbig.log >plainbig.log
[ "$(wc -c <ghbig.log)" -gt 1048576 ] && [ "$(wc -c <plainbig.log)" -gt 1048576 ] &&
	ok big-logs-over-1mib || fail big-logs-over-1mib "the generated logs are too small to be streamed"
for f in ghbig ghsmall plainbig; do
	bid=$(import_id "$f.log")
	"$CISCOPE" --db "$DB" log --raw "$bid" >raw.out
	if cmp -s raw.out "$f.log"; then ok "$f-raw"; else fail "$f-raw" differs; fi
done
run show --json "$(import_id ghbig.log)"
check_has ghbig-job2 "$OUT" '"name":"job2"'

# a folder of logs: each is read ahead on a second thread while the one
# before it is stored; the runs are those of the files imported one by one
# (same ids, same bytes), and a FIFO named like a log hangs nothing
mkdir -p ahead
cp ghsmall.log ahead/a.log
cp "$CIDIFF/breakages/cidiff_11/fail.log" ahead/b.log
printf 'one line\n' >ahead/c.txt
cp plainbig.log ahead/d.log
mkfifo ahead/e.log 2>/dev/null || true
printf 'after the fifo\n' >ahead/f.log
DB2=ahead.db
if timeout 60 "$CISCOPE" --db "$DB2" import --quiet ahead >ahead.out 2>&1; then
	ok ahead-import
else
	fail ahead-import "$(head -c 300 ahead.out)"
fi
for f in a b c d f; do
	ext=log; [ "$f" = c ] && ext=txt
	one=$(import_id "ahead/$f.$ext")
	got=$("$CISCOPE" --db "$DB2" runs --json --limit 0 2>/dev/null | grep -c "\"id\":$one,")
	[ "$got" = 1 ] && ok "ahead-$f-same-id" || fail "ahead-$f-same-id" "run $one not in the folder's import"
	"$CISCOPE" --db "$DB2" log --raw "$one" >raw.out
	if cmp -s raw.out "ahead/$f.$ext"; then ok "ahead-$f-raw"; else fail "ahead-$f-raw" differs; fi
done

# ciscope's own log output, re-imported the same way
"$CISCOPE" --db "$DB" log "$id" >own.log
id2=$(import_id own.log)
run show "$id2"
check_has own-steps "$OUT" "4 build cidiff"
check_has own-failed "$OUT" "failure"
"$CISCOPE" --db "$DB" log --raw "$id2" >raw.out
if cmp -s raw.out own.log; then ok own-raw; else fail own-raw differs; fi

# a file with two tabs per line but no log in its third field stays plain
printf 'a\tb\tc\nd\te\tf\n' >table.log
# a log judged at import is a run just inserted: its jobs have no triage
# rows to replace, even with the id of a deleted job that had some (they
# went with it), and its jobs' inserts marked it for the metrics
if command -v sqlite3 >/dev/null 2>&1; then
	printf 'compiling\nsrc/b.c:7:2: error: expected )\nBUILD FAILURE\n' >reused_a.log
	printf 'compiling\nsrc/c.c:9:4: error: unknown type name\nBUILD FAILURE\n' >reused_b.log
	# (import --json names a run by its provider id)
	id=$(import_id reused_a.log)
	job=$(sqlite3 "$DB" "SELECT j.id FROM jobs j JOIN runs r ON r.id = j.run_id
		WHERE r.provider_id = $id")
	check_eq reused-a-triaged "$(sqlite3 "$DB" "SELECT count(*) > 0 FROM triage_findings
		WHERE job_id = $job")" 1
	sqlite3 "$DB" "PRAGMA foreign_keys = ON; DELETE FROM runs WHERE provider_id = $id"
	id=$(import_id reused_b.log)
	check_eq reused-job-id "$(sqlite3 "$DB" "SELECT j.id FROM jobs j JOIN runs r ON
		r.id = j.run_id WHERE r.provider_id = $id")" "$job"
	check_eq reused-only-new-findings "$(sqlite3 "$DB" "SELECT count(*) FROM triage_findings
		WHERE job_id = $job AND title LIKE '%expected )%'")" 0
	sqlite3 "$DB" "SELECT title FROM triage_findings WHERE job_id = $job" >reused.txt
	check_has reused-new-finding reused.txt "unknown type name"
	check_eq reused-metrics-dirty "$(sqlite3 "$DB" "SELECT count(*) FROM metric_dirty_runs d
		JOIN runs r ON r.id = d.run_id WHERE r.provider_id = $id")" 1
fi
# the import judged those logs from memory (the bytes it had just stored);
# retriage reads them back from the index: the same findings and excerpts
if command -v sqlite3 >/dev/null 2>&1; then
	snap() {
		sqlite3 "$DB" "SELECT job_id, rank, shown, step_number, line, end_line, source, rule,
			category, severity, weak, title, explain, test_name, repeats, fingerprint, key_text,
			excerpt FROM triage_findings ORDER BY job_id, rank;
			SELECT job_id, version, n_findings, n_lines, n_dropped, fallback FROM triage_jobs
			ORDER BY job_id"
	}
	snap >judged.txt
	run retriage
	check_exit retriage-exit 0
	snap >retriaged.txt
	check_eq judged-nonempty "$(test "$(wc -l <judged.txt)" -gt "$n" && echo yes)" yes
	if cmp -s judged.txt retriaged.txt; then ok judged-from-memory-same-as-index; else
		fail judged-from-memory-same-as-index "$(diff judged.txt retriaged.txt | head -5)"; fi
fi

# a plain log's job id is one ciscope made up: triage and show name the job
# without it (no "compile_error (1)"); a fetched run's job keeps its id
printf 'compiling\nsrc/a.c:3:1: error: expected ;\nBUILD FAILURE\n' >compile_error.log
id=$(import_id compile_error.log)
run triage "$id"
check_has adhoc-job-no-id "$OUT" "compile_error failure"
check_eq adhoc-job-no-id-2 "$(grep -c "compile_error (1)" "$OUT")" 0
run show "$id"
check_has adhoc-show-no-id "$OUT" "compile_error  failure"
check_eq adhoc-show-no-id-2 "$(grep -c "compile_error (1)" "$OUT")" 0

id=$(import_id table.log)
run log "$id"
check_has tsv-plain "$OUT" "a	b	c"

finish
