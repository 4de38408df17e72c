// A runtime upgrade with jobs in flight. The network starts with the runtime of an earlier
// release (scripts/upgrade-base.sh: spec 108, without sessions); Ferdie submits jobs, and while
// some are being voted on and others wait for their draw, root sets this checkout's runtime
// (`sudo.sudoUncheckedWeight(system.setCode)`). Then:
// - the new runtime is in force and its migrations ran: the validator set and the session hold
//   Alice, Bob and Charlie (`IntoSessions`), the validator set's storage version is 1, and the
//   inference pallet's jobs were translated by a multi-block migration (version 5 to 6);
// - jobs were open when the migration ran, and every job completes, with the result hash
//   inference_simulate computes for its inputs, and becomes final;
// - the three validators go on authoring, and finality goes on past the migration;
// - Ferdie paid exactly the quoted fees (plus transaction fees and the deposits still held), and
//   total issuance fell by exactly the transaction fees burned.
//
// zombienet calls `run(nodeName, networkInfo)` and fails the test when it throws.

const { execFileSync } = require("child_process");
const { Keyring } = require("@polkadot/api");
const { check, connect, fixtureJobs, submitJobs, waitForJobs, balance, send, until, finalized } = require("./common.js");

const MODELS = ["linear_regressor", "mlp_classifier", "tree_ensemble_classifier"];
const CODE_KEY = "0x3a636f6465"; // `:code`

/** This checkout's runtime: the code of the node's own `local` spec. */
function currentRuntime() {
	const node = process.env.VERITY_NODE;
	check(node, "VERITY_NODE names the node binary");
	const args = ["build-spec", "--chain", "local", "--raw", "--disable-default-bootnode"];
	const spec = JSON.parse(execFileSync(node, args, { maxBuffer: 1 << 30, stdio: ["ignore", "pipe", "ignore"] }));
	const code = spec.genesis.raw.top[CODE_KEY];
	check(code && code.length > 2, "the node's local spec carries its runtime");
	return code;
}

async function run(nodeName, networkInfo) {
	const code = currentRuntime();
	// `let`: replaced by a connection made after the upgrade, with the new runtime's metadata.
	let { api, rpc, close } = await connect(networkInfo, nodeName, "bob");
	const keyring = new Keyring({ type: "sr25519" });
	const [alice, ferdie] = ["//Alice", "//Ferdie"].map((s) => keyring.addFromUri(s));
	const names = ["//Alice", "//Bob", "//Charlie"].map((s) => keyring.addFromUri(s).address).sort();
	const log = (line) => console.log(`  ${line}`);
	const head = async () => (await api.rpc.chain.getHeader()).number.toNumber();
	const at = async (n) => api.at(await api.rpc.chain.getBlockHash(n));
	try {
		const from = api.runtimeVersion.specVersion.toNumber();
		check(!api.query.session && !api.query.validatorSet, `spec ${from} already has sessions: is this the earlier release's chain?`);
		const start = await head();
		const issuanceBefore = (await (await at(start)).query.balances.totalIssuance()).toBigInt();
		const before = await balance(api, ferdie.address);

		// Six jobs drawn before the upgrade: they are being committed and revealed when it lands.
		const first = await submitJobs(api, ferdie, fixtureJobs(MODELS, 6));
		// Six more, and the upgrade at once: their committees are drawn by the new runtime.
		// (Transactions still in the pool at the upgrade are invalid after it: they name the
		// old spec version.)
		const second = await submitJobs(api, ferdie, fixtureJobs(MODELS, 6), { draw: false });
		const upgrade = api.tx.sudo.sudoUncheckedWeight(api.tx.system.setCode(code), { refTime: 0, proofSize: 0 });
		const events = await send(api, upgrade, alice);
		check(events.some((e) => e.section === "system" && e.method === "CodeUpdated"), "setCode emitted CodeUpdated");
		const jobs = [...first.submitted, ...second.submitted];
		const txFees = first.txFees + second.txFees;

		// The block after the one that set the code runs the new runtime and its migrations.
		const to = await until("the new runtime", 60, async () => {
			const v = await api.rpc.state.getRuntimeVersion();
			return v.specVersion.toNumber() > from && v.specVersion.toNumber();
		});
		let codeSet = start;
		while ((await api.rpc.state.getRuntimeVersion(await api.rpc.chain.getBlockHash(codeSet))).specVersion.toNumber() === from) codeSet++;
		const migrated = codeSet + 1;
		await until(`block ${migrated}`, 30, async () => (await head()) >= migrated);
		log(`spec ${from} -> ${to}: set in block ${codeSet}, migrations ran from block ${migrated}`);
		await close();
		({ api, rpc, close } = await connect(networkInfo, nodeName, "bob"));
		check(api.runtimeVersion.specVersion.toNumber() === to, `reconnected to spec ${api.runtimeVersion.specVersion}`);
		const open = [];
		// The last state the earlier runtime wrote and read (its own layout).
		const beforeMigration = await at(codeSet - 1);
		for (const job of jobs) {
			const stored = await beforeMigration.query.inference.jobs(job.id);
			if (stored.isSome && ["Draw", "Commit", "Reveal"].includes(stored.unwrap().phase.toString())) open.push(`${job.id}:${stored.unwrap().phase}`);
		}
		log(`open when the migration ran: ${open.join(", ")}`);
		check(open.length > 0, "jobs were in flight when the migration ran");

		// The migrations ran: the validator set and the session, and the storage versions.
		const now = await at(migrated);
		const members = (await now.query.validatorSet.validators()).map(String).sort();
		check(JSON.stringify(members) === JSON.stringify(names), `validator set after the upgrade: ${members}`);
		const sessionValidators = (await now.query.session.validators()).map(String).sort();
		check(JSON.stringify(sessionValidators) === JSON.stringify(names), `session validators: ${sessionValidators}`);
		// The inference pallet's storage goes through a multi-block migration: blocks carry
		// inherents only until `multiBlockMigrations` says the upgrade completed.
		const completed = await until("the multi-block migration", 120, async () => {
			for (let n = migrated; n <= (await head()); n++) {
				const events = await (await at(n)).query.system.events();
				if (events.some(({ event }) => event.section === "multiBlockMigrations" && event.method === "UpgradeCompleted")) return n;
			}
			return 0;
		});
		check((await api.query.multiBlockMigrations.cursor()).isNone, "no migration is under way");
		const versions = { validatorSet: (await now.query.validatorSet.palletVersion()).toNumber(), inference: (await api.query.inference.palletVersion()).toNumber() };
		const inferenceBefore = (await beforeMigration.query.inference.palletVersion()).toNumber();
		check(versions.validatorSet === 1 && inferenceBefore === 5 && versions.inference === 6, `storage versions ${JSON.stringify(versions)}, inference was ${inferenceBefore}`);
		log(`the multi-block migration completed in block ${completed}`);

		// Every job completes with the result its inputs give, and becomes final.
		const views = await waitForJobs(rpc, jobs.map((j) => j.id), 180);
		for (const job of jobs) {
			const view = views.get(job.id);
			check(view.phase === "Completed", `job ${job.id}: ${view.phase} ${JSON.stringify(view.failure)}`);
			const simulated = await rpc.send("inference_simulate", [job.model, job.inputs, 6]);
			check(view.resultHash === simulated.resultHash, `job ${job.id}: the chain's and simulate's hashes differ`);
		}
		await until("every job final", 180, async () => {
			for (const job of jobs) if (!(await rpc.send("inference_job", [job.id])).isFinal) return false;
			return true;
		});

		// The three author under the new runtime, and finality goes on past the migration.
		const authors = new Set();
		await until("blocks by all three validators", 60, async () => {
			for (let n = migrated + 1; n <= (await head()); n++) {
				authors.add(String((await api.derive.chain.getHeader(await api.rpc.chain.getBlockHash(n))).author));
			}
			return authors.size === 3;
		});
		await finalized(api, (await head()) + 2, 60);

		// Fees and issuance.
		const final = await Promise.all(jobs.map((j) => rpc.send("inference_job", [j.id])));
		const after = await balance(api, ferdie.address);
		const deposits = jobs.reduce((sum, j) => sum + j.deposit, 0n);
		const quoted = jobs.reduce((sum, j) => sum + j.quote, 0n);
		const unused = final.reduce((sum, v) => sum + BigInt(v.fee.deadlineHeld), 0n);
		check(after.held === deposits, `Ferdie holds ${after.held}, the deposits are ${deposits}`);
		const paid = before.free - after.free;
		check(paid === quoted - unused + txFees + deposits, `paid ${paid}, quoted ${quoted} - unused deadline fees ${unused} + fees ${txFees} + deposits ${deposits}`);
		const end = await head();
		let burned = 0n;
		for (let n = start + 1; n <= end; n++) {
			const block = await at(n);
			for (const { event } of await block.query.system.events()) {
				if (event.section === "transactionPayment" && event.method === "TransactionFeePaid") burned += event.data.actualFee.toBigInt();
			}
		}
		const issuanceAfter = (await (await at(end)).query.balances.totalIssuance()).toBigInt();
		check(issuanceBefore - issuanceAfter === burned, `issuance fell by ${issuanceBefore - issuanceAfter}, the transaction fees are ${burned}`);
		log(`${jobs.length} jobs completed and final; issuance fell by the ${burned} of transaction fees`);
		return 1;
	} finally {
		await close();
	}
}

module.exports = { run };
