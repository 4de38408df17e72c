// The validators' inference metrics on their Prometheus endpoints, after the jobs of this test
// (21 jobs, committee 3, so every validator ran and voted on each): jobs executed, commits and
// reveals submitted, the latency histogram, model loads and session cache hits.
//
// zombienet calls `run(nodeName, networkInfo)` and fails the test when it throws.

const { check, metrics } = require("./common.js");

const JOBS = 21;

async function run(nodeName, networkInfo) {
	for (const name of ["alice", "bob", "charlie"]) {
		const m = await metrics(networkInfo.nodesByName[name].prometheusUri);
		const get = (sample) => m.get(sample) ?? 0;
		const executed = get('verity_inference_jobs_executed_total{outcome="success"}');
		check(executed >= JOBS, `${name}: ${executed} jobs executed, expected at least ${JOBS}`);
		check(get("verity_inference_latency_seconds_count") === executed, `${name}: latency count ${get("verity_inference_latency_seconds_count")} vs ${executed} executed`);
		check(get("verity_inference_latency_seconds_sum") > 0, `${name}: latency sum is 0`);
		for (const kind of ["commit", "reveal"]) {
			const sent = get(`verity_inference_votes_submitted_total{kind="${kind}"}`);
			check(sent >= JOBS, `${name}: ${sent} ${kind} items submitted, expected at least ${JOBS}`);
		}
		const loads = ["store", "chain", "uri"].reduce((n, s) => n + get(`verity_model_store_loads_total{source="${s}"}`), 0);
		check(loads >= 3, `${name}: ${loads} model loads for 3 models`);
		const hits = get('verity_inference_session_cache_total{result="hit"}');
		const misses = get('verity_inference_session_cache_total{result="miss"}');
		// Each worker loads each model once, from the store (after one fetch from the chain).
		check(misses >= 3 && misses <= loads && hits >= JOBS - misses, `${name}: session cache ${hits} hits, ${misses} misses, ${loads} loads`);
	}
	return 1;
}

module.exports = { run };
