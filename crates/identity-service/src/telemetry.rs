//! Logging: tracing to stderr, filtered by `RUST_LOG` (default `info`), as
//! text lines or JSON objects (`log_format`, `APP_LOG_FORMAT`); with the
//! `otlp` cargo feature and `otlp_endpoint` (`APP_OTLP_ENDPOINT`) set, the
//! same spans are also exported over OTLP (HTTP/protobuf) by
//! OpenTelemetry's batch exporter, on a thread of its own.
//!
//! Without `RUST_LOG`, PostgreSQL notices (`sqlx::postgres::notice`) are
//! shown from level `error` only: behind a transaction pooler every write
//! transaction draws an expected "there is already a transaction in
//! progress" warning (see `storage::db`), and migrations draw "already
//! exists, skipping" notices.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};

use tracing_subscriber::EnvFilter;
#[cfg(feature = "otlp")]
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::configuration::LogFormat;

mod lines;

pub use lines::{
    MAX_REQUEST_ID, RequestId, scope as request_scope, sync_scope as request_sync_scope,
};

/// Whether the installed subscriber writes JSON lines.
static JSON_LINES: AtomicBool = AtomicBool::new(false);

/// Whether stderr carries JSON log lines (`log_format = "json"`): then the
/// command line's own notes and errors go through the log as events too,
/// so that every stderr line is one JSON object.
pub fn json_lines() -> bool {
    JSON_LINES.load(Ordering::Relaxed)
}

/// Whether spans are exported over OTLP.
static EXPORTING: AtomicBool = AtomicBool::new(false);

/// Whether the installed subscriber exports spans over OTLP (then span
/// fields recorded late, such as a request's status, are worth their cost).
pub fn exporting() -> bool {
    EXPORTING.load(Ordering::Relaxed)
}

/// The installed telemetry: holds the OpenTelemetry exporter, if any, and
/// flushes it when dropped (keep it until the program ends).
#[must_use = "dropping it stops the OpenTelemetry export"]
#[derive(Default)]
pub struct Telemetry {
    #[cfg(feature = "otlp")]
    provider: Option<opentelemetry_sdk::trace::SdkTracerProvider>,
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        #[cfg(feature = "otlp")]
        if let Some(provider) = self.provider.take() {
            // Exports what is still queued; a collector that is down only
            // costs the exporter's timeout.
            let _ = provider.shutdown();
        }
    }
}

/// Installs the global subscriber writing to stderr in `format`, and the
/// OTLP export to `otlp_endpoint` when given. Safe to call twice (the
/// second call installs nothing). Fails when an endpoint is given and the
/// build has no `otlp` feature, or the exporter cannot be built.
pub fn init(
    default_filter: &str,
    format: LogFormat,
    otlp_endpoint: Option<&str>,
) -> anyhow::Result<Telemetry> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new(format!("{default_filter},sqlx::postgres::notice=error"))
    });
    #[cfg(feature = "otlp")]
    let provider = otlp_endpoint.map(otlp::provider).transpose()?;
    #[cfg(not(feature = "otlp"))]
    if otlp_endpoint.is_some() {
        anyhow::bail!(
            "an OTLP endpoint is set, but this build has no OpenTelemetry export \
             (build with `--features otlp`)"
        );
    }
    // tracing-subscriber's own fmt subscriber (the filter outermost, as
    // `fmt().with_env_filter()` builds it): fewer layers for every span
    // enter and exit than a registry with optional layers.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // Our own event format (see `lines`): the request id comes from the
    // request's task-local, not from a span.
    let installed = match format {
        LogFormat::Text => install(
            builder
                .with_ansi(std::io::stderr().is_terminal())
                .event_format(lines::Lines::text())
                .finish(),
            #[cfg(feature = "otlp")]
            provider.as_ref(),
        ),
        LogFormat::Json => install(
            builder
                .with_ansi(false)
                .event_format(lines::Lines::json())
                .finish(),
            #[cfg(feature = "otlp")]
            provider.as_ref(),
        ),
    };
    if installed {
        JSON_LINES.store(format == LogFormat::Json, Ordering::Relaxed);
    }
    #[cfg(feature = "otlp")]
    {
        EXPORTING.store(installed && provider.is_some(), Ordering::Relaxed);
        // Installed already (a second call): this call's exporter goes.
        Ok(Telemetry {
            provider: provider.filter(|_| installed),
        })
    }
    #[cfg(not(feature = "otlp"))]
    Ok(Telemetry::default())
}

/// Installs `subscriber` as the global default, with the OTLP layer of
/// `provider` on top when there is one; false when one was installed
/// already.
fn install<S>(
    subscriber: S,
    #[cfg(feature = "otlp")] provider: Option<&opentelemetry_sdk::trace::SdkTracerProvider>,
) -> bool
where
    S: tracing::Subscriber + for<'span> tracing_subscriber::registry::LookupSpan<'span>,
    S: Send + Sync + 'static,
{
    #[cfg(feature = "otlp")]
    if let Some(provider) = provider {
        return subscriber.with(otlp::layer(provider)).try_init().is_ok();
    }
    subscriber.try_init().is_ok()
}

/// The OpenTelemetry pieces of the `otlp` feature.
#[cfg(feature = "otlp")]
mod otlp {
    use anyhow::Context;
    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry_otlp::{Protocol, SpanExporter, WithExportConfig};
    use opentelemetry_sdk::Resource;
    use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};
    use tracing_opentelemetry::OpenTelemetryLayer;

    /// The service name of the exported spans.
    const SERVICE: &str = "odata-users";

    /// A tracer provider exporting in batches over OTLP/HTTP (protobuf) to
    /// `endpoint` (the full URL, `.../v1/traces`). Connects to nothing yet:
    /// the batch thread sends when spans have ended.
    pub(super) fn provider(endpoint: &str) -> anyhow::Result<SdkTracerProvider> {
        let exporter = SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(endpoint)
            .build()
            .with_context(|| format!("cannot set up the OTLP export to {endpoint}"))?;
        Ok(SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(Resource::builder_empty().with_service_name(SERVICE).build())
            .build())
    }

    /// The tracing layer that turns spans into OpenTelemetry spans of
    /// `provider`.
    pub(super) fn layer<S>(provider: &SdkTracerProvider) -> OpenTelemetryLayer<S, SdkTracer>
    where
        S: tracing::Subscriber + for<'span> tracing_subscriber::registry::LookupSpan<'span>,
    {
        tracing_opentelemetry::layer().with_tracer(provider.tracer(SERVICE))
    }

    #[cfg(test)]
    mod tests {
        #[cfg(feature = "otlp")]
        use tracing_subscriber::layer::SubscriberExt;

        /// The exporter is built, and spans go through the layer, with no
        /// collector listening: nothing connects or waits on the caller's
        /// thread (the batch thread sends later, and its failures are its own).
        #[test]
        fn the_layer_works_without_a_collector() {
            // Port 9 (discard): nothing listens there on a test machine.
            let provider = super::provider("http://127.0.0.1:9/v1/traces").expect("exporter");
            let subscriber = tracing_subscriber::registry().with(super::layer(&provider));
            tracing::subscriber::with_default(subscriber, || {
                let span = tracing::info_span!("request", request_id = "test");
                span.in_scope(|| tracing::info!("inside"));
            });
        }
    }
}
