//! Keyset paging, for every list both services answer: a page is the rows after the last one
//! the client saw, in key order, fetched one past the page size to learn whether more follow.
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select,
    Value,
};

/// Which way a list runs through its key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    /// Oldest first, for keys that grow with time (UUIDv7), or A to Z.
    Ascending,
    /// Newest first.
    Descending,
}

/// Up to `size` rows of `query` past `after` in `order` of the `key` column, and the key of
/// the last row when another page follows.
pub async fn fetch<E, K>(
    db: &impl ConnectionTrait,
    query: Select<E>,
    key: E::Column,
    order: Order,
    after: Option<K>,
    size: u64,
    key_of: impl Fn(&E::Model) -> K,
) -> Result<(Vec<E::Model>, Option<K>), DbErr>
where
    E: EntityTrait,
    K: Into<Value>,
{
    let mut query = query.limit(size + 1);
    query = match order {
        Order::Ascending => query.order_by_asc(key),
        Order::Descending => query.order_by_desc(key),
    };
    if let Some(after) = after {
        query = match order {
            Order::Ascending => query.filter(key.gt(after)),
            Order::Descending => query.filter(key.lt(after)),
        };
    }
    let mut rows = query.all(db).await?;
    if rows.len() as u64 <= size {
        return Ok((rows, None));
    }
    rows.truncate(size as usize);
    let last = rows.last().map(key_of);
    Ok((rows, last))
}
