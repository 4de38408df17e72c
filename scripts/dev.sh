#!/usr/bin/env bash
# Sets up, builds and starts a single-validator Verity development chain (Alice), with its
# JSON-RPC on ws://127.0.0.1:9944. Extra arguments go to the node, e.g. `--base-path /tmp/verity`
# to keep the chain between runs (without one the chain is thrown away when the node stops).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

bash "$VERITY_ROOT/scripts/setup.sh"
build_all

cat <<INFO

==> starting the Verity dev chain (Ctrl-C stops it)

    JSON-RPC:          ws://127.0.0.1:9944
    polkadot.js Apps:  https://polkadot.js.org/apps/?rpc=ws%3A%2F%2F127.0.0.1%3A9944#/explorer
                       (or Settings > Endpoint > Development > Local Node in any Apps)
    accounts:          Alice .. Ferdie hold 1,000,000 VRT each; Alice is the sudo key

INFO
exec "$VERITY_NODE" --dev --rpc-port 9944 "$@"
