#!/usr/bin/env node
// Registers and manages an executor on a Verity chain: bonds, unbonds, withdraws, chills and
// resumes, rotates its inference key, leaves, or shows where it stands.
//
//   node scripts/executor.js <command> [--url ws://127.0.0.1:9944] [--suri <account secret>]
//
//   register --key-suri <infr secret> [--bond <VRT>]   bond (default: the chain's minimum)
//   bond-extra <VRT>        unbond <VRT>        withdraw
//   chill                   resume              leave
//   rotate-key --key-suri <infr secret>
//   status                  (the default)
//
// --suri is the account that bonds and is paid (default //Alice). --key-suri is the secret of
// the sr25519 inference key the node signs its votes with: the one given to
// `verity-node key insert --key-type infr`. The tool signs the chain's proof of possession with
// it (register_executor and rotate_key refuse a key without one), so that no one can register a
// key that another operator's node holds.
//
// Each command waits until its transaction is in a block, prints its events, and exits 1 with
// the chain's error (e.g. `inference.BondBelowMinimum`) when it fails.
// Node.js packages come from zombienet/ (scripts/setup.sh installs them).

"use strict";

const { requireJs, dispatchErrorText } = require("./lib/chain.js");

const { ApiPromise, WsProvider, Keyring } = requireJs("@polkadot/api");
const { cryptoWaitReady, decodeAddress } = requireJs("@polkadot/util-crypto");
const { u8aConcat, stringToU8a, u8aToHex } = requireJs("@polkadot/util");

class ExecutorError extends Error {}

const UNIT = 10n ** 12n;

/** Flags that take a value, and the option each sets. */
const FLAGS = { "--url": "url", "--suri": "suri", "--key-suri": "keySuri", "--bond": "bond" };

function parseArgs(argv) {
	const options = { url: "ws://127.0.0.1:9944", suri: "//Alice", args: [] };
	for (let i = 0; i < argv.length; i++) {
		const arg = argv[i];
		if (arg in FLAGS) {
			if (i + 1 >= argv.length) throw new ExecutorError(`${arg} needs a value`);
			options[FLAGS[arg]] = argv[++i];
		} else if (arg === "-h" || arg === "--help") {
			options.help = true;
		} else {
			options.args.push(arg);
		}
	}
	return options;
}

/** VRT as a decimal string ("1000", "0.5") to planck. */
function planck(vrt) {
	if (!/^\d+(\.\d{1,12})?$/.test(String(vrt))) throw new ExecutorError(`not an amount of VRT: ${vrt}`);
	const [whole, fraction = ""] = String(vrt).split(".");
	return BigInt(whole) * UNIT + BigInt(fraction.padEnd(12, "0"));
}

function vrt(amount) {
	const a = BigInt(amount);
	const fraction = (a % UNIT).toString().padStart(12, "0").replace(/0+$/, "");
	return `${a / UNIT}${fraction ? `.${fraction}` : ""} VRT`;
}

/**
 * The inference key of `keySuri` and its proof that `account` holds it: the key's signature
 * over "verity/executor-key" ++ genesis hash ++ account ++ key (the runtime's
 * `key_proof_payload`).
 */
function keyProof(api, account, keySuri) {
	const key = new Keyring({ type: "sr25519" }).addFromUri(keySuri);
	const payload = u8aConcat(stringToU8a("verity/executor-key"), api.genesisHash.toU8a(), decodeAddress(account), key.publicKey);
	return { key: u8aToHex(key.publicKey), proof: u8aToHex(key.sign(payload)) };
}

/** Sends `tx` signed by `signer`; resolves with its events once in a block, rejects with the chain's error. */
function send(api, tx, signer) {
	return new Promise((resolve, reject) => {
		let unsubscribe;
		tx.signAndSend(signer, ({ status, events, dispatchError }) => {
			if (dispatchError) {
				unsubscribe?.();
				reject(new ExecutorError(dispatchErrorText(api, dispatchError)));
			} else if (status.isInBlock) {
				unsubscribe?.();
				resolve(events.map((e) => e.event).filter((e) => e.section === "inference"));
			} else if (status.isDropped || status.isInvalid || status.isUsurped) {
				unsubscribe?.();
				reject(new ExecutorError(`transaction not included: ${status.type}`));
			}
		})
			.then((u) => (unsubscribe = u))
			.catch((e) => reject(new ExecutorError(e.message)));
	});
}

/** Where `account` stands as an executor, or null. */
async function status(api, account) {
	const record = await api.query.inference.executors(account);
	if (record.isNone) return null;
	const r = record.unwrap();
	const stats = await api.query.inference.stats(account);
	const streak = await api.query.inference.missStreaks(account);
	return {
		key: r.key.toHex(),
		bond: r.bond.toBigInt(),
		unlocking: r.unlocking.map((c) => ({ amount: c.amount.toBigInt(), at: c.at.toNumber() })),
		status: r.status.type,
		drawn: r.slot.isSome,
		stats: stats.toJSON(),
		// Proven misses since its last vote: `maxConsecutiveMisses` of them chill it.
		missesInARow: streak.isSome && streak.unwrap().votes.toBigInt() === BigInt(stats.agreed.toNumber() + stats.disagreed.toNumber() + stats.voided.toNumber()) ? streak.unwrap().misses.toNumber() : 0,
	};
}

/** The transaction of `command` for `account`. */
function transaction(api, command, args, options, account) {
	const ex = api.tx.inference;
	switch (command) {
		case "register": {
			if (!options.keySuri) throw new ExecutorError("register needs --key-suri <infr secret>");
			const { key, proof } = keyProof(api, account, options.keySuri);
			const bond = options.bond !== undefined ? planck(options.bond) : api.consts.inference.minBond.toBigInt();
			return ex.registerExecutor(key, bond, proof);
		}
		case "rotate-key": {
			if (!options.keySuri) throw new ExecutorError("rotate-key needs --key-suri <infr secret>");
			const { key, proof } = keyProof(api, account, options.keySuri);
			return ex.rotateKey(key, proof);
		}
		case "bond-extra":
		case "unbond":
			if (args.length !== 1) throw new ExecutorError(`${command} needs an amount of VRT`);
			return command === "unbond" ? ex.unbond(planck(args[0])) : ex.bondExtra(planck(args[0]));
		case "withdraw":
			return ex.withdrawUnbonded();
		case "chill":
			return ex.chill();
		case "resume":
			return ex.resume();
		case "leave":
			return ex.leave();
		default:
			throw new ExecutorError(`unknown command: ${command}`);
	}
}

function describe(s) {
	if (!s) return "not an executor";
	const lines = [
		`key ${s.key}`,
		`status ${s.status}, ${s.drawn ? "drawn into committees" : "not drawn"}`,
		`bonded ${vrt(s.bond)}`,
		...s.unlocking.map((c) => `unlocking ${vrt(c.amount)} at block ${c.at}`),
		`record ${JSON.stringify(s.stats)}`,
		...(s.missesInARow ? [`${s.missesInARow} proven misses in a row (chilled at the chain's maxConsecutiveMisses; resume once the node is back)`] : []),
	];
	return lines.join("\n");
}

/** Runs `command`; returns the executor's status afterwards. */
async function executor({ url, suri, command, args = [], keySuri, bond, log = console.log }) {
	await cryptoWaitReady();
	const api = await ApiPromise.create({ provider: new WsProvider(url), noInitWarn: true });
	try {
		const signer = new Keyring({ type: "sr25519" }).addFromUri(suri);
		if (command !== "status") {
			const tx = transaction(api, command, args, { keySuri, bond }, signer.address);
			const events = await send(api, tx, signer);
			for (const e of events) log(`${e.section}.${e.method} ${JSON.stringify(e.data.toHuman())}`);
		}
		const s = await status(api, signer.address);
		log(describe(s));
		return s;
	} finally {
		await api.disconnect();
	}
}

module.exports = { executor, keyProof, send, ExecutorError };

if (require.main === module) {
	let options;
	try {
		options = parseArgs(process.argv.slice(2));
	} catch (e) {
		console.error(`error: ${e.message}`);
		process.exit(1);
	}
	const [command = "status", ...args] = options.args;
	if (options.help) {
		console.error("usage: node scripts/executor.js <register|bond-extra|unbond|withdraw|chill|resume|leave|rotate-key|status> [--url ws://127.0.0.1:9944] [--suri //Alice] [--key-suri <infr secret>] [--bond <VRT>]");
		process.exit(0);
	}
	executor({ url: options.url, suri: options.suri, command, args, keySuri: options.keySuri, bond: options.bond })
		.then(() => process.exit(0))
		.catch((e) => {
			console.error(`error: ${e.message}`);
			process.exit(1);
		});
}
