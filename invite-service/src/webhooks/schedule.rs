//! When a failed webhook is tried again. Receivers plan around the schedule Standard Webhooks
//! suggests (at once, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h: eight attempts over about
//! 27 hours), so that is the default; an operator may set another (`"5s 5m 30m 2h"`).
//!
//! Each delay is jittered by ±10%, so endpoints that failed together (the receiver's outage)
//! are not all tried again in the same second, and is never shorter than the receiver's
//! Retry-After.
use std::{fmt, str::FromStr, time::Duration};

/// The delays between attempts: the first attempt is at once, attempt n + 1 comes `delays[n-1]`
/// after attempt n.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetrySchedule {
    delays: Vec<Duration>,
}

/// Why a schedule setting was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("the retry schedule lists no delays; write them like \"5s 5m 30m 2h\"")]
    Empty,
    #[error(
        "\"{0}\" in the retry schedule is not a delay: write a whole number and a unit \
         (ms, s, m, h or d), like 5s or 30m"
    )]
    NotADelay(String),
    #[error("\"{0}\" in the retry schedule is too long a delay")]
    TooLong(String),
}

const UNITS: &[(&str, u64)] = &[
    ("ms", 1),
    ("s", 1_000),
    ("m", 60_000),
    ("h", 3_600_000),
    ("d", 86_400_000),
];

/// A year: longer delays are surely a mistake (and keep the sums far from overflowing).
const LONGEST_MS: u64 = 365 * 86_400_000;

impl RetrySchedule {
    /// A schedule of these delays (none: one attempt only).
    pub fn new(delays: Vec<Duration>) -> Self {
        Self { delays }
    }

    /// Reads delays separated by spaces or commas, each a whole number and a unit: `ms`, `s`,
    /// `m`, `h` or `d`.
    pub fn parse(text: &str) -> Result<Self, ScheduleError> {
        let delays = text
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|part| !part.is_empty())
            .map(parse_delay)
            .collect::<Result<Vec<_>, _>>()?;
        if delays.is_empty() {
            return Err(ScheduleError::Empty);
        }
        Ok(Self { delays })
    }

    pub fn delays(&self) -> &[Duration] {
        &self.delays
    }

    /// Attempts in all, the first included.
    pub fn max_attempts(&self) -> u32 {
        u32::try_from(self.delays.len())
            .unwrap_or(u32::MAX)
            .saturating_add(1)
    }

    /// How long to wait after `attempts_made` attempts before the next, jittered by ±10% and
    /// never shorter than `retry_after`; `None` once every attempt is used. With no attempt
    /// made yet, the first is due at once.
    pub fn next_delay(
        &self,
        attempts_made: u32,
        retry_after: Option<Duration>,
    ) -> Option<Duration> {
        let delay = match attempts_made.checked_sub(1) {
            None => Duration::ZERO,
            Some(index) => {
                let base = *self.delays.get(usize::try_from(index).ok()?)?;
                base.mul_f64(0.9 + 0.2 * fastrand::f64())
            }
        };
        Some(delay.max(retry_after.unwrap_or(Duration::ZERO)))
    }
}

impl Default for RetrySchedule {
    fn default() -> Self {
        let minutes = |m: u64| Duration::from_secs(m * 60);
        let hours = |h: u64| Duration::from_secs(h * 3600);
        Self::new(vec![
            Duration::from_secs(5),
            minutes(5),
            minutes(30),
            hours(2),
            hours(5),
            hours(10),
            hours(10),
        ])
    }
}

impl FromStr for RetrySchedule {
    type Err = ScheduleError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

/// The setting's form, each delay in its largest whole unit (`5s 5m 30m 2h 5h 10h 10h`), for the
/// effective configuration.
impl fmt::Display for RetrySchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, delay) in self.delays.iter().enumerate() {
            if index > 0 {
                f.write_str(" ")?;
            }
            let ms = delay.as_millis();
            let (unit, size) = UNITS
                .iter()
                .rev()
                .find(|(_, size)| ms % u128::from(*size) == 0 && ms > 0)
                .copied()
                .unwrap_or(("ms", 1));
            write!(f, "{}{unit}", ms / u128::from(size))?;
        }
        Ok(())
    }
}

fn parse_delay(part: &str) -> Result<Duration, ScheduleError> {
    let digits = part.bytes().take_while(u8::is_ascii_digit).count();
    let (number, unit) = part.split_at(digits);
    let size = UNITS
        .iter()
        .find(|(name, _)| *name == unit)
        .map(|(_, size)| *size)
        .filter(|_| !number.is_empty())
        .ok_or_else(|| ScheduleError::NotADelay(part.to_string()))?;
    let ms = number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(size))
        .filter(|ms| *ms <= LONGEST_MS)
        .ok_or_else(|| ScheduleError::TooLong(part.to_string()))?;
    Ok(Duration::from_millis(ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    #[test]
    fn the_default_is_the_standard_webhooks_schedule() {
        let schedule = RetrySchedule::default();
        assert_eq!(schedule.max_attempts(), 8);
        assert_eq!(schedule.to_string(), "5s 5m 30m 2h 5h 10h 10h");
        assert_eq!(
            RetrySchedule::parse("5s 5m 30m 2h 5h 10h 10h").expect("valid"),
            schedule
        );
    }

    #[test]
    fn settings_read_spaces_commas_and_every_unit() {
        let schedule: RetrySchedule = " 250ms, 5s,2m  1h,1d ".parse().expect("valid");
        assert_eq!(
            schedule.delays(),
            [
                Duration::from_millis(250),
                5 * SECOND,
                120 * SECOND,
                3600 * SECOND,
                86_400 * SECOND
            ]
        );
        assert_eq!(schedule.to_string(), "250ms 5s 2m 1h 1d");
        assert_eq!(
            RetrySchedule::parse("0s 90s").expect("valid").to_string(),
            "0ms 90s"
        );
    }

    #[test]
    fn bad_settings_name_the_bad_part() {
        assert_eq!(RetrySchedule::parse(" , "), Err(ScheduleError::Empty));
        for bad in ["5", "5x", "m", "1.5h", "-5s", "5 s"] {
            let err = RetrySchedule::parse(&format!("5s {bad} 1h")).expect_err(bad);
            assert!(
                matches!(&err, ScheduleError::NotADelay(part) if bad.contains(part.as_str())),
                "{bad}: {err}"
            );
        }
        let err = RetrySchedule::parse("5s 5x").expect_err("bad unit");
        assert_eq!(
            err.to_string(),
            "\"5x\" in the retry schedule is not a delay: write a whole number and a unit \
             (ms, s, m, h or d), like 5s or 30m"
        );
        assert_eq!(
            RetrySchedule::parse("400d"),
            Err(ScheduleError::TooLong("400d".into()))
        );
        assert_eq!(
            RetrySchedule::parse("99999999999999999999999h"),
            Err(ScheduleError::TooLong("99999999999999999999999h".into()))
        );
    }

    #[test]
    fn delays_follow_the_schedule_with_jitter_until_attempts_run_out() {
        let schedule = RetrySchedule::default();
        assert_eq!(schedule.next_delay(0, None), Some(Duration::ZERO));
        for (made, base) in (1..).zip(schedule.delays().to_vec()) {
            for _ in 0..50 {
                let delay = schedule.next_delay(made, None).expect("attempts left");
                assert!(
                    delay >= base.mul_f64(0.9) && delay <= base.mul_f64(1.1),
                    "{made}: {delay:?} vs {base:?}"
                );
            }
        }
        assert_eq!(schedule.next_delay(8, None), None);
        assert_eq!(schedule.next_delay(u32::MAX, Some(SECOND)), None);
    }

    #[test]
    fn retry_after_lengthens_but_never_shortens() {
        let schedule = RetrySchedule::default();
        assert_eq!(
            schedule.next_delay(1, Some(60 * SECOND)),
            Some(60 * SECOND),
            "5s ±10% is less than the receiver asked"
        );
        let delay = schedule.next_delay(2, Some(SECOND)).expect("left");
        assert!(delay >= 270 * SECOND, "{delay:?}");
        assert_eq!(schedule.next_delay(0, Some(7 * SECOND)), Some(7 * SECOND));
        let jitter = schedule.next_delay(1, Some(Duration::ZERO)).expect("left");
        assert!(jitter >= Duration::from_millis(4500), "{jitter:?}");
    }
}
