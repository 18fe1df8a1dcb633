//! OpenTelemetry trace export (the `otel` cargo feature): every tracing span,
//! the per-request `request` span with its id included, becomes an OTLP
//! span sent over HTTP/protobuf to the collector the standard variables name
//! (`OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`,
//! `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_SERVICE_NAME`, ...). Without an
//! endpoint variable nothing is exported. Spans carry what the logs carry,
//! never a secret.

use std::sync::OnceLock;

use anyhow::Context as _;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};
use tracing::Subscriber;
use tracing_opentelemetry::OpenTelemetryLayer;
use tracing_subscriber::registry::LookupSpan;

/// Kept to flush the last spans at exit.
static PROVIDER: OnceLock<SdkTracerProvider> = OnceLock::new();

const ENDPOINT_VARIABLES: [&str; 2] = [
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
];

/// The export layer, when an OTLP endpoint is configured in the environment.
pub fn layer<S>() -> anyhow::Result<Option<OpenTelemetryLayer<S, SdkTracer>>>
where
    S: Subscriber + for<'span> LookupSpan<'span>,
{
    let configured = ENDPOINT_VARIABLES
        .iter()
        .any(|name| std::env::var_os(name).is_some_and(|v| !v.is_empty()));
    if !configured {
        return Ok(None);
    }
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .build()
        .context("could not set up the OTLP trace exporter")?;
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(Resource::builder().with_service_name("cc-relay").build())
        .build();
    let tracer = provider.tracer("cc-relay");
    let _ = PROVIDER.set(provider);
    Ok(Some(tracing_opentelemetry::layer().with_tracer(tracer)))
}

/// Flushes and stops the exporter; call once, at exit.
pub fn shutdown() {
    if let Some(provider) = PROVIDER.get()
        && let Err(error) = provider.shutdown()
    {
        tracing::warn!(%error, "could not flush the last OpenTelemetry spans");
    }
}
