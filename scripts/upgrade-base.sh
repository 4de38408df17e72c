#!/usr/bin/env bash
# Prepares the runtime-upgrade test (zombienet/tests/0007-runtime-upgrade.zndsl): the Wasm
# runtime of an earlier release, and a `local` chain spec that starts with it.
#
#   bash scripts/upgrade-base.sh     # writes $VERITY_UPGRADE_SPEC (scripts/common.sh)
#
# The earlier runtime is built from the commit UPGRADE_BASE (scripts/common.sh), once per machine: from
# its files (git archive) under $VERITY_CACHE/upgrade, with the package renamed so that its Wasm build
# does not share a directory with this checkout's (the Wasm builder names its project after the
# package), and with `cargo check`, which runs the Wasm build without compiling the runtime
# for the host. The Wasm is kept at $VERITY_CACHE/upgrade/<commit>.wasm; the spec is made again
# on every run, by this checkout's node (build the node first).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

dir="$(dirname "$VERITY_UPGRADE_SPEC")"
wasm="$dir/$UPGRADE_BASE.wasm"
spec="$VERITY_UPGRADE_SPEC"
mkdir -p "$dir"

if [ ! -s "$wasm" ]; then
	step "building the runtime of $UPGRADE_BASE (the upgrade test's starting point; once per machine)"
	(cd "$VERITY_ROOT" && git cat-file -e "$UPGRADE_BASE^{commit}" 2>/dev/null) ||
		fail "commit $UPGRADE_BASE is not in this clone's history: clone with full history (git fetch --unshallow)"
	src="$dir/src-$UPGRADE_BASE"
	if [ ! -d "$src" ]; then
		rm -rf "$src.tmp" && mkdir -p "$src.tmp"
		(cd "$VERITY_ROOT" && git archive "$UPGRADE_BASE") | tar -x -C "$src.tmp" ||
			fail "could not extract $UPGRADE_BASE"
		# A package name of its own: its Wasm project and files do not replace this checkout's.
		sed -i 's/^name = "verity-runtime"$/name = "verity-runtime-upgrade-base"/' "$src.tmp/runtime/Cargo.toml"
		sed -i 's|^verity-runtime = { path = "runtime", |verity-runtime = { path = "runtime", package = "verity-runtime-upgrade-base", |' "$src.tmp/Cargo.toml"
		grep -q 'package = "verity-runtime-upgrade-base"' "$src.tmp/Cargo.toml" ||
			fail "could not rename the runtime package in $src.tmp/Cargo.toml"
		mv "$src.tmp" "$src"
	fi
	# The lock file only renames the runtime's own entry: nothing is fetched.
	(cd "$src" && cargo check --offline --release -p verity-runtime-upgrade-base) ||
		fail "building the runtime of $UPGRADE_BASE failed (see the errors above)"
	built="$CARGO_TARGET_DIR/release/wbuild/verity-runtime-upgrade-base/verity_runtime_upgrade_base.compact.compressed.wasm"
	[ -s "$built" ] || fail "no Wasm runtime at $built"
	cp "$built" "$wasm.tmp" && mv "$wasm.tmp" "$wasm"
fi
echo "runtime of $UPGRADE_BASE: $wasm ($(stat -c %s "$wasm") bytes)"

[ -x "$VERITY_NODE" ] || fail "no node at $VERITY_NODE: build it first (cargo build --release, or scripts/test.sh)"
(cd "$VERITY_ROOT/zombienet" && node js/upgrade-base-spec.js "$VERITY_NODE" "$wasm" "$spec.tmp") ||
	fail "could not make the chain spec of $UPGRADE_BASE"
mv "$spec.tmp" "$spec"
echo "chain spec starting with it: $spec"
