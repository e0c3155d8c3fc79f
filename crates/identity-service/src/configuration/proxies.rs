//! `APP_TRUSTED_PROXIES`: the peers whose forwarded headers are believed
//! (used by [`crate::links`]).

use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;
use serde::{Deserialize, Deserializer};

/// The peers whose `Forwarded`/`X-Forwarded-*` headers are believed
/// (`APP_TRUSTED_PROXIES`: comma-separated IPs or CIDRs). Default: none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses `"10.0.0.0/8, 127.0.0.1, ::1"`; an empty text is no proxy.
    pub fn parse(text: &str) -> Result<TrustedProxies, String> {
        text.split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(parse_net)
            .collect::<Result<Vec<_>, _>>()
            .map(TrustedProxies)
    }

    /// Whether `ip` (an IPv4-mapped IPv6 address counts as its IPv4 form)
    /// is one of the trusted proxies.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// No proxy is trusted.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for TrustedProxies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let items: Vec<String> = self.0.iter().map(IpNet::to_string).collect();
        f.write_str(&items.join(","))
    }
}

fn parse_net(item: &str) -> Result<IpNet, String> {
    if item.contains('/') {
        item.parse::<IpNet>()
            .map(|net| net.trunc())
            .map_err(|_| format!("{item:?} is not an IP address or CIDR"))
    } else {
        item.parse::<IpAddr>()
            .map(|ip| IpNet::from(ip.to_canonical()))
            .map_err(|_| format!("{item:?} is not an IP address or CIDR"))
    }
}

impl<'de> Deserialize<'de> for TrustedProxies {
    /// A TOML string (`"10.0.0.0/8,127.0.0.1"`) or list of strings.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            One(String),
            Many(Vec<String>),
        }
        let text = match Raw::deserialize(deserializer)? {
            Raw::One(text) => text,
            Raw::Many(items) => items.join(","),
        };
        TrustedProxies::parse(&text).map_err(serde::de::Error::custom)
    }
}
