#!/bin/sh
# runs.sh - `ciscope runs`: the table and --json, every filter, --limit, an
# empty index, and the run ids it shows being usable.
. "$(dirname "$0")/lib.sh"

make_run_folders
run import --quiet runs
check_exit runs-setup 0

run runs
check_exit runs-exit 0
check_golden runs.txt "$OUT"
run runs --json
check_golden runs.json "$OUT"

# the same list is the default command
"$CISCOPE" --db "$DB" >default.txt 2>&1
check_golden runs.txt default.txt

# On a terminal the table fits its width, the title cut with a mark (as
# gh run list does); the width is the terminal's, else $COLUMNS. In a pipe
# (runs.txt above) every value is whole.
cat >ptywidth.py <<'EOF'
import fcntl, os, struct, subprocess, sys, termios
master, slave = os.openpty()
fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, int(sys.argv[1]), 0, 0))
proc = subprocess.Popen(sys.argv[3:], stdin=slave, stdout=slave, stderr=subprocess.DEVNULL)
os.close(slave)
chunks = []
try:
    for chunk in iter(lambda: os.read(master, 65536), b""):
        chunks.append(chunk)
except OSError:
    pass  # the terminal closed with the program
open(sys.argv[2], "wb").write(b"".join(chunks).replace(b"\r\n", b"\n"))
sys.exit(proc.wait())
EOF
NO_COLOR=1 python3 ptywidth.py 100 tty100.txt "$CISCOPE" --db "$DB" runs
rc=$?
check_exit runs-tty-100-exit 0
check_golden runs-tty-100.txt tty100.txt
check_eq runs-tty-100-fits "$(python3 -c 'import sys; print(sum(len(l.rstrip("\n")) > 100 for l in open(sys.argv[1], encoding="utf-8")))' tty100.txt)" 0
check_has runs-tty-100-cut tty100.txt 'Create mu…'
# a terminal that does not say its size: $COLUMNS
NO_COLOR=1 COLUMNS=72 python3 ptywidth.py 0 tty72.txt "$CISCOPE" --db "$DB" runs
rc=$?
check_exit runs-tty-72-exit 0
check_golden runs-tty-72.txt tty72.txt
check_eq runs-tty-72-fits "$(python3 -c 'import sys; print(sum(len(l.rstrip("\n")) > 72 for l in open(sys.argv[1], encoding="utf-8")))' tty72.txt)" 0
check_has runs-pipe-whole default.txt 'Create multi-jobs-workflow.yml'

run runs --branch fix/parser --json
check_golden runs-branch.json "$OUT"
run runs --branch main
check_golden runs-branch-main.txt "$OUT"
run runs --status failure
check_golden runs-status-failure.txt "$OUT"
run runs --status success --json
check_has runs-status-success "$OUT" '"id":719643947,'
check_eq runs-status-success-one "$(grep -o '"id":7196439[0-9]*,' "$OUT" | wc -l | tr -d ' ')" 1
run runs --status completed --json
check_eq runs-status-completed "$(grep -o '"id":7196439[0-9]*,' "$OUT" | wc -l | tr -d ' ')" 2
run runs --workflow 'Multi jobs workflow' --limit 1
check_golden runs-workflow-limit.txt "$OUT"
run runs --workflow 'Multi jobs workflow' --branch main --status success --json
check_eq runs-all-filters "$(grep -o '"id":[0-9]*,"attempt"' "$OUT")" '"id":719643947,"attempt"'

# nothing matches: an empty list, exit 0, a note on stderr
run runs --workflow nope
check_exit runs-none-exit 0
check_eq runs-none-stdout "$(wc -c <"$OUT" | tr -d ' ')" 0
check_has runs-none-note "$ERR" "no runs match"
run runs --workflow nope --json
check_eq runs-none-json "$(cat "$OUT")" "[]"

# an ad-hoc log: the id the table shows is one `show` accepts
cp "$PYTORCH/error_log1.txt" build.log
run import --quiet build.log
run runs --status failure
# the RUN column follows the EVENT column, which is "import" for it
id=$(awk '/imported log/ { for (i = 1; i < NF; i++) if ($i == "import") { print $(i + 1); exit } }' "$OUT")
run show "$id"
if [ "$rc" -eq 0 ]; then ok runs-id-usable; else
	fail runs-id-usable "the RUN column shows '$id', which show refuses: $(cat "$ERR")"; fi

# usage
run runs --limit x
check_exit runs-bad-limit 2
check_has runs-bad-limit-msg "$ERR" "--limit: 'x' is not a number"
run runs extra
check_exit runs-extra-arg 2
run runs --bogus
check_exit runs-bad-option 2
run runs --help
check_exit runs-help-exit 0
check_golden help-runs.txt "$OUT"

# no index yet: reading commands do not create one
DB=missing.db
run runs
check_exit runs-no-index 1
check_has runs-no-index-msg "$ERR" "no index at 'missing.db'"
if [ -e missing.db ]; then fail runs-no-index-created "runs created missing.db"; else
	ok runs-no-index-created; fi

finish
