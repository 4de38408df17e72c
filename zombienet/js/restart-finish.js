// Second half of the restart test: Bob was stopped while in the committee of Eve's last job, then
// killed and started again with the same data. He catches up: commits, reveals, and the job
// completes with all three members agreeing.
//
// zombienet calls `run(nodeName, networkInfo)` and fails the test when it throws.

const { check, waitForJobs, connect } = require("./common.js");
const { Keyring } = require("@polkadot/api");

async function run(nodeName, networkInfo) {
	const { api, rpc, close } = await connect(networkInfo, nodeName);
	const eve = new Keyring({ type: "sr25519" }).addFromUri("//Eve");
	try {
		const jobs = (await api.call.inferenceApi.jobsByRequester(eve.address)).map((j) => j.toNumber());
		const job = Math.max(...jobs);
		const view = (await waitForJobs(rpc, [job], 90)).get(job);
		check(view.phase === "Completed", `job ${job}: ${view.phase} ${JSON.stringify(view.failure)}`);
		check(view.reveals.every((r) => r === "revealed"), `job ${job}: reveals ${view.reveals} (Bob did not catch up)`);
		return 1;
	} finally {
		await close();
	}
}

module.exports = { run };
