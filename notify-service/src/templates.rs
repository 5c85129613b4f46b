//! Email templates: built-in defaults for every kind, and organization overrides. minijinja with
//! strict undefined behaviour: a template may use only the known variables (checked when it is
//! saved), and every known variable is present when rendering (empty when the message has none).
use std::collections::BTreeMap;

use beckon_i18n::Locale;
use minijinja::{Environment, UndefinedBehavior};

use crate::{
    domain::{is_known_variable, variable_names, MessageKind},
    error::{FieldViolation, NotifyError},
};

/// The three parts of one kind's template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateSource {
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
}

/// The opening line: "Hi Ada," with the candidate's first name (a member's name, in a notice).
const GREETING: &str = "{% if candidate_first_name or recipient_name %}{{ t('greeting', name=candidate_first_name or recipient_name) }}{% else %}{{ t('greeting-anonymous') }}{% endif %}";
const TEAM_GREETING: &str = "{% if recipient_name %}{{ t('greeting', name=recipient_name) }}{% else %}{{ t('greeting-anonymous') }}{% endif %}";
/// Who invites: `sender`, e.g. "Grace at Acme", "The hiring team".
const SENDER: &str = "{% set sender = t('sender-person-at-organization', person=inviter_name, organization=organization_name) if inviter_name and organization_name else t('sender-person', person=inviter_name) if inviter_name else t('sender-team-at-organization', organization=organization_name) if organization_name else t('sender-team') %}";
/// Who a notice is about: `who`, the candidate's name or "A candidate".
const WHO: &str = "{% set who = candidate_name or t('someone') %}";

fn html(body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"{{{{ locale }}}}\"><body style=\"font-family:system-ui,sans-serif;line-height:1.5;color:#1d2330\">{body}</body></html>"
    )
}

/// A live interview's time, in the candidate's own time zone.
const WHEN_TEXT: &str = "{% if scheduled_local %}{{ t('interview-when', when=scheduled_local, minutes=calendar_minutes) }}\n{% endif %}";
const WHEN_HTML: &str = "{% if scheduled_local %}<p>{{ t('interview-when', when=scheduled_local, minutes=calendar_minutes) }}</p>{% endif %}";

/// When the candidate's link stops working, in their own time zone.
const EXPIRES_TEXT: &str =
    "{% if link_expires %}{{ t('link-works-until', expires=link_expires) }}\n{% endif %}";

/// For mail sent in bulk (a cohort's): how to get no more of it, beside the List-Unsubscribe
/// header that mail clients show as a button.
const UNSUBSCRIBE_TEXT: &str =
    "{% if unsubscribe_url %}\n--\n{{ t('unsubscribe-line', url=unsubscribe_url) }}\n{% endif %}";
const UNSUBSCRIBE_HTML: &str = "{% if unsubscribe_url %}<p style=\"color:#5b6476;font-size:13px\"><a href=\"{{ unsubscribe_url }}\" style=\"color:#5b6476\">{{ t('unsubscribe-link') }}</a></p>{% endif %}";

const MESSAGE_TEXT: &str = "{% if custom_message %}\n{{ custom_message }}\n{% endif %}";
const MESSAGE_HTML: &str =
    "{% if custom_message %}<p style=\"white-space:pre-line\">{{ custom_message }}</p>{% endif %}";

fn button() -> &'static str {
    "<p><a href=\"{{ link }}\" style=\"display:inline-block;background:#2f5bea;color:#fff;padding:10px 20px;border-radius:6px;text-decoration:none\">{{ t('open-invitation') }}</a></p><p style=\"color:#5b6476;font-size:13px\">{{ t('paste-link', link=link) }}<br>{{ t('personal-link') }}{% if link_expires %}<br>{{ t('link-works-until', expires=link_expires) }}{% endif %}</p>"
}

/// A paragraph of text and HTML: the same `t(...)` call in both.
fn say(call: &str) -> (String, String) {
    (
        format!("{{{{ {call} }}}}\n"),
        format!("<p>{{{{ {call} }}}}</p>"),
    )
}

/// The built-in template of a kind. Every text is a `t(...)` of the locale's messages
/// (`beckon-i18n`), so one template serves every language.
pub fn default_template(kind: MessageKind) -> TemplateSource {
    let (subject, text, html_body) = match kind {
        MessageKind::Invite => {
            let (intro_text, intro_html) =
                say("t('invite-intro', sender=sender, position=position_title)");
            (
                "{{ t('invite-subject', position=position_title) }}".to_string(),
                format!("{SENDER}{GREETING}\n\n{intro_text}{WHEN_TEXT}{MESSAGE_TEXT}\n{{{{ t('start-here', link=link) }}}}\n{EXPIRES_TEXT}\n{{{{ t('personal-link') }}}}\n{UNSUBSCRIBE_TEXT}"),
                html(&format!("{SENDER}<p>{GREETING}</p>{intro_html}{WHEN_HTML}{MESSAGE_HTML}{}{UNSUBSCRIBE_HTML}", button())),
            )
        }
        MessageKind::Resend => {
            let (intro_text, intro_html) = say("t('resend-intro', position=position_title)");
            (
                "{{ t('resend-subject', position=position_title) }}".to_string(),
                format!("{GREETING}\n\n{intro_text}{WHEN_TEXT}{MESSAGE_TEXT}\n{{{{ t('start-here', link=link) }}}}\n{EXPIRES_TEXT}{UNSUBSCRIBE_TEXT}"),
                html(&format!("<p>{GREETING}</p>{intro_html}{WHEN_HTML}{MESSAGE_HTML}{}{UNSUBSCRIBE_HTML}", button())),
            )
        }
        MessageKind::Reminder => {
            let (intro_text, intro_html) = say("t('reminder-intro', position=position_title)");
            (
                "{{ t('reminder-subject', position=position_title) }}".to_string(),
                format!("{GREETING}\n\n{intro_text}{WHEN_TEXT}\n{{{{ t('start-here', link=link) }}}}\n{EXPIRES_TEXT}{UNSUBSCRIBE_TEXT}"),
                html(&format!("<p>{GREETING}</p>{intro_html}{WHEN_HTML}{}{UNSUBSCRIBE_HTML}", button())),
            )
        }
        MessageKind::PublicRegistration => {
            let intro = "{% if organization_name %}{{ t('registration-intro-at', position=position_title, organization=organization_name) }}{% else %}{{ t('registration-intro', position=position_title) }}{% endif %}";
            (
                "{{ t('registration-subject', position=position_title) }}".to_string(),
                format!("{GREETING}\n\n{intro}\n\n{{{{ t('start-here', link=link) }}}}\n{EXPIRES_TEXT}\n{{{{ t('personal-link') }}}}\n"),
                html(&format!("<p>{GREETING}</p><p>{intro}</p>{}", button())),
            )
        }
        MessageKind::TeamStarted => {
            let body = "{% if event_time %}{{ t('team-started-at', candidate=who, position=position_title, time=event_time) }}{% else %}{{ t('team-started', candidate=who, position=position_title) }}{% endif %}";
            (
                "{{ t('team-started-subject', candidate=candidate_name or t('someone'), position=position_title) }}".to_string(),
                format!("{WHO}{TEAM_GREETING}\n\n{body}\n"),
                html(&format!("{WHO}<p>{TEAM_GREETING}</p><p>{body}</p>")),
            )
        }
        MessageKind::TeamSubmitted => {
            let body = "{% if event_time %}{{ t('team-submitted-at', candidate=who, position=position_title, time=event_time) }}{% else %}{{ t('team-submitted', candidate=who, position=position_title) }}{% endif %}";
            (
                "{{ t('team-submitted-subject', candidate=candidate_name or t('someone'), position=position_title) }}".to_string(),
                format!("{WHO}{TEAM_GREETING}\n\n{body}\n"),
                html(&format!("{WHO}<p>{TEAM_GREETING}</p><p>{body}</p>")),
            )
        }
        MessageKind::InviterCopy => {
            let (intro_text, intro_html) =
                say("t('inviter-copy-intro', candidate=candidate_name, position=position_title)");
            (
                "{{ t('inviter-copy-subject', candidate=candidate_name, position=position_title) }}".to_string(),
                format!("{TEAM_GREETING}\n\n{intro_text}{MESSAGE_TEXT}"),
                html(&format!("<p>{TEAM_GREETING}</p>{intro_html}{MESSAGE_HTML}")),
            )
        }
        MessageKind::Rescheduled => {
            let (intro_text, intro_html) = say("t('rescheduled-intro', position=position_title, when=scheduled_local, minutes=calendar_minutes)");
            (
                "{{ t('rescheduled-subject', position=position_title) }}".to_string(),
                format!("{GREETING}\n\n{intro_text}\n{{{{ t('join-here', link=link) }}}}\n{EXPIRES_TEXT}"),
                html(&format!("<p>{GREETING}</p>{intro_html}{}", button())),
            )
        }
        MessageKind::Cancelled => {
            let intro = "{% if scheduled_local %}{{ t('cancelled-intro-at', position=position_title, when=scheduled_local) }}{% else %}{{ t('cancelled-intro', position=position_title) }}{% endif %}";
            (
                "{{ t('cancelled-subject', position=position_title) }}".to_string(),
                format!("{SENDER}{GREETING}\n\n{intro}\n\n{{{{ sender }}}}\n"),
                html(&format!(
                    "{SENDER}<p>{GREETING}</p><p>{intro}</p><p>{{{{ sender }}}}</p>"
                )),
            )
        }
        MessageKind::TeamRenewalRequested => {
            let (asks_text, asks_html) =
                say("t('renewal-requested', candidate=who, position=position_title)");
            let send =
                "t('renewal-requested-send', command='invitectl invites renew ' ~ invite_id)";
            (
                "{{ t('renewal-requested-subject', candidate=candidate_name or t('someone'), position=position_title) }}".to_string(),
                format!("{WHO}{TEAM_GREETING}\n\n{asks_text}\n{{{{ {send} }}}}\n{{{{ t('renewal-requested-leave') }}}}\n"),
                html(&format!("{WHO}<p>{TEAM_GREETING}</p>{asks_html}<p>{{{{ {send} }}}}<br>{{{{ t('renewal-requested-leave') }}}}</p>")),
            )
        }
        MessageKind::WebhookDisabled => {
            let what = "{% if webhook_description %}{{ t('webhook-disabled-described', url=webhook_url, description=webhook_description, reason=webhook_disabled_reason) }}{% else %}{{ t('webhook-disabled', url=webhook_url, reason=webhook_disabled_reason) }}{% endif %}";
            let (next_text, next_html) = say("t('webhook-disabled-next', enable='invitectl webhooks update ' ~ webhook_endpoint_id ~ ' --enable', replay='invitectl webhooks replay-failed ' ~ webhook_endpoint_id ~ ' --since 5d')");
            (
                "{% if organization_name %}{{ t('webhook-disabled-subject-at', organization=organization_name) }}{% else %}{{ t('webhook-disabled-subject') }}{% endif %}".to_string(),
                format!("{TEAM_GREETING}\n\n{what}\n\n{next_text}"),
                html(&format!("<p>{TEAM_GREETING}</p><p>{what}</p>{next_html}")),
            )
        }
    };
    TemplateSource {
        subject,
        text_body: text,
        html_body,
    }
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    beckon_i18n::add_to(&mut env);
    env
}

/// Checks a template: it must parse, and use only known variables. Violations name the part.
pub fn validate(source: &TemplateSource, field: &str) -> Result<(), NotifyError> {
    let env = environment();
    let mut violations = Vec::new();
    for (part, text, name) in [
        ("subject", &source.subject, "subject.txt"),
        ("text_body", &source.text_body, "body.txt"),
        ("html_body", &source.html_body, "body.html"),
    ] {
        let field = format!("{field}.{part}");
        if part != "html_body" && text.trim().is_empty() {
            violations.push(FieldViolation {
                field,
                description: "is required".into(),
            });
            continue;
        }
        match env.template_from_named_str(name, text) {
            Ok(template) => {
                let mut unknown: Vec<String> = template
                    .undeclared_variables(false)
                    .into_iter()
                    .filter(|v| !is_known_variable(v) && !is_template_name(v))
                    .collect();
                unknown.sort();
                if !unknown.is_empty() {
                    violations.push(FieldViolation {
                        field,
                        description: format!(
                            "uses unknown variables {}; known: {}",
                            unknown.join(", "),
                            variable_names().collect::<Vec<_>>().join(", ")
                        ),
                    });
                } else if let Some(id) = beckon_i18n::text_ids(text)
                    .into_iter()
                    .find(|id| !beckon_i18n::has_message(id))
                {
                    violations.push(FieldViolation {
                        field,
                        description: format!("says t({id:?}), but there is no such text"),
                    });
                } else if let Some(err) = [trial_context("1"), trial_context("")]
                    .into_iter()
                    .find_map(|context| template.render(context).err())
                {
                    // E.g. a `t(...)` whose id is a variable naming no text.
                    violations.push(FieldViolation {
                        field,
                        description: format!("cannot be rendered: {err}"),
                    });
                }
            }
            Err(err) => violations.push(FieldViolation {
                field,
                description: format!("is not a valid template: {err}"),
            }),
        }
    }
    crate::domain::finish(violations)
}

/// Names a template may use besides the variables: `t(...)`, and the `locale` it renders in.
fn is_template_name(name: &str) -> bool {
    name == "t" || name == beckon_i18n::LOCALE_VARIABLE
}

/// Every variable set to `value`: rendered with each set and with each empty, a template takes
/// most of its branches.
fn trial_context(value: &'static str) -> BTreeMap<&'static str, &'static str> {
    let mut context: BTreeMap<&str, &str> = variable_names().map(|name| (name, value)).collect();
    context.insert(beckon_i18n::LOCALE_VARIABLE, Locale::FALLBACK.tag());
    context
}

/// Renders a template in a locale with the message's variables; known variables it lacks are
/// empty.
pub fn render(
    source: &TemplateSource,
    variables: &BTreeMap<String, String>,
    recipient_name: &str,
    locale: Locale,
) -> Result<Rendered, minijinja::Error> {
    let env = environment();
    let mut context: BTreeMap<&str, &str> = variable_names().map(|name| (name, "")).collect();
    context.insert("recipient_name", recipient_name);
    context.insert(beckon_i18n::LOCALE_VARIABLE, locale.tag());
    for (name, value) in variables {
        context.insert(name.as_str(), value.as_str());
    }
    let subject = env
        .template_from_named_str("subject.txt", &source.subject)?
        .render(&context)?;
    let text_body = env
        .template_from_named_str("body.txt", &source.text_body)?
        .render(&context)?;
    let html_body = if source.html_body.trim().is_empty() {
        String::new()
    } else {
        env.template_from_named_str("body.html", &source.html_body)?
            .render(&context)?
    };
    Ok(Rendered {
        // A subject is one line whatever the template does. Spaces that do not break (French
        // puts one before a colon) stay.
        subject: subject
            .split(|c: char| {
                c.is_ascii_whitespace() || matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}')
            })
            .filter(|word| !word.is_empty())
            .collect::<Vec<_>>()
            .join(" "),
        text_body,
        html_body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn every_default_template_is_valid_and_renders_with_no_variables() {
        for kind in MessageKind::all() {
            let source = default_template(kind);
            validate(&source, "template").expect("default template is valid");
            for locale in Locale::ALL {
                render(&source, &BTreeMap::new(), "", locale).expect("renders with nothing given");
            }
        }
    }

    #[test]
    fn the_invite_has_the_placeholders_users_expect() {
        let rendered = render(
            &default_template(MessageKind::Invite),
            &vars(&[
                ("candidate_first_name", "Ada"),
                ("position_title", "Backend <engineer>"),
                ("link", "https://b.example/i/tok"),
                ("organization_name", "Acme"),
                ("custom_message", "See you soon"),
                ("inviter_name", "Grace"),
            ]),
            "Ada Lovelace",
            Locale::En,
        )
        .expect("render");
        assert_eq!(rendered.subject, "Your invitation: Backend <engineer>");
        assert!(rendered.text_body.starts_with("Hi Ada,"));
        assert!(rendered.text_body.contains("Grace at Acme invited you"));
        assert!(rendered.text_body.contains("See you soon"));
        assert!(rendered.text_body.contains("https://b.example/i/tok"));
        assert!(
            rendered.html_body.contains("Backend &lt;engineer&gt;"),
            "escaped in HTML"
        );
    }

    /// Every variable with a value unlike any word of a message.
    fn every_variable() -> BTreeMap<String, String> {
        variable_names()
            .map(|name| {
                let value = match name {
                    "link" | "unsubscribe_url" | "webhook_url" => {
                        format!("https://b.example/{name}")
                    }
                    "calendar_minutes" | "calendar_sequence" => "45".to_string(),
                    "inviter_email" => "grace@b.example".to_string(),
                    _ => format!("Zq{}", name.replace('_', "")),
                };
                (name.to_string(), value)
            })
            .collect()
    }

    #[test]
    fn every_email_reads_in_every_shipped_language_with_no_english_left() {
        let full = every_variable();
        // What the templates say on purpose in every language: the commands to type.
        let commands = [
            "invitectl invites renew",
            "invitectl webhooks update --enable replay-failed --since",
        ];
        let mut values: Vec<&str> = full.values().map(String::as_str).collect();
        values.push("Zqrecipient");
        values.extend(commands);
        let mut problems = Vec::new();
        for kind in MessageKind::all() {
            let source = default_template(kind);
            for variables in [full.clone(), BTreeMap::new()] {
                let english =
                    render(&source, &variables, "Zqrecipient", Locale::En).expect("renders");
                for locale in Locale::ALL {
                    let rendered =
                        render(&source, &variables, "Zqrecipient", locale).expect("renders");
                    for (part, en, text) in [
                        ("subject", &english.subject, &rendered.subject),
                        ("text", &english.text_body, &rendered.text_body),
                        ("html", &english.html_body, &rendered.html_body),
                    ] {
                        let left = beckon_i18n::audit::english_left(locale, en, text, &values);
                        if !left.is_empty() {
                            problems.push(format!(
                                "{kind:?} {locale} {part}: English left: {left:?} in {text:?}"
                            ));
                        }
                        if locale != Locale::En
                            && !variables.is_empty()
                            && en == text
                            && part != "html"
                        {
                            problems.push(format!("{kind:?} {locale} {part}: the same as English"));
                        }
                    }
                    if !rendered
                        .html_body
                        .contains(&format!("lang=\"{}\"", locale.tag()))
                    {
                        problems.push(format!(
                            "{kind:?} {locale}: the HTML does not name its language"
                        ));
                    }
                }
            }
        }
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    #[test]
    fn a_german_invite_is_in_german_with_its_plural() {
        let mut variables = vars(&[
            ("candidate_first_name", "Ada"),
            ("position_title", "Backend"),
            ("link", "https://b.example/i/tok"),
            ("scheduled_local", "Dienstag, 8. Dezember 2026, 17:00"),
            ("calendar_minutes", "1"),
        ]);
        let one = render(
            &default_template(MessageKind::Invite),
            &variables,
            "",
            Locale::De,
        )
        .expect("render");
        variables.insert("calendar_minutes".into(), "45".into());
        let many = render(
            &default_template(MessageKind::Invite),
            &variables,
            "",
            Locale::De,
        )
        .expect("render");
        assert!(one.text_body.contains("1 Minute"), "{}", one.text_body);
        assert!(many.text_body.contains("45 Minuten"), "{}", many.text_body);
        assert!(many.subject.contains("Backend"), "{}", many.subject);
    }

    #[test]
    fn a_text_that_does_not_exist_is_refused() {
        let source = TemplateSource {
            subject: "{{ t('invite-subject', position=position_title) }}".into(),
            text_body: "{% if link %}{{ link }}{% else %}{{ t('no-such-text') }}{% endif %}".into(),
            html_body: String::new(),
        };
        match validate(&source, "template") {
            Err(NotifyError::InvalidArgument(v)) => {
                assert_eq!(v.len(), 1, "{v:?}");
                assert_eq!(v[0].field, "template.text_body");
                assert!(v[0].description.contains("no-such-text"), "{v:?}");
            }
            other => panic!("expected InvalidArgument, got {other:?}"),
        }
    }

    #[test]
    fn unknown_variables_and_broken_syntax_are_refused() {
        let source = TemplateSource {
            subject: "Hi {{ shoe_size }}".into(),
            text_body: "{% if %}".into(),
            html_body: String::new(),
        };
        match validate(&source, "template") {
            Err(NotifyError::InvalidArgument(v)) => {
                let fields: Vec<_> = v.iter().map(|f| f.field.as_str()).collect();
                assert_eq!(fields, ["template.subject", "template.text_body"]);
                assert!(v[0].description.contains("shoe_size"));
            }
            other => panic!("expected InvalidArgument, got {other:?}"),
        }
    }
}
