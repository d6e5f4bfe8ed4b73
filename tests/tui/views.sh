#!/bin/sh
# views.sh - the views on the demo data set (tools/demo-gen.py): every view
# (runs, run, log, search, help) at 80x24, 200x50 and 30x8 against golden
# screens, then what each view does: moving with keys and the mouse, filter,
# sort, folds, timestamps, wrapping, line numbers, searching in the pager and
# across logs, error jumps, help per view, :goto and resizing.
#
# The demo data is deterministic (fixed seed and dates) and the time is
# frozen (CISCOPE_TIME_NOW), so the screens are too. After a change to the
# views, the importer or the demo generator, look at the differences and
# rewrite the golden files with UPDATE_GOLDEN=1 when they are right.
. "$(dirname "$0")/lib.sh"

demo_db || finish

# Run 9805100433 (ci on twierzbicki/f32-simd): the rustc E0308 error planted
# by the generator; four jobs, test-rust and build-wasm failed.
RUN=':filter 9805100433
<Enter>'
# its run view opens on the first failed job, test-rust; e: its failed
# step 6; Enter: the log pager at that step
LOG="$RUN
e<Enter>"
SEARCH=':search E0308'

# --- every view at three sizes ------------------------------------------------------
for sz in 80x24 200x50 30x8; do
	size "$sz"
	tui "runs-$sz" ''
	check_exit "runs-$sz-exit" 0
	check_screen "runs-$sz"
	tui "run-$sz" "$RUN"
	check_screen "run-$sz"
	tui "log-$sz" "$LOG"
	check_screen "log-$sz"
	tui "search-$sz" "$SEARCH"
	check_screen "search-$sz"
	tui "help-runs-$sz" 'h'
	check_screen "help-runs-$sz"
	tui "help-log-$sz" "$LOG
<F1>"
	check_screen "help-log-$sz"
	check_eq "sizes-$sz-lines" "$(wc -l <"log-$sz.screen" | tr -d ' ')" "${sz#*x}"
done
# the colour roles of the 80x24 screens
for v in runs run log search help-runs; do
	check_attrs "$v-80x24"
done
size 80x24

check_title runs-title runs-80x24 'runs · newest first'
# a row is an attempt: 147 rows are 141 runs, six of them re-run
check_status runs-counts runs-80x24 '141 runs, 147 attempts · 24 failed'
check_status runs-counts-wide runs-200x50 '141 runs, 147 attempts · 24 failed · 1 in progress'
check_status runs-row runs-80x24 '[runs] row 1 of 147'
# the header says what show says: sha, event, conclusion, title
check_title run-title run-80x24 'run 9805100433 · ci · twierzbicki/f32-simd · 4dd7aca · pull_request · failure'
check_title run-title-subject run-200x50 '4dd7aca · pull_request · failure · engine-rs: f32 SIMD lanes for force accumulation'
check_status run-counts run-80x24 '4 jobs · 2 failed'
# a re-run: the header names its attempt (the newest of fd235b8's three)
tui run-attempt ':filter 9818256728
<Enter>'
check_title run-attempt run-attempt 'run 9818256728 attempt 3 · ci · main · fd235b8 · push · failure'
check_title log-title log-80x24 'run 9805100433 / job test-rust · 220 lines'
check_status log-line log-80x24 'line 169 of 220 (76%)'
# one position counter: the line, not also the row
check_eq log-one-counter "$(status_line log-80x24.screen | grep -o ' of ' | wc -l | tr -d ' ')" 1
check_eq log-no-row-counter "$(status_line log-80x24.screen | grep -c 'row ')" 0
# ##[endgroup] lines are hidden as GitHub hides them (174 closes the group
# of 169, 206 the one before the step-11 header); `ciscope log` keeps them
check_eq endgroup-hidden "$(grep -c '^174 \|^206 \|endgroup' log-200x50.screen)" 0
check_has endgroup-next log-80x24.screen '173   CARGO_TERM_COLOR: always'
check_eq endgroup-neighbours "$(($(row_of log-80x24.screen '175    Compiling') - $(row_of log-80x24.screen '173   CARGO')))" 1
"$CISCOPE" --db "$DB" log 9805100433/test-rust >log-cli.txt 2>&1
check_eq endgroup-cli "$(sed -n 174p log-cli.txt | grep -c 'endgroup')" 1
check_has log-step-header log-80x24.screen '── step 6: Run cargo nextest run --workspace --profile ci ── 45s ✗'
# the failed step's header is the first row: the step reads from there
sed -n 2p log-80x24.screen >top.txt
check_has log-step-header-top top.txt '── step 6: Run cargo'
check_title search-title search-80x24 'search E0308 · 6 matches'
# column headers, laid out as the rows are: a narrow screen drops the same
# columns from both
check_eq runs-header "$(sed -n 2p runs-80x24.screen)" '  FLOW   BRANCH           SHA     TITLE                    #    TIME        AGE'
check_eq runs-header-wide "$(sed -n 2p runs-200x50.screen | tr -s ' ')" ' FLOW BRANCH SHA TITLE EVENT # TIME AGE'
# titles agree between the CLI and the TUI: row i of the runs list is run i
# of `ciscope runs` (in a pipe every value is whole), and its title is the
# CLI's: the head commit's subject where the index has it, else the run's
# title (whole where it fits, else its start and the cut mark)
"$CISCOPE" --db "$DB" runs --limit 47 >runs-cli.txt 2>&1
python3 - runs-cli.txt runs-200x50.screen >titles.out 2>&1 <<'PY'
import sys
cli = open(sys.argv[1], encoding="utf-8").read().split("\n")
t0 = cli[0].index("TITLE")
titles = [l[t0:] for l in cli[1:] if l.strip()]
screen = open(sys.argv[2], encoding="utf-8").read().split("\n")
a, b = screen[1].index("TITLE"), screen[1].index("EVENT")
bad, n = [], 0
for title, line in zip(titles, screen[2:-1]):
    if not line.strip():
        continue
    n += 1
    shown = line[a:b].rstrip()
    ok = title.startswith(shown[:-1]) if shown.endswith("\u2026") else shown == title
    if not ok:
        bad.append((shown, title))
print("rows", n, "bad", bad)
sys.exit(1 if bad or n < 40 else 0)
PY
if [ $? -eq 0 ]; then ok runs-titles-agree; else fail runs-titles-agree "$(cat titles.out)"; fi
check_eq runs-header-narrow "$(sed -n 2p runs-30x8.screen)" '  FLOW   TITLE'
check_eq runs-header-role "$(sed -n 2p runs-80x24.attrs | cut -c3-6)" HHHH
check_eq search-header "$(sed -n 2p search-80x24.screen)" 'RUN        JOB              S  LN TEXT'
check_eq search-header-narrow "$(sed -n 2p search-30x8.screen)" 'TEXT'
check_status search-done search-80x24 '6 matches in 359 logs'
check_title help-runs-title help-runs-80x24 'help: runs'
check_title help-log-title help-log-80x24 'help: log'
# failures are in the failure role, successes in the success role
check_eq runs-glyph-failure "$(attrs_of runs-80x24 'ade90fd' | cut -c1)" f
check_eq runs-glyph-success "$(attrs_of runs-80x24 'e3e8ab4 Merge' | cut -c1)" g
check_eq runs-glyph-running "$(attrs_of runs-80x24 '● ci' | cut -c1)" r
check_eq log-error-role "$(attrs_of log-200x50 'Error: Process completed' | cut -c5-9)" eeeee
check_eq log-warning-role "$(attrs_of log-200x50 'Warning: No files' | cut -c5-9)" wwwww

# --- moving -----------------------------------------------------------------------------
tui nav-j 'jjj'
check_status nav-j nav-j 'row 4 of 147'
tui nav-jk 'jjjk<Down><Up><Up>'
check_status nav-jk nav-jk 'row 2 of 147'
tui nav-G 'G'
check_status nav-G nav-G 'row 147 of 147'
check_screen nav-G
tui nav-Gg 'Gg'
check_status nav-Gg nav-Gg 'row 1 of 147'
tui nav-end-home '<End><Home>j'
check_status nav-end-home nav-end-home 'row 2 of 147'
tui nav-pgdn '<PgDn>'
check_status nav-pgdn nav-pgdn 'row 22 of 147'
# a page down scrolls by a page (21 rows under the column header): row 22
# is the first one shown, the header stays above it
check_eq runs-header-fixed "$(sed -n 2p nav-pgdn.screen)" "$(sed -n 2p runs-80x24.screen)"
check_screen nav-pgdn
tui nav-pgdn2 '<PgDn><PgDn><Space>'
check_status nav-pgdn2 nav-pgdn2 'row 64 of 147'
tui nav-pgup '<PgDn><PgDn><PgUp>'
check_status nav-pgup nav-pgup 'row 22 of 147'
tui nav-pgup-top '<PgDn><PgUp><PgUp>'
check_status nav-pgup-top nav-pgup-top 'row 1 of 147'
tui nav-half '<C-d><C-d><C-u>'
check_status nav-half nav-half 'row 11 of 147'
tui nav-last-pgdn 'G<PgDn>j'
check_status nav-last-pgdn nav-last-pgdn 'row 147 of 147'
# the mouse: a click selects the row under it (screen line 6: title,
# column header, rows 1-4), the wheel scrolls by 3
tui mouse-click '<Click:5,10>'
check_status mouse-click mouse-click 'row 4 of 147'
check_eq mouse-click-cursor "$(sed -n 6p mouse-click.attrs | cut -c1-3)" CCC
tui mouse-title '<Click:0,10>'
check_status mouse-title mouse-title 'row 1 of 147'
tui mouse-header 'j<Click:1,10>'
check_status mouse-header mouse-header 'row 2 of 147'
tui mouse-wheel '<WheelDown:5,10><WheelDown:5,10>'
check_status mouse-wheel mouse-wheel 'row 7 of 147'
tui mouse-wheel-up '<WheelDown:5,10><WheelDown:5,10><WheelUp:5,10>'
check_status mouse-wheel-up mouse-wheel-up 'row 7 of 147'
check_eq mouse-wheel-up-top "$(sed -n 3p mouse-wheel-up.screen)" "$(sed -n 6p runs-80x24.screen)"
tui mouse-off ':set mouse off
<Click:5,10>'
check_status mouse-off mouse-off 'row 1 of 147'
# Enter and q: into a run and back, the cursor where it was
tui nav-back 'jjjj<Enter>q'
check_status nav-back nav-back 'row 5 of 147'
check_title nav-back-title nav-back 'runs · newest first'
tui nav-run-rows "$RUN
G"
# 40 rows of jobs and steps, then the artifacts (a heading, junit-ts and
# its file) and the tests' heading (runitems.sh tests those rows)
check_status nav-run-rows nav-run-rows 'row 44 of 44'
tui nav-log-G "$LOG
G"
check_status nav-log-G nav-log-G 'line 220 of 220 (100%)'
tui nav-log-g "$LOG
Gg"
check_status nav-log-g nav-log-g 'line 1 of 220 (0%)'
tui nav-log-pgdn "$LOG
<PgDn>"
# (a page of rows holds one line more: the ##[endgroup] of line 174 takes none)
check_status nav-log-pgdn nav-log-pgdn 'line 191 of 220'
# Q quits from anywhere: nothing after it runs
tui quit "$LOG
Q"
check_exit quit-exit 0
if [ -f quit.screen ]; then fail quit "the script went on after Q"; else ok quit; fi
tui close-all "$LOG
qqq"
check_exit close-all-exit 0
if [ -f close-all.screen ]; then fail close-all "q on the last view did not quit"; else ok close-all; fi

# --- :goto --------------------------------------------------------------------------------
tui goto-runs ':goto 100'
check_status goto-runs goto-runs 'row 100 of 147'
tui goto-runs-past ':goto 1000'
check_status goto-runs-past goto-runs-past 'row 147 of 147'
tui goto-log "$LOG
:goto 42"
check_status goto-log goto-log 'line 42 of 220'
tui goto-log-short "$LOG
:42"
check_status goto-log-short goto-log-short 'line 42 of 220'
tui goto-log-bad "$LOG
:goto 999"
check_status goto-log-bad goto-log-bad "no line '999': this log has lines 1 to 220"
check_eq goto-log-bad-role "$(status_line goto-log-bad.attrs | cut -c2)" E
tui goto-log-word "$LOG
:goto x"
check_status goto-log-word goto-log-word "no line 'x': this log has lines 1 to 220"

# --- filter --------------------------------------------------------------------------------
tui filter ':filter status:failed branch:main'
check_screen filter
check_title filter-title filter 'filter: branch:main status:failed'
check_status filter-msg filter '19 runs match branch:main status:failed'
check_status filter-counts filter '14 runs, 19 attempts · 19 failed'
if grep -q '^✓' filter.screen; then fail filter-only-failed "a successful run is listed"; else ok filter-only-failed; fi
# f opens a prompt holding the current filter: typing adds to it
tui filter-key ':filter branch:main
f status:failed<Enter>'
check_status filter-key filter-key '19 runs match branch:main status:failed'
tui filter-key-new 'fstatus:failed<Enter>'
check_status filter-key-new filter-key-new '24 runs match status:failed'
tui filter-esc 'fstatus:failed<Esc>'
check_status filter-esc filter-esc '[runs] row 1 of 147'
tui filter-words ':filter f32'
# (words match the commit message too: not every row shows f32)
check_status filter-words filter-words '9 runs match f32'
check_eq filter-words-rows "$(sed '1,2d;$d' filter-words.screen | grep -c .)" 9
tui filter-none ':filter branch:nosuch'
check_has filter-none filter-none.screen 'no runs match the filter'
check_status filter-none-msg filter-none '0 runs match branch:nosuch'
tui filter-bad ':filter bogus:x'
check_status filter-bad filter-bad "unknown filter 'bogus:'"
check_eq filter-bad-role "$(status_line filter-bad.attrs | cut -c2)" E
check_title filter-bad-kept filter-bad 'runs · newest first'
tui filter-clear ':filter status:failed
:filter'
check_status filter-clear filter-clear 'filter cleared: 147 runs'
check_eq filter-clear-title "$(head -n 1 filter-clear.screen)" ' runs · newest first'
tui filter-then-sort ':filter status:failed
s'
check_title filter-then-sort filter-then-sort 'runs · by duration · filter: status:failed'
tui filter-log "$LOG
:filter x"
check_status filter-log filter-log 'this view cannot be filtered'

# --- sort: s cycles -------------------------------------------------------------------------
tui sort1 's'
check_title sort1 sort1 'runs · by duration'
check_status sort1-msg sort1 'sorted by duration'
check_screen sort1
tui sort2 'ss'
check_title sort2 sort2 'runs · by workflow'
tui sort3 'sss'
check_title sort3 sort3 'runs · by branch'
tui sort4 'ssss'
check_title sort4 sort4 'runs · by status'
tui sort5 'sssss'
check_title sort5 sort5 'runs · newest first'
check_status sort5-msg sort5 'sorted by newest first'
# the message differs: compare the rows only
check_eq sort5-rows "$(sed '$d' sort5.screen)" "$(sed '$d' runs-80x24.screen)"
tui sort-cmd ':sort branch'
check_title sort-cmd sort-cmd 'runs · by branch'
tui sort-bad ':sort nope'
check_status sort-bad sort-bad 'usage: :sort newest|duration|workflow|'
tui sort-log "$LOG
s"
check_status sort-log sort-log 'Unknown key s, press h for help'

# --- the pager: folds -------------------------------------------------------------------------
tui fold "$LOG
jz"
check_screen fold
check_has fold-row fold.screen '▸ Run cargo nextest run --workspace --profile ci (6 lines)'
check_status fold-cursor fold 'line 169 of 220'
check_eq fold-role "$(attrs_of fold '▸ Run cargo' | cut -c5-9)" CCCCC
tui unfold "$LOG
jzz"
check_eq unfold "$(sed '$d' unfold.screen | sed 1,2d)" "$(sed '$d' log-80x24.screen | sed 1,2d)"
tui fold-enter "$LOG
j<Enter>"
check_has fold-enter fold-enter.screen '▸ Run cargo nextest run --workspace --profile ci (6 lines)'
tui fold-inside "$LOG
jjjz"
check_has fold-inside fold-inside.screen '▸ Run cargo nextest run --workspace --profile ci (6 lines)'
check_status fold-inside-cursor fold-inside 'line 169 of 220'
# z on a step's header folds the whole step: the header counts its lines
# and the next step's header follows; z again opens it, the cursor staying
# on the header
tui fold-step "$LOG
z"
check_eq fold-step "$(sed -n 2p fold-step.screen)" '▸─ step 6: Run cargo nextest run --workspace --profile ci (29 lines) ── 45s ✗ ──'
check_has fold-step-next fold-step.screen '── step 7: '
check_eq fold-step-next-row "$(row_of fold-step.screen '── step 7: ')" 3
check_status fold-step-cursor fold-step 'line 169 of 220'
tui unfold-step "$LOG
zz"
check_eq unfold-step "$(sed '$d' unfold-step.screen)" "$(sed '$d' log-80x24.screen)"
tui fold-step-enter "$LOG
<Enter>"
check_has fold-step-enter fold-step-enter.screen 'ci (29 lines) ── 45s ✗'
# a search into a folded step opens it
tui fold-step-search "$LOG
zgg/mismatched types<Enter>"
check_has fold-step-search fold-step-search.screen '176 error[E0308]: mismatched types'
check_has fold-step-search-header fold-step-search.screen '── step 6: Run cargo'
tui fold-none "$LOG
:goto 180
z"
check_status fold-none fold-none 'no group at line 180'
tui fold-all "$LOG
Z"
check_status fold-all fold-all 'every group folded'
check_screen fold-all
tui unfold-all "$LOG
ZZ"
check_status unfold-all unfold-all 'every group unfolded'
# a search into a folded group opens it
tui fold-search "$LOG
Zg/shell: /usr/bin/bash<Enter>"
check_has fold-search fold-search.screen 'shell: /usr/bin/bash'
check_status fold-search-line fold-search 'of 220'

# --- the pager: timestamps, line numbers, wrapping -----------------------------------------------
tui ts-abs "$LOG
t"
check_status ts-abs-msg ts-abs 'timestamps: absolute'
# times of day on the lines; their date and zone once, in the title
check_title ts-abs-date ts-abs 'job test-rust · 220 lines · 2026-10-08 UTC'
check_has ts-abs-line ts-abs.screen '176 09:07:03.067 error[E0308]'
check_eq ts-abs-date-once "$(grep -c '2026-10-08\|UTC' ts-abs.screen)" 1
check_eq ts-rel-no-date "$(head -n 1 log-80x24.screen | grep -c UTC)" 0
check_screen ts-abs
tui ts-rel "$LOG
tt"
check_status ts-rel-msg ts-rel 'timestamps: relative'
check_screen ts-rel
tui ts-hidden "$LOG
ttt"
check_status ts-hidden-msg ts-hidden 'timestamps: hidden'
check_eq ts-hidden "$(sed '$d' ts-hidden.screen)" "$(sed '$d' log-80x24.screen)"
tui ts-set "$LOG
:set timestamps absolute"
check_eq ts-set "$(sed '$d' ts-set.screen)" "$(sed '$d' ts-abs.screen)"
check_eq ts-role "$(attrs_of ts-abs '176 ' | cut -c5-16)" dddddddddddd
# (a script line starting with # is a comment: # goes after other keys)
tui numbers-off "$RUN
e<Enter>#"
check_status numbers-off-msg numbers-off 'line-numbers: off'
if grep -q '^error\[E0308\]: mismatched types' numbers-off.screen; then
	ok numbers-off
else
	fail numbers-off "no line starts with its text: $(sed -n 3p numbers-off.screen)"
fi
if grep -q '^176 ' numbers-off.screen; then fail numbers-off-gone "line numbers still shown"; else ok numbers-off-gone; fi
tui numbers-on "$RUN
e<Enter>##"
check_eq numbers-on "$(sed '$d' numbers-on.screen)" "$(sed '$d' log-80x24.screen)"
tui wrap "$LOG
:goto 196
w"
check_screen wrap
check_title wrap-title wrap 'wrapped'
check_status wrap-msg wrap 'wrap: on'
check_status wrap-line wrap 'line 196 of 220'
tui wrap-off "$LOG
:goto 196
ww"
check_status wrap-off wrap-off 'wrap: off'
if grep -q 'wrapped' wrap-off.screen; then fail wrap-off-title "still wrapped"; else ok wrap-off-title; fi
tui wrap-scroll "$LOG
w<Right>"
check_status wrap-scroll wrap-scroll 'lines are wrapped: nothing to scroll'
tui hscroll "$LOG
<Right>"
check_screen hscroll
tui hscroll-back "$LOG
<Right><Left>"
check_eq hscroll-back "$(sed '$d' hscroll-back.screen)" "$(sed '$d' log-80x24.screen)"

# --- the pager: search ----------------------------------------------------------------------------
tui find "$LOG
/error<Enter>"
check_status find find 'line 176 of 220'
check_attrs find
check_eq find-hl-cursor "$(attrs_under find '176 error' '176 error[')" CCCCMMMMMC
# every match on the screen is highlighted, on the cursor row and the others
tui find-hl "$LOG
/f32<Enter>"
check_status find-hl find-hl 'line 180 of 220'
check_attrs find-hl
check_eq find-hl-cursor-row "$(attrs_under find-hl '180 ' 'found `f32`')" CCCCCCCMMMC
check_eq find-hl-other-row "$(attrs_under find-hl '189 help' 'an `f32`')" ....MMM
tui find-n "$LOG
/error<Enter>n"
check_status find-n find-n 'line 194 of 220'
tui find-nn "$LOG
/error<Enter>nnn"
check_status find-nn find-nn 'line 196 of 220'
tui find-N "$LOG
/error<Enter>nnN"
check_status find-N find-N 'line 194 of 220'
tui find-back "$LOG
:goto 190
?Compiling<Enter>"
check_status find-back find-back 'line 175 of 220'
tui find-back-wrap "$LOG
?Compiling<Enter>"
check_status find-back-wrap find-back-wrap 'search hit TOP, continuing at BOTTOM'
check_status find-back-wrap-line find-back-wrap 'line 175 of 220'
# n goes on in the direction of the search (backward after ?), N the other way
tui find-back-n "$LOG
:goto 195
?error<Enter>n"
check_status find-back-n find-back-n 'line 176 of 220'
tui find-back-N "$LOG
:goto 190
?error<Enter>N"
check_status find-back-N find-back-N 'line 194 of 220'
tui find-wrap "$LOG
G/Current runner<Enter>"
check_status find-wrap find-wrap 'search hit BOTTOM, continuing at TOP'
check_has find-wrap-line find-wrap.screen "1 Current runner version"
tui find-none "$LOG
/zzznothing<Enter>"
check_status find-none find-none 'not found: zzznothing'
tui find-regex "$LOG
/E0[0-9]+8<Enter>"
check_status find-regex find-regex 'line 176 of 220'
check_eq find-regex-hl "$(attrs_under find-regex '176 error' '[E0308]')" CMMMMMC
tui find-no-query "$LOG
n"
check_status find-no-query find-no-query 'no search yet: / searches forward, ? backward'
tui find-esc "$LOG
/error<Esc>"
check_status find-esc find-esc 'line 169 of 220'

# --- searching every log ---------------------------------------------------------------------------
tui search-key '/E0308<Enter>'
check_title search-key search-key 'search E0308 · 6 matches'
tui search-open "$SEARCH
jj<Enter>"
check_title search-open search-open 'run 9805100433 / job test-rust'
check_status search-open-line search-open 'line 176 of 220'
check_eq search-open-hl "$(attrs_under search-open '176 error' '[E0308]')" CMMMMMC
tui search-open-n "$SEARCH
jj<Enter>n"
check_status search-open-n search-open-n 'line 194 of 220'
tui search-back "$SEARCH
jj<Enter>q"
check_title search-back search-back 'search E0308 · 6 matches'
check_status search-back-row search-back 'row 3 of 6'
tui search-none ':search zzznomatch'
check_has search-none search-none.screen 'no match'
check_status search-none-msg search-none 'no match in 359 logs'
tui search-regex ':search error\[E0[0-9]+\]'
check_title search-regex search-regex '3 matches'
tui search-from-log "$LOG
:search E0308"
check_title search-from-log search-from-log 'search E0308 · 6 matches'
tui search-empty ':search'
check_status search-empty search-empty 'usage: :search TEXT'

# --- error jumps -------------------------------------------------------------------------------------
# e/E stop at triage's findings and the markers, in line order: the rustc
# error on line 176 comes before the runner's exit line on 197
tui err-e "$LOG
e"
check_status err-e err-e 'error 1 of 3, line 176: [compile] error[E0308]: mismatched types'
check_screen err-e
tui err-ee "$LOG
ee"
check_status err-ee err-ee 'error 2 of 3, line 197: Process completed'
tui err-eee "$LOG
eee"
check_status err-eee err-eee 'warning 3 of 3, line 207'
tui err-eeee "$LOG
eeee"
check_status err-eeee err-eeee 'no later error or warning below'
tui err-E "$LOG
eeE"
check_status err-E err-E 'error 1 of 3, line 176'
tui err-E-none "$LOG
eE"
check_status err-E-none err-E-none 'no earlier error or warning above'
# the run view opens with the cursor on the first failed job (test-rust,
# after lint's and test-ts's rows), not on the first job
tui run-start "$RUN"
check_status run-start run-start 'row 21 of 44'
check_has run-start-job run-start.screen '✗ test-rust'
tui run-start-E "$RUN
E"
check_status run-start-E run-start-E 'no failed job or step above'
tui run-start-green ':filter status:success
<Enter>'
check_status run-start-green run-start-green 'row 1 of'
tui err-run "$RUN
e"
check_status err-run err-run 'row 27 of 44'
tui err-run2 "$RUN
ee"
check_status err-run2 err-run2 'row 32 of 44'
tui err-run-E "$RUN
eeE"
check_status err-run-E err-run-E 'row 27 of 44'
tui err-runs 'e'
check_status err-runs err-runs 'Unknown key e, press h for help'

# --- help, per view ---------------------------------------------------------------------------------
tui help-h 'h'
check_title help-h help-h 'help: runs'
tui help-q '?'
check_title help-q help-q 'help: runs'
tui help-f1 '<F1>'
check_title help-f1 help-f1 'help: runs'
tui help-close 'hq'
check_title help-close help-close 'runs · newest first'
tui help-toggle 'hh'
check_title help-toggle help-toggle 'runs · newest first'
tui help-run "$RUN
h"
check_title help-run help-run 'help: run'
tui help-search "$SEARCH
?"
check_title help-search help-search 'help: search'
tui help-log-h "$LOG
h"
check_title help-log-h help-log-h 'help: log'
# in the pager ? searches backward (less): it is not help
tui help-log-q "$LOG
?Current runner<Enter>"
check_title help-log-q help-log-q 'run 9805100433 / job test-rust'
check_status help-log-q-line help-log-q 'line 1 of 220'
# the whole help of each view, on a tall screen: its own keys, not the others'
size 100x80
tui help-all-runs 'h'
tui help-all-run "$RUN
h"
tui help-all-log "$LOG
h"
tui help-all-search "$SEARCH
h"
size 80x24
help_has() { # NAME VIEW KEYS ACTION
	if grep -q "^   $3 .* $4 " "help-all-$2.screen"; then
		ok "$1"
	else
		fail "$1" "no '$3 ... $4' in the help of $2"
	fi
}
help_has help-runs-sort runs 's' sort
help_has help-runs-filter runs 'f' filter
help_has help-runs-url runs 'o' open-url
help_has help-run-error run 'e' next-error
help_has help-log-error log 'e' next-error
help_has help-log-prev-error log 'E' prev-error
help_has help-log-fold log 'z' fold
help_has help-log-fold-all log 'Z' fold-all
help_has help-log-ts log 't' toggle-timestamps
help_has help-log-wrap log 'w' toggle-wrap
help_has help-log-numbers log '#' toggle-line-numbers
help_has help-log-back log '?' search-back
help_has help-log-help log 'h, <F1>' view-help
help_has help-runs-help runs 'h, <F1>, ?' view-help
help_has help-goto log ':goto N' ''
# / in the runs view searches every log, and its help says so; every help
# says what ? does; Tab is not promised (no view splits)
check_has help-runs-search-all help-all-runs.screen 'Search all logs'
check_has help-runs-question help-all-runs.screen 'in the log pager ? searches backward (as in less)'
check_has help-log-question help-all-log.screen '? searches backward here (as in less)'
for v in runs run log search; do
	if grep -q 'view-next' "help-all-$v.screen"; then
		fail "help-$v-no-tab" "the $v help promises view-next (Tab) though no view splits"
	else
		ok "help-$v-no-tab"
	fi
done
for v in runs search; do
	if grep -q 'fold-all\|toggle-wrap' "help-all-$v.screen"; then
		fail "help-$v-no-log-keys" "the $v help lists the pager's keys"
	else
		ok "help-$v-no-log-keys"
	fi
done

# --- resizing ------------------------------------------------------------------------------------------
# a resized screen is the screen that size would have drawn from the start
tui resize-runs ':resize 200x50'
check_eq resize-runs "$(cat resize-runs.screen)" "$(cat runs-200x50.screen)"
tui resize-run "$RUN
:resize 30x8"
check_eq resize-run "$(cat resize-run.screen)" "$(cat run-30x8.screen)"
tui resize-log "$LOG
:resize 200x50"
check_eq resize-log "$(cat resize-log.screen)" "$(cat log-200x50.screen)"
tui resize-tiny-back "$LOG
:resize 15x4
:resize 80x24"
check_eq resize-tiny-back "$(cat resize-tiny-back.screen)" "$(cat log-80x24.screen)"
tui resize-help 'h
:resize 30x8'
check_eq resize-help "$(cat resize-help.screen)" "$(cat help-runs-30x8.screen)"
# wrapped lines are measured again for the new width
tui resize-wrap "$LOG
:goto 196
w
:resize 100x30"
check_screen resize-wrap
check_title resize-wrap-title resize-wrap 'wrapped'
check_status resize-wrap-line resize-wrap 'line 196 of 220'
python3 -c 'import sys; sys.exit(any(len(l.rstrip("\n")) > 100 for l in open(sys.argv[1], encoding="utf-8")))' resize-wrap.screen
rc=$?
check_exit resize-wrap-width 0

finish
