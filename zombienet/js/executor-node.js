// A fourth node as a permissionless executor, in three steps (the first argument):
// - "join": Dave's node holds his inference key; he registers from @polkadot/api
//   (scripts/executor.js), bonding a little more than the chain's minimum, is drawn onto a
//   committee of four, his node's off-chain worker commits and reveals, the job completes 4 of
//   4 and he is paid the executor fee. Root sets the unbonding period to the shortest the chain
//   accepts first, so that the last step can wait it out.
// - "offline" (Dave's node stopped): three committees of four are drawn with him on them; each
//   completes 3 of 4, Dave is slashed for each miss and the three share a fifth of each; his
//   third miss in a row chills him (`ChilledForMisses`), though his bond is still above the
//   minimum, and he is no longer drawn; he leaves, and the rest of his bond is unbonding.
// - "withdraw" (his node back): after the unbonding period, withdrawing returns exactly the rest
//   and Dave leaves the registry.
// In every step total issuance falls by exactly the transaction fees burned.
//
// zombienet calls `run(nodeName, networkInfo, [step])`.

const { Keyring } = require("@polkadot/api");
const { u8aToHex } = require("@polkadot/util");
const { check, fixture, connect, submitJobs, waitForJobs, send, until } = require("./common.js");
const { executor } = require("../../scripts/executor.js");

const BILLION = 1_000_000_000n;
const UNIT = 10n ** 12n;
/** What Dave bonds beyond the minimum: more than his three misses cost. */
const EXTRA = 1n;
const show = (v) => JSON.stringify(v, (_, x) => (typeof x === "bigint" ? x.toString() : x));

/**
 * Blocks `from + 1 ..= to`: their inference events, the transaction fees paid (`fees`, and
 * `feesOf(account)`), and how much total issuance fell (`burned`).
 */
async function blocks(api, from, to) {
	const events = [];
	const paid = [];
	for (let n = from + 1; n <= to; n++) {
		for (const { event } of await api.query.system.events.at(await api.rpc.chain.getBlockHash(n))) {
			if (api.events.transactionPayment.TransactionFeePaid.is(event)) paid.push({ who: event.data.who.toString(), fee: event.data.actualFee.toBigInt() });
			if (event.section === "inference") events.push(event);
		}
	}
	const issuance = async (n) => (await api.query.balances.totalIssuance.at(await api.rpc.chain.getBlockHash(n))).toBigInt();
	const sum = (list) => list.reduce((total, p) => total + p.fee, 0n);
	return {
		events,
		fees: sum(paid),
		feesOf: (who) => sum(paid.filter((p) => p.who === who)),
		burned: (await issuance(from)) - (await issuance(to)),
	};
}

async function run(nodeName, networkInfo, args) {
	const step = args[0];
	const { wsUri: url } = networkInfo.nodesByName[nodeName];
	const { api, rpc, close } = await connect(networkInfo, nodeName);
	const keyring = new Keyring({ type: "sr25519" });
	const alice = keyring.addFromUri("//Alice");
	const dave = keyring.addFromUri("//Dave");
	const ferdie = keyring.addFromUri("//Ferdie");
	const head = async () => (await api.rpc.chain.getHeader()).number.toNumber();
	const free = async (who) => (await api.query.system.account(who)).data.free.toBigInt();
	const status = () => executor({ url, suri: "//Dave", command: "status", log: () => {} });
	const log = (line) => console.log(`  ${line}`);
	const linear = fixture("linear_regressor");
	const job = (committee) => ({ model: linear.model_id, inputs: linear.cases[0].inputs, committee });
	const minBond = api.consts.inference.minBond.toBigInt();
	const rate = (x) => BigInt(x.toNumber());
	const missSlash = (minBond * rate(api.consts.inference.missSlash)) / BILLION;
	// What is left of Dave's bond after his three misses.
	const rest = minBond + EXTRA * UNIT - 3n * missSlash;
	const start = await head();
	try {
		if (step === "join") {
			// zombienet put Dave's `infr` key (his account's sr25519 key) in his node's keystore.
			const daveNode = await connect(networkInfo, "dave");
			const held = await daveNode.rpc.send("author_hasKey", [u8aToHex(dave.publicKey), "infr"]);
			await daveNode.close();
			check(held === true, "Dave's node holds his inference key");

			const c = api.consts.inference;
			const shortest = 2 * (c.challengeWindow.toNumber() + c.drawDelay.toNumber() + c.commitWindow.toNumber() + c.revealWindow.toNumber()) + 1;
			const refused = await send(api, api.tx.sudo.sudo(api.tx.inference.setUnbondingPeriod(shortest - 1)), alice).then(
				() => null,
				(e) => e.message,
			);
			check(refused === "sudo call failed: inference.UnbondingPeriodTooShort", `a period shorter than a job is refused: ${refused}`);
			await send(api, api.tx.sudo.sudo(api.tx.inference.setUnbondingPeriod(shortest)), alice);
			check((await api.query.inference.unbondingPeriod()).toNumber() === shortest, `the unbonding period is ${shortest} blocks`);

			const bond = minBond + EXTRA * UNIT;
			const registered = await executor({ url, suri: "//Dave", command: "register", keySuri: "//Dave", bond: String(minBond / UNIT + EXTRA), log });
			check(registered.bond === bond && registered.drawn, `Dave is bonded and drawn: ${show(registered)}`);
			check((await api.query.inference.drawableCount()).toNumber() === 4, "four executors are drawable");

			const before = await free(dave.address);
			const { submitted } = await submitJobs(api, ferdie, [job(4)]);
			const [{ id, members }] = submitted;
			check(members.includes(dave.address), `Dave is on the committee: ${members}`);
			const view = (await waitForJobs(rpc, [id], 90)).get(id);
			check(view.phase === "Completed", `job ${id} is ${view.phase}: ${JSON.stringify(view.failure)}`);
			const seat = members.indexOf(dave.address);
			check(view.committed[seat] && view.reveals[seat] === "revealed", `Dave's node committed and revealed: ${JSON.stringify(view)}`);
			const fee = api.consts.inference.executorFee.toBigInt();
			const got = (await free(dave.address)) - before;
			check(got === fee, `Dave was paid ${got}, the executor fee is ${fee}`);
			const after = await status();
			check(after.stats.agreed === 1 && after.stats.assigned === 1, `Dave's record: ${show(after.stats)}`);
		} else if (step === "offline") {
			const share = rate(api.consts.inference.slashRewardShare);
			const limit = api.consts.inference.maxConsecutiveMisses.toNumber();
			check(limit === 3, `three misses in a row chill an executor (${limit})`);
			const { submitted } = await submitJobs(api, ferdie, [job(4), job(4), job(4)]);
			const ids = submitted.map((j) => j.id);
			for (const { members } of submitted) check(members.includes(dave.address), `Dave is on the committee: ${members}`);
			const views = await waitForJobs(rpc, ids, 120);
			for (const { id, members } of submitted) {
				const view = views.get(id);
				check(view.phase === "Completed", `job ${id} completes without Dave: ${view.phase} ${JSON.stringify(view.failure)}`);
				const seat = members.indexOf(dave.address);
				// Each validator must vote in time: with four executors, 3 of 4 is the quorum.
				check(!view.committed[seat] && view.committed.filter((x) => x).length === 3, `3 of 4 committed on job ${id} (seat ${seat} is Dave's): ${JSON.stringify(view.committed)} ${JSON.stringify(view.reveals)}`);
			}

			const { events } = await blocks(api, start, await head());
			const slashed = events.filter((e) => api.events.inference.Slashed.is(e)).map((e) => ({ who: e.data.executor.toString(), job: e.data.job.toNumber(), offence: e.data.offence.type, amount: e.data.amount.toBigInt() }));
			const expected = ids.map((id) => ({ who: dave.address, job: id, offence: "Missed", amount: missSlash }));
			check(show(slashed.sort((x, y) => x.job - y.job)) === show(expected), `Dave is slashed for each miss: ${show(slashed)}`);
			const rewarded = events.filter((e) => api.events.inference.SlashRewarded.is(e)).map((e) => ({ who: e.data.executor.toString(), job: e.data.job.toNumber(), amount: e.data.amount.toBigInt() }));
			const each = (missSlash * share) / BILLION / 3n;
			for (const { id, members } of submitted) {
				const others = members.filter((m) => m !== dave.address).sort();
				const paid = rewarded.filter((r) => r.job === id);
				check(show(paid.map((r) => r.who).sort()) === show(others) && paid.every((r) => r.amount === each), `the three share a fifth of job ${id}'s slash: ${show(paid)}`);
			}
			const chilled = events.filter((e) => api.events.inference.ChilledForMisses.is(e)).map((e) => ({ who: e.data.executor.toString(), misses: e.data.misses.toNumber() }));
			check(show(chilled) === show([{ who: dave.address, misses: 3 }]), `his third miss in a row chills him: ${show(chilled)}`);

			const after = await status();
			check(after.bond === rest && after.bond >= minBond, `Dave's bond is ${after.bond}, still above the minimum`);
			check(after.status === "Chilled" && !after.drawn && after.stats.missed === 3 && after.missesInARow === 3, `Dave is chilled and not drawn: ${show(after)}`);
			check((await api.query.inference.drawableCount()).toNumber() === 3, "three executors are drawable");
			const next = await submitJobs(api, ferdie, [job(3)]);
			check(!next.submitted[0].members.includes(dave.address), `Dave is no longer drawn: ${next.submitted[0].members}`);
			await waitForJobs(rpc, [next.submitted[0].id], 90);

			const left = await executor({ url, suri: "//Dave", command: "leave", log });
			const period = (await api.query.inference.unbondingPeriod()).toNumber();
			const now = await head();
			check(left.bond === 0n && left.unlocking.length === 1 && left.unlocking[0].amount === rest, `the rest is unbonding: ${show(left)}`);
			check(left.unlocking[0].at > now && left.unlocking[0].at <= now + period, `for the unbonding period: ${show(left.unlocking)} at ${now}`);
		} else if (step === "withdraw") {
			const before = await status();
			const [{ amount, at }] = before.unlocking;
			check(before.unlocking.length === 1 && amount === rest, `the rest of Dave's bond is unbonding: ${show(before)}`);
			const refused = await executor({ url, suri: "//Dave", command: "withdraw", log: () => {} }).then(
				() => null,
				(e) => e.message,
			);
			check(refused && refused.startsWith("inference.NothingToWithdraw"), `nothing to withdraw before block ${at}: ${refused}`);
			await until(`block ${at}`, 4 * (at - (await head())) + 30, async () => (await head()) >= at);
			const from = await head();
			const freeBefore = (await api.query.system.account.at(await api.rpc.chain.getBlockHash(from), dave.address)).data.free.toBigInt();
			const withdrawn = await executor({ url, suri: "//Dave", command: "withdraw", log });
			check(withdrawn === null, `Dave left the registry: ${show(withdrawn)}`);
			const to = await head();
			const { events, feesOf } = await blocks(api, from, to);
			const txFee = feesOf(dave.address);
			const freeAfter = (await api.query.system.account.at(await api.rpc.chain.getBlockHash(to), dave.address)).data.free.toBigInt();
			check(freeAfter - freeBefore === amount - txFee, `withdrawing returned exactly the rest (${amount}) less its transaction fee (${txFee}): ${freeAfter - freeBefore}`);
			const withdrawnEvent = events.find((e) => api.events.inference.Withdrawn.is(e));
			check(withdrawnEvent && withdrawnEvent.data.amount.toBigInt() === amount, "Withdrawn names the whole rest");
			check(events.some((e) => api.events.inference.ExecutorLeft.is(e)), "ExecutorLeft");
			const holds = await api.query.balances.holds(dave.address);
			check(!holds.some((h) => h.id.isInference && h.id.asInference.isExecutorBond), `nothing of Dave's is held as a bond: ${holds.toString()}`);
		} else {
			throw new Error(`unknown step ${step}`);
		}
		const { fees, burned } = await blocks(api, start, await head());
		check(burned === fees, `issuance fell by ${burned}, the transaction fees are ${fees}`);
		return 1;
	} finally {
		await close();
	}
}

module.exports = { run };
