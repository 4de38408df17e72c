// Shared by the zombienet js scripts.

const { chainTensor } = require("../../scripts/lib/chain.js");

/** Fails the zombienet step with `message` unless `condition` holds. */
function check(condition, message) {
	if (!condition) throw new Error(message);
}

module.exports = { check, chainTensor };
