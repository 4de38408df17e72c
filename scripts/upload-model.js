#!/usr/bin/env node
// Publishes an ONNX model on a Verity chain: claims its id, registers it with its metadata once
// the claim is old enough, uploads its bytes in chunks with a progress bar, and waits until the
// chain says ModelReady (or refuses it).
//
//   node scripts/upload-model.js <model.onnx> <metadata.json> [--url ws://127.0.0.1:9944] [--suri //Alice]
//
// metadata.json (see models/extra/wide_mlp.metadata.json):
//   { "name": "...", "version": "1.0.0", "description": "...", "opset": 17,
//     "inputs":  [{ "name": "x", "dtype": "f32", "shape": [null, 4] }],   (null: dynamic)
//     "outputs": [{ "name": "y", "dtype": "f32", "shape": [null, 3] }],
//     "outputDecimals": 6, "tolerance": 2, "fee": "10000000000",
//     "hosting": "onChain"  or  { "uris": ["https://..."] },
//     "limits": { "cpuMillis": 50, "memoryMib": 256 } }
//
// "limits" is what one inference may use on the reference validator (CPU time, and memory with
// the model loaded): executors stop a job past either and report a resource failure. Declare
// about ten times what the model takes on your machine; the chain's bounds are in
// api.consts.modelRegistry.maxModelCpuMillis / maxModelMemoryMib. Without "limits" the tool
// declares DEFAULT_LIMITS below.
//
// The claim (modelRegistry.claimModel) commits to the id and the account without showing the id,
// and registration must wait `claimDelay` blocks after it (3 on Verity's chains, 9 s): no one
// who sees the registration in the transaction pool can claim the id first. The tool prints the
// block it registers at; a claim already made (an interrupted run, or `claimModels` for many
// models at once) is used.
//
// A model already registered and still uploading is resumed: only its missing chunks are sent.
// Exit status: 0 when the model is ready, 1 when the chain refuses it or anything fails.
// Node.js packages come from zombienet/ (scripts/setup.sh installs them).

"use strict";

const fs = require("fs");
const { requireJs, DTYPES, dispatchErrorText } = require("./lib/chain.js");

const { ApiPromise, WsProvider, Keyring } = requireJs("@polkadot/api");
const { blake2AsHex, blake2AsU8a, cryptoWaitReady } = requireJs("@polkadot/util-crypto");
const { u8aToHex, u8aConcat, stringToU8a, hexToU8a } = requireJs("@polkadot/util");

class UploadError extends Error {}

/** Limits declared for a model whose metadata names none. */
const DEFAULT_LIMITS = { cpuMillis: 1000, memoryMib: 512 };

function parseArgs(argv) {
	const options = { url: "ws://127.0.0.1:9944", suri: "//Alice", files: [] };
	for (let i = 0; i < argv.length; i++) {
		const arg = argv[i];
		if (arg === "--url" || arg === "--suri") {
			if (i + 1 >= argv.length) throw new UploadError(`${arg} needs a value`);
			options[arg.slice(2)] = argv[++i];
		} else if (arg === "-h" || arg === "--help") {
			options.help = true;
		} else {
			options.files.push(arg);
		}
	}
	return options;
}

function specs(list, what) {
	if (!Array.isArray(list)) throw new UploadError(`metadata: "${what}" must be a list`);
	return list.map((t, i) => {
		const dtype = DTYPES[t.dtype];
		if (!dtype) throw new UploadError(`metadata: ${what}[${i}].dtype must be one of ${Object.keys(DTYPES).join(", ")}`);
		if (!Array.isArray(t.shape)) throw new UploadError(`metadata: ${what}[${i}].shape must be a list`);
		return {
			name: t.name,
			dtype,
			shape: t.shape.map((d) => (d === null ? { Dynamic: null } : { Fixed: d })),
		};
	});
}

/** The extrinsic's metadata argument from the friendlier JSON file. */
function chainMetadata(meta, size) {
	for (const key of ["name", "version", "opset", "inputs", "outputs"]) {
		if (meta[key] === undefined) throw new UploadError(`metadata: "${key}" is missing`);
	}
	let hosting;
	if (meta.hosting === undefined || meta.hosting === "onChain") {
		hosting = { OnChain: { size } };
	} else if (meta.hosting && Array.isArray(meta.hosting.uris)) {
		hosting = { Uris: { size, uris: meta.hosting.uris } };
	} else {
		throw new UploadError('metadata: "hosting" must be "onChain" or { "uris": [...] }');
	}
	return {
		name: meta.name,
		version: meta.version,
		description: meta.description || "",
		format: { Onnx: { opset: meta.opset } },
		inputs: specs(meta.inputs, "inputs"),
		outputs: specs(meta.outputs, "outputs"),
		outputDecimals: meta.outputDecimals ?? 6,
		tolerance: meta.tolerance ?? 0,
		fee: meta.fee ?? 0,
		hosting,
		limits: limits(meta.limits ?? DEFAULT_LIMITS),
	};
}

function limits(l) {
	for (const key of ["cpuMillis", "memoryMib"]) {
		if (!Number.isInteger(l[key]) || l[key] <= 0) {
			throw new UploadError(`metadata: limits.${key} must be a positive whole number`);
		}
	}
	return { cpuMillis: l.cpuMillis, memoryMib: l.memoryMib };
}

/** Sends `tx` and resolves with its events once in a block; rejects with the error name. */
function send(api, tx, signer, nonce) {
	return new Promise((resolve, reject) => {
		tx.signAndSend(signer, { nonce }, ({ status, events, dispatchError }) => {
			if (status.isInBlock || status.isFinalized) {
				if (dispatchError) reject(new UploadError(dispatchErrorText(api, dispatchError)));
				else resolve(events.map((e) => e.event));
			} else if (status.isDropped || status.isInvalid || status.isUsurped) {
				reject(new UploadError(`transaction ${status.type}`));
			}
		}).catch((e) => reject(new UploadError(e.message)));
	});
}

/** What a claim of model `id` (hex) by `signer` commits to: the runtime's `claim_commitment`. */
function claimCommitment(id, signer) {
	return blake2AsU8a(u8aConcat(stringToU8a("verity/model-claim"), hexToU8a(id), signer.publicKey), 256);
}

/**
 * Claims `id` for `signer` (or finds the claim an earlier run made), then waits until a
 * registration sent now lands in a block at least `claimDelay` blocks after the claim.
 */
async function claim(api, id, signer, log) {
	const commitment = claimCommitment(id, signer);
	const existing = await api.query.modelRegistry.claims(signer.address, commitment);
	let from;
	if (existing.isSome) {
		from = existing.unwrap().at.toNumber() + api.consts.modelRegistry.claimDelay.toNumber();
		log(`claimed already; registering from block ${from}`);
	} else {
		const nonce = await api.rpc.system.accountNextIndex(signer.address);
		const events = await send(api, api.tx.modelRegistry.claimModel(commitment), signer, nonce);
		from = events.find((e) => api.events.modelRegistry.ModelClaimed.is(e)).data.from.toNumber();
		log(`claimed (${u8aToHex(commitment)}); registering from block ${from}`);
	}
	// The registration goes into a block after the best one.
	for (;;) {
		const best = (await api.rpc.chain.getHeader()).number.toNumber();
		if (best + 1 >= from) return;
		await new Promise((resolve) => setTimeout(resolve, 1000));
	}
}

/**
 * Claims the ids of the models `models` (their bytes) for the account `suri`, all in one go, so
 * that uploading them one after another waits `claimDelay` blocks once rather than for each.
 * Skips ids registered or claimed already; resolves once every claim is in a block.
 */
async function claimModels({ url, suri, models }) {
	await cryptoWaitReady();
	const signer = new Keyring({ type: "sr25519" }).addFromUri(suri);
	const api = await ApiPromise.create({ provider: new WsProvider(url), noInitWarn: true });
	try {
		let nonce = (await api.rpc.system.accountNextIndex(signer.address)).toNumber();
		const sent = [];
		for (const bytes of models) {
			const id = blake2AsHex(bytes, 256);
			const commitment = claimCommitment(id, signer);
			if ((await api.query.modelRegistry.models(id)).isSome || (await api.query.modelRegistry.claims(signer.address, commitment)).isSome) continue;
			sent.push(send(api, api.tx.modelRegistry.claimModel(commitment), signer, nonce++));
		}
		await Promise.all(sent);
	} finally {
		await api.disconnect();
	}
}

function progress(done, total, bytes) {
	const width = 30;
	const filled = Math.round((done / total) * width);
	const bar = "#".repeat(filled) + ".".repeat(width - filled);
	process.stderr.write(`\r[${bar}] ${done}/${total} chunks, ${(bytes / 1024).toFixed(0)} KiB`);
	if (done === total) process.stderr.write("\n");
}

async function upload({ url, suri, modelFile, metadataFile, log = console.log }) {
	const bytes = fs.readFileSync(modelFile);
	let meta;
	try {
		meta = JSON.parse(fs.readFileSync(metadataFile, "utf8"));
	} catch (e) {
		throw new UploadError(`${metadataFile}: ${e.message}`);
	}
	const metadata = chainMetadata(meta, bytes.length);
	await cryptoWaitReady();
	const signer = new Keyring({ type: "sr25519" }).addFromUri(suri);
	const api = await ApiPromise.create({ provider: new WsProvider(url), noInitWarn: true });
	try {
		const id = blake2AsHex(bytes, 256);
		log(`model ${id} (${bytes.length} bytes) from ${signer.address}`);
		let record = await api.query.modelRegistry.models(id);
		if (record.isNone) {
			await claim(api, id, signer, log);
			const nonce = await api.rpc.system.accountNextIndex(signer.address);
			const events = await send(api, api.tx.modelRegistry.registerModel(id, metadata), signer, nonce);
			const registered = events.find((e) => api.events.modelRegistry.ModelRegistered.is(e));
			log(`registered: deposit ${registered.data.deposit.toString()}`);
			if (events.some((e) => api.events.modelRegistry.ModelReady.is(e))) {
				log("ModelReady (hosted by URI)");
				return { id, ready: true };
			}
			record = await api.query.modelRegistry.models(id);
		} else {
			log(`already registered, status ${record.unwrap().status.toString()}`);
		}
		const status = record.unwrap().status.toString();
		if (status !== "Uploading") {
			log(status === "Retired" ? "the model is retired" : "the model is ready");
			return { id, ready: status !== "Retired" };
		}

		const chunkSize = api.consts.modelRegistry.chunkSize.toNumber();
		const total = Math.ceil(bytes.length / chunkSize);
		const missing = [];
		for (let i = 0; i < total; i++) {
			if ((await api.query.modelRegistry.chunks(id, i)).isNone) missing.push(i);
		}
		let done = total - missing.length;
		let sent = done * chunkSize;
		progress(done, total, sent);
		let nonce = (await api.rpc.system.accountNextIndex(signer.address)).toNumber();
		let outcome = null;
		await Promise.all(
			missing.map((i) => {
				const chunk = bytes.subarray(i * chunkSize, Math.min(bytes.length, (i + 1) * chunkSize));
				const tx = api.tx.modelRegistry.uploadChunk(id, i, u8aToHex(chunk));
				return send(api, tx, signer, nonce++).then((events) => {
					done += 1;
					sent += chunk.length;
					progress(done, total, sent);
					for (const e of events) {
						if (api.events.modelRegistry.ModelReady.is(e)) outcome = "ModelReady";
						if (api.events.modelRegistry.UploadRejected.is(e)) {
							outcome = `UploadRejected: the bytes hash to ${e.data.found.toHex()}`;
						}
						if (api.events.modelRegistry.ModelRefused.is(e)) {
							outcome = `ModelRefused: ${e.data.reason.toString()}`;
						}
					}
				});
			}),
		);
		if (outcome !== "ModelReady") throw new UploadError(outcome || "no ModelReady event");
		log("ModelReady");
		return { id, ready: true };
	} finally {
		await api.disconnect();
	}
}

module.exports = { upload, claimModels, UploadError, DEFAULT_LIMITS, claimCommitment };

if (require.main === module) {
	let options;
	try {
		options = parseArgs(process.argv.slice(2));
	} catch (e) {
		console.error(`error: ${e.message}`);
		process.exit(1);
	}
	if (options.help || options.files.length !== 2) {
		console.error("usage: node scripts/upload-model.js <model.onnx> <metadata.json> [--url ws://127.0.0.1:9944] [--suri //Alice]");
		process.exit(options.help ? 0 : 1);
	}
	const [modelFile, metadataFile] = options.files;
	upload({ url: options.url, suri: options.suri, modelFile, metadataFile })
		.then(() => process.exit(0))
		.catch((e) => {
			console.error(`error: ${e.message}`);
			process.exit(1);
		});
}
