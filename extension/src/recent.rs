//! The popup's list of recent links, kept in the extension's storage: newest first, one entry per
//! invite, at most `LIMIT`, and the statuses of the newest refreshed when the popup opens.
use serde::{Deserialize, Serialize};

/// How many links the list keeps.
pub const LIMIT: usize = 20;
/// How many of the newest get their status refreshed when the popup opens.
pub const REFRESHED: usize = 10;

/// One link as stored. Fields added later default, so older stored entries still read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RecentLink {
    pub invite_id: String,
    /// Kept so the link can be copied or inserted again: it stays in this browser's extension
    /// storage, like the API key.
    pub link: String,
    pub job_title: String,
    pub candidate_name: String,
    pub candidate_email: String,
    pub external_id: String,
    /// The second line: the job, and the application id if any.
    pub job_line: String,
    pub status: String,
    /// Milliseconds since the epoch.
    pub created_at: f64,
}

/// The list with `entry` on top (replacing an older entry of the same invite), cut to `LIMIT`.
pub fn with_new(recent: Vec<RecentLink>, entry: RecentLink) -> Vec<RecentLink> {
    let mut next = Vec::with_capacity(LIMIT);
    let others: Vec<_> = recent
        .into_iter()
        .filter(|old| old.invite_id != entry.invite_id)
        .collect();
    next.push(entry);
    next.extend(others);
    next.truncate(LIMIT);
    next
}

/// The invites whose status the popup asks for when it opens.
pub fn to_refresh(recent: &[RecentLink]) -> Vec<String> {
    recent
        .iter()
        .take(REFRESHED)
        .map(|r| r.invite_id.clone())
        .collect()
}

/// The list with the statuses just fetched (`(invite id, status word)`); others unchanged.
pub fn with_statuses(
    mut recent: Vec<RecentLink>,
    statuses: &[(String, String)],
) -> Vec<RecentLink> {
    for entry in &mut recent {
        if let Some((_, status)) = statuses.iter().find(|(id, _)| *id == entry.invite_id) {
            entry.status.clone_from(status);
        }
    }
    recent
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(id: &str) -> RecentLink {
        RecentLink {
            invite_id: id.into(),
            status: "invited".into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_new_link_goes_on_top_and_the_list_keeps_twenty() {
        let full: Vec<_> = (0..LIMIT).map(|i| link(&i.to_string())).collect();
        let next = with_new(full, link("new"));
        assert_eq!(next.len(), LIMIT);
        assert_eq!(next[0].invite_id, "new");
        assert_eq!(next[LIMIT - 1].invite_id, (LIMIT - 2).to_string());
    }

    #[test]
    fn the_same_invite_is_listed_once() {
        let next = with_new(vec![link("a"), link("b")], link("b"));
        let ids: Vec<_> = next.iter().map(|r| r.invite_id.as_str()).collect();
        assert_eq!(ids, ["b", "a"]);
    }

    #[test]
    fn the_newest_ten_are_refreshed_and_fetched_statuses_applied() {
        let list: Vec<_> = (0..15).map(|i| link(&i.to_string())).collect();
        assert_eq!(to_refresh(&list).len(), REFRESHED);
        let updated = with_statuses(list, &[("3".into(), "opened".into())]);
        assert_eq!(updated[3].status, "opened");
        assert_eq!(updated[4].status, "invited");
    }

    #[test]
    fn entries_stored_by_older_versions_still_read() {
        let old: RecentLink =
            serde_json::from_str(r#"{"inviteId":"x","link":"https://b/i/t","status":"opened"}"#)
                .expect("reads");
        assert_eq!(old.job_line, "");
        assert_eq!(old.status, "opened");
    }
}
