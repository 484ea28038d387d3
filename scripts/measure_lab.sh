#!/usr/bin/env bash
# Measure the lab's four experiments at one scale (default `small`, 3 seeds), one after another,
# each under /usr/bin/time, in a fresh store; capture what the README's "The report's
# experiments" section quotes.
#
#   scripts/measure_lab.sh [OUT]          (OUT defaults to ./labrun)
#   SCALE=tiny SEEDS=1 scripts/measure_lab.sh /tmp/labtiny    (a dry run in seconds)
#
# OUT/machine.txt            CPU, cores, load before and after each experiment, BLAS threads
# OUT/<exp>.log              the run's progress (members, evaluations)
# OUT/<exp>.time             /usr/bin/time -v: wall clock, CPU seconds, peak memory
# OUT/<exp>.show.txt         `tangtui lab show ID`: the table and the verdicts
# OUT/<exp>.plot.txt         `tangtui lab show ID --plot` at 100 columns: every figure as text
# OUT/<exp>.json             `tangtui lab show ID --json`
# OUT/<exp>-figures/         `--export`: each figure as CSV and text, table.csv, verdicts.txt
# OUT/summary.md             wall time per experiment, its verdicts and first figure, to paste
set -euo pipefail

OUT=${1:-labrun}
SCALE=${SCALE:-small}
SEEDS=${SEEDS:-3}
HERE=$(cd "$(dirname "$0")/.." && pwd)
export PYTHONPATH="$HERE${PYTHONPATH:+:$PYTHONPATH}"
export TANGTUI_HOME=${TANGTUI_HOME:-$OUT/home}
export COLUMNS=100
TANGTUI=(python -m tangtui)

mkdir -p "$OUT"
{
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "host: $(uname -srm), $(nproc) usable cores"
    grep -m1 "model name" /proc/cpuinfo || true
    echo "python: $(python -c 'import sys; print(sys.version.split()[0])')," \
         "numpy $(python -c 'import numpy; print(numpy.__version__)')"
    echo "threads: OMP=${OMP_NUM_THREADS:-unset} OPENBLAS=${OPENBLAS_NUM_THREADS:-unset}" \
         "MKL=${MKL_NUM_THREADS:-unset}"
    echo "scale $SCALE, seeds $SEEDS, store $TANGTUI_HOME"
    echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
} > "$OUT/machine.txt"

echo "# lab at scale $SCALE, $SEEDS seeds ($(date -u +%Y-%m-%d))" > "$OUT/summary.md"
for exp in optimizers init gradients perplexity; do
    echo "== $exp (log: $OUT/$exp.log)"
    /usr/bin/time -v -o "$OUT/$exp.time" \
        "${TANGTUI[@]}" lab run "$exp" --scale "$SCALE" --seeds "$SEEDS" > "$OUT/$exp.log" 2>&1
    echo "load after $exp: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/machine.txt"
    id=$("${TANGTUI[@]}" lab list --json | python -c '
import json, sys
kind = sys.argv[1]
print(next(x["id"] for x in json.load(sys.stdin)["experiments"] if x["kind"] == kind))' "$exp")
    "${TANGTUI[@]}" lab show "$id" > "$OUT/$exp.show.txt"
    "${TANGTUI[@]}" lab show "$id" --plot > "$OUT/$exp.plot.txt"
    "${TANGTUI[@]}" lab show "$id" --json --export "$OUT/$exp-figures" > "$OUT/$exp.json"
    wall=$(sed -n 's/.*Elapsed (wall clock) time.*: //p' "$OUT/$exp.time")
    user=$(sed -n 's/.*User time (seconds): //p' "$OUT/$exp.time")
    first=$(python -c 'import json, sys; print(json.load(open(sys.argv[1]))["figures"][0]["name"])' \
        "$OUT/$exp.json")
    {
        echo
        echo "## $exp ($id): wall $wall, user CPU ${user} s"
        echo
        echo '```'
        echo "\$ tangtui lab show $id"
        cat "$OUT/$exp.show.txt"
        echo
        echo "\$ tangtui lab show $id --plot   # the first figure; all in $exp-figures/"
        cat "$OUT/$exp-figures/$first.txt"
        echo '```'
    } >> "$OUT/summary.md"
    echo "   $id: wall $wall, user ${user} s"
done
echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/machine.txt"
echo "done: $OUT/summary.md"
