#!/bin/sh
# bisect-esc.sh - Esc stops x (bisect run from the bisect view) in a real
# terminal (tmux): a command that hangs on the proposed commit is started in
# the background, Esc stops it: the command (and the `ciscope bisect run`
# child that ran it) are gone, the status bar says nothing was recorded,
# the bisection is as it was (no verdict added, the same next commit, still
# active), no worktree is left in the user's checkout, and ciscope goes on
# (a second x runs to the end).
. "$(dirname "$0")/lib.sh"

if ! command -v tmux >/dev/null 2>&1; then
	ok skipped-no-tmux
	finish
fi

# eight commits on main; a green run at the first, a red one at the last
bisect_commits
DB=$WORK/index.db
RUN_FOLDER_REPO=t/esc
run_folder runs/r1 6001 main "$(sha 1)" success 11
run_folder runs/r8 6008 main "$(sha 8)" failure 18
"$CISCOPE" --db "$DB" import --quiet runs/r1 runs/r8 >"$OUT" 2>"$ERR" || fail import "$(cat "$ERR")"
(cd "$REPO" && "$CISCOPE" --db "$DB" bisect start --workflow ci --json) >before.json 2>"$ERR" || fail start "$(cat "$ERR")"
"$CISCOPE" --db "$DB" bisect log >before.log 2>&1
NEXT=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["next"])' before.json)

q() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }
{
	printf '#!/bin/sh\ncd %s || exit 9\n' "$(q "$REPO")"
	printf '%s --db %s\n' "$(q "$CISCOPE")" "$(q "$DB")"
	printf 'echo "$?" >%s\n' "$(q "$WORK/esc.rc")"
} >esc.sh
tmux_window 120x24 "sh '$WORK/esc.sh'"
trap 'tmux -S "$TMUX_SOCK" kill-server 2>/dev/null; [ -s "$WORK/hang.pid" ] && kill "$(cat "$WORK/hang.pid")" 2>/dev/null; rm -rf "$WORK"' EXIT
TMUX_RC="$WORK/esc.rc"
wait_pane() {
	if tmux_wait "$2"; then ok "$1"; else fail "$1" "the pane never showed '$2'; it shows: $(grep . "$WORK/pane.txt" | tail -n 2)"; fi
}
wait_pane start '[runs]'
tmux_keys : b i s e c t Enter
wait_pane bisect 'suspects left'
# the command records its pid (exec: the pid is the hanging process) and hangs
tmux_keys x
wait_pane prompt 'bisect run (sh -c'
tmux_keys -l "echo \$\$ >$WORK/hang.pid; exec sleep 300"
tmux_keys Enter
i=0
while [ ! -s hang.pid ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
HANG=$(cat hang.pid 2>/dev/null)
check_eq hang-started "$([ -n "$HANG" ] && kill -0 "$HANG" 2>/dev/null && echo running)" running
# the ciscope bisect run child: the hanging command's parent
RUNNER=$(ps -o ppid= -p "$HANG" 2>/dev/null | tr -d ' ')
check_eq runner-is-ciscope "$(ps -o args= -p "$RUNNER" 2>/dev/null | grep -c 'bisect run sh -c')" 1
wait_pane running "bisect run: testing $(echo "$NEXT" | cut -c1-7)"
# the worktree the run checked the commit out in exists while it runs
check_eq worktree-while-running "$(git -C repo worktree list | wc -l | tr -d ' ')" 2
tmux_keys Escape
wait_pane stopped 'bisect run interrupted: nothing recorded'
# the command and the runner are gone (not left running, not zombies)
gone() { ! kill -0 "$1" 2>/dev/null || [ "$(ps -o stat= -p "$1" 2>/dev/null | cut -c1)" = Z ]; }
i=0
while ! gone "$HANG" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
check_eq hang-gone "$(gone "$HANG" && echo gone)" gone
check_eq runner-gone "$(kill -0 "$RUNNER" 2>/dev/null && echo left || echo gone)" gone
# the bisection is unchanged: same log, same next, still active; no worktree left
"$CISCOPE" --db "$DB" bisect log >after.log 2>&1
check_eq log-unchanged "$(cmp -s before.log after.log && echo same)" same
(cd "$REPO" && "$CISCOPE" --db "$DB" bisect status --json) >after.json 2>"$ERR"
check_eq next-unchanged "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["next"])' after.json)" "$NEXT"
check_eq still-active "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["state"])' after.json)" active
check_eq no-worktree-left "$(git -C repo worktree list | wc -l | tr -d ' ')" 1
check_eq checkout-untouched "$(git -C repo status --porcelain | grep -v '^??' | wc -l | tr -d ' ')" 0
# ciscope goes on: the view still answers, a second x runs to the first bad commit
tmux_keys x
wait_pane prompt-again 'bisect run (sh -c'
tmux_keys C-u
tmux_keys -l "test -e f6 && exit 1; exit 0"
tmux_keys Enter
wait_pane finished 'first bad commit'
(cd "$REPO" && "$CISCOPE" --db "$DB" bisect status --json) >done.json 2>"$ERR"
check_eq first-bad "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["first_bad"])' done.json)" "$(sha 6)"
tmux_keys Q
tmux_dead
check_eq exit "$rc" 0
tmux_end
finish
