// The governed validator set, from @polkadot/api:
// - Dave, a fourth node started as a validator but in no genesis, makes session keys on his
//   node (`author_rotateKeysWithOwner`), sets them with `session.setKeys` (holding the key
//   deposit), root adds him (`validatorSet.addValidator`), and two blocks later he is in the
//   session's validators and Aura's and GRANDPA's authorities, authors blocks, and the four
//   finalize.
// - Bob rotates his keys as a validator whose keys leaked would, root forces the rotation, and
//   Bob goes on authoring with the new keys.
// - Root removes Dave; the three go on producing and finalizing.
//
// zombienet calls `run(nodeName, networkInfo)` and fails the test when it throws.

const { ApiPromise, WsProvider, Keyring } = require("@polkadot/api");
const { u8aToHex } = require("@polkadot/util");
const { check, send, until, finalized } = require("./common.js");

const KEY_DEPOSIT = 1_000_000_000_000n; // 1 VRT: `SessionKeyDeposit`

async function connect(networkInfo, name) {
	const { wsUri } = networkInfo.nodesByName[name];
	const provider = new WsProvider(wsUri);
	return { api: await ApiPromise.create({ provider, noInitWarn: true }), provider };
}

/** Keys made in the keystore of the node behind `provider`, with the proof that `owner` holds them. */
async function newKeys(provider, owner) {
	const generated = await provider.send("author_rotateKeysWithOwner", [u8aToHex(owner.publicKey)]);
	check(generated.keys && generated.proof, `author_rotateKeysWithOwner gave ${JSON.stringify(generated)}`);
	return generated;
}

/** Waits for a new best block authored by `account`; resolves to its number. */
async function authoredBy(api, account, seconds) {
	const start = (await api.rpc.chain.getHeader()).number.toNumber();
	let seen = start;
	return until(`a block by ${account}`, seconds, async () => {
		const head = (await api.rpc.chain.getHeader()).number.toNumber();
		for (; seen < head; seen++) {
			const hash = await api.rpc.chain.getBlockHash(seen + 1);
			const header = await api.derive.chain.getHeader(hash);
			if (header.author?.toString() === account) return seen + 1;
		}
		return 0;
	});
}

const validators = async (api) => (await api.query.session.validators()).map((v) => v.toString());
const auraKeys = async (api) => (await api.query.aura.authorities()).map((k) => k.toHex());
const grandpaKeys = async (api) => (await api.call.grandpaApi.grandpaAuthorities()).map(([k]) => k.toHex());

async function run(nodeName, networkInfo) {
	const { api } = await connect(networkInfo, nodeName);
	const daveNode = await connect(networkInfo, "dave");
	const bobNode = await connect(networkInfo, "bob");
	const keyring = new Keyring({ type: "sr25519" });
	const alice = keyring.addFromUri("//Alice");
	const bob = keyring.addFromUri("//Bob");
	const dave = keyring.addFromUri("//Dave");
	try {
		const genesis = await validators(api);
		check(genesis.length === 3 && !genesis.includes(dave.address), `genesis validators ${genesis}`);
		check((await api.query.validatorSet.validators()).length === 3, "the governed set holds the three");

		// Dave joins.
		const daveKeys = await newKeys(daveNode.provider, dave);
		const refused = await send(api, api.tx.sudo.sudo(api.tx.validatorSet.addValidator(dave.address)), alice).then(
			() => null,
			(e) => e.message,
		);
		check(refused?.includes("NoSessionKeys"), `adding Dave before his keys: ${refused}`);
		await send(api, api.tx.session.setKeys(daveKeys.keys, daveKeys.proof), dave);
		const held = (await api.query.balances.holds(dave.address)).find((h) => h.id.isSession);
		check(held?.amount.toBigInt() === KEY_DEPOSIT, `Dave's key deposit: ${held?.amount}`);
		const next = await api.query.session.nextKeys(dave.address);
		check(next.isSome, "Dave's keys are set");
		const daveAura = next.unwrap().aura.toHex();
		const events = await send(api, api.tx.sudo.sudo(api.tx.validatorSet.addValidator(dave.address)), alice);
		check(
			events.some((e) => api.events.validatorSet.ValidatorAdded.is(e) && e.data.who.toString() === dave.address),
			"ValidatorAdded",
		);
		await until("Dave in the session's validators", 30, async () => (await validators(api)).includes(dave.address));
		check((await auraKeys(api)).includes(daveAura), "Dave's Aura key is an authority");
		await until("four GRANDPA authorities", 30, async () => (await grandpaKeys(api)).length === 4);
		const byDave = await authoredBy(api, dave.address, 60);
		console.log(`Dave authored block ${byDave}`);
		await finalized(api, byDave, 90);
		console.log(`block ${byDave} finalized by the four`);

		// Bob's keys leaked: he makes new ones, sets them, and root rotates at once.
		const oldBobAura = (await api.query.session.nextKeys(bob.address)).unwrap().aura.toHex();
		const bobKeys = await newKeys(bobNode.provider, bob);
		await send(api, api.tx.session.setKeys(bobKeys.keys, bobKeys.proof), bob);
		const newBobAura = (await api.query.session.nextKeys(bob.address)).unwrap().aura.toHex();
		check(newBobAura !== oldBobAura, "Bob's new Aura key differs");
		await send(api, api.tx.sudo.sudo(api.tx.validatorSet.forceRotation()), alice);
		await until("Bob's new Aura key active", 30, async () => {
			const keys = await auraKeys(api);
			return keys.includes(newBobAura) && !keys.includes(oldBobAura);
		});
		const byBob = await authoredBy(api, bob.address, 60);
		console.log(`Bob authored block ${byBob} with his new keys`);
		await finalized(api, byBob, 90);

		// Root removes Dave.
		const removed = await send(api, api.tx.sudo.sudo(api.tx.validatorSet.removeValidator(dave.address)), alice);
		const event = removed.find((e) => api.events.validatorSet.ValidatorRemoved.is(e));
		check(event && event.data.reason.isGovernance, "ValidatorRemoved by governance");
		await until("Dave out of the session's validators", 30, async () => !(await validators(api)).includes(dave.address));
		await until("three GRANDPA authorities", 30, async () => (await grandpaKeys(api)).length === 3);
		const head = (await api.rpc.chain.getHeader()).number.toNumber();
		await finalized(api, head + 3, 90);
		console.log(`the three finalize again past block ${head + 3}`);
	} finally {
		await Promise.all([api.disconnect(), daveNode.api.disconnect(), bobNode.api.disconnect()]);
	}
}

module.exports = { run };
