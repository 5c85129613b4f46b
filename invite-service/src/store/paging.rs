//! AIP-158 page tokens: opaque to clients, tied to the filter they were made for.
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use uuid::Uuid;

use crate::domain::{secret::sha256_hex, validate::Violations};

/// A validated page request: how many rows, and after which id.
#[derive(Clone, Debug)]
pub struct Page {
    pub size: u64,
    pub after: Option<Uuid>,
    filter: String,
}

impl Page {
    /// `filter` describes the list's other parameters; a token made for another filter is refused.
    pub fn parse(v: &mut Violations, page_size: i32, page_token: &str, filter: String) -> Self {
        let size = v.page_size(page_size);
        let after = if page_token.is_empty() {
            None
        } else {
            let decoded = URL_SAFE_NO_PAD
                .decode(page_token)
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .and_then(|text| {
                    let (id, fingerprint) = text.split_once('.')?;
                    Some((Uuid::parse_str(id).ok()?, fingerprint.to_string()))
                });
            match decoded {
                Some((id, fingerprint)) if fingerprint == fingerprint_of(&filter) => Some(id),
                Some(_) => {
                    v.add(
                        "page_token",
                        "was made for a list with other filters; start again without a page_token",
                    );
                    None
                }
                None => {
                    v.add("page_token", "is not a page token returned by this API");
                    None
                }
            }
        };
        Self {
            size,
            after,
            filter,
        }
    }

    /// Rows are fetched one past the page size; if the extra row came back, there is a next page.
    pub fn fetch_limit(&self) -> u64 {
        self.size + 1
    }

    /// Trims the extra row and returns the token for the next page, or "".
    pub fn finish<T>(&self, rows: &mut Vec<T>, id_of: impl Fn(&T) -> Uuid) -> String {
        if rows.len() as u64 <= self.size {
            return String::new();
        }
        rows.truncate(self.size as usize);
        match rows.last() {
            Some(last) => {
                URL_SAFE_NO_PAD.encode(format!("{}.{}", id_of(last), fingerprint_of(&self.filter)))
            }
            None => String::new(),
        }
    }
}

fn fingerprint_of(filter: &str) -> String {
    sha256_hex(filter.as_bytes())[..16].to_string()
}
