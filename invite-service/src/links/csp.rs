//! The candidate pages' Content-Security-Policy: nothing loads but the page's own inline style
//! and, on the invite page, its inline open-beacon script, each allowed by its SHA-256; forms
//! post only where the page needs; no page can be framed or change its base URL.
use axum::http::HeaderValue;
use base64::{engine::general_purpose::STANDARD, Engine};
use sha2::{Digest, Sha256};

/// The style every page carries inline.
pub(super) const PAGE_STYLE: &str = include_str!("templates/page.css");
/// The invite page's script that reports the open once the page is shown.
pub(super) const OPENED_SCRIPT: &str = include_str!("templates/opened.js");

/// A CSP hash source for an inline element whose text is exactly `text`.
fn hash_source(text: &str) -> String {
    format!(
        "'sha256-{}'",
        STANDARD.encode(Sha256::digest(text.as_bytes()))
    )
}

/// The policies, computed once from the inline style and script.
pub(super) struct Policies {
    /// Pages with no form and no script (a dead link's beacon or Start, error, closed, sent,
    /// please wait, and the invite page answered to a refused Start): also every other answer
    /// of these routes.
    pub document: HeaderValue,
    /// Pages whose form posts to their own URL and gets a page back: the public registration
    /// form, a dead link's page (asking for a new link), the unsubscribe page.
    pub registration: HeaderValue,
    /// The invite page's policy up to its form-action's own origin (`'self'`), and after it:
    /// only the assessment's origin goes in between, per page.
    invite_head: String,
    invite_tail: String,
}

impl Policies {
    pub fn new() -> anyhow::Result<Self> {
        let style = hash_source(PAGE_STYLE);
        let script = hash_source(OPENED_SCRIPT);
        let invite = policy(&style, Some(&script), "'self'");
        let split = invite
            .find("form-action 'self'")
            .map(|at| at + "form-action 'self'".len())
            .ok_or_else(|| anyhow::anyhow!("the invite policy has no form-action"))?;
        Ok(Self {
            document: HeaderValue::from_str(&policy(&style, None, "'none'"))?,
            registration: HeaderValue::from_str(&policy(&style, None, "'self'"))?,
            invite_head: invite[..split].to_string(),
            invite_tail: invite[split..].to_string(),
        })
    }

    /// The invite page: its script posts the open beacon to this origin, and its Start form posts
    /// here and is redirected to the job's assessment. Browsers check `form-action` on every
    /// redirect of a form submission (Chromium does), so the assessment's origin is allowed too.
    pub fn invite(&self, assessment_url: &str) -> HeaderValue {
        let mut text = String::with_capacity(self.invite_head.len() + self.invite_tail.len() + 64);
        text.push_str(&self.invite_head);
        // An assessment URL is an absolute http(s) URL (checked when the job is saved), so its
        // origin is a scheme, host and port: a valid CSP source with no `;` or `,`.
        if let Ok(url) = url::Url::parse(assessment_url) {
            let origin = url.origin();
            if origin.is_tuple() {
                text.push(' ');
                text.push_str(&origin.ascii_serialization());
            }
        }
        text.push_str(&self.invite_tail);
        HeaderValue::from_str(&text).unwrap_or_else(|_| self.document.clone())
    }
}

fn policy(style: &str, script: Option<&str>, form_action: &str) -> String {
    let mut directives = vec!["default-src 'none'".to_string()];
    if let Some(script) = script {
        directives.push(format!("script-src {script}"));
        // The beacon (sendBeacon or fetch) goes to this origin.
        directives.push("connect-src 'self'".to_string());
    }
    directives.push(format!("style-src {style}"));
    directives.push(format!("form-action {form_action}"));
    directives.push("base-uri 'none'".to_string());
    directives.push("frame-ancestors 'none'".to_string());
    directives.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_invite_policy_allows_the_assessment_origin_alone() {
        let policies = Policies::new().expect("policies");
        let policy = policies.invite("https://assess.example.com:8443/start?x=1#y");
        let policy = policy.to_str().expect("ascii");
        assert!(
            policy.contains("; form-action 'self' https://assess.example.com:8443; "),
            "{policy}"
        );
        assert!(policy.starts_with("default-src 'none'; script-src 'sha256-"));
        assert!(policy.ends_with("; base-uri 'none'; frame-ancestors 'none'"));
        // A host that is not ASCII is sent as punycode.
        let policy = policies.invite("https://bücher.example/");
        assert!(policy
            .to_str()
            .expect("ascii")
            .contains("form-action 'self' https://xn--bcher-kva.example;"));
    }
}
