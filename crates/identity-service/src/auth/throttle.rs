//! Throttling of failed credential checks, in memory of this instance.
//!
//! Two token buckets of the generic cell rate algorithm (as in
//! [`super::rate_limit`]): one per (client id, source address) allowing
//! `per_pair` failures a minute, one per source address allowing
//! `per_source`; each may burst up to a minute's worth and then refills at
//! the steady rate. The source is the TCP peer; an IPv6 peer counts as its
//! /64 (one customer's allocation), an IPv4-mapped one as the IPv4 address.
//!
//! Every attempt that is about to cost an argon2 verification is charged
//! up front ([`FailureThrottle::begin`]) so concurrent attempts cannot
//! overshoot, and given back when it turns out to be a success (or the
//! service failed): only failures stay counted. Over either limit the
//! attempt is refused before any database or argon2 work (429 with
//! `Retry-After`).
//!
//! Memory is bounded: each map keeps at most [`MAX_TRACKED`] entries;
//! when full, entries whose bucket is full again (nothing to remember) are
//! dropped first, then the half closest to being full again.

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hash};
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Entries kept per map (pairs, sources) before eviction.
pub const MAX_TRACKED: usize = 100_000;

const WINDOW: Duration = Duration::from_secs(60);

/// The failure buckets of one instance.
pub struct FailureThrottle {
    /// Time to earn one failure back per (client id, source); `None`: off.
    pair_interval: Option<Duration>,
    /// The same per source address.
    source_interval: Option<Duration>,
    buckets: Mutex<Buckets>,
    /// Keys the pair map with a per-process random SipHash of (source,
    /// client id), so a long client id costs no memory.
    hasher: RandomState,
    /// Attempts refused since the start.
    refused: AtomicU64,
}

#[derive(Default)]
struct Buckets {
    pairs: HashMap<u64, Instant>,
    sources: HashMap<IpAddr, Instant>,
}

/// One charged attempt, to give back with [`FailureThrottle::refund`]
/// unless it failed.
#[derive(Debug, Clone, Copy)]
pub struct Attempt {
    pair: u64,
    source: IpAddr,
}

impl FailureThrottle {
    /// A throttle of `per_pair` failures a minute per (client id, source)
    /// and `per_source` per source; 0 turns either off.
    pub fn new(per_pair: u32, per_source: u32) -> FailureThrottle {
        FailureThrottle {
            pair_interval: (per_pair > 0).then(|| WINDOW / per_pair),
            source_interval: (per_source > 0).then(|| WINDOW / per_source),
            buckets: Mutex::new(Buckets::default()),
            hasher: RandomState::new(),
            refused: AtomicU64::new(0),
        }
    }

    /// Charges one attempt of `client_id` from `source` (`None`: a peer
    /// without an IP address, counted as one source): `Ok` when under both
    /// limits, else `Err(seconds)` until the next attempt would be allowed
    /// (at least 1).
    pub fn begin(&self, client_id: &str, source: Option<IpAddr>) -> Result<Attempt, u64> {
        self.begin_at(client_id, source, Instant::now())
    }

    fn begin_at(
        &self,
        client_id: &str,
        source: Option<IpAddr>,
        now: Instant,
    ) -> Result<Attempt, u64> {
        let source = source_key(source);
        let attempt = Attempt {
            pair: self.hasher.hash_one((source, client_id)),
            source,
        };
        let Ok(mut buckets) = self.buckets.lock() else {
            // Another thread panicked holding the lock: throttling is
            // best effort, the bounded verifier still caps the cost.
            return Ok(attempt);
        };
        let Buckets { pairs, sources } = &mut *buckets;
        let wait = [
            self.pair_interval
                .and_then(|i| over(pairs, &attempt.pair, i, now)),
            self.source_interval
                .and_then(|i| over(sources, &attempt.source, i, now)),
        ]
        .into_iter()
        .flatten()
        .max();
        if let Some(seconds) = wait {
            self.refused.fetch_add(1, Ordering::Relaxed);
            return Err(seconds);
        }
        if let Some(interval) = self.pair_interval {
            charge(pairs, attempt.pair, interval, now);
        }
        if let Some(interval) = self.source_interval {
            charge(sources, attempt.source, interval, now);
        }
        Ok(attempt)
    }

    /// Gives a charged attempt back: it succeeded (or the service failed
    /// before it could tell).
    pub fn refund(&self, attempt: Attempt) {
        self.refund_at(attempt, Instant::now());
    }

    fn refund_at(&self, attempt: Attempt, now: Instant) {
        let Ok(mut buckets) = self.buckets.lock() else {
            return;
        };
        let Buckets { pairs, sources } = &mut *buckets;
        if let Some(interval) = self.pair_interval {
            give_back(pairs, &attempt.pair, interval, now);
        }
        if let Some(interval) = self.source_interval {
            give_back(sources, &attempt.source, interval, now);
        }
    }

    /// Attempts refused since the start (for `/metrics`).
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    #[cfg(test)]
    fn tracked(&self) -> (usize, usize) {
        let buckets = self.buckets.lock().unwrap();
        (buckets.pairs.len(), buckets.sources.len())
    }
}

/// The address a source is counted as: IPv4 as it is (also when mapped
/// into IPv6), IPv6 as its /64.
fn source_key(source: Option<IpAddr>) -> IpAddr {
    match source {
        None => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        Some(IpAddr::V4(v4)) => IpAddr::V4(v4),
        Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from_bits(v6.to_bits() & !((1u128 << 64) - 1))),
        },
    }
}

/// Seconds until one more attempt fits the bucket of `key`, if it does not now.
fn over<K: Hash + Eq>(
    map: &HashMap<K, Instant>,
    key: &K,
    interval: Duration,
    now: Instant,
) -> Option<u64> {
    let full_at = map.get(key).copied().unwrap_or(now).max(now);
    let ahead = (full_at + interval).saturating_duration_since(now);
    (ahead > WINDOW).then(|| {
        let wait = ahead - WINDOW;
        (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
    })
}

fn charge<K: Hash + Eq + Copy>(
    map: &mut HashMap<K, Instant>,
    key: K,
    interval: Duration,
    now: Instant,
) {
    if map.len() >= MAX_TRACKED && !map.contains_key(&key) {
        evict(map, now);
    }
    let full_at = map.entry(key).or_insert(now);
    *full_at = (*full_at).max(now) + interval;
}

fn give_back<K: Hash + Eq>(
    map: &mut HashMap<K, Instant>,
    key: &K,
    interval: Duration,
    now: Instant,
) {
    if let Some(full_at) = map.get_mut(key) {
        match full_at.checked_sub(interval) {
            Some(earlier) if earlier > now => *full_at = earlier,
            _ => {
                map.remove(key);
            }
        }
    }
}

/// Makes room in a full map: drops the buckets that are full again, and if
/// that is not enough, the half that will be full soonest.
fn evict<K: Hash + Eq>(map: &mut HashMap<K, Instant>, now: Instant) {
    map.retain(|_, full_at| *full_at > now);
    if map.len() < MAX_TRACKED {
        return;
    }
    let mut times: Vec<Instant> = map.values().copied().collect();
    let middle = times.len() / 2;
    let (_, median, _) = times.select_nth_unstable(middle);
    let median = *median;
    map.retain(|_, full_at| *full_at > median);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn ip(last: u8) -> Option<IpAddr> {
        Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, last)))
    }

    #[test]
    fn failures_per_pair_then_per_source() {
        let throttle = FailureThrottle::new(3, 5);
        let t0 = Instant::now();
        for _ in 0..3 {
            throttle.begin_at("a", ip(1), t0).unwrap();
        }
        // 3 a minute: one more every 20 s.
        assert_eq!(throttle.begin_at("a", ip(1), t0).unwrap_err(), 20);
        // Another source guessing the same id is counted on its own.
        throttle.begin_at("a", ip(2), t0).unwrap();
        // The first source's budget for other ids: 5 in all.
        throttle.begin_at("b", ip(1), t0).unwrap();
        throttle.begin_at("c", ip(1), t0).unwrap();
        assert_eq!(throttle.begin_at("d", ip(1), t0).unwrap_err(), 12);
        assert!(
            throttle
                .begin_at("a", ip(1), t0 + Duration::from_secs(20))
                .is_ok()
        );
    }

    #[test]
    fn successes_are_given_back() {
        let throttle = FailureThrottle::new(2, 0);
        let t0 = Instant::now();
        for _ in 0..10 {
            let attempt = throttle.begin_at("a", ip(1), t0).unwrap();
            throttle.refund_at(attempt, t0);
        }
        assert_eq!(throttle.tracked(), (0, 0));
        throttle.begin_at("a", ip(1), t0).unwrap();
        throttle.begin_at("a", ip(1), t0).unwrap();
        assert!(throttle.begin_at("a", ip(1), t0).is_err());
    }

    #[test]
    fn zero_disables() {
        let throttle = FailureThrottle::new(0, 0);
        let t0 = Instant::now();
        for _ in 0..1000 {
            throttle.begin_at("a", ip(1), t0).unwrap();
        }
        assert_eq!(throttle.tracked(), (0, 0));
    }

    #[test]
    fn ipv6_counts_per_64_and_mapped_ipv4_as_ipv4() {
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(source_key(Some(a)), source_key(Some(b)));
        assert_ne!(source_key(Some(a)), source_key(Some(c)));
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        assert_eq!(source_key(Some(mapped)), ip(1).unwrap());
    }

    #[test]
    fn memory_is_bounded() {
        let throttle = FailureThrottle::new(1, 0);
        let t0 = Instant::now();
        for n in 0..(MAX_TRACKED + 10) {
            throttle
                .begin_at(&n.to_string(), ip(1), t0 + Duration::from_millis(n as u64))
                .unwrap();
        }
        let (pairs, _) = throttle.tracked();
        assert!(pairs <= MAX_TRACKED, "{pairs}");
        assert!(pairs >= MAX_TRACKED / 2 - 1, "{pairs}");
        // The most recent failures are the ones kept.
        let last = (MAX_TRACKED + 9).to_string();
        let at = t0 + Duration::from_millis(MAX_TRACKED as u64 + 9);
        assert!(throttle.begin_at(&last, ip(1), at).is_err());
    }
}
