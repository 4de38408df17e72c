// Executors register without permission, with scripts/executor.js as an operator would: Dave
// bonds the chain's minimum with a key he proves he holds and is drawn into committees; a key
// whose proof another key signed and a bond below the minimum are refused with the chain's
// errors; then Dave leaves: he is no longer drawn, and his bond stays held, unlocking after
// the unbonding period.
//
// Dave's key is on no node, so he is drawn only between registering and leaving, while no
// job is submitted. zombienet calls `run(nodeName, networkInfo)`.

const { Keyring } = require("@polkadot/api");
const { check, connect } = require("./common.js");
const { executor, keyProof, send } = require("../../scripts/executor.js");

const DAVE_KEY = "//Dave//infr";

async function run(nodeName, networkInfo) {
	const { wsUri: url } = networkInfo.nodesByName[nodeName];
	const { api, close } = await connect(networkInfo, nodeName);
	const log = (line) => console.log(`  ${line}`);
	try {
		const minBond = api.consts.inference.minBond.toBigInt();
		const period = (await api.query.inference.unbondingPeriod()).toNumber();
		const drawable = async () => (await api.query.inference.drawableCount()).toNumber();
		const before = await drawable();
		check(before === 3, `the three validators are drawn (${before})`);

		const refused = async (attempt, error) => {
			try {
				await attempt();
			} catch (e) {
				check(e.message.startsWith(error), `expected ${error}, got: ${e.message}`);
				console.log(`refused as expected: ${e.message}`);
				return;
			}
			throw new Error(`accepted; expected ${error}`);
		};
		// Eve signs the proof with Ferdie's key while claiming hers: not hers to register.
		const eve = new Keyring({ type: "sr25519" }).addFromUri("//Eve");
		const stolen = keyProof(api, eve.address, "//Ferdie//infr");
		const forged = keyProof(api, eve.address, "//Eve//infr");
		await refused(() => send(api, api.tx.inference.registerExecutor(stolen.key, minBond, forged.proof), eve), "inference.BadKeyProof");
		await refused(() => executor({ url, log, suri: "//Dave", command: "register", keySuri: DAVE_KEY, bond: "1" }), "inference.BondBelowMinimum");

		const registered = await executor({ url, suri: "//Dave", command: "register", keySuri: DAVE_KEY, log });
		check(registered && registered.bond === minBond && registered.drawn, `Dave is bonded and drawn: ${JSON.stringify(registered, (_, v) => (typeof v === "bigint" ? v.toString() : v))}`);
		check((await drawable()) === before + 1, "Dave is in the draw");
		const dave = new Keyring({ type: "sr25519" }).addFromUri("//Dave").address;
		const held = await api.query.balances.holds(dave);
		const bond = held.find((h) => h.id.isInference && h.id.asInference.isExecutorBond);
		check(bond && bond.amount.toBigInt() === minBond, `Dave's bond is held: ${held.toString()}`);

		const left = await executor({ url, suri: "//Dave", command: "leave", log });
		check(!left.drawn && left.status === "Chilled" && left.bond === 0n, "Dave is chilled, with nothing bonded");
		check(left.unlocking.length === 1 && left.unlocking[0].amount === minBond, "his bond is unlocking");
		const now = (await api.rpc.chain.getHeader()).number.toNumber();
		check(left.unlocking[0].at > now && left.unlocking[0].at <= now + period, `it unlocks after the unbonding period (${left.unlocking[0].at})`);
		check((await drawable()) === before, "Dave left the draw");
		await refused(() => executor({ url, log, suri: "//Dave", command: "withdraw" }), "inference.NothingToWithdraw");
		return 1;
	} finally {
		await close();
	}
}

module.exports = { run };
