//! Per-client token buckets: how many submissions each client may make, and when it may
//! make the next one. Pure: the time is passed in (milliseconds on any monotonic clock),
//! so the same code runs in the server and in its tests.
//!
//! A client is its IP address; an IPv6 client is its `/64` network (one subscriber's
//! prefix, which an attacker would otherwise walk through address by address). The table
//! is bounded: when it is full, buckets that have refilled (and so say nothing a new
//! bucket would not) are dropped, and if none has, new clients share one overflow bucket
//! until room is made.

use std::collections::HashMap;
use std::net::IpAddr;

/// Thousandths of a token: the unit the buckets count in, so that rates below one a
/// millisecond refill exactly in integers.
const MILLI: u64 = 1_000;

/// How fast a client may submit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RatePolicy {
    /// Submissions a second, sustained (0: no limit).
    pub per_second: u32,
    /// Submissions that may come at once after a quiet time (at least 1).
    pub burst: u32,
}

impl RatePolicy {
    /// Whether this policy limits anything.
    pub fn is_limited(&self) -> bool {
        self.per_second > 0
    }

    fn capacity(&self) -> u64 {
        u64::from(self.burst.max(1)) * MILLI
    }
}

/// Who is counted: an IPv4 address, an IPv6 `/64`, or the shared overflow bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ClientKey {
    /// One IPv4 address (IPv4-mapped IPv6 addresses included).
    V4(u32),
    /// The first 64 bits of an IPv6 address.
    V6(u64),
    /// Every client that found the table full.
    Overflow,
}

impl ClientKey {
    /// The key of a client address.
    pub fn of(ip: IpAddr) -> ClientKey {
        match ip {
            IpAddr::V4(v4) => ClientKey::V4(u32::from(v4)),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => ClientKey::V4(u32::from(v4)),
                None => ClientKey::V6((u128::from(v6) >> 64) as u64),
            },
        }
    }
}

/// The answer to a client over its rate: wait this long before the next submission.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryAfter {
    /// Milliseconds until one submission is allowed again.
    pub millis: u64,
}

impl RetryAfter {
    /// Whole seconds, rounded up and at least one (the `Retry-After` header's unit).
    pub fn seconds(&self) -> u64 {
        self.millis.div_ceil(1_000).max(1)
    }
}

#[derive(Clone, Copy, Debug)]
struct Bucket {
    /// Thousandths of a token held at `at`.
    tokens: u64,
    /// When `tokens` was counted (milliseconds).
    at: u64,
}

impl Bucket {
    fn level(&self, now: u64, policy: &RatePolicy) -> u64 {
        let elapsed = now.saturating_sub(self.at);
        self.tokens
            .saturating_add(elapsed.saturating_mul(u64::from(policy.per_second)))
            .min(policy.capacity())
    }
}

/// Token buckets of the clients seen recently.
#[derive(Debug)]
pub struct RateLimiter {
    policy: RatePolicy,
    max_clients: usize,
    buckets: HashMap<ClientKey, Bucket>,
}

impl RateLimiter {
    /// Most clients tracked at once by default (about 50 bytes each).
    pub const DEFAULT_MAX_CLIENTS: usize = 100_000;

    /// A limiter with `policy`, tracking at most `max_clients` clients (at least 1).
    pub fn new(policy: RatePolicy, max_clients: usize) -> RateLimiter {
        RateLimiter {
            policy,
            max_clients: max_clients.max(1),
            buckets: HashMap::new(),
        }
    }

    /// The policy.
    pub fn policy(&self) -> RatePolicy {
        self.policy
    }

    /// Clients tracked now.
    pub fn tracked(&self) -> usize {
        self.buckets.len()
    }

    /// Takes one submission from `client`'s bucket at time `now` (milliseconds), or says
    /// how long it must wait.
    pub fn check(&mut self, client: IpAddr, now: u64) -> Result<(), RetryAfter> {
        if !self.policy.is_limited() {
            return Ok(());
        }
        let policy = self.policy;
        let mut key = ClientKey::of(client);
        if !self.buckets.contains_key(&key) && self.buckets.len() >= self.max_clients {
            self.prune(now);
            if self.buckets.len() >= self.max_clients {
                key = ClientKey::Overflow;
            }
        }
        let bucket = self.buckets.entry(key).or_insert(Bucket {
            tokens: policy.capacity(),
            at: now,
        });
        let level = bucket.level(now, &policy);
        // A clock that went back (it should not: monotonic) refills nothing.
        let at = now.max(bucket.at);
        if level >= MILLI {
            *bucket = Bucket {
                tokens: level - MILLI,
                at,
            };
            Ok(())
        } else {
            *bucket = Bucket { tokens: level, at };
            let missing = MILLI - level;
            Err(RetryAfter {
                millis: missing.div_ceil(u64::from(policy.per_second)),
            })
        }
    }

    /// Drops the buckets that have refilled: a new bucket would be the same.
    fn prune(&mut self, now: u64) {
        let policy = self.policy;
        let full = policy.capacity();
        self.buckets.retain(|_, b| b.level(now, &policy) < full);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn a_burst_then_the_sustained_rate() {
        let mut limiter = RateLimiter::new(
            RatePolicy {
                per_second: 2,
                burst: 3,
            },
            10,
        );
        let a = ip("192.0.2.1");
        for _ in 0..3 {
            assert_eq!(limiter.check(a, 1_000), Ok(()));
        }
        let wait = limiter.check(a, 1_000).unwrap_err();
        assert_eq!(wait.millis, 500);
        assert_eq!(wait.seconds(), 1);
        // Another client is not affected.
        assert_eq!(limiter.check(ip("192.0.2.2"), 1_000), Ok(()));
        // Half a second later one token is back, and only one.
        assert_eq!(limiter.check(a, 1_500), Ok(()));
        assert!(limiter.check(a, 1_500).is_err());
        // Long after, the bucket is full again but holds no more than the burst.
        for _ in 0..3 {
            assert_eq!(limiter.check(a, 100_000), Ok(()));
        }
        assert!(limiter.check(a, 100_000).is_err());
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        let mut limiter = RateLimiter::new(
            RatePolicy {
                per_second: 1,
                burst: 1,
            },
            10,
        );
        let a = ip("198.51.100.7");
        assert!(limiter.check(a, 0).is_ok());
        let wait = limiter.check(a, 1).unwrap_err();
        assert_eq!(wait.millis, 999);
        assert_eq!(wait.seconds(), 1);
        // A clock going back neither refills nor panics.
        assert!(limiter.check(a, 0).is_err());
    }

    #[test]
    fn no_limit_when_the_rate_is_zero() {
        let mut limiter = RateLimiter::new(
            RatePolicy {
                per_second: 0,
                burst: 1,
            },
            1,
        );
        for i in 0..1_000 {
            assert!(limiter.check(ip("192.0.2.1"), i).is_ok());
        }
        assert_eq!(limiter.tracked(), 0);
    }

    #[test]
    fn ipv6_clients_are_their_64_and_mapped_v4_is_v4() {
        assert_eq!(
            ClientKey::of(ip("2001:db8:1:2::1")),
            ClientKey::of(ip("2001:db8:1:2:ffff::9"))
        );
        assert_ne!(
            ClientKey::of(ip("2001:db8:1:2::1")),
            ClientKey::of(ip("2001:db8:1:3::1"))
        );
        assert_eq!(
            ClientKey::of(ip("::ffff:192.0.2.1")),
            ClientKey::of(ip("192.0.2.1"))
        );
    }

    #[test]
    fn the_table_stays_bounded() {
        let policy = RatePolicy {
            per_second: 1,
            burst: 1,
        };
        let mut limiter = RateLimiter::new(policy, 4);
        for i in 0..4u8 {
            assert!(limiter.check(IpAddr::from([10, 0, 0, i]), 0).is_ok());
        }
        // Full and nobody refilled: newcomers share the overflow bucket.
        assert!(limiter.check(ip("10.0.1.1"), 0).is_ok());
        assert!(limiter.check(ip("10.0.1.2"), 0).is_err());
        assert_eq!(limiter.tracked(), 5);
        // Later everyone has refilled: the table is pruned and newcomers get their own.
        for i in 0..100u8 {
            assert!(limiter
                .check(IpAddr::from([10, 0, 2, i]), 10_000 + u64::from(i) * 2_000)
                .is_ok());
            assert!(limiter.tracked() <= 5);
        }
    }
}
