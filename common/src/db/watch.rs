//! Watches whether the database can be reached, so that health checks and the log follow an
//! outage as a whole instead of call by call.
use std::{future::Future, time::Duration};

use sea_orm::DatabaseConnection;
use tokio::{sync::watch, task::JoinHandle, time::Instant};

/// Failed pings in a row that make an outage.
const FAILURES_FOR_AN_OUTAGE: u32 = 2;

/// Pings `db` every `interval` (a ping unanswered within `timeout` fails) and calls
/// `on_change(reachable)` each time reachability changes. Two failed pings in a row make an
/// outage: one slow ping through a busy pool does not. It logs one warning when the database
/// (named in the log by `name`, see `describe`) is lost and one line when it is back, however
/// many calls meet the outage. Ends when `stop` turns true or its sender is dropped.
pub fn spawn_watcher<F, Fut>(
    db: DatabaseConnection,
    name: String,
    interval: Duration,
    timeout: Duration,
    mut stop: watch::Receiver<bool>,
    mut on_change: F,
) -> JoinHandle<()>
where
    F: FnMut(bool) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    tokio::spawn(async move {
        let mut down_since: Option<Instant> = None;
        let mut failed_in_a_row = 0u32;
        while !*stop.borrow() {
            let ping = match tokio::time::timeout(timeout, db.ping()).await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(err)) => Err(err.to_string()),
                Err(_) => Err(format!("no answer within {} ms", timeout.as_millis())),
            };
            failed_in_a_row = if ping.is_err() {
                failed_in_a_row + 1
            } else {
                0
            };
            match (down_since, ping) {
                (None, Err(error)) if failed_in_a_row >= FAILURES_FOR_AN_OUTAGE => {
                    tracing::warn!(
                        database = %name,
                        %error,
                        "the database cannot be reached; calls answer UNAVAILABLE and health \
                         NOT_SERVING until it is back"
                    );
                    down_since = Some(Instant::now());
                    on_change(false).await;
                }
                (Some(since), Ok(())) => {
                    tracing::info!(
                        database = %name,
                        down_for_secs = since.elapsed().as_secs(),
                        "the database is reachable again"
                    );
                    down_since = None;
                    on_change(true).await;
                }
                _ => {}
            }
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                changed = stop.changed() => if changed.is_err() { break },
            }
        }
    })
}
