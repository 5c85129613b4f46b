//! Secrets: link tokens, API keys and sealed idempotent answers. Only hashes are stored.
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use hmac::Hmac;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// 256 bits: well above the 128 the design asks for, and still a short URL (43 characters).
const TOKEN_BYTES: usize = 32;
const KEY_PREFIX_BYTES: usize = 6;
pub const API_KEY_PREFIX: &str = "bk_";

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    // The OS CSPRNG failing is not something a server can carry on from.
    getrandom::fill(&mut bytes).expect("operating system random number generator failed");
    bytes
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// The server's key for link tokens: 256 bits from the OS CSPRNG, kept outside the database.
/// A token is HMAC-SHA256(key, invite id, link generation): unguessable without the key, and
/// re-derivable by the server, so a resend carries the same link while the database holds only
/// the token's hash. Reissuing bumps the generation: the old token's hash no longer matches.
#[derive(Clone)]
pub struct LinkKey([u8; TOKEN_BYTES]);

/// An unsubscribe link's MAC is cut to 128 bits: forging one still takes 2^128 tries, and the
/// URL stays short enough for a mail header on one line.
const UNSUBSCRIBE_TAG_BYTES: usize = 16;

impl LinkKey {
    pub fn generate() -> Self {
        Self(random_bytes())
    }

    /// Reads a key written by `encode`.
    pub fn decode(text: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(text.trim()).ok()?;
        Some(Self(bytes.try_into().ok()?))
    }

    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0)
    }

    /// The token of an invite's link at a generation.
    pub fn token(&self, invite_id: uuid::Uuid, generation: i32) -> String {
        use hmac::{Hmac, Mac};
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0)
            .expect("HMAC accepts keys of any length");
        mac.update(b"beckon link v1");
        mac.update(invite_id.as_bytes());
        mac.update(&generation.to_be_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// The token of an invite's unsubscribe link: the invite's id and a MAC of it. It names the
    /// invite without its link (which stays secret and may change), and nobody can make one
    /// for another invite.
    pub fn unsubscribe_token(&self, invite_id: uuid::Uuid) -> String {
        use hmac::Mac;
        let tag = self.unsubscribe_mac(invite_id).finalize().into_bytes();
        format!(
            "{}{}",
            invite_id.simple(),
            URL_SAFE_NO_PAD.encode(&tag[..UNSUBSCRIBE_TAG_BYTES])
        )
    }

    /// The invite an unsubscribe token was made for; `None` for anything this key did not make.
    pub fn unsubscribe_invite(&self, token: &str) -> Option<uuid::Uuid> {
        use hmac::Mac;
        let (id, tag) = token.split_at_checked(32)?;
        let invite_id = uuid::Uuid::try_parse(id).ok()?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        (tag.len() == UNSUBSCRIBE_TAG_BYTES).then_some(())?;
        // Compared in constant time.
        self.unsubscribe_mac(invite_id)
            .verify_truncated_left(&tag)
            .ok()
            .map(|_| invite_id)
    }

    fn unsubscribe_mac(&self, invite_id: uuid::Uuid) -> Hmac<Sha256> {
        use hmac::Mac;
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0)
            .expect("HMAC accepts keys of any length");
        mac.update(b"beckon unsubscribe v1");
        mac.update(invite_id.as_bytes());
        mac
    }

    /// What seals webhook signing secrets at rest: a key derived from this one under its own
    /// label, so it too stays outside the database.
    pub fn webhook_seal(&self) -> super::webhook_secret::SecretSeal {
        super::webhook_secret::SecretSeal::derive(&self.0)
    }

    /// What seals the credentials Beckon presents to an applicant tracking system's API.
    pub fn ats_seal(&self) -> super::seal::Seal {
        super::seal::Seal::derive(&self.0, b"beckon ats credential seal v1")
    }
}

/// A job's public registration token: 256 bits straight from the OS CSPRNG. Unlike invite
/// links it is never sent again, so nothing needs to derive it: shown once, then only its hash
/// (`link_token_hash`) is kept.
pub fn new_public_token() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<TOKEN_BYTES>())
}

/// What starts every enrolment code, so people and scanners recognise one.
pub const ENROLLMENT_PREFIX: &str = "be_";

/// A one-time enrolment code for the browser extension: `be_` and 256 bits from the OS CSPRNG.
/// Only its hash (`enrollment_code_hash`) is kept.
pub fn new_enrollment_code() -> String {
    format!("{ENROLLMENT_PREFIX}{}", new_public_token())
}

/// The code's random part: `be_` is optional. `None` when it can't be a code at all.
pub fn enrollment_code_body(code: &str) -> Option<&str> {
    let code = code.trim();
    // By length, not by prefix: a bare body may itself start with "be_".
    let body = match code.len() {
        46 => code.strip_prefix(ENROLLMENT_PREFIX)?,
        _ => code,
    };
    (body.len() == 43
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
    .then_some(body)
}

/// The stored form of an enrolment code's random part (`enrollment_code_body`).
pub fn enrollment_code_hash(body: &str) -> String {
    sha256_hex(body.as_bytes())
}

/// The stored form of a link token. Looked up by this hash, never by the token.
pub fn link_token_hash(token: &str) -> String {
    sha256_hex(token.as_bytes())
}

/// Whether a string could be a link token at all; anything else is answered as unknown.
pub fn looks_like_link_token(token: &str) -> bool {
    token.len() == 43
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A new API key: `bk_<12 hex>_<43 base64url>`. Returns (full key, prefix, secret hash).
pub fn new_api_key() -> (String, String, String) {
    let prefix = format!(
        "{API_KEY_PREFIX}{}",
        hex::encode(random_bytes::<KEY_PREFIX_BYTES>())
    );
    let secret = URL_SAFE_NO_PAD.encode(random_bytes::<TOKEN_BYTES>());
    let hash = sha256_hex(secret.as_bytes());
    (format!("{prefix}_{secret}"), prefix, hash)
}

/// Splits a presented key into its lookup prefix and its secret.
pub fn split_api_key(key: &str) -> Option<(&str, &str)> {
    let rest = key.strip_prefix(API_KEY_PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    if id.len() != KEY_PREFIX_BYTES * 2 || secret.is_empty() || secret.len() > 64 {
        return None;
    }
    Some((&key[..API_KEY_PREFIX.len() + id.len()], secret))
}

/// Compares a presented secret with a stored hash in constant time.
pub fn secret_matches(secret: &str, stored_hash_hex: &str) -> bool {
    let presented = sha256_hex(secret.as_bytes());
    presented
        .as_bytes()
        .ct_eq(stored_hash_hex.as_bytes())
        .into()
}

/// Idempotency records are found by a hash of (organization, method, request_id) and carry the
/// first answer's secret XORed with a pad derived from the same triple under another label. The
/// request_id never reaches the database, so the database alone cannot recover the secret.
pub struct IdempotencyKey {
    material: Vec<u8>,
}

impl IdempotencyKey {
    pub fn new(org_id: uuid::Uuid, method: &str, request_id: &str) -> Self {
        let mut material = Vec::new();
        material.extend_from_slice(org_id.as_bytes());
        material.extend_from_slice(method.as_bytes());
        material.push(0);
        material.extend_from_slice(request_id.as_bytes());
        Self { material }
    }

    pub fn lookup_hash(&self) -> String {
        hex::encode(self.labelled(b"lookup", 0))
    }

    pub fn seal(&self, secret: &str) -> String {
        hex::encode(self.xor_pad(secret.as_bytes()))
    }

    pub fn unseal(&self, sealed_hex: &str) -> Option<String> {
        let sealed = hex::decode(sealed_hex).ok()?;
        String::from_utf8(self.xor_pad(&sealed)).ok()
    }

    fn labelled(&self, label: &[u8], block: u32) -> [u8; 32] {
        let mut hasher = Sha256::new();
        hasher.update(label);
        hasher.update(block.to_be_bytes());
        hasher.update(&self.material);
        hasher.finalize().into()
    }

    fn xor_pad(&self, data: &[u8]) -> Vec<u8> {
        data.chunks(32)
            .zip(0u32..)
            .flat_map(|(chunk, block)| {
                let pad = self.labelled(b"pad", block);
                chunk
                    .iter()
                    .zip(pad)
                    .map(|(d, p)| d ^ p)
                    .collect::<Vec<_>>()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unsubscribe_token_names_its_invite_and_only_its_key_makes_one() {
        let key = LinkKey::generate();
        let invite = uuid::Uuid::now_v7();
        let token = key.unsubscribe_token(invite);
        assert_eq!(key.unsubscribe_invite(&token), Some(invite));
        assert_eq!(LinkKey::generate().unsubscribe_invite(&token), None);
        let other = uuid::Uuid::now_v7();
        let forged = format!("{}{}", other.simple(), &token[32..]);
        assert_eq!(key.unsubscribe_invite(&forged), None);
        for bad in [
            "",
            "short",
            &token[..40],
            &format!("{token}x"),
            "é".repeat(40).as_str(),
        ] {
            assert_eq!(key.unsubscribe_invite(bad), None, "{bad}");
        }
        // URL-safe as it is.
        assert!(token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    }

    #[test]
    fn link_tokens_are_long_keyed_and_change_with_the_generation() {
        let key = LinkKey::generate();
        let invite = uuid::Uuid::now_v7();
        let a = key.token(invite, 0);
        assert!(looks_like_link_token(&a), "{a}");
        assert_eq!(a, key.token(invite, 0), "re-derivable for a resend");
        assert_ne!(a, key.token(invite, 1), "a reissue makes a new link");
        assert_ne!(
            a,
            LinkKey::generate().token(invite, 0),
            "unguessable without the key"
        );
        assert_ne!(link_token_hash(&a), a);
        let copy = LinkKey::decode(&key.encode()).expect("round trip");
        assert_eq!(copy.token(invite, 3), key.token(invite, 3));
        assert!(LinkKey::decode("short").is_none());
    }

    #[test]
    fn enrollment_codes_are_random_and_found_with_or_without_their_prefix() {
        let code = new_enrollment_code();
        assert!(code.starts_with(ENROLLMENT_PREFIX));
        assert_eq!(code.len(), ENROLLMENT_PREFIX.len() + 43);
        assert_ne!(code, new_enrollment_code());
        let bare = &code[ENROLLMENT_PREFIX.len()..];
        assert_eq!(enrollment_code_body(&code), Some(bare));
        assert_eq!(enrollment_code_body(&format!(" {bare} ")), Some(bare));
        for bad in [
            "",
            "be_",
            "be_short",
            "be_be_",
            &code[..45],
            &format!("{code}A"),
        ] {
            assert_eq!(enrollment_code_body(bad), None, "{bad:?}");
        }
        assert_eq!(
            enrollment_code_body(&format!("be_{}", "a.".repeat(21) + "a")),
            None
        );
    }

    #[test]
    fn public_tokens_are_random_and_shaped_like_link_tokens() {
        let a = new_public_token();
        assert!(looks_like_link_token(&a), "{a}");
        assert_ne!(a, new_public_token());
    }

    #[test]
    fn api_keys_split_and_verify() {
        let (key, prefix, hash) = new_api_key();
        let (found_prefix, secret) = split_api_key(&key).expect("well-formed key");
        assert_eq!(found_prefix, prefix);
        assert!(secret_matches(secret, &hash));
        assert!(!secret_matches("wrong", &hash));
        assert!(split_api_key("bk_short_x").is_none());
        assert!(split_api_key("nope").is_none());
    }

    #[test]
    fn sealed_secrets_open_only_with_the_same_request() {
        let org = uuid::Uuid::now_v7();
        let key = IdempotencyKey::new(org, "CreateInvite", "req-1");
        let sealed = key.seal("a secret longer than thirty-two bytes, to cross a block");
        assert_eq!(
            key.unseal(&sealed).as_deref(),
            Some("a secret longer than thirty-two bytes, to cross a block")
        );
        let other = IdempotencyKey::new(org, "CreateInvite", "req-2");
        assert_ne!(
            other.unseal(&sealed).as_deref(),
            Some("a secret longer than thirty-two bytes, to cross a block")
        );
        assert_ne!(key.lookup_hash(), other.lookup_hash());
    }
}
