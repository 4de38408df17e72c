// Checks the network from @polkadot/api, the client dApps and polkadot.js Apps use: connects,
// reads the chain name and runtime version, and sees a balance transfer from Alice to Bob
// finalized with Bob's balance raised by exactly the amount sent.
//
// zombienet calls `run(nodeName, networkInfo)` and fails the test when it throws.

const { ApiPromise, WsProvider, Keyring } = require("@polkadot/api");

const AMOUNT = 1_234_000_000_000n; // 1.234 VRT (12 decimals)

function transferFinalized(api, from, to, amount) {
	return new Promise((resolve, reject) => {
		let unsubscribe;
		api.tx.balances
			.transferKeepAlive(to, amount)
			.signAndSend(from, ({ status, dispatchError }) => {
				if (dispatchError) {
					unsubscribe?.();
					reject(new Error(`transfer failed: ${dispatchError.toString()}`));
				} else if (status.isFinalized) {
					unsubscribe?.();
					resolve(status.asFinalized.toHex());
				} else if (status.isDropped || status.isInvalid || status.isUsurped) {
					unsubscribe?.();
					reject(new Error(`transfer not included: ${status.type}`));
				}
			})
			.then((u) => (unsubscribe = u), reject);
	});
}

async function run(nodeName, networkInfo) {
	const { wsUri } = networkInfo.nodesByName[nodeName];
	const api = await ApiPromise.create({ provider: new WsProvider(wsUri), noInitWarn: true });
	try {
		const chain = (await api.rpc.system.chain()).toString();
		const version = api.runtimeVersion;
		console.log(`connected to ${chain}, runtime ${version.specName}/${version.specVersion}`);
		if (chain !== "Verity Local Testnet") throw new Error(`unexpected chain name: ${chain}`);
		if (version.specName.toString() !== "verity") {
			throw new Error(`unexpected runtime: ${version.specName}`);
		}
		const props = await api.rpc.system.properties();
		if (props.tokenSymbol.unwrap()[0].toString() !== "VRT") {
			throw new Error(`unexpected token symbol: ${props.tokenSymbol}`);
		}

		const keyring = new Keyring({ type: "sr25519" });
		const alice = keyring.addFromUri("//Alice");
		const bob = keyring.addFromUri("//Bob");

		const before = (await api.query.system.account(bob.address)).data.free.toBigInt();
		const blockHash = await transferFinalized(api, alice, bob.address, AMOUNT);
		const after = (await api.query.system.account.at(blockHash, bob.address)).data.free.toBigInt();
		console.log(`transfer finalized in ${blockHash}: Bob ${before} -> ${after}`);
		if (after - before !== AMOUNT) {
			throw new Error(`Bob received ${after - before}, expected ${AMOUNT}`);
		}
		const finalized = await api.rpc.chain.getFinalizedHead();
		const header = await api.rpc.chain.getHeader(finalized);
		console.log(`finalized head #${header.number.toNumber()}`);
	} finally {
		await api.disconnect();
	}
}

module.exports = { run };
