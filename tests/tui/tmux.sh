#!/bin/sh
# tmux.sh - black-box tests of the real binary on a real terminal: ciscope
# runs in a tmux window (a pty, not the scripted virtual screen), the test
# types keys with send-keys and reads the screen with capture-pane: moving
# through the views, a mouse click, colours and NO_COLOR, resizing the
# window (SIGWINCH), a window too small, quitting with Q and with Ctrl-C
# (the terminal restored), start-up errors and an unknown TERM.
. "$(dirname "$0")/lib.sh"

if ! command -v tmux >/dev/null 2>&1; then
	ok "tmux (skipped: tmux is not installed; make deps installs it)"
	finish
fi

make_run_folders
DB=index.db
run import --quiet runs
check_exit setup 0

# wait_for NAME TEXT: ok when the pane comes to show TEXT
wait_for() {
	if tmux_wait "$2"; then
		ok "$1"
	else
		fail "$1" "the pane never showed '$2'; it shows: $(grep . "$WORK/pane.txt" | head -n 3)"
	fi
}

# --- through the views -------------------------------------------------------------------
tmux_start views 100x30 --
wait_for tty-start 'runs · newest first'
wait_for tty-start-status '[runs] row 1 of 2'
tmux_screen start.txt
check_eq tty-start-lines "$(wc -l <start.txt | tr -d ' ')" 30
check_has tty-start-row start.txt '✗ Multi jobs workflow'
check_has tty-start-counts start.txt '2 runs · 1 failed · 0 in progress'
tmux_keys j
wait_for tty-j '[runs] row 2 of 2'
tmux_keys k Enter
wait_for tty-run 'run 719643948 · Multi jobs workflow · fix/parser · c7bd3b8 · workflow_dispatch · failure'
wait_for tty-run-status '2 jobs · 1 failed'
tmux_keys g Enter
wait_for tty-log 'run 719643948 / job job2'
wait_for tty-log-status 'line 1 of'
tmux_keys G
wait_for tty-log-G '(100%)'
tmux_keys / C l e a n i n g Enter
wait_for tty-log-search 'Cleaning up orphan processes'
tmux_keys t
wait_for tty-log-ts 'timestamps: absolute'
tmux_keys h
wait_for tty-help 'help: log'
tmux_keys q q q
wait_for tty-back '[runs] row 1 of 2'
# an unknown key, the prompt
tmux_keys x
wait_for tty-unknown 'Unknown key x, press h for help'
tmux_keys : g o t o Space 2 Enter
wait_for tty-goto '[runs] row 2 of 2'
# a click on the first row (X10 mouse report: button 1 at column 10, row 3
# of the screen, under the title and the column header; ncurses asked for
# mouse reports when it started)
tmux_keys -l "$(printf '\033[M *#\033[M#*#')"
wait_for tty-click '[runs] row 1 of 2'

# --- resizing the window ---------------------------------------------------------------------
tmux -S "$TMUX_SOCK" resize-window -t ciscope -x 60 -y 12
wait_for tty-resize-status '[runs] row 1 of 2'
tmux_wait '2 runs · 1 failed' >/dev/null
tmux_screen resized.txt
check_eq tty-resize-lines "$(wc -l <resized.txt | tr -d ' ')" 12
python3 -c 'import sys; sys.exit(max(len(l.rstrip("\n")) for l in open(sys.argv[1], encoding="utf-8")) > 60)' resized.txt
rc=$?
check_exit tty-resize-width 0
check_eq tty-resize-status-row "$(sed -n 12p resized.txt | cut -c1-18)" ' [runs] row 1 of 2'
check_has tty-resize-title resized.txt 'runs · newest first'
tmux -S "$TMUX_SOCK" resize-window -t ciscope -x 15 -y 4
wait_for tty-resize-tiny 'Too small'
tmux -S "$TMUX_SOCK" resize-window -t ciscope -x 100 -y 30
wait_for tty-resize-back '2 runs · 1 failed · 0 in progress'
tmux_screen back.txt
# title, column header, two runs, status
check_eq tty-resize-back-lines "$(grep -c . back.txt)" 5
# the keys still go where they should
tmux_keys j
wait_for tty-resize-keys '[runs] row 2 of 2'

# --- quitting restores the terminal ------------------------------------------------------------
tmux_keys Q
tmux_dead
check_exit tty-quit 0
tmux_screen quit.txt
if grep -q 'runs · newest first\|Multi jobs' quit.txt; then
	fail tty-quit-restored "the UI is still on the screen: $(grep . quit.txt | head -n 2)"
else
	ok tty-quit-restored
fi
tmux_end

tmux_start ctrlc 80x24 --
wait_for tty-ctrlc-start '[runs] row 1 of 2'
tmux_keys Enter
wait_for tty-ctrlc-run 'run 719643948'
tmux_keys C-c
tmux_dead
check_exit tty-ctrlc 130
tmux_screen ctrlc.txt
if grep -q 'run 719643948' ctrlc.txt; then
	fail tty-ctrlc-restored "the UI is still on the screen"
else
	ok tty-ctrlc-restored
fi
tmux_end

# --- colours --------------------------------------------------------------------------------
tmux_start color 100x30 -u NO_COLOR --
wait_for tty-color-start '[runs] row 1 of 2'
tmux_keys j
wait_for tty-color-j '[runs] row 2 of 2'
tmux_screen color.txt -e
# the failed run's glyph is red (SGR 31, or 91 bright, or 38;5;1/9)
if python3 -c 'import re, sys
t = open(sys.argv[1], encoding="utf-8").read()
sys.exit(not re.search(r"\x1b\[(?:[0-9;]*;)?(?:31|91|38;5;[19])m(?:\x1b\[[0-9;]*m)*\u2717", t))' color.txt; then
	ok tty-color-failure
else
	fail tty-color-failure "no red before ✗: $(grep -a '✗' color.txt | head -n 1 | od -c | head -n 3)"
fi
tmux_end
tmux_start nocolor 100x30 NO_COLOR=1 --
wait_for tty-nocolor-start '[runs] row 1 of 2'
tmux_screen nocolor.txt -e
if grep -aq "$(printf '\033')\\[[0-9;]*\\(3[0-7]\\|9[0-7]\\|38;5;[0-9]*\\)m" nocolor.txt; then
	fail tty-nocolor "a colour with NO_COLOR: $(grep -a "$(printf '\033')\\[" nocolor.txt | head -n 1 | od -c | head -n 2)"
else
	ok tty-nocolor
fi
tmux_end
tmux_start nocolor-flag 100x30 -u NO_COLOR -- --no-color
wait_for tty-no-color-flag-start '[runs] row 1 of 2'
tmux_screen nocolorflag.txt -e
if grep -aq "$(printf '\033')\\[[0-9;]*\\(3[0-7]\\|9[0-7]\\|38;5;[0-9]*\\)m" nocolorflag.txt; then
	fail tty-no-color-flag "a colour with --no-color"
else
	ok tty-no-color-flag
fi
tmux_end

# --- start-up errors on a terminal --------------------------------------------------------------
DB=missing.db
tmux_start missing 80x24 --
tmux_dead
check_exit tty-missing 1
tmux_text missing.txt
check_has tty-missing-msg missing.txt "ciscope: no index at 'missing.db': import runs first (ciscope import PATH) or name one with --db"
DB=index.db
tmux_end
tmux_start badterm 80x24 TERM=nosuchterm --
tmux_dead
check_exit tty-badterm 1
tmux_text badterm.txt
check_has tty-badterm-msg badterm.txt 'ciscope: cannot start the terminal (TERM=nosuchterm)'
tmux_end
# output to a pipe: the run list as text, no UI
printf '#!/bin/sh\n"$CISCOPE" --db index.db | cat\necho "$?" >pipe.rc\n' >pipe.sh
TMUX_RC=$WORK/pipe.rc
tmux_window 100x30 "sh '$WORK/pipe.sh'"
tmux_dead
check_exit tty-pipe 0
tmux_screen pipe.txt
check_has tty-pipe-list pipe.txt '719643948'
if grep -q 'runs · newest first' pipe.txt; then fail tty-pipe-no-ui "the UI started"; else ok tty-pipe-no-ui; fi
tmux_end

finish
