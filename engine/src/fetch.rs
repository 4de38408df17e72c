//! Downloading model bytes from the URIs a model owner lists, without letting the owner point
//! validators anywhere else.
//!
//! A URI is the owner's to choose, so it is hostile input: it could name the validator's own
//! loopback services, its private network or a cloud metadata endpoint (169.254.169.254), and
//! redirect there from a public address. Every address a name resolves to, at every hop, is
//! checked before a connection is made (the connection then goes to exactly that address, so a
//! second DNS answer cannot swap it); loopback, private, link-local, shared, multicast and
//! other non-public ranges are refused unless [`FetchPolicy::allow_private`] is set (for local
//! test networks). Redirects, bytes and the whole download's time are bounded.

use crate::store::StoreError;
use std::{
	io::Read,
	net::{IpAddr, Ipv4Addr, Ipv6Addr},
	time::{Duration, Instant},
};
use ureq::{
	config::Config,
	http::Uri,
	unversioned::{
		resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver},
		transport::{DefaultConnector, NextTimeout},
	},
};

/// What a download may do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchPolicy {
	/// Allow loopback, private and link-local addresses (local test networks only).
	pub allow_private: bool,
	/// Most redirects followed.
	pub max_redirects: u32,
	/// Longest a whole download may take, redirects and body included.
	pub total_time: Duration,
	/// Longest a connection may take to open.
	pub connect_time: Duration,
}

impl Default for FetchPolicy {
	fn default() -> Self {
		Self {
			allow_private: false,
			max_redirects: 3,
			total_time: Duration::from_secs(120),
			connect_time: Duration::from_secs(10),
		}
	}
}

/// Whether `ip` is an address on the public internet.
pub fn is_public(ip: IpAddr) -> bool {
	match ip {
		IpAddr::V4(v4) => is_public_v4(v4),
		IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
			Some(v4) => is_public_v4(v4),
			None => is_public_v6(v6),
		},
	}
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
	let [a, b, ..] = ip.octets();
	!(ip.is_unspecified() ||
		ip.is_loopback() ||
		ip.is_private() ||
		ip.is_link_local() ||
		ip.is_broadcast() ||
		ip.is_documentation() ||
		ip.is_multicast() ||
		a == 0 ||
		// Shared address space (carrier-grade NAT), 100.64.0.0/10.
		(a == 100 && (64..128).contains(&b)) ||
		// IETF protocol assignments, 192.0.0.0/24; benchmarking, 198.18.0.0/15.
		(a == 192 && b == 0 && ip.octets()[2] == 0) ||
		(a == 198 && (b == 18 || b == 19)) ||
		// Reserved, 240.0.0.0/4.
		a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
	let first = ip.segments()[0];
	!(ip.is_unspecified() ||
		ip.is_loopback() ||
		ip.is_multicast() ||
		// Unique local, fc00::/7; link-local, fe80::/10; documentation, 2001:db8::/32.
		(first & 0xfe00) == 0xfc00 ||
		(first & 0xffc0) == 0xfe80 ||
		(first == 0x2001 && ip.segments()[1] == 0x0db8) ||
		// NAT64 and IPv4-compatible forms could reach private IPv4 space.
		(first == 0x0064 && ip.segments()[1] == 0xff9b) ||
		ip.segments()[..6].iter().all(|s| *s == 0))
}

/// Resolves names like the default resolver, then drops every address the policy refuses.
#[derive(Debug)]
struct GuardedResolver {
	allow_private: bool,
}

impl Resolver for GuardedResolver {
	fn resolve(
		&self,
		uri: &Uri,
		config: &Config,
		timeout: NextTimeout,
	) -> Result<ResolvedSocketAddrs, ureq::Error> {
		let all = DefaultResolver::default().resolve(uri, config, timeout)?;
		let mut allowed = self.empty();
		for addr in all.iter().filter(|a| self.allow_private || is_public(a.ip())) {
			allowed.push(*addr);
		}
		if allowed.is_empty() {
			return Err(ureq::Error::Io(std::io::Error::new(
				std::io::ErrorKind::PermissionDenied,
				format!(
					"{} resolves only to addresses that are not public ({}); run the node with \
					 --allow-private-model-uris to allow them on a local network",
					uri.host().unwrap_or("the host"),
					all.iter().map(|a| a.ip().to_string()).collect::<Vec<_>>().join(", ")
				),
			)));
		}
		Ok(allowed)
	}
}

/// Downloads `uri` under `policy`, reading at most `limit` bytes.
pub fn fetch(uri: &str, limit: u64, policy: &FetchPolicy) -> Result<Vec<u8>, StoreError> {
	let fetch_error = |reason: String| StoreError::Fetch { uri: uri.to_string(), reason };
	if !(uri.starts_with("http://") || uri.starts_with("https://")) {
		return Err(fetch_error("only http:// and https:// URIs are supported".into()));
	}
	let started = Instant::now();
	let config = ureq::Agent::config_builder()
		.timeout_global(Some(policy.total_time))
		.timeout_connect(Some(policy.connect_time))
		.max_redirects(policy.max_redirects)
		.http_status_as_error(true)
		// No proxy from the environment: the addresses checked are the ones connected to.
		.proxy(None)
		.build();
	let agent = ureq::Agent::with_parts(
		config,
		DefaultConnector::default(),
		GuardedResolver { allow_private: policy.allow_private },
	);
	let mut response = agent.get(uri).call().map_err(|e| fetch_error(e.to_string()))?;
	if let Some(size) = response.body().content_length() {
		if size > limit {
			return Err(StoreError::TooLarge { limit, size });
		}
	}
	let mut reader = response.body_mut().as_reader().take(limit + 1);
	let mut bytes = Vec::new();
	let mut chunk = vec![0u8; 64 * 1024];
	loop {
		if started.elapsed() > policy.total_time {
			return Err(fetch_error(format!("took longer than {} s", policy.total_time.as_secs())));
		}
		let n = reader.read(&mut chunk).map_err(|e| fetch_error(e.to_string()))?;
		if n == 0 {
			break;
		}
		bytes.extend_from_slice(&chunk[..n]);
	}
	if bytes.len() as u64 > limit {
		return Err(StoreError::TooLarge { limit, size: bytes.len() as u64 });
	}
	Ok(bytes)
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn only_public_addresses_are_public() {
		for private in [
			"127.0.0.1",
			"10.1.2.3",
			"172.16.0.1",
			"192.168.1.1",
			"169.254.169.254",
			"100.64.0.1",
			"0.0.0.0",
			"255.255.255.255",
			"224.0.0.1",
			"::1",
			"::",
			"fd00::1",
			"fe80::1",
			"::ffff:127.0.0.1",
			"::ffff:169.254.169.254",
			"64:ff9b::a9fe:a9fe",
		] {
			assert!(!is_public(private.parse().unwrap()), "{private}");
		}
		for public in ["1.1.1.1", "93.184.216.34", "2606:4700::1111", "::ffff:8.8.8.8"] {
			assert!(is_public(public.parse().unwrap()), "{public}");
		}
	}
}
