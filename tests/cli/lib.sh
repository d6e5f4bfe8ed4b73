# lib.sh - helpers for the CLI tests, sourced by tests/cli/*.sh.
#
# tests/run.sh runs each script in a fresh folder with CISCOPE (the binary),
# FIXTURES (tests/fixtures, absolute), TMPDIR, CISCOPE_TIME_NOW, LC_ALL and
# NO_COLOR set. A script prints "ok NAME" or "FAIL NAME: reason" per check
# and exits non-zero when any check failed.
#
#   run ARGS...              ciscope --db "$DB" ARGS: stdout in $OUT, stderr
#                            in $ERR, exit status in $rc
#   check_exit NAME N        the last run exited with N
#   check_eq NAME GOT WANT
#   check_has NAME FILE TEXT FILE contains TEXT (a fixed string)
#   check_golden NAME FILE   FILE equals tests/cli/expected/NAME; with
#                            UPDATE_GOLDEN=1 the expected file is rewritten
#   finish                   exit status of the script
#   start_server NAME ARGS...  python3 "$SERVER" ARGS (the loopback fake API)
#                            with --token "$TOKEN"; its pid is added to
#                            $SERVERS (the script kills those on exit); API=
#                            its URL, read by the script's own `h api`
#   run_folder DIR ID BRANCH SHA CONCLUSION MINUTE [LOG]
#                            a run folder with one job (id ID*10, named
#                            $RUN_FOLDER_JOB, default build) of repository
#                            $RUN_FOLDER_REPO (default t/triage); LOG is
#                            copied as the job's log. The workflow is
#                            $RUN_FOLDER_WORKFLOW (default ci), the run
#                            number $RUN_FOLDER_NUMBER (default MINUTE);
#                            $RUN_FOLDER_EXTRA_JOB, when set, is a second
#                            job (its JSON object)
#   local_results FILE       a local CI results file (results.json) of commit
#                            00000a0 on main: check coverage failed (84.5 <
#                            85), tests passed (tests/cli/metrics.sh,
#                            tests/tui/triage.sh)
#
# Golden files must not depend on the machine: paths in outputs are relative
# (the scripts work in their own folder) or replaced with sed, and the time
# is frozen by CISCOPE_TIME_NOW.

: "${CISCOPE:?set CISCOPE to the ciscope binary}"
: "${FIXTURES:?set FIXTURES to tests/fixtures}"
: "${CISCOPE_TIME_NOW:=2026-11-21T12:00:00Z}"
export CISCOPE_TIME_NOW
NO_COLOR=1
export NO_COLOR
unset CISCOPE_DB

CLI_DIR=$(cd "$(dirname "$0")" && pwd)
EXPECTED="$CLI_DIR/expected"
NAME=$(basename "$0" .sh)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ciscope-cli-$NAME.XXXXXX") || exit 2
trap 'rm -rf "$WORK"' EXIT
cd "$WORK" || exit 2
OUT="$WORK/stdout"
ERR="$WORK/stderr"
DB=index.db
n_fail=0

HUB="$FIXTURES/hub4j-github-api/src/test/resources/org/kohsuke/github/GHWorkflowRunTest/wiremock"
PYTORCH="$FIXTURES/pytorch-test-infra/aws/lambda/log-classifier/fixtures"

ok() { echo "ok $1"; }
fail() {
	echo "FAIL $1: $2"
	n_fail=$((n_fail + 1))
}

run() {
	"$CISCOPE" --db "$DB" "$@" >"$OUT" 2>"$ERR"
	rc=$?
}

check_exit() {
	if [ "$rc" -eq "$2" ]; then
		ok "$1"
	else
		fail "$1" "exit $rc, expected $2; stderr: $(head -c 300 "$ERR")"
	fi
}

check_eq() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		fail "$1" "got '$2', expected '$3'"
	fi
}

check_has() {
	if grep -qF -- "$3" "$2"; then
		ok "$1"
	else
		fail "$1" "'$3' not in: $(head -c 300 "$2")"
	fi
}

check_golden() {
	want="$EXPECTED/$1"
	if [ "${UPDATE_GOLDEN:-}" = 1 ]; then
		mkdir -p "$EXPECTED"
		cp "$2" "$want"
		ok "$1 (golden rewritten)"
		return
	fi
	if [ ! -f "$want" ]; then
		fail "$1" "no golden file $want (UPDATE_GOLDEN=1 writes it)"
	elif cmp -s "$2" "$want"; then
		ok "$1"
	else
		fail "$1" "differs from expected/$1:"
		diff -u "$want" "$2" | head -n 40 | sed 's/^/    /'
	fi
}

# stderr of an import, with the elapsed time taken out
import_summary() {
	sed 's/ in [0-9][0-9.]*s/ in Ns/' "$ERR"
}

# make_run_folders: runs/hub4j (run 719643947 as recorded: two successful
# jobs with their logs) and runs/hub4j-failed (the same run under id
# 719643948 on branch fix/parser, its job1 and that job's step 2 failed).
make_run_folders() {
	mkdir -p runs/hub4j/logs runs/hub4j-failed/logs
	cp "$FIXTURES/runs/hub4j-719643947/run.json" runs/hub4j/run.json
	cp "$HUB/testJobs/__files/11-r_h_g_actions_runs_719643947_jobs.json" runs/hub4j/jobs.json
	cp "$HUB/testJobs_actions-user-content/__files/1-u_a_p_1_runs_139_signedlogcontent_5.txt" \
		runs/hub4j/logs/2270858630.txt
	cp "$HUB/testJobs_actions-user-content/__files/2-u_a_p_1_runs_139_signedlogcontent_4.txt" \
		runs/hub4j/logs/2270858576.txt
	cp runs/hub4j/logs/* runs/hub4j-failed/logs/
	sed -e '2s/719643947/719643948/' -e '5s/"main"/"fix\/parser"/' \
		-e '7s/15/16/' -e '10s/"success"/"failure"/' \
		runs/hub4j/run.json >runs/hub4j-failed/run.json
	# job1's conclusion (line 61) and its step 2's (line 77)
	sed -e '61s/"success"/"failure"/' -e '77s/"success"/"failure"/' \
		runs/hub4j/jobs.json >runs/hub4j-failed/jobs.json
	if [ "$(grep -c '"failure"' runs/hub4j-failed/jobs.json)" != 2 ] ||
		[ "$(grep -c '"failure"' runs/hub4j-failed/run.json)" != 1 ] ||
		[ "$(grep -c 719643948 runs/hub4j-failed/run.json)" = 0 ]; then
		fail make_run_folders "the hub4j fixture changed: the sed line numbers no longer fit"
	fi
}

finish() {
	[ "$n_fail" -eq 0 ]
	exit $?
}

# loopback_setup TOKEN: the environment of a test against the loopback
# GitHub server (tests/server/ghserver.py, started with start_server): TOP,
# SERVER, GH_TOKEN=TOKEN, no other token, API URL or cache from outside, no
# proxy, a gh that is not logged in (a real gh never hands over a real
# token), the servers killed at exit.
loopback_setup() {
	TOP=$(cd "$CLI_DIR/../.." && pwd)
	SERVER="$TOP/tests/server/ghserver.py"
	TOKEN=$1
	export GH_TOKEN="$TOKEN"
	unset GITHUB_TOKEN GITHUB_API_URL CISCOPE_CACHE XDG_CACHE_HOME
	# only our servers may see these requests
	unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
	export NO_PROXY='*' no_proxy='*'
	# the helpers import the server module: no bytecode in the source tree
	export PYTHONDONTWRITEBYTECODE=1
	mkdir -p "$WORK/bin"
	printf '#!/bin/sh\nexit 1\n' >"$WORK/bin/gh"
	chmod +x "$WORK/bin/gh"
	PATH="$WORK/bin:$PATH"
	SERVERS=
	trap 'for p in $SERVERS; do kill "$p" 2>/dev/null; done; rm -rf "$WORK"' EXIT
	trap 'exit 2' INT TERM HUP PIPE
}

# bisect_history: repo/, a git repository with a linear history of 8
# commits (sha N: the Nth, oldest first; REPO its path), and the run
# folders runs/r1 (green, at the first) and runs/r8 (red, at the last) of
# workflow ci (.github/workflows/ci.yml, id 118) of t/bisect.
bisect_history() {
	bisect_commits
	RUN_FOLDER_REPO=t/bisect
	run_folder runs/r1 5001 main "$(sha 1)" success 11
	run_folder runs/r8 5008 main "$(sha 8)" failure 18
	for f in runs/*/run.json; do
		sed -i 's/^{"id"/{"workflow_id":118,"path":".github\/workflows\/ci.yml","id"/' "$f"
	done
}
sha() { echo "$SHAS" | sed -n "${1}p"; }
# own_home: HOME=$WORK/home, never the real one, whose .gitconfig names
# the user Tess Ter.
own_home() {
	HOME="$WORK/home"
	export HOME
	mkdir -p "$HOME"
	printf '[user]\n\tname = Tess Ter\n' >"$HOME/.gitconfig"
}
# bisect_commits: only the eight commits of bisect_history (SHAS, REPO).
bisect_commits() {
	git init -q -b main repo
	for i in 1 2 3 4 5 6 7 8; do
		echo "$i" >"repo/f$i"
		git -C repo add "f$i"
		GIT_AUTHOR_DATE="2026-10-01T0$i:00:00Z" GIT_COMMITTER_DATE="2026-10-01T0$i:00:00Z" \
			git -C repo -c user.name=T -c user.email=t@example.org commit -q -m "change $i"
	done
	SHAS=$(git -C repo rev-list --reverse main)
	REPO=$WORK/repo
}

start_server() {
	name=$1
	shift
	rm -f "$name.ready" "$name.log"
	python3 "$SERVER" --ready "$name.ready" --log "$name.log" --token "$TOKEN" "$@" \
		2>"$name.err" &
	server_pid=$!
	SERVERS="$SERVERS $server_pid"
	i=0
	while [ ! -f "$name.ready" ]; do
		i=$((i + 1))
		if [ $i -gt 300 ] || ! kill -0 "$server_pid" 2>/dev/null; then
			fail "$name-server" "did not start: $(tail -n 3 "$name.err")"
			finish
		fi
		sleep 0.05
	done
	API=$(h api "$name.ready")
}

run_folder() {
	mkdir -p "$1/logs"
	cat >"$1/run.json" <<EOF
{"id":$2,"name":"${RUN_FOLDER_WORKFLOW:-ci}","run_attempt":1,"run_number":${RUN_FOLDER_NUMBER:-$6},"head_branch":"$3","head_sha":"$4",
 "event":"push","status":"completed","conclusion":"$5","display_title":"commit $4",
 "created_at":"2026-10-01T10:$6:00Z","updated_at":"2026-10-01T10:$6:30Z",
 "repository":{"full_name":"${RUN_FOLDER_REPO:-t/triage}"}}
EOF
	job=$(($2 * 10))
	run_folder_jobs=1
	if [ -n "${RUN_FOLDER_EXTRA_JOB:-}" ]; then run_folder_jobs=2; fi
	cat >"$1/jobs.json" <<EOF
{"total_count":$run_folder_jobs,"jobs":[{"id":$job,"run_id":$2,"name":"${RUN_FOLDER_JOB:-build}","status":"completed",
 "conclusion":"$5","started_at":"2026-10-01T10:$6:00Z","completed_at":"2026-10-01T10:$6:30Z",
 "steps":[]}${RUN_FOLDER_EXTRA_JOB:+,$RUN_FOLDER_EXTRA_JOB}]}
EOF
	if [ -n "$7" ]; then cp "$7" "$1/logs/$job.txt"; fi
}

local_results() {
	cat >"$1" <<'EOF'
{"version": "1.0", "timestamp": "2026-10-02T09:00:00Z",
 "commit_sha": "00000a000000000000000000000000000000000a", "branch": "main", "runner": "laptop",
 "checks": {"coverage": {"passed": false, "percentage": 84.5, "threshold": 85},
            "tests": {"passed": true, "total": 120, "failed": 0, "skipped": 2}}}
EOF
}
