//! `verity-node`: the Verity chain's node.

mod chain_spec;
mod cli;
mod command;
mod inference;
mod inference_rpc;
mod job_rpc;
mod metrics;
mod registry_rpc;
mod rpc;
mod service;

fn main() {
	if let Err(error) = command::run() {
		// `sc_cli::Error`'s `Display` is the readable message; its `Debug` form (what returning
		// the error from `main` prints) wraps it in variant names.
		eprintln!("Error: {error}");
		std::process::exit(1);
	}
}
