//! Rate limits with GCRA (the generic cell rate algorithm): each limit keeps one "theoretical
//! arrival time"; a unit is admitted when it is not too far ahead of now. Several limits (the
//! SMTP relay's, the organization's, the recipient domain's) are taken together or not at all.
//!
//! `redis::RedisLimiter` runs the algorithm in a Lua script on Redis's own clock (`TIME`, in
//! microseconds), so every replica shares the limits and rates above 1,000/s stay exact;
//! `memory::MemoryLimiter` runs it in-process.
pub mod memory;
pub mod redis;

use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum LimiterError {
    #[error("rate limiter unavailable: {0}")]
    Unavailable(String),
}

/// One limit: `per_second` on average, with up to `burst` admitted at once.
#[derive(Clone, Debug, PartialEq)]
pub struct Limit {
    /// Names the limit, e.g. `relay`, `org:<id>`, `domain:example.com`.
    pub key: String,
    pub per_second: f64,
    pub burst: u32,
}

impl Limit {
    /// Microseconds between admissions at the steady rate.
    pub fn emission_interval_micros(&self) -> u64 {
        (1_000_000.0 / self.per_second).round().max(1.0) as u64
    }

    /// How far ahead of now the arrival time may run: (burst - 1) intervals.
    pub fn tolerance_micros(&self) -> u64 {
        // Saturating: a tiny rate with a large burst must not overflow (a panic in debug builds).
        self.emission_interval_micros()
            .saturating_mul(u64::from(self.burst.max(1) - 1))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    Admitted,
    /// Not admitted; nothing was taken. Try again after this long.
    RetryAfter(Duration),
}

#[async_trait::async_trait]
pub trait RateLimiter: Send + Sync + 'static {
    /// Takes one unit from every limit, or from none.
    async fn acquire(&self, limits: &[Limit]) -> Result<Admission, LimiterError>;
}
