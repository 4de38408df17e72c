// Shared by the zombienet js scripts.

const fs = require("fs");
const path = require("path");
const { chainTensor } = require("../../scripts/lib/chain.js");
const { ApiPromise, WsProvider } = require("@polkadot/api");

const ROOT = path.join(__dirname, "..", "..");

/** Fails the zombienet step with `message` unless `condition` holds. */
function check(condition, message) {
	if (!condition) throw new Error(message);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A bundled model's Python onnxruntime fixture (`models/<name>.fixtures.json`). */
function fixture(name) {
	return JSON.parse(fs.readFileSync(path.join(ROOT, "models", `${name}.fixtures.json`)));
}

/**
 * `n` jobs of committee 3 over the bundled models named in `models` and their fixture inputs,
 * taken in turn: each `{ fx, case, model, inputs, committee }` (`fx` the model's fixture,
 * `case` the fixture case whose inputs it runs).
 */
function fixtureJobs(models, n) {
	const fixtures = models.map(fixture);
	return Array.from({ length: n }, (_, i) => {
		const fx = fixtures[i % fixtures.length];
		const c = fx.cases[Math.floor(i / fixtures.length) % fx.cases.length];
		return { fx, case: c, model: fx.model_id, inputs: c.inputs, committee: 3 };
	});
}

/**
 * Waits until job `id` has its committee (it is drawn `drawDelay` blocks after submission),
 * or `seconds` pass (then throws). Resolves to the members' addresses.
 */
async function waitForDraw(api, id, seconds = 60) {
	const deadline = Date.now() + seconds * 1000;
	for (;;) {
		// None until the node's best block has the job.
		const view = await api.call.inferenceApi.job(id);
		if (view.isSome && view.unwrap().phase.toString() !== "Draw") return view.unwrap().committee.map((m) => m.toString());
		check(Date.now() < deadline, `job ${id} had no committee within ${seconds} s`);
		await sleep(500);
	}
}

/**
 * Submits `jobs` ({ model: id, inputs: JSON tensors, committee }) from `signer` at once, each
 * with its quoted fee as the most it pays. Resolves when all are in blocks and (unless `draw` is
 * false) drawn, to the
 * jobs with `id`, `quote`, `deposit` (the storage deposit held until the job is pruned),
 * `block` (where `submit_job` was included) and `members` (the committee drawn), and the
 * transaction fees paid.
 */
async function submitJobs(api, signer, jobs, { draw = true } = {}) {
	let nonce = (await api.rpc.system.accountNextIndex(signer.address)).toNumber();
	let txFees = 0n;
	const submitted = await Promise.all(
		jobs.map(async (job) => {
			const quote = (await api.call.inferenceApi.feeEstimate(job.model, job.committee)).unwrap().toBigInt();
			return new Promise((resolve, reject) => {
				api.tx.inference
					.submitJob(job.model, job.inputs.map(chainTensor), job.committee, quote)
					.signAndSend(signer, { nonce: nonce++ }, ({ status, events, dispatchError }) => {
						if (dispatchError) reject(new Error(`submit_job: ${dispatchError.toString()}`));
						else if (status.isInvalid || status.isDropped || status.isUsurped) reject(new Error(`submit_job: ${status.type}`));
						else if (status.isInBlock) {
							const e = events.find(({ event }) => api.events.inference.JobSubmitted.is(event));
							const paid = events.find(({ event }) => api.events.transactionPayment.TransactionFeePaid.is(event));
							txFees += paid.event.data.actualFee.toBigInt();
							resolve({ ...job, id: e.event.data.job.toNumber(), quote, deposit: e.event.data.deposit.toBigInt(), block: status.asInBlock.toHex() });
						}
					})
					.catch(reject);
			});
		}),
	);
	if (draw) for (const job of submitted) job.members = await waitForDraw(api, job.id);
	return { submitted, txFees };
}

/**
 * Polls `inference_job` on `rpc` (a WsProvider) until every job in `ids` is Completed or
 * Failed, or `seconds` pass (then throws). Resolves to the final views, by id.
 */
async function waitForJobs(rpc, ids, seconds) {
	const deadline = Date.now() + seconds * 1000;
	const done = new Map();
	for (;;) {
		for (const id of ids) {
			if (done.has(id)) continue;
			const view = await rpc.send("inference_job", [id]);
			if (view.phase === "Completed" || view.phase === "Failed") done.set(id, view);
		}
		if (done.size === ids.length) return done;
		check(Date.now() < deadline, `${done.size} of ${ids.length} jobs finished within ${seconds} s`);
		await sleep(1000);
	}
}

/**
 * @polkadot/api on node `nodeName`, and a raw RPC provider (for Verity's RPC methods) on node
 * `rpcNode`; `close()` disconnects both.
 */
async function connect(networkInfo, nodeName, rpcNode = nodeName) {
	const api = await ApiPromise.create({ provider: new WsProvider(networkInfo.nodesByName[nodeName].wsUri), noInitWarn: true });
	const rpc = new WsProvider(networkInfo.nodesByName[rpcNode].wsUri);
	await rpc.isReady;
	return { api, rpc, close: async () => Promise.all([rpc.disconnect(), api.disconnect()]) };
}

/** Free and held balance of `address`, as BigInts. */
async function balance(api, address) {
	const { data } = await api.query.system.account(address);
	return { free: data.free.toBigInt(), held: data.reserved.toBigInt() };
}

/**
 * The node's Prometheus metrics whose names start with `prefix`, as a Map from the sample
 * (`name` or `name{label="value",...}`, without the `chain` label every sample has) to its value.
 */
async function metrics(prometheusUri, prefix = "verity_") {
	const text = await (await fetch(prometheusUri)).text();
	const samples = new Map();
	for (const line of text.split("\n")) {
		const m = line.match(/^(\w+)(?:\{(.*)\})? (\S+)$/);
		if (!m || !m[1].startsWith(prefix)) continue;
		const labels = (m[2] || "").split(",").filter((l) => l && !l.startsWith("chain="));
		samples.set(labels.length ? `${m[1]}{${labels.join(",")}}` : m[1], Number(m[3]));
	}
	return samples;
}

/**
 * The bytes (hex) of an executor's vote as its off-chain worker sends it: an authorized general
 * transaction (extrinsic version 5) calling `inference.commitResults` or `revealResults` with
 * `items`, signed by `key` (the executor's `infr` key) over
 * `("verity/<kind>", genesis hash, executor, signer, sentAt, items[, maxCommittee])`. Options:
 * `executor`, the executor's account (default: the key's own address); `maxCommittee`, a reveal
 * batch's largest committee (default 16); `signature`, carried instead of the key's, to forge
 * one. @polkadot/api 16 cannot build these: after the version byte come the extension version
 * and the explicit parts of the runtime's `TxExtension` (immortal era, nonce 0, tip 0), then the
 * call.
 */
function voteTransaction(api, key, kind, items, sentAt, { executor = key.address, maxCommittee = 16, signature } = {}) {
	const { u8aConcat, u8aToHex, compactAddLength, stringToU8a } = require("@polkadot/util");
	const reveal = kind === "reveal";
	const call = (sig) =>
		reveal
			? api.tx.inference.revealResults(executor, key.publicKey, items, maxCommittee, sentAt, sig)
			: api.tx.inference.commitResults(executor, key.publicKey, items, sentAt, sig);
	const encodedItems = call(new Uint8Array(64)).method.args[2].toU8a();
	const payload = u8aConcat(
		compactAddLength(stringToU8a(`verity/${kind}`)),
		api.genesisHash.toU8a(),
		api.createType("AccountId32", executor).toU8a(),
		key.publicKey,
		api.createType("u32", sentAt).toU8a(),
		encodedItems,
		reveal ? api.createType("u32", maxCommittee).toU8a() : new Uint8Array(),
	);
	const body = u8aConcat(new Uint8Array([0x45, 0x00, 0x00, 0x00, 0x00]), call(signature ?? key.sign(payload)).method.toU8a());
	return u8aToHex(compactAddLength(body));
}

/** Sends `tx` signed by `signer`; resolves to the block's events once it is in a block. */
function send(api, tx, signer) {
	return new Promise((resolve, reject) => {
		const named = (error) => {
			if (!error.isModule) return error.toString();
			const { section, name } = api.registry.findMetaError(error.asModule);
			return `${section}.${name}`;
		};
		tx.signAndSend(signer, ({ status, events, dispatchError }) => {
			if (dispatchError) {
				reject(new Error(`${tx.method.section}.${tx.method.method}: ${named(dispatchError)}`));
			} else if (status.isInvalid || status.isDropped || status.isUsurped) {
				reject(new Error(`${tx.method.section}.${tx.method.method}: ${status.type}`));
			} else if (status.isInBlock) {
				const failed = events.find(({ event }) => api.events.sudo.Sudid.is(event) && event.data.sudoResult.isErr);
				if (failed) reject(new Error(`sudo call failed: ${named(failed.event.data.sudoResult.asErr)}`));
				else resolve(events.map(({ event }) => event));
			}
		}).catch(reject);
	});
}

/** Polls `condition()` every half second until it holds, or throws after `seconds`. */
async function until(what, seconds, condition) {
	const deadline = Date.now() + seconds * 1000;
	for (;;) {
		const value = await condition();
		if (value) return value;
		check(Date.now() < deadline, `${what} did not happen within ${seconds} s`);
		await sleep(500);
	}
}

/** Waits until block `number` is finalized. */
async function finalized(api, number, seconds) {
	await until(`finality of block ${number}`, seconds, async () => {
		const hash = await api.rpc.chain.getFinalizedHead();
		return (await api.rpc.chain.getHeader(hash)).number.toNumber() >= number;
	});
}

module.exports = { ROOT, check, sleep, fixture, fixtureJobs, chainTensor, connect, submitJobs, waitForDraw, waitForJobs, balance, metrics, voteTransaction, send, until, finalized };
