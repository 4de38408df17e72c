#!/usr/bin/env node
// Example dApp: submits an inference job on a Verity chain, waits for its result, and prints the
// outputs and the result hash.
//
//   node scripts/submit-job.js <model id> <inputs.json> [--committee 1] [--url ws://127.0.0.1:9944] [--suri //Alice]
//
// inputs.json: a list of JSON tensors, e.g. [{"name":"x","dtype":"f32","shape":[1,4],"data":[0.1,0.2,0.3,0.4]}]
// (or a fixture file from models/: the first case's inputs are used).
// Exit status: 0 when the job completes, 1 when it fails or anything goes wrong.
// Node.js packages come from zombienet/ (scripts/setup.sh installs them).

"use strict";

const fs = require("fs");
const { requireJs, chainTensor, dispatchErrorText } = require("./lib/chain.js");

const { ApiPromise, WsProvider, Keyring } = requireJs("@polkadot/api");
const { cryptoWaitReady } = requireJs("@polkadot/util-crypto");

// The canonical outcome validators agree on (verity_primitives::canonical), for decoding.
const TYPES = {
	VerityDType: { _enum: ["F32", "F64", "I64", "I32", "I8", "U8", "Bool"] },
	VerityCanonicalData: { _enum: { Fixed: "Vec<i64>", Raw: "Bytes" } },
	VerityCanonicalTensor: { name: "Bytes", dtype: "VerityDType", shape: "Vec<u32>", data: "VerityCanonicalData" },
	VerityErrorCode: {
		_enum: [
			"InvalidModel", "InvalidInput", "InputTooLarge", "Timeout", "ExecutionFailed", "NonFiniteOutput",
			"OutputOverflow", "UnsupportedOutputType", "MalformedOutput", "InvalidDecimals", "OutputTooLarge",
		],
	},
	VerityOutcome: { _enum: { Success: "Vec<VerityCanonicalTensor>", Failure: "VerityErrorCode" } },
};

function fail(message) {
	console.error(`error: ${message}`);
	process.exit(1);
}

function parseArgs(argv) {
	const options = { url: "ws://127.0.0.1:9944", suri: "//Alice", committee: 1, files: [] };
	for (let i = 0; i < argv.length; i++) {
		const arg = argv[i];
		if (["--url", "--suri", "--committee"].includes(arg)) {
			if (i + 1 >= argv.length) fail(`${arg} needs a value`);
			options[arg.slice(2)] = argv[++i];
		} else {
			options.files.push(arg);
		}
	}
	options.committee = Number(options.committee);
	if (!Number.isInteger(options.committee) || options.committee < 1) fail("--committee must be a positive integer");
	return options;
}

/** Integer and bool outputs from their little-endian bytes. */
function rawValues(dtype, bytes) {
	const copy = new Uint8Array(bytes).buffer;
	switch (dtype) {
		case "I64": return Array.from(new BigInt64Array(copy), (v) => Number(v));
		case "I32": return Array.from(new Int32Array(copy));
		case "I8": return Array.from(new Int8Array(copy));
		case "Bool": return Array.from(bytes, (b) => b !== 0);
		default: return Array.from(bytes);
	}
}

function readInputs(file) {
	let json;
	try {
		json = JSON.parse(fs.readFileSync(file, "utf8"));
	} catch (e) {
		fail(`${file}: ${e.message}`);
	}
	if (json && Array.isArray(json.cases)) json = json.cases[0].inputs;
	if (!Array.isArray(json)) fail(`${file}: expected a list of tensors`);
	return json;
}

async function main() {
	const options = parseArgs(process.argv.slice(2));
	if (options.files.length !== 2) {
		fail("usage: node scripts/submit-job.js <model id> <inputs.json> [--committee 1] [--url ws://127.0.0.1:9944] [--suri //Alice]");
	}
	const [model, inputsFile] = options.files;
	if (!/^0x[0-9a-fA-F]{64}$/.test(model)) fail(`model id must be 0x followed by 64 hex digits, got ${model}`);
	const inputs = readInputs(inputsFile).map(chainTensor);
	await cryptoWaitReady();
	const signer = new Keyring({ type: "sr25519" }).addFromUri(options.suri);
	const api = await ApiPromise.create({ provider: new WsProvider(options.url), noInitWarn: true, types: TYPES });
	try {
		const quote = await api.call.inferenceApi.feeEstimate(model, options.committee);
		if (quote.isNone) fail(`model ${model} is not registered or not runnable`);
		const record = (await api.query.modelRegistry.models(model)).unwrap();
		const decimals = record.metadata.outputDecimals.toNumber();
		console.log(`model ${record.metadata.name.toUtf8()} ${record.metadata.version.toUtf8()}, committee ${options.committee}, fee ${quote.unwrap().toString()}`);

		const unsubscribeEvents = [];
		const done = new Promise((resolve, reject) => {
			let job = null;
			api.tx.inference
				.submitJob(model, inputs, options.committee, quote.unwrap())
				.signAndSend(signer, ({ status, events, dispatchError }) => {
					if (dispatchError) {
						reject(new Error(dispatchErrorText(api, dispatchError)));
					} else if (status.isInBlock && job === null) {
						const e = events.find(({ event }) => api.events.inference.JobSubmitted.is(event));
						job = e.event.data.job.toNumber();
						console.log(`job ${job} in block ${status.asInBlock.toHex()}, its committee drawn at block ${e.event.data.drawAt.toString()}`);
						console.log(`storage deposit ${e.event.data.deposit.toString()} held until the job is pruned`);
					}
				})
				.catch(reject);
			api.query.system
				.events((events) => {
					for (const { event } of events) {
						if (job === null || !event.data.job || event.data.job.toNumber() !== job) continue;
						if (api.events.inference.CommitteeDrawn.is(event)) console.log(`committee ${event.data.committee.join(", ")}, committing until block ${event.data.due.toString()}`);
						if (api.events.inference.RevealPhase.is(event)) console.log("all commits in: reveal phase");
						if (api.events.inference.JobCompleted.is(event)) resolve(event.data);
						if (api.events.inference.JobFailed.is(event)) reject(new Error(`JobFailed: ${event.data.reason.toString()}`));
					}
				})
				.then((u) => unsubscribeEvents.push(u), reject);
		});
		const result = await done;
		unsubscribeEvents.forEach((u) => u());
		console.log(`result hash ${result.resultHash.toHex()}`);
		const view = (await api.call.inferenceApi.job(job)).unwrap();
		if (view.isFinal.isTrue) console.log("final");
		else if (view.challengeUntil.isSome) console.log(`provisional: anyone may challenge it (inference.challenge) until block ${view.challengeUntil.unwrap().toString()}, then it is final`);
		if (result.output.isSome) {
			const outcome = api.createType("VerityOutcome", result.output.unwrap());
			for (const t of outcome.asSuccess) {
				const values = t.data.isFixed
					? t.data.asFixed.map((v) => Number(v.toBigInt()) / 10 ** decimals)
					: rawValues(t.dtype.toString(), t.data.asRaw.toU8a(true));
				console.log(JSON.stringify({ name: t.name.toUtf8(), dtype: t.dtype.toString().toLowerCase(), shape: t.shape.map((d) => d.toNumber()), data: values }));
			}
		} else {
			console.log("(the outcome is larger than the on-chain bound: run inference_simulate for the values)");
		}
	} finally {
		await api.disconnect();
	}
}

main().then(
	() => process.exit(0),
	(e) => fail(e.message),
);
