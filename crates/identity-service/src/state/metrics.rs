//! The request metrics of one instance (status class, latency histogram,
//! in flight) and the credential checks' counters, kept by a Prometheus
//! recorder of the `metrics` crate (`metrics-exporter-prometheus`, its
//! recorder and text rendering only) and rendered by `/metrics`
//! (`routes/metrics.rs`) in the Prometheus text exposition format 0.0.4.
//!
//! Each instance has its own recorder (not the process-global one), so two
//! servers in one process (the tests) count apart. The handles are
//! registered once, here: counting a request touches atomics only, no key
//! lookup. The histogram's samples are folded into its buckets when
//! `/metrics` renders and by [`Metrics::upkeep`] (run every few seconds by
//! the server), so they never pile up between scrapes.

use std::time::{Duration, Instant};

use metrics::{Counter, Gauge, Histogram, Key, KeyName, Label, Metadata, Recorder, SharedString};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};

use crate::auth::AuthCounts;

/// Upper bounds (seconds) of the latency histogram buckets.
const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];

const REQUESTS: &str = "http_requests_total";
const DURATION: &str = "http_request_duration_seconds";
const IN_FLIGHT: &str = "http_requests_in_flight";
const UPTIME: &str = "process_uptime_seconds";
const ARGON2_RUNS: &str = "auth_argon2_runs_total";
const VERIFY_BUSY: &str = "auth_verify_busy_total";
const THROTTLED: &str = "auth_throttled_total";

/// The status classes counted, by index: 1xx..5xx, then anything else.
const CLASSES: [&str; 6] = ["1xx", "2xx", "3xx", "4xx", "5xx", "other"];

const METADATA: Metadata<'static> =
    Metadata::new(module_path!(), metrics::Level::INFO, Some(module_path!()));

/// The metrics of one instance, shared by its workers.
pub struct Metrics {
    started: Instant,
    handle: PrometheusHandle,
    by_class: [Counter; CLASSES.len()],
    duration: Histogram,
    in_flight: Gauge,
    uptime: Gauge,
    argon2_runs: Counter,
    verify_busy: Counter,
    throttled: Counter,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics")
            .field("started", &self.started)
            .finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// A recorder of its own with every metric registered (at zero).
    pub fn new() -> Metrics {
        let recorder = recorder();
        let describe = |name: &'static str, help: &'static str| {
            recorder.describe_counter(KeyName::from_const_str(name), None, help.into());
        };
        describe(REQUESTS, "HTTP requests answered, by status class.");
        describe(ARGON2_RUNS, "argon2 verifications of client secrets run.");
        describe(
            VERIFY_BUSY,
            "Client authentications refused with 503: verification queue full.",
        );
        describe(
            THROTTLED,
            "Client authentications refused with 429: too many failures.",
        );
        recorder.describe_histogram(
            KeyName::from_const_str(DURATION),
            None,
            SharedString::const_str("Time to answer a request."),
        );
        recorder.describe_gauge(
            KeyName::from_const_str(IN_FLIGHT),
            None,
            SharedString::const_str("Requests being answered now."),
        );
        recorder.describe_gauge(
            KeyName::from_const_str(UPTIME),
            None,
            SharedString::const_str("Seconds since the server started."),
        );
        let counter =
            |name: &'static str| recorder.register_counter(&Key::from_static_name(name), &METADATA);
        let by_class = CLASSES.map(|class| {
            recorder.register_counter(
                &Key::from_parts(REQUESTS, vec![Label::from_static_parts("status", class)]),
                &METADATA,
            )
        });
        let gauge =
            |name: &'static str| recorder.register_gauge(&Key::from_static_name(name), &METADATA);
        Metrics {
            started: Instant::now(),
            handle: recorder.handle(),
            by_class,
            duration: recorder.register_histogram(&Key::from_static_name(DURATION), &METADATA),
            in_flight: gauge(IN_FLIGHT),
            uptime: gauge(UPTIME),
            argon2_runs: counter(ARGON2_RUNS),
            verify_busy: counter(VERIFY_BUSY),
            throttled: counter(THROTTLED),
        }
    }

    /// A request started.
    pub fn begin(&self) {
        self.in_flight.increment(1.0);
    }

    /// A request finished with `status` after `elapsed`.
    pub fn finish(&self, status: u16, elapsed: Duration) {
        self.in_flight.decrement(1.0);
        let class = match status {
            100..=599 => usize::from(status / 100 - 1),
            _ => CLASSES.len() - 1,
        };
        self.by_class[class].increment(1);
        self.duration.record(elapsed.as_secs_f64());
    }

    /// Folds the latency samples recorded since the last render or upkeep
    /// into the histogram (bounded memory without scrapes).
    pub fn upkeep(&self) {
        self.handle.run_upkeep();
    }

    /// The exposition text, with the credential checks' counts of `auth`.
    pub fn render(&self, auth: AuthCounts) -> String {
        self.argon2_runs.absolute(auth.argon2_runs);
        self.verify_busy.absolute(auth.verify_busy);
        self.throttled.absolute(auth.throttled);
        self.uptime.set(self.started.elapsed().as_secs_f64());
        self.handle.render()
    }
}

/// The Prometheus recorder: plain names (no unit suffixes added), the
/// latency as a histogram with [`BUCKETS`].
fn recorder() -> PrometheusRecorder {
    PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full(DURATION.to_owned()), &BUCKETS)
        // Only fails for an empty list of buckets: the default summary then.
        .unwrap_or_else(|_| PrometheusBuilder::new())
        .build_recorder()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The value of the line that starts with `series ` in `text`.
    fn value(text: &str, series: &str) -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {series} in\n{text}"))
    }

    #[test]
    fn counts_classes_and_buckets() {
        let m = Metrics::new();
        m.begin();
        m.finish(200, Duration::from_millis(2));
        m.begin();
        m.finish(404, Duration::from_millis(30));
        m.begin();
        let auth = AuthCounts {
            argon2_runs: 3,
            verify_busy: 0,
            throttled: 1,
        };
        let text = m.render(auth);
        assert_eq!(value(&text, "http_requests_total{status=\"2xx\"}"), 1.0);
        assert_eq!(value(&text, "http_requests_total{status=\"4xx\"}"), 1.0);
        assert_eq!(value(&text, "http_requests_total{status=\"5xx\"}"), 0.0);
        assert_eq!(
            value(&text, "http_request_duration_seconds_bucket{le=\"0.0025\"}"),
            1.0
        );
        assert_eq!(
            value(&text, "http_request_duration_seconds_bucket{le=\"0.05\"}"),
            2.0
        );
        assert_eq!(
            value(&text, "http_request_duration_seconds_bucket{le=\"+Inf\"}"),
            2.0
        );
        assert_eq!(value(&text, "http_request_duration_seconds_count"), 2.0);
        assert_eq!(value(&text, "http_requests_in_flight"), 1.0);
        assert_eq!(value(&text, "auth_argon2_runs_total"), 3.0);
        assert_eq!(value(&text, "auth_throttled_total"), 1.0);
        assert!(
            text.contains("# TYPE http_requests_total counter"),
            "{text}"
        );
        assert!(
            text.contains("# TYPE http_request_duration_seconds histogram"),
            "{text}"
        );
        assert!(
            text.contains("# HELP process_uptime_seconds Seconds since the server started."),
            "{text}"
        );
    }

    #[test]
    fn upkeep_keeps_the_samples() {
        let m = Metrics::new();
        m.begin();
        m.finish(500, Duration::from_millis(700));
        m.upkeep();
        let text = m.render(AuthCounts::default());
        assert_eq!(value(&text, "http_requests_total{status=\"5xx\"}"), 1.0);
        assert_eq!(
            value(&text, "http_request_duration_seconds_bucket{le=\"1\"}"),
            1.0
        );
        assert_eq!(
            value(&text, "http_request_duration_seconds_bucket{le=\"0.25\"}"),
            0.0
        );
        // A second render counts the same (the samples are folded, not lost).
        let again = m.render(AuthCounts::default());
        assert_eq!(value(&again, "http_request_duration_seconds_count"), 1.0);
    }
}
