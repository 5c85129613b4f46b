//! The connection to invite-service: one channel, shared by the service clients, each of which
//! sends the API key on every call. Where the address and key come from: flag, then environment
//! variable (both through clap), then the config file, then the default address.
use std::{future::Future, path::PathBuf, time::Duration};

use beckon_proto::invite::v1::{
    ats_service_client::AtsServiceClient, invite_service_client::InviteServiceClient,
    job_service_client::JobServiceClient, organization_service_client::OrganizationServiceClient,
    webhook_service_client::WebhookServiceClient,
};
use tonic::{
    metadata::AsciiMetadataValue,
    service::{interceptor::InterceptedService, Interceptor},
    transport::{Channel, Endpoint},
    Request, Status,
};

use crate::{config, error::CliError};

/// The largest page the API allows, so that listing everything takes few calls.
const PAGE_SIZE: i32 = 1000;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// A bulk preview lists every problem row; tonic's 4 MiB default could refuse a big one.
const MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;
pub const DEFAULT_SERVER: &str = "http://127.0.0.1:8080";

/// Parses `--server`. Done by clap so that a malformed address is a usage error (exit 2).
pub fn parse_server(value: &str) -> Result<Endpoint, String> {
    let endpoint =
        Endpoint::from_shared(value.to_string()).map_err(|_| "is not a valid URL".to_string())?;
    match endpoint.uri().scheme_str() {
        Some("http") => Ok(endpoint),
        // This build has no TLS; saying so beats an obscure failure at connect time.
        Some("https") => Err("https is not supported by this build; use an http:// address".into()),
        _ => Err("must start with http://, e.g. http://127.0.0.1:8080".into()),
    }
}

/// Sends `authorization: Bearer <key>` with every request.
#[derive(Clone)]
pub struct BearerAuth(AsciiMetadataValue);

impl BearerAuth {
    /// Parses `--key`. Done by clap so that a key that cannot be sent is a usage error (exit 2).
    pub fn parse(key: &str) -> Result<Self, String> {
        let key = key.trim();
        if key.is_empty() {
            return Err("is empty".into());
        }
        // Stricter than a header value has to be: keys are `bk_` and base64url, so anything else
        // is a paste mistake, better caught here than answered with "unauthenticated".
        if !key.chars().all(|c| c.is_ascii_graphic()) {
            return Err("may contain only printable ASCII characters, without spaces".into());
        }
        let mut value: AsciiMetadataValue = format!("Bearer {key}")
            .parse()
            .map_err(|_| "cannot be sent as a header".to_string())?;
        // Keeps the key out of any debug output of the request.
        value.set_sensitive(true);
        Ok(Self(value))
    }
}

impl Interceptor for BearerAuth {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        request
            .metadata_mut()
            .insert("authorization", self.0.clone());
        Ok(request)
    }
}

pub type AuthChannel = InterceptedService<Channel, BearerAuth>;

/// What is needed to connect, as given by flags and environment variables; the config file
/// and the default fill the gaps when a command first needs the server. Commands that need no
/// server (completions, QR codes) therefore work without a key, and a bulk send reports a bad
/// input file before it reports an unreachable server.
pub struct Connector {
    pub server: Option<Endpoint>,
    pub key: Option<BearerAuth>,
    pub config: Option<PathBuf>,
}

impl Connector {
    pub async fn connect(&self) -> anyhow::Result<Connection> {
        let loaded = config::load(self.config.as_deref())?;
        let (file, path) = match &loaded {
            Some(loaded) => (&loaded.config, Some(loaded.path.display().to_string())),
            None => (&config::FileConfig::default(), None),
        };
        let in_file = |name: &str, err: String| {
            let path = path.as_deref().unwrap_or("the config file");
            CliError::Usage(format!("config file {path}: `{name}` {err}"))
        };
        let server = match (&self.server, &file.server) {
            (Some(server), _) => server.clone(),
            (None, Some(server)) => parse_server(server).map_err(|err| in_file("server", err))?,
            (None, None) => parse_server(DEFAULT_SERVER).map_err(CliError::Usage)?,
        };
        let key = match (&self.key, &file.key) {
            (Some(key), _) => key.clone(),
            (None, Some(key)) => BearerAuth::parse(key).map_err(|err| in_file("key", err))?,
            (None, None) => {
                let file = config::default_path()
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|| "~/.config/beckon/invitectl.toml".into());
                let file = path.clone().unwrap_or(file);
                return Err(CliError::usage(format!(
                    "an API key is required: pass --key, set BECKON_API_KEY, or add \
                     `key = \"bk_...\"` to {file}"
                )));
            }
        };
        Connection::open(server, key).await
    }
}

/// An open channel to the server and the key to call it with.
pub struct Connection {
    channel: Channel,
    auth: BearerAuth,
}

impl Connection {
    /// Connects before the first call, so that an unreachable server gives one clear message
    /// rather than an `Unavailable` status from whichever call came first.
    pub async fn open(endpoint: Endpoint, auth: BearerAuth) -> anyhow::Result<Self> {
        let address = endpoint.uri().to_string();
        let channel = endpoint
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .connect()
            .await
            .map_err(|err| {
                // The transport's own chain repeats itself ("transport error: tcp connect error:
                // tcp connect error: ..."); the root cause alone says what went wrong.
                let cause = anyhow::Error::from(err).root_cause().to_string();
                CliError::Unreachable(format!(
                    "cannot reach the server at {}: {cause}",
                    address.trim_end_matches('/')
                ))
            })?;
        Ok(Self { channel, auth })
    }

    pub fn jobs(&self) -> JobServiceClient<AuthChannel> {
        JobServiceClient::with_interceptor(self.channel.clone(), self.auth.clone())
    }

    pub fn invites(&self) -> InviteServiceClient<AuthChannel> {
        InviteServiceClient::with_interceptor(self.channel.clone(), self.auth.clone())
            .max_decoding_message_size(MAX_RESPONSE_BYTES)
    }

    pub fn organization(&self) -> OrganizationServiceClient<AuthChannel> {
        OrganizationServiceClient::with_interceptor(self.channel.clone(), self.auth.clone())
    }

    pub fn webhooks(&self) -> WebhookServiceClient<AuthChannel> {
        WebhookServiceClient::with_interceptor(self.channel.clone(), self.auth.clone())
    }

    pub fn ats(&self) -> AtsServiceClient<AuthChannel> {
        AtsServiceClient::with_interceptor(self.channel.clone(), self.auth.clone())
    }
}

/// A new idempotency key for a create. invitectl never retries by itself, so every run is a new
/// request and gets a new key.
pub fn new_request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Gathers every item of a paginated list. `fetch_page` is given a page size and token and
/// answers with that page's items and the next token, empty after the last page.
pub async fn all_pages<T, F, Fut>(mut fetch_page: F) -> Result<Vec<T>, Status>
where
    F: FnMut(i32, String) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, String), Status>>,
{
    let mut items = Vec::new();
    let mut page_token = String::new();
    loop {
        let (page, next_page_token) = fetch_page(PAGE_SIZE, page_token).await?;
        items.extend(page);
        if next_page_token.is_empty() {
            return Ok(items);
        }
        page_token = next_page_token;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_must_be_an_http_url() {
        assert!(parse_server("http://127.0.0.1:8080").is_ok());
        assert!(parse_server("https://beckon.example.com").is_err());
        assert!(parse_server("127.0.0.1:8080").is_err());
        assert!(parse_server("not a url").is_err());
    }

    #[test]
    fn key_becomes_a_bearer_header() {
        assert!(matches!(
            BearerAuth::parse(" bk_abc "),
            Ok(auth) if auth.0 == "Bearer bk_abc"
        ));
        assert!(BearerAuth::parse("").is_err());
        assert!(BearerAuth::parse("bk_\u{e9}").is_err());
        assert!(BearerAuth::parse("bk_a b").is_err());
    }
}
