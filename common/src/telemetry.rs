//! Logs and traces. Every request runs in a span that carries the W3C trace context it came
//! with (`traceparent`, on gRPC and HTTP alike), or a new trace; its `trace_id` is a field of the
//! span, so every log line written while serving it shows it. Work handed on to another service
//! (an outbox row, a queued delivery) keeps the `traceparent` of the span that wrote it, and the
//! span that does the work later continues that trace. With `otlp_endpoint` set, the spans are
//! also exported over OTLP (gRPC) through the OpenTelemetry SDK.
use std::{
    collections::HashMap,
    future::Future,
    pin::Pin,
    task::{Context as TaskContext, Poll},
};

use opentelemetry::{
    propagation::{Extractor, TextMapPropagator},
    trace::{TraceContextExt, TracerProvider as _},
    Context,
};
use opentelemetry_sdk::{propagation::TraceContextPropagator, trace::SdkTracerProvider, Resource};
use tracing::{field::Empty, Instrument, Span};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::{layer::SubscriberExt, util::SubscriberInitExt, EnvFilter};

tokio::task_local! {
    /// The `traceparent` of the request being served, for work it hands on.
    static CURRENT: Option<String>;
}

/// What `init` installed; `shutdown` sends the spans not exported yet.
pub struct Telemetry {
    provider: SdkTracerProvider,
}

impl Telemetry {
    /// Exports what is left (bounded by the exporter's timeout). Call before the process ends.
    pub fn shutdown(self) {
        if let Err(err) = self.provider.shutdown() {
            eprintln!("exporting the last spans: {err}");
        }
    }
}

/// Installs the process's logging (text or JSON lines on stderr, filtered by `RUST_LOG`, else
/// `default_filter`) and its tracer: spans get trace and span ids always, and are exported to
/// `otlp_endpoint` when one is given. Call once, inside the Tokio runtime.
pub fn init(
    service_name: &'static str,
    json: bool,
    default_filter: &str,
    otlp_endpoint: Option<&str>,
) -> anyhow::Result<Telemetry> {
    use std::io::IsTerminal;
    let mut provider = SdkTracerProvider::builder()
        .with_resource(Resource::builder().with_service_name(service_name).build());
    if let Some(endpoint) = otlp_endpoint {
        use opentelemetry_otlp::WithExportConfig;
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint(endpoint)
            .build()?;
        provider = provider.with_batch_exporter(exporter);
    }
    let provider = provider.build();
    let traces = tracing_opentelemetry::layer().with_tracer(provider.tracer(service_name));
    // The request and work spans stay on whatever the filter says: without them no log line
    // would name its trace, and no trace would be handed on or exported.
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| default_filter.into())
        .add_directive(format!("{}=info", module_path!()).parse()?);
    // Logs go to stderr; colours only for a person at a terminal, never into log files.
    let logs = tracing_subscriber::fmt::layer()
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let registry = tracing_subscriber::registry().with(filter).with(traces);
    if json {
        registry.with(logs.json()).try_init()?;
    } else {
        registry.with(logs).try_init()?;
    }
    Ok(Telemetry { provider })
}

/// Whether `endpoint` can be an OTLP/gRPC collector's address: an absolute `http://` URL with
/// a host. The exporter is built without TLS, so an `https://` one could never send.
pub fn check_otlp_endpoint(endpoint: &str) -> Result<(), &'static str> {
    match endpoint.parse::<http::Uri>() {
        Ok(uri) if uri.scheme_str() == Some("http") && uri.host().is_some() => Ok(()),
        Ok(uri) if uri.scheme_str() == Some("https") => Err(
            "cannot be https: spans are exported without TLS, to a collector on the same network \
             (e.g. a node agent or sidecar at http://collector:4317)",
        ),
        _ => Err("must be an http URL of an OTLP/gRPC collector, e.g. http://collector:4317"),
    }
}

/// Reads W3C trace context headers from an HTTP request (gRPC metadata included).
struct Headers<'a>(&'a http::HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}

/// Makes `span` continue the trace `parent` names (an invalid or absent one starts a new
/// trace), and records its `trace_id` field. Without a tracer installed, nothing changes.
fn continue_trace(span: &Span, parent: Context) {
    let _ = span.set_parent(parent);
    let context = span.context();
    let trace_id = context.span().span_context().trace_id();
    if trace_id != opentelemetry::trace::TraceId::INVALID {
        span.record("trace_id", tracing::field::display(trace_id));
    }
}

/// The `traceparent` naming `span`, for work handed on; `None` without a tracer installed.
fn traceparent_of(span: &Span) -> Option<String> {
    let context = span.context();
    if !context.span().span_context().is_valid() {
        return None;
    }
    let mut carrier = HashMap::new();
    TraceContextPropagator::new().inject_context(&context, &mut carrier);
    carrier.remove("traceparent")
}

/// `value` as a W3C `traceparent`, if it is a valid one (a version this reader knows, a trace
/// and a parent that are not all zeros).
pub fn parse_traceparent(value: &str) -> Option<String> {
    let carrier = HashMap::from([("traceparent".to_owned(), value.trim().to_owned())]);
    let context = TraceContextPropagator::new().extract(&carrier);
    let span = context.span();
    let valid = span.span_context().is_valid();
    valid.then(|| {
        let mut normalized = HashMap::new();
        TraceContextPropagator::new().inject_context(&context, &mut normalized);
        normalized.remove("traceparent")
    })?
}

/// The `traceparent` of the request being served now, if any: what an outbox row keeps.
pub fn current_traceparent() -> Option<String> {
    CURRENT.try_with(Clone::clone).ok().flatten()
}

/// A span for work handed on with `traceparent` (as `current_traceparent` gave it, or nothing):
/// it continues that trace. `name` says what the work is.
pub fn continued_span(name: &'static str, traceparent: Option<&str>) -> Span {
    // A root span, whatever the current one is: the work is not part of it.
    let span = tracing::info_span!(parent: None, "work", otel.name = name, trace_id = Empty);
    let carrier: HashMap<String, String> = traceparent
        .map(|traceparent| ("traceparent".to_owned(), traceparent.to_owned()))
        .into_iter()
        .collect();
    continue_trace(&span, TraceContextPropagator::new().extract(&carrier));
    span
}

/// A tower layer for the servers: each request in a span that continues its caller's trace,
/// with the span's `traceparent` available to what the request hands on.
#[derive(Clone, Copy)]
pub struct TraceLayer {
    name: fn(&str) -> String,
}

impl TraceLayer {
    /// Spans named by the request's path: for a server whose paths hold no secret (gRPC).
    pub fn new() -> Self {
        Self {
            name: str::to_owned,
        }
    }

    /// Spans named by `name(path)`: for a server with paths that carry a secret (a link's
    /// token), which must reach no log line and no trace.
    pub fn naming(name: fn(&str) -> String) -> Self {
        Self { name }
    }
}

impl Default for TraceLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl<S> tower::Layer<S> for TraceLayer {
    type Service = Traced<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Traced {
            inner,
            name: self.name,
        }
    }
}

#[derive(Clone)]
pub struct Traced<S> {
    inner: S,
    name: fn(&str) -> String,
}

impl<S, B> tower::Service<http::Request<B>> for Traced<S>
where
    S: tower::Service<http::Request<B>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let span = tracing::info_span!(
            "request",
            otel.name = (self.name)(request.uri().path()),
            otel.kind = "server",
            trace_id = Empty,
        );
        continue_trace(
            &span,
            TraceContextPropagator::new().extract(&Headers(request.headers())),
        );
        let traceparent = traceparent_of(&span);
        let served = {
            let _entered = span.enter();
            self.inner.call(request)
        };
        Box::pin(CURRENT.scope(traceparent, served).instrument(span))
    }
}
