//! Sealing a delivery's template variables: they carry the candidate's secret link, and the
//! database must not reveal it. Variables are sealed with XChaCha20-Poly1305 under a key kept
//! outside the database (`seal_keys`, or `data_dir/seal-keys`, made on first start), opened only
//! to render the message, and erased at the final outcome.
//!
//! Keys form a ring: the first seals, every listed key opens. A sealed value names its key by
//! an id derived from the key itself, so rotation is: put a new key first, keep the old ones
//! listed until the messages sealed with them are final, then drop them.
use std::{collections::BTreeMap, path::Path};

use anyhow::Context;
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use chacha20poly1305::{
    aead::{Aead, KeyInit, Payload},
    XChaCha20Poly1305, XNonce,
};
use sha2::{Digest, Sha256};

const KEY_BYTES: usize = 32;
const NONCE_BYTES: usize = 24;
/// Sealed values start with this, then `<key id>:<base64url(nonce ‖ ciphertext)>`.
const SEALED_PREFIX: &str = "sealed:v1:";
/// The file in `data_dir` that holds the keys when `seal_keys` is not set.
pub const KEY_FILE: &str = "seal-keys";

/// One key and the id sealed values name it by.
struct SealKey {
    id: String,
    cipher: XChaCha20Poly1305,
}

impl SealKey {
    fn decode(text: &str) -> Option<Self> {
        let bytes: [u8; KEY_BYTES] = URL_SAFE_NO_PAD.decode(text).ok()?.try_into().ok()?;
        let mut digest = Sha256::new();
        digest.update(b"beckon seal key id v1");
        digest.update(bytes);
        Some(Self {
            id: hex::encode(&digest.finalize()[..4]),
            cipher: XChaCha20Poly1305::new(&bytes.into()),
        })
    }
}

/// The keys variables are sealed and opened with: the first seals, all open.
pub struct SealRing {
    keys: Vec<SealKey>,
}

/// Why sealed variables could not be opened.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum OpenError {
    #[error(
        "the variables were sealed with key {0}, which is not among the seal keys \
         (every replica needs the same seal_keys; keep old keys listed until their messages are final)"
    )]
    UnknownKey(String),
    #[error("the sealed variables are damaged or were sealed for another message")]
    Damaged,
}

impl SealRing {
    /// Reads keys written by `generate_key`, separated by commas, spaces or new lines.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let keys = text
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|part| !part.is_empty())
            .enumerate()
            .map(|(index, part)| {
                SealKey::decode(part)
                    .with_context(|| format!("seal key {} is not 32 bytes of base64url", index + 1))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        anyhow::ensure!(!keys.is_empty(), "no seal key is given");
        Ok(Self { keys })
    }

    /// The configured keys, or the ones kept in `data_dir` (a first key is made on first start).
    pub fn load(configured: Option<&str>, data_dir: &Path) -> anyhow::Result<Self> {
        if let Some(text) = configured {
            return Self::parse(text).context("seal_keys");
        }
        let path = data_dir.join(KEY_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => Self::parse(&text)
                .with_context(|| format!("{} does not hold seal keys", path.display())),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir_all(data_dir)
                    .with_context(|| format!("creating the data folder {}", data_dir.display()))?;
                let key = generate_key()?;
                write_private(&path, &format!("{key}\n"))
                    .with_context(|| format!("writing {}", path.display()))?;
                tracing::info!(path = %path.display(), "made a new seal key");
                Self::parse(&key)
            }
            Err(err) => Err(err).with_context(|| format!("reading {}", path.display())),
        }
    }

    /// Seals `variables` for the message known by `context` (its idempotency key): a sealed
    /// value opens only for that message.
    pub fn seal(
        &self,
        variables: &BTreeMap<String, String>,
        context: &str,
    ) -> anyhow::Result<String> {
        let key = &self.keys[0];
        let plain = serde_json::to_vec(variables).context("encoding the variables")?;
        let mut nonce = [0u8; NONCE_BYTES];
        getrandom::fill(&mut nonce)
            .map_err(|e| anyhow::anyhow!("no randomness for a nonce: {e}"))?;
        let sealed = key
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &plain,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| anyhow::anyhow!("sealing the variables failed"))?;
        let mut body = nonce.to_vec();
        body.extend_from_slice(&sealed);
        Ok(format!(
            "{SEALED_PREFIX}{}:{}",
            key.id,
            URL_SAFE_NO_PAD.encode(body)
        ))
    }

    /// Opens what `seal` made for the same `context`. Variables stored before sealing existed
    /// (plain JSON) are read as they are; erased ones (`{}`) are empty.
    pub fn open(&self, stored: &str, context: &str) -> Result<BTreeMap<String, String>, OpenError> {
        let Some(rest) = stored.strip_prefix(SEALED_PREFIX) else {
            return serde_json::from_str(stored).map_err(|_| OpenError::Damaged);
        };
        let (id, body) = rest.split_once(':').ok_or(OpenError::Damaged)?;
        let key = self
            .keys
            .iter()
            .find(|key| key.id == id)
            .ok_or_else(|| OpenError::UnknownKey(id.to_string()))?;
        let body = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| OpenError::Damaged)?;
        if body.len() < NONCE_BYTES {
            return Err(OpenError::Damaged);
        }
        let (nonce, sealed) = body.split_at(NONCE_BYTES);
        let plain = key
            .cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| OpenError::Damaged)?;
        serde_json::from_slice(&plain).map_err(|_| OpenError::Damaged)
    }
}

/// A new key from the OS CSPRNG, as `seal_keys` and the key file hold it.
pub fn generate_key() -> anyhow::Result<String> {
    let mut bytes = [0u8; KEY_BYTES];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness for a key: {e}"))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// Writes a new file only its owner can read.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variables() -> BTreeMap<String, String> {
        BTreeMap::from([(
            "link".to_string(),
            "https://beckon.example/i/secret-token".to_string(),
        )])
    }

    #[test]
    fn sealed_variables_hide_the_link_and_open_only_for_their_message() {
        let ring = SealRing::parse(&generate_key().expect("key")).expect("works");
        let sealed = ring.seal(&variables(), "message-1").expect("works");
        assert!(!sealed.contains("secret-token"));
        assert_eq!(ring.open(&sealed, "message-1"), Ok(variables()));
        assert_eq!(ring.open(&sealed, "message-2"), Err(OpenError::Damaged));
        assert_ne!(sealed, ring.seal(&variables(), "message-1").expect("works"));
    }

    #[test]
    fn after_rotation_old_messages_open_and_new_ones_use_the_new_key() {
        let (old, new) = (generate_key().expect("key"), generate_key().expect("key"));
        let before = SealRing::parse(&old).expect("works");
        let sealed_before = before.seal(&variables(), "m").expect("works");
        let after = SealRing::parse(&format!("{new}, {old}")).expect("works");
        assert_eq!(after.open(&sealed_before, "m"), Ok(variables()));
        let sealed_after = after.seal(&variables(), "m").expect("works");
        assert!(matches!(
            before.open(&sealed_after, "m"),
            Err(OpenError::UnknownKey(_))
        ));
        let dropped = SealRing::parse(&new).expect("works");
        assert!(matches!(
            dropped.open(&sealed_before, "m"),
            Err(OpenError::UnknownKey(_))
        ));
    }

    #[test]
    fn bad_keys_are_refused_and_plain_or_erased_variables_still_read() {
        assert!(SealRing::parse("").is_err());
        assert!(SealRing::parse("not-a-key").is_err());
        let ring = SealRing::parse(&generate_key().expect("key")).expect("works");
        assert_eq!(ring.open("{}", "m"), Ok(BTreeMap::new()));
        assert_eq!(
            ring.open(r#"{"link":"https://beckon.example/i/secret-token"}"#, "m"),
            Ok(variables())
        );
    }

    #[test]
    fn the_key_file_is_made_once_and_kept() {
        let dir = tempfile::tempdir().expect("works");
        let first = SealRing::load(None, dir.path()).expect("works");
        let sealed = first.seal(&variables(), "m").expect("works");
        let again = SealRing::load(None, dir.path()).expect("works");
        assert_eq!(again.open(&sealed, "m"), Ok(variables()));
    }
}
