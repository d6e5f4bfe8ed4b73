#!/bin/sh
# search.sh - `ciscope search`: text and --json hits, regex, case, --limit,
# no match (exit 3), bad queries (exit 2).
. "$(dirname "$0")/lib.sh"

make_run_folders
cp "$PYTORCH/error_log1.txt" build.log
# a log whose literal is split by an escape sequence
printf '2024-05-01T10:48:36.8101331Z first\n2024-05-01T10:48:36.8101331Z an err\033[0mor split by a reset\n' >split.log
run import --quiet runs build.log split.log
check_exit search-setup 0

run search 'Hello from job'
check_exit search-exit 0
check_golden search.txt "$OUT"
run search --json 'Hello from job2'
check_golden search.json "$OUT"
run search -E 'exit code [0-9]+\.$'
check_exit search-regex-exit 0
sed 's/^[0-9]*\//RUN\//' "$OUT" >regex.txt
check_golden search-regex.txt regex.txt
run search --regex --json 'orphan (process|processes)$'
check_eq search-regex-json-hits "$(wc -l <"$OUT" | tr -d ' ')" 5

# the literal split by "\e[0m" is found, and shown without the escape
run search 'error split'
check_exit search-split-exit 0
check_has search-split "$OUT" "/split:2	-	an error split by a reset"

# smart case
run search 'hello from job1'
check_eq search-smart-case "$(wc -l <"$OUT" | tr -d ' ')" 6
run search 'hello from Job1'
check_exit search-case-sensitive 3
run search --ignore-case 'hello from Job1'
check_eq search-ignore-case "$(wc -l <"$OUT" | tr -d ' ')" 6
run search --case-sensitive 'hello from job1'
check_exit search-force-case 3

# --limit
run search --limit 2 'Hello from job'
check_exit search-limit-exit 0
check_eq search-limit-lines "$(wc -l <"$OUT" | tr -d ' ')" 2
check_has search-limit-note "$ERR" "stopped after 2 matches"
run search --limit 0 'e'
check_exit search-limit-0 0
check_eq search-limit-0-all "$(wc -l <"$OUT" | tr -d ' ')" "$("$CISCOPE" --db "$DB" search --limit 1000000 e 2>/dev/null | wc -l | tr -d ' ')"

# --count: per log with matches RUN/JOB:N, as many as the hits listed; no limit
run search --count 'e'
check_exit search-count-exit 0
check_eq search-count-sum "$(awk -F: '{ s += $NF } END { print s }' "$OUT")" \
	"$("$CISCOPE" --db "$DB" search --limit 0 e 2>/dev/null | wc -l | tr -d ' ')"
check_eq search-count-logs "$(wc -l <"$OUT" | tr -d ' ')" \
	"$("$CISCOPE" --db "$DB" search --limit 0 e 2>/dev/null | cut -f1 | sed 's/:[0-9]*$//' | sort -u | wc -l | tr -d ' ')"
run search --count 'Hello from job2'
check_eq search-count-two "$(cat "$OUT")" "719643948/job2:3
719643947/job2:3"
run search --count --json 'Hello from job2'
check_has search-count-json "$OUT" '"job":"job2","job_id":'
check_has search-count-json-n "$OUT" '"count":3}'
run search --count 'no such text in any log'
check_exit search-count-none 3
check_eq search-count-none-out "$(wc -c <"$OUT" | tr -d ' ')" 0

# no match: exit 3, nothing printed
run search 'no such text in any log'
check_exit search-no-match 3
check_eq search-no-match-out "$(wc -c <"$OUT" | tr -d ' ')" 0
run search --json 'no such text in any log'
check_exit search-no-match-json 3

# bad queries and usage
run search -E '(unclosed'
check_exit search-bad-regex 2
check_has search-bad-regex-msg "$ERR" "bad regular expression '(unclosed'"
run search ''
check_exit search-empty 2
run search
check_exit search-no-arg 2
run search a b
check_exit search-two-args 2
run search --limit -1 x
check_exit search-bad-limit 2
run search --help
check_exit search-help-exit 0
check_golden help-search.txt "$OUT"

# searches only read: the -wal and -shm files stay where they are (the same
# files, not deleted and made again by every search), and the last close
# leaves the -wal empty (checkpointed into the index)
run search 'Hello from job'
wal_id() { ls -i "$DB-wal" "$DB-shm" 2>/dev/null | awk '{ printf "%s ", $1 }'; }
before=$(wal_id)
run search 'Hello from job'
run search --json 'Hello from job2'
check_eq search-wal-kept "$(wal_id)" "$before"
check_eq search-wal-two-files "$(echo "$before" | wc -w | tr -d ' ')" 2
check_eq search-wal-empty "$(wc -c <"$DB-wal" | tr -d ' ')" 0

# a writer and readers at once: searches looping while an import commits
# all succeed, and the imported log is found after
mkdir -p more
i=0
while [ $i -lt 40 ]; do
	printf '2024-05-01T10:48:36.8101331Z filler line %d\n' $i
	i=$((i + 1))
done >more/pair.log
printf '2024-05-01T10:48:36.8101331Z zq7writerreaderpair\n' >>more/pair.log
"$CISCOPE" --db "$DB" import --quiet more/pair.log >pair-import.out 2>&1 &
pid=$!
bad=0
k=0
while [ $k -lt 20 ]; do
	"$CISCOPE" --db "$DB" search 'Hello from job' >/dev/null 2>pair-search.err || bad=$((bad + 1))
	k=$((k + 1))
done
wait $pid
check_eq search-pair-import "$?" 0
check_eq search-pair-readers "$bad" 0
run search zq7writerreaderpair
check_exit search-pair-found 0
check_eq search-pair-hits "$(wc -l <"$OUT" | tr -d ' ')" 1

# an index that does not exist
DB=missing.db
run search x
check_exit search-no-index 1

finish
