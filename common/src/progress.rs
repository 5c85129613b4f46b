//! A count of the rounds of background work that wrote something, so that whoever waits for
//! their effect (the end-to-end tests) wakes when there may be one to see, instead of polling.
use std::sync::Arc;

use tokio::sync::watch;

#[derive(Clone)]
pub struct Progress(Arc<watch::Sender<u64>>);

impl Progress {
    pub fn new() -> Self {
        Self(Arc::new(watch::channel(0).0))
    }

    /// A receiver that sees every round from now on.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.0.subscribe()
    }

    /// A round wrote something.
    pub fn advance(&self) {
        self.0
            .send_modify(|rounds| *rounds = rounds.wrapping_add(1));
    }
}

impl Default for Progress {
    fn default() -> Self {
        Self::new()
    }
}
