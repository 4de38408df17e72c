#!/usr/bin/env bash
# Engine latency on the bundled models, side by side with Python onnxruntime (prints numbers;
# not a test). Both use ONNX Runtime 1.31.1 from the same PyPI wheel with the same settings
# (CPU, one intra-op and one inter-op thread, sequential, basic optimisations, deterministic
# compute) and the same inputs (fixture case 0 of each model).
#
#   engine: the full path per job: SCALE-decode inputs, validate, run, canonicalise, hash
#   python: InferenceSession.run alone
#   cold:   a new session (load + first run)
#
# Usage: scripts/bench-engine.sh [iterations (default 5000)] [cold loads (default 30)]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

iterations="${1:-5000}"
cold="${2:-30}"
[ -f "$ORT_DYLIB_PATH" ] || fail "ONNX Runtime not found at $ORT_DYLIB_PATH: run scripts/setup.sh"
build_all
models_python

bench="$CARGO_TARGET_DIR/release/examples/bench"
step "engine ($iterations runs per model, $cold cold loads)"
engine_out="$("$bench" "$VERITY_ROOT/models" "$iterations" "$cold")"
step "python onnxruntime ($iterations runs per model, $cold cold loads)"
python_out="$("$MODELS_PY" "$VERITY_ROOT/scripts/bench/ort_python.py" "$VERITY_ROOT/models" "$iterations" "$cold")"

step "results (microseconds; $(nproc) cores, $(uname -m))"
"$MODELS_PY" - "$engine_out" "$python_out" <<'PY'
import json, sys
engine = {r["model"]: r for r in map(json.loads, sys.argv[1].splitlines())}
python = {r["model"]: r for r in map(json.loads, sys.argv[2].splitlines())}
print("| model | engine median | engine p99 | python run median | python run p99 | median ratio (engine/python) | engine cold load | python cold load |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for model, e in engine.items():
    p = python[model]
    print(f"| {model} | {e['median_us']:.1f} | {e['p99_us']:.1f} | {p['median_us']:.1f} | "
          f"{p['p99_us']:.1f} | {e['median_us'] / p['median_us']:.2f} | "
          f"{e['cold_median_us']:.0f} | {p['cold_median_us']:.0f} |")
PY
