#!/bin/sh
# deps.sh - install the Debian packages ciscope needs, only those missing.
# Runs apt-get through sudo when not root; does nothing when all are present.
# Extra packages may be named in CISCOPE_EXTRA_PKGS (CI adds clang; make fuzz
# adds clang and libclang-rt-dev, which holds libFuzzer).
set -e
PKGS="gcc make pkg-config libncurses-dev libsqlite3-dev libgit2-dev libcjson-dev
libcurl4-openssl-dev libzip-dev libzstd-dev libexpat1-dev libpcre2-dev zlib1g-dev
libutf8proc-dev
python3 git tmux locales $CISCOPE_EXTRA_PKGS"
missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0
echo "make deps: installing$missing"
if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
	command -v sudo >/dev/null || { echo "make deps: need root or sudo to install:$missing" >&2; exit 1; }
else
	SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
