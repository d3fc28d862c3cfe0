#!/usr/bin/env bash
# Cluster benchmark: four venues and a clearing server in one process on loopback over mutual TLS
# (release build, fixed seed): the raw TLS ceiling for ChangeBatch frames, durable ingest into the
# clearing journal, a venue restart and resync at 100k traders, and shock-to-instruction latency.
# Prints a Markdown table for Docs/benchmarks.md.
# Usage: scripts/bench-cluster.sh [crossclear bench cluster options...]   (e.g. --parts 1,2)
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=.build-release
swift build -c release --scratch-path "$scratch" --product crossclear >&2
"$scratch/release/crossclear" bench cluster --seed 42 --traders 100000 "$@"
