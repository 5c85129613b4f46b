//! Webhook signing secrets, in the Standard Webhooks symmetric scheme: each endpoint has its own
//! random key, shown to its owner once as `whsec_<base64>`, and every delivery carries
//! `v1,<base64 HMAC-SHA256>` of `{id}.{timestamp}.{body}` in `webhook-signature`.
//!
//! Unlike link tokens, the sender needs the key itself, not a hash of it, so the database keeps
//! it sealed (`seal.rs`: XChaCha20-Poly1305) under a key derived from the link key, which lives outside
//! the database: a dump alone signs nothing. The endpoint's id is the associated data, so a
//! sealed secret copied onto another endpoint's row does not open.
use base64::{engine::general_purpose::STANDARD, Engine};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;

use super::seal::{Seal, Unsealed};

/// How Standard Webhooks marks a symmetric signing secret.
pub const SECRET_PREFIX: &str = "whsec_";
/// New secrets: 256 bits.
const GENERATED_BYTES: usize = 32;
/// The spec's bounds for a symmetric secret: 192 to 512 bits.
const MIN_BYTES: usize = 24;
const MAX_BYTES: usize = 64;
/// What the seal key is derived under, so the link key's other uses never meet this one.
const SEAL_LABEL: &[u8] = b"beckon webhook signing secret seal v1";

type HmacSha256 = Hmac<Sha256>;

/// An endpoint's signing secret: the raw key bytes. Never printed; `expose` gives its text form
/// for the one answer that shows it.
#[derive(Clone)]
pub struct SigningSecret(Vec<u8>);

impl SigningSecret {
    /// A new secret, 32 bytes from the OS CSPRNG.
    pub fn generate() -> Self {
        let mut key = vec![0u8; GENERATED_BYTES];
        // The OS CSPRNG failing is not something a server can carry on from.
        getrandom::fill(&mut key).expect("operating system random number generator failed");
        Self(key)
    }

    /// Reads `whsec_` and standard base64 (padded) of 24 to 64 bytes, as a receiver would hold
    /// it; surrounding whitespace from a paste is ignored.
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        let encoded = text
            .trim()
            .strip_prefix(SECRET_PREFIX)
            .ok_or("a webhook signing secret starts with whsec_")?;
        let key = STANDARD
            .decode(encoded)
            .map_err(|_| "a webhook signing secret is whsec_ followed by standard base64")?;
        if key.len() < MIN_BYTES {
            return Err("a webhook signing secret must hold at least 24 bytes (192 bits)");
        }
        if key.len() > MAX_BYTES {
            return Err("a webhook signing secret may hold at most 64 bytes (512 bits)");
        }
        Ok(Self(key))
    }

    /// The `whsec_` text. Call it only to show the secret to its owner.
    pub fn expose(&self) -> String {
        format!("{SECRET_PREFIX}{}", STANDARD.encode(&self.0))
    }

    /// The raw key bytes, for signing.
    pub fn key(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningSecret(..)")
    }
}

/// The `webhook-signature` header value: `v1,<base64 HMAC-SHA256>` for each secret, space
/// separated, so a receiver can verify across a secret rotation.
pub fn sign(secrets: &[&SigningSecret], msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    let timestamp = timestamp.to_string();
    secrets
        .iter()
        .map(|secret| {
            let mut mac = <HmacSha256 as Mac>::new_from_slice(secret.key())
                .expect("HMAC accepts keys of any length");
            mac.update(msg_id.as_bytes());
            mac.update(b".");
            mac.update(timestamp.as_bytes());
            mac.update(b".");
            mac.update(body);
            format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Seals signing secrets for the database and opens them again. Made from the link key
/// (`LinkKey::webhook_seal`), so every replica that can make links can open them.
#[derive(Debug)]
pub struct SecretSeal(Seal);

/// Why a stored signing secret could not be opened.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    #[error("the stored webhook signing secret is not in a sealed form this version reads (v1.)")]
    UnknownFormat,
    #[error(
        "the stored webhook signing secret does not open: it is damaged, belongs to another \
         endpoint, or was sealed under another link key (every replica needs the same link_secret)"
    )]
    WontOpen,
}

impl SecretSeal {
    /// The seal under `root_key` (the link key's bytes).
    pub(crate) fn derive(root_key: &[u8]) -> Self {
        Self(Seal::derive(root_key, SEAL_LABEL))
    }

    /// `v1.` + base64(nonce ‖ ciphertext), bound to `endpoint_id`.
    pub fn seal(&self, secret: &SigningSecret, endpoint_id: Uuid) -> String {
        self.0.seal(secret.key(), endpoint_id)
    }

    /// Opens what `seal` made for the same endpoint.
    pub fn open(&self, sealed: &str, endpoint_id: Uuid) -> Result<SigningSecret, SealError> {
        match self.0.open(sealed, endpoint_id) {
            Ok(key) => Ok(SigningSecret(key)),
            Err(Unsealed::UnknownFormat) => Err(SealError::UnknownFormat),
            Err(Unsealed::WontOpen) => Err(SealError::WontOpen),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::secret::LinkKey;

    fn secret_of(len: usize) -> String {
        format!("{SECRET_PREFIX}{}", STANDARD.encode(vec![7u8; len]))
    }

    #[test]
    fn generated_secrets_read_back_and_never_print() {
        let secret = SigningSecret::generate();
        assert_eq!(secret.key().len(), 32);
        let text = secret.expose();
        assert!(text.starts_with("whsec_"), "{text}");
        let again = SigningSecret::parse(&text).expect("its own text");
        assert_eq!(again.key(), secret.key());
        assert_ne!(SigningSecret::generate().key(), secret.key());
        assert_eq!(format!("{secret:?}"), "SigningSecret(..)");
    }

    #[test]
    fn parse_holds_to_the_spec_bounds() {
        assert!(SigningSecret::parse(&secret_of(24)).is_ok());
        assert!(SigningSecret::parse(&secret_of(64)).is_ok());
        assert!(SigningSecret::parse(&format!(" {}\n", secret_of(32))).is_ok());
        assert_eq!(
            SigningSecret::parse(&secret_of(23)).map(|_| ()),
            Err("a webhook signing secret must hold at least 24 bytes (192 bits)")
        );
        assert_eq!(
            SigningSecret::parse(&secret_of(65)).map(|_| ()),
            Err("a webhook signing secret may hold at most 64 bytes (512 bits)")
        );
        let bare = STANDARD.encode([7u8; 32]);
        assert_eq!(
            SigningSecret::parse(&bare).map(|_| ()),
            Err("a webhook signing secret starts with whsec_")
        );
        assert_eq!(
            SigningSecret::parse("whsec_not base64!").map(|_| ()),
            Err("a webhook signing secret is whsec_ followed by standard base64")
        );
    }

    #[test]
    fn sealed_secrets_open_only_for_their_endpoint_and_link_key() {
        let link_key = LinkKey::generate();
        let seal = link_key.webhook_seal();
        let secret = SigningSecret::generate();
        let endpoint = Uuid::now_v7();
        let sealed = seal.seal(&secret, endpoint);
        assert!(sealed.starts_with("v1."), "{sealed}");
        assert!(!sealed.contains(&secret.expose()[SECRET_PREFIX.len()..]));
        assert_ne!(
            sealed,
            seal.seal(&secret, endpoint),
            "a fresh nonce each time"
        );

        let opened = seal
            .open(&sealed, endpoint)
            .expect("opens for its endpoint");
        assert_eq!(opened.key(), secret.key());
        // The same key again (another replica, a restart) opens it too.
        let copy = LinkKey::decode(&link_key.encode()).expect("round trip");
        assert!(copy.webhook_seal().open(&sealed, endpoint).is_ok());

        assert_eq!(
            seal.open(&sealed, Uuid::now_v7()).map(|_| ()),
            Err(SealError::WontOpen),
            "copied onto another endpoint's row"
        );
        assert_eq!(
            LinkKey::generate()
                .webhook_seal()
                .open(&sealed, endpoint)
                .map(|_| ()),
            Err(SealError::WontOpen),
            "another service's link key"
        );
        assert_eq!(
            seal.open(&secret.expose(), endpoint).map(|_| ()),
            Err(SealError::UnknownFormat)
        );
        assert_eq!(
            seal.open("v1.AAAA", endpoint).map(|_| ()),
            Err(SealError::WontOpen)
        );
        let mut tampered = sealed.clone().into_bytes();
        let last = tampered.len() - 3;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).expect("ascii");
        assert_eq!(
            seal.open(&tampered, endpoint).map(|_| ()),
            Err(SealError::WontOpen)
        );
    }

    /// The vector from the Standard Webhooks reference library's own test
    /// (libraries/rust/src/lib.rs, `test_sign`), also checked with Python's hmac module.
    #[test]
    fn signs_as_the_standard_webhooks_reference_does() {
        let secret = SigningSecret::parse("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD").expect("valid");
        let body = br#"{"email":"test@example.com","username":"test_user"}"#;
        assert_eq!(
            sign(
                &[&secret],
                "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
                1649367553,
                body
            ),
            "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="
        );
    }

    /// Computed at test-writing time with Python's hmac and base64 modules.
    #[test]
    fn signs_with_every_secret_during_a_rotation() {
        let old = SigningSecret::parse(&secret_of(24)).expect("valid");
        let new = SigningSecret::parse(&format!(
            "{SECRET_PREFIX}{}",
            STANDARD.encode((0u8..32).collect::<Vec<_>>())
        ))
        .expect("valid");
        assert_eq!(
            sign(&[&new, &old], "msg_1", -5, b"{}"),
            "v1,7O30Ukgt6gvEDRtYV2pcGdpPvgWBV0AWvckU9jJBncs= \
             v1,kmDj6u6+NGpG/K4bMOvUbqDtxZZ8VkhRENRzag6VaG8="
        );
        assert_eq!(sign(&[], "msg_1", 0, b""), "");
    }
}
