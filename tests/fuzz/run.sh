#!/bin/sh
# run.sh BUILD SECONDS [NAME...] - replay and run the libFuzzer harnesses.
#
# For each harness BUILD/fuzz/f_NAME (all, or the NAMEs given, with or
# without the f_ prefix):
#  1. replay tests/fuzz/regress/NAME/* (inputs that once crashed or broke a
#     property: they must stay fixed) and the seeds;
#  2. fuzz for SECONDS (0: replay only) with the working corpus
#     BUILD/fuzz-corpus/NAME, kept between runs, seeded from
#     tests/fuzz/seeds/NAME and from tests/fixtures (chosen below);
#  3. print one line: execs, coverage (libFuzzer's cov and ft), corpus size.
# A crash leaves its input in BUILD/fuzz-crashes/ and fails the run; copy it
# into tests/fuzz/regress/NAME/ with the fix.
#
# FUZZ_JOBS (default 1) runs that many fuzzing processes per harness.
BUILD=${1:-build-fuzz}
SECONDS_EACH=${2:-60}
shift 2 2>/dev/null
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
case $BUILD in /*) ;; *) BUILD="$top/$BUILD" ;; esac
JOBS=${FUZZ_JOBS:-1}
FIX=tests/fixtures
SEP_RULES='
#--log--
'
SEP_RUN='
--ciscope-fuzz--
'

# a harness is named with or without its f_ prefix: keys or f_keys
names=
for n in "$@"; do
	names="$names ${n#f_}"
done
if [ -z "$names" ]; then
	for b in "$BUILD"/fuzz/f_*; do
		[ -x "$b" ] && names="$names $(basename "$b" | sed 's/^f_//')"
	done
fi
[ -n "$names" ] || { echo "run.sh: no harness in $BUILD/fuzz (make fuzz builds them)" >&2; exit 2; }

# small fixture files (libFuzzer works best on small inputs)
small() { # small MAXBYTES FIND-ARGS...
	max=$1; shift
	find "$FIX" -type f "$@" -size -"$max"c 2>/dev/null | sort
}

copy_all() { # copy_all DIR PREFIX < file list
	i=0
	while IFS= read -r f; do
		i=$((i + 1)); cp "$f" "$1/$2-$i"
	done
}

# (shell functions share the caller's variables: this one names its own
# distinctly, never log/bin/corpus)
seed_from_fixtures() { # NAME DIR
	n=0
	case $1 in
	log)
		small 65536 \( -name '*.log' -o -name '*.txt' \) | copy_all "$2" fixture ;;
	junit)
		small 65536 -name '*.xml' | copy_all "$2" fixture ;;
	zip)
		small 65536 -name '*.zip' | copy_all "$2" fixture ;;
	rules)
		# each rule of the built-in set alone, followed by a real log
		sample=$FIX/pytorch-test-infra/aws/lambda/log-classifier/fixtures/classify/pytest_failure.txt
		awk -v dir="$2" 'BEGIN { n = 0; f = dir "/rule-0" }
			/^rule / { n++; f = dir "/rule-" n }
			{ print > f }' data/rules.conf
		for f in "$2"/rule-*; do
			printf '%s' "$SEP_RULES" >> "$f"; cat "$sample" >> "$f"
		done
		small 16384 -path '*classify/*.txt' | while IFS= read -r f; do
			n=$((n + 1))
			{ printf 'rule x\n\tcategory test\n\tmatch error\n'; printf '%s' "$SEP_RULES"; cat "$f"; } > "$2/log-$n"
		done ;;
	runfolder)
		r=$FIX/runs/hub4j-719643947/run.json
		j=$(find "$FIX" -name '*_719643947_jobs.json' -path '*__files*' | head -n 1)
		small 65536 -name '*.zip' | while IFS= read -r z; do
			n=$((n + 1))
			{ cat "$r"; printf '%s' "$SEP_RUN"; cat "$j"; printf '%s' "$SEP_RUN"; cat "$z"; } > "$2/run-$n"
		done
		{ cat "$r"; printf '%s' "$SEP_RUN"; cat "$j"; } > "$2/run-nozip"
		# an artifact of JUnit reports (the fixtures' zips hold other files)
		if command -v python3 >/dev/null; then
			python3 - "$FIX" "$2/art.zip" <<'PYEOF'
import glob, os, sys, zipfile
with zipfile.ZipFile(sys.argv[2], "w", zipfile.ZIP_DEFLATED) as z:
    for f in sorted(glob.glob(os.path.join(sys.argv[1], "**", "*.xml"), recursive=True)):
        if os.path.getsize(f) < 8192:
            z.write(f, "reports/" + os.path.basename(f))
    z.writestr("metrics/parity.csv", "step,x_ref,x_cand\n0,1,1\n1,2,2.5\n")
PYEOF
			{ cat "$r"; printf '%s' "$SEP_RUN"; cat "$j"; printf '%s' "$SEP_RUN"
			  printf '%s' "$SEP_RUN"; cat "$2/art.zip"; } > "$2/run-artifact"
			rm -f "$2/art.zip"
		fi
		cp "$FIX/runs/hub4j-711446981/run.json" "$2/run-alone"
		small 16384 -path '*classify/*.txt' | copy_all "$2" log ;;
	keys)
		cp data/default.conf "$2/default.conf" ;;
	thresholds)
		cp data/thresholds.conf "$2/data-thresholds.conf" ;;
	parity)
		cp data/parity.conf "$2/data-parity.conf" ;;
	runbook)
		for f in data/runbooks/*.md; do cp "$f" "$2/data-$(basename "$f")"; done ;;
	esac
}

total_fail=0
for name in $names; do
	bin=$BUILD/fuzz/f_$name
	[ -x "$bin" ] || { echo "FAIL fuzz/$name: no harness $bin"; total_fail=$((total_fail + 1)); continue; }
	corpus=$BUILD/fuzz-corpus/$name
	crashes=$BUILD/fuzz-crashes
	log=$BUILD/fuzz-logs/$name.log
	mkdir -p "$corpus" "$crashes" "$BUILD/fuzz-logs"
	[ -d "tests/fuzz/seeds/$name" ] && cp tests/fuzz/seeds/"$name"/* "$corpus"/ 2>/dev/null
	seed_from_fixtures "$name" "$corpus"

	# 1. regressions, one run each (a file list, not a corpus: nothing is added)
	regress=$(find "tests/fuzz/regress/$name" -type f 2>/dev/null | sort)
	nreg=0
	if [ -n "$regress" ]; then
		nreg=$(echo "$regress" | wc -l)
		# shellcheck disable=SC2086
		if ! "$bin" -rss_limit_mb=2048 -timeout=30 $regress >"$log.regress" 2>&1; then
			echo "FAIL fuzz/$name: a regression input fails again:"
			grep -E 'ERROR|property failed|Running:|SUMMARY' "$log.regress" | tail -n 8
			total_fail=$((total_fail + 1))
			continue
		fi
	fi

	# 2. fuzz (-runs=0 with SECONDS 0: load and run the corpus only)
	if [ "$SECONDS_EACH" -gt 0 ]; then
		limit="-max_total_time=$SECONDS_EACH"
	else
		limit="-runs=0"
	fi
	if [ "$JOBS" -gt 1 ]; then par="-jobs=$JOBS -workers=$JOBS"; else par=; fi
	# shellcheck disable=SC2086
	"$bin" $limit $par -timeout=30 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
		-artifact_prefix="$crashes/$name-" "$corpus" >"$log" 2>&1
	rc=$?
	[ "$JOBS" -gt 1 ] && cat fuzz-*.log >>"$log" 2>/dev/null && rm -f fuzz-*.log
	execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | awk '{s += $2} END {print s + 0}')
	last=$(grep -E '#[0-9]+.*cov: [0-9]+ ft: [0-9]+' "$log" | tail -n 1)
	cov=$(echo "$last" | sed -nE 's/.*cov: ([0-9]+).*/\1/p')
	ft=$(echo "$last" | sed -nE 's/.*ft: ([0-9]+).*/\1/p')
	files=$(find "$corpus" -type f | wc -l)
	if [ "$rc" -ne 0 ]; then
		echo "FAIL fuzz/$name: exit $rc after $execs execs; input saved in $crashes:"
		grep -E 'ERROR|property failed|SUMMARY|Test unit written' "$log" | tail -n 8
		total_fail=$((total_fail + 1))
		continue
	fi
	echo "ok fuzz/$name: $execs execs in ${SECONDS_EACH}s, cov ${cov:-?} ft ${ft:-?}, corpus $files, $nreg regression inputs"
done
[ "$total_fail" -eq 0 ]
