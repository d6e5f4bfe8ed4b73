#!/bin/sh
# triage.sh - the triage view on the demo data set (tools/demo-gen.py), and
# the run list's mark for runs that failed only by known flakes: the view at
# 80x24, 200x50 and 30x8 against golden screens (by run and by fingerprint,
# one run's failures from the run view), the grouping text, decisions in
# their own colours, moving between findings, folding, Enter into the log
# pager at the finding's line, setting triage states and a note and seeing
# them again after reopening, filters, a stale triage brought up to date,
# tiny and resized screens.
. "$(dirname "$0")/lib.sh"

demo_db || finish

# who sets a state comes from git config user.name: a HOME of our own
own_home

# the run of the planted rustc error (two failed jobs) and the run of the
# planted flaky network failure (npm ECONNRESET in test-ts, green on attempt 2)
RUST=':filter 9805100433
<Enter>'
FLAKY=9804447728

# --- the view at three sizes ---------------------------------------------------------------
for sz in 80x24 200x50 30x8; do
	size "$sz"
	tui "triage-$sz" 'T'
	check_exit "triage-$sz-exit" 0
	check_screen "triage-$sz"
	tui "triage-open-$sz" 'Tez'
	check_screen "triage-open-$sz"
	tui "triage-groups-$sz" 'Tv'
	check_screen "triage-groups-$sz"
	tui "triage-run-$sz" "$RUST
T"
	check_screen "triage-run-$sz"
	check_eq "triage-$sz-lines" "$(wc -l <"triage-$sz.screen" | tr -d ' ')" "${sz#*x}"
done
for v in triage triage-open triage-groups triage-run; do
	check_attrs "$v-80x24"
done
size 80x24

check_title title triage-80x24 'triage · failed runs, newest first'
check_status counts triage-80x24 '29 failures · 20 new · 1 flaky'
check_status counts-wide triage-200x50 '24 runs · 29 failures · 20 new · 1 flaky'
check_status counts-tiny triage-30x8 '29 · 20 new'
# the groups count telling fingerprints only: the runner's hidden exit line
# ("Process completed with exit code 1") is no group, and no flaky one
check_status counts-groups triage-groups-80x24 '11 untriaged · 1 flaky'
check_status counts-groups-wide triage-groups-200x50 '11 fingerprints · 11 untriaged · 1 flaky'
check_title title-groups triage-groups-80x24 'triage · by fingerprint, last seen first'
check_title title-run triage-run-80x24 'triage · run 9805100433 · ci · twierzbicki/f32-simd'
check_status counts-run triage-run-80x24 '3 failures · 3 new · 0 flaky'

# failed runs -> failed jobs -> findings, each with the fingerprint's history
check_has tree-run triage-80x24.screen '✗ ci     main             ade90fd docs: release checkli…'
check_has tree-job triage-80x24.screen '  ✗ build-wasm'
# the OOM failed on every run of its commits: deterministic, not a retry;
# its headline is the telling part, not the runner's script path; the
# state column is blank while nobody triaged it
check_has tree-finding triage-80x24.screen '          oom     investigate Killed wasm-pack build…       4 runs since fd235b8'
check_has tree-new triage-80x24.screen 'new · 4 runs since fd235b8'
check_has wide-grouping triage-200x50.screen '8 runs since f60058c · 7 commits parity'
check_has wide-decision triage-200x50.screen 'fix the code     parity: energy diverged at step 618'
check_has groups-flaky triage-groups-200x50.screen 'npm ERR! code ECONNRESET'
check_has groups-flaky-text triage-groups-200x50.screen '1 run since 9011bf8 · flaky npm-network'
check_has groups-parity triage-groups-200x50.screen '8 runs since f60058c · 7 commits parity'
# unfolded: the history, the rule and the excerpt with the finding's lines marked
check_has open-history triage-open-200x50.screen 'seen in 4 runs (2 commits) since fd235b8 (run 9818256728) · last 24d ago · main'
# the OOM failed on all 3 attempts of its commit: the rule's "retry" is
# overruled, as on the finding's row and in `ciscope triage` (issue 9 §2)
check_has open-rule triage-open-200x50.screen 'rule oom-kill: a process ran out of memory or was killed by the out-of-memory killer · fix / investigate (it failed on every attempt: retrying will not help) · step 5'
check_has open-excerpt triage-open-80x24.screen '      > 459  ##[error]Process completed with exit code 137.'
check_has open-context triage-open-80x24.screen '        456     Compiling unarray v0.1.4'
check_eq open-marker-role "$(attrs_under triage-open-80x24 '> 459' '>')" e
check_eq open-context-role "$(attrs_under triage-open-80x24 '456     Compiling' 'Compiling')" ddddddddd
# decisions in roles of their own: fix, investigate, retry; the category too
check_eq role-retry "$(attrs_under triage-80x24 'oom     investigate' 'investigate')" IIIIIIIIIII
check_eq role-retry-cat "$(attrs_under triage-80x24 'oom     investigate' 'oom')" III
check_eq role-fix "$(attrs_under triage-run-80x24 'compile fix' 'fix')" XXX
# (Z folds the run's findings, unfolded when one run is shown)
tui role-rows "$RUST
TZ"
check_eq role-fix-row "$(attrs_under role-rows 'compile fix' 'compile')" XXXXXXX
check_eq role-investigate "$(attrs_under role-rows 'unknown investigate' 'investigate')" IIIIIIIIIII
check_has role-state-new role-rows.screen '      unknown investigate'
check_eq role-new-here "$(attrs_under role-rows 'unknown investigate' 'new · 2')" fffdddd
check_eq role-sha "$(attrs_under triage-80x24 'oom     investigate' 'fd235b8')" hhhhhhh
check_eq role-flaky "$(attrs_under triage-groups-80x24 'npm ERR! code ECONNRESET' 'flaky')" kkkkk

# --- opening -------------------------------------------------------------------------------
tui open-cmd ':triage'
check_eq open-cmd "$(sed '$d' open-cmd.screen)" "$(sed '$d' triage-80x24.screen)"
# from the run list, the cursor goes to the failed run it was on
tui open-selected ':goto 19
T'
check_status open-selected open-selected 'row 1 of'
tui open-selected2 ':goto 21
T'
check_eq open-selected2 "$(attrs_of open-selected2 'fd235b8 build: fat LTO and on…  #3' | cut -c1-3)" CCC
check_status open-selected2-row open-selected2 'row 4 of'
# the run list's filter on workflow and branch comes along
tui open-filtered ':filter workflow:parity branch:main
T'
check_title open-filtered open-filtered 'filter: workflow:parity branch:main'
if grep -q '^✗ ci ' open-filtered.screen; then fail open-filtered-rows "a ci run is listed"; else ok open-filtered-rows; fi
tui open-run-key "$RUST
T"
check_title open-run-key open-run-key 'triage · run 9805100433'
tui close-back "$RUST
Tq"
check_title close-back close-back 'run 9805100433 · ci · twierzbicki/f32-simd'
tui help 'T?'
check_title help help 'help: triage'
tui help-keys 'T?/triage-known<Enter>'
check_has help-flaky help-keys.screen 'F                         triage-known-flaky'
tui not-here 'F'
check_status not-here not-here 'Unknown key F'
tui not-here-log "$RUST
<Enter><Enter>T"
check_status not-here-log not-here-log 'Unknown key T'

# --- moving ----------------------------------------------------------------------------------
tui nav-e 'Te'
check_status nav-e nav-e 'row 3 of 78'
tui nav-ee 'Teee'
check_status nav-ee nav-ee 'row 9 of 78'
tui nav-eE 'TeeeE'
check_status nav-eE nav-eE 'row 6 of 78'
tui nav-G 'TG'
check_status nav-G nav-G 'row 78 of 78'
check_has nav-G-flaky nav-G.screen 'network retry       npm ERR! code ECONNRES…        new · 1 run · flaky'
tui nav-e-end 'TGe'
check_status nav-e-end nav-e-end 'no finding below'
tui nav-search 'T/E0308<Enter>'
check_status nav-search nav-search 'row 68 of 78'
# z on a run folds it, on a finding unfolds it; Z every finding
tui fold-run 'Tz'
check_status fold-run fold-run 'row 1 of 76'
tui fold-run-back 'Tzz'
check_eq fold-run-back "$(sed '$d' fold-run-back.screen)" "$(sed '$d' triage-80x24.screen)"
tui fold-job 'Tjz'
check_status fold-job fold-job 'row 2 of 77'
tui fold-finding 'Tezz'
check_eq fold-finding "$(sed '$d' fold-finding.screen)" "$(sed '$d' nav-e.screen)"
tui fold-inside 'Tezjjz'
check_status fold-inside fold-inside 'row 3 of 78'
tui fold-all 'TZ'
check_status fold-all fold-all 'row 1 of 396'
tui fold-all-back 'TZZ'
check_status fold-all-back fold-all-back 'row 1 of 78'
# unfolding the last finding scrolls to show what opened
tui fold-last 'TGz'
check_has fold-last fold-last.screen '      > 128  npm ERR! code ECONNRESET'
check_has fold-last-evidence fold-last.screen 'flaky: test-ts failed in run 9804447728 and passed in run 9804447728:2 on…'
# by fingerprint: Enter unfolds, the occurrences newest first
tui groups-open 'Tvjjjjj<Enter>'
check_has groups-open groups-open.screen '8 jobs showing it, newest first:'
check_has groups-open-occ groups-open.screen '✗ 9812688163     main               e6eb15d parity'
tui groups-back 'Tvv'
check_eq groups-back "$(sed '$d' groups-back.screen)" "$(sed '$d' triage-80x24.screen)"
# v keeps the cursor on its fingerprint
tui groups-keep 'TGv'
check_has groups-keep groups-keep.screen '      network retry       npm ERR! code ECONNRESET '
check_eq groups-keep-row "$(attrs_under groups-keep 'npm ERR! code ECONNRES' 'network')" CCCCCCC

# refresh loads again, back on the run the cursor was in
tui refresh 'Tjjjjj<C-r>'
check_status refresh refresh 'row 4 of 78'
check_eq refresh-rows "$(sed '$d' refresh.screen)" "$(sed '$d' triage-80x24.screen)"

# --- Enter: the log pager at the finding ---------------------------------------------------------
tui enter-finding 'Te<Enter>'
check_title enter-finding enter-finding 'run 9818332072 / job build-wasm'
check_status enter-finding-line enter-finding 'line 458 of'
tui enter-excerpt 'Tezjjjj<Enter>'
check_status enter-excerpt enter-excerpt 'line 457 of'
tui enter-job 'Tj<Enter>'
check_status enter-job enter-job 'line 458 of'
tui enter-run 'T<Enter>'
check_title enter-run enter-run 'run 9818332072 · ci · main · ade90fd · push · failure'
tui enter-back 'Te<Enter>q'
check_status enter-back enter-back 'row 3 of 78'
tui enter-flaky 'TG<Enter>'
check_title enter-flaky enter-flaky "run $FLAKY / job test-ts"
check_status enter-flaky-line enter-flaky 'line 128 of'
tui enter-occ 'Tvjjjjj<Enter>/e6eb15d<Enter><Enter>'
check_title enter-occ enter-occ 'run 9812688163 / job parity'
check_status enter-occ-line enter-occ 'line 1'

# --- triage states and notes, kept in the index ------------------------------------------------
cp "$WORK/demo.db" "$WORK/state.db"
DB=state.db
tui state-flaky 'TGF'
check_status state-flaky state-flaky '9d1d13bf: known-flaky (Tess Ter)'
check_has state-flaky-word state-flaky.screen '    flaky network retry'
check_eq state-flaky-role "$(attrs_under state-flaky 'flaky network' 'flaky')" CCCCC
# the run failed only by known flakes: ~ in the flaky role
check_has state-flaky-run state-flaky.screen '~ ci     main             9011bf8 engine-ts: memoise to…'
check_eq state-flaky-run-role "$(attrs_of state-flaky '~ ci     main             9011bf8' | cut -c1)" k
# the note: c asks, the prompt starts with the note there is
tui state-note 'TGcregistry blips<Enter>'
check_status state-note state-note '9d1d13bf: note saved (Tess Ter)'
tui state-note-shown 'TGz'
check_has state-note-row state-note-shown.screen 'state known-flaky by Tess Ter 0s ago: registry blips'
tui state-note-esc 'TGcnot this<Esc>z'
check_has state-note-esc state-note-esc.screen 'registry blips'
if grep -q 'not this' state-note-esc.screen; then fail state-note-esc-kept "Esc saved the note"; else ok state-note-esc-kept; fi
tui state-note-edit 'TGc<BS><BS><BS><BS><BS>outages<Enter>z'
check_has state-note-edit state-note-edit.screen ': registry outages'
# reopened: the state and the note are still there, in the view and the CLI
tui state-reopen ':triage state:known-flaky
jjz'
check_has state-reopen state-reopen.screen '    flaky network retry       npm ERR! code ECONNRES…'
check_has state-reopen-note state-reopen.screen 'state known-flaky by Tess Ter 0s ago: registry outages'
check_status state-reopen-count state-reopen '1 failure · 1 new · 1 flaky'
run triage "$FLAKY:1"
check_has state-cli "$OUT" 'state known-flaky (Tess Ter)'
check_has state-cli-note "$OUT" 'note: registry outages'
# the run list marks the run; its green attempt and other failed runs are not
tui runs-flaky ":filter $FLAKY"
check_has runs-flaky runs-flaky.screen '~ ci   main   9011bf8 engine-ts: memoise total mass… push     3m 28s    45d ago'
check_has runs-flaky-green runs-flaky.screen '✓ ci   main   9011bf8 engine-ts: memoise total mass… push #2  3m 42s    45d ago'
check_eq runs-flaky-role "$(attrs_of runs-flaky '~ ci' | cut -c1)" k
tui runs-unmarked ':filter status:failed
G'
check_eq runs-unmarked "$(grep -c '^~' runs-unmarked.screen)" 1
# the mark follows a state set in the triage view at once
tui runs-follow ":filter $FLAKY
TGuq"
check_has runs-follow runs-follow.screen '✗ ci   main   9011bf8 engine-ts: memoise total mass… push     3m 28s    45d ago'
tui runs-follow2 ":filter $FLAKY
TGFq"
check_has runs-follow2 runs-follow2.screen '~ ci   main   9011bf8'
# the other states
tui state-ack 'Tea'
check_status state-ack-msg state-ack '716d6499: acknowledged (Tess Ter)'
check_has state-ack-word state-ack.screen '    ack   oom     investigate'
tui state-fixed 'Tex'
check_has state-fixed state-fixed.screen '    fixed oom     investigate'
check_eq state-fixed-role "$(attrs_under state-fixed 'fixed oom' 'fixed')" CCCCC
tui state-fixed-other 'Texj'
check_eq state-fixed-other "$(attrs_under state-fixed-other 'fixed oom' 'fixed')" ggggg
tui state-new 'Teu'
check_has state-new state-new.screen '          oom     investigate'
tui state-cmd 'Te
:state acknowledged'
check_status state-cmd state-cmd 'acknowledged (Tess Ter)'
tui state-cmd-bad 'Te
:state closed'
check_status state-cmd-bad state-cmd-bad "'closed' is not a triage state"
tui state-on-run 'Ta'
check_status state-on-run state-on-run 'move to a finding to set its state'
tui state-note-cmd 'Te
:note LTO eats the runner
z'
check_has state-note-cmd state-note-cmd.screen ': LTO eats the runner'
# by fingerprint, the same keys
tui state-groups 'Tvx'
check_has state-groups state-groups.screen 'fixed oom     investigate'
check_status state-groups-count state-groups '9 untriaged · 1 flaky'
DB=demo.db

# --- filters ----------------------------------------------------------------------------------
tui filter-cat ':triage category:network'
check_title filter-cat filter-cat 'filter: category:network'
check_status filter-cat-count filter-cat '1 failure · 1 new · 1 flaky'
check_has filter-cat-row filter-cat.screen 'npm ERR! code ECONNRES'
tui filter-key 'Tfcategory:oom<Enter>'
check_status filter-key filter-key 'filter: category:oom'
check_eq filter-key-runs "$(grep -c '^✗' filter-key.screen)" 4
tui filter-edit 'Tfcategory:oom<Enter>f branch:nosuch<Enter>'
check_title filter-edit filter-edit 'filter: category:oom branch:nosuch'
check_has filter-none filter-edit.screen 'no failure matches the filter'
tui filter-wf ':triage workflow:bench'
check_eq filter-wf "$(grep -c '^✗ bench' filter-wf.screen)" 3
check_eq filter-wf-only "$(grep -c '^✗' filter-wf.screen)" 3
tui filter-branch ':triage branch:twierzbicki/f32-simd'
check_eq filter-branch "$(grep -c '^✗' filter-branch.screen)" 2
tui filter-state ':triage state:fixed'
check_has filter-state filter-state.screen 'no failure matches the filter'
tui filter-state-new ':triage state:new'
check_eq filter-state-new "$(sed '$d' filter-state-new.screen | sed 1d)" "$(sed '$d' triage-80x24.screen | sed 1d)"
# flaky: filters by the history column, and / finds its words
tui filter-flaky ':triage flaky:yes'
check_title filter-flaky filter-flaky 'filter: flaky:yes'
check_has filter-flaky-row filter-flaky.screen 'npm ERR! code ECONNRES'
check_status filter-flaky-count filter-flaky '1 failure · 1 new · 1 flaky'
if grep -q ' oom ' filter-flaky.screen; then fail filter-flaky-only "a failure that is not flaky is shown"; else ok filter-flaky-only; fi
tui filter-not-flaky ':triage flaky:no'
if grep -q 'ECONNRESET' filter-not-flaky.screen; then fail filter-not-flaky "the flaky failure is shown"; else ok filter-not-flaky; fi
check_has filter-not-flaky-oom filter-not-flaky.screen ' oom '
tui filter-untriaged ':triage state:untriaged'
check_eq filter-untriaged "$(sed '$d' filter-untriaged.screen | sed 1d)" "$(sed '$d' triage-80x24.screen | sed 1d)"
tui search-flaky 'T/flaky<Enter>'
check_has search-flaky search-flaky.screen 'npm ERR! code ECONNRES'
check_status search-flaky-row search-flaky 'row 78 of 78'
tui filter-alias ':triage state:flaky'
check_title filter-alias filter-alias 'filter: state:known-flaky'
tui filter-bad ':triage colour:red'
check_status filter-bad filter-bad "unknown filter 'colour:'"
check_eq filter-bad-role "$(status_line filter-bad.attrs | cut -c2)" E
tui filter-bad-kept 'Tfcategory:oom<Enter>f category:nope<Enter>'
check_title filter-bad-kept filter-bad-kept 'filter: category:oom'
check_status filter-bad-kept-msg filter-bad-kept "'category:' is given twice in the filter"
tui filter-bad-cat ':triage category:nope'
check_status filter-bad-cat filter-bad-cat "unknown category 'nope'"
tui filter-word ':triage oom'
check_status filter-word filter-word "'oom': say which field"
tui filter-clear 'Tfcategory:oom<Enter>
:filter'
check_status filter-clear filter-clear 'filter cleared'
check_eq filter-clear-rows "$(sed '$d' filter-clear.screen)" "$(sed '$d' triage-80x24.screen)"
tui filter-groups 'Tv
:filter category:parity'
check_status filter-groups filter-groups '1 untriaged · 0 flaky'
tui filter-run "$RUST
T
:filter category:compile"
check_status filter-run filter-run '2 failures · 2 new · 0 flaky'

# --- a stale triage is brought up to date first -------------------------------------------------
cp "$WORK/demo.db" "$WORK/stale.db"
python3 - "$WORK/stale.db" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("DELETE FROM triage_findings")
db.execute("DELETE FROM triage_jobs")
db.commit()
EOF
DB=stale.db
tui stale 'T'
check_status stale stale 'triaged 25 jobs of 24 runs with the current rules'
check_eq stale-rows "$(sed '$d' stale.screen)" "$(sed '$d' triage-80x24.screen)"
tui stale-again 'T'
check_status stale-again stale-again '[triage] row 1 of 78'
DB=demo.db

# --- escapes in CI text never reach the terminal ------------------------------------------------
# a log whose failure and whose name (the job's, the run's title) hold OSC 52,
# OSC 0, DCS and a UTF-8 C1 CSI
mkdir evil
printf '##[group]Run make\nmake\n##[endgroup]\nsrc/a.c:1:2: error: \033]52;c;SGVsbG8=\007boom \033]0;pwned\007 \033P1$qm\033\\ x \302\23331m\n##[error]Process completed with exit code 2.\n' \
	>"evil/$(printf 'ev\033]52;c;SGk=\007il\033]0;pwned\007.log')"
DB=evil.db
run import --quiet evil
check_exit evil-import 0
for k in 'TZ' 'TvZ' 'T/boom<Enter>'; do
	tui evil "$k"
	check_has "evil-shown $k" evil.screen 'src/a.c:1:2: error: bo'
	check_no_raw "evil-osc52 $k" evil.raw '\033]52'
	check_no_raw "evil-osc0 $k" evil.raw '\033]0;pwned'
	check_no_raw "evil-dcs $k" evil.raw '\033P1$'
	check_no_raw "evil-c1 $k" evil.raw '\302\233'
done
DB=demo.db

# a local CI run that failed by its checks, with no failed job: its row says
# why, as ciscope triage does, not "0 jobs · 0 findings" (issue 9)
DB=local.db
local_results results.json
"$CISCOPE" --db "$DB" import results.json >"$OUT" 2>"$ERR"
check_exit local-import 0
size 120x8
tui local-why 'T'
check_exit local-why 0
check_has local-why local-why.screen 'local CI results'
check_has local-why-checks local-why.screen 'checks that did not pass: coverage'
check_eq local-why-no-zero "$(grep -c '0 jobs' local-why.screen)" 0
tui local-why-run 'T
<Enter>'
check_has local-why-run local-why-run.screen 'this run has no jobs in the index; failure: checks that did not pass: coverage'
# the runs view: a local run has no duration, a dash in TIME, not 0s
tui local-runs ''
check_has local-runs-dur local-runs.screen '00000a0 local CI results'
check_eq local-runs-dash "$(grep 'local CI results' local-runs.screen | grep -c ' - ')" 1
check_eq local-runs-no-0s "$(grep -c ' 0s ' local-runs.screen)" 0
# sorted by duration, a run of no duration comes after one of 0s (older)
run_folder zero 700 main 0000070000000000000000000000000000000070 success 05
sed -i 's/"updated_at":"2026-10-01T10:05:30Z"/"updated_at":"2026-10-01T10:05:00Z"/' zero/run.json
"$CISCOPE" --db "$DB" import zero >"$OUT" 2>"$ERR"
check_exit local-zero-import 0
tui local-sort-dur ':sort duration
'
check_has local-sort-dur-0s local-sort-dur.screen 'commit 0000070000000000000000000000000000000070'
check_eq local-sort-dur-order "$(sed -n '3p;4p' local-sort-dur.screen | sed 's/^[^a-z]*\([a-z]*\).*/\1/' | tr '\n' ,)" 'ci,local,'
# an index imported before the import wrote why (conclusion_why NULL): the
# row says it from the failed checks' metric rows
python3 -c 'import sqlite3, sys; d = sqlite3.connect(sys.argv[1]); d.execute("UPDATE runs SET conclusion_why = NULL"); d.commit()' "$DB"
tui local-why-old 'T'
check_has local-why-old local-why-old.screen 'checks that did not pass: coverage'
check_eq local-why-old-no-zero "$(grep -c '0 jobs' local-why-old.screen)" 0
size 80x24
DB=demo.db

# --- small and resized screens -------------------------------------------------------------------
size 30x8
tui tiny-nav 'TZGv<Enter>eeE'
check_exit tiny-nav 0
check_eq tiny-nav-lines "$(wc -l <tiny-nav.screen | tr -d ' ')" 8
tui tiny-prompt 'Tecabc<Enter>'
check_exit tiny-prompt 0
size 80x24
tui resize 'Tez
:resize 20x5
:resize 12x3
:resize 200x50'
check_exit resize 0
check_has resize resize.screen 'seen in 4 runs (2 commits) since fd235b8 (run 9818256728)'
tui resize-small 'Tez
:resize 19x4'
check_has resize-small resize-small.screen 'Terminal too small'

finish
