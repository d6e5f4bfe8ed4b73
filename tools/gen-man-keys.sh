#!/bin/sh
# gen-man-keys.sh CISCOPE - put `ciscope keys --man` between the KEYS markers
# of doc/ciscope.1, so the man page's key table comes from the same action
# table and keymaps as the help view (tests/cli/docs.sh checks it is current).
set -e
bin=${1:-./ciscope}
man=$(dirname "$0")/../doc/ciscope.1
tmp=$man.tmp
# through the environment: awk -v would expand the backslashes of roff
KEYS=$("$bin" keys --man)
export KEYS
awk '
	/^\.\\" BEGIN KEYS/ { print; print ENVIRON["KEYS"]; skip = 1; next }
	/^\.\\" END KEYS/ { skip = 0 }
	!skip { print }
' "$man" > "$tmp"
mv "$tmp" "$man"
