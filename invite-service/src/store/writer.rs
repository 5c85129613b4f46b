//! The writer: CreateInvites and counted opens queue to one task, which writes every pending
//! request (up to `MAX_BATCH`) in one transaction of a few multi-row statements and answers each
//! only after the COMMIT. So concurrent writes share their statements and their commit, and an OK
//! still means committed.
//!
//! A request refused by a check (a closed job, a taken external id) writes nothing and is told so;
//! the rest of its batch is written. A statement that fails, or a COMMIT, fails the batch's
//! transaction: then each request of it is written again on its own, in a transaction of its own,
//! so one bad request fails alone.
use std::sync::Arc;

use sea_orm::{DatabaseConnection, TransactionTrait};
use tokio::sync::{mpsc, oneshot};

use super::{
    invites::{self, CreateRequest, InviteWithLink},
    links::{self, OpenOutcome, OpenRequest},
};
use crate::{config::Config, domain::secret::LinkKey, error::ServiceError};

/// Requests per transaction, at most: enough to share one commit among many callers, few enough
/// that each multi-row statement stays far below the databases' limits on bound values.
const MAX_BATCH: usize = 128;

type Answer<T> = oneshot::Sender<Result<T, ServiceError>>;

enum Work {
    Create(Box<CreateRequest>, Answer<InviteWithLink>),
    Open(OpenRequest, Answer<OpenOutcome>),
}

/// The queue to the writer task. The task ends once every `Writer` is dropped.
#[derive(Clone)]
pub struct Writer {
    queue: mpsc::Sender<Work>,
}

/// What the writer task needs to write invites and make their links.
pub(crate) struct Context {
    pub db: DatabaseConnection,
    pub link_key: Arc<LinkKey>,
    pub config: Arc<Config>,
}

impl Context {
    /// The candidate-facing URL of an invite's link at a generation.
    pub fn link_url(&self, invite_id: uuid::Uuid, generation: i32) -> String {
        self.config
            .link_url(&self.link_key.token(invite_id, generation))
    }
}

impl Writer {
    /// Starts the writer task on `context.db` (SQLite's single writer connection, or the
    /// PostgreSQL pool).
    pub(crate) fn spawn(context: Context) -> Self {
        let (queue, requests) = mpsc::channel(MAX_BATCH * 8);
        tokio::spawn(run(context, requests));
        Self { queue }
    }

    pub(crate) async fn create_invite(
        &self,
        request: CreateRequest,
    ) -> Result<InviteWithLink, ServiceError> {
        self.submit(|answer| Work::Create(Box::new(request), answer))
            .await
    }

    pub(crate) async fn record_open(
        &self,
        request: OpenRequest,
    ) -> Result<OpenOutcome, ServiceError> {
        self.submit(|answer| Work::Open(request, answer)).await
    }

    async fn submit<T>(&self, work: impl FnOnce(Answer<T>) -> Work) -> Result<T, ServiceError> {
        let (answer, answered) = oneshot::channel();
        let stopped = || ServiceError::Unavailable(anyhow::anyhow!("the writer task has stopped"));
        self.queue.send(work(answer)).await.map_err(|_| stopped())?;
        answered.await.map_err(|_| stopped())?
    }
}

async fn run(context: Context, mut queue: mpsc::Receiver<Work>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        write(&context, std::mem::take(&mut batch)).await;
    }
}

/// Writes one batch and answers every request in it.
async fn write(context: &Context, batch: Vec<Work>) {
    let mut creates = Vec::new();
    let mut opens = Vec::new();
    for work in batch {
        match work {
            Work::Create(request, answer) => creates.push((request, answer)),
            Work::Open(request, answer) => opens.push((request, answer)),
        }
    }
    // A request id met earlier in the batch is a retry racing its first call: it runs once that
    // call is committed, and replays its answer.
    let (creates, repeats) = invites::split_repeats(creates, |(request, _)| request);
    let create_requests: Vec<&CreateRequest> = creates.iter().map(|(r, _)| &**r).collect();
    let open_requests: Vec<&OpenRequest> = opens.iter().map(|(r, _)| r).collect();

    match write_together(context, &create_requests, &open_requests).await {
        Ok((created, opened)) => {
            for ((request, answer), result) in creates.into_iter().zip(created) {
                let result = match result {
                    Err(err) if request.worth_retrying(&err) => {
                        create_alone(context, &request).await
                    }
                    other => other,
                };
                let _ = answer.send(result);
            }
            for ((_, answer), outcome) in opens.into_iter().zip(opened) {
                let _ = answer.send(Ok(outcome));
            }
        }
        Err(Failure::Statement(err)) => {
            tracing::debug!(error = %format!("{err:#}"), "a batch failed; writing its requests one by one");
            for (request, answer) in creates {
                let _ = answer.send(create_alone(context, &request).await);
            }
            for (request, answer) in opens {
                let _ = answer.send(open_alone(context, &request).await);
            }
        }
        // No transaction, or a COMMIT that failed (and may yet have happened): writing again
        // could write twice, so every caller hears of it and may retry with its request id.
        Err(Failure::Transaction(err)) => {
            for (_, answer) in creates {
                let _ = answer.send(Err(copy(&err)));
            }
            for (_, answer) in opens {
                let _ = answer.send(Err(copy(&err)));
            }
        }
    }
    for (request, answer) in repeats {
        let _ = answer.send(create_alone(context, &request).await);
    }
}

enum Failure {
    /// A statement failed: nothing of the batch was written.
    Statement(ServiceError),
    /// BEGIN or COMMIT failed.
    Transaction(ServiceError),
}

/// Each create's own outcome, and each open's.
type Written = (Vec<Result<InviteWithLink, ServiceError>>, Vec<OpenOutcome>);

/// The whole batch in one transaction.
async fn write_together(
    context: &Context,
    creates: &[&CreateRequest],
    opens: &[&OpenRequest],
) -> Result<Written, Failure> {
    let txn = context
        .db
        .begin()
        .await
        .map_err(|err| Failure::Transaction(err.into()))?;
    let created = invites::create_many(&txn, context, creates)
        .await
        .map_err(Failure::Statement)?;
    let opened = links::record_opens(&txn, opens)
        .await
        .map_err(Failure::Statement)?;
    txn.commit()
        .await
        .map_err(|err| Failure::Transaction(err.into()))?;
    Ok((created, opened))
}

/// The same failure for each caller of a batch; the cause's chain is kept for the log.
fn copy(err: &ServiceError) -> ServiceError {
    match err {
        ServiceError::Unavailable(cause) => ServiceError::Unavailable(anyhow::anyhow!("{cause:#}")),
        ServiceError::Internal(cause) => ServiceError::Internal(anyhow::anyhow!("{cause:#}")),
        other => ServiceError::Internal(anyhow::anyhow!("{other:#}")),
    }
}

/// One CreateInvite in a transaction of its own, run again once if it lost a race.
async fn create_alone(
    context: &Context,
    request: &CreateRequest,
) -> Result<InviteWithLink, ServiceError> {
    let once = || async {
        let txn = context.db.begin().await?;
        let result = invites::create_many(&txn, context, &[request])
            .await?
            .pop()
            .ok_or_else(|| ServiceError::Internal(anyhow::anyhow!("a create went unanswered")))?;
        if result.is_ok() {
            txn.commit().await?;
        }
        result
    };
    match once().await {
        Err(err) if request.worth_retrying(&err) => once().await,
        other => other,
    }
}

async fn open_alone(context: &Context, request: &OpenRequest) -> Result<OpenOutcome, ServiceError> {
    let txn = context.db.begin().await?;
    let outcome = links::record_opens(&txn, &[request])
        .await?
        .pop()
        .ok_or_else(|| ServiceError::Internal(anyhow::anyhow!("an open went unanswered")))?;
    txn.commit().await?;
    Ok(outcome)
}
