// Makes the raw `local` chain spec the runtime-upgrade test starts from (scripts/upgrade-base.sh
// runs it): the genesis of this checkout's `local` preset, less what the earlier runtime does not
// have (the validator set and its session keys), with Aura's and GRANDPA's authorities set as
// that runtime's preset set them, and the earlier runtime's Wasm as the code. The earlier
// runtime builds the genesis state (`build-spec --raw` runs its GenesisBuilder), so the chain
// starts as one launched with that release would have.
//
//   node zombienet/js/upgrade-base-spec.js <verity-node> <runtime.wasm> <out.json>

const fs = require("fs");
const os = require("os");
const path = require("path");
const { execFileSync } = require("child_process");
const { Keyring } = require("@polkadot/keyring");
const { cryptoWaitReady } = require("@polkadot/util-crypto");

async function main() {
	const [node, wasmPath, out] = process.argv.slice(2);
	if (!node || !wasmPath || !out) throw new Error("usage: upgrade-base-spec.js <verity-node> <runtime.wasm> <out.json>");
	await cryptoWaitReady();
	const build = (args) => execFileSync(node, ["build-spec", ...args, "--disable-default-bootnode"], { maxBuffer: 1 << 30, stdio: ["ignore", "pipe", "pipe"] });
	const spec = JSON.parse(build(["--chain", "local"]));
	const genesis = spec.genesis && spec.genesis.runtimeGenesis;
	const patch = genesis && (genesis.patch || genesis.config);
	if (!patch) throw new Error("the node's `local` spec has no runtimeGenesis patch");
	for (const gone of ["session", "validatorSet"]) {
		if (!(gone in patch)) throw new Error(`the \`local\` preset has no \`${gone}\`: is this the runtime upgrade-base.sh expects?`);
		delete patch[gone];
	}
	const names = ["Alice", "Bob", "Charlie"];
	const sr = new Keyring({ type: "sr25519", ss58Format: 42 });
	const ed = new Keyring({ type: "ed25519", ss58Format: 42 });
	patch.aura = { authorities: names.map((n) => sr.addFromUri(`//${n}`).address) };
	patch.grandpa = { authorities: names.map((n) => [ed.addFromUri(`//${n}`).address, 1]) };
	genesis.code = "0x" + fs.readFileSync(wasmPath).toString("hex");
	genesis.patch = patch;
	delete genesis.config;

	const plain = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "verity-upgrade-")), "plain.json");
	fs.writeFileSync(plain, JSON.stringify(spec));
	try {
		fs.writeFileSync(out, build(["--chain", plain, "--raw"]));
	} finally {
		fs.rmSync(path.dirname(plain), { recursive: true, force: true });
	}
}

main().catch((e) => {
	console.error(`upgrade-base-spec: ${e.message}${e.stderr ? `\n${e.stderr}` : ""}`);
	process.exit(1);
});
