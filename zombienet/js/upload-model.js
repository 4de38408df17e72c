// The model owner's path, through scripts/upload-model.js and @polkadot/api: a model that is not
// in genesis (models/extra/wide_mlp.onnx, 5 chunks) is registered and uploaded until ModelReady;
// its record reads back with the declared metadata, owner and deposit, and Bob's node serves
// it from its on-chain chunks to inference_simulate; a registration without a claim of the id,
// and a malformed one, are refused with the error name polkadot.js shows.
//
// zombienet calls `run(nodeName, networkInfo)` and fails the test when it throws.

const fs = require("fs");
const os = require("os");
const path = require("path");
const { check, send } = require("./common.js");
const { ApiPromise, WsProvider, Keyring } = require("@polkadot/api");
const { blake2AsHex } = require("@polkadot/util-crypto");
const { upload } = require("../../scripts/upload-model.js");

const ROOT = path.join(__dirname, "..", "..");
const MODEL = path.join(ROOT, "models", "extra", "wide_mlp.onnx");
const METADATA = path.join(ROOT, "models", "extra", "wide_mlp.metadata.json");
const ALICE = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";

async function run(nodeName, networkInfo) {
	const { wsUri } = networkInfo.nodesByName[nodeName];
	const logs = [];
	const { id, ready } = await upload({
		url: wsUri,
		suri: "//Alice",
		modelFile: MODEL,
		metadataFile: METADATA,
		log: (line) => logs.push(line),
	});
	check(ready && logs.includes("ModelReady"), `no ModelReady: ${logs.join(" | ")}`);
	check(logs.some((line) => line.startsWith("claimed (")), `the tool claimed the id first: ${logs.join(" | ")}`);

	const api = await ApiPromise.create({ provider: new WsProvider(wsUri), noInitWarn: true });
	try {
		const record = (await api.query.modelRegistry.models(id)).unwrap();
		check(record.status.toString() === "Active", `status ${record.status}`);
		check(record.owner.toString() === ALICE, `owner ${record.owner}`);
		check(record.metadata.name.toUtf8() === "wide_mlp", `name ${record.metadata.name}`);
		const meta = record.metadata.toJSON();
		check(meta.outputDecimals === 6, `output decimals ${meta.outputDecimals}`);
		check(meta.hosting.onChain.size === fs.statSync(MODEL).size, `hosting ${JSON.stringify(meta.hosting)}`);
		const expectedDeposit = api.consts.modelRegistry.depositBase
			.toBigInt() +
			api.consts.modelRegistry.depositPerByte.toBigInt() *
				BigInt(record.metadata.encodedLength + fs.statSync(MODEL).size);
		check(record.deposit.toBigInt() === expectedDeposit, `deposit ${record.deposit}`);
		const versions = await api.call.modelRegistryApi.versions(ALICE, "wide_mlp");
		check(versions.length === 1 && versions[0].toHex() === id, `versions ${versions}`);

		// An id registered with no claim of the caller's: refused.
		const bobAccount = new Keyring({ type: "sr25519" }).addFromUri("//Bob");
		const unclaimed = await send(api, api.tx.modelRegistry.registerModel(blake2AsHex("never claimed"), record.metadata), bobAccount).then(
			() => null,
			(e) => e.message,
		);
		check(unclaimed === "modelRegistry.registerModel: modelRegistry.ClaimNotFound", `unclaimed registration: ${unclaimed}`);

		// Another validator runs it from the chain's chunks.
		const bob = new WsProvider(networkInfo.nodesByName.bob.wsUri);
		await bob.isReady;
		const x = { name: "x", dtype: "f32", shape: [2, 4], data: [0.1, 0.2, 0.3, 0.4, -1, 0, 1, 2] };
		const result = await bob.send("inference_simulate", [id, [x]]);
		await bob.disconnect();
		check(Array.isArray(result.outcome.success), `simulate: ${JSON.stringify(result)}`);
		const probabilities = result.outputs[0].data;
		check(probabilities.length === 6, `outputs ${JSON.stringify(result.outputs)}`);
		const sum = probabilities[0] + probabilities[1] + probabilities[2];
		check(Math.abs(sum - 1) < 1e-5, `softmax rows sum to 1, got ${sum}`);
	} finally {
		await api.disconnect();
	}

	// A malformed registration: the error polkadot.js names, and nothing registered.
	const bad = JSON.parse(fs.readFileSync(METADATA, "utf8"));
	bad.outputDecimals = 19;
	const badFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "verity-")), "bad.json");
	fs.writeFileSync(badFile, JSON.stringify(bad));
	const refused = await upload({
		url: wsUri,
		suri: "//Alice",
		modelFile: path.join(ROOT, "models", "faulty", "nan_output.onnx"),
		metadataFile: badFile,
		log: () => {},
	}).then(
		() => null,
		(e) => e.message,
	);
	check(refused && refused.startsWith("modelRegistry.InvalidDecimals"), `refused with: ${refused}`);
	return 1;
}

module.exports = { run };
