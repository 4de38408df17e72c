//! `verity-inference-worker`: the process in which a Verity node runs inferences, started and
//! supervised by the node (see `verity_engine::worker`). Not for running by hand.

fn main() -> std::process::ExitCode {
	verity_engine::worker::main()
}
