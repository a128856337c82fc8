//! What the application counts for operators (`GET /metrics`): the names and labels
//! of its metrics in one place. Recording goes to whatever recorder the process
//! installed (the HTTP layer installs the Prometheus one); without one it costs next
//! to nothing.

use std::time::Duration;

/// Records read by clients, per object.
pub fn records_read(object: &str, n: usize) {
    if n > 0 {
        metrics::counter!("modgate_records_read_total", "object" => object.to_owned())
            .increment(n as u64);
    }
}

/// Records written, per object and operation (create, update, delete, transition).
pub fn records_written(object: &str, op: &'static str, n: usize) {
    if n > 0 {
        metrics::counter!("modgate_records_written_total", "object" => object.to_owned(), "op" => op)
            .increment(n as u64);
    }
}

/// One call to a model: how it ended (`ok` or the error kind), how long it took and
/// the tokens it used.
pub fn model_call(
    provider: &str,
    model: &str,
    outcome: &str,
    took: Duration,
    usage: Option<&llm::Usage>,
) {
    let labels = [
        ("provider", provider.to_owned()),
        ("model", model.to_owned()),
    ];
    metrics::counter!(
        "modgate_model_calls_total",
        &labels_with(&labels, "outcome", outcome)
    )
    .increment(1);
    metrics::histogram!("modgate_model_call_duration_seconds", &labels).record(took.as_secs_f64());
    if let Some(u) = usage {
        metrics::counter!(
            "modgate_model_tokens_total",
            &labels_with(&labels, "kind", "input")
        )
        .increment(u.input_tokens);
        metrics::counter!(
            "modgate_model_tokens_total",
            &labels_with(&labels, "kind", "output")
        )
        .increment(u.output_tokens);
    }
}

fn labels_with(
    base: &[(&'static str, String); 2],
    key: &'static str,
    value: &str,
) -> [(&'static str, String); 3] {
    [base[0].clone(), base[1].clone(), (key, value.to_owned())]
}

/// Sets the gauges that are read rather than counted: the database pool and the
/// depth of the delivery queue (webhooks, emails). Called before each scrape.
pub async fn sample(app: &crate::App) {
    let pool = app.db.pool_stats();
    metrics::gauge!("modgate_db_pool_connections", "state" => "in_use")
        .set(f64::from(pool.size) - pool.idle as f64);
    metrics::gauge!("modgate_db_pool_connections", "state" => "idle").set(pool.idle as f64);
    metrics::gauge!("modgate_db_pool_max_connections").set(f64::from(pool.max));
    match store::deliveries::pending(&app.db).await {
        Ok(n) => metrics::gauge!("modgate_delivery_queue_depth").set(n as f64),
        Err(e) => tracing::warn!(error = %e, "metrics: the delivery queue could not be counted"),
    }
}
