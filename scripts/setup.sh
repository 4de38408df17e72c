#!/usr/bin/env bash
# Installs what building and testing Verity needs. Safe to run again: steps already done are
# skipped. Each step says what it does, and a failing step says which one failed.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

CURRENT_STEP=""
trap 'rc=$?; if [ $rc -ne 0 ] && [ -n "$CURRENT_STEP" ]; then echo "setup.sh: step \"$CURRENT_STEP\" failed (exit $rc)" >&2; fi' EXIT
begin() {
	CURRENT_STEP="$1"
	step "setup: $1"
}

APT_PACKAGES=(build-essential clang pkg-config protobuf-compiler git curl unzip python3-pip)

begin "Debian packages (${APT_PACKAGES[*]})"
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "all installed"
else
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO="sudo"
	echo "installing: ${missing[*]}"
	$SUDO apt-get update -qq || fail "apt-get update failed: is the Debian package mirror reachable?"
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" ||
		fail "apt-get install ${missing[*]} failed"
fi

begin "Rust toolchain: wasm32 target and rust-src"
command -v rustup >/dev/null || fail "rustup not found: install Rust from https://rustup.rs first"
installed_targets="$(rustup target list --installed)"
if grep -qx wasm32-unknown-unknown <<<"$installed_targets"; then
	echo "wasm32-unknown-unknown present"
else
	rustup target add wasm32-unknown-unknown || fail "rustup could not add wasm32-unknown-unknown"
fi
if rustup component list --installed | grep -q '^rust-src'; then
	echo "rust-src present"
else
	rustup component add rust-src || fail "rustup could not add rust-src"
fi

begin "ONNX Runtime $ORT_VERSION shared library (from the onnxruntime wheel on PyPI)"
if [ -f "$ORT_DIR/libonnxruntime.so.$ORT_VERSION" ]; then
	echo "present at $ORT_DIR"
else
	tmp="$(mktemp -d)"
	python3 -m pip download --quiet --retries 2 --timeout 20 --no-deps --only-binary=:all: \
		--platform manylinux_2_28_x86_64 --python-version 3.11 \
		"onnxruntime==$ORT_VERSION" -d "$tmp" ||
		fail "could not download onnxruntime==$ORT_VERSION from PyPI: is PyPI reachable?"
	wheel="$(ls "$tmp"/onnxruntime-*.whl)"
	mkdir -p "$tmp/unpacked" "$ORT_DIR"
	python3 -m zipfile -e "$wheel" "$tmp/unpacked" || fail "could not unpack $wheel"
	cp "$tmp/unpacked/onnxruntime/capi/libonnxruntime.so.$ORT_VERSION" "$ORT_DIR/" ||
		fail "the wheel has no libonnxruntime.so.$ORT_VERSION"
	ln -sf "libonnxruntime.so.$ORT_VERSION" "$ORT_DIR/libonnxruntime.so"
	rm -rf "$tmp"
	echo "installed at $ORT_DIR"
fi

begin "Node.js packages for multi-node tests (zombienet/package-lock.json)"
command -v npm >/dev/null || fail "npm not found: install Node.js 20 or later"
lock="$VERITY_ROOT/zombienet/package-lock.json"
stamp="$VERITY_ROOT/zombienet/node_modules/.verity-lock-sha256"
want="$(sha256sum "$lock" | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
	echo "up to date"
else
	(cd "$VERITY_ROOT/zombienet" && npm ci --no-audit --no-fund --loglevel=error) ||
		fail "npm ci failed: is the npm registry reachable?"
	echo "$want" >"$stamp"
fi

CURRENT_STEP=""
step "setup: done"
