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
#   check_attrs NAME         NAME.attrs equals expected/NAME.attrs
#   check_status NAME SCREEN TEXT
#                            the status bar (last line) of SCREEN.screen
#                            contains TEXT
#   check_title NAME SCREEN TEXT
#                            the title bar (first line) of SCREEN.screen
#                            contains TEXT
#   row_of FILE TEXT         the number of the first line of FILE holding TEXT
#   attrs_of SCREEN TEXT     the attrs line of the first screen row holding TEXT
#   attrs_under SCREEN ROWTEXT WORD
#                            the attrs letters under WORD in the first row of
#                            SCREEN holding ROWTEXT and WORD ("" when none)
#   demo_db                  DB=demo.db: the demo data set (tools/demo-gen.py)
#                            generated and imported once per script
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

check_attrs() {
	check_golden "$1.attrs" "$1.attrs"
}

check_status() {
	status_line "$2.screen" >"$WORK/.status"
	check_has "$1" "$WORK/.status" "$3"
}

check_title() {
	head -n 1 "$2.screen" >"$WORK/.title"
	check_has "$1" "$WORK/.title" "$3"
}

row_of() {
	grep -nF -- "$2" "$1" | head -n 1 | cut -d: -f1
}

attrs_of() {
	_n=$(row_of "$1.screen" "$2")
	if [ -n "$_n" ]; then sed -n "${_n}p" "$1.attrs"; fi
}

attrs_under() {
	python3 - "$1" "$2" "$3" <<'EOF'
import sys, unicodedata
name, row, word = sys.argv[1:4]
screen = open(name + ".screen", encoding="utf-8").read().split("\n")
attrs = open(name + ".attrs", encoding="utf-8").read().split("\n")
def cols(s):  # display columns, as the attrs dump counts them
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)
for i, line in enumerate(screen):
    if row in line and word in line and i < len(attrs):
        a = cols(line[:line.index(word)])
        print(attrs[i][a:a + cols(word)])
        break
EOF
}

# The demo data set (python3 tools/demo-gen.py, ~2 s, deterministic: the
# golden screens depend on it) imported into demo.db, once per script.
demo_db() {
	DB=demo.db
	[ -f "$WORK/demo.db" ] && return 0
	_top=$(cd "$CLI_DIR/../.." && pwd)
	if ! python3 "$_top/tools/demo-gen.py" "$WORK/demo" >"$WORK/demo-gen.out" 2>&1; then
		fail demo_db "tools/demo-gen.py failed: $(tail -n 3 "$WORK/demo-gen.out")"
		return 1
	fi
	if ! "$CISCOPE" --db "$WORK/demo.db" import --quiet "$WORK/demo/runs" >"$OUT" 2>"$ERR"; then
		fail demo_db "importing the demo failed: $(head -c 300 "$ERR")"
		return 1
	fi
	rm -rf "$WORK/demo/repo"
}

# --- black-box tests in tmux --------------------------------------------------------
#   tmux_start NAME WxH [ENV=VALUE...] -- [ARGS...]
#                            a tmux window (its own server, socket in $WORK)
#                            running `env ENV... ciscope --db "$DB" ARGS` on a
#                            real pty; the pane stays after the program ends
#   tmux_wait TEXT           wait (polling, 30 s at most) until the pane shows
#                            TEXT; the pane is then in $WORK/pane.txt; status 1
#                            if it never does
#   tmux_keys KEY...         tmux send-keys (key names: Enter, Escape, C-c, ...)
#   tmux_dead                wait until the program has ended; its exit status
#                            in $rc (999: it did not end in 30 s)
#   tmux_screen FILE [-e]    the pane as text (-e: with its colours) in FILE
#   tmux_text FILE           the same with wrapped lines joined, history too
#   tmux_window WxH COMMAND  a window on a command line of the test's own
#   tmux_end                 close the window
# Nothing from the tests reaches a shell unquoted: the command is a script
# written with every argument single-quoted.
TMUX_SOCK=
unset TMUX # a test run from inside tmux starts its own server all the same
tmux_start() {
	_n=$1 _size=$2
	shift 2
	TMUX_SOCK="$WORK/tmux.sock"
	TMUX_RC="$WORK/$_n.rc"
	rm -f "$TMUX_RC"
	trap 'tmux -S "$TMUX_SOCK" kill-server 2>/dev/null; rm -rf "$WORK"' EXIT
	{
		# tmux does not always have the status of a program that ends at
		# once: the script writes it; it ignores Ctrl-C (ciscope does not:
		# it sets its own handler), so it outlives the program to write it
		printf "#!/bin/sh\ntrap '' INT\nenv"
		while [ $# -gt 0 ] && [ "$1" != -- ]; do
			printf " '%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"
			shift
		done
		[ "${1:-}" = -- ] && shift
		printf " '%s' --db '%s'" "$(printf '%s' "$CISCOPE" | sed "s/'/'\\\\''/g")" \
			"$(printf '%s' "$DB" | sed "s/'/'\\\\''/g")"
		for _a in "$@"; do
			printf " '%s'" "$(printf '%s' "$_a" | sed "s/'/'\\\\''/g")"
		done
		printf "\necho \"\$?\" >'%s'\n" "$(printf '%s' "$TMUX_RC" | sed "s/'/'\\\\''/g")"
	} >"$WORK/$_n.sh"
	tmux_window "$_size" "sh '$WORK/$_n.sh'"
}

# tmux_window WxH COMMAND: the window on COMMAND (our own text), kept after
# the command ends (remain-on-exit set before it starts: no race)
tmux_window() {
	TMUX_SOCK="$WORK/tmux.sock"
	tmux -S "$TMUX_SOCK" kill-session -t ciscope 2>/dev/null
	# a terminal type the machine has a terminfo entry for
	_term=screen-256color
	infocmp tmux-256color >/dev/null 2>&1 && _term=tmux-256color
	tmux -S "$TMUX_SOCK" -f /dev/null new-session -d -s keep -x 20 -y 5 \; \
		set-option -g remain-on-exit on \; \
		set-option -g default-terminal "$_term" \; \
		new-session -d -s ciscope -c "$WORK" -x "${1%x*}" -y "${1#*x}" "$2" 2>/dev/null ||
		tmux -S "$TMUX_SOCK" new-session -d -s ciscope -c "$WORK" \
			-x "${1%x*}" -y "${1#*x}" "$2"
}

tmux_wait() {
	_i=0
	while [ $_i -lt 300 ]; do
		tmux -S "$TMUX_SOCK" capture-pane -p -t ciscope >"$WORK/pane.txt" 2>/dev/null
		grep -qF -- "$1" "$WORK/pane.txt" && return 0
		_i=$((_i + 1))
		sleep 0.1
	done
	return 1
}

tmux_keys() {
	tmux -S "$TMUX_SOCK" send-keys -t ciscope "$@"
}

tmux_dead() {
	_i=0
	rc=999 # never ended
	while [ $_i -lt 300 ]; do
		if [ -s "$TMUX_RC" ]; then
			rc=$(cat "$TMUX_RC")
			return 0
		fi
		_i=$((_i + 1))
		sleep 0.1
	done
	return 1
}

tmux_screen() {
	tmux -S "$TMUX_SOCK" capture-pane -p ${2:+"$2"} -t ciscope >"$1"
}

# tmux_text FILE: the pane with wrapped lines joined (messages on stderr)
tmux_text() {
	tmux -S "$TMUX_SOCK" capture-pane -p -J -S - -t ciscope | sed 's/ *$//' >"$1"
}

tmux_end() {
	tmux -S "$TMUX_SOCK" kill-session -t ciscope 2>/dev/null
}
