#!/bin/sh
# parity.sh - `ciscope parity`: the report of hand-made parity artifacts
# (text, JSON, braille and ASCII charts, SVG), run against run, settings from
# --config, $CISCOPE_PARITY and .ciscope/parity.conf, errors, a CSV with
# 100,000 rows, and the demo data set's planted parity regression: every
# failing run shows its first violation at the step the generator planted.
. "$(dirname "$0")/lib.sh"

TOP=$(cd "$CLI_DIR/../.." && pwd)

# json_get FILE EXPR: a Python expression over the document j
json_get() {
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# parity_run DIR ID SHA CONCLUSION MINUTE: lib.sh's run_folder (workflow and
# job "parity" on main, run number ID, no log) with an artifacts/parity
# folder
RUN_FOLDER_WORKFLOW=parity RUN_FOLDER_JOB=parity RUN_FOLDER_REPO=t/parity
parity_run() {
	RUN_FOLDER_NUMBER=$2
	run_folder "$1" "$2" main "$3" "$4" "$5"
	mkdir -p "$1/artifacts/parity"
}

# 501: energy leaves atol 1e-3 (the summary's) from step 5 on; pos within;
# spin is a delta alone; lonely_ref has no partner, label is text
parity_run runs/r501 501 5010000000000000000000000000000000000000 failure 01
cat >runs/r501/artifacts/parity/parity.csv <<'EOF'
step,energy_ref,energy_cand,pos_reference,pos_candidate,lonely_ref,label,spin_delta
1,10,10,0.5,0.5,1,a,0
2,10,10.0005,0.5,0.5,1,b,0.0001
3,10,10.0009,0.5,0.5005,1,c,-0.0002
4,10,10.001,0.5,0.5,1,d,0
5,10,10.002,0.5,0.5,1,e,0
6,10,10.004,0.5,0.5,1,f,0
7,10,10.003,0.5,0.5,1,g,0.003
8,10,10.01,0.5,0.5,1,h,0
EOF
printf '{"steps": 8, "tolerance": {"atol": 0.001, "rtol": 0}}\n' >runs/r501/artifacts/parity/summary.json
# 502: all within
parity_run runs/r502 502 5020000000000000000000000000000000000000 success 02
printf 'step,energy_ref,energy_cand\n1,10,10\n2,10,10.0005\n3,10,10\n' >runs/r502/artifacts/parity/parity.csv
printf '{"tolerance": {"atol": 0.001}}\n' >runs/r502/artifacts/parity/summary.json
# 503: no parity channels
parity_run runs/r503 503 5030000000000000000000000000000000000000 success 03
printf 'step,loss\n1,0.5\n2,0.4\n' >runs/r503/artifacts/parity/loss.csv
run import --quiet runs
check_exit setup-import 0

# --- the report -------------------------------------------------------------------------
run parity 501
check_exit text-fail-exit 1
check_golden parity-501.txt "$OUT"
run parity --json 501
check_exit json-fail-exit 1
check_golden parity-501.json "$OUT"
check_eq json-verdict "$(json_get "$OUT" 'j["parity"]["verdict"]')" fail
check_eq json-deciding "$(json_get "$OUT" 'j["parity"]["deciding"]')" energy
check_eq json-first "$(json_get "$OUT" '[c["first_violation"] for c in j["parity"]["channels"] if c["name"]=="energy"][0]')" 5
check_eq json-worst "$(json_get "$OUT" '[c["worst"] for c in j["parity"]["channels"] if c["name"]=="energy"][0]["step"]')" 8
check_eq json-sustained-null "$(json_get "$OUT" '[c["first_sustained"] for c in j["parity"]["channels"] if c["name"]=="pos"][0]')" None
check_eq json-unpaired "$(json_get "$OUT" 'j["parity"]["unpaired"]')" "['lonely_ref']"
check_eq json-run "$(json_get "$OUT" 'j["run"]["id"]')" 501

run parity 502
check_exit pass-exit 0
check_has pass-verdict "$OUT" "verdict: pass, closest: energy at 0.5x tolerance"

# --- charts ----------------------------------------------------------------------------
run parity --channel energy --plot --width 60 --height 12 501
check_exit plot-exit 1
check_golden parity-501-plot.txt "$OUT"
LC_ALL=C "$CISCOPE" --db "$DB" parity --channel energy --plot --width 60 --height 12 501 >"$OUT" 2>"$ERR"
check_golden parity-501-plot-ascii.txt "$OUT"
run parity --channel energy --plot=sides --width 60 --height 10 501
check_has plot-sides-legend "$OUT" "energy_ref"
check_has plot-sides-cand "$OUT" "energy_cand"
run parity --channel energy --plot --log --width 60 --height 10 501
check_golden parity-501-plot-log.txt "$OUT"
run parity --channel energy --svg chart.svg 501
check_exit svg-exit 1
if python3 -c 'import sys,xml.dom.minidom as m; d=m.parse(sys.argv[1]); assert d.documentElement.tagName=="svg"' chart.svg 2>"$ERR"; then
	ok svg-well-formed
else
	fail svg-well-formed "$(head -c 300 "$ERR")"
fi
check_has svg-mark chart.svg "first violation 5"
# --json with --svg: the JSON on stdout, the chart in the file
run parity --json --svg chart2.svg 501
check_has svg-json "$OUT" '"verdict":"fail"'
[ -s chart2.svg ] && ok svg-with-json || fail svg-with-json "no chart2.svg"
run parity --svg /nonexistent-dir/x.svg 501
check_has svg-bad-path "$ERR" "cannot write '/nonexistent-dir/x.svg'"

# --- run against run: 501's candidate against 502's ------------------------------------------
run parity --json --base 502 501
check_eq rvr-kind "$(json_get "$OUT" 'j["parity"]["kind"]')" run-vs-run
check_eq rvr-channel "$(json_get "$OUT" 'j["parity"]["channels"][0]["name"]')" energy_cand
check_eq rvr-first "$(json_get "$OUT" 'j["parity"]["channels"][0]["first_violation"]')" 4
check_eq rvr-missing "$(json_get "$OUT" 'j["parity"]["channels"][0]["missing"]')" 5
check_eq rvr-base "$(json_get "$OUT" 'j["base"]["id"]')" 502
run parity --base 502 501
check_has rvr-text "$OUT" "against   run 502"

# --- settings -------------------------------------------------------------------------------
printf 'channel energy\n\tatol 0.02\n' >wide.conf
run parity --config wide.conf 501
check_has config-file "$OUT" "settings: wide.conf"
check_has config-tol "$OUT" "(wide.conf:1)"
CISCOPE_PARITY=wide.conf "$CISCOPE" --db "$DB" parity --json --channel energy 501 >"$OUT" 2>"$ERR"
rc=$?
check_exit env-config-exit 0
check_eq env-config-pass "$(json_get "$OUT" 'j["parity"]["verdict"]')" pass
mkdir repo
git init -q repo
mkdir repo/.ciscope
printf 'channel energy\n\tinformational\n' >repo/.ciscope/parity.conf
(cd repo && "$CISCOPE" --db ../"$DB" parity --json --channel energy 501) >"$OUT" 2>"$ERR"
check_eq repo-config-informational "$(json_get "$OUT" 'j["parity"]["channels"][0]["informational"]')" True
check_eq repo-config-pass "$(json_get "$OUT" 'j["parity"]["verdict"]')" pass
printf 'defaults\n\tsustained zero\n' >bad.conf
run parity --config bad.conf 501
check_exit bad-config-exit 1
check_has bad-config-msg "$ERR" "bad.conf:2: 'sustained' needs a number from 1 to 1000000, not 'zero'"

# --- errors ----------------------------------------------------------------------------
run parity
check_exit no-run 2
run parity 501 502
check_exit two-runs 2
run parity --plot=bars 501
check_exit bad-plot 2
run parity --width 5 501
check_exit bad-width 2
check_has bad-width-msg "$ERR" "--width needs a number from 20 to 1000"
run parity 999
check_exit unknown-run 4
run parity 503
check_exit no-channels 4
check_has no-channels-msg "$ERR" "run 503 has no parity channels"
run parity --json 503
check_exit no-channels-json 4
check_eq no-channels-verdict "$(json_get "$OUT" 'j["parity"]["verdict"]')" none
run parity --channel nope 501
check_exit unknown-channel 4
check_has unknown-channel-msg "$ERR" "no parity channel or series 'nope'"
run parity --help
check_exit help 0
check_has help-usage "$OUT" "usage: ciscope parity"

# --- a big artifact through the index (a million rows through the parser and
# the report: tests/unit/t_parity.c; the import of a million rows alone takes
# half a minute, too long for every run of the suite) -------------------------------------
parity_run runs-big/r900 900 9000000000000000000000000000000000000000 failure 09
awk 'BEGIN { print "step,x_ref,x_cand"
	for (i = 1; i <= 100000; i++) { r = i * 0.001; c = r; if (i >= 76543) c = r + 1e-3
		printf "%d,%.17g,%.17g\n", i, r, c } }' >runs-big/r900/artifacts/parity/big.csv
run import --quiet runs-big
check_exit big-import 0
run parity --json --plot 900
check_eq big-steps "$(json_get "$OUT" 'j["parity"]["channels"][0]["steps"]')" 100000
check_eq big-first "$(json_get "$OUT" 'j["parity"]["channels"][0]["first_violation"]')" 76543
check_eq big-violations "$(json_get "$OUT" 'j["parity"]["channels"][0]["violations"]')" 23458
run parity --plot --width 60 --height 10 900
check_has big-plot "$OUT" "first violation 76543"

# --- the demo data set: the planted regression ----------------------------------------------
python3 "$TOP/tools/demo-gen.py" demo >/dev/null 2>demo.err || fail demo-gen "$(tail -n 3 demo.err)"
# the runs the manifest names: the failing ones and the run of the fix
python3 - demo >planted.txt <<'EOF'
import json, sys
m = json.load(open(sys.argv[1] + "/MANIFEST.json"))
p = m["planted"]["parity_regression"]
for run, step in sorted(p["divergence_step"].items()):
    print(run, step)
EOF
fix=$(python3 - demo <<'EOF'
import json, os, sys
d = sys.argv[1]
m = json.load(open(d + "/MANIFEST.json"))
sha = m["planted"]["parity_regression"]["fixed_by"]
for n in sorted(os.listdir(d + "/runs")):
    r = json.load(open(os.path.join(d, "runs", n, "run.json")))
    if r["name"] == "parity" and r["head_sha"] == sha:
        print(r["id"])
EOF
)
mkdir demo-parity
while read -r id step; do mv "demo/runs/$id" demo-parity/; done <planted.txt
mv "demo/runs/$fix" demo-parity/
run import --quiet demo-parity
check_exit demo-import 0
# the demo's resources channel is the two engines' memory, never equal: a
# repository says so in its parity.conf
printf 'channel resources\n\tinformational\n' >demo.conf
n=0
while read -r id step; do
	run parity --json --config demo.conf "$id"
	got=$(json_get "$OUT" '[c["first_violation"] for c in j["parity"]["channels"] if c["name"]=="energy"][0]')
	dec=$(json_get "$OUT" 'j["parity"]["deciding"]')
	if [ "$rc" = 1 ] && [ "$got" = "$step" ] && [ "$dec" = energy ]; then
		n=$((n + 1))
	else
		fail "demo-run-$id" "exit $rc, first violation $got (planted $step), decided by $dec"
	fi
done <planted.txt
check_eq demo-planted-steps "$n" "$(wc -l <planted.txt | tr -d ' ')"
first=$(head -n 1 planted.txt)
run parity --config demo.conf "${first% *}"
check_has demo-first-text "$OUT" "decided by energy: first violation at step ${first#* }"
run parity --json --config demo.conf "$fix"
check_exit demo-fix-passes 0
check_eq demo-fix-verdict "$(json_get "$OUT" 'j["parity"]["verdict"]')" pass
# the fix against the first failing run: energy_cand changed from the planted step on
run parity --json --config demo.conf --channel energy --base "$fix" "${first% *}"
check_eq demo-rvr-first "$(json_get "$OUT" 'j["parity"]["channels"][0]["first_violation"]')" "${first#* }"

finish
