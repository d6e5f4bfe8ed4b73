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
check_eq bd-yes-ref "$(h count s.log "$L0" 'e["method"] == "POST" and e["path"].endswith("/git/refs") and e["status"] == 201')" 1
check_eq bd-yes-dispatched "$(h count s.log "$L0" 'e["method"] == "POST" and e["path"].endswith("/dispatches") and e["status"] == 204')" 1
check_eq bd-yes-deleted "$(h count s.log "$L0" 'e["method"] == "DELETE" and e["status"] == 204')" 1
check_eq bd-yes-no-ref-left "$(h refs "$API")" ""
(cd "$REPO" && "$CISCOPE" --db "$DB" bisect status --json) >status.json
check_has bd-yes-evidence status.json "{\"sha\":\"$NEXT\",\"verdict\":\""
check_eq bd-yes-next-moved "$(h get status.json next | grep -c "^$NEXT\$")" 0
if grep -qF "$TOKEN" ./*.screen "$OUT" "$ERR" 2>/dev/null; then fail token-hidden "printed"; else ok token-hidden; fi
finish
