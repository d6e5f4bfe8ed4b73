#!/bin/sh
# docs.sh - the generated parts of the documentation are current: the man
# page's key tables are `ciscope keys --man`, every command has a man entry.
. "$(dirname "$0")/lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
man="$top/doc/ciscope.1"

"$CISCOPE" keys --man >keys.roff
sed -n '/^\.\\" BEGIN KEYS/,/^\.\\" END KEYS/p' "$man" | sed '1d;$d' >man-keys.roff
if cmp -s keys.roff man-keys.roff; then
	echo "ok man-keys-current"
else
	echo "FAIL man-keys-current: doc/ciscope.1 is out of date: run sh tools/gen-man-keys.sh ./ciscope"
fi

for cmd in $("$CISCOPE" --help | sed -n '/^Commands:/,/^$/p' | awk 'NF > 1 && $1 != "Commands:" {print $1}'); do
	if grep -q "^\.B[I]* \"*$cmd\b" "$man" || grep -q "^\.BI* \"$cmd " "$man"; then
		echo "ok man-has-$cmd"
	else
		echo "FAIL man-has-$cmd: doc/ciscope.1 does not document '$cmd'"
	fi
done
