//! Rate limits per client address, shared by every instance through Redis: logins and donors'
//! checkouts. A fixed one-minute window per address (`{prefix}rate:{limit}:{address}:{minute}`,
//! INCR and EXPIRE in one round trip): simple, exact across instances, and at worst twice the
//! limit across a window's edge, which is enough against guessing and floods. Beyond the limit:
//! 429 with `Retry-After`. When Redis does not answer, requests pass (logged): the account lock
//! in PostgreSQL still limits guessing, and donors must never be turned away for our outage.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

use super::{ApiError, AppState};

/// A load balancer's address, or a network of them (`10.0.0.0/8`, `fd00::/8`): in Kubernetes
/// the ingress's pods get new addresses when they restart, so their network is what is known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Network {
    address: IpAddr,
    prefix: u8,
}

impl Network {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.address, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl std::str::FromStr for Network {
    type Err = String;

    fn from_str(text: &str) -> Result<Network, String> {
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let address: IpAddr =
            address.trim().parse().map_err(|_| format!("{text:?} is not an address or a network"))?;
        let bits = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => bits,
            Some(prefix) => prefix
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= bits)
                .ok_or_else(|| format!("{text:?}: the prefix length must be 0 to {bits}"))?,
        };
        Ok(Network { address, prefix })
    }
}

fn trusted_by(networks: &[Network], ip: IpAddr) -> bool {
    // an IPv4 client reaching an IPv6 socket shows as ::ffff:a.b.c.d
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    };
    networks.iter().any(|network| network.contains(ip))
}

/// What is limited, and how much per minute.
#[derive(Clone, Copy, Debug)]
pub struct Limit {
    pub name: &'static str,
    pub per_minute: u32,
}

/// The settings, from the configuration.
#[derive(Clone, Debug)]
pub struct Limits {
    pub login: Limit,
    pub checkout: Limit,
    /// Peers whose `X-Forwarded-For` is believed (the load balancers).
    pub trusted_proxies: Vec<Network>,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            login: Limit { name: "login", per_minute: 10 },
            checkout: Limit { name: "checkout", per_minute: 60 },
            trusted_proxies: Vec::new(),
        }
    }
}

/// The client's address: the connection's peer, or, when the peer is a trusted proxy, the
/// nearest address in `X-Forwarded-For` that is not one (a client can put anything at the
/// start of that header; only what our own proxies appended counts).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddress(pub Option<IpAddr>);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        Ok(ClientAddress(client_address(peer, &parts.headers, &state.limits.trusted_proxies)))
    }
}

fn client_address(
    peer: Option<IpAddr>,
    headers: &axum::http::HeaderMap,
    trusted: &[Network],
) -> Option<IpAddr> {
    let peer = peer?;
    if !trusted_by(trusted, peer) {
        return Some(peer);
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse().ok())
        .collect();
    Some(forwarded.into_iter().rev().find(|a| !trusted_by(trusted, *a)).unwrap_or(peer))
}

/// Counts one request of `client` against `limit`; refuses it past the limit.
pub async fn check(state: &AppState, limit: Limit, client: ClientAddress) -> Result<(), ApiError> {
    let Some(address) = client.0 else {
        return Ok(()); // no socket (an in-process call): nothing to count by
    };
    let now = chrono::Utc::now().timestamp();
    let minute = now.div_euclid(60);
    let key = format!("{}rate:{}:{address}:{minute}", state.redis_prefix, limit.name);
    let mut redis = state.redis.clone();
    let counted: Result<(u64,), redis::RedisError> =
        redis::pipe().atomic().incr(&key, 1u64).expire(&key, 120).ignore().query_async(&mut redis).await;
    match counted {
        Ok((count,)) if count > u64::from(limit.per_minute) => {
            let retry_after_seconds = u64::try_from(60 - now.rem_euclid(60)).unwrap_or(60);
            tracing::warn!(limit = limit.name, "rate limit reached");
            Err(ApiError::TooManyRequests { retry_after_seconds })
        }
        Ok(_) => Ok(()),
        Err(e) => {
            tracing::warn!(limit = limit.name, error = %e, "rate limit not counted: Redis failed");
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let mut headers = axum::http::HeaderMap::new();
        headers.append("x-forwarded-for", "6.6.6.6, 203.0.113.7".parse().unwrap());
        let proxy: IpAddr = "10.0.0.2".parse().unwrap();
        let client: IpAddr = "203.0.113.7".parse().unwrap();
        // not from our proxy: the header is the client's own words
        assert_eq!(client_address(Some(proxy), &headers, &[]), Some(proxy));
        // from our proxy: the address it appended, not the one the client made up
        let one: Network = "10.0.0.2".parse().unwrap();
        assert_eq!(client_address(Some(proxy), &headers, &[one]), Some(client));
        // two proxies in a row
        headers.insert("x-forwarded-for", "6.6.6.6, 203.0.113.7, 10.0.0.1".parse().unwrap());
        let inner: Network = "10.0.0.1".parse().unwrap();
        assert_eq!(client_address(Some(proxy), &headers, &[one, inner]), Some(client));
        assert_eq!(client_address(None, &headers, &[one]), None);
        // the proxies' network, as Kubernetes gives it: both hops are in it
        let pods: Network = "10.0.0.0/16".parse().unwrap();
        assert_eq!(client_address(Some(proxy), &headers, &[pods]), Some(client));
        // an IPv4 proxy seen on an IPv6 socket
        let mapped: IpAddr = "::ffff:10.0.0.2".parse().unwrap();
        assert_eq!(client_address(Some(mapped), &headers, &[pods]), Some(client));
    }

    #[test]
    fn networks_contain_what_their_prefix_says() {
        let net: Network = "10.8.0.0/14".parse().unwrap();
        assert!(net.contains("10.11.255.255".parse().unwrap()));
        assert!(!net.contains("10.12.0.0".parse().unwrap()));
        assert!(!net.contains("::1".parse().unwrap()));
        let v6: Network = "fd00::/8".parse().unwrap();
        assert!(v6.contains("fd12:3456::1".parse().unwrap()));
        assert!(!v6.contains("fe80::1".parse().unwrap()));
        let all: Network = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("203.0.113.7".parse().unwrap()));
        let one: Network = "192.0.2.1".parse().unwrap();
        assert!(one.contains("192.0.2.1".parse().unwrap()) && !one.contains("192.0.2.2".parse().unwrap()));
        for bad in ["10.0.0.0/33", "10.0.0/8", "fd00::/129", "proxy.internal", "10.0.0.0/x"] {
            assert!(bad.parse::<Network>().is_err(), "{bad}");
        }
    }
}
