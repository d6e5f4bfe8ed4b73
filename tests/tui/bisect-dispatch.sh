#!/bin/sh
# bisect-dispatch.sh - D in the bisect view against the loopback GitHub
# server (tests/server/ghserver.py): the requests are shown before anything
# is sent (the token named by its source, never shown), n sends nothing, y
# runs `ciscope bisect dispatch --yes` in the background: the temporary
# branch created, the workflow dispatched on it, its run fetched (its verdict
# lands, the next commit moves), the branch deleted.
. "$(dirname "$0")/lib.sh"

loopback_setup tok-ciscope-tui-bisect-8e02
export CISCOPE_CACHE="$WORK/cache"
h() { python3 "$TOP/tests/server/ghctl.py" "$@"; }

bisect_history
start_server s --runs runs
"$CISCOPE" --db "$DB" fetch --api-url "$API" --quiet t/bisect >"$OUT" 2>"$ERR" || fail fetch "$(cat "$ERR")"
DB=$WORK/index.db
(cd "$REPO" && "$CISCOPE" --db "$DB" bisect start --workflow ci --json) >start.json 2>"$ERR" || fail start "$(cat "$ERR")"
NEXT=$(h get start.json next)
# the run completes at the first look after the dispatch; commits 5.. fail
h ctl "$API" /_ctl/dispatch "{\"polls\":1,\"conclusion\":\"success\",\"by_sha\":{\"$(sha 5)\":\"failure\",\"$(sha 6)\":\"failure\",\"$(sha 7)\":\"failure\"}}"
export GITHUB_API_URL=$API

rtui() {
	(cd "$REPO" && WORK="$REPO" tui "$@")
	mv "$REPO/$1.screen" "$REPO/$1.attrs" "$WORK/" 2>/dev/null
	rm -f "$REPO/$1.keys" "$REPO/$1.raw"
}

# D shows the requests; n sends nothing
L0=$(h lines s.log)
rtui bd-confirm ':bisect
D'
check_has bd-confirm-ref bd-confirm.screen "POST $API/repos/t/bisect/git/refs"
check_has bd-confirm-body bd-confirm.screen "\"ref\":\"refs/heads/ciscope-bisect-$(echo "$NEXT" | cut -c1-12)\""
check_has bd-confirm-token bd-confirm.screen "<the token from GH_TOKEN, not shown>"
check_has bd-confirm-question bd-confirm.screen "Create branch 'ciscope-bisect-"
rtui bd-no ':bisect
Dn'
check_status bd-no-status bd-no "not sent"
check_eq bd-no-write "$(h count s.log "$L0" 'e["method"] != "GET"')" 0

# y: the flow in the background; the view reloads with the verdict
rtui bd-yes ':bisect
Dy'
check_status bd-yes-status bd-yes "bisect dispatch: bisecting: 4 suspects left"
check_has bd-yes-run-shown bd-yes.screen "9000000001 success"
# the view says a dispatch made the run (wide enough to show it whole)
size 160x24
rtui bd-wide ':bisect'
size 80x24
check_has bd-wide-dispatched bd-wide.screen "9000000001 success (dispatched)"
check_eq bd-yes-ref "$(h count s.log "$L0" 'e["method"] == "POST" and e["path"].endswith("/git/refs") and e["status"] == 201')" 1
check_eq bd-yes-dispatched "$(h count s.log "$L0" 'e["method"] == "POST" and e["path"].endswith("/dispatches") and e["status"] == 204')" 1
check_eq bd-yes-deleted "$(h count s.log "$L0" 'e["method"] == "DELETE" and e["status"] == 204')" 1
check_eq bd-yes-no-ref-left "$(h refs "$API")" ""
(cd "$REPO" && "$CISCOPE" --db "$DB" bisect status --json) >status.json
check_has bd-yes-evidence status.json "{\"sha\":\"$NEXT\",\"verdict\":\""
check_eq bd-yes-next-moved "$(h get status.json next | grep -c "^$NEXT\$")" 0
# --- D in a terminal (tmux): the poll interval and timeout from the config,
# the progress in the status bar (waiting, the run's status), the timeout
if command -v tmux >/dev/null 2>&1; then
	mkdir -p cfg/ciscope
	printf 'set bisect-dispatch-poll 0.2\nset bisect-dispatch-timeout 60\n' >cfg/ciscope/config
	# in progress for 25 looks: 5 s at 0.2 s a look (the default 15 s would take six minutes)
	h ctl "$API" /_ctl/dispatch '{"appear": true, "polls": 25, "conclusion": "success", "by_sha": {}}'
	NEXT=$( (cd "$REPO" && "$CISCOPE" --db "$DB" bisect status --json) | python3 -c 'import json,sys; print(json.load(sys.stdin)["next"])')
	N7=$(echo "$NEXT" | cut -c1-7)
	q() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }
	{
		printf '#!/bin/sh\ncd %s || exit 9\n' "$(q "$REPO")"
		printf 'XDG_CONFIG_HOME=%s GITHUB_API_URL=%s GH_TOKEN=%s %s --db %s\n' "$(q "$WORK/cfg")" "$(q "$API")" \
			"$(q "$TOKEN")" "$(q "$CISCOPE")" "$(q "$DB")"
		printf 'echo "$?" >%s\n' "$(q "$WORK/tp.rc")"
	} >tp.sh
	tmux_window 150x40 "sh '$WORK/tp.sh'"
	trap 'tmux -S "$TMUX_SOCK" kill-server 2>/dev/null; for p in $SERVERS; do kill "$p" 2>/dev/null; done; rm -rf "$WORK"' EXIT
	TMUX_RC="$WORK/tp.rc"
	wait_pane() {
		if tmux_wait "$2"; then ok "$1"; else fail "$1" "the pane never showed '$2'; it shows: $(grep . "$WORK/pane.txt" | tail -n 2)"; fi
	}
	wait_pane tp-start '[runs]'
	tmux_keys : b i s e c t Enter
	wait_pane tp-bisect 'suspects left'
	tmux_keys D
	wait_pane tp-confirm 'Create branch'
	tmux_text tp-confirm.txt
	check_has tp-confirm-poll tp-confirm.txt 'every 0.2 s (up to 60 s'
	tmux_keys y
	wait_pane tp-progress-status "bisect dispatch $N7: run "
	tmux_screen tp-progress.txt
	tail -n 1 tp-progress.txt >tp-status.txt
	check_has tp-progress-in-progress tp-status.txt "in_progress"
	wait_pane tp-done 'bisect dispatch: bisecting'
	# no run appears: "waiting" in the status bar, then the timeout set at the prompt
	h ctl "$API" /_ctl/dispatch '{"appear": false}'
	tmux_keys -l ':set bisect-dispatch-timeout 2'
	tmux_keys Enter
	N2=$( (cd "$REPO" && "$CISCOPE" --db "$DB" bisect status --json) | python3 -c 'import json,sys; print(json.load(sys.stdin)["next"][:7])')
	tmux_keys D
	wait_pane tp-confirm-2 'Create branch'
	tmux_text tp-confirm-2.txt
	check_has tp-confirm-timeout tp-confirm-2.txt 'every 0.2 s (up to 2 s'
	tmux_keys y
	wait_pane tp-waiting "bisect dispatch $N2: waiting for its run"
	tmux_screen tp-waiting.txt
	check_has tp-waiting-poll tp-waiting.txt "waiting for its run (a look every 0.2 s"
	wait_pane tp-timeout 'bisect dispatch stopped: no run of workflow'
	tmux_screen pane.txt -J
	check_has tp-timeout-within pane.txt 'within 2 s'
	check_eq tp-no-ref "$(h refs "$API")" ""
	tmux_keys Q
	tmux_dead
	check_eq tp-exit "$rc" 0
	tmux_end
else
	ok tp-skipped-no-tmux
fi
if grep -qF "$TOKEN" ./*.screen ./*.txt "$OUT" "$ERR" 2>/dev/null; then fail token-hidden "printed"; else ok token-hidden; fi
finish
