//! Time zones (chrono-tz, the IANA database): a candidate reads every time in theirs, a team
//! member in theirs, each with the zone's name and UTC offset, so nobody converts by hand.
use std::str::FromStr;

use beckon_i18n::Locale;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// An IANA time zone, e.g. `Europe/Berlin`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeZone(Tz);

impl TimeZone {
    /// Checks an IANA zone name, as given (`Europe/Berlin`, or `UTC`).
    pub fn parse(name: &str) -> Result<TimeZone, &'static str> {
        Tz::from_str(name.trim())
            .map(TimeZone)
            .map_err(|_| "must be an IANA time zone such as Europe/Berlin or America/New_York")
    }

    /// A name read back from a column that only ever held checked ones. One this build's
    /// database no longer knows (zones are renamed, rarely) reads as UTC, said in the log.
    pub fn from_stored(name: Option<&str>) -> Option<TimeZone> {
        let name = name?;
        match TimeZone::parse(name) {
            Ok(zone) => Some(zone),
            Err(_) => {
                tracing::warn!(
                    time_zone = name,
                    "a stored time zone is unknown; showing UTC"
                );
                None
            }
        }
    }

    pub fn name(&self) -> &'static str {
        self.0.name()
    }
}

/// `at` as someone in `zone` reads it in their language: "Tuesday 8 December 2026, 17:00 CET
/// (Europe/Berlin, UTC+01:00)", "Dienstag, 8. Dezember 2026, 17:00 CET (Europe/Berlin,
/// UTC+01:00)". Without a zone, in UTC.
pub fn local_time(at: DateTime<Utc>, zone: Option<TimeZone>, locale: Locale) -> String {
    let zone = zone.map_or(Tz::UTC, |zone| zone.0);
    let local = at.with_timezone(&zone);
    let abbreviation = local.format("%Z").to_string();
    // Zones without a lettered abbreviation print their offset (e.g. "+03"): the offset is
    // said once, after the name.
    let abbreviation = match abbreviation.starts_with(['+', '-']) {
        true => String::new(),
        false => format!(" {abbreviation}"),
    };
    format!(
        "{}{abbreviation} ({}, UTC{})",
        beckon_i18n::date_time(locale, &local),
        zone.name(),
        local.format("%:z")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;

    #[test]
    fn times_read_in_the_zone_with_its_name_and_offset() {
        let at = Utc.with_ymd_and_hms(2026, 12, 8, 16, 0, 0).unwrap();
        let berlin = TimeZone::parse("Europe/Berlin").ok();
        assert_eq!(
            local_time(at, berlin, Locale::En),
            "Tuesday 8 December 2026, 17:00 CET (Europe/Berlin, UTC+01:00)"
        );
        let new_york = TimeZone::parse(" America/New_York ").ok();
        assert_eq!(
            local_time(at, new_york, Locale::En),
            "Tuesday 8 December 2026, 11:00 EST (America/New_York, UTC-05:00)"
        );
        // In the reader's language.
        assert_eq!(
            local_time(at, berlin, Locale::De),
            "Dienstag, 8. Dezember 2026, 17:00 CET (Europe/Berlin, UTC+01:00)"
        );
        // Summer time.
        let july = Utc.with_ymd_and_hms(2026, 7, 1, 12, 30, 0).unwrap();
        assert_eq!(
            local_time(july, berlin, Locale::En),
            "Wednesday 1 July 2026, 14:30 CEST (Europe/Berlin, UTC+02:00)"
        );
        // No lettered abbreviation: the offset once.
        let istanbul = TimeZone::parse("Europe/Istanbul").ok();
        assert_eq!(
            local_time(at, istanbul, Locale::En),
            "Tuesday 8 December 2026, 19:00 (Europe/Istanbul, UTC+03:00)"
        );
        // A half-hour zone, and none.
        let kolkata = TimeZone::parse("Asia/Kolkata").ok();
        assert!(local_time(at, kolkata, Locale::En).contains("21:30 IST (Asia/Kolkata, UTC+05:30)"));
        assert_eq!(
            local_time(at, None, Locale::En),
            "Tuesday 8 December 2026, 16:00 UTC (UTC, UTC+00:00)"
        );
    }

    #[test]
    fn unknown_zones_are_refused() {
        for bad in ["", "CET+1", "Mars/Olympus_Mons", "europe/berlin\n"] {
            assert!(TimeZone::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(TimeZone::from_stored(Some("Nowhere/Else")), None);
    }
}
