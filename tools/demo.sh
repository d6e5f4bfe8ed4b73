#!/bin/sh
# demo.sh - the demo data set, generated and imported.
#
#   sh tools/demo.sh            then: ./build/ciscope --db build/demo/demo.db
#
# build/demo/ (repo/, runs/, MANIFEST.json) is regenerated when
# tools/demo-gen.py is newer than build/demo/.stamp or the index is missing,
# and the runs are then imported into build/demo/demo.db.  Importing again
# is cheap: runs already in the index are left alone.
# CISCOPE=path overrides the binary (default ./build/ciscope).
set -eu

CISCOPE=${CISCOPE:-./build/ciscope}
# a relative path means relative to where we were called from
case $CISCOPE in
/*) ;;
*/*) CISCOPE=$PWD/$CISCOPE ;;
esac

cd "$(dirname "$0")/.."
out=build/demo
db=$out/demo.db

if [ ! -x "$CISCOPE" ] && ! command -v "$CISCOPE" >/dev/null 2>&1; then
	echo "demo.sh: $CISCOPE not found (run make first, or set CISCOPE)" >&2
	exit 1
fi

if [ ! -f "$db" ] || [ ! -f "$out/.stamp" ] || [ tools/demo-gen.py -nt "$out/.stamp" ]; then
	# everything under build/demo is generated: start from nothing, so a
	# stale run folder or index can never survive a regeneration
	rm -rf "$out"
	python3 tools/demo-gen.py "$out"
	: >"$out/.stamp"
fi

# --db is a global option: it goes before the command
"$CISCOPE" --db "$db" import --quiet "$out/runs"
# local-CI results files (core/metrics.h): runs of the `local` source
"$CISCOPE" --db "$db" import --quiet "$out"/local/*.json
