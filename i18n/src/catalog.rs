//! Every text, in every shipped locale: the Fluent files under `locales/`, built into the
//! binary and read once.
use std::sync::LazyLock;

use fluent_bundle::{concurrent::FluentBundle, FluentArgs, FluentResource, FluentValue};

use crate::Locale;

/// The files of each locale, in `locales/<tag>/`.
pub(crate) const FILES: [&str; 2] = ["emails.ftl", "pages.ftl"];

pub(crate) fn sources(locale: Locale) -> [&'static str; 2] {
    match locale {
        Locale::En => [
            include_str!("../locales/en/emails.ftl"),
            include_str!("../locales/en/pages.ftl"),
        ],
        Locale::De => [
            include_str!("../locales/de/emails.ftl"),
            include_str!("../locales/de/pages.ftl"),
        ],
        Locale::Fr => [
            include_str!("../locales/fr/emails.ftl"),
            include_str!("../locales/fr/pages.ftl"),
        ],
        Locale::Es => [
            include_str!("../locales/es/emails.ftl"),
            include_str!("../locales/es/pages.ftl"),
        ],
        Locale::PtBr => [
            include_str!("../locales/pt-BR/emails.ftl"),
            include_str!("../locales/pt-BR/pages.ftl"),
        ],
    }
}

/// One locale's messages.
pub(crate) struct Bundle {
    pub(crate) bundle: FluentBundle<FluentResource>,
    /// Syntax errors and clashing ids found while reading it; the tests require none.
    pub(crate) errors: Vec<String>,
}

fn load(locale: Locale) -> Bundle {
    let tag = locale.tag();
    let mut bundle = FluentBundle::new_concurrent(vec![locale.language_identifier()]);
    // Emails are plain text and HTML: no Unicode isolation marks around the values.
    bundle.set_use_isolating(false);
    let mut errors = Vec::new();
    for (file, source) in FILES.iter().zip(sources(locale)) {
        let resource = match FluentResource::try_new(source.to_string()) {
            Ok(resource) => resource,
            Err((resource, parse_errors)) => {
                errors.extend(
                    parse_errors
                        .iter()
                        .map(|err| format!("{tag}/{file}: {err:?}")),
                );
                resource
            }
        };
        if let Err(clashes) = bundle.add_resource(resource) {
            errors.extend(clashes.iter().map(|err| format!("{tag}/{file}: {err:?}")));
        }
    }
    Bundle { bundle, errors }
}

static BUNDLES: LazyLock<Vec<(Locale, Bundle)>> =
    LazyLock::new(|| Locale::ALL.into_iter().map(|l| (l, load(l))).collect());

pub(crate) fn bundle(locale: Locale) -> &'static Bundle {
    let bundles = &*BUNDLES;
    // Every locale is loaded; the first is English.
    bundles
        .iter()
        .find(|(l, _)| *l == locale)
        .map_or(&bundles[0].1, |(_, b)| b)
}

/// A value for a message's variable: numbers choose plural forms.
#[derive(Clone, Debug, PartialEq)]
pub enum Arg<'a> {
    Text(&'a str),
    Number(i64),
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(text: &'a str) -> Self {
        Arg::Text(text)
    }
}

impl From<i64> for Arg<'_> {
    fn from(number: i64) -> Self {
        Arg::Number(number)
    }
}

/// Whether a message exists (in English, so in every locale: the tests hold that).
pub fn has_message(id: &str) -> bool {
    bundle(Locale::En).bundle.has_message(id)
}

/// A message in a locale. One missing there (the tests forbid it) reads in English; one
/// missing everywhere reads as its id, said in the log.
pub fn text(locale: Locale, id: &str, args: &[(&str, Arg<'_>)]) -> String {
    let mut fluent_args = FluentArgs::new();
    for (name, value) in args {
        let value = match value {
            Arg::Text(text) => FluentValue::from(*text),
            Arg::Number(number) => FluentValue::from(*number),
        };
        fluent_args.set(*name, value);
    }
    format(locale, id, &fluent_args).unwrap_or_else(|| {
        tracing::error!(message = id, "a text is missing from every locale");
        id.to_string()
    })
}

pub(crate) fn format(locale: Locale, id: &str, args: &FluentArgs<'_>) -> Option<String> {
    [locale, Locale::FALLBACK].into_iter().find_map(|locale| {
        let bundle = &bundle(locale).bundle;
        let pattern = bundle.get_message(id)?.value()?;
        let mut errors = Vec::new();
        let text = bundle.format_pattern(pattern, Some(args), &mut errors);
        if !errors.is_empty() {
            tracing::warn!(message = id, %locale, ?errors, "a text is missing a value");
        }
        Some(text.into_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plurals_follow_each_language() {
        let minutes = |locale, n| text(locale, "invite-time-limit", &[("minutes", Arg::Number(n))]);
        assert_eq!(
            minutes(Locale::En, 1),
            "You will have 1 minute once you start."
        );
        assert_eq!(
            minutes(Locale::En, 30),
            "You will have 30 minutes once you start."
        );
        assert_ne!(minutes(Locale::De, 1), minutes(Locale::De, 30));
        // French and Brazilian Portuguese count 0 as one.
        assert!(
            !minutes(Locale::Fr, 0).contains("minutes"),
            "{}",
            minutes(Locale::Fr, 0)
        );
    }

    #[test]
    fn values_are_not_wrapped_in_isolation_marks() {
        let text = text(
            Locale::De,
            "invite-subject",
            &[("position", "Backend".into())],
        );
        assert!(
            text.contains("Backend") && !text.contains('\u{2068}'),
            "{text:?}"
        );
    }

    #[test]
    fn a_missing_message_reads_as_its_id() {
        assert_eq!(text(Locale::De, "no-such-message", &[]), "no-such-message");
    }
}
