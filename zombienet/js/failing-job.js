// Bad jobs: an input that passes every submission check (linear_regressor with values of 1e30)
// cannot be canonicalised when run; all three validators agree on that failure, and the job ends
// `JobFailed { Execution(code) }` with the code inference_simulate gives for the same input. The
// documented refund applies: the requester pays the agreeing members' executor fees and the base
// fee, the model fee comes back. Then a retired model (cnn_mnist, retired by its owner Alice) is
// refused at submission with `inference.ModelNotRunnable`, and nothing is charged but the
// transaction fee.
//
// zombienet calls `run(nodeName, networkInfo)` and fails the test when it throws.

const { check, fixture, chainTensor, submitJobs, waitForJobs, balance, connect } = require("./common.js");
const { dispatchErrorText } = require("../../scripts/lib/chain.js");
const { Keyring } = require("@polkadot/api");

async function run(nodeName, networkInfo) {
	const { api, rpc, close } = await connect(networkInfo, nodeName, "bob");
	const keyring = new Keyring({ type: "sr25519" });
	const dave = keyring.addFromUri("//Dave");
	const alice = keyring.addFromUri("//Alice");
	try {
		// 1. Fails at execution, by quorum.
		const linear = fixture("linear_regressor");
		const inputs = linear.cases[0].inputs.map((t) => ({ ...t, data: t.data.map((v, i) => (i % 2 ? -1e30 : 1e30)) }));
		const simulated = await rpc.send("inference_simulate", [linear.model_id, inputs, 6]);
		check(simulated.outcome.failure, `simulate gives ${JSON.stringify(simulated.outcome)}, not a failure`);

		const before = await balance(api, dave.address);
		const { submitted, txFees } = await submitJobs(api, dave, [{ model: linear.model_id, inputs, committee: 3 }]);
		const job = submitted[0];
		const view = (await waitForJobs(rpc, [job.id], 90)).get(job.id);
		check(view.phase === "Failed", `job ${job.id} is ${view.phase}`);
		check(view.failure && view.failure.execution === simulated.outcome.failure, `failure ${JSON.stringify(view.failure)}, simulate ${simulated.outcome.failure}`);
		check(view.resultHash === simulated.resultHash, `result hash ${view.resultHash} vs simulate ${simulated.resultHash}`);
		check(view.reveals.every((r) => r === "revealed"), `reveals ${view.reveals}`);

		const after = await balance(api, dave.address);
		check(after.held === job.deposit, `held ${after.held}, the storage deposit is ${job.deposit}`);
		const expected = 3n * BigInt(view.fee.perExecutor) + BigInt(view.fee.base) + BigInt(view.fee.upkeep);
		check(BigInt(view.fee.model) > 0n, "the model has a fee to refund");
		const paid = before.free - after.free - txFees - job.deposit;
		check(paid === expected, `paid ${paid} for the failed job, expected executor fees + base fee + upkeep fee = ${expected}`);

		// 2. A retired model is refused at submission.
		const cnn = fixture("cnn_mnist");
		await new Promise((resolve, reject) => {
			api.tx.modelRegistry.setStatus(cnn.model_id, "Retired").signAndSend(alice, ({ status, dispatchError }) => {
				if (dispatchError) reject(new Error(`set_status: ${dispatchErrorText(api, dispatchError)}`));
				else if (status.isInBlock) resolve();
			}).catch(reject);
		});
		const record = (await api.query.modelRegistry.models(cnn.model_id)).unwrap();
		check(record.status.toString() === "Retired", `cnn_mnist is ${record.status}`);
		const daveBefore = await balance(api, dave.address);
		const error = await new Promise((resolve, reject) => {
			api.tx.inference
				.submitJob(cnn.model_id, cnn.cases[0].inputs.map(chainTensor), 3, 10n ** 15n)
				.signAndSend(dave, ({ status, dispatchError }) => {
					if (dispatchError) resolve(dispatchErrorText(api, dispatchError));
					else if (status.isInBlock) reject(new Error("a job on a retired model was accepted"));
				})
				.catch(reject);
		});
		check(error.startsWith("inference.ModelNotRunnable"), `refused with ${error}`);
		const daveAfter = await balance(api, dave.address);
		check(daveAfter.held === daveBefore.held, `held after refusal: ${daveAfter.held}, before ${daveBefore.held}`);
		const quote = await api.call.inferenceApi.feeEstimate(cnn.model_id, 3);
		check(quote.isNone, `a fee is still quoted for a retired model: ${quote}`);
		return 1;
	} finally {
		await close();
	}
}

module.exports = { run };
