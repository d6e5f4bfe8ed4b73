#!/bin/sh
# thresholds.sh - the run list marks a run that breaches a fail threshold
# (core/metrics.h, judged as `ciscope check` judges it): on the demo data
# set's planted memory regression, with a thresholds file of the test's own,
# in colour (the failure role) and in ASCII; no mark without a fail bound.
. "$(dirname "$0")/lib.sh"

demo_db || finish

# the demo's bench: peak memory ~212 MB, then the planted regression above 260
cat >th.conf <<'CONF'
threshold memory.peak_rss_mb
	workflow bench
	warn <= 230 MB
	fail <= 260 MB
CONF
warn_only() {
	sed '/fail/d' th.conf >th-warn.conf
}
warn_only
CISCOPE_THRESHOLDS="$WORK/th.conf"
export CISCOPE_THRESHOLDS

BENCH=':filter workflow:bench'
MARK=$(printf '\342\226\262') # U+25B2
size 80x24
tui runs-breach "$BENCH"
check_exit runs-breach-exit 0
check_screen runs-breach
# the mark stands in the gap after the state glyph, in the failure role
marked=$(grep -c "^.$MARK" runs-breach.screen)
check_eq runs-breach-some "$([ "$marked" -gt 0 ] && echo yes)" yes
check_eq runs-breach-not-all "$([ "$marked" -lt "$(grep -c 'bench' runs-breach.screen)" ] && echo yes)" yes
# (the role letter of a failed run's glyph; the last mark: not under the cursor)
n=$(grep -n "^.$MARK" runs-breach.screen | tail -n 1 | cut -d: -f1)
x=$(row_of runs-breach.screen "$(printf '\342\234\227')")
check_eq runs-breach-role "$(sed -n "${n}p" runs-breach.attrs | cut -c2)" \
	"$(sed -n "${x}p" runs-breach.attrs | cut -c1)"

# ASCII: '!' instead
saved=$LC_ALL
LC_ALL=C
tui runs-breach-ascii "$BENCH"
LC_ALL=$saved
check_exit runs-breach-ascii-exit 0
check_eq runs-breach-ascii-marks "$(grep -c '^.!' runs-breach-ascii.screen)" "$marked"

# warn bounds only: nothing is marked
CISCOPE_THRESHOLDS="$WORK/th-warn.conf"
tui runs-warn-only "$BENCH"
check_eq runs-warn-only-marks "$(grep -c "^.$MARK" runs-warn-only.screen)" 0
unset CISCOPE_THRESHOLDS

finish
