//! Email templates: built-in defaults for every kind, and organization overrides. minijinja with
//! strict undefined behaviour: a template may use only the known variables (checked when it is
//! saved), and every known variable is present when rendering (empty when the message has none).
use std::collections::BTreeMap;

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

const GREETING: &str = "Hi {{ candidate_first_name or recipient_name or 'there' }},";
const FROM_TEAM: &str = "{% if inviter_name %}{{ inviter_name }}{% else %}The hiring team{% endif %}{% if organization_name %} at {{ organization_name }}{% endif %}";

fn html(body: &str) -> String {
    format!(
        "<!doctype html><html><body style=\"font-family:system-ui,sans-serif;line-height:1.5;color:#1d2330\">{body}</body></html>"
    )
}

/// A live interview's time, in the candidate's own time zone.
const WHEN_TEXT: &str =
    "{% if scheduled_local %}When: {{ scheduled_local }}, {{ calendar_minutes }} minutes (the invitation is attached for your calendar).\n{% endif %}";
const WHEN_HTML: &str = "{% if scheduled_local %}<p><strong>When:</strong> {{ scheduled_local }}, {{ calendar_minutes }} minutes (the invitation is attached for your calendar).</p>{% endif %}";

/// When the candidate's link stops working, in their own time zone.
const EXPIRES_TEXT: &str = "{% if link_expires %}It works until {{ link_expires }}.\n{% endif %}";

/// For mail sent in bulk (a cohort's): how to get no more of it, beside the List-Unsubscribe
/// header that mail clients show as a button.
const UNSUBSCRIBE_TEXT: &str =
    "{% if unsubscribe_url %}\n--\nNo more email from us: {{ unsubscribe_url }}\n{% endif %}";
const UNSUBSCRIBE_HTML: &str = "{% if unsubscribe_url %}<p style=\"color:#5b6476;font-size:13px\"><a href=\"{{ unsubscribe_url }}\" style=\"color:#5b6476\">No more email from us</a></p>{% endif %}";

fn button() -> &'static str {
    "<p><a href=\"{{ link }}\" style=\"display:inline-block;background:#2f5bea;color:#fff;padding:10px 20px;border-radius:6px;text-decoration:none\">Open your invitation</a></p><p style=\"color:#5b6476;font-size:13px\">Or paste this link into your browser: {{ link }}<br>This link is personal: please do not share it.{% if link_expires %}<br>It works until {{ link_expires }}.{% endif %}</p>"
}

/// The built-in template of a kind.
pub fn default_template(kind: MessageKind) -> TemplateSource {
    let message_text = "{% if custom_message %}\n{{ custom_message }}\n{% endif %}";
    let message_html = "{% if custom_message %}<p style=\"white-space:pre-line\">{{ custom_message }}</p>{% endif %}";
    let (subject, text, html_body) = match kind {
        MessageKind::Invite => (
            "Your invitation: {{ position_title }}".to_string(),
            format!("{GREETING}\n\n{FROM_TEAM} invited you to {{{{ position_title }}}}.\n{WHEN_TEXT}{message_text}\nStart here: {{{{ link }}}}\n{EXPIRES_TEXT}\nThis link is personal: please do not share it.\n{UNSUBSCRIBE_TEXT}"),
            html(&format!("<p>{GREETING}</p><p>{FROM_TEAM} invited you to <strong>{{{{ position_title }}}}</strong>.</p>{WHEN_HTML}{message_html}{}{UNSUBSCRIBE_HTML}", button())),
        ),
        MessageKind::Resend => (
            "Your invitation (sent again): {{ position_title }}".to_string(),
            format!("{GREETING}\n\nHere is your invitation to {{{{ position_title }}}} again.\n{WHEN_TEXT}{message_text}\nStart here: {{{{ link }}}}\n{EXPIRES_TEXT}{UNSUBSCRIBE_TEXT}"),
            html(&format!("<p>{GREETING}</p><p>Here is your invitation to <strong>{{{{ position_title }}}}</strong> again.</p>{WHEN_HTML}{message_html}{}{UNSUBSCRIBE_HTML}", button())),
        ),
        MessageKind::Reminder => (
            "Reminder: {{ position_title }} is waiting for you".to_string(),
            format!("{GREETING}\n\nA friendly reminder: you have not started {{{{ position_title }}}} yet.\n{WHEN_TEXT}\nStart here: {{{{ link }}}}\n{EXPIRES_TEXT}{UNSUBSCRIBE_TEXT}"),
            html(&format!("<p>{GREETING}</p><p>A friendly reminder: you have not started <strong>{{{{ position_title }}}}</strong> yet.</p>{WHEN_HTML}{}{UNSUBSCRIBE_HTML}", button())),
        ),
        MessageKind::PublicRegistration => (
            "Your link for {{ position_title }}".to_string(),
            format!("{GREETING}\n\nThank you for registering for {{{{ position_title }}}}{{% if organization_name %}} at {{{{ organization_name }}}}{{% endif %}}.\n\nStart here: {{{{ link }}}}\n{EXPIRES_TEXT}\nThis link is personal: please do not share it.\n"),
            html(&format!("<p>{GREETING}</p><p>Thank you for registering for <strong>{{{{ position_title }}}}</strong>{{% if organization_name %}} at {{{{ organization_name }}}}{{% endif %}}.</p>{}", button())),
        ),
        MessageKind::TeamStarted => (
            "{{ candidate_name or 'A candidate' }} started {{ position_title }}".to_string(),
            "Hi {{ recipient_name or 'there' }},\n\n{{ candidate_name or 'A candidate' }} just started {{ position_title }}{% if event_time %} ({{ event_time }}){% endif %}.\n".to_string(),
            html("<p>Hi {{ recipient_name or 'there' }},</p><p><strong>{{ candidate_name or 'A candidate' }}</strong> just started <strong>{{ position_title }}</strong>{% if event_time %} ({{ event_time }}){% endif %}.</p>"),
        ),
        MessageKind::TeamSubmitted => (
            "{{ candidate_name or 'A candidate' }} submitted {{ position_title }}".to_string(),
            "Hi {{ recipient_name or 'there' }},\n\n{{ candidate_name or 'A candidate' }} submitted {{ position_title }}{% if event_time %} ({{ event_time }}){% endif %}: it is ready for review.\n".to_string(),
            html("<p>Hi {{ recipient_name or 'there' }},</p><p><strong>{{ candidate_name or 'A candidate' }}</strong> submitted <strong>{{ position_title }}</strong>{% if event_time %} ({{ event_time }}){% endif %}: it is ready for review.</p>"),
        ),
        MessageKind::InviterCopy => (
            "Copy: you invited {{ candidate_name }} to {{ position_title }}".to_string(),
            format!("Hi {{{{ recipient_name or 'there' }}}},\n\nThis is a copy of your invitation to {{{{ candidate_name }}}} for {{{{ position_title }}}}.\n{message_text}"),
            html(&format!("<p>Hi {{{{ recipient_name or 'there' }}}},</p><p>This is a copy of your invitation to <strong>{{{{ candidate_name }}}}</strong> for <strong>{{{{ position_title }}}}</strong>.</p>{message_html}")),
        ),
        MessageKind::Rescheduled => (
            "New time: {{ position_title }}".to_string(),
            format!("{GREETING}\n\nYour {{{{ position_title }}}} interview has moved to {{{{ scheduled_local }}}} ({{{{ calendar_minutes }}}} minutes). The calendar invitation attached updates the one you have.\n\nJoin here: {{{{ link }}}}\n{EXPIRES_TEXT}"),
            html(&format!("<p>{GREETING}</p><p>Your <strong>{{{{ position_title }}}}</strong> interview has moved to <strong>{{{{ scheduled_local }}}}</strong> ({{{{ calendar_minutes }}}} minutes). The calendar invitation attached updates the one you have.</p>{}", button())),
        ),
        MessageKind::Cancelled => (
            "Cancelled: {{ position_title }}".to_string(),
            format!("{GREETING}\n\nYour {{{{ position_title }}}} interview{{% if scheduled_local %}} on {{{{ scheduled_local }}}}{{% endif %}} is cancelled, and your link no longer works. The calendar cancellation attached takes it out of your calendar.\n\n{FROM_TEAM}\n"),
            html(&format!("<p>{GREETING}</p><p>Your <strong>{{{{ position_title }}}}</strong> interview{{% if scheduled_local %}} on {{{{ scheduled_local }}}}{{% endif %}} is cancelled, and your link no longer works. The calendar cancellation attached takes it out of your calendar.</p><p>{FROM_TEAM}</p>")),
        ),
        MessageKind::TeamRenewalRequested => (
            "{{ candidate_name or 'A candidate' }} asks for a new link to {{ position_title }}".to_string(),
            "Hi {{ recipient_name or 'there' }},\n\n{{ candidate_name or 'A candidate' }}'s link to {{ position_title }} expired, and they asked for a new one.\n\nTo send it: invitectl invites renew {{ invite_id }}\nTo leave it, do nothing: they are not told either way.\n".to_string(),
            html("<p>Hi {{ recipient_name or 'there' }},</p><p><strong>{{ candidate_name or 'A candidate' }}</strong>'s link to <strong>{{ position_title }}</strong> expired, and they asked for a new one.</p><p>To send it: <code>invitectl invites renew {{ invite_id }}</code><br>To leave it, do nothing: they are not told either way.</p>"),
        ),
        MessageKind::WebhookDisabled => (
            "Webhook endpoint turned off{% if organization_name %} at {{ organization_name }}{% endif %}".to_string(),
            "Hi {{ recipient_name or 'there' }},\n\nBeckon turned off the webhook endpoint {{ webhook_url }}{% if webhook_description %} ({{ webhook_description }}){% endif %}: {{ webhook_disabled_reason }}.\n\nIts events are kept. Fix the receiver, then turn the endpoint on again (invitectl webhooks update {{ webhook_endpoint_id }} --enable): it receives what waited, and failed messages can be replayed (invitectl webhooks replay-failed {{ webhook_endpoint_id }} --since 5d).\n".to_string(),
            html("<p>Hi {{ recipient_name or 'there' }},</p><p>Beckon turned off the webhook endpoint <strong>{{ webhook_url }}</strong>{% if webhook_description %} ({{ webhook_description }}){% endif %}: {{ webhook_disabled_reason }}.</p><p>Its events are kept. Fix the receiver, then turn the endpoint on again (<code>invitectl webhooks update {{ webhook_endpoint_id }} --enable</code>): it receives what waited, and failed messages can be replayed (<code>invitectl webhooks replay-failed {{ webhook_endpoint_id }} --since 5d</code>).</p>"),
        ),
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
                    .filter(|v| !is_known_variable(v))
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

/// Renders a template with the message's variables; known variables it lacks are empty.
pub fn render(
    source: &TemplateSource,
    variables: &BTreeMap<String, String>,
    recipient_name: &str,
) -> Result<Rendered, minijinja::Error> {
    let env = environment();
    let mut context: BTreeMap<&str, &str> = variable_names().map(|name| (name, "")).collect();
    context.insert("recipient_name", recipient_name);
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
        // A subject is one line whatever the template does.
        subject: subject.split_whitespace().collect::<Vec<_>>().join(" "),
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
            render(&source, &BTreeMap::new(), "").expect("renders with nothing given");
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
