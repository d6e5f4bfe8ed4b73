#!/bin/sh
# run.sh BUILD - run every test: unit programs (BUILD/tests/t_*), CLI tests
# (tests/cli/*.sh), the demo data checker and the layering check.
# Ends with one line "N passed, N failed"; exits 1 when anything failed.
BUILD=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2
case $BUILD in /*) ;; *) BUILD="$top/$BUILD" ;; esac

# A UTF-8 locale is part of the test environment: probe, never guess.
LOC=
for l in C.UTF-8 C.utf8 en_US.UTF-8 en_US.utf8; do
	if locale -a 2>/dev/null | grep -qx "$l"; then LOC=$l; break; fi
done
if [ -z "$LOC" ]; then
	echo "tests/run.sh: no UTF-8 locale installed (tried C.UTF-8, en_US.UTF-8)" >&2
	echo "0 passed, 1 failed"
	exit 1
fi

TMPROOT=$(mktemp -d "${TMPDIR:-/tmp}/ciscope-tests.XXXXXX")
trap 'rm -rf "$TMPROOT"' EXIT INT TERM
export LC_ALL=$LOC LANG=$LOC TZ=UTC NO_COLOR=1
export CISCOPE_TIME_NOW=2026-11-21T12:00:00Z
export FIXTURES="$top/tests/fixtures"
export CISCOPE="$BUILD/ciscope"
export HOME="$TMPROOT/home" XDG_DATA_HOME= XDG_CONFIG_HOME= CISCOPE_DB=
mkdir -p "$HOME"
unset GH_TOKEN GITHUB_TOKEN

passed=0
failed=0
failures=

note() { # note NAME STATUS
	if [ "$2" = ok ]; then passed=$((passed + 1)); else
		failed=$((failed + 1)); failures="$failures $1"; fi
}

for t in "$BUILD"/tests/t_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	out="$TMPROOT/$name.out"
	TMPDIR="$TMPROOT" "$t" >"$out" 2>&1
	rc=$?
	grep -E '^(FAIL|    )' "$out"
	summary=$(grep -E "^$name: [0-9]+ passed, [0-9]+ failed$" "$out" | tail -n 1)
	if [ -z "$summary" ]; then
		echo "FAIL $name: crashed or ended early (exit $rc); last lines:"
		tail -n 5 "$out"
		note "$name" fail
		continue
	fi
	p=$(echo "$summary" | sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed/\1/')
	f=$(echo "$summary" | sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed/\2/')
	passed=$((passed + p))
	failed=$((failed + f))
	[ "$f" -gt 0 ] && failures="$failures $name"
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL $name: exit $rc"
		note "$name" fail
	fi
	echo "$summary"
done

for t in tests/cli/*.sh tests/tui/*.sh; do
	[ -f "$t" ] || continue
	case $t in */lib.sh) continue ;; esac
	area=$(basename "$(dirname "$t")")
	name=$area/$(basename "$t" .sh)
	out="$TMPROOT/$area-$(basename "$t" .sh).out"
	d="$TMPROOT/$area-$(basename "$t" .sh)"
	mkdir -p "$d"
	(cd "$d" && TMPDIR="$d" sh "$top/$t") >"$out" 2>&1
	rc=$?
	p=$(grep -c '^ok ' "$out")
	f=$(grep -c '^FAIL' "$out")
	grep '^FAIL' "$out"
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL $name: exit $rc"; tail -n 5 "$out"; f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	[ "$f" -gt 0 ] && failures="$failures $name"
	echo "$name: $p passed, $f failed"
done

if [ -f tests/demo/check-demo.py ]; then
	if python3 tests/demo/check-demo.py "$TMPROOT/demo" >"$TMPROOT/demo.out" 2>&1; then
		note demo ok; echo "demo: ok"
	else
		note demo fail; echo "FAIL demo:"; tail -n 20 "$TMPROOT/demo.out"
	fi
fi

if make -s check-layering >"$TMPROOT/layering.out" 2>&1; then
	note layering ok; echo "layering: ok"
else
	note layering fail; echo "FAIL layering:"; cat "$TMPROOT/layering.out"
fi

[ -n "$failures" ] && echo "failed:$failures"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
