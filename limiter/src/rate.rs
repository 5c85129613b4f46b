//! `Rate`: how many units a limit admits, written as text, e.g. `60/minute burst 20`.
use serde::{Deserialize, Serialize};

/// `count` units per `per` on average, up to `burst` at once. Written `<count>/<period> burst <n>`
/// (e.g. `3/hour burst 2`; without a burst, the whole count may come at once), so that one
/// setting or environment variable holds it. Count and burst are always between 1 and
/// `Rate::MAX`: text that says otherwise does not parse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Rate {
    count: u32,
    per: Period,
    burst: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Period {
    Second,
    Minute,
    Hour,
    Day,
}

impl Period {
    fn micros(self) -> u64 {
        let seconds = match self {
            Period::Second => 1,
            Period::Minute => 60,
            Period::Hour => 3600,
            Period::Day => 86_400,
        };
        seconds * 1_000_000
    }

    fn name(self) -> &'static str {
        match self {
            Period::Second => "second",
            Period::Minute => "minute",
            Period::Hour => "hour",
            Period::Day => "day",
        }
    }
}

impl Rate {
    /// The largest count and burst.
    pub const MAX: u32 = 1_000_000;

    /// For rates written in code. Panics when `count` or `burst` is outside 1..=`MAX`: text
    /// from outside goes through `parse`, which refuses it instead.
    pub const fn new(count: u32, per: Period, burst: u32) -> Self {
        assert!(count >= 1 && count <= Self::MAX && burst >= 1 && burst <= Self::MAX);
        Self { count, per, burst }
    }

    pub fn count(&self) -> u32 {
        self.count
    }

    pub fn per(&self) -> Period {
        self.per
    }

    pub fn burst(&self) -> u32 {
        self.burst
    }

    /// The average rate, per second.
    pub fn per_second(&self) -> f64 {
        f64::from(self.count) * 1_000_000.0 / self.per.micros() as f64
    }

    /// Microseconds between admissions at the steady rate (at least 1).
    pub fn emission_interval_micros(&self) -> u64 {
        let count = u64::from(self.count);
        ((self.per.micros() + count / 2) / count).max(1)
    }

    /// How far ahead of now a limit's arrival time may run: (burst - 1) intervals.
    pub fn tolerance_micros(&self) -> u64 {
        self.emission_interval_micros()
            .saturating_mul(u64::from(self.burst - 1))
    }
}

impl std::fmt::Display for Rate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{} burst {}", self.count, self.per.name(), self.burst)
    }
}

impl std::str::FromStr for Rate {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || format!("`{text}` is not a rate such as `60/minute burst 20`");
        let words: Vec<&str> = text
            .split(|c: char| c.is_whitespace() || c == ',' || c == '=')
            .filter(|w| !w.is_empty())
            .collect();
        let (rate, burst) = match words.as_slice() {
            [rate] => (*rate, None),
            [rate, "burst", burst] => (*rate, Some(*burst)),
            _ => return Err(bad()),
        };
        let (count, per) = rate.split_once('/').ok_or_else(bad)?;
        let count: u32 = count.parse().map_err(|_| bad())?;
        let per = match per {
            "s" | "sec" | "second" => Period::Second,
            "m" | "min" | "minute" => Period::Minute,
            "h" | "hour" => Period::Hour,
            "d" | "day" => Period::Day,
            _ => return Err(bad()),
        };
        let burst = match burst {
            Some(burst) => burst.parse().map_err(|_| bad())?,
            None => count,
        };
        let range = 1..=Self::MAX;
        if !range.contains(&count) || !range.contains(&burst) {
            return Err(format!(
                "`{text}`: the count and the burst must be between 1 and {}",
                Self::MAX
            ));
        }
        Ok(Self { count, per, burst })
    }
}

impl TryFrom<String> for Rate {
    type Error = String;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl From<Rate> for String {
    fn from(rate: Rate) -> Self {
        rate.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_read_and_write_as_text() {
        let rate: Rate = "3/hour burst 2".parse().expect("a rate");
        assert_eq!(rate, Rate::new(3, Period::Hour, 2));
        assert_eq!(rate.to_string(), "3/hour burst 2");
        assert_eq!(
            "10/min, burst=5".parse(),
            Ok(Rate::new(10, Period::Minute, 5))
        );
        assert_eq!("5/s".parse(), Ok(Rate::new(5, Period::Second, 5)));
        for bad in [
            "",
            "60",
            "60/week",
            "x/minute",
            "60/minute burst",
            "60/minute 20",
            "0/hour",
            "5/hour burst 0",
            "1000001/second",
        ] {
            assert!(bad.parse::<Rate>().is_err(), "{bad}");
        }
    }

    #[test]
    fn intervals_are_whole_microseconds() {
        assert!((Rate::new(60, Period::Minute, 1).per_second() - 1.0).abs() < f64::EPSILON);
        let rate = Rate::new(10, Period::Second, 3);
        assert_eq!(rate.emission_interval_micros(), 100_000);
        assert_eq!(rate.tolerance_micros(), 200_000);
        assert_eq!(
            Rate::new(Rate::MAX, Period::Second, 1).emission_interval_micros(),
            1
        );
        assert_eq!(
            Rate::new(1, Period::Day, 1).emission_interval_micros(),
            86_400_000_000
        );
        // 3 per second: 333,333.3 µs, rounded.
        assert_eq!(
            Rate::new(3, Period::Second, 1).emission_interval_micros(),
            333_333
        );
    }
}
