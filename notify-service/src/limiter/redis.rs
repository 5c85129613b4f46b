//! GCRA on Redis: one Lua script takes a unit from every limit or from none, on Redis's clock, so
//! that all replicas share the limits and their clocks do not matter.
//!
//! Keys: `{prefix}:rl:<limit key>`, one string per limit holding its theoretical arrival time
//! (µs since the Unix epoch, Redis's clock). They share one hash tag, so that in Redis Cluster a
//! script may touch several at once. Each expires when its arrival time passes, since an absent
//! key means exactly the same as a time in the past.
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, RedisError, Script};
use std::time::Duration;

use super::{Admission, Limit, LimiterError, RateLimiter};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(5);

/// Mirrors `memory::gcra_all`. KEYS[i] is a limit's key; ARGV[2i-1] its emission interval and
/// ARGV[2i] its tolerance, in µs. Returns {1, 0} when admitted, {0, wait in µs} when not.
/// Times are Lua numbers (doubles): exact for µs timestamps until the 23rd century, and written
/// back with %.0f, as tostring would lose digits.
const ACQUIRE: &str = r"
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local taken = {}
local wait = 0
for i, key in ipairs(KEYS) do
  local interval = tonumber(ARGV[2 * i - 1])
  local tolerance = tonumber(ARGV[2 * i])
  local tat = taken[key] or tonumber(redis.call('GET', key)) or now
  if tat < now then
    tat = now
  end
  local allowed_from = tat - tolerance
  if allowed_from > now then
    if allowed_from - now > wait then
      wait = allowed_from - now
    end
  else
    taken[key] = tat + interval
  end
end
if wait > 0 then
  return {0, wait}
end
for key, tat in pairs(taken) do
  redis.call('SET', key, string.format('%.0f', tat), 'PX', math.ceil((tat - now) / 1000))
end
return {1, 0}
";

pub struct RedisLimiter {
    conn: ConnectionManager,
    prefix: String,
    script: Script,
}

fn unavailable(error: RedisError) -> LimiterError {
    LimiterError::Unavailable(error.to_string())
}

impl RedisLimiter {
    pub async fn connect(redis_url: &str, prefix: &str) -> Result<Self, LimiterError> {
        let client = Client::open(redis_url).map_err(unavailable)?;
        // One quick retry: fail promptly while Redis is down (the defaults back off for minutes).
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(CONNECT_TIMEOUT)
            .set_response_timeout(RESPONSE_TIMEOUT)
            .set_number_of_retries(1)
            .set_factor(2)
            .set_max_delay(1000);
        let conn = client
            .get_connection_manager_with_config(config)
            .await
            .map_err(unavailable)?;
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
                .arg(limit.emission_interval_micros())
                .arg(limit.tolerance_micros());
        }
        // EVALSHA, loading the script first if this Redis has not seen it yet.
        let reply: Vec<i64> = invocation
            .invoke_async(&mut self.conn.clone())
            .await
            .map_err(unavailable)?;
        match reply.as_slice() {
            [1, _] => Ok(Admission::Admitted),
            &[0, wait] if wait > 0 => Ok(Admission::RetryAfter(Duration::from_micros(
                wait.unsigned_abs(),
            ))),
            _ => Err(LimiterError::Unavailable(format!(
                "unexpected reply from the rate limit script: {reply:?}"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_share_one_hash_tag_per_prefix() {
        let limit = Limit {
            key: "domain:example.com".to_owned(),
            per_second: 1.0,
            burst: 1,
        };
        assert_eq!(
            limit_key("beckon", &limit),
            "{beckon}:rl:domain:example.com"
        );
    }
}
