#!/usr/bin/env bash
# Back to back: `npm run bench:compare -- REF [ROUNDS] [NAME]` runs the NAME benchmark (default conversations)
# ROUNDS times (default 6) on this checkout and on commit REF, alternately (this, REF, this, REF, …), so that both
# see the machine in the same minutes, and prints each run's first figure line, each side's mean and the change.
# Both sides run this checkout's benchmark code (bench/, test/fakes, test/support): the same load against two
# builds of the service. REF is exported to a temporary folder, installed (npm ci) and built there; the folder is
# removed at the end. Environment variables (BENCH_USERS, …) reach both sides.
set -euo pipefail
ref=${1:?usage: bench/compare.sh REF [ROUNDS] [NAME]}
rounds=${2:-6}
name=${3:-conversations}
root=$(git rev-parse --show-toplevel)
work=$(mktemp -d)
chmod 755 "$work" # as root, the embedded PostgreSQL runs as `postgres`, which must reach REF's binaries
trap 'rm -rf "$work"' EXIT
base="$work/base"
mkdir -p "$base"
git -C "$root" archive "$ref" | tar -x -C "$base"
rm -rf "$base/bench" "$base/test/fakes" "$base/test/support"
cp -r "$root/bench" "$base/bench"
cp -r "$root/test/fakes" "$root/test/support" "$base/test/"
# Compiled from the benchmark's imports alone (test/support has helpers for code that REF may not have).
echo '{ "extends": "./tsconfig.json", "compilerOptions": { "outDir": "./dist-bench", "sourceMap": false }, "include": ["bench"] }' >"$base/tsconfig.bench.json"
# Only the benchmark compared (and the runner): the others may use code that REF does not have.
find "$base/bench" -name '*.bench.ts' ! -name "$name.bench.ts" -delete
echo "building $(git -C "$root" rev-parse --short "$ref") in $base" >&2
(cd "$base" && npm ci --no-audit --no-fund --loglevel=error >/dev/null && npx nest build && npx tsc -p tsconfig.bench.json)
echo "building this checkout" >&2
(cd "$root" && npm run build --silent && rm -rf dist-bench && npx tsc -p tsconfig.bench.json)

results="$work/results"
for i in $(seq 1 "$rounds"); do
  for side in this base; do
    dir=$([ "$side" = this ] && echo "$root" || echo "$base")
    # A run that fails (the machine's hiccup, not a figure) is run again, once.
    out=$(cd "$dir" && node dist-bench/bench/run.js "$name") || out=$(cd "$dir" && node dist-bench/bench/run.js "$name")
    # The first line whose value is a rate (e.g. `answers processed:    812 answers/s end to end`).
    line=$(grep -m1 -E '^[^:]+: +[0-9][0-9.,]* [a-z]+/s' <<<"$out")
    echo "$side $i: $line"
    echo "$side $(sed -E 's/^[^:]+: +([0-9][0-9.,]*).*/\1/; s/,//g' <<<"$line")" >>"$results"
  done
done
awk -v ref="$ref" '
  { sum[$1] += $2; n[$1] += 1 }
  END {
    this = sum["this"] / n["this"]; base = sum["base"] / n["base"];
    printf "mean: this checkout %.0f, %s %.0f (%+.1f %%) over %d runs each\n", this, ref, base, 100 * (this - base) / base, n["this"]
  }' "$results"
