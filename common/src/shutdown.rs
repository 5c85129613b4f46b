//! What stops a service: SIGTERM (an orchestrator) or SIGINT (Ctrl-C).

use std::future::Future;

/// Resolves at the first SIGTERM or SIGINT. The handlers are installed when this is called, not
/// when it is first awaited: call it before the service starts serving, so that a SIGTERM at any
/// time after that stops it gracefully instead of killing it.
#[cfg(unix)]
pub fn on_signal() -> impl Future<Output = ()> {
    use tokio::signal::unix::{signal, SignalKind};
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

/// Resolves at the first Ctrl-C (there is no SIGTERM here).
#[cfg(not(unix))]
pub fn on_signal() -> impl Future<Output = ()> {
    async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
        tracing::info!("shutting down");
    }
}
