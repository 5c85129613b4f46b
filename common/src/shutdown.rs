//! What stops a service: SIGTERM (an orchestrator) or SIGINT (Ctrl-C).

use std::future::Future;

use tokio::signal::unix::{signal, SignalKind};

/// Resolves at the first SIGTERM or SIGINT. The handlers are installed when this is called, not
/// when it is first awaited: call it before the service says it is up, so that a SIGTERM right
/// after that stops it gracefully instead of killing it.
pub fn on_signal() -> impl Future<Output = ()> {
    let terminate = signal(SignalKind::terminate());
    let interrupt = signal(SignalKind::interrupt());
    async move {
        match (terminate, interrupt) {
            (Ok(mut terminate), Ok(mut interrupt)) => {
                tokio::select! {
                    _ = terminate.recv() => {}
                    _ = interrupt.recv() => {}
                }
            }
            // No handler could be installed: the default actions stop the process.
            _ => std::future::pending::<()>().await,
        }
        tracing::info!("shutting down");
    }
}
