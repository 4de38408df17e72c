//! The node's JSON-RPC methods beyond Substrate's standard set: account nonces (`system_*`)
//! and fee queries (`payment_*`), which wallets and polkadot.js use, `inference_simulate` and
//! `inference_job`, and the model registry's lookups (`modelRegistry_*`).

use crate::{
	inference_rpc::{InferenceApiServer, InferenceRpc},
	job_rpc::{JobRpc, JobRpcApiServer},
	registry_rpc::{ModelRegistryRpc, ModelRegistryRpcApiServer},
};
use jsonrpsee::RpcModule;
use polkadot_sdk::{
	pallet_transaction_payment_rpc::{TransactionPayment, TransactionPaymentApiServer},
	sc_transaction_pool_api::TransactionPool,
	sp_api::ProvideRuntimeApi,
	sp_block_builder::BlockBuilder,
	sp_blockchain::{Error as BlockChainError, HeaderBackend, HeaderMetadata},
	substrate_frame_rpc_system::{System, SystemApiServer},
	*,
};
use std::sync::Arc;
use verity_runtime::{opaque::Block, AccountId, Balance, BlockNumber, Nonce};

/// What the RPC methods need from the node.
pub struct FullDeps<C, P> {
	pub client: Arc<C>,
	pub pool: Arc<P>,
	pub inference: crate::inference::Inference,
}

/// All RPC methods the node adds to Substrate's own.
pub fn create_full<C, P>(
	deps: FullDeps<C, P>,
) -> Result<RpcModule<()>, Box<dyn std::error::Error + Send + Sync>>
where
	C: ProvideRuntimeApi<Block>
		+ HeaderBackend<Block>
		+ HeaderMetadata<Block, Error = BlockChainError>
		+ Send
		+ Sync
		+ 'static,
	C::Api: substrate_frame_rpc_system::AccountNonceApi<Block, AccountId, Nonce>
		+ pallet_transaction_payment_rpc::TransactionPaymentRuntimeApi<Block, Balance>
		+ BlockBuilder<Block>
		+ verity_primitives::model::ModelRegistryApi<Block, AccountId, Balance, BlockNumber>
		+ pallet_inference::InferenceApi<Block, AccountId, Balance, BlockNumber>,
	P: TransactionPool + 'static,
{
	let mut module = RpcModule::new(());
	let FullDeps { client, pool, inference } = deps;

	module.merge(System::new(client.clone(), pool).into_rpc())?;
	module.merge(TransactionPayment::new(client.clone()).into_rpc())?;
	module.merge(InferenceRpc::new(inference).into_rpc())?;
	module.merge(ModelRegistryRpc::new(client.clone()).into_rpc())?;
	module.merge(JobRpc::new(client).into_rpc())?;

	Ok(module)
}
