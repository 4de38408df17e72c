#!/usr/bin/env bash
# Regenerates the bundled ONNX models and their fixtures in models/ with the pinned Python
# packages of scripts/models/requirements.txt (installed into a virtualenv under
# ~/.cache/verity). With those versions the output is byte-for-byte the committed files.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

models_python
step "generating models/"
"$MODELS_PY" "$VERITY_ROOT/scripts/models/generate.py"
