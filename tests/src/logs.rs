//! Keeps the log lines of this test process at INFO and above, so a test can count what the
//! services logged (e.g. that an outage is reported once, not once per call).
use std::{
    fmt::Write as _,
    sync::{Mutex, MutexGuard, OnceLock},
};

use tracing::{
    field::{Field, Visit},
    Event, Level, Subscriber,
};
use tracing_subscriber::{
    filter::LevelFilter,
    layer::{Context, SubscriberExt},
    Layer, Registry,
};

#[derive(Clone, Debug)]
pub struct LogLine {
    pub level: Level,
    pub target: String,
    /// The message and every field, as `message key=value …`.
    pub text: String,
}

static LINES: Mutex<Vec<LogLine>> = Mutex::new(Vec::new());
static INSTALLED: OnceLock<()> = OnceLock::new();

fn lines_guard() -> MutexGuard<'static, Vec<LogLine>> {
    LINES
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Starts keeping log lines (once per process: it installs the global subscriber).
pub fn capture() {
    INSTALLED.get_or_init(|| {
        let subscriber = Registry::default().with(Recorder.with_filter(LevelFilter::INFO));
        tracing::subscriber::set_global_default(subscriber)
            .expect("no other global subscriber in the test process");
    });
}

/// Every line kept so far, oldest first.
pub fn lines() -> Vec<LogLine> {
    lines_guard().clone()
}

struct Recorder;

impl<S: Subscriber> Layer<S> for Recorder {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let mut text = String::new();
        event.record(&mut Fields(&mut text));
        lines_guard().push(LogLine {
            level: *event.metadata().level(),
            target: event.metadata().target().to_string(),
            text,
        });
    }
}

struct Fields<'a>(&'a mut String);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = if field.name() == "message" {
            write!(self.0, "{value:?}")
        } else {
            write!(self.0, " {}={value:?}", field.name())
        };
    }
}
