//! Sending mail with lettre: SMTP or SMTPS over connections kept open, or, with no SMTP server
//! configured, `.eml` files in a folder. Each attempt of a delivery sends the same Message-ID.
//! Every message is built, and DKIM-signed when a key is configured, by one `Composer`.
use std::{
    path::PathBuf,
    sync::{Mutex, MutexGuard},
    time::{Duration, Instant},
};

use lettre::{
    address::Envelope,
    message::{
        dkim::{
            DkimCanonicalization, DkimCanonicalizationType, DkimConfig as Signing,
            DkimSigningAlgorithm, DkimSigningKey,
        },
        header::{ContentType, HeaderName, HeaderValue},
        Attachment, Mailbox, MultiPart, SinglePart,
    },
    transport::smtp::{
        authentication::{Credentials, DEFAULT_MECHANISMS},
        client::{AsyncSmtpConnection, Tls, TlsParameters},
        extension::ClientId,
    },
    AsyncFileTransport, AsyncTransport, Message, Tokio1Executor,
};
use tokio::net::TcpStream;

use crate::{
    config::{Config, DkimConfig, SmtpConfig, SmtpSecurity},
    templates::Rendered,
};

/// One email, ready to go.
#[derive(Clone, Debug)]
pub struct Email {
    pub to_address: String,
    pub to_name: String,
    pub message_id: String,
    pub idempotency_key: String,
    pub content: Rendered,
    /// Where the recipient's answer goes (the inviter), when not to the From address.
    pub reply_to: Option<Mailbox>,
    /// For mail sent in bulk: `List-Unsubscribe` and `List-Unsubscribe-Post` (RFC 8058).
    pub unsubscribe_url: Option<String>,
    /// A live interview's calendar invitation, or its cancellation.
    pub calendar: Option<Invitation>,
    /// The language it is written in: its `Content-Language` (RFC 3282), which mail clients
    /// read to offer a translation, or not.
    pub locale: beckon_i18n::Locale,
}

/// A live interview as a calendar event (RFC 5545), sent as an iTIP REQUEST or CANCEL
/// (RFC 5546): the From address organizes it, the recipient attends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invitation {
    /// The same for every version of the event: a calendar updates the one it has.
    pub uid: String,
    /// Raised on every change: a calendar keeps the highest.
    pub sequence: u32,
    pub start: chrono::DateTime<chrono::Utc>,
    pub minutes: u32,
    pub cancel: bool,
    /// The event's title.
    pub summary: String,
    /// The candidate's link: the event's location and URL. None when cancelled.
    pub link: Option<String>,
    /// The event's description, in the candidate's language: how to join.
    pub description: Option<String>,
}

/// What an attempt came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SendOutcome {
    Sent,
    /// Worth retrying: a 4xx reply, a timeout, a connection failure.
    Temporary(String),
    /// Not worth retrying: a 5xx reply. `bounce` when the mailbox itself is refused, so the
    /// address is suppressed.
    Permanent {
        reason: String,
        bounce: bool,
    },
}

#[async_trait::async_trait]
pub trait Mailer: Send + Sync + 'static {
    async fn send(&self, email: &Email) -> SendOutcome;
}

/// A header whose value is given whole: ASCII, one line (values were checked at enqueue).
macro_rules! plain_header {
    ($(#[$doc:meta])* $type:ident, $name:literal) => {
        $(#[$doc])*
        #[derive(Clone)]
        struct $type(String);

        impl lettre::message::header::Header for $type {
            fn name() -> HeaderName {
                HeaderName::new_from_ascii_str($name)
            }

            fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
                Ok(Self(s.to_string()))
            }

            fn display(&self) -> HeaderValue {
                HeaderValue::new(Self::name(), self.0.clone())
            }
        }
    };
}

plain_header!(
    /// Lets a receiving system see that two copies are one message.
    IdempotencyKeyHeader,
    "X-Beckon-Idempotency-Key"
);
plain_header!(
    /// `<url>`: where the recipient stops this sender's mail (RFC 2369).
    ListUnsubscribe,
    "List-Unsubscribe"
);
plain_header!(
    /// The message's language, e.g. `de` (RFC 3282).
    ContentLanguage,
    "Content-Language"
);
plain_header!(
    /// `List-Unsubscribe=One-Click`: the URL takes a POST, no page needed (RFC 8058).
    ListUnsubscribePost,
    "List-Unsubscribe-Post"
);

/// The headers a signature covers: those RFC 6376 recommends, and the ones a mail client acts
/// on (Reply-To, and List-Unsubscribe with its -Post, which RFC 8058 requires signed). One that a
/// message lacks is signed as absent: nobody can add it on the way. Not Content-Type: lettre
/// writes a multipart message's Content-Type with its body, where its signer does not see it,
/// so naming it would break every signature (the body hash covers the parts all the same).
const SIGNED_HEADERS: &[&str] = &[
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "Reply-To",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
    "MIME-Version",
];

/// Builds every message, and signs it when DKIM is configured.
pub struct Composer {
    from: Mailbox,
    dkim: Option<Signing>,
}

impl Composer {
    pub fn new(config: &Config) -> anyhow::Result<Self> {
        let from: Mailbox = config
            .from_address
            .parse()
            .map_err(|_| anyhow::anyhow!("from_address is not a mailbox"))?;
        let dkim = match &config.dkim {
            None => None,
            Some(dkim) => {
                let key = dkim
                    .key_text()
                    .and_then(|text| signing_key(text.expose()))
                    .map_err(|problem| anyhow::anyhow!("dkim.private_key {problem}"))?;
                Some(Signing::new(
                    dkim.selector.clone(),
                    dkim.domain_for(from.email.domain()),
                    key,
                    SIGNED_HEADERS
                        .iter()
                        .map(|name| HeaderName::new_from_ascii_str(name))
                        .collect(),
                    // Relaxed: a relay that refolds a header or trims trailing space breaks no
                    // signature.
                    DkimCanonicalization {
                        header: DkimCanonicalizationType::Relaxed,
                        body: DkimCanonicalizationType::Relaxed,
                    },
                ))
            }
        };
        Ok(Self { from, dkim })
    }

    pub fn compose(&self, email: &Email) -> Result<Message, String> {
        let calendar = email
            .calendar
            .as_ref()
            .map(|invitation| calendar_text(&self.from, email, invitation));
        let mut message = build_message(&self.from, email, calendar)?;
        if let Some(dkim) = &self.dkim {
            message.sign(dkim);
        }
        Ok(message)
    }
}

/// The invitation as an iCalendar object: one VEVENT, times in UTC, the link as its location.
fn calendar_text(from: &Mailbox, email: &Email, invitation: &Invitation) -> CalendarText {
    use icalendar::{
        Attendee, Calendar, Component, EventLike, EventStatus, PartStat, Property, Role,
    };
    let method = if invitation.cancel {
        "CANCEL"
    } else {
        "REQUEST"
    };
    // The inviter organizes, so the candidate's RSVP reaches them; Beckon sends on their behalf.
    // Without one, the From address organizes.
    let mut organizer = match &email.reply_to {
        Some(inviter) => {
            let mut organizer = Property::new("ORGANIZER", format!("mailto:{}", inviter.email));
            organizer.add_parameter("SENT-BY", &format!("mailto:{}", from.email));
            if let Some(name) = &inviter.name {
                organizer.add_parameter("CN", &parameter_text(name));
            }
            organizer
        }
        None => {
            let mut organizer = Property::new("ORGANIZER", format!("mailto:{}", from.email));
            if let Some(name) = &from.name {
                organizer.add_parameter("CN", &parameter_text(name));
            }
            organizer
        }
    };
    let mut attendee = Attendee::new(format!("mailto:{}", email.to_address))
        .role(Role::ReqParticipant)
        .partstat(PartStat::NeedsAction)
        .rsvp(true);
    if !email.to_name.is_empty() {
        attendee = attendee.cn(parameter_text(&email.to_name));
    }
    let mut event = icalendar::Event::new();
    event
        .uid(&invitation.uid)
        .sequence(invitation.sequence)
        .timestamp(chrono::Utc::now())
        .starts(invitation.start)
        .ends(invitation.start + chrono::Duration::minutes(i64::from(invitation.minutes)))
        .summary(&invitation.summary)
        .append_property(organizer.done())
        .attendee(attendee)
        .status(match invitation.cancel {
            true => EventStatus::Cancelled,
            false => EventStatus::Confirmed,
        });
    if let Some(link) = &invitation.link {
        event.location(link).url(link);
    }
    if let Some(description) = &invitation.description {
        event.description(description);
    }
    let mut calendar = Calendar::empty();
    calendar
        .append_property(("VERSION", "2.0"))
        .append_property(("PRODID", "-//Beckon//Beckon//EN"))
        .append_property(("CALSCALE", "GREGORIAN"))
        .append_property(("METHOD", method))
        .push(event.done());
    CalendarText {
        method,
        text: calendar.to_string(),
    }
}

/// A name fit for a parameter value (CN): RFC 5545 parameter values cannot hold `"`, which the
/// icalendar crate leaves as it is, and a name from outside must not end the value early.
fn parameter_text(name: &str) -> String {
    name.chars()
        .map(|c| if c == '"' { '\'' } else { c })
        .filter(|c| !c.is_control())
        .collect()
}

/// An iCalendar object and its iTIP method.
struct CalendarText {
    method: &'static str,
    text: String,
}

/// The key: RSA in PKCS#1 PEM, or Ed25519 as the base64 of its 32 bytes. Errors never quote it.
fn signing_key(text: &str) -> Result<DkimSigningKey, String> {
    let text = text.trim();
    if text.starts_with("-----BEGIN RSA PRIVATE KEY-----") {
        DkimSigningKey::new(text, DkimSigningAlgorithm::Rsa)
            .map_err(|_| "is not a readable RSA key in PKCS#1 PEM".into())
    } else if text.starts_with("-----BEGIN") {
        Err(
            "must be an RSA key in PKCS#1 PEM (-----BEGIN RSA PRIVATE KEY-----); convert a \
             PKCS#8 one with `openssl rsa -traditional -in key.pem`"
                .into(),
        )
    } else {
        DkimSigningKey::new(text, DkimSigningAlgorithm::Ed25519).map_err(|_| {
            "must be an RSA key in PKCS#1 PEM, or an Ed25519 key as the base64 of its 32 bytes"
                .into()
        })
    }
}

/// Checks the DKIM settings once at start: the setting at fault and what is wrong.
pub fn check_dkim(dkim: &DkimConfig, from_domain: &str) -> Result<(), (&'static str, String)> {
    let dns_name = |name: &str| {
        !name.is_empty()
            && name.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            })
    };
    if !dns_name(&dkim.selector) {
        return Err((
            "dkim.selector",
            "must be the key's name in DNS: letters, digits, '-' and '.' (e.g. beckon2026)".into(),
        ));
    }
    if !dns_name(&dkim.domain_for(from_domain)) {
        return Err((
            "dkim.domain",
            "must be a domain name such as example.com".into(),
        ));
    }
    dkim.key_text()
        .and_then(|text| signing_key(text.expose()).map(|_| ()))
        .map_err(|problem| ("dkim.private_key", problem))
}

/// What a start should warn about: mail that leaves by SMTP unsigned, or signed for a domain
/// that is not the From's (DMARC counts only an aligned signature).
pub fn signing_warnings(config: &Config) -> Vec<String> {
    let from_domain = config.message_id_domain().to_ascii_lowercase();
    match &config.dkim {
        None if config.smtp.is_some() => vec![format!(
            "mail from {from_domain} is not DKIM-signed, so receivers may file it as spam or \
             refuse it: set dkim.selector and dkim.private_key (BECKON_NOTIFY_DKIM__SELECTOR, \
             BECKON_NOTIFY_DKIM__PRIVATE_KEY) and publish the public key at \
             <selector>._domainkey.{from_domain}"
        )],
        None => Vec::new(),
        Some(dkim) => {
            let signing = dkim.domain_for(&from_domain);
            let aligned = from_domain == signing || from_domain.ends_with(&format!(".{signing}"));
            match aligned {
                true => Vec::new(),
                false => vec![format!(
                    "DKIM signs for {signing} but mail is from {from_domain}: DMARC counts only \
                     a signature for the From address's domain or a parent of it"
                )],
            }
        }
    }
}

/// Builds the MIME message. lettre encodes every header value, and the values were checked to
/// be single lines at enqueue: CR/LF never reaches a header.
fn build_message(
    from: &Mailbox,
    email: &Email,
    calendar: Option<CalendarText>,
) -> Result<Message, String> {
    let address = email
        .to_address
        .parse()
        .map_err(|e| format!("recipient address: {e}"))?;
    let to = Mailbox::new(
        (!email.to_name.is_empty()).then(|| email.to_name.clone()),
        address,
    );
    let mut builder = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(email.content.subject.clone())
        .message_id(Some(email.message_id.clone()))
        .header(IdempotencyKeyHeader(email.idempotency_key.clone()))
        .header(ContentLanguage(email.locale.tag().to_string()));
    if let Some(reply_to) = &email.reply_to {
        builder = builder.reply_to(reply_to.clone());
    }
    if let Some(url) = &email.unsubscribe_url {
        builder = builder.header(ListUnsubscribe(format!("<{url}>")));
        // One-click is for HTTPS URLs only (RFC 8058 §3.1); a plain one is a page to visit.
        if url.starts_with("https://") {
            builder = builder.header(ListUnsubscribePost("List-Unsubscribe=One-Click".into()));
        }
    }
    let text = || {
        SinglePart::builder()
            .header(ContentType::TEXT_PLAIN)
            .body(email.content.text_body.clone())
    };
    let body = match (email.content.html_body.is_empty(), calendar) {
        (true, None) => MultiPart::mixed().singlepart(text()),
        (false, None) => MultiPart::alternative_plain_html(
            email.content.text_body.clone(),
            email.content.html_body.clone(),
        ),
        // A calendar client reads the text/calendar alternative (and its method); others offer
        // the .ics attachment.
        (html_is_empty, Some(calendar)) => {
            let calendar_type = ContentType::parse(&format!(
                "text/calendar; charset=utf-8; method={}",
                calendar.method
            ))
            .map_err(|e| format!("the calendar part's type: {e}"))?;
            let mut alternatives = MultiPart::alternative().singlepart(text());
            if !html_is_empty {
                alternatives = alternatives.singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_HTML)
                        .body(email.content.html_body.clone()),
                );
            }
            alternatives = alternatives.singlepart(
                SinglePart::builder()
                    .header(calendar_type)
                    .body(calendar.text.clone()),
            );
            let ics_type = ContentType::parse("application/ics")
                .map_err(|e| format!("the attachment's type: {e}"))?;
            MultiPart::mixed()
                .multipart(alternatives)
                .singlepart(Attachment::new("invite.ics".into()).body(calendar.text, ics_type))
        }
    };
    builder
        .multipart(body)
        .map_err(|e| format!("building the message: {e}"))
}

/// SMTP (plain, STARTTLS or implicit TLS) through connections kept open for the next message,
/// at most `pool_size` of them idle.
///
/// The connections are made here, not by lettre's pool, to set `TCP_NODELAY`: lettre 0.11 leaves
/// Nagle's algorithm on and writes a message's final `.` apart from its body, so every message
/// would wait for the server's delayed ACK (~40 ms). With implicit TLS lettre makes the whole
/// connection, so that mode still pays the wait.
pub struct SmtpMailer {
    host: String,
    port: u16,
    tls: Tls,
    credentials: Option<Credentials>,
    hello: ClientId,
    /// Bounds connecting (with TLS and AUTH) and each message's exchange.
    timeout: Duration,
    idle: Mutex<Vec<Idle>>,
    pool_size: usize,
    composer: Composer,
}

struct Idle {
    conn: AsyncSmtpConnection,
    since: Instant,
}

/// A connection idle for longer is checked with a NOOP before it carries a message (the server
/// may have closed it); one in use a moment ago is not, which saves a round trip per message.
const CHECK_AFTER: Duration = Duration::from_secs(1);
/// A connection idle for longer is closed.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Why a message did not go out.
enum Failure {
    Smtp(lettre::transport::smtp::Error),
    Connect(std::io::Error),
    TimedOut,
}

impl From<lettre::transport::smtp::Error> for Failure {
    fn from(err: lettre::transport::smtp::Error) -> Self {
        Self::Smtp(err)
    }
}

impl SmtpMailer {
    pub fn new(config: &SmtpConfig, composer: Composer) -> anyhow::Result<Self> {
        let tls = match config.security {
            SmtpSecurity::None => Tls::None,
            SmtpSecurity::StartTls => Tls::Required(TlsParameters::new(config.host.clone())?),
            SmtpSecurity::Tls => Tls::Wrapper(TlsParameters::new(config.host.clone())?),
        };
        let credentials = match (&config.username, &config.password) {
            (Some(user), Some(password)) => Some(Credentials::new(
                user.clone(),
                password.expose().to_string(),
            )),
            _ => None,
        };
        Ok(Self {
            host: config.host.clone(),
            port: config.port(),
            tls,
            credentials,
            hello: ClientId::default(),
            timeout: Duration::from_secs(config.timeout_secs),
            idle: Mutex::new(Vec::new()),
            pool_size: config.pool_size as usize,
            composer,
        })
    }

    async fn try_send(&self, envelope: &Envelope, message: &[u8]) -> Result<(), Failure> {
        let mut conn = self.connection().await?;
        match tokio::time::timeout(self.timeout, conn.send(envelope, message)).await {
            Ok(Ok(_)) => {
                self.park(conn);
                Ok(())
            }
            // lettre marks the connection broken; dropping it closes it.
            Ok(Err(err)) => Err(Failure::Smtp(err)),
            Err(_) => Err(Failure::TimedOut),
        }
    }

    /// The most recently used idle connection that still works, or a new one.
    async fn connection(&self) -> Result<AsyncSmtpConnection, Failure> {
        loop {
            let Some(Idle { mut conn, since }) = self.idle().pop() else {
                return tokio::time::timeout(self.timeout, self.connect())
                    .await
                    .map_err(|_| Failure::TimedOut)?;
            };
            let idle_for = since.elapsed();
            if idle_for < CHECK_AFTER {
                return Ok(conn);
            }
            if idle_for < IDLE_TIMEOUT
                && tokio::time::timeout(self.timeout, conn.test_connected())
                    .await
                    .unwrap_or(false)
            {
                return Ok(conn);
            }
        }
    }

    async fn connect(&self) -> Result<AsyncSmtpConnection, Failure> {
        let mut conn = match &self.tls {
            Tls::Wrapper(tls) => {
                AsyncSmtpConnection::connect_tokio1(
                    (self.host.as_str(), self.port),
                    None,
                    &self.hello,
                    Some(tls.clone()),
                    None,
                )
                .await?
            }
            tls => {
                let stream = TcpStream::connect((self.host.as_str(), self.port))
                    .await
                    .map_err(Failure::Connect)?;
                stream.set_nodelay(true).map_err(Failure::Connect)?;
                let mut conn =
                    AsyncSmtpConnection::connect_with_transport(Box::new(stream), &self.hello)
                        .await?;
                if let Tls::Required(tls) = tls {
                    conn.starttls(tls.clone(), &self.hello).await?;
                }
                conn
            }
        };
        if let Some(credentials) = &self.credentials {
            conn.auth(DEFAULT_MECHANISMS, credentials).await?;
        }
        Ok(conn)
    }

    /// Keeps a connection for the next message, closing those idle too long and any beyond
    /// `pool_size`.
    fn park(&self, conn: AsyncSmtpConnection) {
        let mut idle = self.idle();
        idle.retain(|parked| parked.since.elapsed() < IDLE_TIMEOUT);
        if !conn.has_broken() && idle.len() < self.pool_size {
            idle.push(Idle {
                conn,
                since: Instant::now(),
            });
        }
    }

    fn idle(&self) -> MutexGuard<'_, Vec<Idle>> {
        // A list of connections is consistent between statements: a poisoned lock is usable.
        self.idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// SMTP replies that say the mailbox itself is refused: the address is suppressed.
const BOUNCE_CODES: &[&str] = &["550", "551", "553"];

#[async_trait::async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, email: &Email) -> SendOutcome {
        let message = match self.composer.compose(email) {
            Ok(message) => message,
            Err(reason) => {
                return SendOutcome::Permanent {
                    reason,
                    bounce: false,
                }
            }
        };
        match self
            .try_send(message.envelope(), &message.formatted())
            .await
        {
            Ok(()) => SendOutcome::Sent,
            Err(Failure::Smtp(err)) => {
                let reason = err.to_string();
                if err.is_permanent() {
                    let bounce = err
                        .status()
                        .is_some_and(|code| BOUNCE_CODES.contains(&code.to_string().as_str()));
                    SendOutcome::Permanent { reason, bounce }
                } else {
                    // Transient replies, dropped connections, TLS trouble: the server may well
                    // take the message later.
                    SendOutcome::Temporary(reason)
                }
            }
            Err(Failure::Connect(err)) => {
                SendOutcome::Temporary(format!("connecting to the SMTP server: {err}"))
            }
            Err(Failure::TimedOut) => SendOutcome::Temporary(format!(
                "the SMTP server did not answer within {} s",
                self.timeout.as_secs()
            )),
        }
    }
}

/// Writes each message as an `.eml` file: the default when no SMTP server is configured.
pub struct FileMailer {
    transport: AsyncFileTransport<Tokio1Executor>,
    composer: Composer,
}

impl FileMailer {
    pub fn new(dir: PathBuf, composer: Composer) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&dir)?;
        Ok(Self {
            transport: AsyncFileTransport::new(dir),
            composer,
        })
    }
}

#[async_trait::async_trait]
impl Mailer for FileMailer {
    async fn send(&self, email: &Email) -> SendOutcome {
        let message = match self.composer.compose(email) {
            Ok(message) => message,
            Err(reason) => {
                return SendOutcome::Permanent {
                    reason,
                    bounce: false,
                }
            }
        };
        match self.transport.send(message).await {
            Ok(_) => SendOutcome::Sent,
            Err(err) => SendOutcome::Temporary(format!("writing the mail file: {err}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(unsubscribe_url: Option<&str>) -> Email {
        Email {
            to_address: "ada@example.com".into(),
            to_name: "Ada".into(),
            message_id: "<1@beckon.test>".into(),
            idempotency_key: "k".into(),
            content: Rendered {
                subject: "Hi".into(),
                text_body: "Hello".into(),
                html_body: String::new(),
            },
            reply_to: None,
            unsubscribe_url: unsubscribe_url.map(str::to_string),
            calendar: None,
            locale: beckon_i18n::Locale::De,
        }
    }

    fn headers(message: &Message) -> String {
        String::from_utf8_lossy(&message.formatted()).into_owned()
    }

    #[test]
    fn one_click_unsubscribe_is_offered_over_https_only() {
        let from: Mailbox = "Beckon <invites@beckon.test>".parse().expect("mailbox");
        let https =
            build_message(&from, &email(Some("https://beckon.test/u/abc")), None).expect("built");
        let text = headers(&https);
        assert!(
            text.contains("List-Unsubscribe: <https://beckon.test/u/abc>"),
            "{text}"
        );
        assert!(
            text.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"),
            "{text}"
        );
        let http =
            build_message(&from, &email(Some("http://127.0.0.1:8080/u/abc")), None).expect("built");
        let text = headers(&http);
        assert!(
            text.contains("List-Unsubscribe: <http://127.0.0.1:8080/u/abc>"),
            "{text}"
        );
        assert!(!text.contains("List-Unsubscribe-Post"), "{text}");
        let none = build_message(&from, &email(None), None).expect("built");
        assert!(!headers(&none).contains("List-Unsubscribe"));
    }

    #[test]
    fn a_message_says_its_language() {
        let from: Mailbox = "Beckon <invites@beckon.test>".parse().expect("mailbox");
        let message = build_message(&from, &email(None), None).expect("built");
        assert!(headers(&message).contains("Content-Language: de\r\n"));
    }
}
