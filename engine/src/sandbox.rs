//! The inference worker's sandbox: once ONNX Runtime is loaded, the worker gives up the
//! filesystem and the network for good (Landlock, which any unprivileged process may apply to
//! itself). A model that names a file, or a bug in an operator that a crafted model reaches,
//! then finds nothing to read, write, execute or connect to.

use landlock::{
	Access, AccessFs, AccessNet, CompatLevel, Compatible, Ruleset, RulesetAttr, RulesetCreatedAttr,
	RulesetStatus, Scope, ABI,
};

/// The newest Landlock ABI whose restrictions the worker asks for: filesystem (V1-V3), TCP
/// bind and connect (V4), abstract UNIX sockets and signals (V6). Older kernels enforce what
/// they know.
const ABI_WANTED: ABI = ABI::V6;

/// Restricts the calling thread (and threads it starts later): no path can be opened, and no
/// TCP socket bound or connected. Returns whether the kernel enforced the filesystem part; a
/// kernel without Landlock leaves the worker unsandboxed (and the node says so).
pub fn restrict_self() -> Result<bool, String> {
	let status = Ruleset::default()
		.set_compatibility(CompatLevel::BestEffort)
		.handle_access(AccessFs::from_all(ABI_WANTED))
		.and_then(|r| r.handle_access(AccessNet::from_all(ABI_WANTED)))
		.and_then(|r| r.scope(Scope::from_all(ABI_WANTED)))
		.and_then(|r| r.create())
		.and_then(|r| r.no_new_privs(true).restrict_self())
		.map_err(|e| format!("cannot sandbox the inference worker: {e}"))?;
	Ok(status.ruleset != RulesetStatus::NotEnforced)
}
