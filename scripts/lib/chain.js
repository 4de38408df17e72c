// Shared by the Node.js scripts that talk to a Verity chain (scripts/*.js, zombienet/js/*.js).
// Node.js packages come from zombienet/ (scripts/setup.sh installs them).

"use strict";

const path = require("path");
const { createRequire } = require("module");

/** `require` resolving from zombienet/node_modules, wherever the calling script lives. */
const requireJs = createRequire(path.join(__dirname, "..", "..", "zombienet", "package.json"));
const { u8aToHex } = requireJs("@polkadot/util");

/** JSON tensor dtypes and the chain's `DType` variants. */
const DTYPES = { f32: "F32", f64: "F64", i64: "I64", i32: "I32", i8: "I8", u8: "U8", bool: "Bool" };
const ARRAYS = { f32: Float32Array, f64: Float64Array, i64: BigInt64Array, i32: Int32Array, i8: Int8Array, u8: Uint8Array };

/** The extrinsic's tensor from JSON tensor number `i`: little-endian data bytes. Throws on bad input. */
function chainTensor(t, i = 0) {
	const dtype = DTYPES[t.dtype];
	if (!dtype) throw new Error(`inputs[${i}].dtype must be one of ${Object.keys(DTYPES).join(", ")}`);
	if (!Array.isArray(t.shape) || !Array.isArray(t.data)) throw new Error(`inputs[${i}] needs "shape" and "data" lists`);
	let bytes;
	if (t.dtype === "bool") bytes = Uint8Array.from(t.data.map((v) => (v ? 1 : 0)));
	else if (t.dtype === "i64") bytes = new Uint8Array(BigInt64Array.from(t.data.map(BigInt)).buffer);
	else bytes = new Uint8Array(ARRAYS[t.dtype].from(t.data).buffer);
	return { name: t.name, dtype, shape: t.shape, data: u8aToHex(bytes) };
}

/** "pallet.Error: docs" for a failed dispatch, as polkadot.js names it. */
function dispatchErrorText(api, dispatchError) {
	if (dispatchError.isModule) {
		const { section, name, docs } = api.registry.findMetaError(dispatchError.asModule);
		return `${section}.${name}: ${docs.join(" ")}`;
	}
	return dispatchError.toString();
}

module.exports = { requireJs, DTYPES, chainTensor, dispatchErrorText };
