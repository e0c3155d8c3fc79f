//! The per-client rate limit, in memory of this instance (N instances
//! behind a load balancer allow up to N times the rate).
//!
//! A token bucket of `per_minute` requests that refills one request every
//! `60 s / per_minute`, kept as one "theoretical arrival time" per client
//! (the generic cell rate algorithm): a client may burst up to a minute's
//! worth and then goes at the steady rate. Integer time arithmetic, so the
//! answer is exact.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Clients tracked before those whose bucket is full again are dropped.
const PRUNE_ABOVE: usize = 10_000;

const WINDOW: Duration = Duration::from_secs(60);

/// Token buckets of every client seen by this instance.
pub struct RateLimiter {
    /// Time to earn one request back; `None` when the limit is off.
    interval: Option<Duration>,
    /// Per client: when its bucket would be full again.
    arrivals: Mutex<HashMap<String, Instant>>,
}

impl RateLimiter {
    /// A limiter of `per_minute` requests per client; 0 disables it.
    pub fn new(per_minute: u32) -> RateLimiter {
        RateLimiter {
            interval: (per_minute > 0).then(|| WINDOW / per_minute),
            arrivals: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from `client`'s bucket: `Ok` when allowed, else
    /// `Err(seconds)` until the next request would be (at least 1).
    pub fn check(&self, client: &str) -> Result<(), u64> {
        if self.interval.is_none() {
            // Off: not even the clock is read.
            return Ok(());
        }
        self.check_at(client, Instant::now())
    }

    fn check_at(&self, client: &str, now: Instant) -> Result<(), u64> {
        let Some(interval) = self.interval else {
            return Ok(());
        };
        let Ok(mut arrivals) = self.arrivals.lock() else {
            // A poisoned lock only means another thread panicked while
            // holding it; limiting is best effort, so let the request pass.
            return Ok(());
        };
        if arrivals.len() > PRUNE_ABOVE {
            arrivals.retain(|_, full_at| *full_at > now);
        }
        // A client not seen yet arrives `now`.
        let arrival = arrivals.get(client).copied().unwrap_or(now);
        let next = arrival.max(now) + interval;
        let ahead = next.saturating_duration_since(now);
        if ahead > WINDOW {
            let wait = ahead - WINDOW;
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            return Err(seconds.max(1));
        }
        // The client's id is copied only the first time it is seen.
        match arrivals.get_mut(client) {
            Some(arrival) => *arrival = next,
            None => {
                arrivals.insert(client.to_owned(), next);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_a_minute_of_burst_then_refills() {
        let limiter = RateLimiter::new(3);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.check_at("a", t0), Ok(()));
        }
        // 3 per minute: one token every 20 s.
        assert_eq!(limiter.check_at("a", t0), Err(20));
        // Other clients have their own bucket.
        assert_eq!(limiter.check_at("b", t0), Ok(()));
        assert_eq!(limiter.check_at("a", t0 + Duration::from_secs(10)), Err(10));
        assert_eq!(limiter.check_at("a", t0 + Duration::from_secs(20)), Ok(()));
        assert!(limiter.check_at("a", t0 + Duration::from_secs(20)).is_err());
    }

    #[test]
    fn zero_disables() {
        let limiter = RateLimiter::new(0);
        let t0 = Instant::now();
        for _ in 0..10_000 {
            assert_eq!(limiter.check_at("a", t0), Ok(()));
        }
    }
}
