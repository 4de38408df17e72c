#!/usr/bin/env bash
# Prints the determinism report of docs/determinism.md: every bundled model under every session
# setting the engine could vary, compared bit for bit and by result hash with the defaults.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

[ -f "$ORT_DYLIB_PATH" ] || fail "ONNX Runtime not found at $ORT_DYLIB_PATH: run scripts/setup.sh"
build_all
step "determinism report (ONNX Runtime $ORT_VERSION, $(nproc) cores, $(uname -m))"
"$CARGO_TARGET_DIR/release/examples/determinism" "$VERITY_ROOT/models"
