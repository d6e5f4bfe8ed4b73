#!/bin/sh
# registry.sh - the application's registry (views/views.h): every view in
# VIEW_LIST has a view-NAME action that opens it from the selection of the
# view it is used in (views/actions.c, struct view_env), the application's
# actions and colour roles reach the config language, the help view and
# `ciscope keys`. The default config binds only view-triage, so the others
# are bound here in the user's config.
. "$(dirname "$0")/lib.sh"

demo_db || finish

mkdir -p cfg/ciscope
printf '%s\n' \
	'bind generic V view-run' \
	'bind generic L view-log' \
	'bind generic S view-search' \
	'bind generic R view-runs' \
	'bind generic T view-triage' \
	'color sha red default bold' \
	'color decision-retry green default' >cfg/ciscope/config
XDG_CONFIG_HOME="$WORK/cfg"
export XDG_CONFIG_HOME

RUN=':filter 9805100433'

# the config with the application's actions and roles loads without errors
tui reg-config ''
check_exit reg-config-exit 0
status_line reg-config.screen >status.txt
if grep -q 'config' status.txt; then fail reg-config-clean "$(cat status.txt)"; else ok reg-config-clean; fi

# view-run: the run at the cursor of the list (as Enter would)
tui reg-run "$RUN
V"
check_title reg-run-title reg-run 'run 9805100433 · ci · twierzbicki/f32-simd · 4dd7aca · pull_request · failure'

# view-log: the job at the cursor of the run view (e: the failed test-rust)
tui reg-log "$RUN
Ve
L"
check_title reg-log-title reg-log 'run 9805100433 / job test-rust'

# no job is selected in the list: the view does not open, the list says why
tui reg-log-none 'L'
check_title reg-log-none-title reg-log-none 'runs · newest first'
check_status reg-log-none-msg reg-log-none 'view-log: no job is selected here'

# nothing is selected in the help view
tui reg-run-none 'hV'
check_title reg-run-none-title reg-run-none 'help: runs'
check_status reg-run-none-msg reg-run-none 'view-run: no run is selected here'

# view-search asks for the text, then searches every log
tui reg-search 'S
E0308<Enter>'
check_title reg-search-title reg-search 'search E0308 · 6 matches'

# view-triage from the run view (here a generic key): that run's failures
tui reg-triage-run "$RUN
VT"
check_title reg-triage-run-title reg-triage-run 'triage · run 9805100433 · ci · twierzbicki/f32-simd'

# view-runs opens the list on top of whatever is shown
tui reg-runs "$RUN
VR"
check_title reg-runs-title reg-runs 'runs · newest first'

# the help lists the application's actions once bound, in their groups
size 200x50
tui reg-help 'h'
check_has reg-help-view-run reg-help.screen 'view-run'
check_has reg-help-view-log reg-help.screen 'Open the log of the selected job'
# (the groups: view-run among the Views, view-triage under Triage)
views_row=$(row_of reg-help.screen ' Views')
run_row=$(row_of reg-help.screen 'view-run ')
search_row=$(row_of reg-help.screen ' Searching and filtering')
if [ -n "$run_row" ] && [ "$views_row" -lt "$run_row" ] && [ "$run_row" -lt "$search_row" ]; then
	ok reg-help-group
else
	fail reg-help-group "view-run at row $run_row, not between $views_row and $search_row"
fi

# the application's roles: sha drawn in its own letter
size 80x24
tui reg-attrs ''
check_eq reg-attrs-sha "$(attrs_under reg-attrs 'ci' "$(sed -n 3p reg-attrs.screen | awk '{print $4}')" | cut -c1)" h

# `ciscope keys` reads the same tables
run keys
check_has reg-keys-run "$OUT" 'view-run'
check_has reg-keys-fetch "$OUT" 'fetch'
unset XDG_CONFIG_HOME

# an unknown action or role is still refused, naming it
printf '%s\n' 'bind generic V view-nosuch' 'color nosuch red default' >cfg/ciscope/config
XDG_CONFIG_HOME="$WORK/cfg"
export XDG_CONFIG_HOME
size 200x50
tui reg-bad ''
check_status reg-bad-msg reg-bad "unknown action 'view-nosuch' (and 1 more errors)"
unset XDG_CONFIG_HOME

finish
