//! AIP-158 page tokens: opaque to clients, tied to the filter they were made for.
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
pub use beckon_common::paging::Order;
use sea_orm::{ConnectionTrait, EntityTrait, Select};
use uuid::Uuid;

use crate::{
    domain::{secret::sha256_hex, validate::Violations},
    error::ServiceError,
};

/// A validated page request: how many rows, and after which id.
#[derive(Clone, Debug)]
pub struct Page {
    size: u64,
    after: Option<Uuid>,
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

    /// This page of `query`, keyed by the rows' `id` column (UUIDv7: ascending is oldest
    /// first), and the token for the next page, or "".
    pub(crate) async fn fetch<E: EntityTrait>(
        &self,
        db: &impl ConnectionTrait,
        query: Select<E>,
        id: E::Column,
        order: Order,
        id_of: impl Fn(&E::Model) -> Uuid,
    ) -> Result<(Vec<E::Model>, String), ServiceError> {
        let (rows, last) =
            beckon_common::paging::fetch(db, query, id, order, self.after, self.size, id_of)
                .await?;
        let next = last
            .map(|id| URL_SAFE_NO_PAD.encode(format!("{id}.{}", fingerprint_of(&self.filter))))
            .unwrap_or_default();
        Ok((rows, next))
    }
}

fn fingerprint_of(filter: &str) -> String {
    sha256_hex(filter.as_bytes())[..16].to_string()
}
