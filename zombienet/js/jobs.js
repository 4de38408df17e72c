// Jobs end to end through @polkadot/api: Dave submits an inference job on a bundled model with
// a committee of 3; the validators' off-chain workers run it and commit and reveal; the job
// completes with the result hash Bob's node computes for the same inputs with
// inference_simulate, the output bytes hash to it, inference_job shows the outputs equal to the
// model's fixture at 6 decimals, the requester paid exactly the quoted fee and each member got
// the executor fee.
//
// zombienet calls `run(nodeName, networkInfo)` and fails the test when it throws.

const fs = require("fs");
const path = require("path");
const { check, chainTensor, waitForDraw } = require("./common.js");
const { ApiPromise, WsProvider, Keyring } = require("@polkadot/api");
const { blake2AsHex } = require("@polkadot/util-crypto");

const ROOT = path.join(__dirname, "..", "..");

async function run(nodeName, networkInfo) {
	const fixtures = JSON.parse(fs.readFileSync(path.join(ROOT, "models", "mlp_classifier.fixtures.json")));
	const model = fixtures.model_id;
	const inputs = fixtures.cases[0].inputs;
	const api = await ApiPromise.create({ provider: new WsProvider(networkInfo.nodesByName[nodeName].wsUri), noInitWarn: true });
	const dave = new Keyring({ type: "sr25519" }).addFromUri("//Dave");
	try {
		const quote = (await api.call.inferenceApi.feeEstimate(model, 3)).unwrap().toBigInt();
		const record = (await api.query.modelRegistry.models(model)).unwrap();
		const owner = record.owner.toString();
		const modelFee = record.metadata.fee.toBigInt();
		const before = (await api.query.system.account(dave.address)).data.free.toBigInt();

		const submitted = await new Promise((resolve, reject) => {
			api.tx.inference
				.submitJob(model, inputs.map(chainTensor), 3, quote)
				.signAndSend(dave, ({ status, events, dispatchError }) => {
					if (dispatchError) reject(new Error(`submit_job: ${dispatchError.toString()}`));
					else if (status.isInBlock) {
						const e = events.find(({ event }) => api.events.inference.JobSubmitted.is(event));
						const paid = events.find(({ event }) => api.events.transactionPayment.TransactionFeePaid.is(event));
						resolve({
							job: e.event.data.job.toNumber(),
							deposit: e.event.data.deposit.toBigInt(),
							drawAt: e.event.data.drawAt.toNumber(),
							block: status.asInBlock.toHex(),
							txFee: paid.event.data.actualFee.toBigInt(),
						});
					}
				})
				.catch(reject);
		});
		// Drawn `drawDelay` blocks later, from the beacon the reveals in between feed: no one
		// knew the committee when the job was submitted.
		const submittedAt = (await api.rpc.chain.getHeader(submitted.block)).number.toNumber();
		const delay = api.consts.inference.drawDelay.toNumber();
		check(delay > 0 && submitted.drawAt === submittedAt + delay, `drawn at ${submitted.drawAt}, submitted at ${submittedAt}`);
		submitted.committee = await waitForDraw(api, submitted.job);
		check(submitted.committee.length === 3, `committee ${submitted.committee}`);
		const drawBlock = await api.rpc.chain.getBlockHash(submitted.drawAt);
		const drawEvents = await (await api.at(drawBlock)).query.system.events();
		const drawn = drawEvents.find(({ event }) => api.events.inference.CommitteeDrawn.is(event) && event.data.job.toNumber() === submitted.job);
		check(drawn, `no CommitteeDrawn for job ${submitted.job} at block ${submitted.drawAt}`);
		// The storage deposit: a base and a price per byte the job may store (its SCALE-encoded
		// inputs, and an outcome of `maxOutputBytes` for each of 3 reveals and the result).
		const inputBytes = api.tx.inference.submitJob(model, inputs.map(chainTensor), 3, quote).method.args[1].toU8a().length;
		const bytes = BigInt(inputBytes + 4 * api.consts.inference.maxOutputBytes.toNumber());
		const deposit = api.consts.inference.jobDepositBase.toBigInt() + bytes * api.consts.inference.jobDepositPerByte.toBigInt();
		check(submitted.deposit === deposit && deposit > 0n, `deposit ${submitted.deposit}, expected ${deposit} for ${bytes} bytes`);
		const memberBalances = {};
		for (const m of submitted.committee) {
			memberBalances[m] = (await api.query.system.account(m)).data.free.toBigInt();
		}

		const result = await new Promise((resolve, reject) => {
			const timer = setTimeout(() => reject(new Error("no JobCompleted within 90 s")), 90_000);
			api.query.system.events((events) => {
				for (const { event } of events) {
					if (api.events.inference.JobCompleted.is(event) && event.data.job.toNumber() === submitted.job) {
						clearTimeout(timer);
						resolve({ hash: event.data.resultHash.toHex(), output: event.data.output.unwrapOr(null) });
					}
					if (api.events.inference.JobFailed.is(event) && event.data.job.toNumber() === submitted.job) {
						clearTimeout(timer);
						reject(new Error(`JobFailed: ${event.data.reason.toString()}`));
					}
				}
			});
		});

		const bob = new WsProvider(networkInfo.nodesByName.bob.wsUri);
		await bob.isReady;
		const simulated = await bob.send("inference_simulate", [model, inputs, 6]);
		await bob.disconnect();
		check(result.hash === simulated.resultHash, `chain ${result.hash} vs simulate ${simulated.resultHash}`);
		check(result.output && blake2AsHex(result.output.toU8a(true), 256) === result.hash, "the output hashes to the result");

		// The job RPC shows the finished job with its outputs decoded.
		const alice = new WsProvider(networkInfo.nodesByName[nodeName].wsUri);
		await alice.isReady;
		const view = await alice.send("inference_job", [submitted.job]);
		await alice.disconnect();
		check(view.phase === "Completed" && view.resultHash === result.hash, `inference_job: ${JSON.stringify(view)}`);
		check(view.committed.every((c) => c) && view.reveals.every((r) => r === "revealed"), "all committed and revealed");
		const expected = fixtures.cases[0].outputs[0].data;
		const got = view.outcome.success[0].values;
		check(got.length === expected.length && got.every((v, i) => Math.abs(v - expected[i]) <= 1e-6),
			`outputs ${JSON.stringify(got)} vs fixture ${JSON.stringify(expected)}`);

		// Fees: the requester paid exactly the quote less the deadline fees it did not need
		// (plus the transaction fee), only the storage deposit stays held (until the job is
		// pruned), and each member got the executor fee (the model's owner, Alice, also the
		// model fee).
		const after = (await api.query.system.account(dave.address)).data;
		check(after.reserved.toBigInt() === deposit, `held ${after.reserved}, the deposit is ${deposit}`);
		const paid = before - after.free.toBigInt();
		const unused = BigInt(view.fee.deadlineHeld);
		check(unused === 2n * BigInt(view.fee.deadline) && unused > 0n, `deadline fees ${JSON.stringify(view.fee)}`);
		check(paid === quote - unused + submitted.txFee + deposit, `paid ${paid}, quoted ${quote} - unused deadline fees ${unused} + fee ${submitted.txFee} + deposit ${deposit}`);
		const executorFee = api.consts.inference.executorFee.toBigInt();
		for (const m of submitted.committee) {
			const now = (await api.query.system.account(m)).data.free.toBigInt();
			const expected = executorFee + (m === owner ? modelFee : 0n);
			check(now - memberBalances[m] === expected, `member ${m} got ${now - memberBalances[m]}, expected ${expected}`);
		}
		return 1;
	} finally {
		await api.disconnect();
	}
}

module.exports = { run };
