//! The connection to invite-service: one channel, shared by the service clients, each of which
//! sends the API key on every call.
use std::{future::Future, time::Duration};

use anyhow::anyhow;
use beckon_proto::invite::v1::{
    invite_service_client::InviteServiceClient, job_service_client::JobServiceClient,
    organization_service_client::OrganizationServiceClient,
};
use tonic::{
    metadata::AsciiMetadataValue,
    service::{interceptor::InterceptedService, Interceptor},
    transport::{Channel, Endpoint},
    Request, Status,
};

/// The largest page the API allows, so that listing everything takes few calls.
const PAGE_SIZE: i32 = 1000;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

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

type AuthChannel = InterceptedService<Channel, BearerAuth>;

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
                anyhow!(
                    "cannot reach the server at {}: {cause}",
                    address.trim_end_matches('/')
                )
            })?;
        Ok(Self { channel, auth })
    }

    pub fn jobs(&self) -> JobServiceClient<AuthChannel> {
        JobServiceClient::with_interceptor(self.channel.clone(), self.auth.clone())
    }

    pub fn invites(&self) -> InviteServiceClient<AuthChannel> {
        InviteServiceClient::with_interceptor(self.channel.clone(), self.auth.clone())
    }

    pub fn organization(&self) -> OrganizationServiceClient<AuthChannel> {
        OrganizationServiceClient::with_interceptor(self.channel.clone(), self.auth.clone())
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
