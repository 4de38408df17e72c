#!/usr/bin/env bash
# Regenerates the bundled ONNX models and their fixtures in models/ with the pinned Python
# packages of scripts/models/requirements.txt (installed into a virtualenv under
# ~/.cache/verity). With those versions the output is byte-for-byte the committed files.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

venv="$VERITY_CACHE/models-venv"
requirements="$VERITY_ROOT/scripts/models/requirements.txt"
stamp="$venv/.requirements-sha256"
want="$(sha256sum "$requirements" | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
	step "installing the model generator's Python packages into $venv"
	python3 -m venv "$venv" || fail "could not create a Python virtualenv at $venv"
	"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" ||
		fail "pip could not install scripts/models/requirements.txt: is PyPI reachable?"
	echo "$want" >"$stamp"
fi

step "generating models/"
"$venv/bin/python" "$VERITY_ROOT/scripts/models/generate.py"
