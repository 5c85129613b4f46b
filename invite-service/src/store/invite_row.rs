//! How an invite row is written.

pub(crate) fn json_list(items: impl Iterator<Item = String>) -> String {
    serde_json::Value::Array(items.map(serde_json::Value::String).collect()).to_string()
}

/// Reads back a list stored by `json_list`.
pub fn parse_json_list(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}
