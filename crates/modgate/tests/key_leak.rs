//! API keys are write-only: a full run of the model workflow against the real server
//! process, with its most verbose logging, and every response, every log line and the
//! database file are searched for the keys.

mod common;

use common::{Env, drained, free_port, wait_ready};
use llm::Protocol;
use llm::testing::{FakeLlm, Reply};
use serde_json::{Value, json};
use std::process::Stdio;

const KEY: &str = "sk-LEAKCHECK-first-8c1f2e9d7b6a5c4d";
const KEY2: &str = "sk-LEAKCHECK-second-1a2b3c4d5e6f7a8b";
const PASSWORD: &str = "admin-password-leak";

/// Every response, headers and body, as one text to search.
#[derive(Default)]
struct Seen(String);

impl Seen {
    async fn take(&mut self, resp: reqwest::Response) -> Value {
        self.0.push_str(&format!("{}\n", resp.status()));
        for (k, v) in resp.headers() {
            self.0
                .push_str(&format!("{k}: {}\n", String::from_utf8_lossy(v.as_bytes())));
        }
        let body = resp.text().await.unwrap();
        self.0.push_str(&body);
        self.0.push('\n');
        serde_json::from_str(&body).unwrap_or(Value::Null)
    }
}

#[tokio::test]
async fn no_response_log_line_or_stored_byte_contains_an_api_key() {
    let env = Env::new().await;
    let fake = FakeLlm::start().await;
    fake.require_key(KEY);
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let child = env
        .cmd(&["serve", "--bind", &format!("127.0.0.1:{port}")])
        .env("MODGATE_ADMIN_PASSWORD", PASSWORD)
        // Everything every crate logs, including the HTTP client and the database.
        .env("MODGATE_LOG", "trace")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let server = drained(child);
    wait_ready(&base).await;

    let http = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut seen = Seen::default();
    let login = seen
        .take(
            http.post(format!("{base}/api/auth/login"))
                .json(&json!({ "username": "admin", "password": PASSWORD }))
                .send()
                .await
                .unwrap(),
        )
        .await;
    let csrf = login["csrfToken"].as_str().unwrap().to_owned();
    let post = |path: &str| {
        http.post(format!("{base}{path}"))
            .header("x-csrf-token", &csrf)
    };

    // Create: a key that fails validation is not echoed either.
    seen.take(
        post("/api/models")
            .json(&json!({ "name": "Kimi", "provider": "kimi", "apiKey": format!("{KEY} {KEY}") }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let m = seen
        .take(
            post("/api/models")
                .json(&json!({ "name": "Kimi", "provider": "kimi",
                    "baseUrl": fake.base_url(Protocol::OpenAi), "apiKey": KEY }))
                .send()
                .await
                .unwrap(),
        )
        .await;
    let id = m["id"].as_str().expect("created").to_owned();

    // Test: success, then a provider that echoes the key it was given in its 401.
    let ok = seen
        .take(
            post(&format!("/api/models/{id}/test"))
                .send()
                .await
                .unwrap(),
        )
        .await;
    assert_eq!(ok["ok"], true, "{ok}");
    fake.require_key("sk-something-else-entirely-000");
    let failed = seen
        .take(
            post(&format!("/api/models/{id}/test"))
                .send()
                .await
                .unwrap(),
        )
        .await;
    assert_eq!(failed["error"]["kind"], "auth", "{failed}");

    // Rotate, test with the new key, make it the default.
    fake.require_key(KEY2);
    seen.take(
        http.patch(format!("{base}/api/models/{id}"))
            .header("x-csrf-token", &csrf)
            .json(&json!({ "apiKey": KEY2 }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    fake.push(Reply::Status {
        status: 500,
        message: format!("upstream saw key {KEY2}"),
        retry_after: None,
    });
    let ok = seen
        .take(
            post(&format!("/api/models/{id}/test"))
                .send()
                .await
                .unwrap(),
        )
        .await;
    assert_eq!(ok["ok"], true, "{ok}");
    seen.take(
        post(&format!("/api/models/{id}/default"))
            .send()
            .await
            .unwrap(),
    )
    .await;

    // Read everything back: API, pages, audit (API, exports, page), OpenAPI.
    for path in [
        "/api/models".to_owned(),
        format!("/api/models/{id}"),
        "/admin/ai-models".to_owned(),
        format!("/admin/ai-models/{id}"),
        "/admin/ai-models/new".to_owned(),
        "/api/audit?perPage=500".to_owned(),
        "/api/audit/export?format=jsonl".to_owned(),
        "/api/audit/export?format=csv".to_owned(),
        "/admin/audit".to_owned(),
        "/api/openapi.json".to_owned(),
    ] {
        let resp = http.get(format!("{base}{path}")).send().await.unwrap();
        assert!(resp.status().is_success(), "{path}: {}", resp.status());
        seen.take(resp).await;
    }
    assert!(
        seen.0.contains("sk-…5c4d") || seen.0.contains("sk-…7a8b"),
        "masks are shown"
    );
    assert!(seen.0.contains("model.test"), "the audit log was read");

    let (stdout, stderr) = server.stop();
    let logs = format!("{stdout}\n{stderr}");
    assert!(
        logs.len() > 10_000,
        "trace logging was on ({} bytes)",
        logs.len()
    );
    // The fake provider did receive the keys: the search below is not vacuous.
    assert!(
        fake.requests()
            .iter()
            .any(|r| format!("{:?}", r.headers).contains(KEY))
    );

    for key in [KEY, KEY2] {
        // The distinctive middle of the key is enough to count as a leak.
        let core = &key[3..key.len() - 4];
        assert!(!seen.0.contains(core), "a response contains {key}");
        if let Some(line) = logs.lines().find(|l| l.contains(core)) {
            panic!("a log line contains the key: {line}");
        }
    }
    if !env.db.url.starts_with("postgres") {
        for file in ["modgate.db", "modgate.db-wal"] {
            let path = env.dir.path().join(file);
            if let Ok(bytes) = std::fs::read(&path) {
                let raw = String::from_utf8_lossy(&bytes);
                for key in [KEY, KEY2] {
                    assert!(
                        !raw.contains(&key[3..key.len() - 4]),
                        "{file} holds {key} in the clear"
                    );
                }
            }
        }
    }
}
