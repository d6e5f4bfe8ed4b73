# lib.sh - the harness of the scripted TUI tests, sourced by tests/tui/*.sh
# (see README.md). It builds on tests/cli/lib.sh: the same environment,
# the same "ok NAME" / "FAIL NAME: reason" lines and helpers (run,
# check_exit, check_eq, check_has, check_golden with UPDATE_GOLDEN=1,
# finish), golden files in tests/tui/expected/.
#
#   size COLSxLINES          the screen of the next runs (default 80x24)
#   tui NAME 'SCRIPT' [ARGS] run `ciscope --db "$DB" ARGS` on the script's
#                            keys; the screen at the end is in NAME.screen
#                            (text) and NAME.attrs (colour roles), the bytes
#                            written to the "terminal" in NAME.raw; stdout,
#                            stderr and exit status in $OUT, $ERR, $rc
#   status_line FILE         the last line of a screen (the status bar)
#   check_screen NAME        NAME.screen equals expected/NAME.screen
#   check_no_raw NAME FILE BYTES
#                            FILE does not contain BYTES (printf syntax)
#
# No terminal is needed: ciscope draws on ncurses' virtual screen. A run
# that hangs is killed after 60 s.

. "$(dirname "$0")/../cli/lib.sh"

TERM=xterm-256color
export TERM
unset ESCDELAY
TUI_COLUMNS=80
TUI_LINES=24

size() {
	TUI_COLUMNS=${1%x*}
	TUI_LINES=${1#*x}
}

tui() {
	_name=$1
	_script=$2
	shift 2
	printf '%s\n:save-display %s.screen\n:save-display-attrs %s.attrs\n' \
		"$_script" "$_name" "$_name" >"$_name.keys"
	rm -f "$_name.screen" "$_name.attrs" "$_name.raw"
	LINES=$TUI_LINES COLUMNS=$TUI_COLUMNS CISCOPE_SCRIPT="$WORK/$_name.keys" \
		CISCOPE_SCRIPT_OUTPUT="$WORK/$_name.raw" \
		timeout 60 "$CISCOPE" --db "$DB" "$@" >"$OUT" 2>"$ERR"
	rc=$?
}

status_line() {
	tail -n 1 "$1"
}

check_screen() {
	check_golden "$1.screen" "$1.screen"
}

check_no_raw() {
	# shellcheck disable=SC2059
	printf "$3" >"$WORK/.needle"
	if [ ! -f "$2" ]; then
		fail "$1" "no terminal output in $2"
	elif LC_ALL=C grep -qaF -f "$WORK/.needle" "$2"; then
		fail "$1" "$2 contains the bytes $3"
	else
		ok "$1"
	fi
}
