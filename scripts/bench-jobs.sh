#!/usr/bin/env bash
# Jobs on the 3-validator network (zombienet, native provider; prints numbers, not a test). Each
# load runs `repeats` times, and every transaction sent is accounted for (refused by the pool with
# its reason, included and dispatched or failed with its error, never included):
#   latency:   jobs submitted one per block, committee 3: blocks and seconds from the block that
#              includes `submit_job` to the block that finishes it (median, p95);
#   burst:     linear_regressor jobs at once, committee 3: completed jobs per block;
#   sustained: linear_regressor jobs sent on every block: submitted and completed per block;
#   hostile:   one job on a hostile model (models/hostile/) and two honest ones on every block:
#              the honest jobs' latency.
#
# Usage: scripts/bench-jobs.sh [latency jobs (20)] [burst jobs (1500)] [sustained jobs per block (0)]
#                              [sustained blocks (15)] [hostile blocks (0)] [repeats (2)]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

latency_jobs="${1:-20}"
burst_jobs="${2:-1500}"
per_block="${3:-0}"
blocks="${4:-15}"
hostile_blocks="${5:-0}"
repeats="${6:-2}"
[ -f "$ORT_DYLIB_PATH" ] || fail "ONNX Runtime not found at $ORT_DYLIB_PATH: run scripts/setup.sh"
[ -x "$VERITY_ROOT/zombienet/node_modules/.bin/zombienet" ] || fail "zombienet is not installed: run scripts/setup.sh"
build_all
export VERITY_NODE="$CARGO_TARGET_DIR/release/verity-node"

network="$(mktemp -d "${TMPDIR:-/tmp}/verity-bench-jobs.XXXXXX")"
step "starting the 3-validator network (files in $network)"
# In a process group of its own (its id is zombienet's), so that stopping it stops exactly the
# processes it started: the nodes, and their inference workers.
(cd "$VERITY_ROOT/zombienet" &&
	exec setsid node_modules/.bin/zombienet --provider native --logType silent --force --dir "$network/net" \
		spawn networks/local-3-validators.toml) >"$network/zombienet.log" 2>&1 &
zombienet=$!
stop() {
	kill -INT "$zombienet" 2>/dev/null || true
	for _ in $(seq 1 20); do
		kill -0 "$zombienet" 2>/dev/null || break
		sleep 0.5
	done
	kill -KILL -- "-$zombienet" 2>/dev/null || true
	wait "$zombienet" 2>/dev/null || true
}
trap stop EXIT
for _ in $(seq 1 120); do
	[ -f "$network/net/zombie.json" ] && break
	kill -0 "$zombienet" 2>/dev/null || fail "zombienet stopped: $(tail -5 "$network/zombienet.log")"
	sleep 1
done
[ -f "$network/net/zombie.json" ] || fail "the network did not start within 120 s (see $network/zombienet.log)"

step "benchmark ($(nproc) cores, 3 validators on this machine)"
node "$VERITY_ROOT/scripts/bench/bench-jobs.js" "$network/net/zombie.json" "$latency_jobs" "$burst_jobs" \
	"$per_block" "$blocks" "$hostile_blocks" "$repeats"
