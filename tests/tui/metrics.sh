#!/bin/sh
# metrics.sh - the metrics view and the chart of one metric on the demo data
# set, run inside the demo's checkout (its .ciscope/thresholds.conf judges
# the series): M from the run list, the table at 80x24, 200x50 and 30x8
# (header, sparklines, threshold state, newest change point), the charts of
# the planted memory regression (535b441) and parity regression (f60058c)
# with their change points marked, the cursor moving along the points,
# Enter/d/b from a point, the filter, sort and find, the ASCII fallback.
. "$(dirname "$0")/lib.sh"

TOP=$(cd "$CLI_DIR/../.." && pwd)
python3 "$TOP/tools/demo-gen.py" "$WORK/demo" >gen.out 2>&1 || { fail demo-gen "$(tail -3 gen.out)"; finish; }
"$CISCOPE" --db "$WORK/demo.db" import --quiet "$WORK/demo/runs" >/dev/null 2>&1 || { fail import "import failed"; finish; }
REPO="$WORK/demo/repo"
DB="$WORK/demo.db"
planted() {
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["planted"][sys.argv[2]]["introduced_by"][:7])' \
		"$WORK/demo/MANIFEST.json" "$1"
}
MEM=$(planted memory_regression)
PAR=$(planted parity_regression)
check_eq planted-commits "$MEM $PAR" "535b441 f60058c"

# tui in the checkout: ciscope's cwd is the repository, screens come back here
rtui() {
	(cd "$REPO" && WORK="$REPO" tui "$@"; echo "$rc" >"$WORK/.rc")
	rc=$(cat "$WORK/.rc")
	mv "$REPO/$1.screen" "$REPO/$1.attrs" "$WORK/" 2>/dev/null
	rm -f "$REPO/$1.keys" "$REPO/$1.raw"
}

MEMCHART='M
/memory.peak<Enter>
<Enter>'
PARCHART='M
/parity.energy.max_excess<Enter>
<Enter>'

for sz in 80x24 200x50 30x8; do
	size "$sz"
	rtui "metrics-$sz" 'M'
	check_exit "metrics-$sz-exit" 0
	check_screen "metrics-$sz"
	rtui "chart-mem-$sz" "$MEMCHART"
	check_exit "chart-mem-$sz-exit" 0
	check_screen "chart-mem-$sz"
done

# --- the table ---------------------------------------------------------------------------
size 80x24
check_attrs metrics-80x24
check_title metrics-title metrics-80x24 'metrics · name'
check_has metrics-header metrics-80x24.screen 'METRIC             WORKFLOW       LAST   CHANGE TREND    STATE CHANGE POINT'
# the cursor starts on the first metric, not on the header
check_eq metrics-cursor "$(attrs_of metrics-80x24 'cache.hits' | cut -c1-10)" CCCCCCCCCC
check_status metrics-status metrics-80x24 '1 fail'
# the header is no row: the counter counts metrics, as the status text does
size 200x50
check_status metrics-count metrics-200x50 '[metrics] row 1 of 109 '
check_status metrics-count-same metrics-200x50 ' 109 metrics · '
size 200x50
check_has metrics-mem-row metrics-200x50.screen "fail  +41.2 % since $MEM"
check_has metrics-par-row metrics-200x50.screen "parity.energy.max_excess"
# the state in its role (failure), the change point in its own
size 80x24
check_eq metrics-fail-role "$(attrs_under metrics-80x24 memory.peak_rss_mb fail)" \
	"$(attrs_under metrics-80x24 memory.peak_rss_mb fail | tr -c 'f\n' x)"
check_eq metrics-fail-role-f "$(attrs_under metrics-80x24 memory.peak_rss_mb fail | cut -c1)" f
size 30x8
check_has metrics-narrow-header metrics-30x8.screen 'METRIC                   LAST'

# sorted by state: the failing metric first; find moves to a row
size 80x24
rtui metrics-sort 'Ms'
check_title metrics-sort-title metrics-sort 'metrics · by state'
check_eq metrics-sort-first "$(sed -n 3p metrics-sort.screen | cut -c1-18)" 'memory.peak_rss_mb'
rtui metrics-find 'M
/startup<Enter>'
check_eq metrics-find-cursor "$(attrs_of metrics-find 'startup_ms' | cut -c1-10)" CCCCCCCCCC

# the filter: :metrics PATTERN workflow:W, f, and M keeps the run list's scope
rtui metrics-filter ':metrics memory --workflow bench'
check_title metrics-filter-title metrics-filter 'filter: memory workflow:bench'
check_eq metrics-filter-rows "$(grep -c ' bench ' metrics-filter.screen)" 1
rtui metrics-f 'M
f<C-u>workflow:parity<Enter>'
check_eq metrics-f-only-parity "$(sed -n '3,22p' metrics-f.screen | grep -vc ' parity ')" 0
check_status metrics-f-status metrics-f 'metrics'
rtui metrics-scope ':filter workflow:bench
M'
check_title metrics-scope-title metrics-scope 'filter: workflow:bench'
rtui metrics-bad ':metrics --workflow'
check_title metrics-bad-stays metrics-bad 'runs'
check_status metrics-bad-says metrics-bad 'filter: --workflow needs a value'
rtui metrics-none ':metrics no.such.metric'
check_has metrics-none-msg metrics-none.screen 'no metrics match the filter'
# no metrics, no rows: the header line says why, the counter counts none
check_eq metrics-none-where "$(sed -n 2p metrics-none.screen)" 'no metrics match the filter (f changes it)'
check_status metrics-none-count metrics-none '[metrics] row 0 of 0 '

# --- the chart -----------------------------------------------------------------------------
size 200x50
check_title chart-title chart-mem-200x50 'chart · memory.peak_rss_mb (bench)'
# the change point at the planted commit, the thresholds of the checkout
check_has chart-mem-cp chart-mem-200x50.screen "at $MEM"
check_has chart-mem-cp-80 chart-mem-80x24.screen "│ +41.2 % at $MEM"
check_title chart-unit chart-mem-80x24 'chart · memory.peak_rss_mb (bench) · MB'
check_has chart-mem-fail chart-mem-200x50.screen 'fail <= 260 MB'
check_has chart-mem-dates chart-mem-200x50.screen 'commits, oldest first: 2026-10-02 .. 2026-11-01'
check_eq chart-mem-point "$(tail -n 2 chart-mem-200x50.screen | head -n 1)" \
	'run 9821523781 · e3e8ab4 · 2026-11-01 03:21 · 298.1 MB'
# the status bar counts points (not the rows of the drawing), and says it
# once: the point's row above names its run, commit, date and value
check_eq chart-mem-status "$(status_line chart-mem-200x50.screen | tr -s ' ')" ' [chart] point 31 of 31'
# where the chart leaves no room for the point's row, the status bar names it
size 30x8
check_status chart-mem-status-small chart-mem-30x8 '[chart] point 31 of 31 · '
size 200x50
# k: back to the change point; the point's row says so
rtui chart-mem-cp "$MEMCHART
k"
check_has chart-mem-cp-row chart-mem-cp.screen "run 9808393557 · $MEM"
check_status chart-mem-cp-status chart-mem-cp 'point 12 of 31'
check_has chart-mem-cp-says chart-mem-cp.screen "change point +41.2 % since $MEM"
# h/l, Left/Right, Home/End move along the points
rtui chart-mem-move "$MEMCHART
hh<Left>l"
check_status chart-mem-move chart-mem-move 'point 29 of 31'
rtui chart-mem-home "$MEMCHART
<Home>"
check_status chart-mem-home chart-mem-home 'point 1 of 31'
check_has chart-mem-home-row chart-mem-home.screen 'run 9800787300 · 6fcc50e'
rtui chart-mem-end "$MEMCHART
<Home><End>"
check_status chart-mem-end chart-mem-end 'point 31 of 31'
# :goto N (and :N) counts points too
rtui chart-mem-goto "$MEMCHART
:goto 12"
check_status chart-mem-goto chart-mem-goto 'point 12 of 31'
check_has chart-mem-goto-row chart-mem-goto.screen "run 9808393557 · $MEM"
rtui chart-mem-goto-n "$MEMCHART
:3"
check_status chart-mem-goto-n chart-mem-goto-n 'point 3 of 31'
rtui chart-mem-goto-bad "$MEMCHART
:goto x"
check_status chart-mem-goto-bad chart-mem-goto-bad "goto: 'x' is not a point number (1 to 31)"
# the caret under the point moves with it
check_eq chart-caret-one "$(grep -c '▲' chart-mem-home.screen)" 1
check_has chart-caret-home chart-mem-home.screen '└▲'
check_has chart-caret-end chart-mem-end.screen '─▲'
check_eq chart-caret-not-first "$(grep -c '└▲' chart-mem-end.screen)" 0

# the parity regression: introduced at f60058c, fixed later (two change points)
rtui chart-par "$PARCHART
kk"
check_has chart-par-cp chart-par.screen "at $PAR"
check_has chart-par-point chart-par.screen "change point +4.05e+09 % since $PAR"

# Enter on a point: its run; d: diffed with the previous point's run
rtui chart-enter "$MEMCHART
k<Enter>"
check_title chart-enter-title chart-enter 'run 9808393557'
rtui chart-diff "$MEMCHART
kd"
check_title chart-diff-title chart-diff 'diff · run 9808393557 vs 9807699780'
# b: a bisection of the change, bad on the new level's side of the bound
"$CISCOPE" --db "$DB" bisect reset >/dev/null 2>&1
rtui chart-bisect "$MEMCHART
kb"
check_title chart-bisect-title chart-bisect 'bisect metric:memory.peak_rss_mb>'
check_has chart-bisect-culprit chart-bisect.screen "first bad commit $(planted memory_regression)"
"$CISCOPE" --db "$DB" bisect reset >/dev/null 2>&1
# d on the first point: nothing before it
rtui chart-diff-first "$MEMCHART
<Home>d"
check_status chart-diff-first chart-diff-first 'no point before it'

# the chart's help says what the keys do there: h/l move the point cursor
# (they scroll nothing), Up/Down go from change point to change point
size 200x50
rtui chart-help "$MEMCHART
?"
check_title chart-help-title chart-help 'help: chart'
check_eq chart-help-left "$(grep -o 'h, <Left> *scroll-left *Move to the previous (older) point' chart-help.screen | wc -l)" 1
check_eq chart-help-right "$(grep -o 'l, <Right> *scroll-right *Move to the next (newer) point' chart-help.screen | wc -l)" 1
check_has chart-help-up chart-help.screen 'Move to the previous change point'
check_has chart-help-enter chart-help.screen 'Open the run of the point'
check_eq chart-help-no-scroll "$(grep -c 'Scroll left\|Scroll right\|Move the cursor' chart-help.screen)" 0
rtui metrics-help 'M
?'
check_has metrics-help-enter metrics-help.screen 'Open the chart of the metric'

# a resized screen: the chart at its new size
size 80x24
rtui chart-resize "$MEMCHART
:resize 30x8"
check_eq chart-resize "$(cat chart-resize.screen)" "$(cat "$EXPECTED/chart-mem-30x8.screen")"

# from the table: b bisects the selected metric's newest change point, d
# diffs its newest point's run with the one before
"$CISCOPE" --db "$DB" bisect reset >/dev/null 2>&1
rtui metrics-bisect 'M
/memory.peak<Enter>
b'
check_title metrics-bisect-title metrics-bisect 'bisect metric:memory.peak_rss_mb>'
"$CISCOPE" --db "$DB" bisect reset >/dev/null 2>&1
rtui metrics-diff 'M
/memory.peak<Enter>
d'
check_title metrics-diff-title metrics-diff 'diff · run 9821523781 vs'

# an index without metrics says so
DB="$WORK/empty.db"
"$CISCOPE" --db "$DB" import /dev/null >/dev/null 2>&1
rtui metrics-empty 'M'
check_has metrics-empty-msg metrics-empty.screen 'no metrics in the index'
DB="$WORK/demo.db"

# hostile metric names (JSON keys of an artifact: OSC 52, CSI 2J, a bidi
# override) reach the terminal only in their visible form, in the table and
# in the chart
mkdir -p evil/9899999999/artifacts/bench
cp "$WORK/demo/runs/9800787300/jobs.json" evil/9899999999/
python3 - "$WORK/demo/runs/9800787300/run.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
r["id"] = 9899999999
json.dump(r, open("evil/9899999999/run.json", "w"))
json.dump({"evil\u001b]52;c;SGVsbG8=\u0007x": 5, "bidi\u202eevil": 3, "csi\u001b[2Jclear": 1},
          open("evil/9899999999/artifacts/bench/bench.json", "w"))
EOF
cp "$WORK/demo.db" "$WORK/evil.db"
"$CISCOPE" --db "$WORK/evil.db" import --quiet evil >/dev/null 2>&1
DB="$WORK/evil.db"
size 100x24
tui metrics-evil 'M
/bidi<Enter>'
check_has metrics-evil-visible metrics-evil.screen 'bidi<U+202E>evil'
check_no_raw metrics-evil-osc52 metrics-evil.raw '\033]52'
check_no_raw metrics-evil-bidi metrics-evil.raw '\342\200\256'
tui chart-evil 'M
/bidi<Enter>
<Enter>'
check_title chart-evil-title chart-evil 'chart · bidi<U+202E>evil (bench)'
check_no_raw chart-evil-bidi chart-evil.raw '\342\200\256'
tui chart-evil-osc 'M
/SGVsbG8<Enter>
<Enter>'
check_title chart-evil-osc-title chart-evil-osc 'chart · evil'
check_no_raw chart-evil-osc52 chart-evil-osc.raw '\033]52'
DB="$WORK/demo.db"

# ASCII when the locale is not UTF-8
size 80x24
saved=$LC_ALL
LC_ALL=C
rtui chart-mem-ascii "$MEMCHART
k"
rtui metrics-ascii 'M'
LC_ALL=$saved
check_has metrics-ascii-spark metrics-ascii.screen 'cache.hits         ci                4  -33.3 % _@@@@@@_ none  -'
check_no_raw metrics-ascii-no-blocks "$WORK/metrics-ascii.screen" '\342\226'
check_status chart-mem-ascii-status chart-mem-ascii 'point 12 of 31'
check_has chart-mem-ascii-row chart-mem-ascii.screen 'run 9808393557 - 535b441'
check_screen chart-mem-ascii
check_no_raw chart-ascii-no-braille "$WORK/chart-mem-ascii.screen" '\342\240'

# a acknowledges the change point at the cursor, with a note: the chart and
# the table say so, `metrics show` has the note; Esc asks nothing
cp "$WORK/demo.db" "$WORK/ack.db"
DB="$WORK/ack.db"
size 200x50
rtui chart-ack-esc "$MEMCHART
ka<Esc>"
check_eq chart-ack-esc "$(grep -c '(ack)' chart-ack-esc.screen)" 0
rtui chart-ack "$MEMCHART
ka
replay history kept on purpose<Enter>"
check_has chart-ack-legend chart-ack.screen "│ +41.2 % at $MEM (ack)"
check_has chart-ack-point chart-ack.screen "change point +41.2 % since $MEM (ack)"
check_status chart-ack-status chart-ack "acknowledged the change point of memory.peak_rss_mb at $MEM"
(cd "$REPO" && "$CISCOPE" --db "$DB" metrics show --workflow bench memory.peak_rss_mb) >"$OUT" 2>"$ERR"
check_has chart-ack-cli "$OUT" "acknowledged: replay history kept on purpose"
rtui metrics-acked 'M
/memory.peak<Enter>'
check_has metrics-acked-row metrics-acked.screen "+41.2 % since $MEM (ack)"
# from the table: the newest change point of the selected metric
rtui metrics-ack 'M
/parity.energy.max_excess<Enter>
a
fixed<Enter>'
(cd "$REPO" && "$CISCOPE" --db "$DB" metrics show --workflow parity parity.energy.max_excess) >"$OUT" 2>"$ERR"
check_has metrics-ack-cli "$OUT" "at 010bf6e"
check_has metrics-ack-note "$OUT" "acknowledged: fixed"
DB="$WORK/demo.db"

finish
