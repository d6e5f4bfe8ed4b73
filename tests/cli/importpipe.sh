#!/bin/sh
# importpipe.sh - the log writer's compression thread and the batched import:
# the same bytes and rows as the single-threaded writer, errors and kill -9
# leave a sound index that a re-import completes.
. "$(dirname "$0")/lib.sh"

HAVE_SQLITE=0
command -v sqlite3 >/dev/null 2>&1 && HAVE_SQLITE=1

# A log of ~9 MB (36 chunks): timestamps, hex ids, 9000-byte lines across
# chunk ends, CRLF and ##[error] lines.
awk 'BEGIN { srand(7); L = "x"; while (length(L) < 9000) L = L L;
	for (i = 0; i < 40000; i++)
		printf "2024-05-01T10:48:%02d.%07dZ id %08x warning: unused %s%s\n", i % 60, i,
			int(rand() * 4294967295), (i % 97 == 0 ? L : ""), (i % 501 == 0 ? "\r\n##[error]failed" : "")
}' >big.log

"$CISCOPE" --db threads.db import --json big.log >threads.json 2>threads.err
check_eq pipeline_import_ok "$?" 0
CISCOPE_LOG_THREADS=1 "$CISCOPE" --db single.db import --json big.log >single.json 2>single.err
check_eq single_import_ok "$?" 0
ID=$(sed -n 's/.*"id":\([0-9]*\).*/\1/p' threads.json)
"$CISCOPE" --db threads.db log --raw "$ID" >threads.raw
"$CISCOPE" --db single.db log --raw "$ID" >single.raw
if cmp -s threads.raw big.log && cmp -s single.raw big.log; then
	ok pipeline_raw_identical
else
	fail pipeline_raw_identical "log --raw differs from the imported bytes"
fi
check_eq pipeline_same_summary "$(sed 's/"findings":[0-9]*//' threads.json)" "$(sed 's/"findings":[0-9]*//' single.json)"
check_eq pipeline_same_findings "$(grep -o '"findings":[0-9]*' threads.json)" "$(grep -o '"findings":[0-9]*' single.json)"
if [ "$HAVE_SQLITE" = 1 ]; then
	for t in "log_chunks ORDER BY log_id, seq" "log_chunk_grams ORDER BY log_id, seq" \
		"log_chunk_words ORDER BY log_id, part, seq" "logs ORDER BY id" \
		"findings ORDER BY id" "log_groups ORDER BY log_id, first_line" \
		"triage_jobs ORDER BY job_id" "triage_findings ORDER BY id"; do
		a=$(sqlite3 threads.db "SELECT * FROM $t" | cksum)
		b=$(sqlite3 single.db "SELECT * FROM $t" | cksum)
		check_eq "pipeline_rows_${t%% *}" "$a" "$b"
	done
	check_eq pipeline_chunk_count "$(sqlite3 threads.db 'SELECT count(*) FROM log_chunks')" 35
	# the rules scan the writer's worker made, replayed by triage, is the
	# scan triage makes of the log read back (the single-threaded import)
	check_eq pipeline_triage_found "$(sqlite3 threads.db 'SELECT count(*) > 0 FROM triage_findings')" 1
	# a log judged from its findings (its name does not say failed): the
	# worker's scan replayed (30000 findings), or given up past the findings
	# it keeps (70000: triage reads the log back); the same triage either way
	for n in 30000 70000; do
		awk -v n=$n 'BEGIN { for (i = 0; i < n; i++) printf "##[error]step %d failed: exit code %d\nok %d\n", i, i % 250, i }' >hits$n.log
		rm -f hitt.db* hits.db*
		"$CISCOPE" --db hitt.db import --quiet hits$n.log
		CISCOPE_LOG_THREADS=1 "$CISCOPE" --db hits.db import --quiet hits$n.log
		for t in "triage_jobs ORDER BY job_id" "triage_findings ORDER BY id"; do
			check_eq "pipeline_hits${n}_${t%% *}" "$(sqlite3 hitt.db "SELECT * FROM $t" | cksum)" \
				"$(sqlite3 hits.db "SELECT * FROM $t" | cksum)"
		done
	done
else
	echo "skip pipeline_rows: no sqlite3 command to read the tables"
fi

# kill -9 at moments spread over an import of a big log and many small
# ones: the index stays sound, holds whole runs only, and a re-import
# makes it equal to a clean import.
mkdir -p many
i=0
while [ $i -lt 300 ]; do
	printf '2024-05-01T10:48:36.0000000Z log %d\n##[warning]w %d\n2024-05-01T10:48:37.0000000Z done %d\n' $i $i $i >many/job-$i.txt
	i=$((i + 1))
done
cp big.log many/job-big.txt
"$CISCOPE" --db clean.db import --quiet many 2>clean.err
check_eq clean_import_ok "$?" 0
summary() {
	"$CISCOPE" --db "$1" runs --json --limit 100000 | sed 's/"created_at":"[^"]*"//g' | cksum
}
CLEAN=$(summary clean.db)
check_eq clean_runs "$("$CISCOPE" --db clean.db runs --json --limit 100000 | grep -o '"attempt":' | wc -l | tr -d ' ')" 301
BIGID=$(CISCOPE_LOG_THREADS=1 "$CISCOPE" --db clean.db import --json many/job-big.txt |
	sed -n 's/.*"id":\([0-9]*\).*/\1/p')
for delay in 0.05 0.15 0.3 0.5 0.8; do
	rm -f k.db k.db-wal k.db-shm
	"$CISCOPE" --db k.db import --quiet many 2>/dev/null &
	pid=$!
	sleep "$delay"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	if [ "$HAVE_SQLITE" = 1 ] && [ -f k.db ]; then
		check_eq "kill9_${delay}_integrity" "$(sqlite3 k.db 'PRAGMA integrity_check')" ok
		# no half run: every log that exists is finished and complete (a
		# kill before the schema's transaction committed leaves no tables:
		# an empty index, no half log either)
		half=0
		if [ "$(sqlite3 k.db "SELECT count(*) FROM sqlite_master WHERE name = 'logs'")" = 1 ]; then
			half=$(sqlite3 k.db 'SELECT count(*) FROM logs l WHERE l.raw_size IS NULL OR l.raw_size != (SELECT coalesce(sum(raw_len), 0) FROM log_chunks c WHERE c.log_id = l.id)')
		fi
		check_eq "kill9_${delay}_no_half_log" "$half" 0
	fi
	"$CISCOPE" --db k.db import --quiet many 2>k.err
	check_eq "kill9_${delay}_reimport_ok" "$?" 0
	check_eq "kill9_${delay}_same_runs" "$(summary k.db)" "$CLEAN"
	"$CISCOPE" --db k.db log --raw "$BIGID" >k.raw 2>k.err
	if cmp -s k.raw big.log; then
		ok "kill9_${delay}_raw"
	else
		fail "kill9_${delay}_raw" "log --raw of the big log differs after the re-import"
	fi
done


# many files named on the command line share the batches too: a damaged
# archive among them is reported by its name, every other file is imported
# whole, and a second run of the same command changes nothing
mkdir -p args
i=0
set --
while [ $i -lt 40 ]; do
	printf '2024-05-01T10:48:36.0000000Z arg %d\n##[error]boom %d\n' $i $i >args/a-$i.log
	set -- "$@" args/a-$i.log
	[ $i = 19 ] && { printf 'PK\003\004 not a zip at all' >args/bad.zip; set -- "$@" args/bad.zip; }
	i=$((i + 1))
done
"$CISCOPE" --db args.db import --quiet "$@" 2>args.err
check_eq args_import_exit "$?" 1
check_has args_bad_named args.err "args/bad.zip"
check_eq args_one_error "$(grep -c 'cannot import' args.err)" 1
if [ "$HAVE_SQLITE" = 1 ]; then
	check_eq args_runs "$(sqlite3 args.db 'SELECT count(*) FROM runs')" 40
	check_eq args_logs_whole "$(sqlite3 args.db 'SELECT count(*) FROM logs l WHERE l.raw_size = (SELECT sum(raw_len) FROM log_chunks c WHERE c.log_id = l.id)')" 40
	check_eq args_integrity "$(sqlite3 args.db 'PRAGMA integrity_check')" ok
fi
"$CISCOPE" --db args.db import "$@" 2>args2.err
check_has args_again_unchanged args2.err "40 unchanged"

# kill -9 in the middle of a batch of many small logs (a real child process,
# SIGKILL at moments spread over a clean import's duration): the index opens,
# passes integrity_check and holds whole runs only (each run with its job and
# its complete log, groups and steps); at least one kill leaves a part of the
# logs imported, so it landed between the batches' commits.
mkdir -p small
awk 'BEGIN { for (i = 0; i < 3000; i++) { f = sprintf("small/job-%04d.txt", i)
	printf "2024-05-01T10:48:36.0000000Z log %d\n##[group]Run step %d\n2024-05-01T10:48:36.5000000Z inside %d\n##[endgroup]\n##[warning]w %d\n2024-05-01T10:48:37.0000000Z done %d\n", i, i, i, i, i > f
	close(f) } }'
t0=$(date +%s%N)
"$CISCOPE" --db sclean.db import --quiet small 2>sclean.err
check_eq small_clean_import_ok "$?" 0
T=$(( ($(date +%s%N) - t0) / 1000000 ))
if [ "$HAVE_SQLITE" = 1 ]; then
	partial=0
	for k in 1 2 3 4 5; do
		rm -f s.db s.db-wal s.db-shm
		"$CISCOPE" --db s.db import --quiet small 2>/dev/null &
		pid=$!
		sleep "$(awk -v t="$T" -v k="$k" 'BEGIN { printf "%.3f", t * k / 6000 }')"
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		[ -f s.db ] || continue
		check_eq "small_kill_${k}_integrity" "$(sqlite3 s.db 'PRAGMA integrity_check')" ok
		[ "$(sqlite3 s.db "SELECT count(*) FROM sqlite_master WHERE name = 'logs'")" = 1 ] || continue
		runs=$(sqlite3 s.db 'SELECT count(*) FROM runs')
		# whole runs: one job, one complete log, its group and its step each
		bad=$(sqlite3 s.db "SELECT
			(SELECT count(*) FROM runs r WHERE (SELECT count(*) FROM jobs j WHERE j.run_id = r.id) != 1)
			+ (SELECT count(*) FROM jobs j WHERE (SELECT count(*) FROM logs l WHERE l.job_id = j.id) != 1)
			+ (SELECT count(*) FROM logs l WHERE l.raw_size IS NULL OR l.raw_size != (SELECT coalesce(sum(raw_len), 0) FROM log_chunks c WHERE c.log_id = l.id))
			+ (SELECT count(*) FROM logs l WHERE (SELECT count(*) FROM log_groups g WHERE g.log_id = l.id) != 1)
			+ (SELECT count(*) FROM jobs j WHERE NOT EXISTS (SELECT 1 FROM steps s WHERE s.job_id = j.id))
			+ (SELECT count(*) FROM log_chunks c WHERE c.log_id NOT IN (SELECT id FROM logs))")
		check_eq "small_kill_${k}_whole_runs" "$bad" 0
		[ "$runs" -gt 0 ] && [ "$runs" -lt 3000 ] && partial=$((partial + 1))
	done
	if [ "$partial" -ge 1 ]; then ok small_kill_mid_batch; else
		fail small_kill_mid_batch "no kill landed between commits (the clean import took ${T} ms)"; fi
	"$CISCOPE" --db s.db import --quiet small 2>s.err
	check_eq small_kill_reimport_ok "$?" 0
	check_eq small_kill_reimport_runs "$(sqlite3 s.db 'SELECT count(*) FROM runs')" 3000
	check_eq small_kill_reimport_integrity "$(sqlite3 s.db 'PRAGMA integrity_check')" ok
else
	echo "skip small_kill: no sqlite3 command to read the index"
fi

# The read-ahead queue of a folder's logs (up to 8 files, 1 MiB waiting): a folder
# whose walk leaves the queue (sub-folders between logs, a folder named like
# a log), logs large enough to fill the byte bound, one over 1 MiB (read
# from the file), an empty one and a FIFO named like a log: the same index
# as the same files given one by one (no read-ahead), in the walk's order.
if [ "$HAVE_SQLITE" = 1 ]; then
	mkdir -p qa/m07 qa/d12.log
	i=0
	while [ "$i" -lt 30 ]; do
		n=$(printf '%02d' "$i")
		case $i in
		3 | 4 | 5 | 6 | 7 | 8) lines=9000 ;; # ~700 KB each: the byte bound
		20) lines=16000 ;;                  # over 1 MiB
		*) lines=$((20 + i * 7)) ;;
		esac
		awk -v n="$n" -v k="$lines" 'BEGIN { for (j = 0; j < k; j++)
			printf "2024-05-01T10:%02d:%02d.0000000Z log %s line %d of the read-ahead queue, padded to a longer line\n", j % 60, j % 60, n, j
			if (n == "11") print "##[error]Process completed with exit code 1." }' >"qa/l$n.log"
		i=$((i + 1))
	done
	: >qa/l25.log
	printf 'inside\n' >qa/m07/in.log
	printf 'named like a log\n' >qa/d12.log/x.log
	rm -f qa/l13.log && mkfifo qa/l13.log 2>/dev/null || :
	"$CISCOPE" --db qa.db import --quiet qa 2>qa.err
	qa_rc=$?
	set --
	for f in $(cd qa && ls); do
		if [ -d "qa/$f" ]; then
			for g in $(cd "qa/$f" && ls); do set -- "$@" "qa/$f/$g"; done
		elif [ -f "qa/$f" ]; then
			set -- "$@" "qa/$f"
		fi
	done
	"$CISCOPE" --db qb.db import --quiet "$@" 2>qb.err
	check_eq readahead_import_ok "$qa_rc" 0
	check_eq readahead_runs "$(sqlite3 qa.db 'SELECT count(*) FROM runs')" 31
	for t in runs jobs logs log_chunks findings triage_findings; do
		a=$(sqlite3 qa.db "SELECT * FROM $t" | cksum)
		b=$(sqlite3 qb.db "SELECT * FROM $t" | cksum)
		check_eq "readahead_same_$t" "$a" "$b"
	done
else
	echo "skip readahead: no sqlite3 command to read the index"
fi

finish
