use crate::harness::{error_of, spawn_with};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The value of the first sample of `name` whose labels include all of `labels`.
fn sample(text: &str, name: &str, labels: &[&str]) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find(|l| {
            l.split(['{', ' ']).next() == Some(name) && labels.iter().all(|want| l.contains(want))
        })
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[tokio::test]
async fn operators_scrape_metrics_with_the_token_or_as_admins() {
    let app = spawn_with(|c| {
        c.metrics_token = Some(app::config::Secret::new("scrape-token-0123456789"));
    })
    .await;
    let admin = app.admin().await;
    app.create_user(&admin, "dev1", &["developer"]).await;
    let dev = app.login("dev1", "dev1-password").await;

    // Work to count: a record created and read, a generation with the built-in model.
    let r = admin
        .post("/api/data/Customer")
        .json(&json!({ "name": "Metered" }))
        .send()
        .await
        .unwrap();
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for _ in 0..3 {
        let r = admin
            .get(&format!("/api/data/Customer/{id}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
    let m = admin
        .post("/api/modules")
        .json(&json!({ "name": "Metered module" }))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let r = admin
        .post(&format!(
            "/api/modules/{}/generate",
            m["id"].as_str().unwrap()
        ))
        .json(&json!({ "prompt": "add an integer field loyaltyPoints to Customer with min 0" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);

    // Anonymous, a wrong token, a non-admin: refused with the API's error shape.
    let anon = reqwest::Client::new();
    let (s, code, _) = error_of(anon.get(app.url("/metrics")).send().await.unwrap()).await;
    assert_eq!(
        (s, code.as_str()),
        (StatusCode::UNAUTHORIZED, "unauthorized")
    );
    let (s, _, _) = error_of(
        anon.get(app.url("/metrics"))
            .bearer_auth("scrape-token-wrong")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, code, _) = error_of(dev.get("/metrics").send().await.unwrap()).await;
    assert_eq!((s, code.as_str()), (StatusCode::FORBIDDEN, "forbidden"));

    // The scraper's token, and an admin's session. Histogram samples reach the text
    // when the exporter folds them in (at a scrape or the periodic upkeep, which the
    // other tests' servers run on the same recorder too): scrape until they show.
    let mut text = String::new();
    for _ in 0..20 {
        let r = anon
            .get(app.url("/metrics"))
            .bearer_auth("scrape-token-0123456789")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/plain")
        );
        text = r.text().await.unwrap();
        if text.contains("modgate_http_request_duration_seconds_bucket{")
            && text.contains("modgate_model_call_duration_seconds_bucket{")
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let r = admin.get("/metrics").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(!r.text().await.unwrap().is_empty());

    // The process's one recorder also counts other tests' requests: at least ours.
    let reads = sample(
        &text,
        "modgate_http_requests_total",
        &[
            "method=\"GET\"",
            "route=\"/api/data/{object}/{id}\"",
            "status=\"200\"",
        ],
    );
    assert!(reads.is_some_and(|n| n >= 3.0), "{text}");
    assert!(text.contains("# TYPE modgate_http_request_duration_seconds histogram"));
    assert!(
        sample(
            &text,
            "modgate_http_request_duration_seconds_bucket",
            &[
                "method=\"GET\"",
                "route=\"/api/data/{object}/{id}\"",
                "le=\"+Inf\""
            ]
        )
        .is_some_and(|n| n >= 3.0),
        "{text}"
    );
    assert!(
        sample(
            &text,
            "modgate_records_read_total",
            &["object=\"Customer\""]
        )
        .is_some_and(|n| n >= 3.0)
    );
    assert!(
        sample(
            &text,
            "modgate_records_written_total",
            &["object=\"Customer\"", "op=\"create\""]
        )
        .is_some_and(|n| n >= 1.0)
    );
    assert!(
        sample(
            &text,
            "modgate_model_calls_total",
            &["provider=\"builtin\"", "outcome=\"ok\""]
        )
        .is_some_and(|n| n >= 1.0),
        "{text}"
    );
    assert!(text.contains("modgate_model_tokens_total{"), "{text}");
    assert!(text.contains("modgate_model_call_duration_seconds_bucket{"));
    assert!(sample(&text, "modgate_db_pool_max_connections", &[]).is_some_and(|n| n >= 1.0));
    assert!(sample(&text, "modgate_db_pool_connections", &["state=\"idle\""]).is_some());
    assert_eq!(
        sample(&text, "modgate_delivery_queue_depth", &[]),
        Some(0.0)
    );
    // The token never shows.
    assert!(!text.contains("scrape-token"));
}
