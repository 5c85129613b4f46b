//! Sending mail with lettre: SMTP or SMTPS through a connection pool, or, with no SMTP server
//! configured, `.eml` files in a folder. Each attempt of a delivery sends the same Message-ID.
use std::{path::PathBuf, time::Duration};

use lettre::{
    message::{
        header::{ContentType, HeaderName, HeaderValue},
        Mailbox, MultiPart, SinglePart,
    },
    transport::smtp::{
        authentication::Credentials,
        client::{Tls, TlsParameters},
        PoolConfig,
    },
    AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
};

use crate::{
    config::{SmtpConfig, SmtpSecurity},
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

/// `X-Beckon-Idempotency-Key`: lets a receiving system see that two copies are one message.
#[derive(Clone)]
struct IdempotencyKeyHeader(String);

impl lettre::message::header::Header for IdempotencyKeyHeader {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("X-Beckon-Idempotency-Key")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.to_string()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// Builds the MIME message. lettre encodes every header value, and the values were checked to
/// be single lines at enqueue: CR/LF never reaches a header.
pub fn build_message(from: &Mailbox, email: &Email) -> Result<Message, String> {
    let address = email
        .to_address
        .parse()
        .map_err(|e| format!("recipient address: {e}"))?;
    let to = Mailbox::new(
        (!email.to_name.is_empty()).then(|| email.to_name.clone()),
        address,
    );
    let builder = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(email.content.subject.clone())
        .message_id(Some(email.message_id.clone()))
        .header(IdempotencyKeyHeader(email.idempotency_key.clone()));
    let body = if email.content.html_body.is_empty() {
        MultiPart::mixed().singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_PLAIN)
                .body(email.content.text_body.clone()),
        )
    } else {
        MultiPart::alternative_plain_html(
            email.content.text_body.clone(),
            email.content.html_body.clone(),
        )
    };
    builder
        .multipart(body)
        .map_err(|e| format!("building the message: {e}"))
}

pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl SmtpMailer {
    pub fn new(config: &SmtpConfig, from: Mailbox) -> anyhow::Result<Self> {
        let mut builder = match config.security {
            SmtpSecurity::None => {
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host)
            }
            SmtpSecurity::StartTls => {
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host)
                    .tls(Tls::Required(TlsParameters::new(config.host.clone())?))
            }
            SmtpSecurity::Tls => {
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host)
                    .tls(Tls::Wrapper(TlsParameters::new(config.host.clone())?))
            }
        }
        .port(config.port())
        .timeout(Some(Duration::from_secs(config.timeout_secs)))
        .pool_config(PoolConfig::new().max_size(config.pool_size));
        if let (Some(user), Some(password)) = (&config.username, &config.password) {
            builder = builder.credentials(Credentials::new(
                user.clone(),
                password.expose().to_string(),
            ));
        }
        Ok(Self {
            transport: builder.build(),
            from,
        })
    }
}

/// SMTP replies that say the mailbox itself is refused: the address is suppressed.
const BOUNCE_CODES: &[&str] = &["550", "551", "553"];

#[async_trait::async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, email: &Email) -> SendOutcome {
        let message = match build_message(&self.from, email) {
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
            Err(err) => {
                let reason = err.to_string();
                if err.is_permanent() {
                    let bounce = err
                        .status()
                        .is_some_and(|code| BOUNCE_CODES.contains(&code.to_string().as_str()));
                    SendOutcome::Permanent { reason, bounce }
                } else {
                    // Transient replies, timeouts, refused or dropped connections, TLS trouble:
                    // the server may well take the message later.
                    SendOutcome::Temporary(reason)
                }
            }
        }
    }
}

/// Writes each message as an `.eml` file: the default when no SMTP server is configured.
pub struct FileMailer {
    transport: AsyncFileTransport<Tokio1Executor>,
    from: Mailbox,
}

impl FileMailer {
    pub fn new(dir: PathBuf, from: Mailbox) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&dir)?;
        Ok(Self {
            transport: AsyncFileTransport::new(dir),
            from,
        })
    }
}

#[async_trait::async_trait]
impl Mailer for FileMailer {
    async fn send(&self, email: &Email) -> SendOutcome {
        let message = match build_message(&self.from, email) {
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
