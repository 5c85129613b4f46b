//! Secrets Beckon must use again (not only check) are kept sealed: XChaCha20-Poly1305 under a
//! key derived from the link key, which lives outside the database, so a dump alone opens
//! nothing. Each use has its own label (so one use's sealed text never opens as another's) and
//! binds each sealed value to the row it belongs to (the associated data), so a value copied
//! onto another row does not open.
use base64::{engine::general_purpose::STANDARD, Engine};
use chacha20poly1305::{
    aead::{Aead, KeyInit, Payload},
    XChaCha20Poly1305, XNonce,
};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;

const NONCE_BYTES: usize = 24;
/// A sealed value is `v1.` and base64 of (nonce ‖ ciphertext).
const SEALED_PREFIX: &str = "v1.";

/// Why a sealed value could not be opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unsealed {
    /// Not `v1.`: written by a version that sealed otherwise.
    UnknownFormat,
    /// Damaged, bound to another row, or sealed under another link key.
    WontOpen,
}

/// Seals values of one use, and opens them again.
pub struct Seal {
    cipher: XChaCha20Poly1305,
}

impl Seal {
    /// The seal for the use `label` under `root_key` (the link key's bytes): its key is
    /// HMAC-SHA256(root, label).
    pub(crate) fn derive(root_key: &[u8], label: &[u8]) -> Self {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(root_key)
            .expect("HMAC accepts keys of any length");
        mac.update(label);
        let key: [u8; 32] = mac.finalize().into_bytes().into();
        Self {
            cipher: XChaCha20Poly1305::new(&key.into()),
        }
    }

    /// `v1.` + base64(nonce ‖ ciphertext), bound to `owner`.
    pub fn seal(&self, value: &[u8], owner: Uuid) -> String {
        let mut nonce = [0u8; NONCE_BYTES];
        getrandom::fill(&mut nonce).expect("operating system random number generator failed");
        let sealed = self
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: value,
                    aad: owner.as_bytes(),
                },
            )
            // Encryption fails only for messages of gigabytes; sealed values are short.
            .expect("XChaCha20-Poly1305 seals a short message");
        let mut body = nonce.to_vec();
        body.extend_from_slice(&sealed);
        format!("{SEALED_PREFIX}{}", STANDARD.encode(body))
    }

    /// Opens what `seal` made for the same owner.
    pub fn open(&self, sealed: &str, owner: Uuid) -> Result<Vec<u8>, Unsealed> {
        let encoded = sealed
            .strip_prefix(SEALED_PREFIX)
            .ok_or(Unsealed::UnknownFormat)?;
        let body = STANDARD.decode(encoded).map_err(|_| Unsealed::WontOpen)?;
        if body.len() < NONCE_BYTES {
            return Err(Unsealed::WontOpen);
        }
        let (nonce, ciphertext) = body.split_at(NONCE_BYTES);
        self.cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: owner.as_bytes(),
                },
            )
            .map_err(|_| Unsealed::WontOpen)
    }
}

impl std::fmt::Debug for Seal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Seal(..)")
    }
}
