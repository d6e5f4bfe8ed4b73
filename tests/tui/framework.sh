#!/bin/sh
# framework.sh - the terminal framework (tui/) through the real binary:
# status bar messages, the ':' prompt and its commands, line editing and
# history, generic search with wrap-around, help generated from the
# keymaps, mouse, tiny and resized screens, the user's config file, broken
# scripts, the ASCII fallback, TERM=dumb, and escape sequences from a log
# never reaching the terminal.
. "$(dirname "$0")/lib.sh"

# A hostile log: OSC 52 (clipboard), OSC 0 (title), OSC 8 (link), CSI
# queries, DCS, C1 as UTF-8 and raw, invalid UTF-8, a bidi override.
printf '%s\n' \
	'start' \
	"osc52 $(printf '\033]52;c;SGVsbG8=\007') here" \
	"osc0 $(printf '\033]0;pwned title\007') there" \
	"osc8 $(printf '\033]8;;https://evil.example\033\\')link$(printf '\033]8;;\033\\') done" \
	"csi $(printf '\033[6n \033[21t') dsr" \
	"dcs $(printf '\033P1$r0m\033\\') end" \
	"c1 $(printf '\302\233')31m raw $(printf '\233') bad $(printf '\377\376') bytes" \
	"bidi $(printf '\342\200\256') reversed" \
	"$(printf '\033[31m')red$(printf '\033[0m') normal" >evil.log
DB=evil.db
run import --quiet evil.log
check_exit fw-setup 0

# --- the first screen, the status bar --------------------------------------
tui fw-start ''
check_exit fw-start-exit 0
check_eq fw-start-lines "$(wc -l <fw-start.screen | tr -d ' ')" 24
check_has fw-start-status fw-start.screen '[runs] row 1 of 1'
check_eq fw-start-title-role "$(head -n 1 fw-start.attrs | cut -c1-10)" TTTTTTTTTT
check_eq fw-start-status-role "$(status_line fw-start.attrs | cut -c1-10)" SSSSSSSSSS

tui fw-unknown-key 'x'
status_line fw-unknown-key.screen >status.txt
check_has fw-unknown-key status.txt 'Unknown key x, press h for help'
check_eq fw-unknown-key-role "$(status_line fw-unknown-key.attrs | cut -c2)" E
# the message stays until the next key
tui fw-message-cleared 'xj'
status_line fw-message-cleared.screen >status.txt
check_has fw-message-cleared status.txt '[runs] row 1 of 1'

tui fw-unknown-command ':frobnicate'
status_line fw-unknown-command.screen >status.txt
check_has fw-unknown-command status.txt "unknown command 'frobnicate', press h for help"

tui fw-set-bad ':set wrap maybe'
status_line fw-set-bad.screen >status.txt
check_has fw-set-bad status.txt "option 'wrap' takes on|off, not 'maybe'"
tui fw-set-unknown ':set colour red'
status_line fw-set-unknown.screen >status.txt
check_has fw-set-unknown status.txt "unknown option 'colour'"

# --- help: generated per view ------------------------------------------------
tui fw-help 'h'
check_has fw-help-title fw-help.screen 'help: runs'
check_has fw-help-move fw-help.screen 'move-down'
check_has fw-help-keys fw-help.screen 'j, <Down>'
tui fw-help-commands 'hG'
check_has fw-help-commands fw-help-commands.screen ':save-display FILE'
check_has fw-help-options fw-help-commands.screen 'timestamps'
if grep -q 'next-error' fw-help.screen fw-help-commands.screen; then
	fail fw-help-runs-no-log-keys "the runs help lists the log's next-error"
else
	ok fw-help-runs-no-log-keys
fi
tui fw-help-close 'hq'
status_line fw-help-close.screen >status.txt
check_has fw-help-close status.txt '[runs] row 1 of 1'
# from the log pager (run, then job, then log): its own keys
tui fw-help-log '<Enter><Enter>h/next-error<Enter>'
check_has fw-help-log fw-help-log.screen 'help: log'
check_has fw-help-log-error fw-help-log.screen 'next-error'

# --- generic search (the help view has no search of its own) ----------------
tui fw-search 'h/find-prev<Enter>'
status_line fw-search.screen >status.txt
n=$(grep -n 'find-prev' fw-search.screen | head -n 1 | cut -d: -f1)
check_eq fw-search-cursor "$(sed -n "${n}p" fw-search.attrs | cut -c5)" C
tui fw-search-wrap 'h/find-prev<Enter>n'
status_line fw-search-wrap.screen >status.txt
check_has fw-search-wrap status.txt 'search wrapped to the top'
tui fw-search-none 'h/zzznothing<Enter>'
status_line fw-search-none.screen >status.txt
check_has fw-search-none status.txt "no match for 'zzznothing'"
tui fw-search-noprev 'hn'
status_line fw-search-noprev.screen >status.txt
check_has fw-search-noprev status.txt 'no search yet: press / to search'

# --- the prompt: editing, history, :goto ---------------------------------------
tui fw-goto 'h
:goto 30'
status_line fw-goto.screen >status.txt
check_has fw-goto status.txt '[help] row 30 of'
tui fw-prompt-edit 'h<Colon>gotx<BS>o 31<Left><Left><Del>4<Enter>'
status_line fw-prompt-edit.screen >status.txt
check_has fw-prompt-edit status.txt '[help] row 41 of'
tui fw-prompt-words 'h<Colon>goto 5 6<C-w><C-w>7<Enter>'
status_line fw-prompt-words.screen >status.txt
check_has fw-prompt-words status.txt '[help] row 7 of'
tui fw-prompt-history 'h
:goto 12
g
<Colon><Up><Enter>'
status_line fw-prompt-history.screen >status.txt
check_has fw-prompt-history status.txt '[help] row 12 of'
tui fw-prompt-cancel 'h<Colon>goto 9<Esc>'
status_line fw-prompt-cancel.screen >status.txt
check_has fw-prompt-cancel status.txt '[help] row 1 of'
tui fw-goto-bad 'h
:goto ten'
status_line fw-goto-bad.screen >status.txt
check_has fw-goto-bad status.txt "goto: 'ten' is not a row number"

# --- mouse ------------------------------------------------------------------------
tui fw-click 'h<Click:4,10>'
status_line fw-click.screen >status.txt
check_has fw-click status.txt '[help] row 4 of'
tui fw-wheel 'h<WheelDown:4,10><WheelDown:4,10>'
status_line fw-wheel.screen >status.txt
check_has fw-wheel status.txt '[help] row 7 of'

# --- sizes ---------------------------------------------------------------------------
size 15x4
tui fw-tiny ''
check_exit fw-tiny-exit 0
check_has fw-tiny fw-tiny.screen 'Too small'
size 30x8
tui fw-small 'h'
check_eq fw-small-lines "$(wc -l <fw-small.screen | tr -d ' ')" 8
check_has fw-small-help fw-small.screen 'help: runs'
size 80x24
tui fw-resize ':resize 100x10'
check_eq fw-resize-lines "$(wc -l <fw-resize.screen | tr -d ' ')" 10
tui fw-resize-tiny ':resize 12x3'
check_has fw-resize-tiny fw-resize-tiny.screen 'Too small'
tui fw-resize-back ':resize 12x3
:resize 80x24
h'
check_has fw-resize-back fw-resize-back.screen 'help: runs'

# --- the user's config ------------------------------------------------------------------
mkdir -p cfg/ciscope
printf '%s\n' '# mine' 'bind generic x view-help' 'bind generic y frobnicate' \
	'color cursor red nosuch' >cfg/ciscope/config
XDG_CONFIG_HOME="$WORK/cfg"
export XDG_CONFIG_HOME
size 200x24
tui fw-config ''
size 80x24
status_line fw-config.screen >status.txt
check_has fw-config-error status.txt "cfg/ciscope/config:3: unknown action 'frobnicate' (and 1 more errors)"
tui fw-config-bind 'x'
check_has fw-config-bind fw-config-bind.screen 'help: runs'
check_has fw-config-bind-help fw-config-bind.screen 'h, <F1>, ?, x'
unset XDG_CONFIG_HOME

# --- broken scripts fail loudly ---------------------------------------------------------
tui fw-script-bad-key 'j<Nope>'
check_exit fw-script-bad-key 2
check_has fw-script-bad-key-msg "$ERR" "unknown key '<Nope>'"
printf 'j\n' >nul.keys
printf '\000\n' >>nul.keys
CISCOPE_SCRIPT="$WORK/nul.keys" timeout 60 "$CISCOPE" --db "$DB" >"$OUT" 2>"$ERR"
rc=$?
check_exit fw-script-nul 2
CISCOPE_SCRIPT="$WORK/missing.keys" timeout 60 "$CISCOPE" --db "$DB" >"$OUT" 2>"$ERR"
rc=$?
check_exit fw-script-missing 1
check_has fw-script-missing-msg "$ERR" "cannot read script"

# --- escapes from a log never reach the terminal -------------------------------------------
tui fw-escapes '<Enter><Enter>'
check_has fw-escapes-open fw-escapes.screen 'osc52'
check_has fw-escapes-visible fw-escapes.screen '^[]52;c;SGVsbG8=^G'
check_has fw-escapes-c1 fw-escapes.screen '<U+009B>31m raw \x9b bad \xff\xfe bytes'
check_has fw-escapes-bidi fw-escapes.screen 'bidi <U+202E> reversed'
check_has fw-escapes-link fw-escapes.screen 'osc8 link done'
check_no_raw fw-raw-osc52 fw-escapes.raw '\033]52'
check_no_raw fw-raw-osc0 fw-escapes.raw '\033]0;'
check_no_raw fw-raw-osc8 fw-escapes.raw '\033]8;'
check_no_raw fw-raw-dsr fw-escapes.raw '\033[6n'
check_no_raw fw-raw-dcs fw-escapes.raw '\033P'
check_no_raw fw-raw-c1-utf8 fw-escapes.raw '\302\233'
check_no_raw fw-raw-c1 fw-escapes.raw '\233'
check_no_raw fw-raw-invalid fw-escapes.raw '\377'
check_no_raw fw-raw-bidi fw-escapes.raw '\342\200\256'

# --- ASCII fallback, TERM=dumb ------------------------------------------------------------------
saved=$LC_ALL
LC_ALL=C
tui fw-ascii '<Enter><Enter>'
LC_ALL=$saved
check_exit fw-ascii-exit 0
if LC_ALL=C grep -q '[^ -~]' fw-ascii.screen; then
	fail fw-ascii "non-ASCII bytes on an ASCII screen: $(LC_ALL=C grep -n '[^ -~]' fw-ascii.screen | head -n 2)"
else
	ok fw-ascii
fi
check_has fw-ascii-visible fw-ascii.screen 'bidi <U+202E> reversed'
# the truncation mark is ASCII and not '~' (the known-flaky mark)
LC_ALL=C
tui fw-ascii-runs ''
LC_ALL=$saved
if grep -q 'ciscope-cli-framework\.[^ ]*> ' fw-ascii-runs.screen; then ok fw-ascii-trunc; else fail fw-ascii-trunc "no ASCII truncation mark: $(sed -n 2p fw-ascii-runs.screen)"; fi
if grep -q 'ciscope-cli-framework\.[^ ]*~ ' fw-ascii-runs.screen; then fail fw-ascii-trunc-not-flaky "~ marks a cut title"; else ok fw-ascii-trunc-not-flaky; fi
# the title separator is ASCII too
check_has fw-ascii-sep fw-ascii-runs.screen 'runs - newest first'
check_has fw-ascii-sep-status fw-ascii-runs.screen '1 run - 0 failed'
TERM=dumb
tui fw-dumb 'h'
TERM=xterm-256color
check_exit fw-dumb-exit 0
check_has fw-dumb fw-dumb.screen 'help: runs'

finish
