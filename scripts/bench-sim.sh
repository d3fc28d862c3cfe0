#!/usr/bin/env bash
# Simulator benchmark: oct10 under all five designs at several population sizes, release build,
# fixed seed. Prints a Markdown table (wall time, trader-steps per second, peak memory) for
# Docs/benchmarks.md. Usage: scripts/bench-sim.sh [TRADERS...]   (default: 10000 100000 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10000 100000 1000000)
scratch=.build-release
swift build -c release --scratch-path "$scratch" --product crossclear >&2
binary="$scratch/release/crossclear"
steps=$(grep -E '^duration_s' cluster/scenarios/oct10.toml | grep -oE '[0-9_]+' | tr -d _)
step=$(grep -E '^time_step_s' cluster/scenarios/oct10.toml | grep -oE '[0-9_]+' | tr -d _)
steps=$((steps / step))
echo "| traders | designs | steps | wall (s) | trader-steps/s | peak memory (MiB) | conservation |"
echo "|---:|---:|---:|---:|---:|---:|:---|"
for traders in "${sizes[@]}"; do
    out=$(mktemp -d)
    log="$out/time.log"
    /usr/bin/time -f "%e %M" -o "$log" "$binary" sim oct10 --quiet --seed 42 \
        --set "population.traders=$traders" --out "$out/report" > "$out/stdout.log"
    read -r wall peak_kb < "$log"
    rate=$(python3 -c "print(f'{$traders * $steps * 5 / $wall:,.0f}')")
    peak=$((peak_kb / 1024))
    verdict=$(grep -q FAILED "$out/stdout.log" && echo FAILED || echo OK)
    echo "| $(printf "%'d" "$traders") | 5 | $steps | $wall | $rate | $peak | $verdict |"
    rm -rf "$out"
done
