#!/usr/bin/env bash
# A bounded soak of the real relay: rounds of 100 concurrent requests (half
# streaming, half not) for SOAK_SECS seconds (default 180), then a check that
# the relay's resident memory in the last third of the run stayed within
# 10% + 16 MiB of its peak in the first third. It is the ignored test
# `soak_memory_stays_flat` in bins/relay-cli/tests/load.rs; CI does not run it.
#
#   bench/soak.sh                  # 3 minutes, debug build
#   SOAK_SECS=600 bench/soak.sh --release
#
# Extra arguments go to `cargo test` (e.g. --release). Linux only (reads
# /proc/PID/status).
set -euo pipefail
cd "$(dirname "$0")/.."
export SOAK_SECS="${SOAK_SECS:-180}"
exec cargo test -p relay-cli --test load "$@" -- --ignored --exact soak_memory_stays_flat --nocapture
