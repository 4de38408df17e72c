// A validator that cannot fetch a model misses that job without stalling others: wide_mlp is
// registered with a URI (no bytes on chain) served by this script, which answers the first two
// downloads and leaves every later one hanging. Eve submits a job on it and a job on
// linear_regressor at once, committee 3. The linear job completes with all three members
// agreeing; the wide_mlp job completes with the two members that got the model, the third
// missing it; once its download is cut, that node's metrics count a job it could not run.
//
// zombienet calls `run(nodeName, networkInfo)` and fails the test when it throws.

const fs = require("fs");
const http = require("http");
const os = require("os");
const path = require("path");
const { ROOT, check, sleep, fixture, connect, submitJobs, waitForJobs, metrics } = require("./common.js");
const { Keyring } = require("@polkadot/api");
const { upload } = require("../../scripts/upload-model.js");

const MODEL = path.join(ROOT, "models", "extra", "wide_mlp.onnx");
const SERVED = 2;

async function run(nodeName, networkInfo) {
	const bytes = fs.readFileSync(MODEL);
	const requests = [];
	const hanging = new Set();
	const server = http.createServer((req, res) => {
		requests.push(req.url);
		if (requests.length <= SERVED) {
			res.writeHead(200, { "content-type": "application/octet-stream", "content-length": bytes.length });
			res.end(bytes);
		} else {
			hanging.add(res.socket);
		}
	});
	await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
	const url = `http://127.0.0.1:${server.address().port}/wide_mlp.onnx`;
	const metadata = JSON.parse(fs.readFileSync(path.join(ROOT, "models", "extra", "wide_mlp.metadata.json")));
	const metadataFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "verity-")), "wide_mlp.json");
	fs.writeFileSync(metadataFile, JSON.stringify({ ...metadata, hosting: { uris: [url] } }));

	const wsUri = networkInfo.nodesByName[nodeName].wsUri;
	const { api, rpc, close } = await connect(networkInfo, nodeName);
	const eve = new Keyring({ type: "sr25519" }).addFromUri("//Eve");
	try {
		const { id, ready } = await upload({ url: wsUri, suri: "//Eve", modelFile: MODEL, metadataFile, log: () => {} });
		check(ready, "wide_mlp (by URI) is not runnable after registration");
		const linear = fixture("linear_regressor");
		const wide = { model: id, inputs: [{ name: "x", dtype: "f32", shape: [1, 4], data: [0.5, -1.25, 2, 0.75] }], committee: 3 };
		const good = { model: linear.model_id, inputs: linear.cases[1].inputs, committee: 3 };
		const { submitted } = await submitJobs(api, eve, [wide, good]);
		const [wideJob, goodJob] = submitted;
		const views = await waitForJobs(rpc, [wideJob.id, goodJob.id], 120);

		const goodView = views.get(goodJob.id);
		check(goodView.phase === "Completed", `linear job: ${goodView.phase} ${JSON.stringify(goodView.failure)}`);
		check(goodView.reveals.every((r) => r === "revealed"), `linear job reveals ${goodView.reveals}: a member stalled`);

		const wideView = views.get(wideJob.id);
		check(wideView.phase === "Completed", `wide_mlp job: ${wideView.phase} ${JSON.stringify(wideView.failure)}`);
		const revealed = wideView.reveals.filter((r) => r === "revealed").length;
		check(revealed === SERVED, `wide_mlp job: ${revealed} members revealed (${wideView.reveals}), ${SERVED} got the model`);
		check(wideView.committed.filter((c) => !c).length === 1, `wide_mlp job commits ${JSON.stringify(wideView.committed)}`);
		check(requests.length > SERVED, `only ${requests.length} downloads were asked for`);

		// Once the hanging download is cut, that node counts the job as one it could not run.
		for (const socket of hanging) socket.destroy();
		const nodes = ["alice", "bob", "charlie"].map((n) => networkInfo.nodesByName[n].prometheusUri);
		const total = async (sample) => (await Promise.all(nodes.map((u) => metrics(u)))).reduce((n, m) => n + (m.get(sample) ?? 0), 0);
		const until = Date.now() + 20_000;
		while ((await total('verity_inference_jobs_executed_total{outcome="unavailable"}')) < 1) {
			check(Date.now() < until, "no node counts an unavailable model in verity_inference_jobs_executed_total");
			await sleep(1000);
		}
		const fromUri = await total('verity_model_store_loads_total{source="uri"}');
		check(fromUri === SERVED, `${fromUri} models loaded from the URI, ${SERVED} were served`);
		return 1;
	} finally {
		for (const socket of hanging) socket.destroy();
		server.close();
		await close();
	}
}

module.exports = { run };
