//! The message a recruiter sends with a link, and the mailto / WhatsApp / SMS links that prefill it.
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::Serialize;

/// RFC 3986 unreserved characters stay as they are; everything else is percent-encoded, spaces as
/// `%20` (not `+`, which mail and SMS apps would show literally).
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// An address in a `mailto:` URL keeps `@` and `+` readable (RFC 6068 allows both).
const MAILTO_ADDRESS: &AsciiSet = &COMPONENT.remove(b'@').remove(b'+');

/// What the invite is for and who it is for.
#[derive(Debug, Clone, Default)]
pub struct Invitation<'a> {
    pub link: &'a str,
    pub job_title: &'a str,
    pub candidate_name: &'a str,
    pub candidate_email: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ShareLinks {
    /// The short message shared by chat or SMS, and inserted by "Insert with message".
    pub message: String,
    pub email_subject: String,
    pub mailto: String,
    pub whatsapp: String,
    pub sms: String,
}

impl Invitation<'_> {
    /// The candidate's first name, to greet them by.
    fn first_name(&self) -> Option<&str> {
        self.candidate_name.split_whitespace().next()
    }

    fn greeting(&self) -> String {
        match self.first_name() {
            Some(name) => format!("Hi {name},"),
            None => "Hi,".to_string(),
        }
    }

    fn interview(&self) -> String {
        let title = self.job_title.trim();
        if title.is_empty() {
            "your interview".to_string()
        } else {
            format!("the {title} interview")
        }
    }

    /// One paragraph, short enough for an SMS or a chat.
    pub fn message(&self) -> String {
        format!(
            "{} here is your personal link for {}: {}",
            self.greeting(),
            self.interview(),
            self.link
        )
    }

    pub fn email_subject(&self) -> String {
        let title = self.job_title.trim();
        if title.is_empty() {
            "Your interview link".to_string()
        } else {
            format!("Your {title} interview")
        }
    }

    pub fn email_body(&self) -> String {
        format!(
            "{}\n\nHere is your personal link for {}:\n{}\n\nNo account is needed, and you can come back to it later with the same link.\n\nGood luck!",
            self.greeting(),
            self.interview(),
            self.link
        )
    }

    pub fn share_links(&self) -> ShareLinks {
        let message = self.message();
        // RFC 6068: line breaks in a mailto body are CRLF.
        let body = self.email_body().replace('\n', "\r\n");
        let subject = self.email_subject();
        ShareLinks {
            mailto: format!(
                "mailto:{}?subject={}&body={}",
                utf8_percent_encode(self.candidate_email.trim(), MAILTO_ADDRESS),
                utf8_percent_encode(&subject, COMPONENT),
                utf8_percent_encode(&body, COMPONENT)
            ),
            whatsapp: format!(
                "https://wa.me/?text={}",
                utf8_percent_encode(&message, COMPONENT)
            ),
            // `?&body=` is the form both Android and iOS messaging apps read.
            sms: format!("sms:?&body={}", utf8_percent_encode(&message, COMPONENT)),
            email_subject: subject,
            message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINK: &str = "https://beckon.example.com/i/AbC-123_x";

    fn ada() -> Invitation<'static> {
        Invitation {
            link: LINK,
            job_title: "Backend engineer",
            candidate_name: "Ada Lovelace",
            candidate_email: "ada+jobs@example.com",
        }
    }

    #[test]
    fn message_greets_the_candidate_by_first_name_and_names_the_job() {
        assert_eq!(
            ada().message(),
            format!(
                "Hi Ada, here is your personal link for the Backend engineer interview: {LINK}"
            )
        );
    }

    #[test]
    fn message_without_name_or_job_still_reads_well() {
        let bare = Invitation {
            link: LINK,
            ..Default::default()
        };
        assert_eq!(
            bare.message(),
            format!("Hi, here is your personal link for your interview: {LINK}")
        );
        assert_eq!(bare.email_subject(), "Your interview link");
    }

    #[test]
    fn mailto_encodes_spaces_as_percent_20_and_line_breaks_as_crlf() {
        let links = ada().share_links();
        assert!(
            links
                .mailto
                .starts_with("mailto:ada+jobs@example.com?subject=Your%20Backend%20engineer%20interview&body=Hi%20Ada%2C%0D%0A%0D%0AHere"),
            "{}",
            links.mailto
        );
        assert!(!links.mailto.contains(' '));
        assert!(!links.mailto.contains("+Ada"));
    }

    #[test]
    fn mailto_without_an_email_leaves_the_address_empty() {
        let links = Invitation {
            candidate_email: "",
            ..ada()
        }
        .share_links();
        assert!(links.mailto.starts_with("mailto:?subject="));
    }

    #[test]
    fn whatsapp_and_sms_carry_the_whole_message_with_the_link_encoded() {
        let links = ada().share_links();
        let encoded_link = "https%3A%2F%2Fbeckon.example.com%2Fi%2FAbC-123_x";
        assert_eq!(
            links.whatsapp,
            format!("https://wa.me/?text=Hi%20Ada%2C%20here%20is%20your%20personal%20link%20for%20the%20Backend%20engineer%20interview%3A%20{encoded_link}")
        );
        assert!(links.sms.starts_with("sms:?&body=Hi%20Ada%2C%20"));
        assert!(links.sms.ends_with(encoded_link));
    }

    #[test]
    fn share_links_survive_non_ascii_names_and_ampersands() {
        let links = Invitation {
            candidate_name: "Zoë Ångström",
            job_title: "R&D lead",
            ..ada()
        }
        .share_links();
        assert!(links.whatsapp.contains("Zo%C3%AB"));
        assert!(links.whatsapp.contains("R%26D"));
        // An unencoded `&` would cut the message short.
        assert_eq!(links.sms.matches('&').count(), 1);
    }
}
