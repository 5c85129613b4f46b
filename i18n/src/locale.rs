//! The locales Beckon ships, and which one a reader gets: a stored BCP 47 tag, or what a
//! browser's `Accept-Language` asks for.
use std::fmt;

use fluent_langneg::{negotiate_languages, NegotiationStrategy};
use unic_langid::LanguageIdentifier;

/// A language every text exists in, complete (the catalog's tests hold that).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Locale {
    En,
    De,
    Fr,
    Es,
    PtBr,
}

/// A tag whose language Beckon does not ship, or that is not a language tag at all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnsupportedLocale(pub String);

impl fmt::Display for UnsupportedLocale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "must be a language tag of a shipped language ({}); {:?} is not",
            Locale::ALL.map(Locale::tag).join(", "),
            self.0
        )
    }
}

impl std::error::Error for UnsupportedLocale {}

impl Locale {
    pub const ALL: [Locale; 5] = [Locale::En, Locale::De, Locale::Fr, Locale::Es, Locale::PtBr];

    /// What every chain of preferences ends in.
    pub const FALLBACK: Locale = Locale::En;

    /// Its BCP 47 tag, as the files under `locales/` are named.
    pub fn tag(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::De => "de",
            Locale::Fr => "fr",
            Locale::Es => "es",
            Locale::PtBr => "pt-BR",
        }
    }

    /// Its language subtag.
    fn language(self) -> &'static str {
        match self {
            Locale::PtBr => "pt",
            other => other.tag(),
        }
    }

    pub(crate) fn language_identifier(self) -> LanguageIdentifier {
        // Every tag above parses (the tests hold it).
        self.tag().parse().unwrap_or_default()
    }

    /// The shipped locale that reads a tag: its language decides, so `de-AT` reads German and
    /// `pt` or `pt-PT` Brazilian Portuguese. Case and `_` are forgiven (`pt_br`).
    pub fn for_tag(tag: &str) -> Result<Locale, UnsupportedLocale> {
        // A shipped tag as written (what templates and stored rows mostly hold): no parsing.
        if let Some(locale) = Locale::ALL.into_iter().find(|locale| locale.tag() == tag) {
            return Ok(locale);
        }
        let refused = || UnsupportedLocale(tag.to_string());
        let id: LanguageIdentifier = tag
            .trim()
            .replace('_', "-")
            .parse()
            .map_err(|_| refused())?;
        Locale::ALL
            .into_iter()
            .find(|locale| id.language.as_str() == locale.language())
            .ok_or_else(refused)
    }

    /// A tag checked for storing: canonical (`pt-br` becomes `pt-BR`), of a shipped language.
    /// It is kept as given, so a regional variant shipped later is used without a change.
    pub fn canonical_tag(tag: &str) -> Result<String, UnsupportedLocale> {
        Locale::for_tag(tag)?;
        let id: LanguageIdentifier = tag
            .trim()
            .replace('_', "-")
            .parse()
            .map_err(|_| UnsupportedLocale(tag.to_string()))?;
        Ok(id.to_string())
    }

    /// The first stored tag that reads as a shipped locale. Stored tags were checked when
    /// written; one this build cannot read is skipped, said in the log.
    pub fn first_of<'a>(tags: impl IntoIterator<Item = Option<&'a str>>) -> Option<Locale> {
        tags.into_iter()
            .flatten()
            .filter(|tag| !tag.trim().is_empty())
            .find_map(|tag| match Locale::for_tag(tag) {
                Ok(locale) => Some(locale),
                Err(_) => {
                    tracing::warn!(locale = tag, "a stored locale is not shipped; skipping it");
                    None
                }
            })
    }

    /// The locale a browser asks for in its `Accept-Language` (RFC 9110 §12.5.4), by its
    /// weights; none when it asks for no shipped language.
    pub fn from_accept_language(header: &str) -> Option<Locale> {
        let requested = by_weight(header);
        let available = Locale::ALL.map(Locale::language_identifier);
        let chosen =
            negotiate_languages(&requested, &available, None, NegotiationStrategy::Filtering);
        let first = chosen.first()?;
        Locale::ALL
            .into_iter()
            .find(|locale| &&locale.language_identifier() == first)
    }

    pub(crate) fn chrono_locale(self) -> Option<chrono::Locale> {
        match self {
            // chrono's own (English) names, as `format` writes them.
            Locale::En => None,
            Locale::De => Some(chrono::Locale::de_DE),
            Locale::Fr => Some(chrono::Locale::fr_FR),
            Locale::Es => Some(chrono::Locale::es_ES),
            Locale::PtBr => Some(chrono::Locale::pt_BR),
        }
    }

    /// How a date and time are written, e.g. "Dienstag, 8. Dezember 2026, 17:00".
    pub(crate) fn date_time_pattern(self) -> &'static str {
        match self {
            Locale::En => "%A %-d %B %Y, %H:%M",
            Locale::De => "%A, %-d. %B %Y, %H:%M",
            Locale::Fr => "%A %-d %B %Y, %H:%M",
            Locale::Es | Locale::PtBr => "%A, %-d de %B de %Y, %H:%M",
        }
    }
}

/// The languages of an `Accept-Language` header, the heaviest first (equal weights keep their
/// order). `*` (anything), weight 0 (not this one) and tags that do not parse say nothing.
fn by_weight(header: &str) -> Vec<LanguageIdentifier> {
    let mut weighted: Vec<(u16, LanguageIdentifier)> = header
        .split(',')
        .filter_map(|item| {
            let mut parts = item.split(';');
            let tag = parts.next()?.trim();
            // A weight is 0 to 1 with at most three decimals: counted in thousandths.
            let weight = parts
                .find_map(|param| {
                    let (name, value) = param.split_once('=')?;
                    name.trim().eq_ignore_ascii_case("q").then_some(value)
                })
                .map_or(Some(1000), |q| {
                    q.trim()
                        .parse::<f32>()
                        .ok()
                        .filter(|q| (0.0..=1.0).contains(q))
                        .map(|q| (q * 1000.0).round() as u16)
                })?;
            let id = tag.parse::<LanguageIdentifier>().ok()?;
            (tag != "*" && weight > 0).then_some((weight, id))
        })
        .collect();
    weighted.sort_by_key(|(weight, _)| std::cmp::Reverse(*weight));
    weighted.into_iter().map(|(_, id)| id).collect()
}

impl fmt::Display for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.tag())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_reads_as_its_language() {
        assert_eq!(Locale::for_tag("de"), Ok(Locale::De));
        assert_eq!(Locale::for_tag("de-AT"), Ok(Locale::De));
        assert_eq!(Locale::for_tag("pt"), Ok(Locale::PtBr));
        assert_eq!(Locale::for_tag("pt_br"), Ok(Locale::PtBr));
        assert_eq!(Locale::for_tag(" fr-CA "), Ok(Locale::Fr));
        assert!(Locale::for_tag("ja").is_err());
        assert!(Locale::for_tag("").is_err());
        assert!(Locale::for_tag("not a tag").is_err());
        assert_eq!(Locale::canonical_tag("pt-br").as_deref(), Ok("pt-BR"));
        assert_eq!(Locale::canonical_tag("es_MX").as_deref(), Ok("es-MX"));
        let refused = Locale::canonical_tag("klingon")
            .expect_err("not shipped")
            .to_string();
        assert!(refused.contains("en, de, fr, es, pt-BR"), "{refused}");
    }

    #[test]
    fn a_browser_gets_the_best_shipped_language_by_weight() {
        let pick = Locale::from_accept_language;
        assert_eq!(pick("de-DE,de;q=0.9,en;q=0.8"), Some(Locale::De));
        assert_eq!(pick("ja,fr;q=0.5,en;q=0.4"), Some(Locale::Fr));
        assert_eq!(pick("en;q=0.2, es-MX;q=0.9"), Some(Locale::Es));
        assert_eq!(pick("pt-PT"), Some(Locale::PtBr));
        assert_eq!(pick("pt"), Some(Locale::PtBr));
        assert_eq!(pick("en-GB"), Some(Locale::En));
        assert_eq!(pick("ja, zh-CN"), None);
        assert_eq!(pick("*"), None);
        assert_eq!(pick(""), None);
        assert_eq!(pick("%%%"), None);
        assert_eq!(pick("de;q=0, fr;q=0.1"), Some(Locale::Fr));
        assert_eq!(pick("es;q=abc, fr"), Some(Locale::Fr));
        assert_eq!(pick("de;Q=0, es"), Some(Locale::Es));
    }

    #[test]
    fn the_first_readable_tag_wins() {
        assert_eq!(
            Locale::first_of([None, Some(""), Some("fr"), Some("de")]),
            Some(Locale::Fr)
        );
        assert_eq!(
            Locale::first_of([Some("xx-unknown"), Some("es")]),
            Some(Locale::Es)
        );
        assert_eq!(Locale::first_of([None, None]), None);
    }
}
