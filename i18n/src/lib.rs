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
use minijinja::{value::Kwargs, Environment, Error, ErrorKind, State, Value};

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
        let value = match (value.as_i64(), value.as_str()) {
            (Some(number), _) => fluent_bundle::FluentValue::from(number),
            // Template variables are text: "30" is a number, "007" stays as written.
            (None, Some(text)) => match text.parse::<i64>() {
                Ok(number) if number.to_string() == text => {
                    fluent_bundle::FluentValue::from(number)
                }
                _ => fluent_bundle::FluentValue::from(text.to_string()),
            },
            (None, None) => fluent_bundle::FluentValue::from(value.to_string()),
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
