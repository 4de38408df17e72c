//! Runs the subcommand the command line asks for, or the node.

// `sc_cli::Error` is large, and every `sc_cli` runner returns it; boxing it here would only add
// conversions at each call.
#![allow(clippy::result_large_err)]

use crate::{
	chain_spec,
	cli::{Cli, ModelCmd, StoreParams, Subcommand},
	service,
};
use polkadot_sdk::{
	frame_benchmarking_cli::{BenchmarkCmd, SUBSTRATE_REFERENCE_HARDWARE},
	sc_cli::{self, SubstrateCli},
	sc_service::{self, PartialComponents},
	*,
};
use std::path::PathBuf;
use verity_runtime::opaque::Block;

impl SubstrateCli for Cli {
	fn impl_name() -> String {
		"Verity Node".into()
	}

	fn impl_version() -> String {
		env!("SUBSTRATE_CLI_IMPL_VERSION").into()
	}

	fn description() -> String {
		env!("CARGO_PKG_DESCRIPTION").into()
	}

	fn author() -> String {
		env!("CARGO_PKG_AUTHORS").into()
	}

	fn support_url() -> String {
		"https://github.com/verity-chain/verity/issues".into()
	}

	fn copyright_start_year() -> i32 {
		2026
	}

	fn load_spec(&self, id: &str) -> Result<Box<dyn sc_service::ChainSpec>, String> {
		Ok(match id {
			"dev" => Box::new(chain_spec::development_chain_spec()?),
			"" | "local" => Box::new(chain_spec::local_chain_spec()?),
			path => {
				let path = PathBuf::from(path);
				if !path.exists() {
					return Err(format!(
						"unknown chain `{id}`: use `dev`, `local` or the path of a chain-spec \
						 JSON file (no file exists at `{}`)",
						path.display()
					));
				}
				Box::new(
					chain_spec::ChainSpec::from_json_file(path.clone())
						.map_err(|e| format!("invalid chain spec `{}`: {e}", path.display()))?,
				)
			},
		})
	}
}

/// Parses the command line and runs what it asks for.
pub fn run() -> sc_cli::Result<()> {
	let cli = Cli::from_args();

	match &cli.subcommand {
		Some(Subcommand::Key(cmd)) => cmd.run(&cli),
		#[allow(deprecated)]
		Some(Subcommand::BuildSpec(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.sync_run(|config| cmd.run(config.chain_spec, config.network))
		},
		Some(Subcommand::ExportChainSpec(cmd)) => {
			let chain_spec = cli.load_spec(&cmd.chain)?;
			cmd.run(chain_spec)
		},
		Some(Subcommand::CheckBlock(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, import_queue, .. } =
					service::new_partial(&config)?;
				Ok((cmd.run(client, import_queue), task_manager))
			})
		},
		Some(Subcommand::ExportBlocks(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, .. } = service::new_partial(&config)?;
				Ok((cmd.run(client, config.database), task_manager))
			})
		},
		Some(Subcommand::ExportState(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, .. } = service::new_partial(&config)?;
				Ok((cmd.run(client, config.chain_spec), task_manager))
			})
		},
		Some(Subcommand::ImportBlocks(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, import_queue, .. } =
					service::new_partial(&config)?;
				Ok((cmd.run(client, import_queue), task_manager))
			})
		},
		Some(Subcommand::PurgeChain(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.sync_run(|config| cmd.run(config.database))
		},
		Some(Subcommand::Revert(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, backend, .. } =
					service::new_partial(&config)?;
				let aux_revert = Box::new(|client, _, blocks| {
					sc_consensus_grandpa::revert(client, blocks)?;
					Ok(())
				});
				Ok((cmd.run(client, backend, Some(aux_revert)), task_manager))
			})
		},
		Some(Subcommand::Benchmark(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.sync_run(|config| match cmd {
				BenchmarkCmd::Pallet(cmd) => {
					if !cfg!(feature = "runtime-benchmarks") {
						return Err("this node was built without benchmarks: rebuild it with \
						            `--features runtime-benchmarks`"
							.into());
					}
					cmd.run_with_spec::<sp_runtime::traits::HashingFor<Block>, service::HostFunctions>(
						Some(config.chain_spec),
					)
				},
				BenchmarkCmd::Block(cmd) => {
					let PartialComponents { client, .. } = service::new_partial(&config)?;
					cmd.run(client)
				},
				BenchmarkCmd::Storage(cmd) => {
					let PartialComponents { client, backend, .. } = service::new_partial(&config)?;
					let db = backend.expose_db();
					let storage = backend.expose_storage();
					let shared_cache = backend.expose_shared_trie_cache();
					cmd.run(config, client, db, storage, shared_cache)
				},
				BenchmarkCmd::Machine(cmd) => {
					cmd.run(&config, SUBSTRATE_REFERENCE_HARDWARE.clone())
				},
				BenchmarkCmd::Overhead(_) | BenchmarkCmd::Extrinsic(_) => {
					Err("`benchmark overhead` and `benchmark extrinsic` are not supported by \
					     verity-node; use `benchmark pallet`, `block`, `storage` or `machine`"
						.into())
				},
			})
		},
		Some(Subcommand::ChainInfo(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.sync_run(|config| cmd.run::<Block>(&config))
		},
		Some(Subcommand::Model(cmd)) => run_model_cmd(cmd),
		None => {
			ensure_base_path_usable(&cli)?;
			let runner = cli.create_runner(&cli.run)?;
			runner.run_node_until_exit(|config| async move {
				match config.network.network_backend {
					sc_network::config::NetworkBackendType::Libp2p => service::new_full::<
						sc_network::NetworkWorker<
							Block,
							<Block as sp_runtime::traits::Block>::Hash,
						>,
					>(config, &cli.inference)
					.map_err(sc_cli::Error::Service),
					sc_network::config::NetworkBackendType::Litep2p => service::new_full::<
						sc_network::Litep2pNetworkBackend,
					>(
						config, &cli.inference
					)
					.map_err(sc_cli::Error::Service),
				}
			})
		},
	}
}

/// Fails early, naming the directory, when the node could not keep its data in `--base-path`;
/// otherwise the database would fail later with an I/O error that does not say where.
fn ensure_base_path_usable(cli: &Cli) -> sc_cli::Result<()> {
	let Some(path) = cli.run.shared_params.base_path.as_ref() else { return Ok(()) };
	std::fs::create_dir_all(path)
		.and_then(|()| {
			let probe = path.join(".verity-write-test");
			std::fs::write(&probe, b"")?;
			std::fs::remove_file(probe)
		})
		.map_err(|e| {
			sc_cli::Error::Input(format!(
				"cannot use base path `{}` for the node's data: {e}",
				path.display()
			))
		})
}

/// The model store the node would use with these options.
fn open_store(params: &StoreParams) -> sc_cli::Result<verity_engine::ModelStore> {
	let dir = match (&params.model_store, &params.base_path) {
		(Some(dir), _) => dir.clone(),
		(None, Some(base)) => base.join("models"),
		(None, None) => sc_service::BasePath::from_project("", "", &Cli::executable_name())
			.path()
			.join("models"),
	};
	verity_engine::ModelStore::open(&dir)
		.map_err(|e| sc_cli::Error::Input(format!("cannot open the model store: {e}")))
}

fn run_model_cmd(cmd: &ModelCmd) -> sc_cli::Result<()> {
	match cmd {
		ModelCmd::Import { file, store } => {
			let store = open_store(store)?;
			let id = store.import_file(file).map_err(|e| sc_cli::Error::Input(e.to_string()))?;
			println!("{}", verity_engine::store::hex_id(&id));
			eprintln!("imported {} into {}", file.display(), store.dir().display());
		},
		ModelCmd::List { store } => {
			let store = open_store(store)?;
			for (id, size) in store.list().map_err(|e| sc_cli::Error::Input(e.to_string()))? {
				println!("{} {size}", verity_engine::store::hex_id(&id));
			}
		},
	}
	Ok(())
}
