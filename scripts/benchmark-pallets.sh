#!/usr/bin/env bash
# Measures the weights of Verity's pallets with frame-benchmarking and writes each pallet's
# src/weights.rs (from scripts/benchmark/pallet-weights.hbs). Run it on the reference machine
# after changing a pallet's calls or storage, and commit the result.
#
# Usage: scripts/benchmark-pallets.sh [pallet ...]   (default: every Verity pallet)
#        STEPS=50 REPEAT=20 (the defaults) set frame-benchmarking's sampling.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

pallets=("$@")
[ ${#pallets[@]} -gt 0 ] || pallets=(model-registry inference validator-set)
build_all
cd "$VERITY_ROOT"
for pallet in "${pallets[@]}"; do
	name="pallet_${pallet//-/_}"
	step "benchmarking $name"
	"$VERITY_NODE" benchmark pallet \
		--chain dev \
		--pallet "$name" --extrinsic '*' \
		--steps "${STEPS:-50}" --repeat "${REPEAT:-20}" \
		--wasm-execution compiled \
		--template scripts/benchmark/pallet-weights.hbs \
		--output "pallets/$pallet/src/weights.rs"
done
