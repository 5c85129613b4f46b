//! Reads the text a recruiter selected on the page (an ATS profile, an email thread) and guesses
//! the candidate's name and email from it, to prefill the popup.
use serde::Serialize;

/// Longer selections are paragraphs, not a name or an address.
const MAX_SELECTION_CHARS: usize = 200;
const MAX_NAME_WORDS: usize = 5;
const MAX_NAME_CHARS: usize = 80;

/// Lower-case words that belong inside names ("Ludwig van Beethoven").
const NAME_PARTICLES: &[&str] = &[
    "al", "bin", "bint", "da", "de", "del", "della", "der", "di", "dos", "du", "el", "la", "le",
    "van", "von", "y", "zu",
];

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct CandidateGuess {
    pub name: Option<String>,
    pub email: Option<String>,
}

/// Guesses from selections like `ada@example.com`, `mailto:ada@example.com`, `Ada Lovelace`,
/// or `"Ada Lovelace" <ada@example.com>`. Anything else guesses nothing.
pub fn guess_candidate(selected: &str) -> CandidateGuess {
    let text = selected.trim();
    if text.is_empty() || text.chars().count() > MAX_SELECTION_CHARS {
        return CandidateGuess::default();
    }
    // `Name <address>`, as mail clients show a sender.
    if let (Some(open), true) = (text.find('<'), text.ends_with('>')) {
        let email = as_email(&text[open + 1..text.len() - 1]);
        let name = as_name(text[..open].trim().trim_matches('"'));
        if email.is_some() {
            return CandidateGuess { name, email };
        }
    }
    if let Some(email) = as_email(text) {
        return CandidateGuess {
            name: None,
            email: Some(email),
        };
    }
    CandidateGuess {
        name: as_name(text),
        email: None,
    }
}

fn as_email(text: &str) -> Option<String> {
    let text = text.trim();
    let text = text.strip_prefix("mailto:").unwrap_or(text);
    let domain = text.rsplit_once('@')?.1;
    // `email_address` accepts dotless domains such as `localhost`; a candidate's address has a dot.
    (domain.contains('.') && email_address::EmailAddress::is_valid(text)).then(|| text.to_string())
}

fn as_name(text: &str) -> Option<String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.is_empty() || words.len() > MAX_NAME_WORDS || text.chars().count() > MAX_NAME_CHARS {
        return None;
    }
    let capitalised = words
        .iter()
        .filter(|w| w.chars().next().is_some_and(char::is_uppercase))
        .count();
    let every_word_fits = words.iter().all(|word| {
        let letters_only = word
            .chars()
            .all(|c| c.is_alphabetic() || matches!(c, '\'' | '’' | '-' | '.'));
        let starts_upper = word.chars().next().is_some_and(char::is_uppercase);
        letters_only && (starts_upper || NAME_PARTICLES.contains(word))
    });
    (every_word_fits && capitalised > 0).then(|| words.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(n: &str) -> CandidateGuess {
        CandidateGuess {
            name: Some(n.into()),
            email: None,
        }
    }

    fn email(e: &str) -> CandidateGuess {
        CandidateGuess {
            name: None,
            email: Some(e.into()),
        }
    }

    #[test]
    fn a_selected_address_is_an_email() {
        assert_eq!(
            guess_candidate("  ada@example.com\n"),
            email("ada@example.com")
        );
        assert_eq!(
            guess_candidate("mailto:ada@example.com"),
            email("ada@example.com")
        );
    }

    #[test]
    fn capitalised_words_are_a_name() {
        assert_eq!(guess_candidate("Ada Lovelace"), name("Ada Lovelace"));
        assert_eq!(guess_candidate("Ada\n  Lovelace"), name("Ada Lovelace"));
        assert_eq!(
            guess_candidate("Ludwig van Beethoven"),
            name("Ludwig van Beethoven")
        );
        assert_eq!(
            guess_candidate("Zoë O'Brien-Ångström"),
            name("Zoë O'Brien-Ångström")
        );
    }

    #[test]
    fn a_sender_line_gives_both_name_and_email() {
        assert_eq!(
            guess_candidate("\"Ada Lovelace\" <ada@example.com>"),
            CandidateGuess {
                name: Some("Ada Lovelace".into()),
                email: Some("ada@example.com".into()),
            }
        );
    }

    #[test]
    fn sentences_numbers_and_long_text_guess_nothing() {
        for text in [
            "",
            "please call me tomorrow",
            "Senior Engineer 2",
            "ada@localhost",
            "Ada Lovelace, who wrote the first program",
            &"Ada ".repeat(60),
        ] {
            assert_eq!(guess_candidate(text), CandidateGuess::default(), "{text:?}");
        }
    }
}
