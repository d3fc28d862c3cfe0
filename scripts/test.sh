#!/usr/bin/env bash
# Runs the whole test suite: installs the system packages it needs (when run as root on a fresh
# machine), builds in debug and runs every test. Exits non-zero, loudly, when anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for package in libsqlite3-dev libssl-dev; do
    dpkg -s "$package" >/dev/null 2>&1 || need+=("$package")
done
if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ]; then
        echo "== installing ${need[*]}"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
    else
        echo "missing system packages: ${need[*]} (install them with: sudo apt-get install ${need[*]})" >&2
        exit 1
    fi
fi

echo "== building (debug, with tests)"
swift build --build-tests

echo "== running tests"
set +e
swift test --skip-build 2>&1 | tee .build/test-output.log
status=${PIPESTATUS[0]}
set -e
if [ "$status" -ne 0 ] || grep -qE "Test run with .* failed|error: " .build/test-output.log; then
    echo "== TESTS FAILED (exit $status)" >&2
    exit 1
fi
echo "== all tests passed"
