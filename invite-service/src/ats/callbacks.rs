//! The loop that calls applicant tracking systems back: Greenhouse's bodiless `PATCH` to the
//! URL it gave when an interview is complete, Ashby's `assessment.update` on every change.
//! Each call is an outbox row (`store::ats::callbacks`), sent through the webhook client
//! (the same destination rules, timeout and no redirects) until the ATS answers 2xx, each
//! invite's calls in order: on the webhook schedule (`webhook_retry_schedule`), then at its
//! last wait for as long as it takes. An ATS's contract has no way to ask again for what it
//! missed, so a call is never given up.
use std::{sync::Arc, time::Duration};

use base64::{engine::general_purpose::STANDARD, Engine};
use beckon_common::progress::Progress;
use futures::StreamExt;
use reqwest::{
    header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE},
    Method,
};
use tokio::{sync::watch, task::JoinHandle};
use url::Url;

use crate::{
    domain::ats::Ats,
    error::ServiceError,
    store::{
        ats::callbacks::{self, CallbackAttempt, DueCallback},
        now, Store,
    },
    webhooks::{AttemptResult, RetrySchedule, Sender},
};

/// Calls taken per round.
const BATCH: u64 = 64;
/// Calls under way at once.
const CONCURRENCY: usize = 8;
/// An attempt's error, kept for the admins' list: one short line.
const ERROR_CHARS: usize = 300;

/// What one round did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Round {
    pub attempted: usize,
    pub delivered: usize,
}

/// Sends the calls back. One per process.
pub struct AtsCallbacks {
    store: Store,
    sender: Sender,
    schedule: RetrySchedule,
    ashby_update: Url,
    interval: Duration,
    /// How long a taken call stays held: longer than a round of attempts can take.
    lease: chrono::Duration,
    progress: Progress,
}

impl AtsCallbacks {
    pub fn new(store: Store, progress: Progress) -> anyhow::Result<Self> {
        let config = store.config.clone();
        let policy = config
            .webhook_destinations()
            .map_err(|problem| anyhow::anyhow!("webhook_allowed_networks {problem}"))?;
        let timeout = Duration::from_millis(config.webhook_timeout_ms);
        let ashby_update = Url::parse(&config.ashby_api_url)
            .and_then(|base| base.join("assessment.update"))
            .map_err(|err| anyhow::anyhow!("ashby_api_url: {err}"))?;
        let waves = i32::try_from(BATCH.div_ceil(CONCURRENCY as u64)).unwrap_or(i32::MAX);
        Ok(Self {
            sender: Sender::new(policy, timeout)?,
            schedule: config
                .webhook_retries()
                .map_err(|problem| anyhow::anyhow!("webhook_retry_schedule {problem}"))?,
            ashby_update,
            interval: Duration::from_millis(config.webhook_interval_ms),
            lease: chrono::Duration::from_std(timeout)? * waves + chrono::Duration::seconds(5),
            progress,
            store,
        })
    }

    /// Runs rounds until `stop`: at once while there is work, else every `webhook_interval_ms`.
    pub fn spawn(self: Arc<Self>, mut stop: watch::Receiver<bool>) -> JoinHandle<()> {
        tokio::spawn(async move {
            while !*stop.borrow() {
                let busy = match self.run_round().await {
                    Ok(round) => round.attempted as u64 == BATCH,
                    Err(err) => {
                        if err.is_unavailable() {
                            tracing::debug!(error = ?err, "ATS callback round failed; retrying");
                        } else {
                            tracing::warn!(error = ?err, "ATS callback round failed; retrying");
                        }
                        false
                    }
                };
                if !busy {
                    tokio::select! {
                        _ = tokio::time::sleep(self.interval) => {}
                        _ = stop.changed() => {}
                    }
                }
            }
        })
    }

    /// One round: takes what is due, calls, records each outcome.
    pub async fn run_round(&self) -> Result<Round, ServiceError> {
        let due = callbacks::claim_due(&self.store, BATCH, self.lease).await?;
        let attempts: Vec<(DueCallback, CallbackAttempt)> = futures::stream::iter(due)
            .map(|callback| async move {
                let result = self.call(&callback).await;
                let attempt = self.outcome(&callback, result);
                (callback, attempt)
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        let mut round = Round::default();
        for (callback, attempt) in attempts {
            round.attempted += 1;
            match &attempt {
                CallbackAttempt::Delivered { .. } => round.delivered += 1,
                CallbackAttempt::NotTaken {
                    response_status,
                    error,
                    ..
                } => tracing::info!(
                    invite_id = %callback.invite_id,
                    ats = callback.ats.name(),
                    status = ?response_status,
                    error,
                    "ATS callback not taken"
                ),
            }
            callbacks::record(&self.store, &callback, attempt).await?;
        }
        if round.attempted > 0 {
            self.progress.advance();
        }
        Ok(round)
    }

    /// One attempt: the request each ATS's contract describes.
    async fn call(&self, callback: &DueCallback) -> Result<AttemptResult, String> {
        let Some(key) = &callback.credential else {
            return Err(match callback.ats {
                Ats::Ashby => "the organization has no Ashby API key (invitectl ats set-key ashby)",
                Ats::Greenhouse => "the key Greenhouse presented with send_test is not kept",
            }
            .into());
        };
        let mut headers = HeaderMap::new();
        let basic = format!("Basic {}", STANDARD.encode(format!("{key}:")));
        let mut authorization =
            HeaderValue::from_str(&basic).map_err(|_| "the key is not valid in a header")?;
        authorization.set_sensitive(true);
        headers.insert(AUTHORIZATION, authorization);
        let result = match callback.ats {
            Ats::Greenhouse => {
                let url = Url::parse(&callback.callback_url)
                    .map_err(|err| format!("the callback URL does not parse: {err}"))?;
                self.sender.send(Method::PATCH, &url, headers, None).await
            }
            Ats::Ashby => {
                headers.insert(
                    ACCEPT,
                    HeaderValue::from_static("application/json; version=1"),
                );
                headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                let body = super::ashby::update_body(callback).to_string().into_bytes();
                self.sender
                    .send(Method::POST, &self.ashby_update, headers, Some(body))
                    .await
            }
        };
        Ok(result)
    }

    /// Delivered on a 2xx (for Ashby, one that does not say `"success": false`); otherwise
    /// tried again on the schedule, then at its last wait.
    fn outcome(
        &self,
        callback: &DueCallback,
        result: Result<AttemptResult, String>,
    ) -> CallbackAttempt {
        let (response_status, error, retry_after) = match result {
            Err(error) => (None, error, None),
            Ok(result) => {
                let refused_by_ashby = callback.ats == Ats::Ashby
                    && serde_json::from_str::<serde_json::Value>(&result.response_excerpt)
                        .is_ok_and(|answer| answer["success"] == serde_json::Value::Bool(false));
                if result.succeeded() && !refused_by_ashby {
                    return CallbackAttempt::Delivered {
                        response_status: result.status,
                    };
                }
                let error = match (&result.error, refused_by_ashby) {
                    (Some(error), _) => error.clone(),
                    (None, true) => format!("Ashby refused it: {}", result.response_excerpt),
                    (None, false) => format!(
                        "answered {}: {}",
                        result.status.unwrap_or(0),
                        result.response_excerpt
                    ),
                };
                (result.status, error, result.retry_after)
            }
        };
        let attempts_made =
            u32::try_from(callback.attempt_count.saturating_add(1)).unwrap_or(u32::MAX);
        let delay = self
            .schedule
            .next_delay(attempts_made, retry_after)
            .or_else(|| {
                let last = self.schedule.delays().last().copied()?;
                Some(last.max(retry_after.unwrap_or(Duration::ZERO)))
            })
            .unwrap_or(Duration::from_secs(3600));
        let delay = chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::hours(1));
        CallbackAttempt::NotTaken {
            response_status,
            error: error.chars().take(ERROR_CHARS).collect(),
            retry_at: now() + delay,
        }
    }
}
