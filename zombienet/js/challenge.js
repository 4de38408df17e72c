// A challenge on the network overturns a result two liars won. Seven executors whose keys this
// script holds join the three validators (ten drawable); the script votes for them with the
// same authorized transactions an off-chain worker sends. A job of 3 is submitted until its
// first committee has two of them: both reveal the same false hash and win the first round
// (an honest member, validator or script, is outvoted). The result is provisional: Ferdie
// challenges it within the window, holding the bond. A committee of 7 is drawn from the other
// executors (none of the first); the validators on it run the job, the script's members on it
// vote the result Bob's node computes (inference_simulate), and its quorum is final:
// - the job completes with the true result hash, and is final (`JobFinalized`, `isFinal`);
// - both liars are slashed `wrongResultSlash` of the minimum bond, and are no longer drawn;
// - Ferdie's bond comes back, with a reward (`ChallengeSettled { Overturned }`);
// - total issuance changes by exactly the transaction fees burned.
//
// zombienet calls `run(nodeName, networkInfo)`.

const { Keyring } = require("@polkadot/api");
const { u8aConcat, hexToU8a, u8aToHex } = require("@polkadot/util");
const { blake2AsU8a, randomAsU8a } = require("@polkadot/util-crypto");
const { check, sleep, fixture, connect, submitJobs, voteTransaction } = require("./common.js");
const { executor, send } = require("../../scripts/executor.js");

const BILLION = 1_000_000_000n;
const SCRIPTED = 7;

async function run(nodeName, networkInfo) {
	const { wsUri: url } = networkInfo.nodesByName[nodeName];
	const { api, rpc, close } = await connect(networkInfo, nodeName);
	const keyring = new Keyring({ type: "sr25519" });
	const ferdie = keyring.addFromUri("//Ferdie");
	const scripted = new Map();
	for (let i = 1; i <= SCRIPTED; i++) {
		const account = keyring.addFromUri(`//Scripted${i}`);
		scripted.set(account.address, { account, suri: `//Scripted${i}`, key: keyring.addFromUri(`//Scripted${i}//infr`) });
	}
	const head = async () => (await api.rpc.chain.getHeader()).number.toNumber();
	const log = (line) => console.log(`  ${line}`);
	const show = (v) => JSON.stringify(v, (_, x) => (typeof x === "bigint" ? x.toString() : x));
	try {
		const minBond = api.consts.inference.minBond.toBigInt();
		const wrongResult = (minBond * BigInt(api.consts.inference.wrongResultSlash.toNumber())) / BILLION;
		const bond = api.consts.inference.challengeBond.toBigInt();
		const issuanceAt = async (n) => (await api.query.balances.totalIssuance.at(await api.rpc.chain.getBlockHash(n))).toBigInt();
		const start = await head();
		const issuanceBefore = await issuanceAt(start);

		// Fund and register the scripted executors.
		let nonce = (await api.rpc.system.accountNextIndex(ferdie.address)).toNumber();
		await Promise.all(
			[...scripted.keys()].map(
				(to) =>
					new Promise((resolve, reject) => {
						api.tx.balances
							.transferKeepAlive(to, minBond + 100n * 10n ** 12n)
							.signAndSend(ferdie, { nonce: nonce++ }, ({ status, dispatchError }) => {
								if (dispatchError) reject(new Error(`transfer: ${dispatchError.toString()}`));
								else if (status.isInBlock) resolve();
							})
							.catch(reject);
					}),
			),
		);
		await Promise.all([...scripted.values()].map(({ suri }) => executor({ url, suri, command: "register", keySuri: `${suri}//infr`, log: () => {} })));
		const drawable = (await api.query.inference.drawableCount()).toNumber();
		check(drawable === 3 + SCRIPTED, `${drawable} executors are drawable`);

		const mlp = fixture("mlp_classifier");
		const inputs = mlp.cases[0].inputs;
		const bob = networkInfo.nodesByName.bob.wsUri;
		const { WsProvider } = require("@polkadot/api");
		const simulator = new WsProvider(bob);
		await simulator.isReady;
		const truth = (await simulator.send("inference_simulate", [mlp.model_id, inputs, 6])).resultHash;
		await simulator.disconnect();
		const falseHash = u8aToHex(randomAsU8a(32));

		// Votes the scripted members of job `id`'s current committee: `liars` commit to and
		// reveal the false hash, the others the true one. Resolves once they revealed.
		const vote = async (id, members, liars) => {
			const mine = members.filter((m) => scripted.has(m));
			if (mine.length === 0) return;
			const key = (await api.call.inferenceApi.job(id)).unwrap().key.toU8a();
			const votes = mine.map((m) => {
				const hash = hexToU8a(liars.has(m) ? falseHash : truth);
				const salt = randomAsU8a(32);
				const { account } = scripted.get(m);
				return { m, hash, salt, commitment: blake2AsU8a(u8aConcat(hash, salt, account.publicKey, key), 256) };
			});
			const sendVote = async (m, kind, items) => {
				const tx = voteTransaction(api, scripted.get(m).key, kind, items, await head(), { executor: m, maxCommittee: members.length });
				await rpc.send("author_submitExtrinsic", [tx]);
			};
			for (const v of votes) await sendVote(v.m, "commit", [{ job: id, key, commitment: v.commitment }]);
			for (let tries = 0; ; tries++) {
				check(tries < 60, `job ${id} did not reach its reveal phase`);
				const view = await rpc.send("inference_job", [id]);
				if (view.phase === "Reveal") break;
				check(view.phase === "Commit", `job ${id} is ${view.phase} before the scripted members revealed`);
				await sleep(1000);
			}
			for (const v of votes) await sendVote(v.m, "reveal", [{ job: id, key, resultHash: v.hash, salt: v.salt, outcome: null }]);
		};
		const decided = async (id, seconds, done) => {
			for (let tries = 0; ; tries++) {
				const view = await rpc.send("inference_job", [id]);
				if (done(view)) return view;
				check(tries < seconds, `job ${id}: ${show(view)}`);
				await sleep(1000);
			}
		};

		// First rounds until one has two scripted members to lie.
		let job;
		let first;
		let liars;
		for (let attempt = 0; ; attempt++) {
			check(attempt < 6, "no first committee had two scripted members");
			const { submitted } = await submitJobs(api, ferdie, [{ model: mlp.model_id, inputs, committee: 3 }]);
			const [{ id, members }] = submitted;
			const mine = members.filter((m) => scripted.has(m));
			const lying = new Set(mine.length >= 2 ? mine.slice(0, 2) : []);
			await vote(id, members, lying);
			const view = await decided(id, 60, (v) => v.phase === "Completed" || v.phase === "Failed");
			if (lying.size === 2) {
				[job, first, liars] = [id, members, lying];
				check(view.phase === "Completed" && view.resultHash === falseHash, `the liars won job ${id}: ${show(view)}`);
				check(!view.isFinal && view.challengeUntil > (await head()), `job ${id} can be challenged: ${show(view)}`);
				break;
			}
			log(`job ${id}: committee ${members} has ${mine.length} scripted members; again`);
		}
		log(`job ${job}: ${[...liars]} won the first round with a false hash`);

		// Ferdie challenges; a committee of 7 without the first's members runs the job again.
		const events = await send(api, api.tx.inference.challenge(job), ferdie);
		const challenged = events.find((e) => e.section === "inference" && e.method === "JobChallenged");
		check(challenged && challenged.data.committeeSize.toNumber() === 7, `challenged: ${show(events.map((e) => e.method))}`);
		let second;
		for (let tries = 0; ; tries++) {
			check(tries < 60, `job ${job} had no second committee`);
			const view = (await api.call.inferenceApi.job(job)).unwrap();
			if (view.phase.toString() === "Commit" && view.committee.length === 7) {
				second = view.committee.map((m) => m.toString());
				break;
			}
			await sleep(1000);
		}
		check(second.length === 7 && second.every((m) => !first.includes(m)), `second committee ${second}, first ${first}`);
		const held = await api.query.balances.holds(ferdie.address);
		check(held.some((h) => h.id.isInference && h.id.asInference.isChallengeBond && h.amount.toBigInt() === bond), `Ferdie holds the bond: ${held}`);
		await vote(job, second, new Set());
		const final = await decided(job, 60, (v) => v.isFinal);
		check(final.phase === "Completed" && final.resultHash === truth, `the larger committee completed the job: ${show(final)}`);
		check(show(final.firstCommittee) === "[]" && show(final.committee.slice().sort()) === show(second.slice().sort()), `the final committee: ${show(final)}`);

		// What the blocks since the start say.
		const to = await head();
		const slashed = [];
		let settled;
		let finalized = false;
		let fees = 0n;
		for (let n = start + 1; n <= to; n++) {
			for (const { event } of await api.query.system.events.at(await api.rpc.chain.getBlockHash(n))) {
				const is = (name) => event.section === "inference" && event.method === name;
				if (api.events.transactionPayment.TransactionFeePaid.is(event)) fees += event.data.actualFee.toBigInt();
				if (is("Slashed")) slashed.push({ who: event.data.executor.toString(), job: event.data.job.toNumber(), offence: event.data.offence.type, amount: event.data.amount.toBigInt() });
				if (is("ChallengeSettled") && event.data.job.toNumber() === job) settled = { verdict: event.data.verdict.type, returned: event.data.returned.toBigInt() };
				if (is("JobFinalized") && event.data.job.toNumber() === job) finalized = true;
			}
		}
		log(`slashed: ${show(slashed)}`);
		const expected = [...liars].sort().map((who) => ({ who, job, offence: "WrongResult", amount: wrongResult }));
		check(show(slashed.filter((s) => s.job === job).sort((a, b) => (a.who < b.who ? -1 : 1))) === show(expected), `both liars are slashed for the wrong result: ${show(slashed)}`);
		check(settled && settled.verdict === "Overturned" && settled.returned === bond, `the challenge: ${show(settled)}`);
		check(finalized, "JobFinalized");
		for (const liar of liars) {
			const s = await executor({ url, suri: scripted.get(liar).suri, command: "status", log: () => {} });
			check(s.bond === minBond - wrongResult && !s.drawn && s.stats.slashed === 1, `liar ${liar}: ${show(s)}`);
		}
		const issuanceAfter = await issuanceAt(to);
		check(issuanceBefore - issuanceAfter === fees, `issuance fell by ${issuanceBefore - issuanceAfter}, the transaction fees are ${fees}`);
		return 1;
	} finally {
		await close();
	}
}

module.exports = { run };
