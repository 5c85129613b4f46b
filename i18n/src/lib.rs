//! Beckon's languages. Every text a candidate reads (emails, link pages) and every notice to a
//! team is a Fluent message (`locales/<tag>/*.ftl`), with CLDR plural rules; dates are written
//! with each language's names. Shipped, complete: English, German, French, Spanish and
//! Brazilian Portuguese.
//!
//! Which locale a reader gets is decided by the services (the invite's, else the job's, else
//! the organization's default; a browser's `Accept-Language` on the link pages); this crate
//! reads tags, negotiates, and formats.
pub mod audit;
mod catalog;
mod locale;

use chrono::{DateTime, TimeZone};
use minijinja::{
    value::{Kwargs, ValueKind},
    Environment, Error, ErrorKind, State, Value,
};

pub use catalog::{has_message, text, Arg};
pub use locale::{Locale, UnsupportedLocale};

/// A date and time as a reader of `locale` writes it, with the day's and month's names in their
/// language: "Tuesday 8 December 2026, 17:00", "Dienstag, 8. Dezember 2026, 17:00".
pub fn date_time<Tz: TimeZone>(locale: Locale, at: &DateTime<Tz>) -> String
where
    Tz::Offset: std::fmt::Display,
{
    let pattern = locale.date_time_pattern();
    match locale.chrono_locale() {
        Some(names) => at.format_localized(pattern, names).to_string(),
        None => at.format(pattern).to_string(),
    }
}

/// The template variable that names the locale a template renders in.
pub const LOCALE_VARIABLE: &str = "locale";

/// Adds `t(id, name=value, ...)` to a minijinja environment: the message `id` in the locale
/// the template's `locale` variable names (English without one). Numbers, and text that reads
/// as a whole number, choose plural forms. The text is escaped like any value in HTML.
pub fn add_to(env: &mut Environment<'_>) {
    env.add_function("t", translate);
}

/// The largest whole number a Fluent number (an f64) holds exactly.
const EXACT_IN_FLUENT: u64 = 1 << 53;

/// The ids of the texts a template names literally (`t('id'` or `t("id"`), to check when it
/// is saved: a branch the check's rendering does not take may name one too.
pub fn text_ids(template: &str) -> Vec<&str> {
    let mut ids = Vec::new();
    let mut rest = template;
    while let Some(at) = rest.find("t(") {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + 2..];
        // `t(`, not `set(` or `format(`.
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let trimmed = rest.trim_start();
        let Some(quote) = trimmed.chars().next().filter(|c| *c == '\'' || *c == '"') else {
            continue;
        };
        if let Some(end) = trimmed[1..].find(quote) {
            ids.push(&trimmed[1..1 + end]);
        }
    }
    ids
}

fn translate(state: &State<'_, '_>, id: &str, kwargs: Kwargs) -> Result<String, Error> {
    if !has_message(id) {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("t(): there is no text {id:?}"),
        ));
    }
    let locale = state
        .lookup(LOCALE_VARIABLE)
        .and_then(|tag| tag.as_str().and_then(|tag| Locale::for_tag(tag).ok()))
        .unwrap_or(Locale::FALLBACK);
    let mut args = fluent_bundle::FluentArgs::new();
    for name in kwargs.args() {
        let value: Value = kwargs.get(name)?;
        // Template variables are text: "30" is a number, "007" and an id of 20 digits stay as
        // written (Fluent's numbers are floating point).
        let number = match (value.kind(), value.as_str()) {
            (ValueKind::Number, _) => value.as_i64(),
            (_, Some(text)) => text.parse::<i64>().ok().filter(|n| n.to_string() == text),
            _ => None,
        };
        let value = match number.filter(|n| n.unsigned_abs() <= EXACT_IN_FLUENT) {
            Some(number) => fluent_bundle::FluentValue::from(number),
            None => fluent_bundle::FluentValue::from(
                value
                    .as_str()
                    .map_or_else(|| value.to_string(), str::to_string),
            ),
        };
        args.set(name.to_string(), value);
    }
    Ok(catalog::format(locale, id, &args).unwrap_or_else(|| id.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::FixedOffset;

    #[test]
    fn dates_are_written_in_each_language() {
        let at = FixedOffset::east_opt(3600)
            .and_then(|zone| zone.with_ymd_and_hms(2026, 12, 8, 17, 0, 0).single())
            .expect("a valid time");
        assert_eq!(date_time(Locale::En, &at), "Tuesday 8 December 2026, 17:00");
        assert_eq!(
            date_time(Locale::De, &at),
            "Dienstag, 8. Dezember 2026, 17:00"
        );
        assert_eq!(date_time(Locale::Fr, &at), "mardi 8 décembre 2026, 17:00");
        assert_eq!(
            date_time(Locale::Es, &at),
            "martes, 8 de diciembre de 2026, 17:00"
        );
        assert_eq!(
            date_time(Locale::PtBr, &at),
            "terça, 8 de dezembro de 2026, 17:00"
        );
    }

    #[test]
    fn the_ids_a_template_names_are_found() {
        let template = "{% if x %}{{ t('greeting', name=x) }}{% else %}{{ t(\"no-such\") }}{% endif %}{% set y = format(1) %}{{ at('z') }}";
        assert_eq!(text_ids(template), ["greeting", "no-such"]);
    }

    #[test]
    fn long_digit_strings_stay_as_written() {
        let mut env = Environment::new();
        add_to(&mut env);
        let rendered = env
            .render_str(
                "{{ t('invite-subject', position=p) }}|{{ t('invite-subject', position=b) }}",
                minijinja::context! { p => "12345678901234567", b => true },
            )
            .expect("renders");
        // A boolean stays a word, not a number.
        assert_eq!(
            rendered.to_lowercase(),
            "your invitation: 12345678901234567|your invitation: true"
        );
    }

    #[test]
    fn templates_say_texts_in_their_locale() {
        let mut env = Environment::new();
        add_to(&mut env);
        let template = "{{ t('invite-time-limit', minutes=m) }}|{{ t('back') }}";
        let render = |locale: &str, m: &str| {
            env.render_str(template, minijinja::context! { locale => locale, m => m })
                .expect("renders")
        };
        assert_eq!(
            render("en", "1"),
            "You will have 1 minute once you start.|Back"
        );
        assert_ne!(render("de", "1"), render("en", "1"));
        assert!(env
            .render_str("{{ t('no-such-text') }}", minijinja::context! {})
            .is_err());
    }
}
