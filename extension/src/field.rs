//! Decides whether (and how) a link can go into the field that has focus on the page. The
//! page script (`page.js`) describes the field; this decides, so the rules are tested here.
use serde::{Deserialize, Serialize};

use crate::errors::UserError;

/// What the page script reports about the focused element.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct FieldDescription {
    /// Lower-case tag name: `input`, `textarea`, `div`…; empty when nothing has focus.
    pub tag: String,
    /// An input's `type`, lower-case; empty for other elements.
    pub input_type: String,
    /// `element.isContentEditable`.
    pub content_editable: bool,
    pub read_only: bool,
    pub disabled: bool,
    /// The cursor is in a field inside a shadow root the page closed to every script.
    pub closed_shadow_root: bool,
    /// The cursor is in a frame of another site inside the page, which Beckon may not enter.
    pub unreachable_frame: bool,
}

/// How the page script puts text in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum InsertionMode {
    /// An `<input>` or `<textarea>`: edit its value at the cursor.
    Value,
    /// A rich-text editor (`contenteditable`), such as a calendar event's description.
    Editable,
}

/// Why the link cannot be inserted, in words for the recruiter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotInsertable {
    NoField,
    Locked,
    WrongKind(String),
    /// A field the page lets no extension write to (a closed shadow root, another site's frame).
    Unwritable,
}

impl std::fmt::Display for NotInsertable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotInsertable::NoField => write!(
                f,
                "Put the cursor where the link goes (a text field or editor) first, then insert it again."
            ),
            NotInsertable::Locked => {
                write!(
                    f,
                    "The focused field is read-only, so the link can't go there."
                )
            }
            NotInsertable::WrongKind(kind) => write!(
                f,
                "The focused field takes {kind}, not a link. Click into a text field instead."
            ),
            NotInsertable::Unwritable => write!(
                f,
                "This page's field can't be written to by extensions, so paste the link yourself."
            ),
        }
    }
}

/// Input types that hold free text a link can go into. `email` and `tel` are left out on
/// purpose: a link there would be invalid input.
const TEXT_INPUT_TYPES: &[&str] = &["", "text", "search", "url"];

pub fn insertion_mode(field: &FieldDescription) -> Result<InsertionMode, NotInsertable> {
    if field.closed_shadow_root || field.unreachable_frame {
        return Err(NotInsertable::Unwritable);
    }
    if field.disabled || field.read_only {
        return Err(NotInsertable::Locked);
    }
    match field.tag.as_str() {
        "textarea" => Ok(InsertionMode::Value),
        "input" if TEXT_INPUT_TYPES.contains(&field.input_type.as_str()) => {
            Ok(InsertionMode::Value)
        }
        "input" => Err(NotInsertable::WrongKind(describe_input_type(
            &field.input_type,
        ))),
        _ if field.content_editable => Ok(InsertionMode::Editable),
        _ => Err(NotInsertable::NoField),
    }
}

/// What the context menu and the shortcut need before asking who a link is for: a server and
/// key, a job picked earlier in the popup, and the cursor in a field that takes a link.
pub fn check_link_from_page(
    configured: bool,
    last_job_id: &str,
    field: &FieldDescription,
) -> Result<InsertionMode, UserError> {
    if !configured {
        return Err(UserError::setup_needed());
    }
    if last_job_id.trim().is_empty() {
        return Err(UserError::no_job_picked());
    }
    insertion_mode(field).map_err(UserError::from)
}

impl From<NotInsertable> for UserError {
    fn from(reason: NotInsertable) -> Self {
        UserError::new(
            "no_field",
            "Can't insert the link here.",
            reason.to_string(),
        )
    }
}

/// The note shown in the page once a link from the context menu or shortcut is in.
pub fn inserted_note(candidate: &str) -> String {
    format!("Beckon: the interview link for {candidate} is inserted.")
}

/// What the page script found when it read the field back after inserting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The field or editor did not take the link (nothing of it was left there).
    Refused,
    /// The field changed, but not into what was expected (twice, cut short, late): it may hold
    /// the link or part of it.
    Unconfirmed,
    /// The cursor was no longer in a field.
    NoField,
}

impl Refusal {
    pub fn from_outcome(outcome: &str) -> Self {
        match outcome {
            "no_field" => Refusal::NoField,
            "unconfirmed" => Refusal::Unconfirmed,
            _ => Refusal::Refused,
        }
    }

    pub fn explain(self) -> String {
        match self {
            Refusal::Refused => {
                "The page's editor didn't take it, so nothing was inserted.".to_string()
            }
            Refusal::Unconfirmed => {
                "The field changed, but not as expected: check it before you paste the link again."
                    .to_string()
            }
            Refusal::NoField => NotInsertable::NoField.to_string(),
        }
    }
}

/// The end of an explanation once the link could not be inserted: where the link is now.
pub fn link_handed_over(detail: &str, copied: bool) -> String {
    let rest = if copied {
        "The link is on the clipboard: paste it with Ctrl+V."
    } else {
        "Copy it from Beckon's recent links."
    };
    format!("{} {rest}", detail.trim_end())
}

fn describe_input_type(input_type: &str) -> String {
    match input_type {
        "email" => "an email address".into(),
        "tel" => "a phone number".into(),
        "password" => "a password".into(),
        "number" | "range" => "a number".into(),
        "date" | "datetime-local" | "time" | "month" | "week" => "a date or time".into(),
        "checkbox" | "radio" => "a choice".into(),
        other => format!("a value of type \"{other}\""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(input_type: &str) -> FieldDescription {
        FieldDescription {
            tag: "input".into(),
            input_type: input_type.into(),
            ..Default::default()
        }
    }

    #[test]
    fn text_inputs_and_textareas_take_the_link_as_value() {
        for t in ["text", "search", "url", ""] {
            assert_eq!(insertion_mode(&input(t)), Ok(InsertionMode::Value), "{t}");
        }
        let textarea = FieldDescription {
            tag: "textarea".into(),
            ..Default::default()
        };
        assert_eq!(insertion_mode(&textarea), Ok(InsertionMode::Value));
    }

    #[test]
    fn contenteditable_editors_take_the_link_as_rich_text() {
        let editor = FieldDescription {
            tag: "div".into(),
            content_editable: true,
            ..Default::default()
        };
        assert_eq!(insertion_mode(&editor), Ok(InsertionMode::Editable));
    }

    #[test]
    fn typed_inputs_are_refused_with_what_they_expect() {
        assert_eq!(
            insertion_mode(&input("email")),
            Err(NotInsertable::WrongKind("an email address".into()))
        );
        assert!(insertion_mode(&input("password"))
            .expect_err("refused")
            .to_string()
            .contains("a password"));
    }

    #[test]
    fn fields_no_extension_may_write_are_named_as_such() {
        for field in [
            FieldDescription {
                tag: "salesforce-input".into(),
                closed_shadow_root: true,
                ..Default::default()
            },
            FieldDescription {
                tag: "iframe".into(),
                unreachable_frame: true,
                ..Default::default()
            },
        ] {
            let refused = insertion_mode(&field).expect_err("refused");
            assert_eq!(refused, NotInsertable::Unwritable);
            assert!(refused.to_string().contains("can't be written to"));
        }
    }

    #[test]
    fn the_menu_asks_for_set_up_then_a_job_then_a_field() {
        let field = input("text");
        assert_eq!(
            check_link_from_page(false, "job", &field)
                .expect_err("setup")
                .kind,
            "setup_needed"
        );
        assert_eq!(
            check_link_from_page(true, "", &field)
                .expect_err("job")
                .kind,
            "no_job"
        );
        let body = FieldDescription {
            tag: "body".into(),
            ..Default::default()
        };
        assert_eq!(
            check_link_from_page(true, "job", &body)
                .expect_err("field")
                .kind,
            "no_field"
        );
        assert_eq!(
            check_link_from_page(true, "job", &field),
            Ok(InsertionMode::Value)
        );
    }

    #[test]
    fn a_refused_insertion_says_where_the_link_went() {
        let refused = Refusal::from_outcome("refused").explain();
        assert_eq!(
            link_handed_over(&refused, true),
            "The page's editor didn't take it, so nothing was inserted. The link is on the \
             clipboard: paste it with Ctrl+V."
        );
        assert!(link_handed_over(&refused, false).ends_with("Copy it from Beckon's recent links."));
        assert_eq!(
            Refusal::from_outcome("no_field").explain(),
            NotInsertable::NoField.to_string()
        );
        assert!(Refusal::from_outcome("unconfirmed")
            .explain()
            .contains("check it before you paste"));
    }

    #[test]
    fn read_only_disabled_or_missing_fields_are_refused() {
        let read_only = FieldDescription {
            read_only: true,
            ..input("text")
        };
        assert_eq!(insertion_mode(&read_only), Err(NotInsertable::Locked));
        let disabled = FieldDescription {
            disabled: true,
            tag: "textarea".into(),
            ..Default::default()
        };
        assert_eq!(insertion_mode(&disabled), Err(NotInsertable::Locked));
        let body = FieldDescription {
            tag: "body".into(),
            ..Default::default()
        };
        assert_eq!(insertion_mode(&body), Err(NotInsertable::NoField));
        assert_eq!(
            insertion_mode(&FieldDescription::default()),
            Err(NotInsertable::NoField)
        );
    }
}
