//! GCRA on Redis: one Lua script takes a unit from every limit or from none, on Redis's clock, so
//! that all replicas share the limits and their clocks do not matter.
//!
//! Keys: `{prefix}:rl:<limit key>`, one string per limit holding its theoretical arrival time
//! (µs since the Unix epoch, Redis's clock). They share one hash tag, so that in Redis Cluster a
//! script may touch several at once. Each expires a second or two after its arrival time
//! passes, since an absent key means exactly the same as a time in the past.
use beckon_redis::{Connection, Redis, Timeouts};
use redis::{RedisError, Script};
use std::time::Duration;

use super::{Admission, Limit, LimiterError, RateLimiter};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(5);

/// Mirrors `memory::gcra_all`. KEYS[i] is a limit's key; ARGV[2i-1] its emission interval and
/// ARGV[2i] its tolerance, in µs. Returns 0 when admitted, else the wait in µs. One MGET reads
/// every limit; a key named twice continues from its earlier new time.
///
/// Times are Lua numbers (doubles), exact for µs timestamps until the 23rd century; Redis
/// writes a number argument with 17 digits, so they are stored exactly. A key expires in the
/// second after the one its arrival time falls in (PXAT); while a new time stays in the same
/// second the expiry stands (KEEPTTL), which spares most writes the cost of setting one.
const ACQUIRE: &str = r"
local time = redis.call('TIME')
local now = time[1] * 1000000 + time[2]
local stored = redis.call('MGET', unpack(KEYS))
local taken = {}
local wait = 0
for i = 1, #KEYS do
  local tat = tonumber(stored[i]) or now
  for j = 1, i - 1 do
    if KEYS[j] == KEYS[i] and taken[j] then
      tat = taken[j]
    end
  end
  if tat < now then
    tat = now
  end
  local allowed_from = tat - ARGV[2 * i]
  if allowed_from > now then
    wait = math.max(wait, allowed_from - now)
  else
    taken[i] = tat + ARGV[2 * i - 1]
  end
end
if wait > 0 then
  return wait
end
for i = 1, #KEYS do
  local second = math.floor(taken[i] / 1000000)
  local old = tonumber(stored[i])
  if old and math.floor(old / 1000000) == second then
    redis.call('SET', KEYS[i], taken[i], 'KEEPTTL')
  else
    redis.call('SET', KEYS[i], taken[i], 'PXAT', (second + 2) * 1000)
  end
end
return 0
";

pub struct RedisLimiter {
    conn: Connection,
    prefix: String,
    script: Script,
}

fn unavailable(error: RedisError) -> LimiterError {
    LimiterError::Unavailable(error.to_string())
}

impl RedisLimiter {
    pub async fn connect(redis_url: &str, prefix: &str) -> Result<Self, LimiterError> {
        let timeouts = Timeouts {
            connect: CONNECT_TIMEOUT,
            response: RESPONSE_TIMEOUT,
        };
        let redis = Redis::open(redis_url, timeouts)
            .map_err(|error| LimiterError::Unavailable(error.to_string()))?;
        let conn = redis.shared().await.map_err(unavailable)?;
        Ok(Self {
            conn,
            prefix: prefix.to_owned(),
            script: Script::new(ACQUIRE),
        })
    }
}

fn limit_key(prefix: &str, limit: &Limit) -> String {
    format!("{{{prefix}}}:rl:{}", limit.key)
}

#[async_trait::async_trait]
impl RateLimiter for RedisLimiter {
    async fn acquire(&self, limits: &[Limit]) -> Result<Admission, LimiterError> {
        if limits.is_empty() {
            return Ok(Admission::Admitted);
        }
        let mut invocation = self.script.prepare_invoke();
        for limit in limits {
            invocation
                .key(limit_key(&self.prefix, limit))
                .arg(limit.rate.emission_interval_micros())
                .arg(limit.rate.tolerance_micros());
        }
        // EVALSHA, loading the script first if this Redis has not seen it yet.
        let wait: u64 = invocation
            .invoke_async(&mut self.conn.clone())
            .await
            .map_err(unavailable)?;
        Ok(match wait {
            0 => Admission::Admitted,
            wait => Admission::RetryAfter(Duration::from_micros(wait)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Period, Rate};

    #[test]
    fn keys_share_one_hash_tag_per_prefix() {
        let limit = Limit::new("domain:example.com", Rate::new(1, Period::Second, 1));
        assert_eq!(
            limit_key("beckon", &limit),
            "{beckon}:rl:domain:example.com"
        );
    }
}
