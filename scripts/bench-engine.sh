#!/usr/bin/env bash
# Engine latency on the bundled models, side by side with Python onnxruntime (prints numbers;
# not a test). Both use ONNX Runtime 1.31.1 from the same PyPI wheel with the same settings
# (CPU, one intra-op and one inter-op thread, sequential, basic optimisations, deterministic
# compute) and the same inputs (fixture case 0 of each model).
#
#   engine: the full path per job in one process: SCALE-decode inputs, validate, run,
#           canonicalise, hash
#   worker: the same in an inference worker process, across its pipe (what a node runs)
#   queue:  the worker through the node's inference queue
#   python: InferenceSession.run alone
#   cold:   a new session (load + first run)
#
# The two sides run one after the other in each of `rounds` rounds, so that a burst of machine
# noise shows as one odd round rather than a skewed ratio; the ratio is printed per round.
#
# Usage: scripts/bench-engine.sh [iterations per round (default 3000)] [cold loads (default 20)]
#                                [rounds (default 3)]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

iterations="${1:-3000}"
cold="${2:-20}"
rounds="${3:-3}"
[ -f "$ORT_DYLIB_PATH" ] || fail "ONNX Runtime not found at $ORT_DYLIB_PATH: run scripts/setup.sh"
build_all
models_python

bench="$CARGO_TARGET_DIR/release/examples/bench"
worker="$CARGO_TARGET_DIR/release/verity-inference-worker"
engine_out=""
python_out=""
for round in $(seq 1 "$rounds"); do
	step "round $round/$rounds: engine ($iterations runs per model and path, $cold cold loads)"
	engine_out+="$("$bench" "$VERITY_ROOT/models" "$iterations" "$cold" "$worker" | sed "s/^{/{\"round\":$round,/")"$'\n'
	step "round $round/$rounds: python onnxruntime ($iterations runs per model, $cold cold loads)"
	python_out+="$("$MODELS_PY" "$VERITY_ROOT/scripts/bench/ort_python.py" "$VERITY_ROOT/models" "$iterations" "$cold" | sed "s/^{/{\"round\":$round,/")"$'\n'
done

step "results (microseconds; $(nproc) cores, $(uname -m))"
"$MODELS_PY" - "$engine_out" "$python_out" <<'PY'
import json, statistics, sys
engine = [json.loads(l) for l in sys.argv[1].splitlines() if l.strip()]
python = {(r["round"], r["model"]): r for r in (json.loads(l) for l in sys.argv[2].splitlines() if l.strip())}
print("| round | model | engine median | engine p99 | worker median | worker p99 | queue median | queue p99 | worker − engine (median) | python run median | python run p99 | engine / python (median) | engine cold load | python cold load |")
print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
by_model = {}
for e in engine:
    p = python[(e["round"], e["model"])]
    boundary = e["worker_median_us"] - e["median_us"]
    ratio = e["median_us"] / p["median_us"]
    by_model.setdefault(e["model"], []).append((boundary, ratio, e["queue_median_us"] - e["median_us"]))
    print(f"| {e['round']} | {e['model']} | {e['median_us']:.1f} | {e['p99_us']:.1f} | "
          f"{e['worker_median_us']:.1f} | {e['worker_p99_us']:.1f} | {e['queue_median_us']:.1f} | "
          f"{e['queue_p99_us']:.1f} | {boundary:.1f} | {p['median_us']:.1f} | {p['p99_us']:.1f} | "
          f"{ratio:.2f} | {e['cold_median_us']:.0f} | {p['cold_median_us']:.0f} |")
print()
print("| model | process boundary (worker − engine, median of rounds) | queue − engine (median of rounds) | engine / python per round |")
print("|---|---:|---:|---|")
for model, rows in by_model.items():
    print(f"| {model} | {statistics.median(r[0] for r in rows):.1f} | {statistics.median(r[2] for r in rows):.1f} | "
          + ", ".join(f"{r[1]:.2f}" for r in rows) + " |")
PY
