#!/bin/sh
# upgrade.sh - an index of an older schema version (one a ciscope of the
# previous schema wrote: the last migration of data/migrations/ taken back
# from a real imported index) is brought up to date by the TUI and by
# `ciscope retriage`, which write anyway, instead of refused; commands that
# only read (show, runs, triage, log, search) still refuse it: they promise
# not to write, and an upgraded file is one an older ciscope can no longer
# open ("newer than this ciscope").
. "$(dirname "$0")/lib.sh"

CIDIFF="$FIXTURES/cidiff/data"
MIGRATIONS="$CLI_DIR/../../data/migrations"

run_folder runs/go 101 main 1111111111111111111111111111111111111111 failure 10 \
	"$CIDIFF/breakages_dump/Quick Checks_/run118/fail.log"
run import --quiet runs
check_exit upgrade-setup 0
run triage --json 101
check_exit upgrade-triage-before 0
cp "$OUT" triage-before.json

# take the newest migration back: drop what its file creates, and set the
# version one lower (what the previous ciscope left)
last=$(ls "$MIGRATIONS" | sort | tail -n 1)
current=$(printf '%s' "$last" | sed 's/^0*\([0-9]*\)-.*/\1/')
downgrade() {
	python3 - "$DB" "$MIGRATIONS/$last" "$((current - 1))" <<'PY'
import re, sqlite3, sys
db, mig, v = sys.argv[1], open(sys.argv[2]).read(), int(sys.argv[3])
c = sqlite3.connect(db)
for kind, name in re.findall(r'CREATE\s+(TABLE|INDEX|TRIGGER|VIEW)\s+(?:IF NOT EXISTS\s+)?(\w+)', mig):
    c.execute('DROP %s IF EXISTS %s' % (kind, name))
c.execute('PRAGMA user_version = %d' % v)
c.commit()
c.close()
PY
}
version() { python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("PRAGMA user_version").fetchone()[0])' "$DB"; }

downgrade
check_eq upgrade-old-version "$(version)" "$((current - 1))"

# reading commands keep refusing, and leave the file as it was
for cmd in "show 101" runs "triage 101" "search error"; do
	# shellcheck disable=SC2086
	run $cmd
	check_exit "upgrade-refused-exit ($cmd)" 1
	check_has "upgrade-refused-message ($cmd)" "$ERR" "needs an upgrade to $current"
done
check_eq upgrade-readers-leave-version "$(version)" "$((current - 1))"

# the TUI upgrades it and shows the runs
tui upgrade-tui 'j'
check_exit upgrade-tui-exit 0
check_eq upgrade-tui-version "$(version)" "$current"
check_has upgrade-tui-runs upgrade-tui.screen "1 run · 1 failed"
run show 101
check_exit upgrade-after-tui-show 0

# retriage upgrades it and triages as before
downgrade
check_eq upgrade-old-again "$(version)" "$((current - 1))"
run retriage --json
check_exit upgrade-retriage-exit 0
check_has upgrade-retriage-jobs "$OUT" '"jobs":1,'
check_eq upgrade-retriage-version "$(version)" "$current"
run triage --json 101
check_exit upgrade-triage-after 0
if cmp -s "$OUT" triage-before.json; then ok upgrade-triage-same; else
	fail upgrade-triage-same "$(diff triage-before.json "$OUT" | head -5)"; fi

# one that cannot be written is still refused, with the way out
downgrade
chmod a-w "$DB"
if [ -w "$DB" ]; then
	echo "skip upgrade-readonly: this user writes a read-only file (root)"
else
	tui upgrade-tui-ro 'j'
	check_exit upgrade-tui-ro-exit 1
	check_has upgrade-tui-ro-message "$ERR" "open it once for writing"
	check_eq upgrade-tui-ro-version "$(version)" "$((current - 1))"
fi
chmod u+w "$DB"

finish
