// 20 jobs over three bundled models and their different fixture inputs, committee 3, submitted
// at once by Ferdie: every one completes; its result hash equals inference_simulate's for the
// same inputs, and its outputs equal the model's Python onnxruntime fixture at 6 decimals; Ferdie
// paid exactly the quoted fees (plus transaction fees) and nothing stays held.
//
// zombienet calls `run(nodeName, networkInfo)` and fails the test when it throws.

const fs = require("fs");
const path = require("path");
const { check, chainTensor } = require("./common.js");
const { ApiPromise, WsProvider, Keyring } = require("@polkadot/api");

const ROOT = path.join(__dirname, "..", "..");
const MODELS = ["linear_regressor", "mlp_classifier", "tree_ensemble_classifier"];
const JOBS = 20;

async function run(nodeName, networkInfo) {
	const fixtures = Object.fromEntries(
		MODELS.map((m) => [m, JSON.parse(fs.readFileSync(path.join(ROOT, "models", `${m}.fixtures.json`)))]),
	);
	const work = Array.from({ length: JOBS }, (_, i) => {
		const fx = fixtures[MODELS[i % MODELS.length]];
		return { fx, case: fx.cases[Math.floor(i / MODELS.length) % fx.cases.length] };
	});
	const uri = networkInfo.nodesByName[nodeName].wsUri;
	const api = await ApiPromise.create({ provider: new WsProvider(uri), noInitWarn: true });
	const rpc = new WsProvider(networkInfo.nodesByName.charlie.wsUri);
	await rpc.isReady;
	const ferdie = new Keyring({ type: "sr25519" }).addFromUri("//Ferdie");
	try {
		const before = (await api.query.system.account(ferdie.address)).data.free.toBigInt();
		let nonce = (await api.rpc.system.accountNextIndex(ferdie.address)).toNumber();
		const completed = new Map();
		const failed = [];
		const unsubscribe = await api.query.system.events((events) => {
			for (const { event } of events) {
				if (api.events.inference.JobCompleted.is(event)) {
					completed.set(event.data.job.toNumber(), event.data.resultHash.toHex());
				}
				if (api.events.inference.JobFailed.is(event)) failed.push(event.data.toString());
			}
		});
		let quoted = 0n;
		let txFees = 0n;
		const submissions = await Promise.all(
			work.map(async (w) => {
				const quote = (await api.call.inferenceApi.feeEstimate(w.fx.model_id, 3)).unwrap().toBigInt();
				quoted += quote;
				return new Promise((resolve, reject) => {
					api.tx.inference
						.submitJob(w.fx.model_id, w.case.inputs.map(chainTensor), 3, quote)
						.signAndSend(ferdie, { nonce: nonce++ }, ({ status, events, dispatchError }) => {
							if (dispatchError) reject(new Error(`submit_job: ${dispatchError.toString()}`));
							else if (status.isInBlock) {
								const e = events.find(({ event }) => api.events.inference.JobSubmitted.is(event));
								const paid = events.find(({ event }) => api.events.transactionPayment.TransactionFeePaid.is(event));
								txFees += paid.event.data.actualFee.toBigInt();
								resolve({ ...w, job: e.event.data.job.toNumber() });
							}
						})
						.catch(reject);
				});
			}),
		);
		const deadline = Date.now() + 120_000;
		while (submissions.some((s) => !completed.has(s.job))) {
			check(failed.length === 0, `failed: ${failed.join("; ")}`);
			check(Date.now() < deadline, `completed ${completed.size} of ${JOBS} within 120 s`);
			await new Promise((r) => setTimeout(r, 1000));
		}
		unsubscribe();

		for (const s of submissions) {
			const simulated = await rpc.send("inference_simulate", [s.fx.model_id, s.case.inputs, 6]);
			check(completed.get(s.job) === simulated.resultHash, `job ${s.job}: chain and simulate hashes differ`);
			const view = await rpc.send("inference_job", [s.job]);
			view.outcome.success.forEach((tensor, i) => {
				const expected = s.case.outputs[i];
				check(tensor.name === expected.name, `job ${s.job}: output ${tensor.name}`);
				if (tensor.fixed) {
					check(tensor.values.every((v, j) => Math.abs(v - expected.data[j]) <= 1e-6), `job ${s.job}: ${tensor.name} differs from the fixture`);
				}
			});
		}
		const after = (await api.query.system.account(ferdie.address)).data;
		check(after.reserved.toBigInt() === 0n, `still held: ${after.reserved}`);
		const paid = before - after.free.toBigInt();
		check(paid === quoted + txFees, `paid ${paid}, quoted ${quoted} + fees ${txFees}`);
		return 1;
	} finally {
		await rpc.disconnect();
		await api.disconnect();
	}
}

module.exports = { run };
