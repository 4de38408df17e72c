// The transaction pool under a flood of executor votes: a job's commit re-signed 300 times (each
// signing a new, valid transaction; sr25519 signatures are randomised) and 300 forged ones.
// One vote has one pool identity: at most one of the re-signed copies gets in, none of the
// forged ones; the pool stays small, a user's transfer is included at once, and the job still
// completes by quorum.
//
// The votes are authorized general transactions (extrinsic version 5), which @polkadot/api 16
// cannot build: this script writes their bytes itself (see common.js) and signs them with Alice's
// inference key, as her off-chain worker would.
//
// zombienet calls `run(nodeName, networkInfo)` and fails the test when it throws.

const { check, sleep, fixture, connect, submitJobs, waitForJobs, voteTransaction } = require("./common.js");
const { Keyring } = require("@polkadot/api");
const { randomAsU8a } = require("@polkadot/util-crypto");

const COPIES = 300;

async function run(nodeName, networkInfo) {
	const { api, rpc, close } = await connect(networkInfo, nodeName);
	const keyring = new Keyring({ type: "sr25519" });
	const [eve, ferdie, alice] = ["//Eve", "//Ferdie", "//Alice"].map((s) => keyring.addFromUri(s));
	try {
		const linear = fixture("linear_regressor");
		const { submitted } = await submitJobs(api, eve, [{ model: linear.model_id, inputs: linear.cases[0].inputs, committee: 3 }]);
		const job = submitted[0];
		const info = (await api.call.inferenceApi.job(job.id)).unwrap();
		const sentAt = (await api.rpc.chain.getHeader()).number.toNumber();
		const item = { job: job.id, key: info.key.toU8a(), commitment: randomAsU8a(32) };

		const send = (hex) => rpc.send("author_submitExtrinsic", [hex]).then(() => "accepted", (e) => e.message);
		const resigned = [];
		for (let i = 0; i < COPIES; i++) resigned.push(voteTransaction(api, alice, "commit", [item], sentAt));
		check(new Set(resigned).size === COPIES, "the re-signed copies are not distinct transactions");
		const resignedResults = await Promise.all(resigned.map(send));
		const forged = [];
		for (let i = 0; i < COPIES; i++) forged.push(voteTransaction(api, alice, "commit", [item], sentAt, { signature: randomAsU8a(64) }));
		const forgedResults = await Promise.all(forged.map(send));

		const count = (results, what) => results.filter((r) => r === what).length;
		const reasons = (results) => [...new Set(results.filter((r) => r !== "accepted"))].join(" | ");
		console.log(`re-signed: ${count(resignedResults, "accepted")} of ${COPIES} accepted; refused: ${reasons(resignedResults)}`);
		console.log(`forged: ${count(forgedResults, "accepted")} of ${COPIES} accepted; refused: ${reasons(forgedResults)}`);
		check(count(resignedResults, "accepted") <= 1, `${count(resignedResults, "accepted")} re-signed copies of one vote are in the pool`);
		check(count(forgedResults, "accepted") === 0, `${count(forgedResults, "accepted")} forged votes are in the pool`);
		check(forgedResults.every((r) => /bad signature/i.test(r)), `forged votes refused with: ${reasons(forgedResults)}`);
		const pending = (await rpc.send("author_pendingExtrinsics", [])).length;
		check(pending <= 10, `${pending} transactions wait in the pool`);

		// A user's transfer gets in at once.
		const included = await new Promise((resolve, reject) => {
			const started = Date.now();
			api.tx.balances
				.transferKeepAlive(eve.address, 10n ** 12n)
				.signAndSend(ferdie, ({ status, dispatchError }) => {
					if (dispatchError) reject(new Error(`transfer: ${dispatchError}`));
					else if (status.isInBlock) resolve(Date.now() - started);
				})
				.catch(reject);
		});
		console.log(`the transfer was in a block after ${(included / 1000).toFixed(1)} s`);
		check(included < 30_000, "the transfer did not get into a block");

		// The job completes: the flood did not stop its committee.
		const view = (await waitForJobs(rpc, [job.id], 90)).get(job.id);
		check(view.phase === "Completed", `the job is ${view.phase} ${JSON.stringify(view.failure)}`);
		await sleep(0);
		return 1;
	} finally {
		await close();
	}
}

module.exports = { run };
