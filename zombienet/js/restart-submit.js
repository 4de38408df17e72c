// First half of the restart test (zombienet has paused Bob's process before this runs): Eve
// submits a job with committee 3, and this waits until Alice and Charlie have committed. Bob,
// stopped, has not. zombienet then kills Bob and starts him again (`restart-finish.js` checks
// that he catches up).
//
// zombienet calls `run(nodeName, networkInfo)` and fails the test when it throws.

const { check, fixture, sleep, submitJobs, connect } = require("./common.js");
const { Keyring } = require("@polkadot/api");

const BOB = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty";

async function run(nodeName, networkInfo) {
	const { api, rpc, close } = await connect(networkInfo, nodeName);
	const eve = new Keyring({ type: "sr25519" }).addFromUri("//Eve");
	try {
		const mlp = fixture("mlp_classifier");
		const { submitted } = await submitJobs(api, eve, [{ model: mlp.model_id, inputs: mlp.cases[2].inputs, committee: 3 }]);
		const job = submitted[0].id;
		const deadline = Date.now() + 30_000;
		for (;;) {
			const view = await rpc.send("inference_job", [job]);
			const bob = view.committee.indexOf(BOB);
			check(bob >= 0 && !view.committed[bob], `job ${job}: Bob committed while stopped`);
			if (view.committed.filter(Boolean).length === 2) break;
			check(Date.now() < deadline, `job ${job}: Alice and Charlie did not commit in 30 s`);
			await sleep(500);
		}
		return 1;
	} finally {
		await close();
	}
}

module.exports = { run };
