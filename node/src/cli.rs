//! Command-line interface.

use polkadot_sdk::{frame_benchmarking_cli, sc_cli};

/// Subcommands besides running the node.
#[derive(Debug, clap::Subcommand)]
#[allow(clippy::large_enum_variant)]
pub enum Subcommand {
	/// Key management: generate, inspect and insert keys into the keystore.
	#[command(subcommand)]
	Key(sc_cli::KeySubcommand),

	/// Build a chain specification. Deprecated: use `export-chain-spec`.
	#[deprecated(note = "build-spec will be removed; use export-chain-spec")]
	BuildSpec(sc_cli::BuildSpecCmd),

	/// Export a chain specification (`--chain dev|local|<file>`) as JSON.
	ExportChainSpec(sc_cli::ExportChainSpecCmd),

	/// Validate blocks.
	CheckBlock(sc_cli::CheckBlockCmd),

	/// Export blocks.
	ExportBlocks(sc_cli::ExportBlocksCmd),

	/// Export the state of a given block into a chain spec.
	ExportState(sc_cli::ExportStateCmd),

	/// Import blocks.
	ImportBlocks(sc_cli::ImportBlocksCmd),

	/// Remove the whole chain.
	PurgeChain(sc_cli::PurgeChainCmd),

	/// Revert the chain to a previous state.
	Revert(sc_cli::RevertCmd),

	/// Benchmark the runtime's pallets, blocks, storage and this machine.
	#[command(subcommand)]
	Benchmark(frame_benchmarking_cli::BenchmarkCmd),

	/// Information about the database.
	ChainInfo(sc_cli::ChainInfoCmd),

	/// The model store: import ONNX models, list them.
	#[command(subcommand)]
	Model(ModelCmd),
}

/// `verity-node model ...`
#[derive(Debug, clap::Subcommand)]
pub enum ModelCmd {
	/// Add an ONNX file to the model store and print its model id (blake2_256 of the file).
	Import {
		/// The .onnx file.
		file: std::path::PathBuf,
		#[clap(flatten)]
		store: StoreParams,
	},
	/// List the models in the store: id and size in bytes.
	List {
		#[clap(flatten)]
		store: StoreParams,
	},
}

/// Where the model store is: the same place the node uses with the same options.
#[derive(Debug, Clone, clap::Args)]
pub struct StoreParams {
	/// The node's base path (its model store is `models/` under it).
	#[arg(long, short = 'd', value_name = "PATH")]
	pub base_path: Option<std::path::PathBuf>,
	/// The model store's directory, if the node runs with `--model-store`.
	#[arg(long, value_name = "DIR")]
	pub model_store: Option<std::path::PathBuf>,
}

/// The node's command line.
#[derive(Debug, clap::Parser)]
#[command(
	propagate_version = true,
	args_conflicts_with_subcommands = true,
	subcommand_negates_reqs = true
)]
pub struct Cli {
	#[command(subcommand)]
	pub subcommand: Option<Subcommand>,

	#[clap(flatten)]
	pub run: sc_cli::RunCmd,

	#[clap(flatten)]
	pub inference: crate::inference::InferenceParams,
}
