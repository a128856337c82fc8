//! Module development through the API: the Patch Gateway with the offline engine and
//! with a fake OpenAI-compatible model over real HTTP, versions, diff, restore.

use crate::harness::{Session, audit_entries, error_of, spawn};
use llm::Protocol;
use llm::testing::{FakeLlm, Reply};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn create_module(s: &Session, name: &str, model_id: Option<&str>) -> String {
    let mut body = json!({ "name": name, "description": "test module" });
    if let Some(m) = model_id {
        body["modelId"] = json!(m);
    }
    let resp = s.post("/api/modules").json(&body).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let v: Value = resp.json().await.unwrap();
    v["id"].as_str().unwrap().to_owned()
}

async fn generate(s: &Session, id: &str, prompt: &str) -> reqwest::Response {
    s.post(&format!("/api/modules/{id}/generate"))
        .json(&json!({ "prompt": prompt }))
        .send()
        .await
        .unwrap()
}

async fn versions(s: &Session, id: &str) -> Vec<Value> {
    let v: Value = s
        .get(&format!("/api/modules/{id}/versions"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["items"].as_array().unwrap().clone()
}

async fn kimi_model(admin: &Session, fake: &FakeLlm) -> String {
    let resp = admin
        .post("/api/models")
        .json(&json!({ "name": "Kimi", "provider": "kimi", "baseUrl": fake.base_url(Protocol::OpenAi),
            "apiKey": "sk-gateway-test-000000000000", "params": { "retries": 2, "timeoutMs": 5000 } }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    resp.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A fresh app, its admin, a fake Kimi-compatible model configured in it, and a
/// module "Loyalty" that uses it.
async fn loyalty_with_kimi() -> (crate::harness::TestApp, Session, FakeLlm, String, String) {
    let app = spawn().await;
    let admin = app.admin().await;
    let fake = FakeLlm::start().await;
    let model = kimi_model(&admin, &fake).await;
    let id = create_module(&admin, "Loyalty", Some(&model)).await;
    (app, admin, fake, model, id)
}

const VALID: &str = r#"{"dsl":"modgate.patch/v1","title":"Loyalty","operations":[
  {"scope":"object","op":"add","target":{"object":"Customer","field":"loyaltyPoints"},"value":{"type":"integer","label":"Loyalty points","min":0}}]}"#;
const WRONG_OBJECT: &str = r#"{"dsl":"modgate.patch/v1","title":"Loyalty","operations":[
  {"scope":"object","op":"add","target":{"object":"Customr","field":"loyaltyPoints"},"value":{"type":"integer"}}]}"#;

#[tokio::test]
async fn the_offline_engine_writes_versions_in_english_and_chinese() {
    let app = spawn().await;
    let admin = app.admin().await;
    let id = create_module(&admin, "Loyalty", None).await;

    let resp = generate(
        &admin,
        &id,
        "add an integer field loyaltyPoints to Customer with min 0",
    )
    .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let g: Value = resp.json().await.unwrap();
    assert_eq!(g["version"]["number"], 1);
    assert_eq!(g["version"]["source"], "ai");
    assert_eq!(g["version"]["valid"], true);
    assert_eq!(g["version"]["level"], "L1");
    assert_eq!(g["version"]["model"], "Built-in (offline)");
    assert_eq!(
        g["version"]["patch"]["operations"][0]["target"]["field"],
        "loyaltyPoints"
    );

    let resp = generate(&admin, &id, "给客户添加一个日期字段 生日").await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let g: Value = resp.json().await.unwrap();
    let ops = g["version"]["patch"]["operations"].as_array().unwrap();
    assert_eq!(
        ops[0]["target"]["field"], "loyaltyPoints",
        "the new request refines the current patch"
    );
    assert!(ops.iter().any(|o| o["target"]["field"] == "birthday"
        && o["value"]["label"] == "Birthday"
        && o["value"]["labels"]["zh-CN"] == "生日"));
    assert_eq!(g["version"]["parentVersion"], 1);

    // Not understood: a clear answer, nothing saved.
    let (status, code, e) = error_of(generate(&admin, &id, "make the CRM better").await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "not_understood")
    );
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("add an integer field")
    );
    assert_eq!(versions(&admin, &id).await.len(), 2);

    // Diff and restore.
    let d: Value = admin
        .get(&format!("/api/modules/{id}/diff?from=1&to=2"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        d["addedOperations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["target"]["field"] == "birthday")
    );
    assert!(d["patchDiff"].as_str().unwrap().contains("+"));
    assert!(d["specDiff"].as_str().unwrap().contains("birthday"));
    let resp = admin
        .post(&format!("/api/modules/{id}/restore"))
        .json(&json!({ "version": 1 }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let r: Value = resp.json().await.unwrap();
    assert_eq!(
        (r["number"].as_i64(), r["source"].as_str()),
        (Some(3), Some("restore"))
    );
    let one: Value = admin
        .get(&format!("/api/modules/{id}/versions/1"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["contentHash"], one["contentHash"]);
    let m: Value = admin
        .get(&format!("/api/modules/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(m["currentVersion"], 3);

    let audits = audit_entries(&admin, "ai.generate").await;
    assert_eq!(audits.len(), 3);
    let ok = audits.iter().find(|a| a["outcome"] == "success").unwrap();
    assert!(
        ok["details"]["request"]
            .as_str()
            .unwrap()
            .contains("loyaltyPoints")
            || ok["details"]["request"].as_str().unwrap().contains("生日")
    );
    assert!(
        ok["details"]["response"]
            .as_str()
            .unwrap()
            .contains("modgate.patch/v1")
    );
}

#[tokio::test]
async fn the_gateway_extracts_repairs_and_saves_with_a_real_model_protocol() {
    let (_app, admin, fake, _model, id) = loyalty_with_kimi().await;
    fake.push(Reply::Text(format!(
        "Here is your patch:\n```json\n{WRONG_OBJECT}\n```\nEnjoy!"
    )))
    .push(Reply::Text(format!("Sorry, fixed. {VALID} Anything else?")));
    let resp = generate(&admin, &id, "add loyalty points to customers").await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let g: Value = resp.json().await.unwrap();
    assert_eq!(g["attempts"], 2);
    assert_eq!(
        g["version"]["patch"]["operations"][0]["target"]["object"],
        "Customer"
    );
    assert_eq!(g["version"]["prompt"], "add loyalty points to customers");

    let reqs = fake.requests();
    assert_eq!(reqs.len(), 2);
    let first = reqs[0].body["messages"].as_array().unwrap();
    assert_eq!(first[0]["role"], "system");
    assert!(
        first[0]["content"]
            .as_str()
            .unwrap()
            .contains("modgate.patch/v1")
    );
    assert!(
        first[1]["content"]
            .as_str()
            .unwrap()
            .contains("\"Customer\""),
        "the live spec is in the context"
    );
    assert_eq!(reqs[0].body["response_format"]["type"], "json_object");
    let second = reqs[1].body["messages"].as_array().unwrap();
    assert_eq!(second[2]["role"], "assistant");
    let repair = second[3]["content"].as_str().unwrap();
    assert!(
        repair.contains("E_") && repair.contains("Customr"),
        "the validator's report goes back: {repair}"
    );

    let audits = audit_entries(&admin, "ai.generate").await;
    assert_eq!(audits.len(), 2);
    let failed = audits
        .iter()
        .find(|a| a["details"]["attempt"] == 1)
        .unwrap();
    assert_eq!(failed["details"]["outcome"], "invalid");
    assert!(failed["details"]["tokensIn"].is_u64());
    assert!(
        !serde_json::to_string(&audits)
            .unwrap()
            .contains("sk-gateway-test")
    );
}

const OTHER: &str = r#"{"dsl":"modgate.patch/v1","title":"VIP","operations":[
  {"scope":"object","op":"add","target":{"object":"Customer","field":"vip"},"value":{"type":"boolean","label":"VIP"}}]}"#;

#[tokio::test]
async fn an_example_then_a_sloppy_answer_is_read_in_one_call_and_the_fixes_are_shown() {
    let (_app, admin, fake, _model, id) = loyalty_with_kimi().await;
    let sloppy = VALID
        .replace("\"min\":0}", "\"min\":0,}")
        .replace("\"Customer\"", "\"customer\"");
    fake.push(Reply::Text(format!(
        "<think>They want points.</think>For example, a patch looks like:\n```json\n{OTHER}\n```\nAnd here is yours:\n```json\n{sloppy}\n```"
    )));
    let resp = generate(&admin, &id, "add loyalty points to customers").await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let g: Value = resp.json().await.unwrap();
    assert_eq!(g["attempts"], 1);
    assert_eq!(fake.requests().len(), 1, "no second model call");
    let op = &g["version"]["patch"]["operations"][0];
    assert_eq!(
        op["target"],
        json!({ "object": "Customer", "field": "loyaltyPoints" })
    );
    assert_eq!(
        g["version"]["repairs"],
        json!(["reasoning_block", "trailing_commas", "object_name_case"])
    );
    assert_eq!(
        versions(&admin, &id).await[0]["repairs"],
        g["version"]["repairs"]
    );
    let page = admin
        .get_text(&format!("/admin/ai-modules/develop/{id}"))
        .await;
    assert!(
        page.contains("fixed without a model call") && page.contains("removed trailing commas"),
        "the workspace shows the fixes"
    );
    let audit = audit_entries(&admin, "ai.generate").await;
    assert_eq!(audit[0]["details"]["repairs"][1], "trailing_commas");
}

#[tokio::test]
async fn two_different_valid_answers_are_never_chosen_silently() {
    let (_app, admin, fake, model, id) = loyalty_with_kimi().await;
    fake.push(Reply::Text(format!(
        "Option A:\n```json\n{OTHER}\n```\nOption B:\n```json\n{VALID}\n```"
    )))
    .push(Reply::Text("2".into()));
    let resp = generate(&admin, &id, "add loyalty points to customers").await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let g: Value = resp.json().await.unwrap();
    assert_eq!(
        g["version"]["patch"]["operations"][0]["target"]["field"],
        "loyaltyPoints"
    );
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 2, "one call to ask which");
    let asked = reqs[1].body["messages"].as_array().unwrap();
    let question = asked.last().unwrap()["content"].as_str().unwrap();
    assert!(
        question.contains("2 different valid patch documents") && question.contains("number only"),
        "{question}"
    );

    // An answer that names no single document saves nothing from that reply.
    let id2 = create_module(&admin, "Loyalty 2", Some(&model)).await;
    fake.push(Reply::Text(format!("{OTHER}\n\n{VALID}")))
        .push(Reply::Text("either would do".into()))
        .push(Reply::Text(VALID.into()));
    let resp = generate(&admin, &id2, "add loyalty points to customers").await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let g: Value = resp.json().await.unwrap();
    assert_eq!(g["attempts"], 2);
    let last = fake.requests();
    let follow = last.last().unwrap().body["messages"].as_array().unwrap();
    assert!(
        follow.last().unwrap()["content"]
            .as_str()
            .unwrap()
            .contains("did not say which one")
    );
}

#[tokio::test]
async fn a_cut_off_or_foreign_document_goes_back_with_what_it_is() {
    let (_app, admin, fake, _model, id) = loyalty_with_kimi().await;
    fake.push(Reply::Text(format!("```json\n{}", &VALID[..VALID.len() - 20])))
        .push(Reply::Text(
            r#"[{"op": "add", "path": "/objects/Customer/fields/loyaltyPoints", "value": {"type": "integer"}}]"#.into(),
        ))
        .push(Reply::Text(VALID.into()));
    let resp = generate(&admin, &id, "add loyalty points to customers").await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let g: Value = resp.json().await.unwrap();
    assert_eq!(g["attempts"], 3);
    let reqs = fake.requests();
    let said = |i: usize| {
        reqs[i].body["messages"].as_array().unwrap().last().unwrap()["content"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert!(said(1).contains("cut off"), "{}", said(1));
    assert!(said(2).contains("RFC 6902"), "{}", said(2));
    assert_eq!(g["version"]["repairs"], json!([]));
}

#[tokio::test]
async fn a_model_that_never_gets_it_right_saves_nothing() {
    let (_app, admin, fake, _model, id) = loyalty_with_kimi().await;
    fake.push(Reply::Text("I would add a field.".into()))
        .always(Reply::Text(WRONG_OBJECT.into()));
    let (status, code, e) = error_of(generate(&admin, &id, "add loyalty points").await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "generation_failed")
    );
    let msg = e["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("3 attempts") && msg.contains("nothing was saved"),
        "{msg}"
    );
    assert_eq!(fake.requests().len(), 3);
    assert!(versions(&admin, &id).await.is_empty());
    let m: Value = admin
        .get(&format!("/api/modules/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(m["currentVersion"], 0);
}

#[tokio::test]
async fn a_rate_limit_then_success_is_retried_and_streamed() {
    let (_app, admin, fake, _model, id) = loyalty_with_kimi().await;
    fake.push(Reply::Status {
        status: 429,
        message: "slow down".into(),
        retry_after: None,
    })
    .push(Reply::Text(VALID.into()));
    let resp = admin
        .post(&format!("/api/modules/{id}/generate"))
        .header("accept", "text/event-stream")
        .json(&json!({ "prompt": "add loyalty points" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let body = resp.text().await.unwrap();
    for event in [
        "event: attempt",
        "event: retrying",
        "event: chunk",
        "event: validation",
        "event: done",
    ] {
        assert!(body.contains(event), "{event} missing in:\n{body}");
    }
    assert!(!body.contains("event: error"));
    assert_eq!(versions(&admin, &id).await.len(), 1);

    // A failing stream ends with an error event.
    fake.always(Reply::Status {
        status: 401,
        message: "bad key".into(),
        retry_after: None,
    });
    let body = admin
        .post(&format!("/api/modules/{id}/generate"))
        .header("accept", "text/event-stream")
        .json(&json!({ "prompt": "add more" }))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        body.contains("event: error") && body.contains("model_error") && body.contains("auth"),
        "{body}"
    );
}

#[tokio::test]
async fn people_save_versions_with_stale_checks_and_l2_confirmation() {
    let app = spawn().await;
    let admin = app.admin().await;
    let id = create_module(&admin, "Hand made", None).await;
    let save = |patch: Value, base: i64, confirm: bool| {
        admin
            .post(&format!("/api/modules/{id}/versions"))
            .json(&json!({ "patch": patch, "message": "edit", "baseVersion": base, "confirmL2": confirm }))
            .send()
    };
    let valid: Value = serde_json::from_str(VALID).unwrap();
    assert_eq!(
        save(valid.clone(), 0, false).await.unwrap().status(),
        StatusCode::CREATED
    );

    // Two saves from the same base: one wins, the other is told why.
    let (a, b) = tokio::join!(save(valid.clone(), 1, false), save(valid.clone(), 1, false));
    let mut statuses = [a.unwrap().status(), b.unwrap().status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::CREATED, StatusCode::CONFLICT]);
    let (status, code, e) = error_of(save(valid.clone(), 1, false).await.unwrap()).await;
    assert_eq!((status, code.as_str()), (StatusCode::CONFLICT, "conflict"));
    assert_eq!(e["error"]["details"]["currentVersion"], 2);
    assert_eq!(versions(&admin, &id).await.len(), 2);

    // L2 needs a person's confirmation.
    let l2 = json!({ "dsl": "modgate.patch/v1", "title": "Phone required", "operations": [
        { "scope": "object", "op": "update", "target": { "object": "Customer", "field": "phone" }, "value": { "required": true } } ] });
    let (status, code, _) = error_of(save(l2.clone(), 2, false).await.unwrap()).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "confirmation_required")
    );
    assert_eq!(versions(&admin, &id).await.len(), 2, "nothing saved");
    let resp = save(l2, 2, true).await.unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(
        (
            v["level"].as_str(),
            v["needsConfirmation"].as_bool(),
            v["submittable"].as_bool()
        ),
        (Some("L2"), Some(false), Some(true))
    );

    // Invalid patches are kept as drafts, marked invalid.
    let resp = save(serde_json::from_str(WRONG_OBJECT).unwrap(), 3, false)
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(
        (v["valid"].as_bool(), v["submittable"].as_bool()),
        (Some(false), Some(false))
    );
    assert!(
        v["report"]["errors"][0]["code"]
            .as_str()
            .unwrap()
            .starts_with("E_")
    );
    let resp = save(json!("{ not json"), 4, false).await.unwrap();
    assert_eq!(
        resp.status(),
        StatusCode::CREATED,
        "even text that is not JSON can be kept as a draft"
    );

    let (status, _, _) = error_of(
        admin
            .post(&format!("/api/modules/{id}/versions"))
            .json(&json!({ "patch": valid, "message": " ", "baseVersion": 5 }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(audit_entries(&admin, "module.version").await.len(), 5);
}

#[tokio::test]
async fn an_ai_written_l2_version_waits_for_a_person() {
    let app = spawn().await;
    let admin = app.admin().await;
    let fake = FakeLlm::start().await;
    let model = kimi_model(&admin, &fake).await;
    let id = create_module(&admin, "Stricter", Some(&model)).await;
    fake.push(Reply::Text(r#"{"dsl":"modgate.patch/v1","title":"t","operations":[{"scope":"object","op":"update","target":{"object":"Customer","field":"phone"},"value":{"required":true}}]}"#.into()));
    let g: Value = generate(&admin, &id, "make phone required")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(g["version"]["level"], "L2");
    assert_eq!(g["version"]["needsConfirmation"], true);
    assert_eq!(g["version"]["submittable"], false);
    let resp = admin
        .post(&format!("/api/modules/{id}/versions/1/confirm"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(
        (v["needsConfirmation"].as_bool(), v["submittable"].as_bool()),
        (Some(false), Some(true))
    );
    assert_eq!(v["confirmedBy"], "admin");
    let (status, _, _) = error_of(
        admin
            .post(&format!("/api/modules/{id}/versions/1/confirm"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn module_input_is_checked() {
    let app = spawn().await;
    let admin = app.admin().await;
    for body in [
        json!({ "name": "" }),
        json!({ "name": "x", "modelId": "nope" }),
        json!({ "name": "x", "owner": "me" }),
    ] {
        let (status, _, _) =
            error_of(admin.post("/api/modules").json(&body).send().await.unwrap()).await;
        assert!(status.is_client_error(), "{body}");
    }
    create_module(&admin, "Loyalty", None).await;
    let (status, _, _) = error_of(
        admin
            .post("/api/modules")
            .json(&json!({ "name": "Loyalty" }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _, _) = error_of(
        admin
            .post("/api/modules/nope/generate")
            .json(&json!({ "prompt": "x" }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let id = create_module(&admin, "Other", None).await;
    let (status, _, _) = error_of(generate(&admin, &id, "   ").await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _, _) = error_of(
        admin
            .get(&format!("/api/modules/{id}/diff?from=0&to=9"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn validate_takes_another_spec_too() {
    let app = spawn().await;
    let admin = app.admin().await;
    let r: Value = admin
        .post("/api/patch/validate")
        .body(VALID)
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["valid"], true);
    let tiny = json!({ "objects": { "Thing": { "label": "Thing", "fields": { "name": { "type": "string" } } } } });
    let r: Value = admin
        .post("/api/patch/validate")
        .json(&json!({ "patch": serde_json::from_str::<Value>(VALID).unwrap(), "spec": tiny }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["valid"], false, "there is no Customer in that spec: {r}");
}

#[tokio::test]
async fn the_token_budget_stops_a_runaway_repair_loop() {
    let app = crate::harness::spawn_with(|c| {
        c.ai_token_budget = 20;
        c.ai_max_attempts = 5;
    })
    .await;
    let admin = app.admin().await;
    let fake = FakeLlm::start().await;
    let model = kimi_model(&admin, &fake).await;
    let id = create_module(&admin, "Loyalty", Some(&model)).await;
    // Each answer costs 11 prompt tokens plus its words: the second attempt crosses 20.
    fake.always(Reply::Text(WRONG_OBJECT.into()));
    let (status, code, e) = error_of(generate(&admin, &id, "add loyalty points").await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "token_budget")
    );
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("nothing was saved")
    );
    assert_eq!(
        fake.requests().len(),
        2,
        "stopped before the third attempt of five"
    );
    assert!(versions(&admin, &id).await.is_empty());
}

#[tokio::test]
async fn a_generation_runs_past_the_request_timeout_and_only_it_does() {
    let long: Vec<String> = server::http::routes()
        .table
        .iter()
        .filter(|r| r.long_running)
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(
        long,
        [
            "POST /api/models/{id}/eval",
            "POST /api/modules/{id}/generate",
            "GET /api/notifications/stream"
        ]
    );

    let app = crate::harness::spawn_with(|c| c.request_timeout_secs = 1).await;
    let admin = app.admin().await;
    let fake = FakeLlm::start().await;
    let resp = admin
        .post("/api/models")
        .json(&json!({ "name": "Slow", "provider": "kimi", "baseUrl": fake.base_url(Protocol::OpenAi),
            "apiKey": "sk-gateway-test-000000000000", "params": { "retries": 0, "timeoutMs": 1500 } }))
        .send()
        .await
        .unwrap();
    let model = resp.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let id = create_module(&admin, "Slow", Some(&model)).await;
    fake.always(Reply::Hang);
    // The model's own 1.5 s timeout ends it, not the server's 1 s request timeout.
    let (status, code, e) = error_of(generate(&admin, &id, "add loyalty points").await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::BAD_GATEWAY, "model_error"),
        "{e}"
    );
    assert_eq!(e["error"]["details"]["kind"], "timeout");
}
