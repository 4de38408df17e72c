// Slashing on the network, on evidence the chain holds. Eve registers as an executor with a key
// that is on no node: this script votes for her, sending the same authorized transactions an
// off-chain worker sends. With four drawable executors, she is on every committee of four.
// - Job 1: she stays silent. The validators settle it, so her miss is proven: she is slashed
//   `missSlash` of the minimum bond, and the three share a fifth of it.
// - Job 2: she commits to one hash and reveals another. The validators complete the job; her
//   reveal is rejected and she is slashed `badRevealSlash`; the three share a fifth.
// Below the minimum bond after her first slash, she is no longer drawn (the committees she is
// already on carry on), and her reputation (`inferenceApi.reputation`) carries both offences'
// penalty points.
// The treasury keeps the rest: every slashed unit is accounted for.
//
// zombienet calls `run(nodeName, networkInfo)`.

const { Keyring } = require("@polkadot/api");
const { u8aConcat } = require("@polkadot/util");
const { blake2AsU8a, randomAsU8a } = require("@polkadot/util-crypto");
const { check, sleep, fixture, connect, submitJobs, waitForJobs, voteTransaction } = require("./common.js");
const { executor } = require("../../scripts/executor.js");

const BILLION = 1_000_000_000n;

async function run(nodeName, networkInfo) {
	const { wsUri: url } = networkInfo.nodesByName[nodeName];
	const { api, rpc, close } = await connect(networkInfo, nodeName);
	const keyring = new Keyring({ type: "sr25519" });
	const eve = keyring.addFromUri("//Eve");
	const eveKey = keyring.addFromUri("//Eve//infr");
	const ferdie = keyring.addFromUri("//Ferdie");
	const raw = new Uint8Array(32);
	raw.set(new TextEncoder().encode("modlvrt/trsy"));
	const treasury = keyring.encodeAddress(raw);
	const free = async (who) => (await api.query.system.account(who)).data.free.toBigInt();
	const head = async () => (await api.rpc.chain.getHeader()).number.toNumber();
	const log = (line) => console.log(`  ${line}`);
	try {
		const minBond = api.consts.inference.minBond.toBigInt();
		const rate = (c) => BigInt(c.toNumber());
		const missSlash = (minBond * rate(api.consts.inference.missSlash)) / BILLION;
		const badRevealSlash = (minBond * rate(api.consts.inference.badRevealSlash)) / BILLION;
		const share = rate(api.consts.inference.slashRewardShare);

		const registered = await executor({ url, suri: "//Eve", command: "register", keySuri: "//Eve//infr", log });
		check(registered && registered.drawn, "Eve is registered and drawn");
		check((await api.query.inference.drawableCount()).toNumber() === 4, "four executors are drawable");
		const treasuryBefore = await free(treasury);
		const from = await head();

		const linear = fixture("linear_regressor");
		const job = { model: linear.model_id, inputs: linear.cases[0].inputs, committee: 4 };
		const { submitted } = await submitJobs(api, ferdie, [job, job]);
		const [silent, lied] = submitted.map((j) => j.id);
		const members = (await api.call.inferenceApi.job(lied)).unwrap().committee.map((m) => m.toString());
		check(members.includes(eve.address), `Eve is on the committee: ${members}`);

		// Job 2: a commitment to one hash, then a reveal of another.
		const key = (await api.call.inferenceApi.job(lied)).unwrap().key.toU8a();
		const [committed, revealed, salt] = [randomAsU8a(32), randomAsU8a(32), randomAsU8a(32)];
		const commitment = blake2AsU8a(u8aConcat(committed, salt, eve.publicKey, key), 256);
		const vote = (kind, items) =>
			voteTransaction(api, eveKey, kind, items, sentAt, { executor: eve.address, maxCommittee: 4 });
		const sentAt = await head();
		await rpc.send("author_submitExtrinsic", [vote("commit", [{ job: lied, key, commitment }])]);
		for (let tries = 0; ; tries++) {
			check(tries < 60, "job 2 did not reach its reveal phase");
			const view = await rpc.send("inference_job", [lied]);
			if (view.phase === "Reveal") break;
			check(view.phase === "Commit", `job 2 is ${view.phase} before Eve revealed`);
			await sleep(1000);
		}
		await rpc.send("author_submitExtrinsic", [vote("reveal", [{ job: lied, key, resultHash: revealed, salt, outcome: null }])]);

		const views = await waitForJobs(rpc, [silent, lied], 120);
		for (const [id, view] of views) check(view.phase === "Completed", `job ${id} is ${view.phase} ${JSON.stringify(view.failure)}`);

		// What the blocks since the submissions say.
		const to = await head();
		const slashed = [];
		const rewarded = [];
		for (let n = from; n <= to; n++) {
			const events = await api.query.system.events.at(await api.rpc.chain.getBlockHash(n));
			for (const { event } of events) {
				if (api.events.inference.Slashed.is(event)) {
					const { executor: who, job: id, offence, amount } = event.data;
					slashed.push({ who: who.toString(), job: id.toNumber(), offence: offence.type, amount: amount.toBigInt() });
				} else if (api.events.inference.SlashRewarded.is(event)) {
					const { executor: who, job: id, amount } = event.data;
					rewarded.push({ who: who.toString(), job: id.toNumber(), amount: amount.toBigInt() });
				}
			}
		}
		const show = (v) => JSON.stringify(v, (_, x) => (typeof x === "bigint" ? x.toString() : x));
		console.log(`slashed: ${show(slashed)}`);
		console.log(`rewarded: ${show(rewarded)}`);
		const expected = [
			{ who: eve.address, job: silent, offence: "Missed", amount: missSlash },
			{ who: eve.address, job: lied, offence: "BadReveal", amount: badRevealSlash },
		];
		check(show(slashed.sort((a, b) => a.job - b.job)) === show(expected), `Eve is slashed for her miss and her bad reveal: ${show(slashed)}`);
		const validators = members.filter((m) => m !== eve.address).sort();
		for (const { job: id, amount } of expected) {
			const each = (amount * share) / BILLION / 3n;
			const paid = rewarded.filter((r) => r.job === id);
			check(show(paid.map((r) => r.who).sort()) === show(validators), `the three validators are rewarded for job ${id}: ${show(paid)}`);
			check(paid.every((r) => r.amount === each), `each gets a third of a fifth of job ${id}'s slash (${each})`);
		}
		const total = expected.reduce((sum, s) => sum + s.amount, 0n);
		const paidOut = rewarded.reduce((sum, r) => sum + r.amount, 0n);
		const treasuryGot = (await free(treasury)) - treasuryBefore;
		check(treasuryGot === total - paidOut, `the treasury keeps the rest: ${treasuryGot} of ${total} slashed, ${paidOut} rewarded`);

		const after = await executor({ url, suri: "//Eve", command: "status", log });
		check(after.bond === minBond - total, `Eve's bond is ${after.bond}`);
		check(!after.drawn && (await api.query.inference.drawableCount()).toNumber() === 3, "below the minimum bond, Eve is no longer drawn");
		check(after.stats.slashed === 2 && after.stats.missed === 1 && after.stats.disagreed === 1, `Eve's record: ${show(after.stats)}`);
		const held = await api.query.balances.holds(eve.address);
		const bond = held.find((h) => h.id.isInference && h.id.asInference.isExecutorBond);
		check(bond && bond.amount.toBigInt() === minBond - total, `Eve's hold is what is left of her bond: ${held.toString()}`);
		// Her reputation: the points of a miss (1) and a bad reveal (4), undecayed within the day.
		const reputation = (await api.call.inferenceApi.reputation(eve.address)).unwrap();
		check(reputation.penalty.toNumber() === 5 && reputation.keptPerMillion.toNumber() === Math.floor(1_000_000 / 6), `Eve's reputation: ${reputation.toString()}`);
		check(reputation.stats.slashed.toNumber() === 2, `Eve's reputation counts her slashes: ${reputation.toString()}`);
		await executor({ url, suri: "//Eve", command: "leave", log });
		return 1;
	} finally {
		await close();
	}
}

module.exports = { run };
