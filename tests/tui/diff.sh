#!/bin/sh
# diff.sh - the diff view on the demo data set (tools/demo-gen.py): a run
# against its baseline at 80x24, 200x50 and 30x8 against golden screens;
# the demo's planted failures as the diff shows them (the rustc error as
# the first new lines of test-rust, where reading starts; the Jest
# assertion as the new failing test; the parity regression's first
# violation at the step the demo planted, with its chart); Enter into the
# log pager at the line (of the run, or of the baseline for a '-' line);
# folding; added-only / both sides; d from the runs, run, triage and log
# views and :diff RUN [BASE]; a run without a baseline; hostile text in a
# job name and a log line never reaching the terminal.
. "$(dirname "$0")/lib.sh"

demo_db || finish

RUST=9805100433      # the planted rustc error (test-rust and build-wasm)
RUST_BASE=9804570497 # ... its baseline: the base branch's green run
JEST=9805922920      # the planted Jest assertion (test-ts)
PARITY=9809254290    # the planted parity regression (energy from step 607)

# --- the view at three sizes: the rustc error is where reading starts --------------------
for sz in 80x24 200x50 30x8; do
	size "$sz"
	tui "diff-$sz" ":filter $RUST
d"
	check_exit "diff-$sz-exit" 0
	check_screen "diff-$sz"
	check_eq "diff-$sz-lines" "$(wc -l <"diff-$sz.screen" | tr -d ' ')" "${sz#*x}"
	check_has "diff-$sz-start" "diff-$sz.screen" "▶+> 176"
done
check_attrs diff-80x24
size 80x24
check_title title diff-80x24 "diff · run $RUST vs $RUST_BASE"
check_status status diff-80x24 '83 new · added only'
check_has rust-first diff-200x50.screen '▶+> 176      error[E0308]: mismatched types'
check_eq role-added "$(attrs_under diff-80x24 '+> 177' 'engine-rs/src/integrator.rs:88:17')" \
	"$(printf '+%.0s' $(seq 1 33))"
check_eq role-finding "$(attrs_under diff-80x24 '+> 177' '>')" e

# the top: the summary, the baseline and why, the counts
tui top ":filter $RUST
dg"
check_has top-run top.screen "run: run $RUST · ci · twierzbicki/f32-simd · 4dd7aca · failure"
check_has top-base top.screen "baseline: run $RUST_BASE · ci · main · 7336edb · success"
check_has top-why top.screen '  why: pull request base: newest green run of main before this one'
check_has top-counts top.screen '83 new log lines in 4 jobs · 0 new failing tests · 0 slower steps'
check_has top-section top.screen '▾ log: 83 new lines in 4 jobs of 4 paired · added only'

# --- one job: the rustc error is test-rust's first new line, from the run view ------------
tui run-job ":filter $RUST
<Enter>
/test-rust<Enter>
d"
check_title run-job-title run-job "diff · run $RUST/test-rust vs $RUST_BASE"
check_has run-job-start run-job.screen '▶+> 176      error[E0308]: mismatched types'
tui run-job-top ":filter $RUST
<Enter>
/test-rust<Enter>
dg"
check_has run-job-only run-job-top.screen 'log: 31 new lines in 1 job of 1 paired'

# Enter on the marked line: the pager at line 176 of the run's test-rust log
tui enter ":filter $RUST
<Enter>
/test-rust<Enter>
d<Enter>"
check_title enter-title enter "test-rust"
check_eq enter-cursor "$(attrs_of enter 'error[E0308]' | cut -c1-10)" CCCCCCCCCC
check_has enter-line enter.screen '176'

# --- the Jest assertion: the new failing test ----------------------------------------------
tui jest ":diff $JEST
gZjjjjjz"
check_has jest-count jest.screen '1 new failing test'
check_has jest-test jest.screen 'new failure   integrator › conserves energy'
check_has jest-was jest.screen '(passed before)'

# --- the parity regression: the first violation at step 607, the chart ---------------------
size 200x50
tui parity ":diff $PARITY
G"
check_has parity-verdict parity.screen 'parity: fail · 4 channels'
check_has parity-first parity.screen 'energy: 394/1000 steps beyond tolerance, first at step 607, sustained from 607'
check_has parity-chart parity.screen '│ first violation 607'
check_has parity-vs-base parity.screen 'energy_cand: 394/1000 steps beyond tolerance, first at step 607'
check_has parity-steps parity.screen 'Run node tools/parity.mjs --steps 1000 --out parity: failure (was success)'
tui parity-log ":diff $PARITY"
check_has parity-log-start parity-log.screen '▶+   861       step 0607'
size 30x8
tui parity-small ":diff $PARITY
G"
check_exit parity-small-exit 0
check_eq parity-small-lines "$(wc -l <parity-small.screen | tr -d ' ')" 8
size 80x24

# --- folding: z on a section, Z for all, z on a job ------------------------------------------
tui fold ":filter $RUST
dgZ"
check_has fold-log fold.screen '▸ log: 83 new lines in 4 jobs of 4 paired'
check_has fold-tests fold.screen '▸ tests: 0 new failures'
check_eq fold-rows "$(status_line fold.screen | grep -o 'row 1 of [0-9]*')" 'row 1 of 8'
tui unfold ":filter $RUST
dgZZ"
check_has unfold unfold.screen '▾ log: 83 new lines'
tui fold-job ":filter $RUST
dgjjjjjz"
check_has fold-job fold-job.screen '  ▸ lint · 175 lines vs 171'
check_has fold-job-next fold-job.screen '  ▾ test-ts'
tui fold-section ":filter $RUST
dgjjjjz"
check_has fold-section fold-section.screen '▸ log: 83 new lines'

# --- added only / both sides --------------------------------------------------------------
tui both ":filter $RUST
<Enter>
/test-rust<Enter>
dag"
check_status both-status both 'both sides'
check_has both-title both.screen 'log: 31 new lines in 1 job of 1 paired · both sides'
tui both-minus ":filter $RUST
<Enter>
/test-rust<Enter>
da
/Switched to a new branch<Enter>"
check_has both-minus both-minus.screen "     -       98  Switched to a new branch 'main'"
check_eq both-minus-role "$(attrs_under both-minus 'set up to track' 'track')" -----
tui added-again ":filter $RUST
<Enter>
/test-rust<Enter>
daa"
check_status added-again added-again 'added only'

# Enter on a '-' line: the pager on the baseline's log at its line
tui enter-minus ":filter $RUST
<Enter>
/test-rust<Enter>
da
/Switched to a new branch<Enter>
<Enter>"
check_title enter-minus-title enter-minus "run $RUST_BASE / job test-rust"
check_eq enter-minus-cursor "$(attrs_of enter-minus "Switched to a new branch 'main'" | cut -c1-10)" CCCCCCCCCC

# --- d from the views --------------------------------------------------------------------------
tui from-runs ":filter $RUST
d"
check_title from-runs from-runs "diff · run $RUST vs"
tui from-triage ":filter $RUST
<Enter>
T
d"
check_title from-triage from-triage "diff · run $RUST"
tui from-triage-job ":filter $RUST
<Enter>
T
/test-rust<Enter>
d"
check_title from-triage-job from-triage-job "diff · run $RUST/test-rust vs $RUST_BASE"
tui from-log ":filter $RUST
<Enter>
/test-rust<Enter>
<Enter>
d"
check_title from-log from-log "diff · run $RUST/test-rust vs $RUST_BASE"
# q goes back to the log
tui back ":filter $RUST
<Enter>
/test-rust<Enter>
<Enter>
dq"
check_title back back "test-rust"
# nothing selected: a message, no view
tui from-help "h
d"
check_status from-help from-help 'no run is selected here'

# :diff from the run view; e moves to the next hunk, E back
tui in-run ":filter $RUST
<Enter>
:diff $RUST
ge"
check_title in-run in-run "diff · run $RUST vs $RUST_BASE"
check_eq in-run-e "$(attrs_of in-run "Current runner version: '2.320.0'" | cut -c1-8)" CCCCCCCC
tui hunk-back ":diff $RUST
geeE"
check_eq hunk-back "$(attrs_of hunk-back "Current runner version: '2.320.0'" | cut -c1-8)" CCCCCCCC

# --- :diff RUN BASE and errors -----------------------------------------------------------------
tui explicit ":diff $RUST/test-rust $RUST_BASE/test-rust
g"
check_title explicit explicit "diff · run $RUST/test-rust vs $RUST_BASE"
check_has explicit-why explicit.screen 'why: named on the command line'
tui bad-run ":diff 42"
check_status bad-run bad-run 'diff:'
check_exit bad-run-exit 0

# no baseline (the oldest run of ci): a message and the run's tests alone
OLDEST=$("$CISCOPE" --db "$DB" runs --workflow ci --limit 1000 --json |
	python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["id"])' 2>/dev/null)
if [ -n "$OLDEST" ]; then
	tui nobase ":diff $OLDEST
g"
	check_has nobase-text nobase.screen 'no baseline:'
	check_has nobase-alone nobase.screen "showing this run's tests and parity alone"
	check_has nobase-tests nobase.screen 'tests:'
else
	fail nobase "cannot list the runs of ci"
fi

# --- hostile text: escapes in a job name and a log line ---------------------------------------
cat >mkevil.py <<'EOF'
import json, os, sys
out = sys.argv[1]
ESC = "\x1b]52;c;SGVsbG8=\x07\x1b]0;pwned\x07\x1b[2J"
def run(rid, sha, concl, minute, lines):
    d = os.path.join(out, str(rid))
    os.makedirs(os.path.join(d, "logs"), exist_ok=True)
    json.dump({"id": rid, "name": "ci", "run_attempt": 1, "run_number": minute,
               "head_branch": "main", "head_sha": sha, "event": "push",
               "status": "completed", "conclusion": concl, "display_title": "x",
               "created_at": "2026-10-01T10:%02d:00Z" % minute,
               "updated_at": "2026-10-01T10:%02d:30Z" % minute,
               "repository": {"full_name": "t/evil"}}, open(os.path.join(d, "run.json"), "w"))
    job = rid * 10
    json.dump({"total_count": 1, "jobs": [{"id": job, "run_id": rid, "name": "build " + ESC,
               "status": "completed", "conclusion": concl,
               "started_at": "2026-10-01T10:%02d:00Z" % minute,
               "completed_at": "2026-10-01T10:%02d:30Z" % minute, "steps": []}]},
              open(os.path.join(d, "jobs.json"), "w"))
    with open(os.path.join(d, "logs", "%d.txt" % job), "wb") as f:
        for l in lines:
            f.write(b"2026-10-01T10:00:00.0000000Z " + l + b"\n")
common = [b"step one", b"step two", b"compiling things"]
run(501, "a" * 40, "success", 10, common + [b"done"])
run(502, "b" * 40, "failure", 20, common + [b"boom " + ESC.encode() + b"\x9b6n tail",
                                          b"##[error]failed " + ESC.encode()])
EOF
python3 mkevil.py evil
DB=evil.db
"$CISCOPE" --db "$DB" import --quiet evil >"$OUT" 2>"$ERR"
check_exit evil-import 0
tui evil ":diff 502"
check_exit evil-exit 0
check_has evil-line evil.screen 'boom \x9b6n tail'
check_has evil-job evil.screen 'build ^[]52;c;SGVsbG8=^G^[]0;pwned^G^[[2J'
check_no_raw evil-osc52 evil.raw '\033]52'
check_no_raw evil-osc0 evil.raw '\033]0;pwned'
check_no_raw evil-dsr evil.raw '\2336n'
tui evil-both ":diff 502
a"
check_no_raw evil-both-osc52 evil-both.raw '\033]52'

finish
