// 20 jobs over three bundled models and their different fixture inputs, committee 3, submitted
// at once by Ferdie: every one completes; its result hash equals inference_simulate's for the
// same inputs, and its outputs equal the model's Python onnxruntime fixture at 6 decimals; Ferdie
// paid exactly the quoted fees (plus transaction fees) and only the jobs' storage deposits stay
// held (until the jobs are pruned).
//
// zombienet calls `run(nodeName, networkInfo)` and fails the test when it throws.

const { check, fixtureJobs, submitJobs, waitForJobs, balance, connect } = require("./common.js");
const { Keyring } = require("@polkadot/api");

const MODELS = ["linear_regressor", "mlp_classifier", "tree_ensemble_classifier"];
const JOBS = 20;

async function run(nodeName, networkInfo) {
	const work = fixtureJobs(MODELS, JOBS);
	const { api, rpc, close } = await connect(networkInfo, nodeName, "charlie");
	const ferdie = new Keyring({ type: "sr25519" }).addFromUri("//Ferdie");
	try {
		const before = await balance(api, ferdie.address);
		const { submitted, txFees } = await submitJobs(api, ferdie, work);
		const views = await waitForJobs(rpc, submitted.map((s) => s.id), 120);

		for (const s of submitted) {
			const view = views.get(s.id);
			check(view.phase === "Completed", `job ${s.id}: ${view.phase} ${JSON.stringify(view.failure)}`);
			const simulated = await rpc.send("inference_simulate", [s.model, s.inputs, 6]);
			check(view.resultHash === simulated.resultHash, `job ${s.id}: chain and simulate hashes differ`);
			view.outcome.success.forEach((tensor, i) => {
				const expected = s.case.outputs[i];
				check(tensor.name === expected.name, `job ${s.id}: output ${tensor.name}`);
				if (tensor.fixed) {
					check(tensor.values.every((v, j) => Math.abs(v - expected.data[j]) <= 1e-6), `job ${s.id}: ${tensor.name} differs from the fixture`);
				}
			});
		}
		const after = await balance(api, ferdie.address);
		// Only the storage deposits stay held, until the jobs are pruned.
		const deposits = submitted.reduce((sum, s) => sum + s.deposit, 0n);
		check(after.held === deposits, `held ${after.held}, the deposits are ${deposits}`);
		const quoted = submitted.reduce((sum, s) => sum + s.quote, 0n);
		// The deadline fees a job did not use come back.
		const unused = submitted.reduce((sum, s) => sum + BigInt(views.get(s.id).fee.deadlineHeld), 0n);
		const paid = before.free - after.free;
		check(paid === quoted - unused + txFees + deposits, `paid ${paid}, quoted ${quoted} - unused deadline fees ${unused} + fees ${txFees} + deposits ${deposits}`);
		return 1;
	} finally {
		await close();
	}
}

module.exports = { run };
