// Jobs on a running Verity network (scripts/bench-jobs.sh starts the 3-validator one). Each load
// runs `repeats` times; every transaction sent is accounted for: refused by the pool (with the
// reason), included (and whether it dispatched, or the error it failed with, e.g.
// inference.ChainBusy), or never included (dropped). Jobs are counted completed or failed.
//
//  1. latency: jobs submitted one per block, committee 3, on linear_regressor and mlp_classifier;
//     blocks and seconds from the block that includes `submit_job` to the block that finishes it;
//  2. burst: linear_regressor jobs, committee 3, from six accounts at once;
//  3. sustained (if asked): linear_regressor jobs sent on each new block for a number of blocks;
//  4. hostile (if asked): on each of a number of blocks, one job on a hostile model of
//     models/hostile/ (published first with the upload tool) and two honest ones; the honest
//     jobs' latency, and how every job ended.
// Prints numbers; asserts nothing.
// Usage: node bench-jobs.js <zombie.json> <latency jobs> <burst jobs> <sustained per block>
//                           <sustained blocks> <hostile blocks> <repeats>

"use strict";

const fs = require("fs");
const path = require("path");
const { requireJs, chainTensor, dispatchErrorText } = require("../lib/chain.js");
const { ApiPromise, WsProvider, Keyring } = requireJs("@polkadot/api");
const { blake2AsHex, cryptoWaitReady } = requireJs("@polkadot/util-crypto");
const { hexToU8a } = requireJs("@polkadot/util");
const { upload } = require("../upload-model.js");

const ROOT = path.join(__dirname, "..", "..");
const fixture = (name) => JSON.parse(fs.readFileSync(path.join(ROOT, "models", `${name}.fixtures.json`)));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const sorted = (xs) => [...xs].sort((a, b) => a - b);
const percentile = (xs, p) => (xs.length ? xs[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)] : NaN);
const median = (xs) => (xs.length === 0 ? NaN : xs.length % 2 ? xs[(xs.length - 1) / 2] : (xs[xs.length / 2 - 1] + xs[xs.length / 2]) / 2);
const accounts = ["//Alice", "//Bob", "//Charlie", "//Dave", "//Eve", "//Ferdie"];

/**
 * Follows the chain. While a load is sent it only notes new best heads (to pace the sending):
 * decoding blocks of a thousand extrinsics costs the client about a fifth of this machine's CPU,
 * taken from the validators being measured. `analyze()` later reads the finalized blocks, so a
 * block that lost a fork is never counted: per number, its time, the dispatch result of each
 * extrinsic by hash, the jobs submitted, finished, and the weight of each dispatch class.
 */
function follow(api) {
	const blocks = new Map();
	const listeners = [];
	let best = 0;
	let next = null;
	const unsubscribe = api.rpc.chain.subscribeNewHeads((header) => {
		best = Math.max(best, header.number.toNumber());
		if (next === null) next = best;
		for (const l of listeners) l(best);
	});
	async function read(number) {
		const hash = await api.rpc.chain.getBlockHash(number);
		const [signed, at] = await Promise.all([api.rpc.chain.getBlock(hash), api.at(hash)]);
		const [events, now, weight] = await Promise.all([at.query.system.events(), at.query.timestamp.now(), at.query.system.blockWeight()]);
		const block = {
			number,
			time: now.toNumber(),
			results: new Map(),
			submitted: new Map(),
			reveal: [],
			completed: [],
			failed: new Map(),
			extrinsics: signed.block.extrinsics.length,
			weight: [weight.normal, weight.operational, weight.mandatory].map((w) => w.refTime.toBigInt()),
		};
		const hashes = signed.block.extrinsics.map((x) => x.hash.toHex());
		for (const { event, phase } of events) {
			const index = phase.isApplyExtrinsic ? phase.asApplyExtrinsic.toNumber() : null;
			if (index !== null && api.events.system.ExtrinsicSuccess.is(event)) block.results.set(hashes[index], "ok");
			if (index !== null && api.events.system.ExtrinsicFailed.is(event)) block.results.set(hashes[index], dispatchErrorText(api, event.data.dispatchError).split(":")[0]);
			if (api.events.inference.JobSubmitted.is(event)) block.submitted.set(hashes[index], event.data.job.toNumber());
			if (api.events.inference.RevealPhase.is(event)) block.reveal.push(event.data.job.toNumber());
			if (api.events.inference.JobCompleted.is(event)) block.completed.push(event.data.job.toNumber());
			if (api.events.inference.JobFailed.is(event)) block.failed.set(event.data.job.toNumber(), event.data.reason.toString());
		}
		return block;
	}
	/** Reads every finalized block not read yet. */
	async function analyze() {
		const finalized = (await api.rpc.chain.getHeader(await api.rpc.chain.getFinalizedHead())).number.toNumber();
		for (let n = next ?? finalized + 1; n <= finalized; n += 8) {
			const numbers = Array.from({ length: Math.min(8, finalized - n + 1) }, (_, i) => n + i);
			for (const b of await Promise.all(numbers.map(read))) blocks.set(b.number, b);
			next = n + numbers.length;
		}
	}
	return { blocks, analyze, onBlock: (l) => listeners.push(l), unsubscribe, best: () => best };
}

/** Signed `submit_job`s: `work` items { model, inputs, quote, committee }. */
async function sign(api, signer, work, nonce) {
	const txs = [];
	for (const w of work) {
		const tx = api.tx.inference.submitJob(w.model, w.inputs.map(chainTensor), w.committee ?? 3, w.quote);
		txs.push((await tx.signAsync(signer, { nonce: nonce++ })).toHex());
	}
	return txs;
}

/** Every transaction a load sends, and what became of it. */
class Ledger {
	constructor(api, chain) {
		this.api = api;
		this.chain = chain;
		this.sent = new Map();
		this.refused = new Map();
		this.firstBlock = chain.best() + 1;
	}

	/** Sends `tx` (hex); resolves once the pool answered. */
	async send(tx, tag = "job") {
		const hash = blake2AsHex(hexToU8a(tx), 256);
		this.sent.set(hash, tag);
		try {
			await this.api.rpc.author.submitExtrinsic(tx);
		} catch (e) {
			const reason = e.message.replace(/^\d+: /, "").slice(0, 80);
			this.refused.set(hash, reason);
		}
	}

	/** Where each sent transaction ended, and the jobs, by the finalized blocks. */
	async account() {
		await this.chain.analyze();
		const included = new Map();
		const jobs = new Map();
		const blocks = [...this.chain.blocks.values()].filter((b) => b.number >= this.firstBlock);
		for (const b of blocks) {
			for (const [hash, result] of b.results) if (this.sent.has(hash)) included.set(hash, { result, block: b });
			for (const [hash, id] of b.submitted) if (this.sent.has(hash)) jobs.set(id, { submitted: b, tag: this.sent.get(hash) });
		}
		for (const b of blocks) {
			for (const id of b.completed) if (jobs.has(id)) jobs.get(id).completed = b;
			for (const [id, reason] of b.failed) if (jobs.has(id)) Object.assign(jobs.get(id), { failed: b, reason });
			for (const id of b.reveal) if (jobs.has(id)) jobs.get(id).reveal = b;
		}
		const count = (map, f) => [...map.values()].filter(f).length;
		const reasons = new Map();
		for (const r of this.refused.values()) reasons.set(r, (reasons.get(r) || 0) + 1);
		const errors = new Map();
		for (const { result } of included.values()) if (result !== "ok") errors.set(result, (errors.get(result) || 0) + 1);
		const dropped = [...this.sent.keys()].filter((h) => !this.refused.has(h) && !included.has(h)).length;
		return {
			sent: this.sent.size,
			refused: this.refused.size,
			reasons,
			included: included.size,
			dispatched: count(included, (i) => i.result === "ok"),
			errors,
			dropped,
			jobs,
			completed: count(jobs, (j) => j.completed),
			failed: count(jobs, (j) => j.failed),
			open: count(jobs, (j) => !j.completed && !j.failed),
			blocks,
		};
	}

	/** Waits (at most `seconds`) until every sent transaction is refused or included, and every
	 * job it submitted finished. */
	async settle(seconds) {
		const deadline = Date.now() + seconds * 1000;
		let a;
		for (;;) {
			a = await this.account();
			process.stdout.write(`\r  sent ${a.sent}: refused ${a.refused}, included ${a.included}; jobs ${a.jobs.size}: completed ${a.completed}, failed ${a.failed}   `);
			if ((a.refused + a.included === a.sent && a.open === 0) || Date.now() > deadline) break;
			await sleep(2000);
		}
		process.stdout.write("\n");
		return a;
	}
}

function report(a) {
	const list = (m) => [...m].map(([k, v]) => `${v} ${k}`).join(", ") || "none";
	console.log(`  transactions: ${a.sent} sent; ${a.refused} refused by the pool (${list(a.reasons)}); ${a.included} included (${a.dispatched} dispatched; failed: ${list(a.errors)}); ${a.dropped} never included`);
	const failures = new Map();
	for (const j of a.jobs.values()) if (j.failed) failures.set(j.reason, (failures.get(j.reason) || 0) + 1);
	console.log(`  jobs: ${a.jobs.size} submitted, ${a.completed} completed, ${a.failed} failed (${list(failures)}), ${a.open} still open`);
}

function latencies(jobs, filter = () => true) {
	const done = [...jobs.values()].filter((j) => filter(j) && (j.completed || j.failed));
	const end = (j) => j.completed || j.failed;
	return {
		blocks: sorted(done.map((j) => end(j).number - j.submitted.number)),
		seconds: sorted(done.map((j) => (end(j).time - j.submitted.time) / 1000)),
	};
}

async function quotes(api, models, committee = 3) {
	return Promise.all(models.map(async (m) => (await api.call.inferenceApi.feeEstimate(m, committee)).unwrap().toBigInt() * 2n));
}

async function latencyLoad(api, chain, count) {
	const dave = new Keyring({ type: "sr25519" }).addFromUri("//Dave");
	const models = [fixture("linear_regressor"), fixture("mlp_classifier")];
	const quote = await quotes(api, models.map((m) => m.model_id));
	let nonce = (await api.rpc.system.accountNextIndex(dave.address)).toNumber();
	const ledger = new Ledger(api, chain);
	for (let i = 0; i < count; i++) {
		const m = models[i % 2];
		const [tx] = await sign(api, dave, [{ model: m.model_id, inputs: m.cases[i % m.cases.length].inputs, quote: quote[i % 2] }], nonce++);
		await ledger.send(tx);
		await sleep(3000);
	}
	const a = await ledger.settle(120);
	report(a);
	const l = latencies(a.jobs);
	console.log(`  submit_job -> finished: blocks median ${median(l.blocks)}, p95 ${percentile(l.blocks, 95)}, max ${l.blocks[l.blocks.length - 1]}; seconds median ${median(l.seconds).toFixed(1)}, p95 ${percentile(l.seconds, 95).toFixed(1)}`);
	return { median: median(l.blocks), p95: percentile(l.blocks, 95), seconds: median(l.seconds), failed: a.failed };
}

/** `count` signed linear_regressor jobs from six accounts, interleaved. */
async function linearJobs(api, count) {
	const keyring = new Keyring({ type: "sr25519" });
	const senders = accounts.map((s) => keyring.addFromUri(s));
	const linear = fixture("linear_regressor");
	// Twice the quote now: the fee multiplier may rise while they are sent.
	const [quote] = await quotes(api, [linear.model_id]);
	const perSender = Math.ceil(count / senders.length);
	process.stdout.write(`  signing ${count} submit_job transactions...`);
	const batches = await Promise.all(
		senders.map(async (s, k) => {
			const nonce = (await api.rpc.system.accountNextIndex(s.address)).toNumber();
			const n = Math.max(0, Math.min(perSender, count - k * perSender));
			const work = Array.from({ length: n }, (_, i) => ({ model: linear.model_id, inputs: linear.cases[(i + k) % linear.cases.length].inputs, quote: quote * 8n }));
			return sign(api, s, work, nonce);
		}),
	);
	process.stdout.write(" done\n");
	const all = [];
	for (let i = 0; i < perSender; i++) for (const b of batches) if (b[i]) all.push(b[i]);
	return all;
}

function table(range, maxWeight) {
	console.log("  block  extrinsics  submitted  completed  failed   normal  operational  mandatory  (% of the block weight)");
	for (const b of range) {
		const [normal, operational, mandatory] = b.weight.map((w) => (Number((w * 1000n) / maxWeight) / 10).toFixed(1));
		console.log(`  ${String(b.number).padStart(5)}  ${String(b.extrinsics).padStart(10)}  ${String(b.submitted.size).padStart(9)}  ${String(b.completed.length).padStart(9)}  ${String(b.failed.size).padStart(6)}  ${normal.padStart(6)}%  ${operational.padStart(10)}%  ${mandatory.padStart(8)}%`);
	}
}

async function burstLoad(api, chain, count, maxWeight) {
	const txs = await linearJobs(api, count);
	const ledger = new Ledger(api, chain);
	for (let i = 0; i < txs.length; i += 200) await Promise.all(txs.slice(i, i + 200).map((tx) => ledger.send(tx)));
	const a = await ledger.settle(300);
	table(a.blocks.filter((b) => b.submitted.size || b.completed.length || b.failed.size), maxWeight);
	report(a);
	const completed = a.blocks.map((b) => b.completed.length);
	const first = a.blocks.find((b) => b.submitted.size > 0);
	const last = [...a.blocks].reverse().find((b) => b.completed.length > 0);
	const span = first && last ? last.number - first.number + 1 : 1;
	console.log(`  peak ${Math.max(0, ...completed)} completed in a block; ${(a.completed / span).toFixed(1)} per block from the first submission to the last completion (${span} blocks)`);
	return { peak: Math.max(0, ...completed), perBlock: a.completed / span, failed: a.failed, refused: a.refused + (a.included - a.dispatched) };
}

async function sustainedLoad(api, chain, perBlock, blocks, maxWeight) {
	const total = perBlock * blocks;
	const queue = await linearJobs(api, total);
	const ledger = new Ledger(api, chain);
	let sent = 0;
	let sending = Promise.resolve();
	await new Promise((resolve) => {
		chain.onBlock(() => {
			if (sent >= total) return resolve();
			const share = queue.slice(sent, sent + perBlock);
			sent += share.length;
			sending = sending.then(() => Promise.all(share.map((tx) => ledger.send(tx))));
			process.stdout.write(`\r  sent ${sent}/${total}   `);
		});
	});
	await sending;
	process.stdout.write("\n");
	const a = await ledger.settle(180);
	table(a.blocks.filter((b) => b.submitted.size || b.completed.length || b.failed.size), maxWeight);
	report(a);
	// The steady state: past the pipeline's first blocks, while jobs were still being sent.
	const steady = a.blocks.slice(3, blocks);
	const n = Math.max(1, steady.length);
	const submitted = steady.reduce((s, b) => s + b.submitted.size, 0) / n;
	const completed = steady.reduce((s, b) => s + b.completed.length, 0) / n;
	console.log(`  steady state (blocks ${steady[0]?.number}..${steady[steady.length - 1]?.number}): ${submitted.toFixed(1)} submitted and ${completed.toFixed(1)} completed per block`);
	return { submitted, completed, failed: a.failed, refused: a.refused + (a.included - a.dispatched), dropped: a.dropped };
}

/** Publishes the hostile models (once); returns their jobs. */
async function hostileModels(wsUri) {
	const dir = path.join(ROOT, "models", "hostile");
	const jobs = JSON.parse(fs.readFileSync(path.join(dir, "jobs.json"))).filter((j) => j.failure !== "ExternalData");
	for (const job of jobs) {
		const metadataFile = path.join(dir, job.model.replace(".onnx", ".metadata.json"));
		await upload({ url: wsUri, suri: "//Eve", modelFile: path.join(dir, job.model), metadataFile, log: () => {} });
	}
	return jobs;
}

async function hostileLoad(api, chain, wsUri, blocks) {
	process.stdout.write("  publishing the hostile models...");
	const hostile = await hostileModels(wsUri);
	process.stdout.write(" done\n");
	const keyring = new Keyring({ type: "sr25519" });
	const [eve, dave] = ["//Eve", "//Dave"].map((s) => keyring.addFromUri(s));
	const honest = [fixture("linear_regressor"), fixture("mlp_classifier")];
	const honestQuotes = await quotes(api, honest.map((m) => m.model_id));
	const hostileQuotes = await quotes(api, hostile.map((h) => h.model_id));
	let eveNonce = (await api.rpc.system.accountNextIndex(eve.address)).toNumber();
	let daveNonce = (await api.rpc.system.accountNextIndex(dave.address)).toNumber();
	const ledger = new Ledger(api, chain);
	for (let i = 0; i < blocks; i++) {
		const h = hostile[i % hostile.length];
		const [bad] = await sign(api, eve, [{ model: h.model_id, inputs: h.inputs, quote: hostileQuotes[i % hostile.length] }], eveNonce++);
		const good = await sign(api, dave, honest.map((m, k) => ({ model: m.model_id, inputs: m.cases[0].inputs, quote: honestQuotes[k] })), daveNonce);
		daveNonce += good.length;
		await Promise.all([ledger.send(bad, "hostile"), ...good.map((tx) => ledger.send(tx, "honest"))]);
		process.stdout.write(`\r  block ${i + 1}/${blocks}   `);
		await sleep(3000);
	}
	process.stdout.write("\n");
	const a = await ledger.settle(240);
	report(a);
	const l = latencies(a.jobs, (j) => j.tag === "honest");
	const honestFailed = [...a.jobs.values()].filter((j) => j.tag === "honest" && j.failed).length;
	console.log(`  honest jobs next to one hostile job per block: blocks median ${median(l.blocks)}, p95 ${percentile(l.blocks, 95)}, max ${l.blocks[l.blocks.length - 1]}; seconds median ${median(l.seconds).toFixed(1)}, p95 ${percentile(l.seconds, 95).toFixed(1)}; ${honestFailed} failed`);
	return { median: median(l.blocks), p95: percentile(l.blocks, 95), max: l.blocks[l.blocks.length - 1], honestFailed };
}

function spread(name, runs, keys) {
	for (const key of keys) {
		const values = runs.map((r) => r[key]).filter((v) => typeof v === "number" && !Number.isNaN(v));
		if (!values.length) continue;
		const fmt = (v) => (Number.isInteger(v) ? String(v) : v.toFixed(1));
		console.log(`  ${name} ${key}: ${values.map(fmt).join(", ")} (min ${fmt(Math.min(...values))}, max ${fmt(Math.max(...values))})`);
	}
}

async function main() {
	const [networkFile, latencyJobs = "20", burstJobs = "1500", perBlock = "0", blocks = "15", hostileBlocks = "0", repeats = "2"] = process.argv.slice(2);
	if (!networkFile) throw new Error("usage: bench-jobs.js <zombie.json> [latency jobs] [burst jobs] [sustained per block] [sustained blocks] [hostile blocks] [repeats]");
	const network = JSON.parse(fs.readFileSync(networkFile));
	await cryptoWaitReady();
	const wsUri = network.nodesByName.alice.wsUri;
	const api = await ApiPromise.create({ provider: new WsProvider(wsUri), noInitWarn: true });
	const chain = follow(api);
	const maxWeight = api.consts.system.blockWeights.maxBlock.refTime.toBigInt();
	const runs = { latency: [], burst: [], sustained: [], hostile: [] };
	const rounds = Math.max(1, Number(repeats));
	for (let r = 1; r <= rounds; r++) {
		if (Number(latencyJobs) > 0) {
			console.log(`latency (run ${r}/${rounds}): ${latencyJobs} jobs, one per block, committee 3`);
			runs.latency.push(await latencyLoad(api, chain, Number(latencyJobs)));
		}
		if (Number(burstJobs) > 0) {
			console.log(`burst (run ${r}/${rounds}): ${burstJobs} linear_regressor jobs at once, committee 3, from 6 accounts`);
			runs.burst.push(await burstLoad(api, chain, Number(burstJobs), maxWeight));
		}
		if (Number(perBlock) > 0) {
			console.log(`sustained (run ${r}/${rounds}): ${perBlock} linear_regressor jobs sent on each of ${blocks} blocks, committee 3`);
			runs.sustained.push(await sustainedLoad(api, chain, Number(perBlock), Number(blocks), maxWeight));
		}
		if (Number(hostileBlocks) > 0) {
			console.log(`hostile (run ${r}/${rounds}): ${hostileBlocks} blocks, each with one hostile job and two honest ones, committee 3`);
			runs.hostile.push(await hostileLoad(api, chain, wsUri, Number(hostileBlocks)));
		}
		// Let the fee multiplier fall back between runs.
		await sleep(30_000);
	}
	console.log(`spread over ${rounds} runs:`);
	spread("latency", runs.latency, ["median", "p95", "seconds", "failed"]);
	spread("burst", runs.burst, ["peak", "perBlock", "failed", "refused"]);
	spread("sustained", runs.sustained, ["submitted", "completed", "failed", "refused", "dropped"]);
	spread("hostile", runs.hostile, ["median", "p95", "max", "honestFailed"]);
	chain.unsubscribe.then((u) => u());
	await api.disconnect();
}

main().catch((e) => {
	console.error(`bench-jobs: ${e.message}`);
	process.exit(1);
});
