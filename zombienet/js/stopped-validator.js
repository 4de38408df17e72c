// One validator stopped (zombienet pauses Charlie's process before this runs): 5 jobs over two
// models with committee 3 still complete, 2 of 3. Alice and Bob agree, Charlie misses each job
// and is slashed `missSlash` of the minimum bond for each (Alice and Bob settled it in time), and
// the requester gets Charlie's executor fee back.
//
// zombienet calls `run(nodeName, networkInfo)` and fails the test when it throws.

const { check, fixture, submitJobs, waitForJobs, balance, connect } = require("./common.js");
const { Keyring } = require("@polkadot/api");

const CHARLIE = "5FLSigC9HGRKVhB9FiEo4Y3koPsNmBmLJbpXg2mp1hXcS59Y";
const JOBS = 5;

async function run(nodeName, networkInfo) {
	const { api, rpc, close } = await connect(networkInfo, nodeName, "bob");
	const ferdie = new Keyring({ type: "sr25519" }).addFromUri("//Ferdie");
	try {
		const models = [fixture("linear_regressor"), fixture("mlp_classifier")];
		const work = Array.from({ length: JOBS }, (_, i) => {
			const fx = models[i % 2];
			return { model: fx.model_id, inputs: fx.cases[i % fx.cases.length].inputs, committee: 3 };
		});
		const missedBefore = (await api.query.inference.stats(CHARLIE)).missed.toNumber();
		const bondOf = async (who) => (await api.query.inference.executors(who)).unwrap().bond.toBigInt();
		const bondBefore = await bondOf(CHARLIE);
		const before = await balance(api, ferdie.address);
		const { submitted, txFees } = await submitJobs(api, ferdie, work);
		const views = await waitForJobs(rpc, submitted.map((s) => s.id), 180);

		let refunded = 0n;
		for (const s of submitted) {
			const view = views.get(s.id);
			check(view.phase === "Completed", `job ${s.id}: ${view.phase} ${JSON.stringify(view.failure)}`);
			const charlie = view.committee.indexOf(CHARLIE);
			check(charlie >= 0, `job ${s.id}: Charlie is not in the committee ${view.committee}`);
			view.reveals.forEach((r, i) => {
				check(r === (i === charlie ? "pending" : "revealed"), `job ${s.id}: reveals ${view.reveals}`);
			});
			const simulated = await rpc.send("inference_simulate", [s.model, s.inputs, 6]);
			check(view.resultHash === simulated.resultHash, `job ${s.id}: chain and simulate hashes differ`);
			// Charlie's executor fee, and the deadline fee not used: with Charlie's votes missing
			// the hook moved the job on at one deadline, and took that one.
			check(BigInt(view.fee.deadlineHeld) === BigInt(view.fee.deadline), `job ${s.id}: deadline fees ${JSON.stringify(view.fee)}`);
			refunded += BigInt(view.fee.perExecutor) + BigInt(view.fee.deadlineHeld);
		}
		const missed = (await api.query.inference.stats(CHARLIE)).missed.toNumber() - missedBefore;
		check(missed === JOBS, `Charlie's missed count grew by ${missed}, not ${JOBS}`);
		const missSlash = (api.consts.inference.minBond.toBigInt() * BigInt(api.consts.inference.missSlash.toNumber())) / 1_000_000_000n;
		const lost = bondBefore - (await bondOf(CHARLIE));
		check(lost === BigInt(JOBS) * missSlash, `Charlie's bond fell by ${lost}, not ${JOBS} x ${missSlash}`);
		const after = await balance(api, ferdie.address);
		// Only the storage deposits stay held, until the jobs are pruned.
		const deposits = submitted.reduce((sum, s) => sum + s.deposit, 0n);
		check(after.held === deposits, `held ${after.held}, the deposits are ${deposits}`);
		const quoted = submitted.reduce((sum, s) => sum + s.quote, 0n);
		const paid = before.free - after.free;
		check(paid === quoted - refunded + txFees + deposits, `paid ${paid}, quoted ${quoted} - refunded ${refunded} + fees ${txFees} + deposits ${deposits}`);
		return 1;
	} finally {
		await close();
	}
}

module.exports = { run };
