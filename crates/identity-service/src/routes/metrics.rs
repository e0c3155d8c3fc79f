//! Prometheus `/metrics`: request counts by status class, the latency
//! histogram, in-flight requests and the credential checks' counters of
//! this instance (text exposition format 0.0.4, see [`Metrics`]).

use actix_web::{HttpResponse, web};

use crate::state::AppState;
pub use crate::state::metrics::Metrics;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(super::resource("/metrics").route(web::get().to(metrics)));
}

async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render(state.auth.counts()))
}
