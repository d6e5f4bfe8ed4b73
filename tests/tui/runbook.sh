#!/bin/sh
# runbook.sh - the runbook view on the demo data set at 80x24, 200x50 and
# 30x8: the chooser (bundled and repository runbooks, past instances), a
# bundled runbook bound to a failing run (from the runs view and from a
# triage finding), its dry run with the commands resolved, a test runbook
# of the repository run step by step (output and a check mark, a failing
# step, a skip, a note, a manual step ticked off), resuming after quitting,
# and a step whose output holds escape sequences that never reach the
# terminal.
. "$(dirname "$0")/lib.sh"

demo_db || finish

# the checkout ciscope runs in: a repository of our own with its runbooks
own_home
git init -q "$WORK" && mkdir -p "$WORK/.ciscope/runbooks" || { fail git-init "git init"; finish; }
cat >"$WORK/.ciscope/runbooks/smoke.md" <<'EOF'
---
title: Smoke test
when: to see the runbook view work
---
## Say hello
Prints a greeting.
```sh
printf 'hello from step 1\n'
```
## Fail on purpose
```sh
echo about to fail; exit 3
```
## Hostile output
```sh
printf 'x\033]0;pwned\007y\033[2Jz\033P1$rq\033\\w\n'
```
## Tick off
Check the dashboard by hand.
EOF
cat >"$WORK/.ciscope/runbooks/careful.md" <<'EOF'
---
title: Careful
---
## Dangerous
```sh {confirm="Really print the secret word?"}
echo the-secret-word
```
EOF
cat >"$WORK/.ciscope/runbooks/vars.md" <<'EOF'
---
title: Variables and retries
---
## Echo a word
```sh
printf 'word=[%s]\n' {{word}}
```
## Third time lucky
```sh {retry=3 interval=1 until-exit=0}
n=$(cat count 2>/dev/null || echo 0); n=$((n + 1)); echo "$n" >count; echo "attempt $n"; [ "$n" -ge 3 ]
```
EOF

# The runs view's first run, the demo's newest: the chooser binds it.
for sz in 80x24 200x50 30x8; do
	size "$sz"
	tui "rb-chooser-$sz" 'R'
	check_exit "rb-chooser-$sz-exit" 0
	check_screen "rb-chooser-$sz"
	check_eq "rb-chooser-$sz-lines" "$(wc -l <"rb-chooser-$sz.screen" | tr -d ' ')" "${sz#*x}"
done
size 80x24
check_has rb-chooser-bundled rb-chooser-80x24.screen 'rollback'
check_has rb-chooser-repository rb-chooser-80x24.screen 'Smoke test'
check_title rb-chooser-binds rb-chooser-80x24 'Enter binds run'

# A bundled runbook bound to a failing run, as a dry run: the commands with
# the index's values filled in and shell-quoted; nothing is recorded.
for sz in 80x24 200x50 30x8; do
	size "$sz"
	tui "rb-dry-$sz" 'Tj
R
jj
d'
	check_exit "rb-dry-$sz-exit" 0
	check_screen "rb-dry-$sz"
done
size 200x50
check_title rb-dry-title rb-dry-200x50 'runbook investigate-failure (dry run) - run'
check_has rb-dry-resolved rb-dry-200x50.screen '$ ciscope triage'
run runbook log --json
check_eq rb-dry-records-nothing "$(cat "$OUT")" "[]"

# :runbook NAME; run step 1 (output, check mark), step 2 fails, skip step
# 3, a note; quitting stops the instance (resumable).
size 80x24
tui rb-steps ':runbook smoke
<Enter>
j
<Enter>'
check_exit rb-steps-exit 0
check_screen rb-steps
check_has rb-steps-fail rb-steps.screen 'exit 3'
tui rb-step1 ':runbook smoke
<Enter>'
check_has rb-step1-output rb-step1.screen 'hello from step 1'
check_has rb-step1-check rb-step1.screen '✓   1 Say hello'
check_has rb-step1-exit rb-step1.screen 'exit 0'
tui rb-skip ':runbook smoke
<Enter>
j
<Enter>
j
s
n
checked the logs by hand<Enter>'
check_has rb-skip-glyph rb-skip.screen '↷   3 Hostile output'
check_has rb-skip-fail-glyph rb-skip.screen '✗   2 Fail on purpose'
check_status rb-note rb-skip 'note recorded in runbook 3'
run runbook log 3 --json
check_has rb-note-stored "$OUT" 'checked the logs by hand'
check_has rb-skip-stored "$OUT" '"kind":"skip"'
check_has rb-stopped-stored "$OUT" '"kind":"stopped"'

# Resume instance 3 after quitting: steps keep their states, the cursor is
# on the first step without a success (2), and running the rest finishes it.
tui rb-resume ':runbook 3'
check_screen rb-resume
check_has rb-resume-kept rb-resume.screen '✓   1 Say hello'
check_has rb-resume-skip-kept rb-resume.screen '↷   3 Hostile output'
tui rb-resume2 ':runbook 3
s
jj
<Enter>'
check_has rb-resume-manual rb-resume2.screen '✓   4 Tick off'
check_status rb-finished rb-resume2 'runbook 3 finished'
run runbook log 3 --json
check_has rb-resumed-stored "$OUT" '"kind":"resumed"'
check_has rb-finished-stored "$OUT" '"kind":"finished"'
# the chooser lists it as a past instance
tui rb-past 'R'
check_has rb-past-listed rb-past.screen 'finished'

# Hostile output: shown visibly, never written to the terminal.
tui rb-hostile ':runbook smoke
jj
<Enter>'
check_has rb-hostile-visible rb-hostile.screen '^[]0;pwned'
check_has rb-hostile-done rb-hostile.screen '✓   3 Hostile output'
check_no_raw rb-hostile-osc rb-hostile.raw '\033]0;pwned'
check_no_raw rb-hostile-clear rb-hostile.raw '\033[2Jz'
check_no_raw rb-hostile-dcs rb-hostile.raw '\033P1$rq'

# A confirm= step asks: n leaves it pending, y runs it.
tui rb-confirm-no ':runbook careful
<Enter>
n'
check_has rb-confirm-no-pending rb-confirm-no.screen '○   1 Dangerous'
check_status rb-confirm-no-status rb-confirm-no 'not run'
tui rb-confirm-yes ':runbook careful
<Enter>
y'
check_has rb-confirm-yes-ran rb-confirm-yes.screen 'the-secret-word'

# A variable without a value stops the step; v gives it one, and a hostile
# value is passed quoted: nothing but the printf runs.
tui rb-novar ':runbook vars
<Enter>'
check_has rb-novar-says rb-novar.screen 'cannot run'
check_has rb-novar-pending rb-novar.screen '○   1 Echo a word'
tui rb-var ':runbook vars
v
word=$(touch pwned) `touch pwned2`; touch pwned3<Enter>
<Enter>'
check_has rb-var-ran rb-var.screen '✓   1 Echo a word'
check_has rb-var-literal rb-var.screen 'word=[$(touch pwned) `touch pwned2`; touch pwned3]'
check_eq rb-var-nothing-else "$(ls pwned pwned2 pwned3 2>/dev/null)" ""

# retry=3 interval=1: each attempt's output, the step done on the third.
rm -f count
tui rb-retry ':runbook vars
j
<Enter>'
check_has rb-retry-done rb-retry.screen '✓   2 Third time lucky'
check_has rb-retry-attempt3 rb-retry.screen 'attempt 3'
check_eq rb-retry-count "$(cat count)" 3

# ASCII glyphs in a non-UTF-8 locale.
saved=$LC_ALL
LC_ALL=C
tui rb-ascii ':runbook 3'
LC_ALL=$saved
check_has rb-ascii-done rb-ascii.screen '+   1 Say hello'
check_has rb-ascii-skip rb-ascii.screen '>   3 Hostile output'

finish
