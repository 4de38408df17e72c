#!/usr/bin/env bash
# Runs every Verity test: setup, one release build, the workspace's Rust tests, then the
# multi-node tests (zombienet, native provider, checked through @polkadot/api).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

started=$SECONDS
timing() { printf '    (%s: %ds; %ds in all)\n' "$1" "$2" "$((SECONDS - started))"; }

t=$SECONDS
bash "$VERITY_ROOT/scripts/setup.sh"
timing setup $((SECONDS - t))

t=$SECONDS
build_all
timing build $((SECONDS - t))

step "dependency check: no RocksDB in the node"
tree="$(cd "$VERITY_ROOT" && cargo tree --locked -e all -i librocksdb-sys 2>&1 || true)"
if grep -q '^librocksdb-sys' <<<"$tree"; then
	echo "$tree"
	fail "librocksdb-sys is in the dependency tree: the node must use ParityDB only"
fi
echo "librocksdb-sys: not in the dependency tree"

t=$SECONDS
step "Rust tests (workspace)"
(cd "$VERITY_ROOT" && cargo test --locked --release --workspace --no-fail-fast) || fail "Rust tests failed"
timing "Rust tests" $((SECONDS - t))

t=$SECONDS
step "runtime-upgrade test's starting point (an earlier release's runtime and chain spec)"
bash "$VERITY_ROOT/scripts/upgrade-base.sh"
export VERITY_UPGRADE_SPEC
timing "upgrade base" $((SECONDS - t))

t=$SECONDS
step "multi-node tests (zombienet)"
export VERITY_NODE
passed=0
failed=0
for test in "$VERITY_ROOT"/zombienet/tests/*.zndsl; do
	name="$(basename "$test")"
	echo "--- $name"
	if (cd "$VERITY_ROOT/zombienet" && node_modules/.bin/zombienet --provider native test "$test"); then
		passed=$((passed + 1))
	else
		echo "--- $name FAILED"
		failed=$((failed + 1))
	fi
done
timing "multi-node tests" $((SECONDS - t))

echo "multi-node: $passed passed, $failed failed"
[ "$failed" -eq 0 ] || fail "$failed multi-node test(s) failed"
