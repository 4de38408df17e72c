# Shared settings for the Verity scripts. Source it; do not run it.

VERITY_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Everything the scripts download or build lives outside the clone, so that a fresh clone (CI)
# reuses what an earlier run built.
VERITY_CACHE="${VERITY_CACHE:-$HOME/.cache/verity}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$VERITY_CACHE/target}"
# The ONNX Runtime shared library the node loads (installed by setup.sh).
ORT_VERSION="1.31.1"
ORT_DIR="$VERITY_CACHE/onnxruntime-$ORT_VERSION"
export ORT_DYLIB_PATH="${ORT_DYLIB_PATH:-$ORT_DIR/libonnxruntime.so.$ORT_VERSION}"
VERITY_NODE="$CARGO_TARGET_DIR/release/verity-node"
# The release the runtime-upgrade test starts from (scripts/upgrade-base.sh): spec 108, the last
# runtime without pallet-session, so that the upgrade runs `IntoSessions`. Move it forward when a
# newer release's migrations are the ones to test.
UPGRADE_BASE="9ca9edb7464732d3aac572f8263f306fc4840811"
VERITY_UPGRADE_SPEC="${VERITY_UPGRADE_SPEC:-$VERITY_CACHE/upgrade/local-$UPGRADE_BASE.json}"

# Cargo and rustup live in ~/.cargo/bin on a machine set up by rustup.
case ":$PATH:" in *":$HOME/.cargo/bin:"*) ;; *) PATH="$HOME/.cargo/bin:$PATH" ;; esac
export PATH

step() { printf '\n==> %s\n' "$*"; }
fail() {
	printf 'error: %s\n' "$*" >&2
	exit 1
}

# One build for the node, its tests and every tool: the same profile and features everywhere,
# so each dependency compiles once. VERITY_BUILD_TIMINGS=1 also writes cargo's report of where
# the build spent its time ($CARGO_TARGET_DIR/cargo-timings/cargo-timing.html).
build_all() {
	step "build (release, target dir $CARGO_TARGET_DIR)"
	local timings=()
	[ "${VERITY_BUILD_TIMINGS:-0}" = 1 ] && timings=(--timings)
	(cd "$VERITY_ROOT" && cargo build --locked --release --workspace --all-targets "${timings[@]}") ||
		fail "cargo build failed (see the errors above)"
}

# The Python packages of scripts/models/requirements.txt (numpy, onnx, onnxruntime, ...) in a
# virtualenv under $VERITY_CACHE, installed when missing or when the pins change. Sets MODELS_PY
# to its python.
models_python() {
	local venv="$VERITY_CACHE/models-venv"
	local requirements="$VERITY_ROOT/scripts/models/requirements.txt"
	local stamp="$venv/.requirements-sha256"
	local want
	want="$(sha256sum "$requirements" | cut -d' ' -f1)"
	if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
		step "installing the pinned Python packages (onnx, onnxruntime, ...) into $venv"
		python3 -m venv "$venv" || fail "could not create a Python virtualenv at $venv"
		"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" ||
			fail "pip could not install scripts/models/requirements.txt: is PyPI reachable?"
		echo "$want" >"$stamp"
	fi
	MODELS_PY="$venv/bin/python"
}
