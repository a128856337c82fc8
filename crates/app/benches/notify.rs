//! What notifications cost us: signing a webhook delivery, rendering a review comment,
//! and the outbox worker sending a batch of 100 webhook deliveries to a local receiver
//! that answers at once (claim, sign, POST, record the attempt and its audit row), on
//! SQLite — or on PostgreSQL with TEST_DATABASE_URL set.

use app::{App, Caller, Config};
use criterion::{Criterion, criterion_group, criterion_main};
use std::time::{Duration, Instant};
use store::deliveries::{Channel, Delivery, DeliveryStatus};

const PAYLOAD: &str = r#"{"id":"msg_0193b2c4d5e6f708192a3b4c5d6e7f80","event":"review.approved","occurredAt":"2026-11-30T12:00:00.000Z","actor":"rita","module":{"id":"0193b2c4-d5e6-7f08-192a-3b4c5d6e7f80","name":"Loyalty points"},"version":3,"review":{"id":"0193b2c4-d5e6-7f08-192a-3b4c5d6e7f81","status":"approved"}}"#;

fn pure(c: &mut Criterion) {
    let secret = app::webhooks::new_secret();
    c.bench_function("sign a delivery", |b| {
        b.iter(|| app::webhooks::signature(&secret, "msg_0193", 1_764_504_000, PAYLOAD))
    });
    let comment = "Why **min 0**? Points can't be negative, fine — but see [the policy](https://intranet.example/policy).\n\n- cap at 10 000?\n- what about refunds?\n\n`loyaltyPoints` <b>must</b> stay an integer.\n".repeat(4);
    c.bench_function("render a 1 KB comment", |b| {
        b.iter(|| app::markdown::render(&comment))
    });
}

fn outbox(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (app, webhook, _db, _dir) = rt.block_on(async {
        let db = store::testing::fresh().await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            data_dir: dir.path().to_path_buf(),
            database_url: Some(db.url.clone().into()),
            ..Config::default()
        };
        let app = App::open(config).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = axum::Router::new().route(
            "/hook",
            axum::routing::post(|| async { axum::http::StatusCode::NO_CONTENT }),
        );
        tokio::spawn(async move { axum::serve(listener, router).await });
        let input = app::webhooks::WebhookInput {
            url: Some(format!("http://{addr}/hook")),
            ..Default::default()
        };
        let w = app::webhooks::create(&app, &Caller::system(), input)
            .await
            .unwrap();
        (app, w.webhook.id, db, dir)
    });
    let http = reqwest::Client::new();
    let mut group = c.benchmark_group("outbox");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    group.bench_function("send 100 webhook deliveries", |b| {
        b.to_async(&rt).iter_custom(|iters| {
            let (app, http, webhook): (&App, &reqwest::Client, &str) = (&app, &http, &webhook);
            async move {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    enqueue(app, webhook, 100).await;
                    let t = Instant::now();
                    let n = app::deliveries::run_due(app, http, "bench").await.unwrap();
                    total += t.elapsed();
                    assert_eq!(n, 100);
                }
                total
            }
        })
    });
    group.finish();
}

async fn enqueue(app: &App, webhook: &str, n: usize) {
    let mut tx = app.db.begin().await.unwrap();
    let now = store::now_ms();
    for _ in 0..n {
        let d = Delivery {
            id: store::new_id(),
            event_id: format!("msg_{}", store::new_id()),
            event: "review.approved".into(),
            channel: Channel::Webhook,
            webhook_id: Some(webhook.to_owned()),
            recipient: None,
            payload: PAYLOAD.into(),
            status: DeliveryStatus::Pending,
            attempts: 0,
            next_at: now,
            last_status: None,
            last_error: None,
            created_at: now,
            delivered_at: None,
        };
        store::deliveries::enqueue(&mut tx, &d).await.unwrap();
    }
    tx.commit().await.unwrap();
}

criterion_group!(benches, pure, outbox);
criterion_main!(benches);
