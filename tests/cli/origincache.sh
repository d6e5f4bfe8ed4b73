#!/bin/sh
# origincache.sh - without --db inside a checkout, the index is named after
# the origin remote's slug; the answer is remembered in the cache
# ($XDG_CACHE_HOME/ciscope/origin/) so that a later command there loads no
# libgit2, and any change to the checkout's discovery or configuration makes
# libgit2 answer again. The cache never holds the remote's URL (a token).
. "$(dirname "$0")/lib.sh"

own_home
XDG_CACHE_HOME="$WORK/cache" XDG_DATA_HOME="$WORK/data"
export XDG_CACHE_HOME XDG_DATA_HOME
unset CISCOPE_CACHE
make_run_folders
git init -q checkout
mkdir -p checkout/sub/deeper
git -C checkout remote add origin 'https://someone:ghp_tok3n@github.com/acme/widgets.git'
mkdir -p data/ciscope
"$CISCOPE" --db data/ciscope/acme_widgets.db import --quiet runs >/dev/null 2>&1
"$CISCOPE" --db data/ciscope/acme_widgets.db search 'Hello from job' >want.txt 2>&1

entries() { find cache/ciscope/origin -type f | wc -l | tr -d ' '; }
in_checkout() { (cd checkout/sub/deeper && "$CISCOPE" "$@") >got.txt 2>got.err; }

in_checkout search 'Hello from job'
check_eq cold-exit "$?" 0
check_eq cold-same "$(cat got.txt)" "$(cat want.txt)"
check_eq cold-one-entry "$(entries)" 1
check_has cold-slug cache/ciscope/origin/* "acme/widgets"
if grep -rq "ghp_tok3n\|someone" cache; then
	fail cache-no-token "the cache holds the URL's userinfo"
else
	ok cache-no-token
fi

(cd checkout/sub/deeper && LD_DEBUG=files "$CISCOPE" search 'Hello from job') >got.txt 2>ld.txt
check_eq warm-same "$(cat got.txt)" "$(cat want.txt)"
check_eq warm-no-libgit2 "$(grep -c 'file=libgit2' ld.txt)" 0
# the proof is only worth something if LD_DEBUG works here: cold loads it
rm -rf cache
(cd checkout/sub/deeper && LD_DEBUG=files "$CISCOPE" search 'Hello from job') >got.txt 2>ld.txt
check_eq cold-loads-libgit2 "$(grep -c 'file=libgit2' ld.txt | sed 's/^[1-9][0-9]*$/yes/')" yes

# a new origin is seen at once (the config changed)
git -C checkout remote set-url origin git@github.com:acme/other.git
in_checkout search 'Hello from job'
check_has new-origin got.err "acme_other.db"
# a repository created in between takes over
git init -q checkout/sub
git -C checkout/sub remote add origin https://github.com/acme/inner.git
in_checkout search 'Hello from job'
check_has inner-repo got.err "acme_inner.db"
rm -rf checkout/sub/.git
in_checkout search 'Hello from job'
check_has inner-gone got.err "acme_other.db"

# a damaged cache file is not believed
for f in cache/ciscope/origin/*; do printf 'ciscope-origin 1\n%s\nevil/slug\n' "$WORK/checkout/sub/deeper" >"$f"; done
in_checkout search 'Hello from job'
check_has damaged got.err "acme_other.db"

# a configuration with [include] is never cached
git init -q inc
printf '[remote "origin"]\n\turl = https://github.com/acme/incl.git\n' >inc.conf
git -C inc config include.path "$WORK/inc.conf"
n=$(entries)
(cd inc && "$CISCOPE" search x) >got.txt 2>got.err
check_has include-slug got.err "acme_incl.db"
check_eq include-not-cached "$(entries)" "$n"

# outside any repository: "none" is cached too, the default index
mkdir -p plain
(cd plain && "$CISCOPE" search x) >got.txt 2>got.err
check_has outside-default got.err "/default.db'"
check_eq outside-cached "$(entries)" "$((n + 1))"
(cd plain && LD_DEBUG=files "$CISCOPE" search x) >got.txt 2>ld.txt
check_has outside-warm ld.txt "/default.db'"
check_eq outside-no-libgit2 "$(grep -c 'file=libgit2' ld.txt)" 0
finish
