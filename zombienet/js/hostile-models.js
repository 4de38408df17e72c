// Hostile models next to honest jobs: every node stays up and keeps producing and finalizing
// blocks, the honest jobs complete with Python onnxruntime's outputs, and each hostile job ends
// by quorum with the canonical failure models/hostile/jobs.json names, while the nodes' memory
// stays within its bounds.
//
// Eve publishes the hostile models of models/hostile/ with the upload tool (each one's
// metadata declares small limits, as an attacker's would). The external-data model is refused
// at its upload (ModelRefused: ExternalData); Eve then registers it by URI, served here, and
// its job fails at load on every validator (ExternalData). Two rounds of jobs follow: all the
// hostile jobs and honest ones submitted together, then honest ones again while the validators
// recover.
//
// Works on any network: the committee is every executor (one on the dev chain, three on the
// local one).
//
// zombienet calls `run(nodeName, networkInfo)` and fails the test when it throws.

const fs = require("fs");
const http = require("http");
const os = require("os");
const path = require("path");
const { ROOT, check, sleep, fixture, connect, submitJobs, waitForJobs, metrics } = require("./common.js");
const { Keyring } = require("@polkadot/api");
const { upload, claimModels } = require("../../scripts/upload-model.js");

const HOSTILE = path.join(ROOT, "models", "hostile");
/** Outcomes a quorum settles as resource failures; the others are execution failures. */
const RESOURCE = new Set(["Timeout", "OutOfMemory", "WorkerCrashed"]);
/** Bounds the test holds the nodes to: the node process, and each inference worker (its cap). */
const NODE_MEMORY = 1536 * 1024 * 1024;
const WORKER_MEMORY = 2560 * 1024 * 1024;

async function height(api) {
	const best = (await api.rpc.chain.getHeader()).number.toNumber();
	const finalized = (await api.rpc.chain.getHeader(await api.rpc.chain.getFinalizedHead())).number.toNumber();
	return { best, finalized };
}

function serveOnce(bytes) {
	const server = http.createServer((req, res) => {
		res.writeHead(200, { "content-type": "application/octet-stream", "content-length": bytes.length });
		res.end(bytes);
	});
	return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

async function run(nodeName, networkInfo) {
	const jobs = JSON.parse(fs.readFileSync(path.join(HOSTILE, "jobs.json")));
	const { api, rpc, close } = await connect(networkInfo, nodeName);
	const eve = new Keyring({ type: "sr25519" }).addFromUri("//Eve");
	const wsUri = networkInfo.nodesByName[nodeName].wsUri;
	const names = Object.keys(networkInfo.nodesByName);
	const apis = await Promise.all(names.map((n) => connect(networkInfo, n)));
	const server = await serveOnce(fs.readFileSync(path.join(HOSTILE, "external_data.onnx")));
	try {
		const committee = (await api.query.inference.drawableCount()).toNumber();
		const start = await Promise.all(apis.map((a) => height(a.api)));

		// Publish: on chain, except the external-data model, which the chain refuses. (The ids
		// are claimed at once first, so that the uploads wait out the claim delay once.)
		const externalByUri = (modelFile) => Buffer.concat([fs.readFileSync(modelFile), Buffer.from([0x78, 0x01])]);
		await claimModels({
			url: wsUri,
			suri: "//Eve",
			models: jobs.flatMap((job) => {
				const modelFile = path.join(HOSTILE, job.model);
				return job.failure === "ExternalData" ? [fs.readFileSync(modelFile), externalByUri(modelFile)] : [fs.readFileSync(modelFile)];
			}),
		});
		for (const job of jobs) {
			const modelFile = path.join(HOSTILE, job.model);
			const metadataFile = path.join(HOSTILE, job.model.replace(".onnx", ".metadata.json"));
			if (job.failure === "ExternalData") {
				let refused = null;
				await upload({ url: wsUri, suri: "//Eve", modelFile, metadataFile, log: () => {} }).catch((e) => (refused = e.message));
				check(refused && refused.includes("ModelRefused") && refused.includes("ExternalData"), `external data upload: ${refused}`);
				// The same bytes by URI under another name: the chain cannot look into them, the
				// validators refuse them at load. (The id is taken by the refused upload: a new
				// version's bytes differ by a trailing unknown field.)
				const bytes = externalByUri(modelFile);
				const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "verity-")), "external_data_by_uri.onnx");
				fs.writeFileSync(file, bytes);
				server.close();
				const served = await serveOnce(bytes);
				const meta = JSON.parse(fs.readFileSync(metadataFile));
				const url = `http://127.0.0.1:${served.address().port}/external_data.onnx`;
				const metaFile = path.join(path.dirname(file), "external_data_by_uri.json");
				fs.writeFileSync(metaFile, JSON.stringify({ ...meta, name: "external_data_by_uri", hosting: { uris: [url] } }));
				const { id, ready } = await upload({ url: wsUri, suri: "//Eve", modelFile: file, metadataFile: metaFile, log: () => {} });
				check(ready, "the URI-hosted external-data model is not runnable");
				job.model_id = id;
				job.served = served;
			} else {
				const { ready } = await upload({ url: wsUri, suri: "//Eve", modelFile, metadataFile, log: () => {} });
				check(ready, `${job.model} is not runnable after its upload`);
			}
		}

		// Round 1: every hostile job and honest ones at once; round 2: honest ones again.
		const honest = () =>
			["linear_regressor", "mlp_classifier", "cnn_mnist"].map((name) => {
				const fx = fixture(name);
				return { model: fx.model_id, inputs: fx.cases[0].inputs, committee, expected: fx.cases[0].outputs, name };
			});
		const hostile = jobs.map((j) => ({ model: j.model_id, inputs: j.inputs, committee, failure: j.failure, name: j.model }));
		const first = await submitJobs(api, eve, [...hostile, ...honest()]);
		const firstViews = await waitForJobs(rpc, first.submitted.map((j) => j.id), 150);
		const second = await submitJobs(api, eve, honest());
		const secondViews = await waitForJobs(rpc, second.submitted.map((j) => j.id), 90);

		for (const [submitted, views] of [[first.submitted, firstViews], [second.submitted, secondViews]]) {
			for (const job of submitted) {
				const view = views.get(job.id);
				if (job.failure) {
					const kind = RESOURCE.has(job.failure) ? "resources" : "execution";
					check(view.phase === "Failed", `${job.name}: ${view.phase}`);
					check(view.failure && view.failure[kind] === job.failure, `${job.name}: failed with ${JSON.stringify(view.failure)}, expected ${kind} ${job.failure}`);
					const agreed = view.reveals.filter((r) => r === "revealed").length;
					check(agreed >= Math.ceil((2 * committee) / 3), `${job.name}: ${agreed} of ${committee} revealed`);
				} else {
					check(view.phase === "Completed", `${job.name} (honest): ${view.phase} ${JSON.stringify(view.failure)}`);
					view.outcome.success.forEach((tensor, i) => {
						const expected = job.expected[i];
						check(tensor.name === expected.name, `${job.name}: output ${tensor.name}`);
						check(tensor.values.every((v, j) => Math.abs(v - expected.data[j]) <= 1e-6), `${job.name}: ${tensor.name} differs from Python onnxruntime's`);
					});
				}
			}
		}

		// Every node is up, still producing and finalizing.
		await sleep(6000);
		const end = await Promise.all(apis.map((a) => height(a.api)));
		names.forEach((name, i) => {
			check(end[i].best > start[i].best + 5, `${name}: best block ${start[i].best} -> ${end[i].best}`);
			check(end[i].finalized > start[i].finalized + 5, `${name}: finalized ${start[i].finalized} -> ${end[i].finalized}`);
		});

		// Within their memory bounds, and the workers were stopped as they should be.
		for (const name of names) {
			const m = await metrics(networkInfo.nodesByName[name].prometheusUri);
			const node = m.get('verity_inference_queue{what="node_memory"}') ?? 0;
			const worker = m.get("verity_inference_worker_peak_memory_bytes") ?? 0;
			console.log(`${name}: node ${(node / 2 ** 20).toFixed(0)} MiB, worker peak ${(worker / 2 ** 20).toFixed(0)} MiB`);
			check(node > 0 && node < NODE_MEMORY, `${name}: the node holds ${node} bytes`);
			check(worker > 0 && worker < WORKER_MEMORY, `${name}: a worker reached ${worker} bytes`);
			const killed = m.get('verity_inference_worker_deaths_total{reason="timeout"}') ?? 0;
			check(killed >= 1, `${name}: no worker was killed at its deadline (slow_matmul)`);
		}
		return 1;
	} finally {
		server.close();
		for (const job of jobs) if (job.served) job.served.close();
		await Promise.all(apis.map((a) => a.close()));
		await close();
	}
}

module.exports = { run };
