//! Rate limits with GCRA (the generic cell rate algorithm): each limit keeps one "theoretical
//! arrival time"; a unit is admitted when it is not too far ahead of now. Several limits (e.g.
//! an SMTP relay's, an organization's, a recipient domain's) are taken together or not at all.
//!
//! `redis::RedisLimiter` runs the algorithm in a Lua script on Redis's own clock (`TIME`, in
//! microseconds), so every replica shares the limits and rates above 1,000/s stay exact;
//! `memory::MemoryLimiter` runs it in-process.
pub mod memory;
mod rate;
pub mod redis;

use std::time::Duration;

pub use rate::{Period, Rate};

#[derive(Debug, thiserror::Error)]
pub enum LimiterError {
    #[error("rate limiter unavailable: {0}")]
    Unavailable(String),
}

/// One limit: a name and its rate.
#[derive(Clone, Debug, PartialEq)]
pub struct Limit {
    /// Names the limit, e.g. `relay`, `org:<id>`, `domain:example.com`.
    pub key: String,
    pub rate: Rate,
}

impl Limit {
    pub fn new(key: impl Into<String>, rate: Rate) -> Self {
        Self {
            key: key.into(),
            rate,
        }
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
