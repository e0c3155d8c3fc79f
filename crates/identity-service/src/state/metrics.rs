//! The request counters of one instance (status class, latency
//! histogram, in flight), counted by the request middleware of
//! `startup.rs` and rendered by `/metrics` (`routes/metrics.rs`) in the
//! Prometheus text exposition format 0.0.4.

use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Upper bounds (seconds) of the latency histogram buckets.
const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];

/// Counters shared by every worker of one instance.
#[derive(Debug)]
pub struct Metrics {
    started: Instant,
    /// Index 0..=4: 1xx..5xx; index 5: anything else.
    by_class: [AtomicU64; 6],
    buckets: [AtomicU64; BUCKETS.len()],
    duration_micros: AtomicU64,
    in_flight: AtomicI64,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            started: Instant::now(),
            by_class: Default::default(),
            buckets: Default::default(),
            duration_micros: AtomicU64::new(0),
            in_flight: AtomicI64::new(0),
        }
    }
}

impl Metrics {
    /// A request started.
    pub fn begin(&self) {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
    }

    /// A request finished with `status` after `elapsed`.
    pub fn finish(&self, status: u16, elapsed: Duration) {
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
        let class = match status {
            100..=599 => usize::from(status / 100 - 1),
            _ => 5,
        };
        self.by_class[class].fetch_add(1, Ordering::Relaxed);
        let seconds = elapsed.as_secs_f64();
        for (bound, bucket) in BUCKETS.iter().zip(&self.buckets) {
            if seconds <= *bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        self.duration_micros.fetch_add(micros, Ordering::Relaxed);
    }

    /// The exposition text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let total: u64 = self
            .by_class
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .sum();
        let _ = writeln!(
            out,
            "# HELP http_requests_total HTTP requests answered, by status class."
        );
        let _ = writeln!(out, "# TYPE http_requests_total counter");
        for (i, label) in ["1xx", "2xx", "3xx", "4xx", "5xx", "other"]
            .iter()
            .enumerate()
        {
            let _ = writeln!(
                out,
                "http_requests_total{{status=\"{label}\"}} {}",
                self.by_class[i].load(Ordering::Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "# HELP http_request_duration_seconds Time to answer a request."
        );
        let _ = writeln!(out, "# TYPE http_request_duration_seconds histogram");
        for (bound, bucket) in BUCKETS.iter().zip(&self.buckets) {
            let _ = writeln!(
                out,
                "http_request_duration_seconds_bucket{{le=\"{bound}\"}} {}",
                bucket.load(Ordering::Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "http_request_duration_seconds_bucket{{le=\"+Inf\"}} {total}"
        );
        let _ = writeln!(
            out,
            "http_request_duration_seconds_sum {}",
            self.duration_micros.load(Ordering::Relaxed) as f64 / 1e6
        );
        let _ = writeln!(out, "http_request_duration_seconds_count {total}");
        let _ = writeln!(
            out,
            "# HELP http_requests_in_flight Requests being answered now."
        );
        let _ = writeln!(out, "# TYPE http_requests_in_flight gauge");
        let _ = writeln!(
            out,
            "http_requests_in_flight {}",
            self.in_flight.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP process_uptime_seconds Seconds since the server started."
        );
        let _ = writeln!(out, "# TYPE process_uptime_seconds gauge");
        let _ = writeln!(
            out,
            "process_uptime_seconds {:.3}",
            self.started.elapsed().as_secs_f64()
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_classes_and_buckets() {
        let m = Metrics::default();
        m.begin();
        m.finish(200, Duration::from_millis(2));
        m.begin();
        m.finish(404, Duration::from_millis(30));
        m.begin();
        let text = m.render();
        assert!(
            text.contains("http_requests_total{status=\"2xx\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("http_requests_total{status=\"4xx\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("http_request_duration_seconds_bucket{le=\"0.0025\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("http_request_duration_seconds_bucket{le=\"0.05\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("http_request_duration_seconds_count 2"),
            "{text}"
        );
        assert!(text.contains("http_requests_in_flight 1"), "{text}");
    }
}
