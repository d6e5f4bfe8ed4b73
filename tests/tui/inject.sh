#!/bin/sh
# inject.sh - escape injection: a run whose log and API texts hold OSC 52
# (clipboard), OSC 0 (title), OSC 8 (hyperlink), CSI 2J and other CSI
# queries, DCS/APC/PM/SOS strings, C1 controls (raw 0x9b... and UTF-8
# encoded U+009B...), bidi overrides and invalid UTF-8 is imported and
# viewed in every view: runs, run, log (search, error jumps, timestamps,
# wrapping, scrolling into the middle of a sequence), search results. The
# bytes ciscope writes to the terminal must hold none of those sequences.
#
# The bytes are captured twice: from ncurses' virtual screen
# (CISCOPE_SCRIPT_OUTPUT), and from a real terminal: script(1) records the
# pty of ciscope running in a tmux window. A clean twin of the run (the
# same texts without the hostile bytes) goes through the same keys: what
# ncurses writes by itself (ESC[2J when it clears the screen) may appear as
# often as it does there, never more. rawcheck.py is checked against the
# raw log first: it finds every planted sequence there.
. "$(dirname "$0")/lib.sh"

# --- the hostile run and its clean twin ------------------------------------------------
cat >mkevil.py <<'EOF'
"""mkevil.py FIXTURES OUT KIND: a run folder (KIND evil or clean) made from
the hub4j fixture run, its names and logs full of terminal escapes."""
import json, os, sys

fixtures, out, kind = sys.argv[1:4]
hub = os.path.join(fixtures, "hub4j-github-api/src/test/resources/org/kohsuke/github/"
                   "GHWorkflowRunTest/wiremock/testJobs/__files")
run = json.load(open(os.path.join(fixtures, "runs/hub4j-719643947/run.json")))
jobs = json.load(open(os.path.join(hub, "11-r_h_g_actions_runs_719643947_jobs.json")))
evil = kind == "evil"

# every kind of sequence a terminal would act on; the clean twin gets
# the same words without them
P = {
    "osc52": "\x1b]52;c;SGVsbG8gd29ybGQ=\x07",          # set the clipboard
    "osc0": "\x1b]0;pwned title\x07",                    # window title
    "osc8": "\x1b]8;;https://evil.example/\x1b\\",       # hyperlink
    "osc8end": "\x1b]8;;\x1b\\",
    "csi2j": "\x1b[2J",                                  # clear the screen
    "csi3j": "\x1b[3J",                                  # clear the scrollback
    "dsr": "\x1b[6n",                                    # report the cursor
    "winrep": "\x1b[21t",                                # report the title
    "cup": "\x1b[1;1H",                                  # move the cursor
    "dcs": "\x1bP1$qm\x1b\\",                            # DECRQSS
    "xtgettcap": "\x1bP+q544e\x1b\\",
    "apc": "\x1b_apc payload\x1b\\",
    "pm": "\x1b^pm payload\x1b\\",
    "sos": "\x1bXsos payload\x1b\\",
    "ris": "\x1bc",                                      # reset the terminal
    "c1u": "\u009b31m\u009d0;c1 title\u009c\u0090dcs\u009c",   # C1 as UTF-8
    "bidi": "\u202e\u202d\u202a\u202b\u202c\u2066\u2067\u2068\u2069\u200e\u200f\u061c",
    "ctl": "\x07\x08\x7f\x0e\x0f",                       # BEL BS DEL SO SI
}
def p(name):
    return P[name] if evil else ""

# raw bytes that are not UTF-8 (only in logs: JSON is text)
RAW = {
    "c1raw": b"\x9b31m\x9d0;raw c1 title\x9c\x90dcs\x9c",
    "invalid": b"\xff\xfe \xc0\xaf \xed\xa0\x80 \xf8\x88\x80\x80\x80 \xe2\x82",
}
def raw(name):
    return RAW[name] if evil else b""

def hostile(text):
    return (p("osc52") + p("osc0") + text + p("bidi") + p("csi2j") + p("c1u") + " evil" +
            p("dcs"))

run["id"] = 900000001
run["name"] = hostile("ci")
run["head_branch"] = "main" + p("osc0") + p("bidi")
run["display_title"] = hostile("Fix the parser")
run["head_commit"]["message"] = hostile("Fix the parser") + "\n\nbody"
run["conclusion"] = "failure"
for j in jobs["jobs"]:
    j["run_id"] = run["id"]
    j["name"] = hostile(j["name"])
    for s in j["steps"]:
        s["name"] = p("csi2j") + s["name"] + p("osc8") + " evil" + p("osc8end")
jobs["jobs"][1]["conclusion"] = "failure"
jobs["jobs"][1]["steps"][1]["conclusion"] = "failure"

def log(job):
    ts = "2021-04-05T15:42:58.%07dZ "
    lines = [
        "##[group]Run " + p("osc0") + "evil group" + p("bidi"),
        "osc52 " + p("osc52") + " evil clipboard",
        "osc0 " + p("osc0") + " evil title",
        "osc8 " + p("osc8") + "evil link" + p("osc8end") + " done",
        "csi " + p("csi2j") + p("csi3j") + p("dsr") + p("winrep") + p("cup") + " evil queries",
        "dcs " + p("dcs") + p("xtgettcap") + " evil strings " + p("apc") + p("pm") + p("sos"),
        "c1 " + p("c1u") + " evil utf8 c1",
        b"c1raw " + raw("c1raw") + b" evil raw c1",
        "bidi " + p("bidi") + " evil reversed",
        b"invalid " + raw("invalid") + b" evil bytes",
        "ctl " + p("ctl") + p("ris") + " evil controls",
        "\x1b[31mred" + p("osc52") + "\x1b[0m evil colour",
        "##[endgroup]",
        "##[warning]" + p("osc52") + "evil warning" + p("bidi"),
        "long " + ("x" * 100 + p("osc52") + p("csi2j") + p("c1u") + " evil ") * 6,
        "\t" + p("osc0") + "\tevil tabs",
        "##[error]" + p("osc0") + "Process completed with evil exit code 1." + p("csi2j") + p("c1u"),
    ]
    out = b""
    for i, l in enumerate(lines):
        b = l if isinstance(l, bytes) else l.encode("utf-8")
        out += (ts % (i * 1000)).encode() + b + b"\r\n"
    return out

os.makedirs(os.path.join(out, "logs"), exist_ok=True)
with open(os.path.join(out, "run.json"), "w") as f:
    json.dump(run, f, indent=1)
with open(os.path.join(out, "jobs.json"), "w") as f:
    json.dump(jobs, f, indent=1)
for j in jobs["jobs"]:
    with open(os.path.join(out, "logs", "%d.txt" % j["id"]), "wb") as f:
        f.write(log(j))

# artifacts (the run view lists them, their tests and series): a folder
# name and a metric column with escapes; XML allows no C0 controls, so the
# failed test carries C1 and bidi controls
art = os.path.join(out, "artifacts", "reports" + p("osc0") + p("bidi"))
os.makedirs(art, exist_ok=True)
def xml(t):
    return t.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")
c1b = p("c1u") + p("bidi")
with open(os.path.join(art, "junit.xml"), "w", encoding="utf-8") as f:
    f.write('<?xml version="1.0"?>\n<testsuite name="s" tests="2">'
            '<testcase classname="k%s" name="passes"/>'
            '<testcase classname="k%s" name="evil test%s"><failure message="boom%s">'
            'trace%s line\nsecond line%s</failure></testcase></testsuite>\n'
            % (xml(c1b), xml(c1b), xml(c1b), xml(c1b), xml(c1b), xml(c1b)))
with open(os.path.join(art, "metrics.csv"), "w", encoding="utf-8") as f:
    f.write("step,energy%s%s\n1,1.5\n2,2.5\n" % (p("osc52"), p("csi2j")))
EOF

# rawcheck.py HOSTILE CLEAN: what HOSTILE (bytes sent to a terminal) holds
# that must never reach one; CLEAN is the same session on the clean twin
cat >rawcheck.py <<'EOF'
import re, sys
bad = open(sys.argv[1], "rb").read()
clean = open(sys.argv[2], "rb").read()
problems = []
def at(data, i):
    return repr(data[max(0, i - 20):i + 20])
# never: string sequences (OSC, DCS, APC, PM, SOS), a reset, the log's
# CSI queries; ncurses sends none of them
for name, seq in [("OSC (ESC ])", b"\x1b]"), ("DCS (ESC P)", b"\x1bP"), ("APC (ESC _)", b"\x1b_"),
                  ("PM (ESC ^)", b"\x1b^"), ("SOS (ESC X)", b"\x1bX"), ("RIS (ESC c)", b"\x1bc"),
                  ("CSI 3J", b"\x1b[3J"), ("CSI 6n", b"\x1b[6n"), ("CSI 21t", b"\x1b[21t")]:
    i = bad.find(seq)
    if i >= 0:
        problems.append("%s at byte %d: %s" % (name, i, at(bad, i)))
# the log's control characters side by side (alone, ncurses uses BS and SI
# to move and to switch character sets)
for name, seq in [("BEL BS", b"\x07\x08"), ("BS DEL", b"\x08\x7f"), ("DEL SO", b"\x7f\x0e"),
                  ("SO SI", b"\x0e\x0f")]:
    i = bad.find(seq)
    if i >= 0:
        problems.append("%s at byte %d: %s" % (name, i, at(bad, i)))
# no more often than ncurses writes them by itself on the clean twin
for name, seq in [("CSI 2J", b"\x1b[2J"), ("CSI 1;1H", b"\x1b[1;1H"), ("BEL", b"\x07"),
                  ("DEL", b"\x7f")]:
    nb, nc = bad.count(seq), clean.count(seq)
    if nb > nc:
        i = bad.find(seq)
        problems.append("%s %d times, %d on the clean twin: %s" % (name, nb, nc, at(bad, i)))
# the rest is UTF-8 text: no invalid bytes (a raw 0x9b is one), no C1
# controls (U+0080..U+009F, e.g. U+009B encoded), no bidi controls
text = bad.decode("utf-8", "surrogateescape")
seen = set()
for i, ch in enumerate(text):
    o = ord(ch)
    what = None
    if 0xDC80 <= o <= 0xDCFF:
        what = "a byte that is not UTF-8 (0x%02x)" % (o - 0xDC00)
    elif 0x80 <= o <= 0x9F:
        what = "the C1 control U+%04X" % o
    elif o in (0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069,
               0x200E, 0x200F, 0x061C):
        what = "the bidi control U+%04X" % o
    if what and what not in seen:  # the first of each
        seen.add(what)
        problems.append("%s: %r" % (what, text[max(0, i - 20):i + 20]))
if len(bad) < 200:
    problems.append("only %d bytes: nothing was drawn?" % len(bad))
for p in problems:
    print(p)
EOF

python3 mkevil.py "$FIXTURES" evil evil && python3 mkevil.py "$FIXTURES" clean clean
rc=$?
check_exit mkevil 0
DB=clean.db
run import --quiet clean
check_exit import-clean 0
DB=evil.db
run import --quiet evil
check_exit import-evil 0

# The checker finds every planted sequence in the raw log itself: a check
# that cannot fail proves nothing.
python3 rawcheck.py evil/logs/2270858576.txt clean/logs/2270858576.txt >self.problems
for what in 'OSC (ESC ])' 'DCS (ESC P)' 'APC (ESC _)' 'PM (ESC ^)' 'SOS (ESC X)' 'RIS (ESC c)' \
	'CSI 3J' 'CSI 6n' 'CSI 21t' 'BEL BS' 'SO SI' 'CSI 2J ' \
	'not UTF-8 (0x9b)' 'not UTF-8 (0xff)' 'the C1 control U+009B' 'the bidi control U+202E'; do
	check_has "rawcheck-finds-$what" self.problems "$what"
done

# check_raw NAME: NAME.raw against the clean twin's clean-NAME.raw
check_raw() {
	python3 rawcheck.py "$1.raw" "clean-$1.raw" >"$1.problems" 2>&1
	if [ -s "$1.problems" ]; then
		fail "$1-raw" "$(head -n 5 "$1.problems")"
	else
		ok "$1-raw"
	fi
}

# twin NAME 'KEYS': the keys on the clean twin (clean-NAME.raw), then on
# the hostile run (NAME.screen, NAME.raw), then the raw check
twin() {
	DB=clean.db
	tui "clean-$1" "$2"
	DB=evil.db
	tui "$1" "$2"
	check_exit "$1-exit" 0
	check_raw "$1"
}

# --- every view, through the virtual screen -----------------------------------------------
twin inj-runs ''
check_has inj-runs-visible inj-runs.screen '✗ ^[]52;c;SGV… main^[]0;pw… c7bd3b8 ^[]52;c;SGVsbG8gd29y…'
twin inj-run '<Enter>'
check_has inj-run-title inj-run.screen 'run 900000001 · ^[]52;c;'
check_has inj-run-step inj-run.screen '✓   1 ^[[2JSet up job^[]8;;https://evil.examp…'
# the run's artifacts, its failed test and its series, opened in place
twin inj-run-items '<Enter>G<Enter>'
# (the importer keeps no ESC in a series name: U+FFFD stands for it)
check_has inj-run-items-series inj-run-items.screen 'energy�]52;c;SGV'
check_has inj-run-items-fields inj-run-items.screen 'failed reports^[]0;pwned title^G'
check_has inj-run-items-value inj-run-items.screen 'step 1: 1.5'
twin inj-run-test '<Enter>G
/evil test<Enter><Enter>'
check_has inj-run-test-msg inj-run-test.screen 'boom<U+009B>31m'
check_has inj-run-test-trace inj-run-test.screen 'second line<U+009B>31m'
twin inj-run-file '<Enter>G
/junit.xml<Enter><Enter>'
check_has inj-run-artifact inj-run-file.screen 'reports^[]0;pwned title^G<U+202E>'
twin inj-log '<Enter>g<Enter>'
check_has inj-log-osc52 inj-log.screen 'osc52 ^[]52;c;SGVsbG8gd29ybGQ=^G evil clipboard'
check_has inj-log-osc8 inj-log.screen 'osc8 evil link done'
# well-formed CSI sequences other than SGR are dropped from logs
check_has inj-log-csi inj-log.screen 'csi  evil queries'
check_has inj-log-dcs inj-log.screen 'dcs ^[P1$qm^[\^[P+q544e^[\ evil strings ^[_apc payload^[\^[^pm payload^[\^['
check_has inj-log-c1 inj-log.screen 'c1 <U+009B>31m<U+009D>0;c1 title<U+009C><U+0090>dcs<U+009C> evil'
check_has inj-log-c1raw inj-log.screen 'c1raw \x9b31m\x9d0;raw c1 title\x9c\x90dcs\x9c evil raw c1'
check_has inj-log-bidi inj-log.screen 'bidi <U+202E><U+202D><U+202A><U+202B><U+202C><U+2066>'
check_has inj-log-invalid inj-log.screen 'invalid \xff\xfe \xc0\xaf \xed\xa0\x80'
check_has inj-log-ctl inj-log.screen 'ctl ^G^H^?^N^O^[c evil controls'
check_eq inj-log-control-role "$(attrs_under inj-log 'osc52 ^[' '^[]52')" xxxxx
twin inj-log-keys '<Enter>g<Enter>e'
check_has inj-log-keys-msg inj-log-keys.screen 'warning 1 of 2, line 14: evil warning<U+202E><U+202D>'
check_has inj-log-error inj-log.screen ' 17 Error: ^[]0;pwned title^GProcess completed with evil exit code 1.<U+009B>31'
check_has inj-log-title inj-log.screen ' run 900000001 / job ^[]52;c;SGVsbG8gd29ybGQ=^G^[]0;pwned title^Gjob2<U+202E><U…'
twin inj-log-jump '<Enter>g<Enter>eE'
twin inj-log-search '<Enter>g<Enter>/evil<Enter>nnnnN'
twin inj-log-search-back '<Enter>g<Enter>G?pwned<Enter>n'
twin inj-log-opts '<Enter>g<Enter>tt<Right><Right>'
twin inj-log-wrap '<Enter>g<Enter>w
:goto 15
<End>'
check_has inj-log-wrap inj-log-wrap.screen '    xxxxxxxxxxxxxxxxxxxxxxxxxxxxx^[]52;c;'
twin inj-log-fold '<Enter>g<Enter>ZjzZ'
twin inj-search ':search evil'
check_has inj-search-title inj-search.screen 'search evil · '
# the search texts are the lines without their escape sequences
check_has inj-search-hit inj-search.screen 's3   2 osc52  evil clipboard'
check_has inj-search-c1 inj-search.screen 'c1raw \x9b31m\x9d0;raw c1 title\x9c\x90dcs\x9c'
twin inj-search-open ':search pwned
jjj<Enter>'
twin inj-help '<Enter>g<Enter>h'
# narrow and wide, scrolled into the middle of the sequences
size 30x8
twin inj-narrow '<Enter>g<Enter><Right>jjjj<Right>'
twin inj-narrow-runs ''
size 200x50
twin inj-wide '<Enter>g<Enter>t'
twin inj-wide-search ':search evil'
size 80x24
# in an ASCII locale, on a terminal with 8 colours (scripts draw without
# colours: the colour path is taken on the real terminal below)
saved=$LC_ALL
LC_ALL=C
twin inj-ascii '<Enter>g<Enter>'
LC_ALL=$saved
check_has inj-ascii-visible inj-ascii.screen 'bidi <U+202E>'
TERM=xterm
twin inj-xterm '<Enter>g<Enter>/evil<Enter>'
TERM=xterm-256color

# --- a real terminal: tmux, recorded by script(1) -----------------------------------------
trap 'tmux -S "$WORK/tmux.sock" kill-server 2>/dev/null; rm -rf "$WORK"' EXIT
if ! command -v tmux >/dev/null 2>&1; then
	ok "inject-tmux (skipped: tmux is not installed)"
	finish
fi
if ! command -v script >/dev/null 2>&1; then
	ok "inject-script (skipped: script(1) is not installed)"
	finish
fi
# real NAME DB: ciscope on DB in a 100x30 tmux window under script(1), in
# colour (the log's SGR colours drawn as colours), driven through the
# views; the bytes of its pty in NAME.raw
real() {
	rm -f "$1.raw" "$1.rc"
	printf "#!/bin/sh\nunset NO_COLOR\nexec '%s' --db '%s'\n" "$(printf '%s' "$CISCOPE" | sed "s/'/'\\\\''/g")" "$2" >"$1.sh"
	TMUX_RC="$WORK/$1.rc"
	tmux_window 100x30 "script -q -f -e -E never -c 'sh ./$1.sh' $1.raw; echo \$? >$1.rc"
	_ok=1
	tmux_wait 'runs · newest first' || _ok=0
	tmux_keys Enter
	tmux_wait 'run 900000001' || _ok=0
	tmux_keys Enter
	tmux_wait 'line 1 of 17' || _ok=0
	tmux_keys e
	tmux_wait 'warning 1 of 2, line 14' || _ok=0
	tmux_keys / e v i l Enter
	tmux_wait 'line 15 of 17' || _ok=0
	tmux_keys t w
	tmux_wait 'wrap: on' || _ok=0
	tmux_keys : s e a r c h Space e v i l Enter
	tmux_wait 'search evil' || _ok=0
	tmux_wait ' matches in 2 logs' || _ok=0
	tmux_keys j j Enter
	tmux_wait ' / job ' || _ok=0
	tmux_keys Q
	tmux_dead
	tmux_screen "$1.pane"
	tmux_end
	if [ "$_ok" = 1 ]; then
		ok "$1-driven"
	else
		fail "$1-driven" "the pane never showed what was expected: $(head -n 3 pane.txt)"
	fi
	check_exit "$1-exit" 0
}
real clean-inj-tty clean.db
real inj-tty evil.db
check_raw inj-tty
# the typescript is what the terminal got: the sequences from the log are
# not in it, and ciscope did draw the log there
if grep -aqF 'evil clipboard' inj-tty.raw; then ok inj-tty-drawn; else fail inj-tty-drawn "the log was not drawn"; fi
check_no_raw inj-tty-osc52 inj-tty.raw '\033]52'
check_no_raw inj-tty-c1 inj-tty.raw '\302\233'

finish
