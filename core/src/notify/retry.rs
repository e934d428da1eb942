//! How a [`Notifier`](super::Notifier) retries: exponential backoff, the
//! attempt limit and the claim lease.
//!
//! Owns the arithmetic of "when may this delivery be tried again" and the
//! checks on its tunables. Must never read a clock itself: callers pass the
//! instants, so the notifier measures everything with its
//! [`Clock`](crate::ports::Clock) port.

use chrono::Duration;

use crate::error::{Error, Result};

/// Exponential backoff between attempts of one delivery.
///
/// After the `n`th failed attempt the next one waits
/// `min(cap, base × factorⁿ⁻¹)`. After `max_attempts` attempts the delivery
/// is failed for good.
///
/// ```
/// use chrono::Duration;
/// use reservo::notify::RetryPolicy;
/// let policy = RetryPolicy {
///     base: Duration::seconds(10),
///     factor: 3,
///     cap: Duration::minutes(2),
///     max_attempts: 5,
/// };
/// assert_eq!(policy.delay_after(1), Duration::seconds(10));
/// assert_eq!(policy.delay_after(2), Duration::seconds(30));
/// assert_eq!(policy.delay_after(3), Duration::seconds(90));
/// assert_eq!(policy.delay_after(4), Duration::minutes(2)); // capped
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The wait after the first failed attempt; greater than zero.
    pub base: Duration,
    /// What each further wait is multiplied by; at least 1 (1: constant).
    pub factor: u32,
    /// The longest wait; at least `base`, at most
    /// [`NotifierConfig::LONGEST_WAIT`].
    pub cap: Duration,
    /// Attempts before a delivery is failed for good; at least 1.
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    /// 30 s, doubling, at most 1 h between attempts, 8 attempts (about 2 h
    /// 7 min from the first attempt to giving up).
    fn default() -> Self {
        RetryPolicy {
            base: Duration::seconds(30),
            factor: 2,
            cap: Duration::hours(1),
            max_attempts: 8,
        }
    }
}

impl RetryPolicy {
    /// Checks the tunables, naming the first that is out of range.
    ///
    /// ```
    /// use reservo::notify::RetryPolicy;
    /// let policy = RetryPolicy { factor: 0, ..RetryPolicy::default() };
    /// assert_eq!(policy.validate().unwrap_err().code(), "INVALID_INPUT");
    /// ```
    pub fn validate(&self) -> Result<()> {
        if self.base <= Duration::zero() {
            return Err(Error::invalid(
                "retry.base",
                format!("must be greater than zero, got {}", self.base),
            ));
        }
        if self.factor == 0 {
            return Err(Error::invalid("retry.factor", "must be at least 1, got 0"));
        }
        if self.cap < self.base {
            return Err(Error::invalid(
                "retry.cap",
                format!("{} is shorter than the base {}", self.cap, self.base),
            ));
        }
        no_longer_than_a_wait_can_be("retry.cap", self.cap)?;
        if self.max_attempts == 0 {
            return Err(Error::invalid(
                "retry.max_attempts",
                "must be at least 1, got 0",
            ));
        }
        Ok(())
    }

    /// The wait after failed attempt number `attempt` (1 for the first).
    pub fn delay_after(&self, attempt: u32) -> Duration {
        let mut delay = self.base;
        for _ in 1..attempt {
            if delay >= self.cap {
                break;
            }
            delay = delay
                .checked_mul(i32::try_from(self.factor).unwrap_or(i32::MAX))
                .unwrap_or(self.cap);
        }
        delay.min(self.cap)
    }
}

/// The tunables of a [`Notifier`](super::Notifier).
///
/// ```
/// use chrono::Duration;
/// use reservo::notify::NotifierConfig;
/// let config = NotifierConfig { lease: Duration::seconds(30), ..NotifierConfig::default() };
/// assert!(config.validate().is_ok());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotifierConfig {
    /// Backoff and attempt limit.
    pub retry: RetryPolicy,
    /// How long a claimed delivery belongs to the dispatcher that claimed
    /// it. It must be longer than the slowest send: a delivery whose lease
    /// runs out is claimed again (by any dispatcher) and sent again under
    /// the same dedupe key. 2 minutes unless set, at most
    /// [`NotifierConfig::LONGEST_WAIT`].
    pub lease: Duration,
}

impl Default for NotifierConfig {
    fn default() -> Self {
        NotifierConfig {
            retry: RetryPolicy::default(),
            lease: Duration::minutes(2),
        }
    }
}

impl NotifierConfig {
    /// The longest backoff cap or lease: 365 days. A delivery's next
    /// attempt is "now" plus one of them, and must stay an instant that
    /// can be computed and keyed.
    pub const LONGEST_WAIT: Duration = Duration::days(365);

    /// Checks every tunable, naming the first that is out of range.
    pub fn validate(&self) -> Result<()> {
        self.retry.validate()?;
        if self.lease <= Duration::zero() {
            return Err(Error::invalid(
                "lease",
                format!("must be greater than zero, got {}", self.lease),
            ));
        }
        no_longer_than_a_wait_can_be("lease", self.lease)
    }
}

/// Refuses a wait longer than [`NotifierConfig::LONGEST_WAIT`]: adding it
/// to "now" could overflow an instant.
fn no_longer_than_a_wait_can_be(field: &str, wait: Duration) -> Result<()> {
    if wait > NotifierConfig::LONGEST_WAIT {
        return Err(Error::invalid(
            field,
            format!(
                "{wait} is longer than the longest wait, {}",
                NotifierConfig::LONGEST_WAIT
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_by_the_factor_and_stops_at_the_cap() {
        let policy = RetryPolicy {
            base: Duration::seconds(1),
            factor: 2,
            cap: Duration::seconds(5),
            max_attempts: 10,
        };
        let delays: Vec<i64> = (1..=5)
            .map(|n| policy.delay_after(n).num_seconds())
            .collect();
        assert_eq!(delays, [1, 2, 4, 5, 5]);
        assert_eq!(policy.delay_after(u32::MAX), Duration::seconds(5));
    }

    #[test]
    fn huge_factor_saturates_at_the_cap() {
        let policy = RetryPolicy {
            base: Duration::days(1),
            factor: u32::MAX,
            cap: Duration::days(30),
            max_attempts: 3,
        };
        assert_eq!(policy.delay_after(3), Duration::days(30));
    }

    #[test]
    fn out_of_range_tunables_are_refused() {
        let ok = NotifierConfig::default();
        assert!(ok.validate().is_ok());
        let bad = [
            NotifierConfig {
                lease: Duration::zero(),
                ..ok
            },
            NotifierConfig {
                retry: RetryPolicy {
                    max_attempts: 0,
                    ..ok.retry
                },
                ..ok
            },
            NotifierConfig {
                retry: RetryPolicy {
                    cap: Duration::seconds(1),
                    ..ok.retry
                },
                ..ok
            },
            NotifierConfig {
                retry: RetryPolicy {
                    base: Duration::seconds(-1),
                    ..ok.retry
                },
                ..ok
            },
        ];
        for config in bad {
            assert_eq!(config.validate().unwrap_err().code(), "INVALID_INPUT");
        }
    }
}
