// Jobs on a running Verity network (scripts/bench-jobs.sh starts the 3-validator one):
//  1. latency: jobs submitted one per block, committee 3, on linear_regressor and mlp_classifier;
//     blocks and seconds from the block that includes `submit_job` to the block with `JobCompleted`;
//  2. saturation: a burst of linear_regressor jobs, committee 3, from six accounts at once;
//     completed jobs per block while they drain.
//  3. sustained (if asked): a number of linear_regressor jobs sent on each new block for a number of
//     blocks; submitted and completed jobs per block in the steady state.
// Prints numbers; asserts nothing.
// Usage: node bench-jobs.js <zombie.json> [latency jobs] [burst jobs] [sustained per block] [blocks]

"use strict";

const fs = require("fs");
const path = require("path");
const { requireJs, chainTensor } = require("../lib/chain.js");
const { ApiPromise, WsProvider, Keyring } = requireJs("@polkadot/api");
const { cryptoWaitReady } = requireJs("@polkadot/util-crypto");

const ROOT = path.join(__dirname, "..", "..");
const fixture = (name) => JSON.parse(fs.readFileSync(path.join(ROOT, "models", `${name}.fixtures.json`)));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
const median = (sorted) => (sorted.length % 2 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2);

/** Follows best blocks: per block number, its timestamp and the inference events in it. */
function follow(api) {
	const blocks = new Map();
	const listeners = [];
	const unsubscribe = api.rpc.chain.subscribeNewHeads(async (header) => {
		const hash = header.hash;
		const number = header.number.toNumber();
		const at = await api.at(hash);
		const [events, now, weight] = await Promise.all([at.query.system.events(), at.query.timestamp.now(), at.query.system.blockWeight()]);
		const block = { number, time: now.toNumber(), submitted: [], requesters: [], revealPhase: [], completed: [], failed: [], extrinsics: 0, weight: [weight.normal, weight.operational, weight.mandatory].map((w) => w.refTime.toBigInt()) };
		for (const { event, phase } of events) {
			if (phase.isApplyExtrinsic && api.events.system.ExtrinsicSuccess.is(event)) block.extrinsics += 1;
			if (api.events.inference.JobSubmitted.is(event)) {
				block.submitted.push(event.data.job.toNumber());
				block.requesters.push(event.data.requester.toString());
			}
			if (api.events.inference.RevealPhase.is(event)) block.revealPhase.push(event.data.job.toNumber());
			if (api.events.inference.JobCompleted.is(event)) block.completed.push(event.data.job.toNumber());
			if (api.events.inference.JobFailed.is(event)) block.failed.push(event.data.job.toNumber());
		}
		blocks.set(number, block);
		for (const l of listeners) l(block);
	});
	return { blocks, onBlock: (l) => listeners.push(l), unsubscribe };
}

async function signedJobs(api, signer, work, nonce) {
	const txs = [];
	for (const w of work) {
		const tx = api.tx.inference.submitJob(w.model, w.inputs.map(chainTensor), 3, w.quote);
		txs.push((await tx.signAsync(signer, { nonce: nonce++ })).toHex());
	}
	return txs;
}

async function latency(api, chain, count) {
	const keyring = new Keyring({ type: "sr25519" });
	const dave = keyring.addFromUri("//Dave");
	const models = [fixture("linear_regressor"), fixture("mlp_classifier")];
	const quotes = await Promise.all(models.map(async (m) => (await api.call.inferenceApi.feeEstimate(m.model_id, 3)).unwrap().toBigInt()));
	let nonce = (await api.rpc.system.accountNextIndex(dave.address)).toNumber();
	const firstBlock = Math.max(0, ...chain.blocks.keys()) + 1;
	for (let i = 0; i < count; i++) {
		const m = models[i % 2];
		const [tx] = await signedJobs(api, dave, [{ model: m.model_id, inputs: m.cases[i % m.cases.length].inputs, quote: quotes[i % 2] }], nonce++);
		await api.rpc.author.submitExtrinsic(tx);
		process.stdout.write(`\r  submitted ${i + 1}/${count}`);
		await sleep(3000);
	}
	const deadline = Date.now() + 120_000;
	let blocks, seconds, toReveal, toEnd;
	for (;;) {
		const submittedAt = new Map();
		const revealAt = new Map();
		const completedAt = new Map();
		for (const b of chain.blocks.values()) {
			if (b.number < firstBlock) continue;
			b.submitted.forEach((j, i) => b.requesters[i] === dave.address && submittedAt.set(j, b));
			for (const j of b.revealPhase) revealAt.set(j, b);
			for (const j of b.completed.concat(b.failed)) completedAt.set(j, b);
		}
		const mine = [...submittedAt.keys()];
		const done = mine.filter((j) => completedAt.has(j));
		process.stdout.write(`\r  finished ${done.length}/${mine.length}   `);
		if ((done.length === mine.length && mine.length === count) || Date.now() > deadline) {
			blocks = done.map((j) => completedAt.get(j).number - submittedAt.get(j).number).sort((a, b) => a - b);
			seconds = done.map((j) => (completedAt.get(j).time - submittedAt.get(j).time) / 1000).sort((a, b) => a - b);
			const opened = done.filter((j) => revealAt.has(j));
			toReveal = opened.map((j) => revealAt.get(j).number - submittedAt.get(j).number).sort((a, b) => a - b);
			toEnd = opened.map((j) => completedAt.get(j).number - revealAt.get(j).number).sort((a, b) => a - b);
			break;
		}
		await sleep(1000);
	}
	process.stdout.write("\n");
	return { count: blocks.length, blocks, seconds, toReveal, toEnd };
}

/**
 * `count` signed `submit_job`s on linear_regressor, committee 3, from six accounts, interleaved
 * so that every block gets work from each.
 */
async function signedLinearJobs(api, count) {
	const keyring = new Keyring({ type: "sr25519" });
	const senders = ["//Alice", "//Bob", "//Charlie", "//Dave", "//Eve", "//Ferdie"].map((s) => keyring.addFromUri(s));
	const linear = fixture("linear_regressor");
	const quote = (await api.call.inferenceApi.feeEstimate(linear.model_id, 3)).unwrap().toBigInt();
	const perSender = Math.ceil(count / senders.length);
	process.stdout.write(`  signing ${count} submit_job transactions...`);
	const batches = await Promise.all(
		senders.map(async (s, k) => {
			const nonce = (await api.rpc.system.accountNextIndex(s.address)).toNumber();
			const n = Math.max(0, Math.min(perSender, count - k * perSender));
			const work = Array.from({ length: n }, (_, i) => ({ model: linear.model_id, inputs: linear.cases[(i + k) % linear.cases.length].inputs, quote }));
			return signedJobs(api, s, work, nonce);
		}),
	);
	const all = [];
	for (let i = 0; i < perSender; i++) for (const b of batches) if (b[i]) all.push(b[i]);
	return all;
}

/**
 * Waits (at most `seconds`) until at least `expected` jobs were submitted from `firstBlock` on and
 * all of them finished; returns those blocks in order.
 */
async function drain(chain, firstBlock, expected, seconds) {
	const deadline = Date.now() + seconds * 1000;
	for (;;) {
		const range = [...chain.blocks.values()].filter((b) => b.number >= firstBlock);
		const submitted = range.reduce((n, b) => n + b.submitted.length, 0);
		const finished = range.reduce((n, b) => n + b.completed.length + b.failed.length, 0);
		process.stdout.write(`\r  submitted ${submitted}, finished ${finished}   `);
		if ((submitted >= expected && finished >= submitted) || Date.now() > deadline) break;
		await sleep(2000);
	}
	process.stdout.write("\n");
	return [...chain.blocks.values()].filter((b) => b.number >= firstBlock).sort((a, b) => a.number - b.number);
}

async function saturation(api, chain, count) {
	const all = await signedLinearJobs(api, count);
	process.stdout.write(" sending...");
	const firstBlock = Math.max(0, ...chain.blocks.keys()) + 1;
	for (let i = 0; i < all.length; i += 200) {
		await Promise.all(all.slice(i, i + 200).map((tx) => api.rpc.author.submitExtrinsic(tx)));
	}
	process.stdout.write(" sent\n");
	return drain(chain, firstBlock, count, 300);
}

/** `perBlock` linear_regressor jobs sent on each new block for `blocks` blocks. */
async function sustained(api, chain, perBlock, blocks) {
	const total = perBlock * blocks;
	const queue = await signedLinearJobs(api, total);
	process.stdout.write(" sending one share per block\n");
	const firstBlock = Math.max(0, ...chain.blocks.keys()) + 1;
	let sent = 0;
	let sending = Promise.resolve();
	await new Promise((resolve) => {
		chain.onBlock(() => {
			if (sent >= total) return resolve();
			const share = queue.slice(sent, sent + perBlock);
			sent += share.length;
			sending = sending.then(() => Promise.all(share.map((tx) => api.rpc.author.submitExtrinsic(tx).catch(() => null))));
			process.stdout.write(`\r  sent ${sent}/${total}   `);
		});
	});
	await sending;
	return drain(chain, firstBlock, 0, 120);
}

/** Per block: extrinsics, jobs, and the weight of each dispatch class in % of the block's. */
function table(range, maxWeight) {
	console.log("  block  extrinsics  submitted  completed  failed   normal  operational  mandatory  (% of the block weight)");
	for (const b of range) {
		const [normal, operational, mandatory] = b.weight.map((w) => (Number((w * 1000n) / maxWeight) / 10).toFixed(1));
		console.log(`  ${String(b.number).padStart(5)}  ${String(b.extrinsics).padStart(10)}  ${String(b.submitted.length).padStart(9)}  ${String(b.completed.length).padStart(9)}  ${String(b.failed.length).padStart(6)}  ${normal.padStart(6)}%  ${operational.padStart(10)}%  ${mandatory.padStart(8)}%`);
	}
}

async function main() {
	const [networkFile, latencyJobs = "30", burstJobs = "1500", perBlock = "0", blocks = "20"] = process.argv.slice(2);
	if (!networkFile) throw new Error("usage: bench-jobs.js <zombie.json> [latency jobs] [burst jobs] [sustained jobs per block] [sustained blocks]");
	const sustainedPerBlock = Number(perBlock);
	const sustainedBlocks = Number(blocks);
	const network = JSON.parse(fs.readFileSync(networkFile));
	await cryptoWaitReady();
	const api = await ApiPromise.create({ provider: new WsProvider(network.nodesByName.alice.wsUri), noInitWarn: true });
	const chain = follow(api);
	const maxWeight = api.consts.system.blockWeights.maxBlock.refTime.toBigInt();

	console.log(`latency: ${latencyJobs} jobs, one per block, committee 3 (linear_regressor, mlp_classifier)`);
	const lat = await latency(api, chain, Number(latencyJobs));
	console.log(`  finished ${lat.count}`);
	console.log(`  blocks  submit_job -> JobCompleted: median ${median(lat.blocks)}, p95 ${percentile(lat.blocks, 95)}, max ${lat.blocks[lat.blocks.length - 1]}`);
	console.log(`  of which submit_job -> all committed (RevealPhase): median ${median(lat.toReveal)}, p95 ${percentile(lat.toReveal, 95)}; RevealPhase -> JobCompleted: median ${median(lat.toEnd)}, p95 ${percentile(lat.toEnd, 95)}`);
	console.log(`  seconds submit_job -> JobCompleted: median ${median(lat.seconds).toFixed(1)}, p95 ${percentile(lat.seconds, 95).toFixed(1)}, max ${lat.seconds[lat.seconds.length - 1].toFixed(1)}`);

	console.log(`saturation: ${burstJobs} linear_regressor jobs at once, committee 3, from 6 accounts`);
	const range = await saturation(api, chain, Number(burstJobs));
	table(range, maxWeight);
	const completed = range.map((b) => b.completed.length);
	const busy = range.filter((b) => b.completed.length > 0);
	const total = completed.reduce((a, b) => a + b, 0);
	const failed = range.reduce((n, b) => n + b.failed.length, 0);
	console.log(`  completed ${total} (failed ${failed}) in ${busy.length} blocks with completions; peak ${Math.max(...completed)} per block, mean ${(total / Math.max(1, busy.length)).toFixed(1)} per block with completions`);
	const first = range.find((b) => b.submitted.length > 0);
	const last = [...range].reverse().find((b) => b.completed.length > 0);
	if (first && last) {
		const span = last.number - first.number + 1;
		console.log(`  whole burst: ${span} blocks from first submission to last completion = ${(total / span).toFixed(1)} completed jobs per block`);
	}

	if (sustainedPerBlock > 0) {
		console.log(`sustained: ${sustainedPerBlock} linear_regressor jobs sent on each of ${sustainedBlocks} blocks, committee 3`);
		const run = await sustained(api, chain, sustainedPerBlock, sustainedBlocks);
		table(run, maxWeight);
		// The steady state: past the pipeline's first blocks, while jobs were still being sent.
		const steady = run.slice(3, sustainedBlocks);
		const sum = (f) => steady.reduce((n, b) => n + f(b), 0);
		const n = Math.max(1, steady.length);
		console.log(`  steady state (blocks ${steady[0]?.number}..${steady[steady.length - 1]?.number}): ${(sum((b) => b.submitted.length) / n).toFixed(1)} submitted and ${(sum((b) => b.completed.length) / n).toFixed(1)} completed per block (${sum((b) => b.failed.length)} failed)`);
	}
	chain.unsubscribe.then((u) => u());
	await api.disconnect();
}

main().catch((e) => {
	console.error(`bench-jobs: ${e.message}`);
	process.exit(1);
});
