#!/bin/sh
# helpopts.sh - `ciscope COMMAND --help` lists every long option the command
# parses: the options are read from each command's getopt_long table in
# cli/*.c (and those of the sub-command functions it hands argv to), so an
# option added without its help fails here. Also the values --status takes.
. "$(dirname "$0")/lib.sh"

SRC=$(cd "$CLI_DIR/../.." && pwd)
cat >helpopts.py <<'EOF'
import re, subprocess, sys, glob
top, exe = sys.argv[1], sys.argv[2]
main = open(top + "/cli/main.c").read()
cmdmap = dict((fn, name) for name, fn in re.findall(r'\{"([a-z-]+)", (cmd_[a-z_]+),', main))
OPT = r'\{"([a-z][a-z-]*)",\s*(?:no|required|optional)_argument'
seen = set()
for path in sorted(glob.glob(top + "/cli/*.c")):
    src = open(path).read()
    for m in re.finditer(r'^int (cmd_[a-z_]+)\(struct cli \*c, int argc, char \*\*argv\)\n\{(.*?)^\}',
                         src, re.S | re.M):
        fn, body = m.group(1), m.group(2)
        if fn not in cmdmap:
            continue
        opts = set(re.findall(OPT, body))
        for callee in set(re.findall(r'\b([a-z_]+)\(c, argc', body)):
            h = re.search(r'^static int ' + callee + r'\(.*?\n\{(.*?)^\}', src, re.S | re.M)
            if not h:  # a sub-command in a file of its own (bisect dispatch)
                for other in sorted(glob.glob(top + "/cli/*.c")):
                    h = re.search(r'^int ' + callee + r'\(struct cli \*c, int argc, char \*\*argv\)\n\{(.*?)^\}',
                                  open(other).read(), re.S | re.M)
                    if h:
                        break
            if h:
                opts |= set(re.findall(OPT, h.group(1)))
        name = cmdmap[fn]
        seen.add(name)
        out = subprocess.run([exe, name, "--help"], capture_output=True, text=True).stdout
        for o in sorted(opts - {"help"}):
            print("%s --%s %s" % (name, o, "listed" if "--" + o in out else "MISSING"))
for name in sorted(set(cmdmap.values()) - seen):
    print("%s: no option table found" % name)
EOF
python3 helpopts.py "$SRC" "$CISCOPE" >opts.txt
rc=$?
check_exit helpopts-ran 0
# the check can fail: it reads real tables (runs has six options)
check_eq helpopts-runs-found "$(grep -c '^runs --' opts.txt)" 5
check_eq helpopts-search-found "$(grep -c '^search --' opts.txt)" 6
check_eq helpopts-missing "$(grep -v ' listed$' opts.txt | grep -v '^keys: ')" ""
"$CISCOPE" runs --help >runs-help.txt
for v in failed running success failure timed_out cancelled skipped completed in_progress queued; do
	check_has "helpopts-runs-status-$v" runs-help.txt "$v"
done
finish
