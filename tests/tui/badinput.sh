#!/bin/sh
# badinput.sh - bad input to the terminal UI: an index that is missing,
# empty, not a database, of another program or a newer ciscope, or locked by
# another writer; a job whose log was never fetched; unknown keys in every
# view; terminals too small for any view. Each gets a message naming what is
# wrong and what to do; start-up failures exit 1 before the terminal is
# touched, everything else stays in the status bar or the view.
. "$(dirname "$0")/lib.sh"

# start NAME DB: the TUI on DB with an empty script; stderr in $ERR
start() {
	DB=$2
	tui "$1" ''
}

# check_startup_error NAME MESSAGE: exit 1, MESSAGE on stderr, nothing
# written to the terminal and no screen
check_startup_error() {
	check_exit "$1-exit" 1
	check_has "$1-msg" "$ERR" "$2"
	if [ -s "$1.raw" ]; then
		fail "$1-terminal" "the terminal was written to: $(od -c "$1.raw" | head -n 2)"
	else
		ok "$1-terminal"
	fi
	if [ -f "$1.screen" ]; then fail "$1-no-screen" "a screen was drawn"; else ok "$1-no-screen"; fi
}

# --- the index --------------------------------------------------------------------------
start db-missing missing.db
check_startup_error db-missing "ciscope: no index at 'missing.db': import runs first (ciscope import PATH) or name one with --db"
if [ -e missing.db ]; then fail db-missing-created "opening created missing.db"; else ok db-missing-created; fi

: >empty.db
start db-empty empty.db
check_startup_error db-empty "ciscope: the index 'empty.db' is empty: import runs first (ciscope import PATH)"
check_eq db-empty-untouched "$(wc -c <empty.db | tr -d ' ')" 0

printf 'name,value\nnot,sqlite\n' >text.db
start db-not-a-db text.db
check_startup_error db-not-a-db "database 'text.db': file is not a database"
check_eq db-not-a-db-untouched "$(cat text.db)" "$(printf 'name,value\nnot,sqlite')"

# a database, but not ours; one from a newer ciscope
python3 -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1]); c.execute("CREATE TABLE notes (t TEXT)"); c.commit()
c = sqlite3.connect(sys.argv[2]); c.execute("CREATE TABLE runs (x)"); c.execute("PRAGMA user_version = 999"); c.commit()' \
	foreign.db future.db
start db-foreign foreign.db
check_startup_error db-foreign "database 'foreign.db' is an SQLite database but not a ciscope index"
start db-future future.db
check_startup_error db-future "database 'future.db' has schema version 999, newer than this ciscope"

# the runs of the CLI tests: hub4j (two jobs with logs) and hub4j-failed
# (the same run on fix/parser, failed) whose logs were never fetched
make_run_folders
rm -rf runs/hub4j-failed/logs
DB=index.db
run import --quiet runs
check_exit setup-import 0

# --- locked by another writer ----------------------------------------------------------
# A writer holds an exclusive transaction with an uncommitted change: the
# index is in WAL mode, so the UI reads what was committed, at once.
cp index.db locked.db
cat >locker.py <<'EOF'
import sqlite3, sys, time
db, mode, fifo = sys.argv[1:4]
c = sqlite3.connect(db, isolation_level=None)
if mode == "exclusive":
    # no shared memory: readers are locked out as well
    c.execute("PRAGMA locking_mode=EXCLUSIVE")
c.execute("BEGIN EXCLUSIVE")
c.execute("UPDATE runs SET head_branch = 'uncommitted-branch'")
with open(fifo, "w") as f:
    f.write("locked\n")
time.sleep(120)  # until killed
EOF
# lock_db DB MODE: start the locker and wait (no sleep) until it holds the lock
lock_db() {
	rm -f ready
	mkfifo ready
	python3 locker.py "$1" "$2" ready </dev/null >locker.out 2>&1 &
	locker=$!
	read -r _ <ready
}
lock_db locked.db wal
DB=locked.db
tui db-locked-wal 'j'
kill "$locker" 2>/dev/null
wait "$locker" 2>/dev/null
check_exit db-locked-wal-exit 0
check_status db-locked-wal db-locked-wal '[runs] row 2 of 2'
check_has db-locked-wal-committed db-locked-wal.screen 'fix/parser'
if grep -q uncommitted db-locked-wal.screen; then
	fail db-locked-wal-isolated "the uncommitted change is shown"
else
	ok db-locked-wal-isolated
fi

# A writer that keeps everyone out: the UI waits (the busy timeout, 5 s)
# and then says who is in the way, without drawing anything.
lock_db locked.db exclusive
tui db-locked-exclusive ''
kill "$locker" 2>/dev/null
wait "$locker" 2>/dev/null
check_startup_error db-locked-exclusive "database 'locked.db': database is locked (another ciscope is writing; try again when it is done)"
# and once the writer is gone, all is well and nothing was lost
tui db-unlocked ''
check_exit db-unlocked-exit 0
check_status db-unlocked db-unlocked '[runs] row 1 of 2'
DB=index.db

# --- a log that was never fetched ---------------------------------------------------------
tui nolog-run '<Enter>'
check_title nolog-run nolog-run 'run 719643948'
check_has nolog-run-state nolog-run.screen 'log missing'
tui nolog '<Enter>g<Enter>'
check_exit nolog-exit 0
check_title nolog-title nolog 'run 719643948 / job job2'
check_has nolog-msg nolog.screen 'no log stored for this job (missing): import its run folder with'
check_eq nolog-role "$(sed -n 2p nolog.attrs | cut -c1-10)" CCCCCCCCCC
check_status nolog-rows nolog '[log] row 1 of 1'
size 120x24
tui nolog-wide '<Enter>g<Enter>'
size 80x24
check_has nolog-wide nolog-wide.screen "no log stored for this job (missing): import its run folder with \`ciscope import PATH\` to add it"
# the pager's keys do nothing harmful without a log
tui nolog-keys '<Enter>g<Enter>jkGgezZtw<Right><Enter>n
:goto 5'
check_exit nolog-keys-exit 0
check_has nolog-keys nolog-keys.screen 'import its run folder'
tui nolog-search '<Enter>g<Enter>/'
check_status nolog-search nolog-search 'no log to search here'
tui nolog-step '<Enter>gjj<Enter>'
check_has nolog-step nolog-step.screen 'no log stored for this job (missing)'
# the other run's log is there
tui withlog 'j<Enter><Enter>'
check_status withlog withlog 'line 1 of'

# --- unknown keys -------------------------------------------------------------------------
for v in runs run log search help; do
	case $v in
	runs) keys='' ;;
	run) keys='<Enter>' ;;
	log) keys='j<Enter><Enter>' ;;
	search) keys=':search Run
' ;;
	help) keys='h' ;;
	esac
	tui "unknown-key-$v" "${keys}x"
	check_exit "unknown-key-$v-exit" 0
	check_status "unknown-key-$v" "unknown-key-$v" 'Unknown key x, press h for help'
	check_eq "unknown-key-$v-role" "$(status_line "unknown-key-$v.attrs" | cut -c2-8)" EEEEEEE
	check_title "unknown-key-$v-view" "unknown-key-$v" \
		"$(case $v in runs) echo runs ;; run) echo 'run 719643948 ·' ;; log) echo 'job job' ;; search) echo 'search Run' ;; help) echo 'help: runs' ;; esac)"
done
tui unknown-key-ctrl '<C-g>'
check_status unknown-key-ctrl unknown-key-ctrl 'Unknown key <C-g>, press h for help'
tui unknown-key-fkey '<F9>'
check_status unknown-key-fkey unknown-key-fkey 'Unknown key <F9>, press h for help'
tui unknown-key-wide 'é'
check_status unknown-key-wide unknown-key-wide 'Unknown key é, press h for help'
# a key bound to nothing in this view
tui unknown-key-view 'w'
check_status unknown-key-view unknown-key-view 'Unknown key w, press h for help'

# a terminal type without a terminfo entry: scripts fall back to dumb (a
# real terminal gets a message: tmux.sh)
TERM=nosuchterm
tui unknown-term ''
TERM=xterm-256color
check_exit unknown-term-exit 0
check_status unknown-term unknown-term '[runs] row 1 of 2'

# --- terminals too small -------------------------------------------------------------------
size 15x4
tui tiny ''
check_exit tiny-exit 0
check_screen tiny
check_eq tiny-lines "$(wc -l <tiny.screen | tr -d ' ')" 4
check_has tiny-need tiny.screen 'need 20x5'
check_eq tiny-role "$(grep -n 'Too small' tiny.screen | cut -d: -f1 | xargs -I{} sed -n '{}p' tiny.attrs | tr -d ' .')" EEEEEEEEE
# keys still work: q closes the list and ends the program
tui tiny-quit 'q'
check_exit tiny-quit-exit 0
if [ -f tiny-quit.screen ]; then fail tiny-quit "q did not quit"; else ok tiny-quit; fi
# the largest screen still too small, the smallest one that is not
size 19x5
tui small-19x5 ''
check_screen small-19x5
check_has small-19x5-msg small-19x5.screen 'Terminal too small'
check_has small-19x5-need small-19x5.screen '19x5, needs 20x5'
size 20x5
tui small-20x5 ''
check_has small-20x5 small-20x5.screen 'runs'
check_status small-20x5-status small-20x5 '[runs]'
# every view, opened too small, then given room
size 12x3
tui tiny-views '<Enter>g<Enter>hq
:resize 80x24'
check_title tiny-views tiny-views 'run 719643948 / job job2'
size 1x1
tui tiny-1x1 '<Enter>'
check_exit tiny-1x1-exit 0
size 80x24

finish
