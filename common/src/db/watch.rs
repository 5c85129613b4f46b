//! Watches whether the database can be reached, so that health checks and the log follow an
//! outage as a whole instead of call by call.
use std::{future::Future, time::Duration};

use sea_orm::DatabaseConnection;
use tokio::{sync::watch, task::JoinHandle};

/// Pings `db` every `interval` (a ping unanswered within `timeout` fails) and calls
/// `on_change(reachable)` each time reachability changes (`reachability::spawn_watcher`: two
/// failed pings make an outage, logged once). Ends when `stop` turns true or its sender is
/// dropped.
pub fn spawn_watcher<F, Fut>(
    db: DatabaseConnection,
    name: String,
    interval: Duration,
    timeout: Duration,
    stop: watch::Receiver<bool>,
    on_change: F,
) -> JoinHandle<()>
where
    F: FnMut(bool) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    crate::reachability::spawn_watcher(
        crate::reachability::Watched {
            what: "the database",
            consequence: "calls answer UNAVAILABLE and health is NOT_SERVING",
            name,
            interval,
            timeout,
        },
        stop,
        move || {
            let db = db.clone();
            async move { db.ping().await.map_err(|err| err.to_string()) }
        },
        on_change,
    )
}
