//! AI model configuration through the API, against fake providers over real HTTP.

use crate::harness::{Session, TestApp, audit_entries, error_of, spawn};
use llm::Protocol;
use llm::testing::{FakeLlm, Reply};
use reqwest::StatusCode;
use serde_json::{Value, json};

const KEY: &str = "sk-kimi-test-key-0123456789abcdef";

async fn models(admin: &Session) -> Vec<Value> {
    let v: Value = admin
        .get("/api/models")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["items"].as_array().unwrap().clone()
}

async fn add_kimi(admin: &Session, fake: &FakeLlm, name: &str, extra: Value) -> Value {
    let mut body = json!({ "name": name, "provider": "kimi", "baseUrl": fake.base_url(Protocol::OpenAi),
        "model": "kimi-k2.6", "apiKey": KEY });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let resp = admin.post("/api/models").json(&body).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    resp.json().await.unwrap()
}

async fn test_model(admin: &Session, id: &str) -> Value {
    let resp = admin
        .post(&format!("/api/models/{id}/test"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    resp.json().await.unwrap()
}

#[tokio::test]
async fn a_fresh_install_has_the_offline_engine_as_default_and_it_tests_ok() {
    let app = spawn().await;
    let admin = app.admin().await;
    let list = models(&admin).await;
    assert_eq!(list.len(), 1);
    let m = &list[0];
    assert_eq!(
        (m["provider"].as_str(), m["isDefault"].as_bool()),
        (Some("builtin"), Some(true))
    );
    assert_eq!(m["status"], "untested");
    let r = test_model(&admin, m["id"].as_str().unwrap()).await;
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(r["model"], "builtin");
    assert!(r["reply"].as_str().unwrap().contains("offline"), "{r}");
    let m: Value = admin
        .get(&format!("/api/models/{}", m["id"].as_str().unwrap()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(m["status"], "ok");
}

#[tokio::test]
async fn an_admin_adds_kimi_tests_it_and_makes_it_the_default() {
    let app = spawn().await;
    let admin = app.admin().await;
    let fake = FakeLlm::start().await;
    fake.require_key(KEY)
        .known_models(&["kimi-k2.6", "kimi-k2.5"]);
    fake.push(Reply::Text("ok".into()));

    let m = add_kimi(&admin, &fake, "Kimi K2.6", json!({})).await;
    let id = m["id"].as_str().unwrap().to_owned();
    assert_eq!(m["apiKeyMask"], "sk-…cdef");
    assert_eq!(m["hasKey"], true);
    assert_eq!(m["status"], "untested");
    assert_eq!(m["params"]["retries"], 2);
    assert!(!m.to_string().contains(KEY));
    assert!(
        fake.requests().is_empty(),
        "saving does not call the provider"
    );

    let r = test_model(&admin, &id).await;
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(r["model"], "kimi-k2.6");
    assert_eq!(r["reply"], "ok");
    assert!(r["latency_ms"].is_u64());
    assert_eq!(r["models"], json!(["kimi-k2.6", "kimi-k2.5"]));
    let sent = &fake.requests()[0];
    assert_eq!(sent.path, "/v1/chat/completions");
    assert_eq!(sent.headers["authorization"], format!("Bearer {KEY}"));

    let resp = admin
        .post(&format!("/api/models/{id}/default"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let list = models(&admin).await;
    let defaults: Vec<_> = list.iter().filter(|m| m["isDefault"] == true).collect();
    assert_eq!(defaults.len(), 1, "exactly one default");
    assert_eq!(defaults[0]["id"], id.as_str());
    assert_eq!(list[0]["id"], id.as_str(), "the default is listed first");
    assert_eq!(list[0]["status"], "ok");
    assert!(list[0]["lastTestAt"].is_string());

    for action in ["model.create", "model.test", "model.default"] {
        let entries = audit_entries(&admin, action).await;
        assert!(!entries.is_empty(), "{action} audited");
        assert!(!Value::Array(entries).to_string().contains(KEY));
    }
    let tests = audit_entries(&admin, "model.test").await;
    assert_eq!(tests[0]["outcome"], "success");
    assert!(tests[0]["details"]["latencyMs"].is_u64());
}

#[tokio::test]
async fn kimi_coding_speaks_anthropic_messages() {
    let app = spawn().await;
    let admin = app.admin().await;
    let fake = FakeLlm::start().await;
    fake.require_key(KEY);
    let resp = admin
        .post("/api/models")
        .json(&json!({ "name": "Kimi Coding", "provider": "kimi-code",
            "baseUrl": fake.base_url(Protocol::Anthropic), "apiKey": KEY }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let m: Value = resp.json().await.unwrap();
    assert_eq!(m["model"], "kimi-for-coding", "the preset's model");
    assert_eq!(m["protocol"], "anthropic");
    let r = test_model(&admin, m["id"].as_str().unwrap()).await;
    assert_eq!(r["ok"], true, "{r}");
    let sent = &fake.requests()[0];
    assert_eq!(sent.path, "/v1/messages");
    assert_eq!(sent.headers["x-api-key"], KEY);
    assert!(sent.body["max_tokens"].is_u64(), "max_tokens is always set");
}

#[tokio::test]
async fn failing_tests_are_recorded_with_their_kind_and_do_not_block_saving() {
    let app = spawn().await;
    let admin = app.admin().await;
    let fake = FakeLlm::start().await;
    fake.require_key("sk-some-other-key-000000000000");
    let m = add_kimi(&admin, &fake, "Kimi", json!({})).await;
    let id = m["id"].as_str().unwrap();
    let r = test_model(&admin, id).await;
    assert_eq!(r["ok"], false);
    assert_eq!(r["error"]["kind"], "auth");
    assert_eq!(r["error"]["status"], 401);
    assert!(
        !r.to_string().contains(KEY),
        "the echoed key is scrubbed: {r}"
    );
    let got: Value = admin
        .get(&format!("/api/models/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["status"], "failing");
    assert_eq!(got["lastResult"]["error"]["kind"], "auth");
    let audit = audit_entries(&admin, "model.test").await;
    assert_eq!(audit[0]["outcome"], "failure");
    assert_eq!(audit[0]["details"]["error"]["kind"], "auth");

    // Rotating the key is an edit; the model is untested again until tested.
    let new_key = "sk-some-other-key-000000000000";
    let resp = admin
        .patch(&format!("/api/models/{id}"))
        .json(&json!({ "apiKey": new_key }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let got: Value = resp.json().await.unwrap();
    assert_eq!(got["status"], "untested");
    assert_eq!(got["apiKeyMask"], "sk-…0000");
    assert_eq!(test_model(&admin, id).await["ok"], true);
    let updates = audit_entries(&admin, "model.update").await;
    assert_eq!(updates[0]["details"]["keyChanged"], true);
    assert!(!Value::Array(updates).to_string().contains(new_key));

    // An unknown model, a timeout, a retried 500.
    let resp = admin
        .patch(&format!("/api/models/{id}"))
        .json(&json!({ "model": "kimi-latest", "params": { "timeoutMs": 300, "retries": 1 } }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    fake.known_models(&["kimi-k2.6"]);
    assert_eq!(test_model(&admin, id).await["error"]["kind"], "not_found");
    admin
        .patch(&format!("/api/models/{id}"))
        .json(&json!({ "model": "kimi-k2.6" }))
        .send()
        .await
        .unwrap();
    fake.push(Reply::Hang);
    let r = test_model(&admin, id).await;
    assert_eq!(r["error"]["kind"], "timeout", "{r}");
    fake.push(Reply::Status {
        status: 500,
        message: "boom".into(),
        retry_after: None,
    });
    let r = test_model(&admin, id).await;
    assert_eq!(
        (r["ok"].as_bool(), r["attempts"].as_u64()),
        (Some(true), Some(2)),
        "{r}"
    );
}

#[tokio::test]
async fn bad_input_is_refused_field_by_field_and_changes_nothing() {
    let app = spawn().await;
    let admin = app.admin().await;
    let cases = [
        (json!({ "name": "K", "provider": "kimi" }), "apiKey"),
        (
            json!({ "name": "K", "provider": "moonshot", "apiKey": KEY }),
            "provider",
        ),
        (
            json!({ "name": "K", "provider": "kimi", "apiKey": KEY, "baseUrl": "ftp://x" }),
            "baseUrl",
        ),
        (
            json!({ "name": "K", "provider": "kimi", "apiKey": KEY, "baseUrl": "https://u:p@api.moonshot.cn/v1" }),
            "baseUrl",
        ),
        (
            json!({ "name": "K", "provider": "openai-compatible", "model": "qwen" }),
            "baseUrl",
        ),
        (
            json!({ "name": "", "provider": "kimi", "apiKey": KEY }),
            "name",
        ),
        (
            json!({ "name": "K", "provider": "kimi", "apiKey": "sk bad key" }),
            "apiKey",
        ),
        (
            json!({ "name": "K", "provider": "kimi", "apiKey": KEY, "params": { "temperature": 7 } }),
            "params.temperature",
        ),
        (
            json!({ "name": "K", "provider": "kimi", "apiKey": KEY, "params": { "timeoutMs": 10 } }),
            "params.timeoutMs",
        ),
        (
            json!({ "name": "K", "provider": "builtin", "apiKey": KEY }),
            "apiKey",
        ),
    ];
    for (body, field) in cases {
        let (status, code, err) =
            error_of(admin.post("/api/models").json(&body).send().await.unwrap()).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, "validation"),
            "{body}"
        );
        let fields: Vec<&str> = err["error"]["details"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["field"].as_str().unwrap())
            .collect();
        assert!(fields.contains(&field), "{body}: {fields:?}");
        assert!(!err.to_string().contains(KEY), "the key is not echoed");
    }
    let (status, _, _) = error_of(
        admin
            .post("/api/models")
            .json(&json!({ "name": "K", "provider": "kimi", "apiKey": KEY, "secret": 1 }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(status.is_client_error());
    assert_eq!(models(&admin).await.len(), 1, "nothing was created");

    let fake = FakeLlm::start().await;
    add_kimi(&admin, &fake, "Kimi", json!({})).await;
    let (status, code, _) = error_of(
        admin
            .post("/api/models")
            .json(&json!({ "name": "Kimi", "provider": "kimi", "apiKey": KEY }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, code.as_str()), (StatusCode::CONFLICT, "conflict"));
    let resp = admin.get("/api/models/nope").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_default_and_models_in_use_cannot_be_deleted_or_disabled() {
    let app = spawn().await;
    let admin = app.admin().await;
    let builtin = models(&admin).await[0]["id"].as_str().unwrap().to_owned();
    let (status, _, e) = error_of(
        admin
            .delete(&format!("/api/models/{builtin}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        e["error"]["message"].as_str().unwrap().contains("default"),
        "{e}"
    );
    let (status, _, _) = error_of(
        admin
            .patch(&format!("/api/models/{builtin}"))
            .json(&json!({ "enabled": false }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);

    let fake = FakeLlm::start().await;
    let kimi = add_kimi(&admin, &fake, "Kimi", json!({ "enabled": false })).await;
    let kimi_id = kimi["id"].as_str().unwrap();
    let (status, _, e) = error_of(
        admin
            .post(&format!("/api/models/{kimi_id}/default"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(e["error"]["message"].as_str().unwrap().contains("disabled"));

    use_model(&app, kimi_id, "Loyalty points").await;
    use_model(&app, kimi_id, "Invoices").await;
    let (status, _, e) = error_of(
        admin
            .delete(&format!("/api/models/{kimi_id}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let msg = e["error"]["message"].as_str().unwrap();
    assert!(msg.contains("'Invoices', 'Loyalty points'"), "{msg}");
    assert_eq!(
        e["error"]["details"]["modules"],
        json!(["Invoices", "Loyalty points"])
    );
    assert_eq!(models(&admin).await.len(), 2);

    let other = add_kimi(&admin, &fake, "Spare", json!({})).await;
    let resp = admin
        .delete(&format!("/api/models/{}", other["id"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(audit_entries(&admin, "model.delete").await.len(), 1);
}

/// A module row using the model (modules get their API with module development).
async fn use_model(app: &TestApp, model_id: &str, name: &str) {
    let slug = name.to_lowercase().replace(' ', "-");
    store::testing::exec(
        &app.db,
        &format!(
            "INSERT INTO ai_modules (id, name, slug, status, model_id, owner, created_at, updated_at) \
             VALUES ('{slug}', '{name}', '{slug}', 'draft', '{model_id}', 'admin', 0, 0)"
        ),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn the_key_is_stored_encrypted() {
    let app = spawn().await;
    let admin = app.admin().await;
    let fake = FakeLlm::start().await;
    let m = add_kimi(&admin, &fake, "Kimi", json!({})).await;
    let row = store::models::get(&app.db, m["id"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    let sealed = row.api_key_enc.unwrap();
    assert!(sealed.starts_with("v1:"));
    assert!(!sealed.contains(KEY) && !sealed.contains("0123456789abcdef"));
    assert_eq!(row.api_key_mask.as_deref(), Some("sk-…cdef"));
}

#[tokio::test]
async fn providers_are_listed_with_kimi_first() {
    let app = spawn().await;
    let admin = app.admin().await;
    let v: Value = admin
        .get("/api/models/providers")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let items = v["items"].as_array().unwrap();
    assert_eq!(items[0]["id"], "kimi");
    assert_eq!(items[0]["baseUrl"], "https://api.moonshot.cn/v1");
    assert!(
        items
            .iter()
            .any(|p| p["id"] == "kimi-code" && p["protocol"] == "anthropic")
    );
    assert_eq!(items.len(), 7);
}
